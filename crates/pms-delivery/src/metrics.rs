//! Prometheus metrics of the worker: attempts by channel and outcome, failed attempts by channel
//! and reason, attempt durations, token fetches and rows in flight. Label values come from closed
//! sets (never an error code or an id), so the series stay few.

use pms_domain::outbox::Channel;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptOutcome {
    /// The row is `DELIVERED`.
    Delivered,
    /// The attempt failed and the row will be tried again.
    Retry,
    /// The row ended `FAILED` (given up, or out of attempts).
    Failed,
    /// The row's target is not configured in this process; it was put back untouched.
    Deferred,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Deferred => "deferred",
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// Connection refused, reset or closed.
    Connection,
    Timeout,
    /// An HTTP status the outcome table does not accept.
    HttpStatus,
    /// HTTP 401: the cached token was dropped.
    Unauthorized,
    /// HTTP 403: the service account lacks a scope or role.
    Forbidden,
    /// eSignet answered with an error code.
    ServiceError,
    /// A reply that could not be read, or a hub reply other than "accepted".
    BadReply,
    /// The service token could not be fetched.
    Token,
    /// The row's target is not configured.
    NotConfigured,
    /// The stored data cannot be sent (client gone, unreadable key or event).
    BadData,
    /// The database failed while reading what to send.
    Store,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Connection => "connection",
            FailureReason::Timeout => "timeout",
            FailureReason::HttpStatus => "http_status",
            FailureReason::Unauthorized => "unauthorized",
            FailureReason::Forbidden => "forbidden",
            FailureReason::ServiceError => "service_error",
            FailureReason::BadReply => "bad_reply",
            FailureReason::Token => "token",
            FailureReason::NotConfigured => "not_configured",
            FailureReason::BadData => "bad_data",
            FailureReason::Store => "store",
        }
    }
}

/// A [`Channel`] as a label value (`esignet` / `websub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ChannelLabel(Channel);

impl EncodeLabelValue for ChannelLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self.0 {
            Channel::Esignet => "esignet",
            Channel::Websub => "websub",
        })
    }
}

impl EncodeLabelValue for AttemptOutcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

impl EncodeLabelValue for FailureReason {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AttemptLabels {
    channel: ChannelLabel,
    outcome: AttemptOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    channel: ChannelLabel,
    reason: FailureReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ChannelLabels {
    channel: ChannelLabel,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

fn duration_histogram() -> Histogram {
    // 10 ms … ~41 s.
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

/// The worker's metrics; cheap to share.
#[derive(Debug)]
pub struct DeliveryMetrics {
    attempts: Family<AttemptLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    duration: Family<ChannelLabels, Histogram>,
    token_fetches: Family<ResultLabels, Counter>,
    in_flight: Gauge,
}

impl DeliveryMetrics {
    /// Creates the metrics and registers them (names prefixed `pms_delivery_`).
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Self {
            attempts: Family::default(),
            failures: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
            token_fetches: Family::default(),
            in_flight: Gauge::default(),
        };
        registry.register(
            "pms_delivery_attempts",
            "Delivery attempts of outbox rows, by channel and outcome",
            m.attempts.clone(),
        );
        registry.register(
            "pms_delivery_failures",
            "Failed delivery attempts, by channel and reason",
            m.failures.clone(),
        );
        registry.register(
            "pms_delivery_attempt_duration_seconds",
            "Duration of one delivery attempt (all calls of a row), by channel",
            m.duration.clone(),
        );
        registry.register(
            "pms_delivery_token_fetches",
            "Service token fetches, by result",
            m.token_fetches.clone(),
        );
        registry.register(
            "pms_delivery_in_flight",
            "Outbox rows being delivered by this process",
            m.in_flight.clone(),
        );
        Arc::new(m)
    }

    pub(crate) fn attempt(
        &self,
        channel: Channel,
        outcome: AttemptOutcome,
        failure: Option<FailureReason>,
        took: Duration,
    ) {
        let channel = ChannelLabel(channel);
        self.attempts
            .get_or_create(&AttemptLabels { channel, outcome })
            .inc();
        if let Some(reason) = failure {
            self.failures
                .get_or_create(&FailureLabels { channel, reason })
                .inc();
        }
        self.duration
            .get_or_create(&ChannelLabels { channel })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn token_fetch(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.token_fetches
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    pub(crate) fn in_flight(&self, n: usize) {
        self.in_flight.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_closed_label_sets() {
        let mut registry = Registry::default();
        let m = DeliveryMetrics::register(&mut registry);
        m.attempt(
            Channel::Esignet,
            AttemptOutcome::Retry,
            Some(FailureReason::Timeout),
            Duration::from_millis(20),
        );
        m.attempt(
            Channel::Websub,
            AttemptOutcome::Delivered,
            None,
            Duration::from_millis(5),
        );
        m.token_fetch(true);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(r#"pms_delivery_attempts_total{channel="esignet",outcome="retry"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"pms_delivery_failures_total{channel="esignet",reason="timeout"} 1"#)
        );
        assert!(
            text.contains(r#"pms_delivery_attempts_total{channel="websub",outcome="delivered"} 1"#)
        );
        assert!(text.contains(r#"pms_delivery_token_fetches_total{result="ok"} 1"#));
        assert!(text.contains("pms_delivery_attempt_duration_seconds_bucket"));
    }
}
