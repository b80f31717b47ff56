//! The outbox delivery worker (downstream.md §5): takes committed outbox rows through the
//! [`Store`](pms_domain::Store) and sends them to eSignet's client-management API (§3) and to a
//! WebSub hub (§4), with the service token of §2, retrying with backoff (§5.5).
//!
//! Architecture invariant: no SQL and no request handling here. Rows are read and written only
//! through the `Store`/`Tx` traits, time only through the injected [`Clock`](pms_domain::Clock),
//! and a slow or hanging downstream system delays only the row being sent, never the API, which
//! merely wakes the worker through [`Worker::notifier`].
#![forbid(unsafe_code)]

mod esignet;
mod metrics;
mod settings;
mod token;
mod verdict;
mod websub;
mod worker;

pub use metrics::{AttemptOutcome, DeliveryMetrics, FailureReason};
pub use settings::{DeliverySettings, ServiceTokenSettings, TokenMode};
pub use worker::Worker;

/// Why a worker cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("invalid setting {key}: {reason}")]
    InvalidSetting { key: &'static str, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}
