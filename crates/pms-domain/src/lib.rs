//! The rules of pms, with no IO: domain types, the ordered business checks of every operation,
//! policy-document validation, the `Store` trait the storage backends implement, and the injected
//! `Clock`.
//!
//! Architecture invariant: this crate never depends on an HTTP, SQL or async-runtime crate. It
//! knows MOSIP's *rules* but not its wire shape: error codes and envelopes belong to `pms-api`.
#![forbid(unsafe_code)]

pub mod claims;
pub mod client_fields;
pub mod client_key;
pub mod clock;
pub mod error;
pub mod list;
pub mod model;
pub mod name;
pub mod ops;
pub mod outbox;
pub mod policy_doc;
pub mod store;
pub mod str_list;

pub use clock::{Clock, SystemClock, Timestamp};
pub use error::DomainError;
pub use store::{Outage, Store, StoreError, Tx, Writability};
