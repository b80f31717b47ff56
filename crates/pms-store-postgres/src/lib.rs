//! The [`Store`] for PostgreSQL: pool set-up, embedded migrations, and every query of the [`Tx`]
//! trait, answering exactly as the SQLite store does (the same conformance and API suites run
//! on both).
//!
//! # Writers are serialised, as in SQLite
//!
//! The domain runs its ordered checks (does the name exist? is a request pending?) and then
//! writes, inside one write transaction, and relies on no other writer changing the answer in
//! between. SQLite gives that with `BEGIN IMMEDIATE`: one writer at a time. Here every write
//! transaction starts by taking one transaction-scoped advisory lock,
//! `pg_advisory_xact_lock(`[`WRITE_LOCK_KEY`]`)`, which PostgreSQL releases at commit or
//! rollback. Because the lock lives in the database, writers are serialised across *all* pms
//! nodes sharing it, and each write transaction (READ COMMITTED) reads everything committed
//! before it got the lock. The semantics are therefore identical to SQLite's; the cost is the
//! same too: one writer at a time per database (readers never wait, they read a snapshot).
//! Waiting for the lock is bounded by `lock_timeout` ([`WRITE_LOCK_TIMEOUT`], as SQLite's busy
//! timeout), after which the write fails as [`StoreError::Unavailable`] ([`Outage::Busy`]).
//!
//! Read transactions are `REPEATABLE READ READ ONLY`: one consistent snapshot. The
//! `*_for_update` reads add `FOR UPDATE`, which under the write lock never waits, but keeps a
//! row lock should the lock ever be narrowed.
//!
//! # Same answers as SQLite
//!
//! * Text columns are declared `COLLATE "C"` and every `ORDER BY` on text and the keyset
//!   comparison of [`Tx::export`] say `COLLATE "C"` as well: byte order, like SQLite's BINARY
//!   collation, whatever the database's default collation is (NULLs placed first ascending and
//!   last descending, as SQLite places them).
//! * `lower()` under `"C"` folds ASCII letters only, as SQLite's built-in `lower()`: the
//!   case-insensitive e-mail key and the "contains, ignoring case" filters
//!   (`strpos(lower(col), needle) > 0`, no `LIKE`, so `%` and `_` are literal) match the same
//!   rows on both backends.
//! * Timestamps are `TIMESTAMPTZ(3)`, bound already truncated to the millisecond (as the wire
//!   format SQLite stores truncates), so they round-trip exactly.
//! * JSON documents are `TEXT`, never `jsonb`, so member order is kept.
//! * Unique violations map to [`Constraint`]s by constraint/index name, in one place
//!   (`on_constraint`); every key and unique index has an explicit name in the migrations.
//! * Outbox ids come from an identity column; under the write lock they increase in commit
//!   order, as SQLite's AUTOINCREMENT ids do. `restore_outbox` inserts explicit ids and moves the
//!   sequence above them. `claim_outbox` selects `FOR UPDATE SKIP LOCKED` (redundant under the
//!   write lock, kept should the lock ever be narrowed) with the same eligibility SQL as SQLite.
#![forbid(unsafe_code)]

mod rows;

use async_trait::async_trait;
use pms_domain::clock::truncate_to_millis;
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
    Tx, Writability,
};
use pms_domain::Timestamp;
use rows::{
    audit_from, client_from, client_summary_from, group_from, mapping_from, outbox_from,
    partner_from, policy_from, policy_summary_from, summary_from,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The advisory-lock key every write transaction takes (the ASCII bytes of `pmswrite` as a
/// big-endian `i64`). Any process using the same key on the same database waits for pms's
/// writers and they for it.
pub const WRITE_LOCK_KEY: i64 = 0x706d_7377_7269_7465;

/// How long a write transaction waits for [`WRITE_LOCK_KEY`] (and any row lock) before failing,
/// as SQLite's busy timeout.
pub const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection settings taken from the service configuration. `Debug` hides the password.
#[derive(Clone)]
pub struct PgSettings {
    /// `postgres://user:password@host:port/database?...`
    pub url: String,
    pub max_connections: u32,
    /// Bounds connecting at start-up and every later wait for a pooled connection.
    pub connect_timeout: Duration,
}

impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// The URL with the password (in the user info or a `password=` parameter) replaced by `***`.
fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    match main.split_once("://") {
        Some((scheme, rest)) => {
            let auth_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(auth_end);
            out.push_str(scheme);
            out.push_str("://");
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _)) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(main),
    }
    if let Some(q) = query {
        out.push('?');
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    out
}

/// A pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    health: Arc<Writability>,
    /// When the last write probe ran (see [`PgStore::probe`]); held while one runs.
    probed: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

/// A store marked down probes whether it can write again at most this often (health calls in
/// between answer what the last probe found).
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl PgStore {
    /// Connects to the database at `settings.url`, eagerly: an unreachable or refusing server
    /// fails within `settings.connect_timeout` with a one-line reason (which names host, port
    /// and database, never the password).
    pub async fn connect(settings: &PgSettings) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| StoreError::failed(one_line(&format!("invalid PostgreSQL URL: {e}"))))?;
        if options.get_application_name().is_none() {
            options = options.application_name("pms");
        }
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            // Bounds both this first connection (retries included) and every later acquire.
            .acquire_timeout(settings.connect_timeout)
            .connect_with(options)
            .await
            .map_err(|e| match e {
                sqlx::Error::PoolTimedOut => StoreError::unavailable(
                    Outage::Unreachable,
                    format!(
                        "no connection to {target} within {:?}",
                        settings.connect_timeout
                    ),
                ),
                e => classify(e, false).context(&target),
            })?;
        Ok(Self {
            pool,
            health: Arc::default(),
            probed: Arc::default(),
        })
    }

    /// While the store is marked down (`down`): whether it can write again, probed at most
    /// once per [`PROBE_EVERY`]. The probe writes nothing: a write transaction as every write
    /// begins one, and a `DELETE` that matches no row of the audit log (a table without
    /// triggers), which a standby or a read-only session refuses all the same (SQLSTATE
    /// 25006), then a rollback. A full data disk it cannot see: the next write that needs
    /// space finds it again.
    async fn probe(&self, down: StoreError) -> Result<(), StoreError> {
        let Ok(mut last) = self.probed.try_lock() else {
            return Err(down);
        };
        if last.is_some_and(|t| t.elapsed() < PROBE_EVERY) {
            return Err(down);
        }
        *last = Some(Instant::now());
        let outcome = async {
            let mut tx = self
                .pool
                .begin_with(WRITE_BEGIN_SQL)
                .await
                .map_err(|e| classify(e, true))?;
            sqlx::query("DELETE FROM audit_log WHERE false")
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, true))?;
            tx.rollback().await.map_err(|e| classify(e, true))
        }
        .await;
        if let Err(e) = &outcome {
            tracing::debug!(error = %e, "store still down");
        }
        self.health.record(&outcome);
        match self.health.down() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The one place where PostgreSQL's errors are sorted: what says the database cannot serve now
/// is an [`Outage`], anything else a fault. `in_write`: whether the statement ran in a write
/// transaction; in a read transaction (`READ ONLY`, pms's own choice) a refused write is a
/// fault of pms, not a read-only database.
fn classify(e: sqlx::Error, in_write: bool) -> StoreError {
    use sqlx::Error as E;
    let reason = match &e {
        // The connection failed or was lost, or none came within the acquire timeout (a
        // server that refuses connections is retried until then).
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            Some(Outage::Unreachable)
        }
        E::Database(db) => db.code().and_then(|c| sqlstate_outage(&c, in_write)),
        _ => None,
    };
    if let (Some(Outage::Busy), E::Database(db)) = (reason, &e) {
        return StoreError::unavailable(
            Outage::Busy,
            format!(
                "no write lock within {WRITE_LOCK_TIMEOUT:?}: {}",
                one_line(db.message())
            ),
        );
    }
    match reason {
        Some(reason) => StoreError::unavailable(reason, one_line(&e.to_string())),
        None => StoreError::failed(one_line(&e.to_string())),
    }
}

/// The SQLSTATEs of an outage.
fn sqlstate_outage(code: &str, in_write: bool) -> Option<Outage> {
    match code {
        // disk_full
        "53100" => Some(Outage::DiskFull),
        // read_only_sql_transaction: a standby, or `default_transaction_read_only`
        "25006" if in_write => Some(Outage::ReadOnly),
        // lock_not_available: the write lock (or a row lock) was not granted in time
        "55P03" => Some(Outage::Busy),
        // admin_shutdown, crash_shutdown, cannot_connect_now (starting, stopping, recovering),
        // io_error
        "57P01" | "57P02" | "57P03" | "58030" => Some(Outage::Unreachable),
        // connection exceptions; insufficient resources (out of memory, too many connections)
        c if c.starts_with("08") || c.starts_with("53") => Some(Outage::Unreachable),
        _ => None,
    }
}

/// The one place where PostgreSQL's unique violations (SQLSTATE 23505) become domain
/// constraints, by the constraint or index name the migrations give. The keys SQLite does not
/// map (policy group and mapping ids) are not mapped here either.
fn on_constraint(e: sqlx::Error, in_write: bool) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some("23505") {
            let c = match db.constraint() {
                Some("policy_group_name_key") => Some(Constraint::PolicyGroupName),
                Some("auth_policy_pkey") => Some(Constraint::PolicyId),
                Some("auth_policy_group_name_key") => Some(Constraint::PolicyNameInGroup),
                Some("partner_pkey") => Some(Constraint::PartnerId),
                Some("partner_email_ci_key") => Some(Constraint::PartnerEmail),
                Some("partner_policy_request_live_key") => Some(Constraint::LiveMapping),
                Some("oidc_client_pkey") => Some(Constraint::ClientId),
                _ => None,
            };
            if let Some(c) = c {
                return StoreError::Conflict(c);
            }
        }
    }
    classify(e, in_write)
}

/// How every write transaction begins (one round trip): the lock wait bound for this
/// transaction only, so that migrations and readers never inherit it.
const WRITE_BEGIN_SQL: &str =
    "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '10s'";

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        // sqlx holds a session advisory lock while migrating: nodes starting together apply
        // each migration once.
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::failed(one_line(&format!("migration failed: {e}"))))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e, false))?;
        match self.health.down() {
            None => Ok(()),
            Some(down) => self.probe(down).await,
        }
    }

    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(|e| classify(e, false))?;
        Ok(Box::new(PgTx { tx, health: None }))
    }

    /// A failure is recorded in the store's [`Writability`], as are the outcomes of the
    /// transaction's statements and commit.
    async fn write(&self) -> Result<Box<dyn Tx>, StoreError> {
        let begun = async {
            let mut tx = self
                .pool
                .begin_with(WRITE_BEGIN_SQL)
                .await
                .map_err(|e| classify(e, true))?;
            // Serialises this transaction against every other writer on the database; released
            // by PostgreSQL at commit or rollback (see the crate docs).
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK_KEY)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, true))?;
            Ok(tx)
        }
        .await;
        if let Err(e) = &begun {
            self.health.failed(e);
        }
        Ok(Box::new(PgTx {
            tx: begun?,
            health: Some(self.health.clone()),
        }))
    }
}

struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// The store's writability, in a write transaction.
    health: Option<Arc<Writability>>,
}

const GROUP_COLS: &str =
    "id, name, descr, is_active, user_id, cr_by, cr_dtimes, upd_by, upd_dtimes";
const POLICY_COLS: &str = "id, policy_group_id, name, descr, policy_type, version, policies, schema_url, is_active, valid_from, valid_to, cr_by, cr_dtimes, upd_by, upd_dtimes";
const PARTNER_COLS: &str = "id, name, address, contact_no, email_id, partner_type_code, policy_group_id, user_id, approval_status, is_active, lang_code, cr_by, cr_dtimes, upd_by, upd_dtimes";
const MAPPING_COLS: &str = "id, partner_id, policy_id, request_detail, status_code, request_datetimes, cr_by, cr_dtimes, upd_by, upd_dtimes";
const AUDIT_COLS: &str = "at, actor, action, entity_type, entity_id, before, after, correlation_id";
const CLIENT_COLS: &str = "id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris, public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes, upd_by, upd_dtimes, version";
const OUTBOX_COLS: &str = "id, aggregate_type, aggregate_id, channel, operation, client_version, event, depends_on, state, attempts, next_attempt_at, last_attempt_at, lease_until, delivered_at, created_at, last_error";

/// The policy list's derived status, a sort key like SQLite's.
const POLICY_STATUS_SQL: &str = "(CASE WHEN p.schema_url IS NULL THEN 'draft' WHEN p.is_active THEN 'activated' ELSE 'deactivated' END)";

/// Lists and maps are stored as JSON text.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The stored instant: milliseconds, truncated like the wire format SQLite stores.
fn ts(t: &Timestamp) -> Timestamp {
    truncate_to_millis(*t)
}

fn ts_opt(t: &Option<Timestamp>) -> Option<Timestamp> {
    t.as_ref().map(ts)
}

fn first<T>(v: Vec<T>) -> Option<T> {
    v.into_iter().next()
}

impl PgTx {
    /// A statement's error, classified; in a write, recorded in the store's writability.
    fn fail(&self, e: sqlx::Error) -> StoreError {
        self.noted(classify(e, self.health.is_some()))
    }

    /// A change's error: a unique violation becomes its [`Constraint`], anything else as
    /// [`PgTx::fail`].
    fn conflict(&self, e: sqlx::Error) -> StoreError {
        self.noted(on_constraint(e, self.health.is_some()))
    }

    fn noted(&self, e: StoreError) -> StoreError {
        if let Some(h) = &self.health {
            h.failed(&e);
        }
        e
    }

    /// Runs `sql` with text arguments `$1..` and converts every row.
    async fn fetch<T>(
        &mut self,
        sql: &str,
        args: &[&str],
        convert: fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(a.to_string());
        }
        q.fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?
            .iter()
            .map(convert)
            .collect()
    }
}

/// ` ORDER BY <col> <dir>, <tiebreak> ASC` with SQLite's semantics: text compared byte-wise,
/// NULLs first ascending and last descending.
fn push_order(qb: &mut QueryBuilder<'_, Postgres>, col: &str, text: bool, dir: SortDir, id: &str) {
    let collate = if text { " COLLATE \"C\"" } else { "" };
    let dir = match dir {
        SortDir::Asc => "ASC NULLS FIRST",
        SortDir::Desc => "DESC NULLS LAST",
    };
    qb.push(format!(
        " ORDER BY {col}{collate} {dir}, {id} COLLATE \"C\" ASC"
    ));
}

/// Appends `AND strpos(lower(col), needle) > 0`: a literal substring match ignoring ASCII case
/// (no LIKE, so `%` and `_` are plain characters), as SQLite's `instr(lower(col), ?)`. Needles
/// arrive lower-cased.
fn push_contains(qb: &mut QueryBuilder<'_, Postgres>, col: &str, needle: &Option<String>) {
    if let Some(n) = needle {
        qb.push(format!(" AND strpos(lower({col} COLLATE \"C\"), "));
        qb.push_bind(n.clone());
        qb.push(") > 0");
    }
}

/// Appends `AND col = ANY(ids)`; an empty list matches nothing.
fn push_owned(qb: &mut QueryBuilder<'_, Postgres>, col: &str, owned: &Option<Vec<String>>) {
    if let Some(ids) = owned {
        qb.push(format!(" AND {col} = ANY("));
        qb.push_bind(ids.clone());
        qb.push(")");
    }
}

fn push_policy_where(qb: &mut QueryBuilder<'_, Postgres>, f: &PolicyFilter) {
    qb.push(" FROM auth_policy p JOIN policy_group g ON g.id = p.policy_group_id WHERE 1 = 1");
    push_contains(qb, "p.policy_type", &f.policy_type);
    push_contains(qb, "p.id", &f.policy_id);
    push_contains(qb, "p.name", &f.policy_name);
    push_contains(qb, "p.descr", &f.policy_description);
    push_contains(qb, "g.name", &f.policy_group_name);
    match f.status {
        Some(PolicyState::Draft) => qb.push(" AND p.schema_url IS NULL"),
        Some(PolicyState::Activated) => qb.push(" AND p.schema_url IS NOT NULL AND p.is_active"),
        Some(PolicyState::Deactivated) => {
            qb.push(" AND p.schema_url IS NOT NULL AND NOT p.is_active")
        }
        None => qb,
    };
}

fn push_mapping_where(qb: &mut QueryBuilder<'_, Postgres>, f: &MappingFilter) {
    qb.push(
        " FROM partner_policy_request r JOIN partner pa ON pa.id = r.partner_id \
         JOIN auth_policy p ON p.id = r.policy_id LEFT JOIN policy_group g ON g.id = p.policy_group_id \
         WHERE 1 = 1",
    );
    push_owned(qb, "r.partner_id", &f.owned_by);
    push_contains(qb, "r.partner_id", &f.partner_id);
    push_contains(qb, "r.request_detail", &f.partner_comment);
    push_contains(qb, "pa.name", &f.org_name);
    push_contains(qb, "r.policy_id", &f.policy_id);
    push_contains(qb, "p.name", &f.policy_name);
    push_contains(qb, "g.name", &f.policy_group_name);
    push_contains(qb, "pa.partner_type_code", &f.partner_type);
    if let Some(s) = f.status {
        qb.push(" AND r.status_code = ");
        qb.push_bind(s.as_str());
    }
}

/// `all_joins`: the row query needs every joined column; a count joins only what the filters
/// read (the joins are on unique keys, so they never change the number of rows).
fn push_client_where(qb: &mut QueryBuilder<'_, Postgres>, f: &ClientFilter, all_joins: bool) {
    let group = all_joins || f.policy_group_name.is_some();
    let partner = group || f.org_name.is_some();
    let policy = all_joins || f.policy_name.is_some();
    qb.push(" FROM oidc_client c");
    if partner {
        qb.push(" LEFT JOIN partner pa ON pa.id = c.rp_id");
    }
    if group {
        qb.push(" LEFT JOIN policy_group g ON g.id = pa.policy_group_id");
    }
    if policy {
        qb.push(" LEFT JOIN auth_policy p ON p.id = c.policy_id");
    }
    qb.push(" WHERE 1 = 1");
    push_owned(qb, "c.rp_id", &f.owned_by);
    push_contains(qb, "c.rp_id", &f.partner_id);
    push_contains(qb, "pa.name", &f.org_name);
    push_contains(qb, "g.name", &f.policy_group_name);
    push_contains(qb, "p.name", &f.policy_name);
    push_contains(qb, "c.name", &f.client_name);
    if let Some(s) = &f.status {
        qb.push(" AND c.status = ");
        qb.push_bind(s.clone());
    }
}

fn push_page(qb: &mut QueryBuilder<'_, Postgres>, page: Option<pms_domain::list::PageReq>) {
    if let Some(p) = page {
        qb.push(" LIMIT ");
        qb.push_bind(i64::from(p.page_size));
        qb.push(" OFFSET ");
        qb.push_bind(i64::try_from(p.offset()).unwrap_or(i64::MAX));
    }
}

async fn count(
    qb: &mut QueryBuilder<'_, Postgres>,
    tx: &mut Transaction<'static, Postgres>,
) -> Result<u64, sqlx::Error> {
    let n: i64 = qb.build_query_scalar().fetch_one(&mut **tx).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The ids of the rows `claim_outbox` may take (downstream.md §5.3), oldest first, locked;
/// binds `now`, `limit`. The same rules as the SQLite store's: `state IN (...)` spelled as in
/// the partial indexes; a due row without `next_attempt_at`, or an `IN_FLIGHT` row without a
/// lease, counts as due; a dependency that no longer exists (purged) counts as delivered.
const CLAIM_SQL: &str = "SELECT o.id FROM outbox o \
     WHERE o.state IN ('PENDING', 'IN_FLIGHT', 'FAILED') \
     AND ((o.state = 'PENDING' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $1)) \
       OR (o.state = 'IN_FLIGHT' AND (o.lease_until IS NULL OR o.lease_until < $1))) \
     AND NOT EXISTS (SELECT 1 FROM outbox e \
       WHERE e.aggregate_type = o.aggregate_type AND e.aggregate_id = o.aggregate_id \
       AND e.channel = o.channel AND e.id < o.id \
       AND e.state IN ('PENDING', 'IN_FLIGHT', 'FAILED')) \
     AND (o.depends_on IS NULL OR NOT EXISTS (SELECT 1 FROM outbox d \
       WHERE d.id = o.depends_on AND d.state NOT IN ('DELIVERED', 'SUPERSEDED'))) \
     ORDER BY o.id LIMIT $2 \
     FOR UPDATE OF o SKIP LOCKED";

/// `attempts` as the INTEGER column holds it.
fn attempts(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[async_trait]
impl Tx for PgTx {
    async fn policy_group(&mut self, id: &str) -> Result<Option<PolicyGroup>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM policy_group WHERE id = $1");
        Ok(first(self.fetch(&sql, &[id], group_from).await?))
    }

    async fn policy_group_by_name(
        &mut self,
        name: &str,
    ) -> Result<Option<PolicyGroup>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM policy_group WHERE name = $1");
        Ok(first(self.fetch(&sql, &[name], group_from).await?))
    }

    async fn policy_groups(&mut self) -> Result<Vec<PolicyGroup>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLS} FROM policy_group ORDER BY name COLLATE \"C\", id COLLATE \"C\""
        );
        self.fetch(&sql, &[], group_from).await
    }

    async fn insert_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO policy_group ({GROUP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&g.id)
        .bind(&g.name)
        .bind(&g.desc)
        .bind(g.is_active)
        .bind(&g.user_id)
        .bind(&g.cr_by)
        .bind(ts(&g.cr_dtimes))
        .bind(&g.upd_by)
        .bind(ts_opt(&g.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn update_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE policy_group SET name = $1, descr = $2, is_active = $3, user_id = $4, upd_by = $5, \
             upd_dtimes = $6 WHERE id = $7",
        )
        .bind(&g.name)
        .bind(&g.desc)
        .bind(g.is_active)
        .bind(&g.user_id)
        .bind(&g.upd_by)
        .bind(ts_opt(&g.upd_dtimes))
        .bind(&g.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn policy(&mut self, id: &str) -> Result<Option<AuthPolicy>, StoreError> {
        let sql = format!("SELECT {POLICY_COLS} FROM auth_policy WHERE id = $1");
        Ok(first(self.fetch(&sql, &[id], policy_from).await?))
    }

    async fn policies(&mut self) -> Result<Vec<AuthPolicy>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM auth_policy ORDER BY cr_dtimes, id COLLATE \"C\"");
        self.fetch(&sql, &[], policy_from).await
    }

    async fn policies_in_group(&mut self, group_id: &str) -> Result<Vec<AuthPolicy>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM auth_policy WHERE policy_group_id = $1 \
             ORDER BY cr_dtimes, id COLLATE \"C\""
        );
        self.fetch(&sql, &[group_id], policy_from).await
    }

    async fn policy_by_name_in_group(
        &mut self,
        group_id: &str,
        name: &str,
    ) -> Result<Option<AuthPolicy>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM auth_policy WHERE policy_group_id = $1 AND name = $2"
        );
        Ok(first(
            self.fetch(&sql, &[group_id, name], policy_from).await?,
        ))
    }

    async fn policies_named(&mut self, name: &str) -> Result<Vec<AuthPolicy>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM auth_policy WHERE name = $1 ORDER BY cr_dtimes, id COLLATE \"C\""
        );
        self.fetch(&sql, &[name], policy_from).await
    }

    async fn list_policies(
        &mut self,
        q: &ListQuery<PolicySortField, PolicyFilter>,
    ) -> Result<Page<PolicySummary>, StoreError> {
        let mut cq = QueryBuilder::new("SELECT COUNT(*)");
        push_policy_where(&mut cq, &q.filter);
        let total = count(&mut cq, &mut self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let mut qb = QueryBuilder::new(
            "SELECT p.id, p.name, p.descr, p.policy_group_id, g.name AS group_name, p.schema_url, \
             p.is_active, p.cr_dtimes",
        );
        push_policy_where(&mut qb, &q.filter);
        match q.sort {
            Some(s) => {
                let (col, text) = match s.field {
                    PolicySortField::PolicyId => ("p.id", true),
                    PolicySortField::PolicyName => ("p.name", true),
                    PolicySortField::PolicyDescription => ("p.descr", true),
                    PolicySortField::PolicyGroupId => ("p.policy_group_id", true),
                    PolicySortField::PolicyGroupName => ("g.name", true),
                    PolicySortField::Status => (POLICY_STATUS_SQL, true),
                    PolicySortField::CreatedDateTime => ("p.cr_dtimes", false),
                };
                push_order(&mut qb, col, text, s.dir, "p.id");
            }
            None => {
                qb.push(" ORDER BY p.cr_dtimes DESC, p.id COLLATE \"C\" ASC");
            }
        }
        push_page(&mut qb, q.page);
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let items = rows
            .iter()
            .map(policy_summary_from)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    async fn insert_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO auth_policy ({POLICY_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&p.id)
        .bind(&p.policy_group_id)
        .bind(&p.name)
        .bind(&p.desc)
        .bind(&p.policy_type)
        .bind(&p.version)
        .bind(p.policies.to_string())
        .bind(&p.schema)
        .bind(p.is_active)
        .bind(ts(&p.valid_from))
        .bind(ts(&p.valid_to))
        .bind(&p.cr_by)
        .bind(ts(&p.cr_dtimes))
        .bind(&p.upd_by)
        .bind(ts_opt(&p.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn update_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE auth_policy SET name = $1, descr = $2, version = $3, policies = $4, schema_url = $5, \
             is_active = $6, upd_by = $7, upd_dtimes = $8 WHERE id = $9",
        )
        .bind(&p.name)
        .bind(&p.desc)
        .bind(&p.version)
        .bind(p.policies.to_string())
        .bind(&p.schema)
        .bind(p.is_active)
        .bind(&p.upd_by)
        .bind(ts_opt(&p.upd_dtimes))
        .bind(&p.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn partner(&mut self, id: &str) -> Result<Option<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLS} FROM partner WHERE id = $1");
        Ok(first(self.fetch(&sql, &[id], partner_from).await?))
    }

    async fn partner_by_email(&mut self, email: &str) -> Result<Option<Partner>, StoreError> {
        // The expression of partner_email_ci_key, so the index serves it.
        let sql = format!(
            "SELECT {PARTNER_COLS} FROM partner \
             WHERE lower(email_id COLLATE \"C\") = lower($1::text COLLATE \"C\")"
        );
        Ok(first(self.fetch(&sql, &[email], partner_from).await?))
    }

    async fn partners_of_user(&mut self, user_id: &str) -> Result<Vec<Partner>, StoreError> {
        let sql = format!(
            "SELECT {PARTNER_COLS} FROM partner WHERE user_id = $1 ORDER BY id COLLATE \"C\""
        );
        self.fetch(&sql, &[user_id], partner_from).await
    }

    async fn insert_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO partner ({PARTNER_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.address)
        .bind(&p.contact_no)
        .bind(&p.email_id)
        .bind(&p.partner_type_code)
        .bind(&p.policy_group_id)
        .bind(&p.user_id)
        .bind(p.approval_status.as_str())
        .bind(p.is_active)
        .bind(&p.lang_code)
        .bind(&p.cr_by)
        .bind(ts(&p.cr_dtimes))
        .bind(&p.upd_by)
        .bind(ts_opt(&p.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn update_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE partner SET name = $1, address = $2, contact_no = $3, email_id = $4, \
             policy_group_id = $5, approval_status = $6, is_active = $7, lang_code = $8, upd_by = $9, \
             upd_dtimes = $10 WHERE id = $11",
        )
        .bind(&p.name)
        .bind(&p.address)
        .bind(&p.contact_no)
        .bind(&p.email_id)
        .bind(&p.policy_group_id)
        .bind(p.approval_status.as_str())
        .bind(p.is_active)
        .bind(&p.lang_code)
        .bind(&p.upd_by)
        .bind(ts_opt(&p.upd_dtimes))
        .bind(&p.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn mapping(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError> {
        let sql = format!("SELECT {MAPPING_COLS} FROM partner_policy_request WHERE id = $1");
        Ok(first(self.fetch(&sql, &[id], mapping_from).await?))
    }

    async fn mapping_for_update(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError> {
        let sql =
            format!("SELECT {MAPPING_COLS} FROM partner_policy_request WHERE id = $1 FOR UPDATE");
        Ok(first(self.fetch(&sql, &[id], mapping_from).await?))
    }

    async fn mappings_of(
        &mut self,
        partner_id: &str,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError> {
        let sql = format!(
            "SELECT {MAPPING_COLS} FROM partner_policy_request WHERE partner_id = $1 AND policy_id = $2 \
             ORDER BY cr_dtimes, id COLLATE \"C\""
        );
        self.fetch(&sql, &[partner_id, policy_id], mapping_from)
            .await
    }

    async fn mappings_of_policy(
        &mut self,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError> {
        let sql = format!(
            "SELECT {MAPPING_COLS} FROM partner_policy_request WHERE policy_id = $1 \
             ORDER BY cr_dtimes, id COLLATE \"C\""
        );
        self.fetch(&sql, &[policy_id], mapping_from).await
    }

    async fn list_mappings(
        &mut self,
        q: &ListQuery<MappingSortField, MappingFilter>,
    ) -> Result<Page<MappingSummary>, StoreError> {
        let mut cq = QueryBuilder::new("SELECT COUNT(*)");
        push_mapping_where(&mut cq, &q.filter);
        let total = count(&mut cq, &mut self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let mut qb = QueryBuilder::new(
            "SELECT r.id, r.partner_id, pa.approval_status, pa.is_active, pa.name AS org_name, pa.partner_type_code, \
             p.policy_group_id, g.name AS group_name, g.descr AS group_desc, r.policy_id, p.name AS policy_name, \
             p.descr AS policy_desc, r.request_detail, r.status_code, r.cr_dtimes, r.upd_dtimes",
        );
        push_mapping_where(&mut qb, &q.filter);
        match q.sort {
            Some(s) => {
                let (col, text) = match s.field {
                    MappingSortField::PartnerId => ("r.partner_id", true),
                    MappingSortField::PartnerType => ("pa.partner_type_code", true),
                    MappingSortField::OrgName => ("pa.name", true),
                    MappingSortField::PolicyId => ("r.policy_id", true),
                    MappingSortField::PolicyGroupName => ("g.name", true),
                    MappingSortField::PolicyName => ("p.name", true),
                    MappingSortField::Status => ("r.status_code", true),
                    MappingSortField::RequestDetail => ("r.request_detail", true),
                    MappingSortField::CreatedDateTime => ("r.cr_dtimes", false),
                };
                push_order(&mut qb, col, text, s.dir, "r.id");
            }
            None => {
                qb.push(" ORDER BY r.cr_dtimes DESC, r.id COLLATE \"C\" ASC");
            }
        }
        push_page(&mut qb, q.page);
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let items = rows.iter().map(summary_from).collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    async fn insert_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO partner_policy_request ({MAPPING_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&m.id)
        .bind(&m.partner_id)
        .bind(&m.policy_id)
        .bind(&m.request_detail)
        .bind(m.status.as_str())
        .bind(ts(&m.request_datetimes))
        .bind(&m.cr_by)
        .bind(ts(&m.cr_dtimes))
        .bind(&m.upd_by)
        .bind(ts_opt(&m.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn update_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE partner_policy_request SET status_code = $1, upd_by = $2, upd_dtimes = $3 WHERE id = $4",
        )
        .bind(m.status.as_str())
        .bind(&m.upd_by)
        .bind(ts_opt(&m.upd_dtimes))
        .bind(&m.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn client(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLS} FROM oidc_client WHERE id = $1");
        Ok(first(self.fetch(&sql, &[id], client_from).await?))
    }

    async fn client_view(
        &mut self,
        id: &str,
        reader: Option<&str>,
    ) -> Result<Option<ClientView>, StoreError> {
        let cols: Vec<String> = CLIENT_COLS.split(", ").map(|c| format!("c.{c}")).collect();
        let sql = format!(
            "SELECT {}, p.name AS policy_name, \
             ($1::text IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE user_id = $1)) AS owns_any, \
             ($1::text IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE id = c.rp_id AND user_id = $1)) AS owns_rp \
             FROM oidc_client c LEFT JOIN auth_policy p ON p.id = c.policy_id WHERE c.id = $2",
            cols.join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(reader.map(str::to_string))
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let Some(row) = row else { return Ok(None) };
        let get_bool = |col: &str| -> Result<bool, StoreError> {
            row.try_get(col)
                .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        };
        let client = client_from(&row)?;
        let policy_name = row
            .try_get("policy_name")
            .map_err(|e| StoreError::Corrupt(format!("policy_name: {e}")))?;
        let reader_owns_any = get_bool("owns_any")?;
        let reader_owns_partner = get_bool("owns_rp")?;
        // A second statement in the same snapshot (read transactions are REPEATABLE READ).
        let deliveries = self
            .outbox_of(AggregateType::Client, std::slice::from_ref(&client.id))
            .await?;
        Ok(Some(ClientView {
            client,
            policy_name,
            reader_owns_any,
            reader_owns_partner,
            deliveries,
        }))
    }

    async fn check_rows_version(&mut self) -> Result<i64, StoreError> {
        // Migration 0004's triggers keep it.
        sqlx::query_scalar::<_, i64>("SELECT n FROM check_rows_version")
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| StoreError::Corrupt("check_rows_version: no row".into()))
    }

    async fn client_create_view(
        &mut self,
        client_id: &str,
        reader: Option<&str>,
        partner_id: &str,
        policy_id: &str,
    ) -> Result<ClientCreateView, StoreError> {
        // Three round trips (six as separate reads): the yes/no answers and the check rows'
        // version in one query, then the partner and policy rows. A read transaction is one
        // snapshot (REPEATABLE READ), so the version is that of the rows read.
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM oidc_client WHERE id = $1) AS client_taken, \
             ($2::text IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE user_id = $2)) AS owns_any, \
             ($2::text IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE id = $3 AND user_id = $2)) \
             AS owns_partner, \
             EXISTS (SELECT 1 FROM partner_policy_request WHERE partner_id = $3 AND policy_id = $4) \
             AS mapping_exists, \
             EXISTS (SELECT 1 FROM partner_policy_request WHERE partner_id = $3 AND policy_id = $4 \
                     AND status_code = 'approved') AS mapping_approved, \
             COALESCE((SELECT g.is_active FROM auth_policy ap \
                       JOIN policy_group g ON g.id = ap.policy_group_id WHERE ap.id = $4), false) \
             AS group_active, \
             (SELECT n FROM check_rows_version) AS rows_version",
        )
        .bind(client_id.to_string())
        .bind(reader.map(str::to_string))
        .bind(partner_id.to_string())
        .bind(policy_id.to_string())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        let flag = |col: &str| -> Result<bool, StoreError> {
            row.try_get(col)
                .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        };
        let (client_taken, reader_owns_any, reader_owns_partner) = (
            flag("client_taken")?,
            flag("owns_any")?,
            flag("owns_partner")?,
        );
        let (mapping_exists, mapping_approved, group_active) = (
            flag("mapping_exists")?,
            flag("mapping_approved")?,
            flag("group_active")?,
        );
        Ok(ClientCreateView {
            client_taken,
            reader_owns_any,
            reader_owns_partner,
            partner: self.partner(partner_id).await?,
            policy: self.policy(policy_id).await?,
            group_active,
            mapping_exists,
            mapping_approved,
            rows_version: row
                .try_get("rows_version")
                .map_err(|e| StoreError::Corrupt(format!("rows_version: {e}")))?,
        })
    }

    async fn client_for_update(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLS} FROM oidc_client WHERE id = $1 FOR UPDATE");
        Ok(first(self.fetch(&sql, &[id], client_from).await?))
    }

    async fn list_clients(
        &mut self,
        q: &ListQuery<ClientSortField, ClientFilter>,
    ) -> Result<Page<ClientSummary>, StoreError> {
        let mut cq = QueryBuilder::new("SELECT COUNT(*)");
        push_client_where(&mut cq, &q.filter, false);
        let total = count(&mut cq, &mut self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let mut qb = QueryBuilder::new(
            "SELECT c.id, c.name, c.rp_id, c.status, c.cr_dtimes, c.upd_dtimes, pa.name AS org_name, \
             g.id AS group_id, g.name AS group_name, g.descr AS group_desc, p.name AS policy_name, \
             p.descr AS policy_desc",
        );
        push_client_where(&mut qb, &q.filter, true);
        match q.sort {
            Some(s) => {
                let (col, text) = match s.field {
                    ClientSortField::PartnerId => ("c.rp_id", true),
                    ClientSortField::OrgName => ("pa.name", true),
                    ClientSortField::PolicyGroupName => ("g.name", true),
                    ClientSortField::PolicyName => ("p.name", true),
                    ClientSortField::ClientId => ("c.id", true),
                    ClientSortField::ClientName => ("c.name", true),
                    ClientSortField::Status => ("c.status", true),
                    ClientSortField::CreatedDateTime => ("c.cr_dtimes", false),
                };
                push_order(&mut qb, col, text, s.dir, "c.id");
            }
            None => {
                qb.push(" ORDER BY c.cr_dtimes DESC, c.id COLLATE \"C\" ASC");
            }
        }
        push_page(&mut qb, q.page);
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let items = rows
            .iter()
            .map(client_summary_from)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    async fn insert_client(&mut self, c: &OidcClient) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO oidc_client ({CLIENT_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(json_text(&c.name_lang_map))
        .bind(&c.rp_id)
        .bind(&c.policy_id)
        .bind(&c.logo_uri)
        .bind(json_text(&c.redirect_uris))
        .bind(&c.public_key)
        .bind(json_text(&c.claims))
        .bind(json_text(&c.acr_values))
        .bind(json_text(&c.grant_types))
        .bind(json_text(&c.client_auth_methods))
        .bind(c.status.as_str())
        .bind(&c.cr_by)
        .bind(ts(&c.cr_dtimes))
        .bind(&c.upd_by)
        .bind(ts_opt(&c.upd_dtimes))
        .bind(c.version)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn update_client(&mut self, c: &OidcClient) -> Result<(), StoreError> {
        // id, public key, partner, policy, claims and ACR values never change (§6.3).
        sqlx::query(
            "UPDATE oidc_client SET name = $1, name_lang_map = $2, logo_uri = $3, redirect_uris = $4, \
             grant_types = $5, client_auth_methods = $6, status = $7, upd_by = $8, upd_dtimes = $9, \
             version = $10 WHERE id = $11",
        )
        .bind(&c.name)
        .bind(json_text(&c.name_lang_map))
        .bind(&c.logo_uri)
        .bind(json_text(&c.redirect_uris))
        .bind(json_text(&c.grant_types))
        .bind(json_text(&c.client_auth_methods))
        .bind(c.status.as_str())
        .bind(&c.upd_by)
        .bind(ts_opt(&c.upd_dtimes))
        .bind(c.version)
        .bind(&c.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.conflict(e))?;
        Ok(())
    }

    async fn append_audit(&mut self, a: &AuditRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO audit_log ({AUDIT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(ts(&a.at))
        .bind(&a.actor)
        .bind(&a.action)
        .bind(&a.entity_type)
        .bind(&a.entity_id)
        .bind(a.before.as_ref().map(JsonText::as_str))
        .bind(a.after.as_ref().map(JsonText::as_str))
        .bind(&a.correlation_id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn audit_of(
        &mut self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE entity_type = $1 AND entity_id = $2 ORDER BY id"
        );
        self.fetch(&sql, &[entity_type, entity_id], audit_from)
            .await
    }

    async fn insert_outbox(&mut self, row: &NewOutboxRow) -> Result<i64, StoreError> {
        // Ids increase in commit order: every writer holds the write lock from before its first
        // insert until its commit.
        sqlx::query_scalar(
            "INSERT INTO outbox (aggregate_type, aggregate_id, channel, operation, client_version, \
             event, depends_on, state, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', 0, $8, $8) RETURNING id",
        )
        .bind(row.aggregate_type.as_str())
        .bind(&row.aggregate_id)
        .bind(row.channel.as_str())
        .bind(&row.operation)
        .bind(row.client_version)
        .bind(row.event.as_ref().map(ToString::to_string))
        .bind(row.depends_on)
        .bind(ts(&row.created_at))
        .fetch_one(&mut *self.tx)
        .await
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
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox WHERE aggregate_type = $1 AND aggregate_id = ANY($2) \
             ORDER BY id"
        ))
        .bind(aggregate_type.as_str())
        .bind(aggregate_ids.to_vec())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?
        .iter()
        .map(outbox_from)
        .collect()
    }

    async fn claim_outbox(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        // Under the write lock no other writer runs between the select and the update; SKIP
        // LOCKED keeps two claimers apart should the lock ever be narrowed. Every predecessor a
        // row waits for is open when selected, so one call never takes two rows of one
        // aggregate and channel, nor a row and its dependent.
        let ids: Vec<i64> = sqlx::query_scalar(CLAIM_SQL)
            .bind(ts(&now))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = sqlx::query(&format!(
            "UPDATE outbox SET state = 'IN_FLIGHT', lease_until = $1 WHERE id = ANY($2) \
             RETURNING {OUTBOX_COLS}"
        ))
        .bind(ts(&lease_until))
        .bind(ids)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?
        .iter()
        .map(outbox_from)
        .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    async fn update_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, last_attempt_at = $4, \
             lease_until = $5, delivered_at = $6, last_error = $7 WHERE id = $8",
        )
        .bind(row.state.as_str())
        .bind(attempts(row.attempts))
        .bind(ts_opt(&row.next_attempt_at))
        .bind(ts_opt(&row.last_attempt_at))
        .bind(ts_opt(&row.lease_until))
        .bind(ts_opt(&row.delivered_at))
        .bind(&row.last_error)
        .bind(row.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn supersede_esignet(
        &mut self,
        client_id: &str,
        version: i64,
        except_id: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'SUPERSEDED' WHERE aggregate_type = $1 AND aggregate_id = $2 \
             AND channel = $3 AND state IN ('PENDING', 'FAILED') AND client_version <= $4 AND id <> $5",
        )
        .bind(AggregateType::Client.as_str())
        .bind(client_id)
        .bind(Channel::Esignet.as_str())
        .bind(version)
        .bind(except_id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(done.rows_affected())
    }

    async fn restore_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO outbox ({OUTBOX_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(row.id)
        .bind(row.aggregate_type.as_str())
        .bind(&row.aggregate_id)
        .bind(row.channel.as_str())
        .bind(&row.operation)
        .bind(row.client_version)
        .bind(row.event.as_ref().map(ToString::to_string))
        .bind(row.depends_on)
        .bind(row.state.as_str())
        .bind(attempts(row.attempts))
        .bind(ts_opt(&row.next_attempt_at))
        .bind(ts_opt(&row.last_attempt_at))
        .bind(ts_opt(&row.lease_until))
        .bind(ts_opt(&row.delivered_at))
        .bind(ts(&row.created_at))
        .bind(&row.last_error)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        // Later inserts continue above the restored id (never below what the sequence already
        // handed out). setval is not undone by a rollback; that only leaves a gap.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('outbox', 'id'), GREATEST($1, \
             COALESCE(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'id')::regclass), 0)))",
        )
        .bind(row.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn purge_outbox(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM outbox WHERE state IN ('DELIVERED', 'SUPERSEDED') AND created_at < $1",
        )
        .bind(ts(&before))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(done.rows_affected())
    }

    async fn outbox_depth(&mut self) -> Result<Vec<(Channel, OutboxState, u64)>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state")
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|e| self.fail(e))?;
        pms_domain::outbox::depth_report(rows)
    }

    async fn export(
        &mut self,
        table: Table,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ExportPage, StoreError> {
        let cols = match table {
            Table::PolicyGroup => GROUP_COLS,
            Table::AuthPolicy => POLICY_COLS,
            Table::Partner => PARTNER_COLS,
            Table::Mapping => MAPPING_COLS,
            Table::Client => CLIENT_COLS,
            Table::Audit => AUDIT_COLS,
            Table::Outbox => OUTBOX_COLS,
        };
        let audit = table == Table::Audit;
        // Keyset paging in the primary key's order: bytes for text ids, numbers for the audit
        // and outbox sequences.
        let numeric = matches!(table, Table::Audit | Table::Outbox);
        let key = if numeric { "id" } else { "id COLLATE \"C\"" };
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {cols}{} FROM {}",
            if audit { ", id AS seq" } else { "" },
            table.name()
        ));
        if let Some(a) = after {
            qb.push(format!(" WHERE {key} > "));
            if numeric {
                let n: i64 = a
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("{} position {a:?}", table.name())))?;
                qb.push_bind(n);
            } else {
                qb.push_bind(a.to_string());
            }
        }
        qb.push(format!(" ORDER BY {key} LIMIT "));
        qb.push_bind(i64::from(limit));
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        let mut records = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in &rows {
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
                    let seq: i64 = rows::get(row, "seq")?;
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
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let in_write = self.health.is_some();
        let outcome = self.tx.commit().await.map_err(|e| classify(e, in_write));
        if let Some(h) = &self.health {
            h.record(&outcome);
        }
        outcome
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn write_lock_is_as_documented() {
        assert!(WRITE_BEGIN_SQL.contains(&format!(
            "lock_timeout = '{}s'",
            WRITE_LOCK_TIMEOUT.as_secs()
        )));
        assert_eq!(&WRITE_LOCK_KEY.to_be_bytes(), b"pmswrite");
    }

    #[test]
    fn debug_hides_the_password() {
        let s = PgSettings {
            url: "postgres://pms:s3cr%40t@db.example:5432/pms?sslmode=require&password=other"
                .into(),
            max_connections: 4,
            connect_timeout: Duration::from_secs(3),
        };
        let d = format!("{s:?}");
        assert!(!d.contains("s3cr"), "{d}");
        assert!(!d.contains("other"), "{d}");
        assert!(
            d.contains("postgres://pms:***@db.example:5432/pms?sslmode=require&password=***"),
            "{d}"
        );
        assert_eq!(
            redact_url("postgresql://h/db"),
            "postgresql://h/db".to_string()
        );
        assert_eq!(redact_url("postgres://u@h"), "postgres://u@h".to_string());
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
