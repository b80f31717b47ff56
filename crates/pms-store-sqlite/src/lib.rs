//! The [`Store`] for embedded SQLite: pool set-up (WAL, foreign keys, busy timeout, full sync),
//! embedded migrations, and every query of the [`Tx`] trait.
//!
//! Writers serialise with `BEGIN IMMEDIATE`, so a check-then-write inside one write transaction
//! cannot be overtaken by another writer; unique indexes back the uniqueness rules anyway and
//! their violations map to [`Constraint`]s in [`on_constraint`].
#![forbid(unsafe_code)]

mod rows;

use async_trait::async_trait;
use pms_domain::clock::format_ts;
use pms_domain::list::{
    ClientFilter, ClientSortField, ClientSummary, ListQuery, MappingFilter, MappingSortField,
    MappingSummary, Page, PolicyFilter, PolicySortField, PolicySummary, SortDir,
};
use pms_domain::model::{
    AuditRecord, AuthPolicy, MappingRequest, OidcClient, Partner, PolicyGroup, PolicyState,
};
use pms_domain::outbox::{AggregateType, Channel, NewOutboxRow, OutboxRow, OutboxState};
use pms_domain::store::{ClientView, Constraint, ExportPage, Record, Store, StoreError, Table, Tx};
use pms_domain::Timestamp;
use rows::{
    audit_from, client_from, client_summary_from, group_from, mapping_from, outbox_from,
    partner_from, policy_from, summary_from,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection settings taken from the service configuration.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Writers of this process queue here before `BEGIN IMMEDIATE`: SQLite admits one writer at
    /// a time anyway, and a writer that finds the lock taken sleeps in SQLite's busy handler in
    /// steps of up to 100 ms, which is what made write latencies spiky.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) the database at `settings.url`.
    pub async fn connect(settings: &SqliteSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&settings.url)
            .map_err(|e| StoreError::Unavailable(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit acknowledged to a caller survives a power loss, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.connect_timeout)
            // An embedded file cannot drop a connection; sqlx's ping on every acquire costs a
            // round trip to the connection's worker thread per request.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            pool,
            writer: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        })
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// The one place where SQLite's unique-violation messages become domain constraints.
fn on_constraint(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            let msg = db.message();
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
    unavailable(e)
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Reads run in autocommit mode: each statement sees the latest commit. A read request
    /// makes one or two statements; skipping BEGIN/ROLLBACK saves two round trips to sqlx's
    /// connection thread, a third of a read's cost. (`pms copy-data` compares row counts, so a
    /// write that slips between its statements aborts the copy instead of corrupting it.)
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        let conn = self.pool.acquire().await.map_err(unavailable)?;
        Ok(Box::new(SqliteTx {
            tx: Conn::Plain(conn),
            _writer: None,
        }))
    }

    async fn write(&self) -> Result<Box<dyn Tx>, StoreError> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        Ok(Box::new(SqliteTx {
            tx: Conn::Tx(tx),
            _writer: Some(turn),
        }))
    }
}

/// A write transaction, or a plain connection for reads.
enum Conn {
    Tx(Transaction<'static, Sqlite>),
    Plain(sqlx::pool::PoolConnection<Sqlite>),
}

impl std::ops::Deref for Conn {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        match self {
            Conn::Tx(t) => t,
            Conn::Plain(c) => c,
        }
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Conn::Tx(t) => t,
            Conn::Plain(c) => c,
        }
    }
}

struct SqliteTx {
    tx: Conn,
    /// This process's writer turn, held until commit or drop.
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

const GROUP_COLS: &str =
    "id, name, descr, is_active, user_id, cr_by, cr_dtimes, upd_by, upd_dtimes";
const POLICY_COLS: &str = "id, policy_group_id, name, descr, policy_type, version, policies, schema_url, is_active, valid_from, valid_to, cr_by, cr_dtimes, upd_by, upd_dtimes";
const PARTNER_COLS: &str = "id, name, address, contact_no, email_id, partner_type_code, policy_group_id, user_id, approval_status, is_active, lang_code, cr_by, cr_dtimes, upd_by, upd_dtimes";
const MAPPING_COLS: &str = "id, partner_id, policy_id, request_detail, status_code, request_datetimes, cr_by, cr_dtimes, upd_by, upd_dtimes";

const AUDIT_COLS: &str = "at, actor, action, entity_type, entity_id, before, after, correlation_id";

const CLIENT_COLS: &str = "id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris, public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes, upd_by, upd_dtimes, version";

const OUTBOX_COLS: &str = "id, aggregate_type, aggregate_id, channel, operation, client_version, event, depends_on, state, attempts, next_attempt_at, last_attempt_at, lease_until, delivered_at, created_at, last_error";

/// Lists and maps are stored as JSON text.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn ts_opt(t: &Option<pms_domain::Timestamp>) -> Option<String> {
    t.as_ref().map(format_ts)
}

impl SqliteTx {
    async fn fetch_groups(
        &mut self,
        sql: &str,
        arg: Option<&str>,
    ) -> Result<Vec<PolicyGroup>, StoreError> {
        let mut q = sqlx::query(sql);
        if let Some(a) = arg {
            q = q.bind(a.to_string());
        }
        q.fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?
            .iter()
            .map(group_from)
            .collect()
    }

    async fn fetch_policies(
        &mut self,
        sql: &str,
        args: &[&str],
    ) -> Result<Vec<AuthPolicy>, StoreError> {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(a.to_string());
        }
        q.fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?
            .iter()
            .map(policy_from)
            .collect()
    }

    async fn fetch_partners(&mut self, sql: &str, arg: &str) -> Result<Vec<Partner>, StoreError> {
        sqlx::query(sql)
            .bind(arg.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?
            .iter()
            .map(partner_from)
            .collect()
    }

    async fn fetch_mappings(
        &mut self,
        sql: &str,
        args: &[&str],
    ) -> Result<Vec<MappingRequest>, StoreError> {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(a.to_string());
        }
        q.fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?
            .iter()
            .map(mapping_from)
            .collect()
    }
}

fn first<T>(v: Vec<T>) -> Option<T> {
    v.into_iter().next()
}

fn dir_sql(d: SortDir) -> &'static str {
    match d {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    }
}

/// Appends `AND instr(lower(col), needle) > 0`: a literal, case-insensitive substring match
/// (no LIKE, so `%` and `_` are plain characters). Needles arrive lower-cased.
fn push_contains(qb: &mut QueryBuilder<'_, Sqlite>, col: &str, needle: &Option<String>) {
    if let Some(n) = needle {
        qb.push(format!(" AND instr(lower({col}), "));
        qb.push_bind(n.clone());
        qb.push(") > 0");
    }
}

fn push_policy_where(qb: &mut QueryBuilder<'_, Sqlite>, f: &PolicyFilter) {
    qb.push(" FROM auth_policy p JOIN policy_group g ON g.id = p.policy_group_id WHERE 1 = 1");
    push_contains(qb, "p.policy_type", &f.policy_type);
    push_contains(qb, "p.id", &f.policy_id);
    push_contains(qb, "p.name", &f.policy_name);
    push_contains(qb, "p.descr", &f.policy_description);
    push_contains(qb, "g.name", &f.policy_group_name);
    match f.status {
        Some(PolicyState::Draft) => qb.push(" AND p.schema_url IS NULL"),
        Some(PolicyState::Activated) => {
            qb.push(" AND p.schema_url IS NOT NULL AND p.is_active = 1")
        }
        Some(PolicyState::Deactivated) => {
            qb.push(" AND p.schema_url IS NOT NULL AND p.is_active = 0")
        }
        None => qb,
    };
}

fn push_mapping_where(qb: &mut QueryBuilder<'_, Sqlite>, f: &MappingFilter) {
    qb.push(
        " FROM partner_policy_request r JOIN partner pa ON pa.id = r.partner_id \
         JOIN auth_policy p ON p.id = r.policy_id LEFT JOIN policy_group g ON g.id = p.policy_group_id \
         WHERE 1 = 1",
    );
    if let Some(owned) = &f.owned_by {
        qb.push(" AND r.partner_id IN (");
        let mut sep = qb.separated(", ");
        for id in owned {
            sep.push_bind(id.clone());
        }
        sep.push_unseparated(")");
        if owned.is_empty() {
            qb.push(" AND 1 = 0");
        }
    }
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
fn push_client_where(qb: &mut QueryBuilder<'_, Sqlite>, f: &ClientFilter, all_joins: bool) {
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
    if let Some(owned) = &f.owned_by {
        if owned.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(" AND c.rp_id IN (");
            let mut sep = qb.separated(", ");
            for id in owned {
                sep.push_bind(id.clone());
            }
            sep.push_unseparated(")");
        }
    }
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

fn push_page(qb: &mut QueryBuilder<'_, Sqlite>, page: Option<pms_domain::list::PageReq>) {
    if let Some(p) = page {
        qb.push(" LIMIT ");
        qb.push_bind(i64::from(p.page_size));
        qb.push(" OFFSET ");
        qb.push_bind(i64::try_from(p.offset()).unwrap_or(i64::MAX));
    }
}

async fn count(qb: &mut QueryBuilder<'_, Sqlite>, tx: &mut Conn) -> Result<u64, StoreError> {
    let n: i64 = qb
        .build_query_scalar()
        .fetch_one(&mut **tx)
        .await
        .map_err(unavailable)?;
    Ok(u64::try_from(n).unwrap_or(0))
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

/// `outbox_depth`'s groups parsed, in channel then state order.
fn depth(rows: Vec<(String, String, i64)>) -> Result<Vec<(Channel, OutboxState, u64)>, StoreError> {
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

#[async_trait]
impl Tx for SqliteTx {
    async fn policy_group(&mut self, id: &str) -> Result<Option<PolicyGroup>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM policy_group WHERE id = ?");
        Ok(first(self.fetch_groups(&sql, Some(id)).await?))
    }

    async fn policy_group_by_name(
        &mut self,
        name: &str,
    ) -> Result<Option<PolicyGroup>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM policy_group WHERE name = ?");
        Ok(first(self.fetch_groups(&sql, Some(name)).await?))
    }

    async fn policy_groups(&mut self) -> Result<Vec<PolicyGroup>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM policy_group ORDER BY name, id");
        self.fetch_groups(&sql, None).await
    }

    async fn insert_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO policy_group ({GROUP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&g.id)
        .bind(&g.name)
        .bind(&g.desc)
        .bind(g.is_active)
        .bind(&g.user_id)
        .bind(&g.cr_by)
        .bind(format_ts(&g.cr_dtimes))
        .bind(&g.upd_by)
        .bind(ts_opt(&g.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn update_policy_group(&mut self, g: &PolicyGroup) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE policy_group SET name = ?, descr = ?, is_active = ?, user_id = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?",
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
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn policy(&mut self, id: &str) -> Result<Option<AuthPolicy>, StoreError> {
        let sql = format!("SELECT {POLICY_COLS} FROM auth_policy WHERE id = ?");
        Ok(first(self.fetch_policies(&sql, &[id]).await?))
    }

    async fn policies(&mut self) -> Result<Vec<AuthPolicy>, StoreError> {
        let sql = format!("SELECT {POLICY_COLS} FROM auth_policy ORDER BY cr_dtimes, id");
        self.fetch_policies(&sql, &[]).await
    }

    async fn policies_in_group(&mut self, group_id: &str) -> Result<Vec<AuthPolicy>, StoreError> {
        let sql = format!("SELECT {POLICY_COLS} FROM auth_policy WHERE policy_group_id = ? ORDER BY cr_dtimes, id");
        self.fetch_policies(&sql, &[group_id]).await
    }

    async fn policy_by_name_in_group(
        &mut self,
        group_id: &str,
        name: &str,
    ) -> Result<Option<AuthPolicy>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM auth_policy WHERE policy_group_id = ? AND name = ?");
        Ok(first(self.fetch_policies(&sql, &[group_id, name]).await?))
    }

    async fn policies_named(&mut self, name: &str) -> Result<Vec<AuthPolicy>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM auth_policy WHERE name = ? ORDER BY cr_dtimes, id");
        self.fetch_policies(&sql, &[name]).await
    }

    async fn list_policies(
        &mut self,
        q: &ListQuery<PolicySortField, PolicyFilter>,
    ) -> Result<Page<PolicySummary>, StoreError> {
        let mut cq = QueryBuilder::new("SELECT COUNT(*)");
        push_policy_where(&mut cq, &q.filter);
        let total = count(&mut cq, &mut self.tx).await?;
        let mut qb = QueryBuilder::new(
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
                qb.push(format!(" ORDER BY {col} {}, p.id ASC", dir_sql(s.dir)));
            }
            None => {
                qb.push(" ORDER BY p.cr_dtimes DESC, p.id ASC");
            }
        }
        push_page(&mut qb, q.page);
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?;
        let items = rows
            .iter()
            .map(rows::policy_summary_from)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    async fn insert_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO auth_policy ({POLICY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        .bind(format_ts(&p.valid_from))
        .bind(format_ts(&p.valid_to))
        .bind(&p.cr_by)
        .bind(format_ts(&p.cr_dtimes))
        .bind(&p.upd_by)
        .bind(ts_opt(&p.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn update_policy(&mut self, p: &AuthPolicy) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE auth_policy SET name = ?, descr = ?, version = ?, policies = ?, schema_url = ?, is_active = ?, \
             upd_by = ?, upd_dtimes = ? WHERE id = ?",
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
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn partner(&mut self, id: &str) -> Result<Option<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLS} FROM partner WHERE id = ?");
        Ok(first(self.fetch_partners(&sql, id).await?))
    }

    async fn partner_by_email(&mut self, email: &str) -> Result<Option<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLS} FROM partner WHERE lower(email_id) = lower(?)");
        Ok(first(self.fetch_partners(&sql, email).await?))
    }

    async fn partners_of_user(&mut self, user_id: &str) -> Result<Vec<Partner>, StoreError> {
        let sql = format!("SELECT {PARTNER_COLS} FROM partner WHERE user_id = ? ORDER BY id");
        self.fetch_partners(&sql, user_id).await
    }

    async fn insert_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO partner ({PARTNER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        .bind(format_ts(&p.cr_dtimes))
        .bind(&p.upd_by)
        .bind(ts_opt(&p.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn update_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE partner SET name = ?, address = ?, contact_no = ?, email_id = ?, policy_group_id = ?, \
             approval_status = ?, is_active = ?, lang_code = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?",
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
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn mapping(&mut self, id: &str) -> Result<Option<MappingRequest>, StoreError> {
        let sql = format!("SELECT {MAPPING_COLS} FROM partner_policy_request WHERE id = ?");
        Ok(first(self.fetch_mappings(&sql, &[id]).await?))
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
        let sql = format!(
            "SELECT {MAPPING_COLS} FROM partner_policy_request WHERE partner_id = ? AND policy_id = ? ORDER BY cr_dtimes, id"
        );
        self.fetch_mappings(&sql, &[partner_id, policy_id]).await
    }

    async fn mappings_of_policy(
        &mut self,
        policy_id: &str,
    ) -> Result<Vec<MappingRequest>, StoreError> {
        let sql = format!("SELECT {MAPPING_COLS} FROM partner_policy_request WHERE policy_id = ? ORDER BY cr_dtimes, id");
        self.fetch_mappings(&sql, &[policy_id]).await
    }

    async fn list_mappings(
        &mut self,
        q: &ListQuery<MappingSortField, MappingFilter>,
    ) -> Result<Page<MappingSummary>, StoreError> {
        let mut cq = QueryBuilder::new("SELECT COUNT(*)");
        push_mapping_where(&mut cq, &q.filter);
        let total = count(&mut cq, &mut self.tx).await?;
        let mut qb = QueryBuilder::new(
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
                qb.push(format!(" ORDER BY {col} {}, r.id ASC", dir_sql(s.dir)));
            }
            None => {
                qb.push(" ORDER BY r.cr_dtimes DESC, r.id ASC");
            }
        }
        push_page(&mut qb, q.page);
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?;
        let items = rows.iter().map(summary_from).collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    async fn insert_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO partner_policy_request ({MAPPING_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&m.id)
        .bind(&m.partner_id)
        .bind(&m.policy_id)
        .bind(&m.request_detail)
        .bind(m.status.as_str())
        .bind(format_ts(&m.request_datetimes))
        .bind(&m.cr_by)
        .bind(format_ts(&m.cr_dtimes))
        .bind(&m.upd_by)
        .bind(ts_opt(&m.upd_dtimes))
        .execute(&mut *self.tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn update_mapping(&mut self, m: &MappingRequest) -> Result<(), StoreError> {
        sqlx::query("UPDATE partner_policy_request SET status_code = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?")
            .bind(m.status.as_str())
            .bind(&m.upd_by)
            .bind(ts_opt(&m.upd_dtimes))
            .bind(&m.id)
            .execute(&mut *self.tx)
            .await
            .map_err(on_constraint)?;
        Ok(())
    }

    async fn client(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CLIENT_COLS} FROM oidc_client WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(client_from).transpose()
    }

    async fn client_view(
        &mut self,
        id: &str,
        reader: Option<&str>,
    ) -> Result<Option<ClientView>, StoreError> {
        let cols: Vec<String> = CLIENT_COLS.split(", ").map(|c| format!("c.{c}")).collect();
        let sql = format!(
            "SELECT {}, p.name AS policy_name, \
             (?1 IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE user_id = ?1)) AS owns_any, \
             (?1 IS NOT NULL AND EXISTS (SELECT 1 FROM partner WHERE id = c.rp_id AND user_id = ?1)) AS owns_rp \
             FROM oidc_client c LEFT JOIN auth_policy p ON p.id = c.policy_id WHERE c.id = ?2",
            cols.join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(reader.map(str::to_string))
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(unavailable)?;
        let Some(row) = row else { return Ok(None) };
        let get_bool = |col: &str| -> Result<bool, StoreError> {
            row.try_get(col)
                .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        };
        Ok(Some(ClientView {
            client: client_from(&row)?,
            policy_name: row
                .try_get("policy_name")
                .map_err(|e| StoreError::Corrupt(format!("policy_name: {e}")))?,
            reader_owns_any: get_bool("owns_any")?,
            reader_owns_partner: get_bool("owns_rp")?,
        }))
    }

    async fn client_for_update(&mut self, id: &str) -> Result<Option<OidcClient>, StoreError> {
        // Write transactions are BEGIN IMMEDIATE: the whole database is already ours.
        self.client(id).await
    }

    async fn list_clients(
        &mut self,
        q: &ListQuery<ClientSortField, ClientFilter>,
    ) -> Result<Page<ClientSummary>, StoreError> {
        let mut cq = QueryBuilder::new("SELECT COUNT(*)");
        push_client_where(&mut cq, &q.filter, false);
        let total = count(&mut cq, &mut self.tx).await?;
        let mut qb = QueryBuilder::new(
            "SELECT c.id, c.name, c.rp_id, c.status, c.cr_dtimes, c.upd_dtimes, pa.name AS org_name, \
             g.id AS group_id, g.name AS group_name, g.descr AS group_desc, p.name AS policy_name, \
             p.descr AS policy_desc",
        );
        push_client_where(&mut qb, &q.filter, true);
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
                qb.push(format!(" ORDER BY {col} {}, c.id ASC", dir_sql(s.dir)));
            }
            None => {
                qb.push(" ORDER BY c.cr_dtimes DESC, c.id ASC");
            }
        }
        push_page(&mut qb, q.page);
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?;
        let items = rows
            .iter()
            .map(client_summary_from)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    async fn insert_client(&mut self, c: &OidcClient) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO oidc_client ({CLIENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        .bind(format_ts(&c.cr_dtimes))
        .bind(&c.upd_by)
        .bind(ts_opt(&c.upd_dtimes))
        .bind(c.version)
        .execute(&mut *self.tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn update_client(&mut self, c: &OidcClient) -> Result<(), StoreError> {
        // id, public key, partner, policy, claims and ACR values never change (§6.3).
        sqlx::query(
            "UPDATE oidc_client SET name = ?, name_lang_map = ?, logo_uri = ?, redirect_uris = ?, \
             grant_types = ?, client_auth_methods = ?, status = ?, upd_by = ?, upd_dtimes = ?, version = ? \
             WHERE id = ?",
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
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn append_audit(&mut self, a: &AuditRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before, after, correlation_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(format_ts(&a.at))
        .bind(&a.actor)
        .bind(&a.action)
        .bind(&a.entity_type)
        .bind(&a.entity_id)
        .bind(a.before.as_ref().map(ToString::to_string))
        .bind(a.after.as_ref().map(ToString::to_string))
        .bind(&a.correlation_id)
        .execute(&mut *self.tx)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn audit_of(
        &mut self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        sqlx::query(
            &format!("SELECT {AUDIT_COLS} FROM audit_log WHERE entity_type = ? AND entity_id = ? ORDER BY id"),
        )
        .bind(entity_type.to_string())
        .bind(entity_id.to_string())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(unavailable)?
        .iter()
        .map(audit_from)
        .collect()
    }

    async fn insert_outbox(&mut self, row: &NewOutboxRow) -> Result<i64, StoreError> {
        let created = format_ts(&row.created_at);
        sqlx::query_scalar(
            "INSERT INTO outbox (aggregate_type, aggregate_id, channel, operation, client_version, \
             event, depends_on, state, attempts, next_attempt_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, ?, ?) RETURNING id",
        )
        .bind(row.aggregate_type.as_str())
        .bind(&row.aggregate_id)
        .bind(row.channel.as_str())
        .bind(&row.operation)
        .bind(row.client_version)
        .bind(row.event.as_ref().map(ToString::to_string))
        .bind(row.depends_on)
        .bind(&created)
        .bind(&created)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(unavailable)
    }

    async fn outbox_of(
        &mut self,
        aggregate_type: AggregateType,
        aggregate_ids: &[String],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        if aggregate_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {OUTBOX_COLS} FROM outbox WHERE aggregate_type = "
        ));
        qb.push_bind(aggregate_type.as_str());
        qb.push(" AND aggregate_id IN (");
        let mut sep = qb.separated(", ");
        for id in aggregate_ids {
            sep.push_bind(id.clone());
        }
        sep.push_unseparated(") ORDER BY id");
        qb.build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?
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
        // Write transactions are BEGIN IMMEDIATE: no other writer runs between the select and
        // the update. Every predecessor a row waits for is open when selected, so one call
        // never takes two rows of one aggregate and channel, nor a row and its dependent.
        let now = format_ts(&now);
        let ids: Vec<i64> = sqlx::query_scalar(CLAIM_SQL)
            .bind(&now)
            .bind(&now)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb =
            QueryBuilder::<Sqlite>::new("UPDATE outbox SET state = 'IN_FLIGHT', lease_until = ");
        qb.push_bind(format_ts(&lease_until));
        qb.push(" WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        sep.push_unseparated(format!(") RETURNING {OUTBOX_COLS}"));
        let mut rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?
            .iter()
            .map(outbox_from)
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    async fn update_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, \
             lease_until = ?, delivered_at = ?, last_error = ? WHERE id = ?",
        )
        .bind(row.state.as_str())
        .bind(i64::from(row.attempts))
        .bind(ts_opt(&row.next_attempt_at))
        .bind(ts_opt(&row.last_attempt_at))
        .bind(ts_opt(&row.lease_until))
        .bind(ts_opt(&row.delivered_at))
        .bind(&row.last_error)
        .bind(row.id)
        .execute(&mut *self.tx)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn supersede_esignet(
        &mut self,
        client_id: &str,
        version: i64,
        except_id: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'SUPERSEDED' WHERE aggregate_type = ? AND aggregate_id = ? \
             AND channel = ? AND state IN ('PENDING', 'FAILED') AND client_version <= ? AND id <> ?",
        )
        .bind(AggregateType::Client.as_str())
        .bind(client_id.to_string())
        .bind(Channel::Esignet.as_str())
        .bind(version)
        .bind(except_id)
        .execute(&mut *self.tx)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn restore_outbox(&mut self, row: &OutboxRow) -> Result<(), StoreError> {
        // An explicit id above the AUTOINCREMENT sequence moves the sequence on.
        sqlx::query(&format!(
            "INSERT INTO outbox ({OUTBOX_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        .bind(i64::from(row.attempts))
        .bind(ts_opt(&row.next_attempt_at))
        .bind(ts_opt(&row.last_attempt_at))
        .bind(ts_opt(&row.lease_until))
        .bind(ts_opt(&row.delivered_at))
        .bind(format_ts(&row.created_at))
        .bind(&row.last_error)
        .execute(&mut *self.tx)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn purge_outbox(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM outbox WHERE state IN ('DELIVERED', 'SUPERSEDED') AND created_at < ?",
        )
        .bind(format_ts(&before))
        .execute(&mut *self.tx)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn outbox_depth(&mut self) -> Result<Vec<(Channel, OutboxState, u64)>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state")
                .fetch_all(&mut *self.tx)
                .await
                .map_err(unavailable)?;
        depth(rows)
    }

    async fn export(
        &mut self,
        table: Table,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ExportPage, StoreError> {
        let (cols, key) = match table {
            Table::PolicyGroup => (GROUP_COLS, "id"),
            Table::AuthPolicy => (POLICY_COLS, "id"),
            Table::Partner => (PARTNER_COLS, "id"),
            Table::Mapping => (MAPPING_COLS, "id"),
            Table::Client => (CLIENT_COLS, "id"),
            Table::Audit => (AUDIT_COLS, "seq"),
            Table::Outbox => (OUTBOX_COLS, "seq"),
        };
        // Audit and outbox rows are keyed by their integer sequence, the others by text ids.
        let numeric = matches!(table, Table::Audit | Table::Outbox);
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {cols}, {} AS seq FROM {}",
            if numeric { "id" } else { "''" },
            table.name()
        ));
        if let Some(a) = after {
            if numeric {
                let n: i64 = a
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("{} position {a:?}", table.name())))?;
                qb.push(" WHERE id > ");
                qb.push_bind(n);
            } else {
                qb.push(" WHERE id > ");
                qb.push_bind(a.to_string());
            }
        }
        qb.push(format!(" ORDER BY {key} LIMIT "));
        qb.push_bind(i64::from(limit));
        let rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(unavailable)?;
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
                    (Record::Client(c), id)
                }
                Table::Audit => {
                    let seq: i64 = row
                        .try_get("seq")
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
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name()))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(unavailable)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let this = *self;
        match this.tx {
            Conn::Tx(t) => t.commit().await.map_err(unavailable),
            Conn::Plain(_) => Ok(()),
        }
    }
}
