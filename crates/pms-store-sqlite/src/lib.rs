//! The [`Store`] for embedded SQLite: opening the file (WAL, foreign keys, busy timeout, full
//! sync), embedded migrations, and every query of the [`Tx`] trait.
//!
//! Statements run through rusqlite on the calling task (see [`conn`] for why, and for the
//! group commit of writes). Writers serialise on the one writer connection inside
//! `BEGIN IMMEDIATE`, so a check-then-write inside one write transaction cannot be overtaken by
//! another writer; unique indexes back the uniqueness rules anyway and their violations map to
//! [`Constraint`]s in [`on_constraint`]. Migrations still run through sqlx's migrator, so files
//! migrated by earlier versions keep their history.
#![forbid(unsafe_code)]

mod conn;
mod rows;

use async_trait::async_trait;
use conn::{classify, Db, Reader, WriteTurn};
use pms_domain::clock::format_ts;
use pms_domain::list::{
    ClientFilter, ClientSortField, ClientSummary, ListQuery, MappingFilter, MappingSortField,
    MappingSummary, Page, PolicyFilter, PolicySortField, PolicySummary, SortDir,
};
use pms_domain::model::{
    AuditRecord, AuthPolicy, JsonText, MappingRequest, OidcClient, Partner, PolicyGroup,
    PolicyState,
};
use pms_domain::outbox::{AggregateType, Channel, NewOutboxRow, OutboxRow, OutboxState};
use pms_domain::store::{
    ClientCreateView, ClientView, Constraint, ExportPage, Outage, Record, Store, StoreError, Table,
    Tx,
};
use pms_domain::Timestamp;
use rows::{
    audit_from, client_from, client_summary_from, group_from, mapping_from, outbox_from,
    partner_from, policy_from, summary_from,
};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, Params, Row};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection settings taken from the service configuration.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    pub url: String,
    /// Idle read connections kept open.
    pub max_connections: u32,
    /// How long a write waits for its turn on the writer.
    pub connect_timeout: Duration,
}

#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<Db>,
    /// For the migrator, which runs through sqlx.
    options: SqliteConnectOptions,
    /// When the last write probe ran (see [`SqliteStore::probe`]); held while one runs.
    probed: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

/// A store marked down probes whether it can write again at most this often (health calls in
/// between answer what the last probe found).
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The free space on the database's file system under which a store marked down stays down:
/// room for a WAL of 256 pages, so that health does not come back up for a few free kilobytes
/// that the next write group would not fit in.
const PROBE_ROOM: u64 = 1024 * 1024;

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.db.path())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) the database at `settings.url`.
    pub async fn connect(settings: &SqliteSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&settings.url)
            .map_err(|e| StoreError::failed(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let path = options.get_filename().to_path_buf();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return Err(StoreError::failed(
                "in-memory SQLite is not supported: give a file (sqlite://path/pms.db)",
            ));
        }
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::unavailable(
                        Outage::Unreachable,
                        format!("cannot create {}: {e}", dir.display()),
                    )
                })?;
            }
        }
        let db = tokio::task::spawn_blocking({
            let max = settings.max_connections;
            let turn = settings.connect_timeout;
            move || Db::open(path, max, turn)
        })
        .await
        .map_err(|e| StoreError::failed(format!("open task failed: {e}")))??;
        let db = Arc::new(db);
        // Ends with the store (or the runtime).
        let weak = Arc::downgrade(&db);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(conn::HOLD_AT_MOST);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(db) = weak.upgrade() else { break };
                db.drop_stale_snapshot();
            }
        });
        Ok(Self {
            db,
            options,
            probed: Arc::default(),
        })
    }

    /// While the store is marked down (`down`): whether it can write again, probed at most
    /// once per [`PROBE_EVERY`]. The probe writes nothing that stays and grows nothing: the
    /// database's file system must be writable with [`PROBE_ROOM`] free (a write that failed
    /// for want of space may have left just enough behind for a one-page commit), then a write
    /// goes the way every write goes — the writer's turn (`BEGIN IMMEDIATE`, which a read-only
    /// database refuses), one page, the commit with its fsync — and that page is the header's
    /// `user_version`, written with the value it already holds.
    async fn probe(&self, down: StoreError) -> Result<(), StoreError> {
        let Ok(mut last) = self.probed.try_lock() else {
            return Err(down);
        };
        if last.is_some_and(|t| t.elapsed() < PROBE_EVERY) {
            return Err(down);
        }
        *last = Some(Instant::now());
        let outcome = self.probe_write().await;
        if let Err(e) = &outcome {
            tracing::debug!(error = %e, "store still down");
        }
        self.db.health().record(&outcome);
        match self.db.health().down() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    async fn probe_write(&self) -> Result<(), StoreError> {
        let dir = match self.db.path().parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let shown = dir.display().to_string();
        let fs = tokio::task::spawn_blocking(move || rustix::fs::statvfs(&dir))
            .await
            .map_err(|e| StoreError::failed(format!("probe task failed: {e}")))?
            .map_err(|e| {
                StoreError::unavailable(Outage::Unreachable, format!("cannot stat {shown}: {e}"))
            })?;
        if fs.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
            return Err(StoreError::unavailable(
                Outage::ReadOnly,
                format!("{shown} is on a read-only file system"),
            ));
        }
        let free = fs.f_bavail.saturating_mul(fs.f_frsize);
        if free < PROBE_ROOM {
            return Err(StoreError::unavailable(
                Outage::DiskFull,
                format!("{free} bytes free on the file system of {shown}"),
            ));
        }
        let tx = SqliteTx::Write(self.db.write().await?);
        {
            let c = tx.c()?;
            let v: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| tx.fail(e))?;
            c.execute_batch(&format!("PRAGMA user_version = {v}"))
                .map_err(|e| tx.fail(e))?;
        }
        Box::new(tx).commit().await
    }
}

/// The one place where SQLite's unique-violation messages become domain constraints.
fn on_constraint(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, Some(msg)) = &e {
        let unique = matches!(
            err.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        );
        if unique {
            let c = if msg.contains("policy_group.name") {
                Some(Constraint::PolicyGroupName)
            } else if msg.contains("auth_policy.policy_group_id, auth_policy.name") {
                Some(Constraint::PolicyNameInGroup)
            } else if msg.contains("auth_policy.id") {
                Some(Constraint::PolicyId)
            } else if msg.contains("partner_email_ci_key") {
                Some(Constraint::PartnerEmail)
            } else if msg.contains("partner_policy_request.partner_id") {
                Some(Constraint::LiveMapping)
            } else if msg.contains("oidc_client.id") {
                Some(Constraint::ClientId)
            } else if msg.contains("partner.id") {
                Some(Constraint::PartnerId)
            } else {
                None
            };
            if let Some(c) = c {
                return StoreError::Conflict(c);
            }
        }
    }
    classify(e)
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        // A one-connection pool: the migrator's future over a bare connection is not `Send`
        // enough for `async_trait`.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.clone())
            .await
            .map_err(|e| StoreError::failed(format!("migration failed: {e}")))?;
        let result = MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::failed(format!("migration failed: {e}")));
        pool.close().await;
        result
    }

    async fn close(&self) {
        // Connections close when the store is dropped; an open group always has a member
        // waiting to commit it.
        self.db.checkpoint().await;
    }

    async fn ping(&self) -> Result<(), StoreError> {
        {
            let r = self.db.reader()?;
            let c = r.conn().ok_or_else(gone)?;
            c.query_row("SELECT 1", [], |_| Ok(())).map_err(classify)?;
        }
        match self.db.health().down() {
            None => Ok(()),
            Some(down) => self.probe(down).await,
        }
    }

    /// Reads run in autocommit mode: each statement sees the latest commit. (`pms copy-data`
    /// compares row counts, so a write that slips between its statements aborts the copy
    /// instead of corrupting it.)
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(SqliteTx::Read(self.db.reader()?)))
    }

    async fn write(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(SqliteTx::Write(self.db.write().await?)))
    }
}

fn gone() -> StoreError {
    StoreError::failed("connection already released")
}

/// A write operation's turn on the writer, or a read connection.
enum SqliteTx {
    Read(Reader),
    Write(WriteTurn),
}

impl SqliteTx {
    fn c(&self) -> Result<&Connection, StoreError> {
        match self {
            SqliteTx::Read(r) => r.conn(),
            SqliteTx::Write(w) => w.conn(),
        }
        .ok_or_else(gone)
    }

    /// A statement's error, classified; in a write, recorded in the store's writability.
    fn fail(&self, e: rusqlite::Error) -> StoreError {
        self.noted(classify(e))
    }

    fn noted(&self, e: StoreError) -> StoreError {
        if let SqliteTx::Write(w) = self {
            w.note(&e);
        }
        e
    }

    fn all<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut st = self.c()?.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let mut rows = st.query(params).map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            out.push(f(row)?);
        }
        Ok(out)
    }

    fn one<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut st = self.c()?.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let mut rows = st.query(params).map_err(|e| self.fail(e))?;
        match rows.next().map_err(|e| self.fail(e))? {
            Some(row) => Ok(Some(f(row)?)),
            None => Ok(None),
        }
    }

    /// Runs a change; unique violations become [`StoreError::Conflict`].
    fn exec<P: Params>(&self, sql: &str, params: P) -> Result<usize, StoreError> {
        let mut st = self.c()?.prepare_cached(sql).map_err(|e| self.fail(e))?;
        st.execute(params).map_err(|e| self.noted(on_constraint(e)))
    }

    fn count(&self, q: &Sql) -> Result<u64, StoreError> {
        let mut st = self.c()?.prepare(&q.text).map_err(|e| self.fail(e))?;
        let n: i64 = st
            .query_row(params_from_iter(q.args.iter()), |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn all_sql<T>(
        &self,
        q: &Sql,
        f: fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.all(&q.text, params_from_iter(q.args.iter()), f)
    }
}

/// The distinct partner ids of all clients whose id contains `?` (lower-cased), found by
/// hopping through `oidc_client_rp_created_idx` one partner at a time: as many index seeks as
/// there are partners, however many clients each has.
const CLIENT_PARTNERS_SQL: &str = "WITH RECURSIVE rp(id) AS (\
     SELECT min(rp_id) FROM oidc_client \
     UNION ALL SELECT (SELECT min(rp_id) FROM oidc_client WHERE rp_id > rp.id) FROM rp WHERE rp.id IS NOT NULL) \
     SELECT id FROM rp WHERE id IS NOT NULL AND instr(lower(id), ?) > 0";

impl SqliteTx {
    /// The partnerId filter is a substring match; matched against every client it is a scan
    /// of the table. The same rows are the clients of the partners whose id matches, which
    /// the index gives cheaply; the filter becomes that set of partners (intersected with
    /// the caller's own, if limited).
    fn resolve_partner_filter(&self, f: &ClientFilter) -> Result<ClientFilter, StoreError> {
        let Some(needle) = &f.partner_id else {
            return Ok(f.clone());
        };
        let mut partners: Vec<String> = self.all(CLIENT_PARTNERS_SQL, [needle], |r| {
            r.get(0)
                .map_err(|e| StoreError::Corrupt(format!("rp_id: {e}")))
        })?;
        if let Some(owned) = &f.owned_by {
            partners.retain(|p| owned.contains(p));
        }
        Ok(ClientFilter {
            owned_by: Some(partners),
            partner_id: None,
            ..f.clone()
        })
    }
}

/// SQL text with its positional arguments, for queries whose shape depends on filters.
struct Sql {
    text: String,
    args: Vec<Value>,
}

impl Sql {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.args.push(v.into());
        self
    }

    /// `(?, ?, …)` for a non-empty list.
    fn bind_list(&mut self, items: &[String]) -> &mut Self {
        self.text.push('(');
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(it.clone());
        }
        self.text.push(')');
        self
    }
}

macro_rules! group_cols {
    () => {
        "id, name, descr, is_active, user_id, cr_by, cr_dtimes, upd_by, upd_dtimes"
    };
}
/// Read by position in `rows::policy_at`: keep the order.
macro_rules! policy_cols {
    () => {
        "id, policy_group_id, name, descr, policy_type, version, policies, schema_url, is_active, valid_from, valid_to, cr_by, cr_dtimes, upd_by, upd_dtimes"
    };
}
/// Read by position in `rows::partner_at`: keep the order.
macro_rules! partner_cols {
    () => {
        "id, name, address, contact_no, email_id, partner_type_code, policy_group_id, user_id, approval_status, is_active, lang_code, cr_by, cr_dtimes, upd_by, upd_dtimes"
    };
}
macro_rules! mapping_cols {
    () => {
        "id, partner_id, policy_id, request_detail, status_code, request_datetimes, cr_by, cr_dtimes, upd_by, upd_dtimes"
    };
}
macro_rules! audit_cols {
    () => {
        "at, actor, action, entity_type, entity_id, before, after, correlation_id"
    };
}
/// `rows::client_from` reads these by position: keep the order.
macro_rules! client_cols {
    () => {
        "id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris, public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes, upd_by, upd_dtimes, version"
    };
}
/// Read by position in `rows::outbox_at`: keep the order.
macro_rules! outbox_cols {
    () => {
        "id, aggregate_type, aggregate_id, channel, operation, client_version, event, depends_on, state, attempts, next_attempt_at, last_attempt_at, lease_until, delivered_at, created_at, last_error"
    };
}

/// Lists and maps are stored as JSON text.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn ts_opt(t: &Option<pms_domain::Timestamp>) -> Option<String> {
    t.as_ref().map(format_ts)
}

fn dir_sql(d: SortDir) -> &'static str {
    match d {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    }
}

/// Appends `AND instr(lower(col), needle) > 0`: a literal, case-insensitive substring match
/// (no LIKE, so `%` and `_` are plain characters). Needles arrive lower-cased.
fn push_contains(q: &mut Sql, col: &str, needle: &Option<String>) {
    if let Some(n) = needle {
        q.push(&format!(" AND instr(lower({col}), "))
            .bind(n.clone())
            .push(") > 0");
    }
}

fn push_policy_where(q: &mut Sql, f: &PolicyFilter) {
    q.push(" FROM auth_policy p JOIN policy_group g ON g.id = p.policy_group_id WHERE 1 = 1");
    push_contains(q, "p.policy_type", &f.policy_type);
    push_contains(q, "p.id", &f.policy_id);
    push_contains(q, "p.name", &f.policy_name);
    push_contains(q, "p.descr", &f.policy_description);
    push_contains(q, "g.name", &f.policy_group_name);
    match f.status {
        Some(PolicyState::Draft) => q.push(" AND p.schema_url IS NULL"),
        Some(PolicyState::Activated) => q.push(" AND p.schema_url IS NOT NULL AND p.is_active = 1"),
        Some(PolicyState::Deactivated) => {
            q.push(" AND p.schema_url IS NOT NULL AND p.is_active = 0")
        }
        None => q,
    };
}

fn push_mapping_where(q: &mut Sql, f: &MappingFilter) {
    q.push(
        " FROM partner_policy_request r JOIN partner pa ON pa.id = r.partner_id \
         JOIN auth_policy p ON p.id = r.policy_id LEFT JOIN policy_group g ON g.id = p.policy_group_id \
         WHERE 1 = 1",
    );
    if let Some(owned) = &f.owned_by {
        if owned.is_empty() {
            q.push(" AND 1 = 0");
        } else {
            q.push(" AND r.partner_id IN ").bind_list(owned);
        }
    }
    push_contains(q, "r.partner_id", &f.partner_id);
    push_contains(q, "r.request_detail", &f.partner_comment);
    push_contains(q, "pa.name", &f.org_name);
    push_contains(q, "r.policy_id", &f.policy_id);
    push_contains(q, "p.name", &f.policy_name);
    push_contains(q, "g.name", &f.policy_group_name);
    push_contains(q, "pa.partner_type_code", &f.partner_type);
    if let Some(s) = f.status {
        q.push(" AND r.status_code = ").bind(s.as_str().to_string());
    }
}

/// `all_joins`: the row query needs every joined column; a count joins only what the filters
/// read (the joins are on unique keys, so they never change the number of rows).
fn push_client_where(q: &mut Sql, f: &ClientFilter, all_joins: bool) {
    let group = all_joins || f.policy_group_name.is_some();
    let partner = group || f.org_name.is_some();
    let policy = all_joins || f.policy_name.is_some();
    q.push(" FROM oidc_client c");
    if partner {
        q.push(" LEFT JOIN partner pa ON pa.id = c.rp_id");
    }
    if group {
        q.push(" LEFT JOIN policy_group g ON g.id = pa.policy_group_id");
    }
    if policy {
        q.push(" LEFT JOIN auth_policy p ON p.id = c.policy_id");
    }
    q.push(" WHERE 1 = 1");
    if let Some(owned) = &f.owned_by {
        if owned.is_empty() {
            q.push(" AND 1 = 0");
        } else if let [one] = owned.as_slice() {
            // Equality, so that the planner walks oidc_client_rp_created_idx (backwards) in
            // list order.
            q.push(" AND c.rp_id = ").bind(one.clone());
        } else {
            q.push(" AND c.rp_id IN ").bind_list(owned);
        }
    }
    push_contains(q, "c.rp_id", &f.partner_id);
    push_contains(q, "pa.name", &f.org_name);
    push_contains(q, "g.name", &f.policy_group_name);
    push_contains(q, "p.name", &f.policy_name);
    push_contains(q, "c.name", &f.client_name);
    if let Some(s) = &f.status {
        q.push(" AND c.status = ").bind(s.clone());
    }
}

fn push_page(q: &mut Sql, page: Option<pms_domain::list::PageReq>) {
    if let Some(p) = page {
        q.push(" LIMIT ")
            .bind(i64::from(p.page_size))
            .push(" OFFSET ")
            .bind(i64::try_from(p.offset()).unwrap_or(i64::MAX));
    }
}

/// The ids of the rows `claim_outbox` may take (downstream.md §5.3), oldest first; binds `now`,
/// `now`, `limit`. `state IN (...)` is spelled as in the partial indexes so that the planner
/// can use them; for the predecessor check it is told to (`INDEXED BY`), since it would rather
/// walk the full aggregate index, through every delivered row of the aggregate. A due row without `next_attempt_at`, or an `IN_FLIGHT` row without a lease, counts
/// as due; a dependency that no longer exists (purged) counts as delivered.
const CLAIM_SQL: &str = "SELECT o.id FROM outbox o \
     WHERE o.state IN ('PENDING', 'IN_FLIGHT', 'FAILED') \
     AND ((o.state = 'PENDING' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)) \
       OR (o.state = 'IN_FLIGHT' AND (o.lease_until IS NULL OR o.lease_until < ?))) \
     AND NOT EXISTS (SELECT 1 FROM outbox e INDEXED BY outbox_open_aggregate_idx \
       WHERE e.aggregate_type = o.aggregate_type AND e.aggregate_id = o.aggregate_id \
       AND e.channel = o.channel AND e.id < o.id \
       AND e.state IN ('PENDING', 'IN_FLIGHT', 'FAILED')) \
     AND (o.depends_on IS NULL OR NOT EXISTS (SELECT 1 FROM outbox d \
       WHERE d.id = o.depends_on AND d.state NOT IN ('DELIVERED', 'SUPERSEDED'))) \
     ORDER BY o.id LIMIT ?";

#[async_trait]
impl Tx for SqliteTx {
    async fn policy_group(&mut self, id: &str) -> Result<Option<PolicyGroup>, StoreError> {
        self.one(
            concat!("SELECT ", group_cols!(), " FROM policy_group WHERE id = ?"),
            [id],
            group_from,
        )
    }

    async fn policy_group_by_name(
        &mut self,
        name: &str,
    ) -> Result<Option<PolicyGroup>, StoreError> {
        self.one(
            concat!(
                "SELECT ",
                group_cols!(),
                " FROM policy_group WHERE name = ?"
            ),
            [name],
            group_from,
        )
    }

    async fn policy_groups(&mut self) -> Result<Vec<PolicyGroup>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                group_cols!(),
                " FROM policy_group ORDER BY name, id"
            ),
            [],
            group_from,
        )
    }

    async fn insert_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError> {
        self.exec(
            concat!(
                "INSERT INTO policy_group (",
                group_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                g.id,
                g.name,
                g.desc,
                g.is_active,
                g.user_id,
                g.cr_by,
                format_ts(&g.cr_dtimes),
                g.upd_by,
                ts_opt(&g.upd_dtimes)
            ],
        )?;
        Ok(())
    }

    async fn update_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError> {
        self.exec(
            "UPDATE policy_group SET name = ?, descr = ?, is_active = ?, user_id = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?",
            params![
                g.name,
                g.desc,
                g.is_active,
                g.user_id,
                g.upd_by,
                ts_opt(&g.upd_dtimes),
                g.id
            ],
        )?;
        Ok(())
    }

    async fn policy(&mut self, id: &str) -> Result<Option<AuthPolicy>, StoreError> {
        self.one(
            concat!("SELECT ", policy_cols!(), " FROM auth_policy WHERE id = ?"),
            [id],
            policy_from,
        )
    }

    async fn policies(&mut self) -> Result<Vec<AuthPolicy>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                policy_cols!(),
                " FROM auth_policy ORDER BY cr_dtimes, id"
            ),
            [],
            policy_from,
        )
    }

    async fn policies_in_group(&mut self, group_id: &str) -> Result<Vec<AuthPolicy>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                policy_cols!(),
                " FROM auth_policy WHERE policy_group_id = ? ORDER BY cr_dtimes, id"
            ),
            [group_id],
            policy_from,
        )
    }

    async fn policy_by_name_in_group(
        &mut self,
        group_id: &str,
        name: &str,
    ) -> Result<Option<AuthPolicy>, StoreError> {
        self.one(
            concat!(
                "SELECT ",
                policy_cols!(),
                " FROM auth_policy WHERE policy_group_id = ? AND name = ?"
            ),
            [group_id, name],
            policy_from,
        )
    }

    async fn policies_named(&mut self, name: &str) -> Result<Vec<AuthPolicy>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                policy_cols!(),
                " FROM auth_policy WHERE name = ? ORDER BY cr_dtimes, id"
            ),
            [name],
            policy_from,
        )
    }

    async fn list_policies(
        &mut self,
        q: &ListQuery<PolicySortField, PolicyFilter>,
    ) -> Result<Page<PolicySummary>, StoreError> {
        let mut cq = Sql::new("SELECT COUNT(*)");
        push_policy_where(&mut cq, &q.filter);
        let total = self.count(&cq)?;
        let mut qb = Sql::new(
            "SELECT p.id, p.name, p.descr, p.policy_group_id, g.name AS group_name, p.schema_url, p.is_active, p.cr_dtimes, \
             CASE WHEN p.schema_url IS NULL THEN 'draft' WHEN p.is_active = 1 THEN 'activated' ELSE 'deactivated' END AS status",
        );
        push_policy_where(&mut qb, &q.filter);
        match q.sort {
            Some(s) => {
                let col = match s.field {
                    PolicySortField::PolicyId => "p.id",
                    PolicySortField::PolicyName => "p.name",
                    PolicySortField::PolicyDescription => "p.descr",
                    PolicySortField::PolicyGroupId => "p.policy_group_id",
                    PolicySortField::PolicyGroupName => "g.name",
                    PolicySortField::Status => "status",
                    PolicySortField::CreatedDateTime => "p.cr_dtimes",
                };
                qb.push(&format!(" ORDER BY {col} {}, p.id ASC", dir_sql(s.dir)));
            }
            None => {
                qb.push(" ORDER BY p.cr_dtimes DESC, p.id ASC");
            }
        }
        push_page(&mut qb, q.page);
        let items = self.all_sql(&qb, rows::policy_summary_from)?;
        Ok(Page { items, total })
    }

    async fn insert_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError> {
        self.exec(
            concat!(
                "INSERT INTO auth_policy (",
                policy_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                p.id,
                p.policy_group_id,
                p.name,
                p.desc,
                p.policy_type,
                p.version,
                p.policies.to_string(),
                p.schema,
                p.is_active,
                format_ts(&p.valid_from),
                format_ts(&p.valid_to),
                p.cr_by,
                format_ts(&p.cr_dtimes),
                p.upd_by,
                ts_opt(&p.upd_dtimes)
            ],
        )?;
        Ok(())
    }

    async fn update_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError> {
        self.exec(
            "UPDATE auth_policy SET name = ?, descr = ?, version = ?, policies = ?, schema_url = ?, is_active = ?, \
             upd_by = ?, upd_dtimes = ? WHERE id = ?",
            params![
                p.name,
                p.desc,
                p.version,
                p.policies.to_string(),
                p.schema,
                p.is_active,
                p.upd_by,
                ts_opt(&p.upd_dtimes),
                p.id
            ],
        )?;
        Ok(())
    }

    async fn partner(&mut self, id: &str) -> Result<Option<Partner>, StoreError> {
        self.one(
            concat!("SELECT ", partner_cols!(), " FROM partner WHERE id = ?"),
            [id],
            partner_from,
        )
    }

    async fn partner_by_email(&mut self, email: &str) -> Result<Option<Partner>, StoreError> {
        self.one(
            concat!(
                "SELECT ",
                partner_cols!(),
                " FROM partner WHERE lower(email_id) = lower(?)"
            ),
            [email],
            partner_from,
        )
    }

    async fn partners_of_user(&mut self, user_id: &str) -> Result<Vec<Partner>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                partner_cols!(),
                " FROM partner WHERE user_id = ? ORDER BY id"
            ),
            [user_id],
            partner_from,
        )
    }

    async fn insert_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        self.exec(
            concat!(
                "INSERT INTO partner (",
                partner_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                p.id,
                p.name,
                p.address,
                p.contact_no,
                p.email_id,
                p.partner_type_code,
                p.policy_group_id,
                p.user_id,
                p.approval_status.as_str(),
                p.is_active,
                p.lang_code,
                p.cr_by,
                format_ts(&p.cr_dtimes),
                p.upd_by,
                ts_opt(&p.upd_dtimes)
            ],
        )?;
        Ok(())
    }

    async fn update_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        self.exec(
            "UPDATE partner SET name = ?, address = ?, contact_no = ?, email_id = ?, policy_group_id = ?, \
             approval_status = ?, is_active = ?, lang_code = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?",
            params![
                p.name,
                p.address,
                p.contact_no,
                p.email_id,
                p.policy_group_id,
                p.approval_status.as_str(),
                p.is_active,
                p.lang_code,
                p.upd_by,
                ts_opt(&p.upd_dtimes),
                p.id
            ],
        )?;
        Ok(())
    }

    async fn mapping(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError> {
        self.one(
            concat!(
                "SELECT ",
                mapping_cols!(),
                " FROM partner_policy_request WHERE id = ?"
            ),
            [id],
            mapping_from,
        )
    }

    async fn mapping_for_update(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError> {
        // Write transactions are BEGIN IMMEDIATE: the whole database is already ours.
        self.mapping(id).await
    }

    async fn mappings_of(
        &mut self,
        partner_id: &str,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                mapping_cols!(),
                " FROM partner_policy_request WHERE partner_id = ? AND policy_id = ? ORDER BY cr_dtimes, id"
            ),
            [partner_id, policy_id],
            mapping_from,
        )
    }

    async fn mappings_of_policy(
        &mut self,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError> {
        self.all(
            concat!(
                "SELECT ",
                mapping_cols!(),
                " FROM partner_policy_request WHERE policy_id = ? ORDER BY cr_dtimes, id"
            ),
            [policy_id],
            mapping_from,
        )
    }

    async fn list_mappings(
        &mut self,
        q: &ListQuery<MappingSortField, MappingFilter>,
    ) -> Result<Page<MappingSummary>, StoreError> {
        let mut cq = Sql::new("SELECT COUNT(*)");
        push_mapping_where(&mut cq, &q.filter);
        let total = self.count(&cq)?;
        let mut qb = Sql::new(
            "SELECT r.id, r.partner_id, pa.approval_status, pa.is_active, pa.name AS org_name, pa.partner_type_code, \
             p.policy_group_id, g.name AS group_name, g.descr AS group_desc, r.policy_id, p.name AS policy_name, \
             p.descr AS policy_desc, r.request_detail, r.status_code, r.cr_dtimes, r.upd_dtimes",
        );
        push_mapping_where(&mut qb, &q.filter);
        match q.sort {
            Some(s) => {
                let col = match s.field {
                    MappingSortField::PartnerId => "r.partner_id",
                    MappingSortField::PartnerType => "pa.partner_type_code",
                    MappingSortField::OrgName => "pa.name",
                    MappingSortField::PolicyId => "r.policy_id",
                    MappingSortField::PolicyGroupName => "g.name",
                    MappingSortField::PolicyName => "p.name",
                    MappingSortField::Status => "r.status_code",
                    MappingSortField::RequestDetail => "r.request_detail",
                    MappingSortField::CreatedDateTime => "r.cr_dtimes",
                };
                qb.push(&format!(" ORDER BY {col} {}, r.id ASC", dir_sql(s.dir)));
            }
            None => {
                qb.push(" ORDER BY r.cr_dtimes DESC, r.id ASC");
            }
        }
        push_page(&mut qb, q.page);
        let items = self.all_sql(&qb, summary_from)?;
        Ok(Page { items, total })
    }

    async fn insert_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError> {
        self.exec(
            concat!(
                "INSERT INTO partner_policy_request (",
                mapping_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                m.id,
                m.partner_id,
                m.policy_id,
                m.request_detail,
                m.status.as_str(),
                format_ts(&m.request_datetimes),
                m.cr_by,
                format_ts(&m.cr_dtimes),
                m.upd_by,
                ts_opt(&m.upd_dtimes)
            ],
        )?;
        Ok(())
    }

    async fn update_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError> {
        self.exec(
            "UPDATE partner_policy_request SET status_code = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?",
            params![m.status.as_str(), m.upd_by, ts_opt(&m.upd_dtimes), m.id],
        )?;
        Ok(())
    }

    async fn client(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError> {
        self.one(
            concat!("SELECT ", client_cols!(), " FROM oidc_client WHERE id = ?"),
            [id],
            client_from,
        )
    }

    async fn client_view(
        &mut self,
        id: &str,
        reader: Option<&str>,
    ) -> Result<Option<ClientView>, StoreError> {
        // One statement, one read transaction: the client row repeated once per outbox row
        // (usually none or two), the outbox columns from position CLIENT_VIEW_OUTBOX on. No
        // ORDER BY: it made SQLite copy every row, client columns and all, through a temporary
        // B-tree; the few outbox rows are put in id order here instead.
        let mut st = self
            .c()?
            .prepare_cached(concat!(
                "SELECT c.id, c.name, c.name_lang_map, c.rp_id, c.policy_id, c.logo_uri, c.redirect_uris, \
                 c.public_key, c.claims, c.acr_values, c.grant_types, c.client_auth_methods, c.status, \
                 c.cr_by, c.cr_dtimes, c.upd_by, c.upd_dtimes, c.version, p.name AS policy_name, \
                 CASE WHEN ?1 IS NULL THEN 0 \
                      WHEN EXISTS (SELECT 1 FROM partner INDEXED BY partner_user_id_idx \
                           WHERE id = c.rp_id AND user_id = ?1) THEN 2 \
                      WHEN EXISTS (SELECT 1 FROM partner WHERE user_id = ?1) THEN 1 ELSE 0 END \
                 AS ownership, \
                 o.* FROM oidc_client c LEFT JOIN auth_policy p ON p.id = c.policy_id \
                 LEFT JOIN (SELECT ",
                outbox_cols!(),
                " FROM outbox WHERE aggregate_type = 'CLIENT' AND aggregate_id = ?2) o ON 1 \
                 WHERE c.id = ?2"
            ))
            .map_err(|e| self.fail(e))?;
        let mut rows = st.query(params![reader, id]).map_err(|e| self.fail(e))?;
        let mut view: Option<ClientView> = None;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let v = match view.as_mut() {
                Some(v) => v,
                None => view.insert(rows::client_view_from(row)?),
            };
            if !rows::is_null(row, rows::CLIENT_VIEW_OUTBOX)? {
                v.deliveries
                    .push(rows::outbox_at(row, rows::CLIENT_VIEW_OUTBOX)?);
            }
        }
        if let Some(v) = view.as_mut() {
            v.deliveries.sort_unstable_by_key(|o| o.id);
        }
        Ok(view)
    }

    async fn check_rows_version(&mut self) -> Result<i64, StoreError> {
        // Migration 0006's triggers keep it.
        self.one("SELECT n FROM check_rows_version", [], |r| {
            rows::at(r, 0, "check_rows_version")
        })?
        .ok_or_else(|| StoreError::Corrupt("check_rows_version: no row".into()))
    }

    async fn client_create_view(
        &mut self,
        client_id: &str,
        reader: Option<&str>,
        partner_id: &str,
        policy_id: &str,
    ) -> Result<ClientCreateView, StoreError> {
        // One statement, so one snapshot: six answers and the check rows' version, then the
        // partner's columns and the policy's, NULL where there is no such row
        // (rows::client_create_view_from).
        self.one(
            concat!(
                "SELECT EXISTS (SELECT 1 FROM oidc_client WHERE id = ?1), \
                 (?2 IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE user_id = ?2)), \
                 (?2 IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE id = ?3 AND user_id = ?2)), \
                 EXISTS (SELECT 1 FROM partner_policy_request WHERE partner_id = ?3 AND policy_id = ?4), \
                 EXISTS (SELECT 1 FROM partner_policy_request WHERE partner_id = ?3 AND policy_id = ?4 \
                         AND status_code = 'approved'), \
                 coalesce(g.is_active, 0), (SELECT n FROM check_rows_version), p.*, ap.* \
                 FROM (SELECT 1) AS one \
                 LEFT JOIN (SELECT ",
                partner_cols!(),
                " FROM partner WHERE id = ?3) AS p ON 1 LEFT JOIN (SELECT ",
                policy_cols!(),
                " FROM auth_policy WHERE id = ?4) AS ap ON 1 \
                 LEFT JOIN policy_group g ON g.id = ap.policy_group_id"
            ),
            params![client_id, reader, partner_id, policy_id],
            rows::client_create_view_from,
        )?
        .ok_or_else(|| StoreError::Corrupt("client create view: no row".into()))
    }

    async fn client_for_update(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError> {
        // Write transactions are BEGIN IMMEDIATE: the whole database is already ours.
        self.client(id).await
    }

    async fn list_clients(
        &mut self,
        q: &ListQuery<ClientSortField, ClientFilter>,
    ) -> Result<Page<ClientSummary>, StoreError> {
        let filter = self.resolve_partner_filter(&q.filter)?;
        let mut cq = Sql::new("SELECT COUNT(*)");
        push_client_where(&mut cq, &filter, false);
        let total = self.count(&cq)?;
        let mut qb = Sql::new(
            "SELECT c.id, c.name, c.rp_id, c.status, c.cr_dtimes, c.upd_dtimes, pa.name AS org_name, \
             g.id AS group_id, g.name AS group_name, g.descr AS group_desc, p.name AS policy_name, \
             p.descr AS policy_desc",
        );
        push_client_where(&mut qb, &filter, true);
        match q.sort {
            Some(s) => {
                let col = match s.field {
                    ClientSortField::PartnerId => "c.rp_id",
                    ClientSortField::OrgName => "pa.name",
                    ClientSortField::PolicyGroupName => "g.name",
                    ClientSortField::PolicyName => "p.name",
                    ClientSortField::ClientId => "c.id",
                    ClientSortField::ClientName => "c.name",
                    ClientSortField::Status => "c.status",
                    ClientSortField::CreatedDateTime => "c.cr_dtimes",
                };
                qb.push(&format!(" ORDER BY {col} {}, c.id ASC", dir_sql(s.dir)));
            }
            None => {
                qb.push(" ORDER BY c.cr_dtimes DESC, c.id ASC");
            }
        }
        push_page(&mut qb, q.page);
        let items = self.all_sql(&qb, client_summary_from)?;
        Ok(Page { items, total })
    }

    async fn insert_client(&mut self, c: &OidcClient) -> Result<(), StoreError> {
        self.exec(
            concat!(
                "INSERT INTO oidc_client (",
                client_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                c.id,
                c.name,
                json_text(&c.name_lang_map),
                c.rp_id,
                c.policy_id,
                c.logo_uri,
                json_text(&c.redirect_uris),
                c.public_key,
                json_text(&c.claims),
                json_text(&c.acr_values),
                json_text(&c.grant_types),
                json_text(&c.client_auth_methods),
                c.status.as_str(),
                c.cr_by,
                format_ts(&c.cr_dtimes),
                c.upd_by,
                ts_opt(&c.upd_dtimes),
                c.version
            ],
        )?;
        Ok(())
    }

    async fn update_client(&mut self, c: &OidcClient) -> Result<(), StoreError> {
        // id, public key, partner, policy, claims and ACR values never change (§6.3).
        self.exec(
            "UPDATE oidc_client SET name = ?, name_lang_map = ?, logo_uri = ?, redirect_uris = ?, \
             grant_types = ?, client_auth_methods = ?, status = ?, upd_by = ?, upd_dtimes = ?, version = ? \
             WHERE id = ?",
            params![
                c.name,
                json_text(&c.name_lang_map),
                c.logo_uri,
                json_text(&c.redirect_uris),
                json_text(&c.grant_types),
                json_text(&c.client_auth_methods),
                c.status.as_str(),
                c.upd_by,
                ts_opt(&c.upd_dtimes),
                c.version,
                c.id
            ],
        )?;
        Ok(())
    }

    async fn append_audit(&mut self, a: &AuditRecord) -> Result<(), StoreError> {
        self.exec(
            concat!(
                "INSERT INTO audit_log (",
                audit_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                format_ts(&a.at),
                a.actor,
                a.action,
                a.entity_type,
                a.entity_id,
                a.before.as_ref().map(JsonText::as_str),
                a.after.as_ref().map(JsonText::as_str),
                a.correlation_id
            ],
        )?;
        Ok(())
    }

    async fn audit_of(
        &mut self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // A scan in id order: the log has no entity index (migration 0007 says why).
        self.all(
            concat!(
                "SELECT ",
                audit_cols!(),
                " FROM audit_log WHERE entity_type = ? AND entity_id = ? ORDER BY id"
            ),
            [entity_type, entity_id],
            audit_from,
        )
    }

    async fn insert_outbox(&mut self, row: &NewOutboxRow) -> Result<i64, StoreError> {
        let created = format_ts(&row.created_at);
        let mut st = self
            .c()?
            .prepare_cached(
                "INSERT INTO outbox (aggregate_type, aggregate_id, channel, operation, client_version, \
                 event, depends_on, state, attempts, next_attempt_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, ?, ?) RETURNING id",
            )
            .map_err(|e| self.fail(e))?;
        st.query_row(
            params![
                row.aggregate_type.as_str(),
                row.aggregate_id,
                row.channel.as_str(),
                row.operation,
                row.client_version,
                row.event.as_ref().map(ToString::to_string),
                row.depends_on,
                created,
                created
            ],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    async fn outbox_of(
        &mut self,
        aggregate_type: AggregateType,
        aggregate_ids: &[String],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        if aggregate_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(concat!(
            "SELECT ",
            outbox_cols!(),
            " FROM outbox WHERE aggregate_type = "
        ));
        q.bind(aggregate_type.as_str().to_string())
            .push(" AND aggregate_id IN ")
            .bind_list(aggregate_ids)
            .push(" ORDER BY id");
        self.all_sql(&q, outbox_from)
    }

    async fn claim_outbox(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        // Write transactions are BEGIN IMMEDIATE: no other writer runs between the select and
        // the update. Every predecessor a row waits for is open when selected, so one call
        // never takes two rows of one aggregate and channel, nor a row and its dependent.
        let now = format_ts(&now);
        let ids: Vec<i64> = self.all(CLAIM_SQL, params![now, now, i64::from(limit)], |r| {
            r.get(0)
                .map_err(|e| StoreError::Corrupt(format!("id: {e}")))
        })?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("UPDATE outbox SET state = 'IN_FLIGHT', lease_until = ");
        q.bind(format_ts(&lease_until)).push(" WHERE id IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*id);
        }
        q.push(concat!(") RETURNING ", outbox_cols!()));
        let mut rows = self.all_sql(&q, outbox_from)?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    async fn update_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError> {
        self.exec(
            "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, \
             lease_until = ?, delivered_at = ?, last_error = ? WHERE id = ?",
            params![
                row.state.as_str(),
                i64::from(row.attempts),
                ts_opt(&row.next_attempt_at),
                ts_opt(&row.last_attempt_at),
                ts_opt(&row.lease_until),
                ts_opt(&row.delivered_at),
                row.last_error,
                row.id
            ],
        )?;
        Ok(())
    }

    async fn supersede_esignet(
        &mut self,
        client_id: &str,
        version: i64,
        except_id: i64,
    ) -> Result<u64, StoreError> {
        let n = self.exec(
            "UPDATE outbox SET state = 'SUPERSEDED' WHERE aggregate_type = ? AND aggregate_id = ? \
             AND channel = ? AND state IN ('PENDING', 'FAILED') AND client_version <= ? AND id <> ?",
            params![
                AggregateType::Client.as_str(),
                client_id,
                Channel::Esignet.as_str(),
                version,
                except_id
            ],
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn restore_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError> {
        // An explicit id above the AUTOINCREMENT sequence moves the sequence on.
        self.exec(
            concat!(
                "INSERT INTO outbox (",
                outbox_cols!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                row.id,
                row.aggregate_type.as_str(),
                row.aggregate_id,
                row.channel.as_str(),
                row.operation,
                row.client_version,
                row.event.as_ref().map(ToString::to_string),
                row.depends_on,
                row.state.as_str(),
                i64::from(row.attempts),
                ts_opt(&row.next_attempt_at),
                ts_opt(&row.last_attempt_at),
                ts_opt(&row.lease_until),
                ts_opt(&row.delivered_at),
                format_ts(&row.created_at),
                row.last_error
            ],
        )?;
        Ok(())
    }

    async fn purge_outbox(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let n = self.exec(
            "DELETE FROM outbox WHERE state IN ('DELIVERED', 'SUPERSEDED') AND created_at < ?",
            [format_ts(&before)],
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn outbox_depth(&mut self) -> Result<Vec<(Channel, OutboxState, u64)>, StoreError> {
        let rows = self.all(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state",
            [],
            |r| {
                let get = |i: usize| -> Result<String, StoreError> {
                    r.get(i).map_err(|e| StoreError::Corrupt(e.to_string()))
                };
                let n: i64 = r.get(2).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((get(0)?, get(1)?, n))
            },
        )?;
        pms_domain::outbox::depth_report(rows)
    }

    async fn export(
        &mut self,
        table: Table,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ExportPage, StoreError> {
        let (cols, key) = match table {
            Table::PolicyGroup => (group_cols!(), "id"),
            Table::AuthPolicy => (policy_cols!(), "id"),
            Table::Partner => (partner_cols!(), "id"),
            Table::Mapping => (mapping_cols!(), "id"),
            Table::Client => (client_cols!(), "id"),
            Table::Audit => (audit_cols!(), "seq"),
            Table::Outbox => (outbox_cols!(), "seq"),
        };
        // Audit and outbox rows are keyed by their integer sequence, the others by text ids.
        let numeric = matches!(table, Table::Audit | Table::Outbox);
        let mut q = Sql::new(&format!(
            "SELECT {cols}, {} AS seq FROM {}",
            if numeric { "id" } else { "''" },
            table.name()
        ));
        if let Some(a) = after {
            if numeric {
                let n: i64 = a
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("{} position {a:?}", table.name())))?;
                q.push(" WHERE id > ").bind(n);
            } else {
                q.push(" WHERE id > ").bind(a.to_string());
            }
        }
        q.push(&format!(" ORDER BY {key} LIMIT "))
            .bind(i64::from(limit));
        let mut st = self.c()?.prepare(&q.text).map_err(|e| self.fail(e))?;
        let mut rows = st
            .query(params_from_iter(q.args.iter()))
            .map_err(|e| self.fail(e))?;
        let mut records = Vec::new();
        let mut last = None;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let (record, pos) = match table {
                Table::PolicyGroup => {
                    let g = group_from(row)?;
                    let id = g.id.clone();
                    (Record::PolicyGroup(g), id)
                }
                Table::AuthPolicy => {
                    let p = policy_from(row)?;
                    let id = p.id.clone();
                    (Record::AuthPolicy(p), id)
                }
                Table::Partner => {
                    let p = partner_from(row)?;
                    let id = p.id.clone();
                    (Record::Partner(p), id)
                }
                Table::Mapping => {
                    let m = mapping_from(row)?;
                    let id = m.id.clone();
                    (Record::Mapping(m), id)
                }
                Table::Client => {
                    let c = client_from(row)?;
                    let id = c.id.clone();
                    (Record::Client(Box::new(c)), id)
                }
                Table::Audit => {
                    let seq: i64 = row
                        .get("seq")
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    (Record::Audit(audit_from(row)?), seq.to_string())
                }
                Table::Outbox => {
                    let o = outbox_from(row)?;
                    let id = o.id.to_string();
                    (Record::Outbox(o), id)
                }
            };
            records.push(record);
            last = Some(pos);
        }
        Ok(ExportPage { records, last })
    }

    async fn count_rows(&mut self, table: Table) -> Result<u64, StoreError> {
        self.count(&Sql::new(&format!("SELECT COUNT(*) FROM {}", table.name())))
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        match *self {
            SqliteTx::Write(w) => w.commit().await,
            SqliteTx::Read(_) => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    async fn store(dir: &tempfile::TempDir) -> SqliteStore {
        let s = SqliteStore::connect(&SqliteSettings {
            url: format!("sqlite://{}", dir.path().join("pms.db").display()),
            max_connections: 2,
            connect_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
        s.migrate().await.unwrap();
        s
    }

    fn group(name: &str) -> PolicyGroup {
        PolicyGroup {
            id: format!("id-{name}"),
            name: name.to_string(),
            desc: "d".into(),
            is_active: true,
            user_id: "u".into(),
            cr_by: "u".into(),
            cr_dtimes: pms_domain::clock::parse_ts("2026-11-28T00:00:00.000Z").unwrap(),
            upd_by: None,
            upd_dtimes: None,
        }
    }

    async fn add(s: &SqliteStore, name: &str) -> Result<(), StoreError> {
        let mut w = s.write().await?;
        w.insert_policy_group(&group(name)).await?;
        w.commit().await
    }

    fn outage(r: &Result<(), StoreError>) -> Option<Outage> {
        match r {
            Err(StoreError::Unavailable { reason, .. }) => Some(*reason),
            _ => None,
        }
    }

    /// A read-only database. A running process's file cannot be made read-only under it (as
    /// root, permissions do not stop a write; a file system with a file open for writing
    /// cannot be remounted read-only), so the writer connection is switched by
    /// `PRAGMA query_only`: SQLite then refuses `BEGIN IMMEDIATE` with SQLITE_READONLY from the
    /// same opcode (`OP_Transaction`) that refuses it on a read-only file, and pms takes the same
    /// path from there. Reads go on; health is down through its write probe, and up again
    /// once writes are.
    #[tokio::test]
    async fn read_only_database_is_an_outage_and_health_follows_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir).await;
        add(&s, "before").await.unwrap();
        s.ping().await.unwrap();

        s.db.on_writer("PRAGMA query_only = ON").await;
        let r = add(&s, "refused").await;
        assert_eq!(outage(&r), Some(Outage::ReadOnly), "{r:?}");
        assert!(r
            .unwrap_err()
            .to_string()
            .starts_with("database is read-only"),);
        let mut rd = s.read().await.unwrap();
        assert!(rd.policy_group("id-before").await.unwrap().is_some());
        drop(rd);
        assert_eq!(outage(&s.ping().await), Some(Outage::ReadOnly));
        tokio::time::sleep(PROBE_EVERY + Duration::from_millis(100)).await;
        assert_eq!(outage(&s.ping().await), Some(Outage::ReadOnly), "probed");

        s.db.on_writer("PRAGMA query_only = OFF").await;
        assert!(
            s.ping().await.is_err(),
            "the last probe's answer, until the next"
        );
        tokio::time::sleep(PROBE_EVERY + Duration::from_millis(100)).await;
        s.ping().await.unwrap();
        add(&s, "after").await.unwrap();
        // The probe changed nothing: user_version is still what the migrations left.
        let v: i64 =
            s.db.reader()
                .unwrap()
                .conn()
                .unwrap()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
        assert_eq!(v, 0);
    }

    /// SQLITE_FULL raised by a statement (here from `max_page_count`, the page limit SQLite
    /// checks as it allocates; on a real disk the commit's WAL append meets ENOSPC, which the
    /// API suite provokes on a small tmpfs): the write fails as a disk-full outage and marks the
    /// store down, members of the same group hear it too, and the next write that commits marks
    /// it up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_out_of_space_marks_the_store_down_until_a_write_commits() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir).await;
        add(&s, "before").await.unwrap();
        let pages: i64 =
            s.db.reader()
                .unwrap()
                .conn()
                .unwrap()
                .query_row("PRAGMA page_count", [], |r| r.get(0))
                .unwrap();
        s.db.on_writer(&format!("PRAGMA max_page_count = {pages}"))
            .await;
        let mut refused = None;
        for i in 0..200 {
            let r = add(&s, &format!("group {i} {}", "x".repeat(500))).await;
            if r.is_err() {
                refused = Some(r);
                break;
            }
        }
        let r = refused.expect("the page limit was never reached");
        assert_eq!(outage(&r), Some(Outage::DiskFull), "{r:?}");
        assert!(matches!(
            s.db.health().down(),
            Some(StoreError::Unavailable {
                reason: Outage::DiskFull,
                ..
            })
        ));
        s.db.on_writer("PRAGMA max_page_count = 1073741823").await;
        add(&s, "after").await.unwrap();
        assert!(s.db.health().down().is_none());
        s.ping().await.unwrap();
    }
}
