//! The transactional outbox: which rows a committed change writes, the WebSub
//! event model they carry (MOSIP's `EventModel`), the backoff between attempts, and the delivery
//! status a client shows. No IO: the worker in `pms-delivery` makes the
//! calls, the stores keep the rows.

use crate::clock::{format_ts, Timestamp};
use crate::model::{AuthPolicy, Ctx, DomainEvent, OidcClient, Partner};
use crate::store::Tx;
use crate::DomainError;
use serde::Serialize;
use serde_json::{json, Value};

/// Which downstream systems are configured; rows are written only for those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxTargets {
    pub esignet: bool,
    pub websub: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Channel {
    Esignet,
    Websub,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Esignet, Channel::Websub];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Esignet => "ESIGNET",
            Channel::Websub => "WEBSUB",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AggregateType {
    Client,
    Partner,
    Policy,
}

impl AggregateType {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateType::Client => "CLIENT",
            AggregateType::Partner => "PARTNER",
            AggregateType::Policy => "POLICY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Client, Self::Partner, Self::Policy]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum OutboxState {
    Pending,
    InFlight,
    Delivered,
    Failed,
    Superseded,
}

impl OutboxState {
    pub const ALL: [OutboxState; 5] = [
        OutboxState::Pending,
        OutboxState::InFlight,
        OutboxState::Delivered,
        OutboxState::Failed,
        OutboxState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "PENDING",
            OutboxState::InFlight => "IN_FLIGHT",
            OutboxState::Delivered => "DELIVERED",
            OutboxState::Failed => "FAILED",
            OutboxState::Superseded => "SUPERSEDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Delivered or superseded: nothing left to do for this row.
    pub fn is_done(self) -> bool {
        matches!(self, OutboxState::Delivered | OutboxState::Superseded)
    }
}

/// `operation` of an `ESIGNET` row.
pub const OP_CREATE: &str = "CREATE";
pub const OP_UPDATE: &str = "UPDATE";

/// WebSub topics, as MOSIP PMS publishes them.
pub const TOPIC_CLIENT_CREATED: &str = "OIDC_CLIENT_CREATED";
pub const TOPIC_CLIENT_UPDATED: &str = "OIDC_CLIENT_UPDATED";
pub const TOPIC_PARTNER_UPDATED: &str = "PARTNER_UPDATED";
pub const TOPIC_POLICY_UPDATED: &str = "POLICY_UPDATED";

/// A row as the request's transaction writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxRow {
    pub aggregate_type: AggregateType,
    pub aggregate_id: String,
    pub channel: Channel,
    /// `CREATE`/`UPDATE` for eSignet, the topic for WebSub.
    pub operation: String,
    /// `ESIGNET` rows: the client version this row was written for.
    pub client_version: Option<i64>,
    /// `WEBSUB` rows: MOSIP's event model without `publishedOn`.
    pub event: Option<Value>,
    /// `WEBSUB` rows of a client: the `ESIGNET` row of the same transaction.
    pub depends_on: Option<i64>,
    pub created_at: Timestamp,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub aggregate_type: AggregateType,
    pub aggregate_id: String,
    pub channel: Channel,
    pub operation: String,
    pub client_version: Option<i64>,
    pub event: Option<Value>,
    pub depends_on: Option<i64>,
    pub state: OutboxState,
    /// Failed attempts so far (since the row was written or last redelivered).
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub lease_until: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_error: Option<String>,
}

impl OutboxRow {
    /// A freshly written row, as the store returns it.
    pub fn new(id: i64, row: &NewOutboxRow) -> Self {
        Self {
            id,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id.clone(),
            channel: row.channel,
            operation: row.operation.clone(),
            client_version: row.client_version,
            event: row.event.clone(),
            depends_on: row.depends_on,
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at: Some(row.created_at),
            last_attempt_at: None,
            lease_until: None,
            delivered_at: None,
            created_at: row.created_at,
            last_error: None,
        }
    }
}

const CLIENT_TYPE: (&str, &str) = (
    "PartnerManagementServiceImpl",
    "io.mosip.pmp.partner.manager.service.impl.PartnerManagementServiceImpl",
);
const POLICY_TYPE: (&str, &str) = ("PolicyManagementService", "io.mosip.pmp.policy.service");

/// MOSIP's event model without `publishedOn`, which the worker adds per attempt.
fn event(topic: &str, (name, namespace): (&str, &str), now: Timestamp, data: Value) -> Value {
    json!({
        "publisher": name,
        "topic": topic,
        "event": {
            "id": uuid::Uuid::new_v4().to_string(),
            "type": { "name": name, "namespace": namespace },
            "timestamp": format_ts(&now),
            "data": data,
        }
    })
}

fn active(is_active: bool) -> &'static str {
    if is_active {
        "ACTIVE"
    } else {
        "DEACTIVE"
    }
}

/// `partnerData` of a `PARTNER_UPDATED` event.
pub fn partner_data(p: &Partner) -> Value {
    json!({ "partnerId": p.id, "partnerName": p.name, "certificateData": null,
            "partnerStatus": active(p.is_active) })
}

/// MOSIP's zone-less local date-time, in UTC.
fn local_ts(t: &Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// `policyData` of a `POLICY_UPDATED` event.
pub fn policy_data(p: &AuthPolicy) -> Value {
    json!({ "policyId": p.id, "policy": p.policies, "policyName": p.name,
            "policyStatus": active(p.is_active), "policyDescription": p.desc,
            "policyCommenceOn": local_ts(&p.valid_from), "policyExpiresOn": local_ts(&p.valid_to) })
}

/// `clientData` of an `OIDC_CLIENT_*` event; the name is cut to IDA's 128 characters.
pub fn client_data(c: &OidcClient) -> Value {
    let name: String = c.name.chars().take(128).collect();
    json!({ "clientId": c.id, "clientName": name, "clientStatus": c.status.as_str(),
            "userClaims": c.claims, "authContextRefs": c.acr_values,
            "clientAuthMethods": c.client_auth_methods })
}

/// The WebSub event of one domain event.
fn websub_event(ctx: &Ctx, e: &DomainEvent) -> Value {
    match e {
        DomainEvent::ClientCreated {
            client,
            partner,
            policy,
            ..
        } => event(
            TOPIC_CLIENT_CREATED,
            CLIENT_TYPE,
            ctx.now,
            json!({ "partnerData": partner_data(partner), "policyData": policy_data(policy),
                    "clientData": client_data(client) }),
        ),
        DomainEvent::ClientUpdated { client } => event(
            TOPIC_CLIENT_UPDATED,
            CLIENT_TYPE,
            ctx.now,
            json!({ "clientData": client_data(client) }),
        ),
        DomainEvent::PartnerUpdated { partner } => event(
            TOPIC_PARTNER_UPDATED,
            CLIENT_TYPE,
            ctx.now,
            json!({ "partnerData": partner_data(partner) }),
        ),
        DomainEvent::PolicyUpdated { policy } => event(
            TOPIC_POLICY_UPDATED,
            POLICY_TYPE,
            ctx.now,
            json!({ "policyData": policy_data(policy) }),
        ),
    }
}

/// Writes the outbox rows of `events` in the caller's transaction, for the
/// targets `ctx.outbox` names.
pub async fn record(tx: &mut dyn Tx, ctx: &Ctx, events: &[DomainEvent]) -> Result<(), DomainError> {
    let targets = ctx.outbox;
    if !targets.esignet && !targets.websub {
        return Ok(());
    }
    for e in events {
        let (aggregate_type, aggregate_id, esignet) = match e {
            DomainEvent::ClientCreated { client, .. } => (
                AggregateType::Client,
                client.id.clone(),
                Some((OP_CREATE, client.version)),
            ),
            DomainEvent::ClientUpdated { client } => (
                AggregateType::Client,
                client.id.clone(),
                Some((OP_UPDATE, client.version)),
            ),
            DomainEvent::PartnerUpdated { partner } => {
                (AggregateType::Partner, partner.id.clone(), None)
            }
            DomainEvent::PolicyUpdated { policy } => {
                (AggregateType::Policy, policy.id.clone(), None)
            }
        };
        // The event document is only built for a hub that will receive it.
        let websub = targets.websub.then(|| websub_event(ctx, e));
        let mut depends_on = None;
        if let (true, Some((op, version))) = (targets.esignet, esignet) {
            let id = tx
                .insert_outbox(&NewOutboxRow {
                    aggregate_type,
                    aggregate_id: aggregate_id.clone(),
                    channel: Channel::Esignet,
                    operation: op.to_string(),
                    client_version: Some(version),
                    event: None,
                    depends_on: None,
                    created_at: ctx.now,
                })
                .await?;
            depends_on = Some(id);
        }
        if let (true, Some(ev)) = (targets.websub, websub) {
            let topic = ev["topic"].as_str().unwrap_or_default().to_string();
            tx.insert_outbox(&NewOutboxRow {
                aggregate_type,
                aggregate_id,
                channel: Channel::Websub,
                operation: topic,
                client_version: None,
                event: Some(ev),
                depends_on,
                created_at: ctx.now,
            })
            .await?;
        }
    }
    Ok(())
}

/// The outbox depth report (`Tx::outbox_depth`) from the stores' `(channel, state, count)`
/// groups: names parsed (an unknown one means the table holds something pms never writes), in
/// [`Channel::ALL`] then [`OutboxState::ALL`] order, so both backends report the same sequence.
pub fn depth_report(
    rows: Vec<(String, String, i64)>,
) -> Result<Vec<(Channel, OutboxState, u64)>, crate::store::StoreError> {
    use crate::store::StoreError;
    let mut out = rows
        .into_iter()
        .map(|(c, s, n)| {
            let channel =
                Channel::parse(&c).ok_or_else(|| StoreError::Corrupt(format!("channel {c:?}")))?;
            let state = OutboxState::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("state {s:?}")))?;
            Ok((channel, state, u64::try_from(n).unwrap_or(0)))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let pos = |c: Channel, s: OutboxState| {
        (
            Channel::ALL.iter().position(|x| *x == c),
            OutboxState::ALL.iter().position(|x| *x == s),
        )
    };
    out.sort_by_key(|(c, s, _)| pos(*c, *s));
    Ok(out)
}

/// The wait after the `n`-th failed attempt (n ≥ 1): `min(max, base·2^(n−1))·jitter`. `jitter` is the uniform factor in
/// [0.8, 1.2], drawn by the caller so that this stays deterministic.
pub fn backoff(n: u32, base_seconds: u64, max_seconds: u64, jitter: f64) -> std::time::Duration {
    let exp = n.saturating_sub(1).min(40);
    let raw = base_seconds.saturating_mul(1u64 << exp).min(max_seconds);
    std::time::Duration::from_secs_f64(raw as f64 * jitter.clamp(0.8, 1.2))
}

/// A channel's delivery state, ordered from worst to best for the
/// list's `deliveryState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum DeliveryState {
    Failed,
    Pending,
    Delivered,
    None,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Failed => "FAILED",
            DeliveryState::Pending => "PENDING",
            DeliveryState::Delivered => "DELIVERED",
            DeliveryState::None => "NONE",
        }
    }
}

/// One channel of a client's `delivery` object.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelStatus {
    pub state: DeliveryState,
    pub pending_items: u64,
    pub attempts: u32,
    pub last_attempt_at: Option<Timestamp>,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// The text a blocked row shows.
pub const BLOCKED: &str = "blocked by an earlier failed delivery";

/// The status of `channel` from all rows of one aggregate (any order).
pub fn channel_status(rows: &[OutboxRow], channel: Channel) -> ChannelStatus {
    let mut mine: Vec<&OutboxRow> = rows.iter().filter(|r| r.channel == channel).collect();
    mine.sort_by_key(|r| r.id);
    let Some(&latest) = mine.last() else {
        return ChannelStatus {
            state: DeliveryState::None,
            pending_items: 0,
            attempts: 0,
            last_attempt_at: None,
            next_attempt_at: None,
            last_error: None,
        };
    };
    let undelivered: Vec<&OutboxRow> = mine
        .iter()
        .copied()
        .filter(|r| !r.state.is_done())
        .collect();
    let state = if undelivered.iter().any(|r| r.state == OutboxState::Failed) {
        DeliveryState::Failed
    } else if undelivered.is_empty() {
        DeliveryState::Delivered
    } else {
        DeliveryState::Pending
    };
    // The oldest undelivered row, or the most recent when all are delivered.
    let row = undelivered.first().copied().unwrap_or(latest);
    let failed_dependency = row.depends_on.is_some_and(|d| {
        rows.iter()
            .any(|r| r.id == d && r.state == OutboxState::Failed)
    });
    let blocked = row.state == OutboxState::Pending
        && (failed_dependency
            || mine
                .iter()
                .any(|r| r.id < row.id && r.state == OutboxState::Failed));
    // A delivered row counts its successful attempt too.
    let attempts = if row.state == OutboxState::Delivered {
        row.attempts + 1
    } else {
        row.attempts
    };
    ChannelStatus {
        state,
        pending_items: undelivered.len() as u64,
        attempts,
        last_attempt_at: row.last_attempt_at,
        next_attempt_at: match row.state {
            OutboxState::Pending => row.next_attempt_at,
            OutboxState::InFlight => row.lease_until,
            _ => None,
        },
        last_error: if blocked {
            Some(BLOCKED.to_string())
        } else if row.state == OutboxState::Delivered {
            None
        } else {
            row.last_error.clone()
        },
    }
}

/// The list's `deliveryState`: the worse of the two channels.
pub fn overall(rows: &[OutboxRow]) -> DeliveryState {
    Channel::ALL
        .into_iter()
        .map(|c| channel_status(rows, c).state)
        .min()
        .unwrap_or(DeliveryState::None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, s).unwrap()
    }

    fn row(id: i64, channel: Channel, state: OutboxState) -> OutboxRow {
        let mut r = OutboxRow::new(
            id,
            &NewOutboxRow {
                aggregate_type: AggregateType::Client,
                aggregate_id: "c".into(),
                channel,
                operation: OP_CREATE.into(),
                client_version: Some(1),
                event: None,
                depends_on: None,
                created_at: at(0),
            },
        );
        r.state = state;
        r
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let secs = |n, j| backoff(n, 2, 600, j).as_secs_f64();
        assert_eq!(secs(1, 1.0), 2.0);
        assert_eq!(secs(2, 1.0), 4.0);
        assert_eq!(secs(5, 1.0), 32.0);
        assert_eq!(secs(20, 1.0), 600.0);
        assert_eq!(secs(3, 0.8), 6.4);
        assert!((secs(3, 1.2) - 9.6).abs() < 1e-9);
        assert_eq!(secs(200, 1.0), 600.0);
    }

    #[test]
    fn no_rows_is_none_and_all_delivered_is_delivered() {
        assert_eq!(
            channel_status(&[], Channel::Esignet).state,
            DeliveryState::None
        );
        let mut d = row(1, Channel::Esignet, OutboxState::Delivered);
        d.last_attempt_at = Some(at(3));
        let s = channel_status(&[d], Channel::Esignet);
        assert_eq!(
            (s.state, s.pending_items, s.attempts, s.last_error),
            (DeliveryState::Delivered, 0, 1, None)
        );
        assert_eq!(s.last_attempt_at, Some(at(3)));
    }

    #[test]
    fn a_failed_row_wins_and_blocks_later_ones() {
        let mut f = row(1, Channel::Esignet, OutboxState::Failed);
        f.last_error = Some("HTTP 400".into());
        f.attempts = 3;
        let p = row(2, Channel::Esignet, OutboxState::Pending);
        let w = OutboxRow {
            depends_on: Some(1),
            ..row(3, Channel::Websub, OutboxState::Pending)
        };
        let rows = [f, p, w];
        let e = channel_status(&rows, Channel::Esignet);
        assert_eq!(
            (
                e.state,
                e.pending_items,
                e.attempts,
                e.last_error.as_deref()
            ),
            (DeliveryState::Failed, 2, 3, Some("HTTP 400"))
        );
        let ws = channel_status(&rows, Channel::Websub);
        assert_eq!(ws.state, DeliveryState::Pending);
        assert_eq!(ws.last_error.as_deref(), Some(BLOCKED));
        assert_eq!(overall(&rows), DeliveryState::Failed);
    }

    #[test]
    fn superseded_rows_count_as_delivered() {
        let rows = [
            row(1, Channel::Esignet, OutboxState::Superseded),
            row(2, Channel::Esignet, OutboxState::Delivered),
        ];
        assert_eq!(
            overall(&rows),
            DeliveryState::None.min(DeliveryState::Delivered)
        );
        assert_eq!(
            channel_status(&rows, Channel::Esignet).state,
            DeliveryState::Delivered
        );
    }

    #[test]
    fn policy_dates_are_zone_less_and_names_are_cut_for_ida() {
        let t = chrono::Utc.with_ymd_and_hms(2025, 6, 30, 9, 5, 0).unwrap()
            + chrono::Duration::milliseconds(40);
        assert_eq!(local_ts(&t), "2025-06-30T09:05:00.040");
        assert_eq!(active(false), "DEACTIVE");
    }
}
