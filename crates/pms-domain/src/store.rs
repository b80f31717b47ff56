//! The storage port. One trait pair, implemented once per backend (`pms-store-sqlite`,
//! `pms-store-postgres`); the domain runs its ordered checks against a [`Tx`] and the backend
//! guarantees that everything written through one `Tx` commits together or not at all.

use crate::clock::Timestamp;
use crate::list::{
    ClientFilter, ClientSortField, ClientSummary, ListQuery, MappingFilter, MappingSortField,
    MappingSummary, Page, PolicyFilter, PolicySortField, PolicySummary,
};
use crate::model::{AuditRecord, AuthPolicy, MappingRequest, OidcClient, Partner, PolicyGroup};
use crate::outbox::{AggregateType, Channel, NewOutboxRow, OutboxRow, OutboxState};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// A uniqueness rule the database enforces; violations surface as [`StoreError::Conflict`] so
/// that a race lost at commit time still ends in the domain's conflict code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    PolicyGroupName,
    PolicyId,
    PolicyNameInGroup,
    PartnerId,
    PartnerEmail,
    /// At most one `InProgress` or `approved` request per (partner, policy).
    LiveMapping,
    /// The client id, derived from the public key: a second registration of the same key.
    ClientId,
}

/// Why the database cannot serve a request now. Neither pms nor the request is at fault: the
/// same request can succeed once the database is back, so `pms-api` answers it as an outage
/// (503 with `Retry-After`), never as a fault of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Not reachable: connection refused or lost, the server shutting down or starting up, the
    /// file cannot be opened, an I/O error.
    Unreachable,
    /// No room left to write.
    DiskFull,
    /// The database accepts no writes: a read-only file or file system, a standby, a session
    /// that defaults to read-only.
    ReadOnly,
    /// A lock or a pooled connection stayed taken past its timeout (contention, not a fault).
    Busy,
}

impl Outage {
    /// The words an operator reads in error messages and logs.
    pub fn describe(self) -> &'static str {
        match self {
            Outage::Unreachable => "database unavailable",
            Outage::DiskFull => "disk full",
            Outage::ReadOnly => "database is read-only",
            Outage::Busy => "database busy",
        }
    }

    /// Whether the store is down while this lasts (health reports `DOWN`). Contention is not:
    /// the database works, and taking a node out of rotation would not make its lock free.
    pub fn is_down(self) -> bool {
        !matches!(self, Outage::Busy)
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0:?}")]
    Conflict(Constraint),
    /// The database cannot serve now (see [`Outage`]); the backends classify their errors into
    /// this in one place each.
    #[error("{reason}: {detail}")]
    Unavailable { reason: Outage, detail: String },
    /// Anything else the database refused, or pms lost track of: a fault, not an outage.
    #[error("database error: {0}")]
    Failed(String),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn unavailable(reason: Outage, detail: impl Into<String>) -> Self {
        StoreError::Unavailable {
            reason,
            detail: detail.into(),
        }
    }

    pub fn failed(detail: impl Into<String>) -> Self {
        StoreError::Failed(detail.into())
    }

    /// The same error with `context` before its detail.
    pub fn context(self, context: &str) -> Self {
        match self {
            StoreError::Unavailable { reason, detail } => StoreError::Unavailable {
                reason,
                detail: format!("{context}: {detail}"),
            },
            StoreError::Failed(d) => StoreError::Failed(format!("{context}: {d}")),
            StoreError::Corrupt(d) => StoreError::Corrupt(format!("{context}: {d}")),
            e @ StoreError::Conflict(_) => e,
        }
    }
}

/// Whether the store can write, as its last write (or write probe) found it: what health
/// reports beyond "the database answers a read" (a full disk or a read-only database still
/// reads). A write that fails with an [`Outage`] that [`Outage::is_down`] marks the store down;
/// a write that commits marks it up again. Other failures (a conflict, a bug) say nothing about
/// the database and change nothing. Each backend keeps one, records every write transaction's
/// outcome in it, and consults it in [`Store::ping`]. Bookkeeping only: no IO, no clock.
#[derive(Debug, Default)]
pub struct Writability {
    /// Read without the lock by every commit (only whether the store is down).
    down: AtomicBool,
    why: Mutex<Option<StoreError>>,
}

impl Writability {
    /// Records the outcome of a write (its begin, a statement, its commit) or of a probe.
    pub fn record<T>(&self, outcome: &Result<T, StoreError>) {
        match outcome {
            Ok(_) => self.up(),
            Err(e) => self.failed(e),
        }
    }

    /// Records a failed write: an outage marks the store down.
    pub fn failed(&self, e: &StoreError) {
        if let StoreError::Unavailable { reason, .. } = e {
            if reason.is_down() {
                let mut why = self.why.lock().unwrap_or_else(PoisonError::into_inner);
                *why = Some(e.clone());
                self.down.store(true, Ordering::Release);
            }
        }
    }

    /// Records a write that committed.
    pub fn up(&self) {
        if self.down.load(Ordering::Acquire) {
            let mut why = self.why.lock().unwrap_or_else(PoisonError::into_inner);
            *why = None;
            self.down.store(false, Ordering::Release);
        }
    }

    /// The outage that marked the store down, while it lasts.
    pub fn down(&self) -> Option<StoreError> {
        if !self.down.load(Ordering::Acquire) {
            return None;
        }
        self.why
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What [`Tx::client_view`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientView {
    pub client: OidcClient,
    pub policy_name: Option<String>,
    /// Whether the reader owns at least one partner (false without a reader).
    pub reader_owns_any: bool,
    /// Whether the reader owns the client's partner (false without a reader).
    pub reader_owns_partner: bool,
    /// The client's outbox rows (its deliveries), in id order.
    pub deliveries: Vec<crate::outbox::OutboxRow>,
}

/// What [`Tx::client_create_view`] returns: what checks 2–14 of a client create look at.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCreateView {
    /// A client with the new client's id exists.
    pub client_taken: bool,
    /// Whether the reader owns at least one partner (false without a reader).
    pub reader_owns_any: bool,
    /// Whether the reader owns the requested partner (false without a reader).
    pub reader_owns_partner: bool,
    pub partner: Option<Partner>,
    pub policy: Option<AuthPolicy>,
    /// The policy's group exists and is active (false without a policy).
    pub group_active: bool,
    /// The partner has a mapping request to the policy.
    pub mapping_exists: bool,
    /// One of those requests is approved.
    pub mapping_approved: bool,
    /// [`Tx::check_rows_version`] as of this view, read in the same snapshot.
    pub rows_version: i64,
}

/// Every table, in an order that satisfies foreign keys when rows are inserted table by table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    PolicyGroup,
    AuthPolicy,
    Partner,
    Mapping,
    Client,
    Audit,
    Outbox,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::PolicyGroup,
        Table::AuthPolicy,
        Table::Partner,
        Table::Mapping,
        Table::Client,
        Table::Audit,
        Table::Outbox,
    ];

    /// The table's name in both backends' schemas.
    pub fn name(self) -> &'static str {
        match self {
            Table::PolicyGroup => "policy_group",
            Table::AuthPolicy => "auth_policy",
            Table::Partner => "partner",
            Table::Mapping => "partner_policy_request",
            Table::Client => "oidc_client",
            Table::Audit => "audit_log",
            Table::Outbox => "outbox",
        }
    }
}

/// One row of any table as the domain knows it: what `pms copy-data` moves between backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    PolicyGroup(PolicyGroup),
    AuthPolicy(AuthPolicy),
    Partner(Partner),
    Mapping(MappingRequest),
    /// Boxed: the largest row by far, and pages of records are mostly other rows.
    Client(Box<OidcClient>),
    Audit(AuditRecord),
    /// Copied with its id, state and history, so delivery resumes where it stood.
    Outbox(OutboxRow),
}

/// A page of [`Tx::export`]: the rows and the position to continue after.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPage {
    pub records: Vec<Record>,
    /// `None` when the page was empty.
    pub last: Option<String>,
}

/// A backend: hands out transactions.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies the backend's embedded migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Closes the pool, waiting for connections in use to be returned.
    async fn close(&self);
    /// Whether the database answers a read and, as far as the store knows, takes writes
    /// (health endpoint). While its [`Writability`] is down, this runs a write probe that
    /// leaves nothing behind (at most one a second; see each backend), so the store comes back
    /// up without waiting for a request to write.
    async fn ping(&self) -> Result<(), StoreError>;
    /// A connection for reads. PostgreSQL gives a snapshot; SQLite runs each statement on the
    /// latest commit (autocommit, cheaper). Nothing written through it is kept.
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// A write transaction. Decisions taken inside it are serialised against other writers of
    /// the same rows (SQLite: one writer at a time; PostgreSQL: row locks, see `*_for_update`).
    async fn write(&self) -> Result<Box<dyn Tx>, StoreError>;
}

/// Everything an operation may read or write inside one transaction. Dropping a `Tx` without
/// [`Tx::commit`] rolls it back.
#[async_trait]
pub trait Tx: Send {
    // -- policy groups
    async fn policy_group(&mut self, id: &str) -> Result<Option<PolicyGroup>, StoreError>;
    async fn policy_group_by_name(&mut self, name: &str)
        -> Result<Option<PolicyGroup>, StoreError>;
    /// All groups, by name.
    async fn policy_groups(&mut self) -> Result<Vec<PolicyGroup>, StoreError>;
    async fn insert_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError>;
    async fn update_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError>;

    // -- auth policies
    async fn policy(&mut self, id: &str) -> Result<Option<AuthPolicy>, StoreError>;
    /// All policies, by creation time then id.
    async fn policies(&mut self) -> Result<Vec<AuthPolicy>, StoreError>;
    async fn policies_in_group(&mut self, group_id: &str) -> Result<Vec<AuthPolicy>, StoreError>;
    async fn policy_by_name_in_group(
        &mut self,
        group_id: &str,
        name: &str,
    ) -> Result<Option<AuthPolicy>, StoreError>;
    /// Policies of any group with this exact name.
    async fn policies_named(&mut self, name: &str) -> Result<Vec<AuthPolicy>, StoreError>;
    async fn list_policies(
        &mut self,
        q: &ListQuery<PolicySortField, PolicyFilter>,
    ) -> Result<Page<PolicySummary>, StoreError>;
    async fn insert_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError>;
    async fn update_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError>;

    // -- partners
    async fn partner(&mut self, id: &str) -> Result<Option<Partner>, StoreError>;
    async fn partner_by_email(&mut self, email: &str) -> Result<Option<Partner>, StoreError>;
    /// Partners whose `user_id` is this user, by id.
    async fn partners_of_user(&mut self, user_id: &str) -> Result<Vec<Partner>, StoreError>;
    async fn insert_partner(&mut self, p: &Partner) -> Result<(), StoreError>;
    async fn update_partner(&mut self, p: &Partner) -> Result<(), StoreError>;

    // -- mapping requests
    async fn mapping(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError>;
    /// Like [`Tx::mapping`], and locks the row until commit where the backend needs a lock to
    /// serialise two decisions on it.
    async fn mapping_for_update(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError>;
    async fn mappings_of(
        &mut self,
        partner_id: &str,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError>;
    async fn mappings_of_policy(
        &mut self,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError>;
    async fn list_mappings(
        &mut self,
        q: &ListQuery<MappingSortField, MappingFilter>,
    ) -> Result<Page<MappingSummary>, StoreError>;
    async fn insert_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError>;
    async fn update_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError>;

    // -- OIDC clients
    async fn client(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError>;
    /// Like [`Tx::client`], and locks the row until commit so that two updates of one client
    /// are serialised (the second sees the first's result).
    async fn client_for_update(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError>;
    /// A number that changes whenever a partner, auth policy, policy group or partner–policy
    /// mapping is written, as this transaction sees it. While it equals a
    /// [`ClientCreateView::rows_version`] read elsewhere, every row that view read is unchanged,
    /// so a create need not read its checks again inside its write transaction
    /// ([`crate::ops::clients::prepare_create`]).
    async fn check_rows_version(&mut self) -> Result<i64, StoreError>;
    /// What a client create checks, for `reader` (a non-admin caller's user id): whether
    /// `client_id` is taken, the reader's ownership, the partner, the policy, whether the
    /// policy's group exists and is active, and whether the partner has a mapping request to the
    /// policy and an approved one; in as few round trips as the backend can.
    async fn client_create_view(
        &mut self,
        client_id: &str,
        reader: Option<&str>,
        partner_id: &str,
        policy_id: &str,
    ) -> Result<ClientCreateView, StoreError>;
    /// A client as a read shows it, in one round trip: the client, its policy's name (if the
    /// policy exists), its outbox rows and, for `reader` (a non-admin caller's user id), whether
    /// that user owns any partner and whether it owns the client's partner.
    async fn client_view(
        &mut self,
        id: &str,
        reader: Option<&str>,
    ) -> Result<Option<ClientView>, StoreError>;
    async fn list_clients(
        &mut self,
        q: &ListQuery<ClientSortField, ClientFilter>,
    ) -> Result<Page<ClientSummary>, StoreError>;
    async fn insert_client(&mut self, c: &OidcClient) -> Result<(), StoreError>;
    async fn update_client(&mut self, c: &OidcClient) -> Result<(), StoreError>;

    // -- audit
    async fn append_audit(&mut self, a: &AuditRecord) -> Result<(), StoreError>;
    /// The audit trail of one entity, oldest first.
    async fn audit_of(
        &mut self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    // -- outbox
    /// Writes a new `PENDING` row due at its `created_at`; returns its id (increasing in commit
    /// order).
    async fn insert_outbox(&mut self, row: &NewOutboxRow) -> Result<i64, StoreError>;
    /// Every row of these aggregates, by id.
    async fn outbox_of(
        &mut self,
        aggregate_type: AggregateType,
        aggregate_ids: &[String],
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Takes up to `limit` rows eligible at `now` (due `PENDING` rows and `IN_FLIGHT` rows
    /// whose lease ran out; no earlier undelivered row of the same aggregate and channel; the
    /// `depends_on` row delivered or superseded), oldest first, marks them `IN_FLIGHT` until
    /// `lease_until` and returns them. Two workers never take the same row.
    async fn claim_outbox(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Stores a row's state, attempts, times and last error (everything a delivery changes).
    async fn update_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError>;
    /// After an eSignet delivery of `version`: every other `PENDING` or `FAILED` `ESIGNET` row of
    /// the client with a version not above it becomes `SUPERSEDED`. Returns how many.
    async fn supersede_esignet(
        &mut self,
        client_id: &str,
        version: i64,
        except_id: i64,
    ) -> Result<u64, StoreError>;
    /// Inserts a copied row as it was, id and history included (`pms copy-data`); later
    /// [`Tx::insert_outbox`] ids continue above it.
    async fn restore_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError>;
    /// Deletes delivered and superseded rows created before `before` (retention).
    async fn purge_outbox(&mut self, before: Timestamp) -> Result<u64, StoreError>;
    /// Row counts by channel and state (metrics).
    async fn outbox_depth(&mut self) -> Result<Vec<(Channel, OutboxState, u64)>, StoreError>;

    // -- bulk copy between backends
    /// Up to `limit` rows of `table` in a stable order (primary key; audit by sequence), starting
    /// after the position `after` returned by the previous page.
    async fn export(
        &mut self,
        table: Table,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ExportPage, StoreError>;
    async fn count_rows(&mut self, table: Table) -> Result<u64, StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_of_a_write_marks_the_store_down_until_a_write_commits() {
        let w = Writability::default();
        assert!(w.down().is_none());
        w.record::<()>(&Err(StoreError::unavailable(
            Outage::DiskFull,
            "SQLITE_FULL",
        )));
        let Some(StoreError::Unavailable { reason, .. }) = w.down() else {
            panic!("not down");
        };
        assert_eq!(reason, Outage::DiskFull);
        // Contention, conflicts and faults say nothing about the database.
        w.failed(&StoreError::unavailable(Outage::Busy, "lock"));
        w.failed(&StoreError::Conflict(Constraint::PartnerId));
        w.failed(&StoreError::failed("syntax error"));
        assert!(matches!(
            w.down(),
            Some(StoreError::Unavailable {
                reason: Outage::DiskFull,
                ..
            })
        ));
        w.record(&Ok(()));
        assert!(w.down().is_none());
        w.failed(&StoreError::unavailable(Outage::Busy, "lock"));
        assert!(w.down().is_none());
    }

    #[test]
    fn outages_read_as_an_operator_would_say_them() {
        let e = StoreError::unavailable(Outage::ReadOnly, "attempt to write a readonly database");
        assert_eq!(
            e.context("BEGIN").to_string(),
            "database is read-only: BEGIN: attempt to write a readonly database"
        );
        assert_eq!(Outage::Unreachable.to_string(), "database unavailable");
        assert_eq!(Outage::DiskFull.to_string(), "disk full");
    }
}
