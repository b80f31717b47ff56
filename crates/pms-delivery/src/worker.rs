//! The worker loop (downstream.md §5.4): take due rows in a short write transaction, send each in
//! its own task (at most `concurrency` at once), record each outcome in its own short write
//! transaction, and purge old delivered rows now and then.

use crate::esignet::EsignetClient;
use crate::metrics::{AttemptOutcome, DeliveryMetrics, FailureReason};
use crate::settings::{configured, DeliverySettings};
use crate::token::TokenProvider;
use crate::verdict::{Failure, Verdict};
use crate::websub::Hub;
use crate::DeliveryError;
use pms_domain::clock::format_ts;
use pms_domain::outbox::{backoff, AggregateType, Channel, OutboxRow, OutboxState};
use pms_domain::{Clock, Store, StoreError};
use rand_core::{OsRng, RngCore};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long `run` waits, after shutdown was asked for, for rows in flight to finish. Rows still
/// in flight then are abandoned and keep their lease; another worker takes them when it runs out.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often delivered and superseded rows past retention are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Connect timeout of every call (downstream.md §3.1).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries to record one outcome before the row is left to its lease.
const RECORD_TRIES: u32 = 3;

/// Everything a row's task needs; shared by all tasks.
struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: DeliverySettings,
    metrics: Arc<DeliveryMetrics>,
    tokens: TokenProvider,
    esignet: Option<EsignetClient>,
    hub: Option<Hub>,
}

/// The outbox delivery worker of one process.
pub struct Worker {
    inner: Arc<Inner>,
    notify: Arc<Notify>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> DeliveryError {
    DeliveryError::InvalidSetting {
        key,
        reason: reason.into(),
    }
}

fn check_url(key: &'static str, url: &str) -> Result<(), DeliveryError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(key, e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(key, "must be an http:// or https:// URL"));
    }
    Ok(())
}

impl Worker {
    /// Checks the settings and builds the HTTP client; makes no call yet.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: DeliverySettings,
        metrics: Arc<DeliveryMetrics>,
    ) -> Result<Self, DeliveryError> {
        for (key, v) in [
            ("delivery.max_attempts", u64::from(settings.max_attempts)),
            ("delivery.lease_seconds", settings.lease_seconds),
            (
                "delivery.http_timeout_seconds",
                settings.http_timeout_seconds,
            ),
            ("delivery.poll_interval_ms", settings.poll_interval_ms),
            ("delivery.concurrency", u64::from(settings.concurrency)),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        let esignet_url = configured(&settings.esignet_base_url);
        let hub_url = configured(&settings.websub_hub_url);
        if let Some(u) = esignet_url {
            check_url("esignet.base_url", u)?;
        }
        if let Some(u) = hub_url {
            check_url("websub.hub_url", u)?;
        }
        if esignet_url.is_some() || hub_url.is_some() {
            check_url("service_token.token_url", settings.token.token_url.trim())?;
        }
        let timeout = Duration::from_secs(settings.http_timeout_seconds);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .build()
            .map_err(|e| DeliveryError::HttpClient(e.to_string()))?;
        let tokens = TokenProvider::new(
            http.clone(),
            settings.token.clone(),
            clock.clone(),
            metrics.clone(),
        );
        let esignet = esignet_url.map(|u| EsignetClient::new(http.clone(), u, clock.clone()));
        let hub = hub_url.map(|u| Hub::new(http.clone(), u, clock.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                clock,
                settings,
                metrics,
                tokens,
                esignet,
                hub,
            }),
            notify: Arc::new(Notify::new()),
        })
    }

    /// Wakes the worker at once (called after a commit that wrote outbox rows): call
    /// `notify_one()` on it, which is remembered if the worker is busy at that moment.
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// Runs until `shutdown` resolves; rows in flight finish (for a few seconds) or keep their
    /// lease.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let inner = self.inner;
        let mut shutdown = std::pin::pin!(shutdown);
        let poll = Duration::from_millis(inner.settings.poll_interval_ms.max(1));
        let concurrency = usize::try_from(inner.settings.concurrency.max(1)).unwrap_or(1);
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut next_purge = Instant::now();
        tracing::info!(
            esignet = inner.esignet.is_some(),
            websub = inner.hub.is_some(),
            concurrency,
            "delivery worker started"
        );
        loop {
            while let Some(done) = tasks.try_join_next() {
                task_ended(done);
            }
            let free = concurrency.saturating_sub(tasks.len());
            if free > 0 {
                match inner.claim(free).await {
                    Ok(rows) => {
                        for row in rows {
                            tasks.spawn(process(inner.clone(), row));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "taking outbox rows failed"),
                }
            }
            inner.metrics.in_flight(tasks.len());
            if Instant::now() >= next_purge {
                inner.purge().await;
                next_purge = Instant::now() + PURGE_EVERY;
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.notify.notified() => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => task_ended(done),
                () = tokio::time::sleep(poll) => {}
            }
        }
        let in_flight = tasks.len();
        if in_flight > 0 {
            tracing::info!(
                in_flight,
                "delivery worker stopping; waiting for rows in flight"
            );
            let grace = tokio::time::sleep(SHUTDOWN_GRACE);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    done = tasks.join_next() => match done {
                        Some(done) => task_ended(done),
                        None => break,
                    },
                    () = &mut grace => {
                        tracing::warn!(
                            abandoned = tasks.len(),
                            "rows still in flight keep their lease and will be taken again"
                        );
                        tasks.shutdown().await;
                        break;
                    }
                }
            }
        }
        inner.metrics.in_flight(0);
        tracing::info!("delivery worker stopped");
    }
}

fn task_ended(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!("a delivery task panicked; its row keeps its lease");
        }
    }
}

/// U(0.8, 1.2), the jitter of §5.5.
fn jitter() -> f64 {
    let unit = (OsRng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    0.8 + 0.4 * unit
}

/// One attempt of one row, from the call(s) to the recorded outcome.
async fn process(inner: Arc<Inner>, row: OutboxRow) {
    let started = Instant::now();
    // Cut off well inside the lease, so that no other worker takes the row while it is sent.
    let deadline = Duration::from_secs(inner.settings.lease_seconds.saturating_mul(3) / 4)
        .max(Duration::from_secs(1));
    let (verdict, version_sent) = match tokio::time::timeout(deadline, inner.attempt(&row)).await {
        Ok(r) => r,
        Err(_) => (
            Verdict::Retry(Failure::new("timeout", FailureReason::Timeout)),
            None,
        ),
    };
    let took = started.elapsed();
    let attempt = row.attempts + 1;
    let failure = match &verdict {
        Verdict::Success => None,
        Verdict::Retry(f) | Verdict::GiveUp(f) | Verdict::Defer(f) => Some(f.clone()),
    };
    let mut recorded = Err(StoreError::failed("not tried"));
    for n in 1..=RECORD_TRIES {
        recorded = inner.record(row.clone(), &verdict, version_sent).await;
        if recorded.is_ok() {
            break;
        }
        if n < RECORD_TRIES {
            tokio::time::sleep(Duration::from_millis(200 * u64::from(n))).await;
        }
    }
    let duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    let aggregate = format!("{}:{}", row.aggregate_type.as_str(), row.aggregate_id);
    let error = failure.as_ref().map(|f| f.error.as_str()).unwrap_or("");
    let (outcome, next) = match recorded {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(
                row_id = row.id,
                aggregate,
                channel = row.channel.as_str(),
                operation = row.operation,
                attempt,
                duration_ms,
                error,
                store_error = %e,
                "recording a delivery outcome failed; the row is taken again when its lease runs out"
            );
            return;
        }
    };
    // A deferral is no attempt at the target, so it is no failed one either.
    let failed_reason = match &verdict {
        Verdict::Retry(f) | Verdict::GiveUp(f) => Some(f.reason),
        Verdict::Success | Verdict::Defer(_) => None,
    };
    inner
        .metrics
        .attempt(row.channel, outcome, failed_reason, took);
    let (row_id, channel, operation, outcome_str) = (
        row.id,
        row.channel.as_str(),
        row.operation.as_str(),
        outcome.as_str(),
    );
    match outcome {
        AttemptOutcome::Delivered => tracing::info!(
            row_id,
            aggregate,
            channel,
            operation,
            attempt,
            outcome = outcome_str,
            duration_ms,
            "outbox row delivered"
        ),
        AttemptOutcome::Retry => tracing::warn!(
            row_id,
            aggregate,
            channel,
            operation,
            attempt,
            outcome = outcome_str,
            duration_ms,
            error,
            next_attempt_at = next.as_deref().unwrap_or(""),
            "outbox delivery attempt failed; will retry"
        ),
        AttemptOutcome::Failed => tracing::error!(
            row_id,
            aggregate,
            channel,
            operation,
            attempt,
            outcome = outcome_str,
            duration_ms,
            error,
            "outbox delivery failed for good; the row is FAILED until redelivered"
        ),
        AttemptOutcome::Deferred => tracing::info!(
            row_id,
            aggregate,
            channel,
            operation,
            outcome = outcome_str,
            "outbox row left pending: its target is not configured in this process"
        ),
    }
}

impl Inner {
    /// Takes up to `n` due rows, leased until now + `lease_seconds`.
    async fn claim(&self, n: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let now = self.clock.now();
        let lease = chrono::Duration::seconds(
            i64::try_from(self.settings.lease_seconds).unwrap_or(i64::MAX / 1000),
        );
        let limit = u32::try_from(n).unwrap_or(u32::MAX);
        let mut tx = self.store.write().await?;
        let rows = tx.claim_outbox(now, now + lease, limit).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The call(s) of one row; for an eSignet row also the client version that was sent.
    async fn attempt(&self, row: &OutboxRow) -> (Verdict, Option<i64>) {
        match row.channel {
            Channel::Esignet => {
                let Some(esignet) = &self.esignet else {
                    return (not_configured(), None);
                };
                if row.aggregate_type != AggregateType::Client {
                    return (
                        Verdict::GiveUp(Failure::new(
                            "eSignet row of a non-client aggregate",
                            FailureReason::BadData,
                        )),
                        None,
                    );
                }
                let client = match self.current_client(&row.aggregate_id).await {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        return (
                            Verdict::GiveUp(Failure::new(
                                "client not found",
                                FailureReason::BadData,
                            )),
                            None,
                        )
                    }
                    Err(e) => {
                        tracing::warn!(row_id = row.id, error = %e, "reading the client failed");
                        return (
                            Verdict::Retry(Failure::new("database error", FailureReason::Store)),
                            None,
                        );
                    }
                };
                let verdict = esignet.deliver(&row.operation, &client, &self.tokens).await;
                (verdict, Some(client.version))
            }
            Channel::Websub => match &self.hub {
                Some(hub) => (
                    hub.deliver(&row.operation, row.event.as_ref(), &self.tokens)
                        .await,
                    None,
                ),
                None => (not_configured(), None),
            },
        }
    }

    /// The client's current record, read in its own read transaction.
    async fn current_client(
        &self,
        id: &str,
    ) -> Result<Option<pms_domain::model::OidcClient>, StoreError> {
        let mut tx = self.store.read().await?;
        tx.client(id).await
    }

    /// Stores the outcome of an attempt (§5.4 step 3) in one short write transaction. Returns
    /// what became of the row and, for a retry, when it is due again.
    async fn record(
        &self,
        mut row: OutboxRow,
        verdict: &Verdict,
        version_sent: Option<i64>,
    ) -> Result<(AttemptOutcome, Option<String>), StoreError> {
        let now = self.clock.now();
        let s = &self.settings;
        row.lease_until = None;
        let mut next = None;
        let outcome = match verdict {
            Verdict::Success => {
                row.state = OutboxState::Delivered;
                row.delivered_at = Some(now);
                row.last_attempt_at = Some(now);
                AttemptOutcome::Delivered
            }
            Verdict::Retry(f) => {
                row.attempts = row.attempts.saturating_add(1);
                row.last_attempt_at = Some(now);
                row.last_error = Some(f.error.clone());
                if row.attempts >= s.max_attempts {
                    row.state = OutboxState::Failed;
                    AttemptOutcome::Failed
                } else {
                    let wait = backoff(
                        row.attempts,
                        s.base_delay_seconds,
                        s.max_delay_seconds,
                        jitter(),
                    );
                    let due = now
                        + chrono::Duration::from_std(wait)
                            .unwrap_or_else(|_| chrono::Duration::seconds(600));
                    row.state = OutboxState::Pending;
                    row.next_attempt_at = Some(due);
                    next = Some(format_ts(&due));
                    AttemptOutcome::Retry
                }
            }
            Verdict::GiveUp(f) => {
                row.attempts = row.attempts.saturating_add(1);
                row.last_attempt_at = Some(now);
                row.last_error = Some(f.error.clone());
                row.state = OutboxState::Failed;
                AttemptOutcome::Failed
            }
            Verdict::Defer(f) => {
                // Not an attempt: attempts and last_attempt_at stay as they were.
                let wait = i64::try_from(s.max_delay_seconds.max(1)).unwrap_or(600);
                row.state = OutboxState::Pending;
                row.next_attempt_at = Some(now + chrono::Duration::seconds(wait));
                row.last_error = Some(f.error.clone());
                AttemptOutcome::Deferred
            }
        };
        let mut tx = self.store.write().await?;
        tx.update_outbox(&row).await?;
        if let (AttemptOutcome::Delivered, Channel::Esignet, Some(version)) =
            (outcome, row.channel, version_sent)
        {
            let n = tx
                .supersede_esignet(&row.aggregate_id, version, row.id)
                .await?;
            if n > 0 {
                tracing::info!(
                    row_id = row.id,
                    client_id = %row.aggregate_id,
                    version,
                    superseded = n,
                    "earlier eSignet rows superseded by this delivery"
                );
            }
        }
        tx.commit().await?;
        Ok((outcome, next))
    }

    /// Deletes delivered and superseded rows older than `retention_days` (0: never).
    async fn purge(&self) {
        let days = self.settings.retention_days;
        if days == 0 {
            return;
        }
        let before = self.clock.now() - chrono::Duration::days(i64::from(days));
        let result = async {
            let mut tx = self.store.write().await?;
            let n = tx.purge_outbox(before).await?;
            tx.commit().await?;
            Ok::<u64, StoreError>(n)
        }
        .await;
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, before = %format_ts(&before), "outbox purged"),
            Err(e) => tracing::warn!(error = %e, "purging the outbox failed"),
        }
    }
}

fn not_configured() -> Verdict {
    Verdict::Defer(Failure::new(
        "target not configured",
        FailureReason::NotConfigured,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.8..1.2).contains(&j), "{j}");
        }
    }
}
