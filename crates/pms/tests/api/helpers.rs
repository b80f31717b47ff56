//! `spawn_app()` and typed request helpers.
#![allow(dead_code)]

use chrono::TimeZone;
use pms::config::Config;
use pms::Application;
use pms_api::auth::DevIssuer;
use pms_domain::clock::{format_ts, ManualClock};
use pms_domain::Clock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN: &[&str] = &["PARTNER_ADMIN"];
pub const POLICY_MANAGER: &[&str] = &["POLICYMANAGER"];
pub const AUTH_PARTNER: &[&str] = &["AUTH_PARTNER"];

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    /// The database this app serves from.
    pub db: TestDb,
    issuer: DevIssuer,
}

/// The black-box suite runs on embedded SQLite, or on PostgreSQL when `PMS_TEST_POSTGRES_URL`
/// names a server (a fresh database per test). `.ci/run` runs it both ways.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("PMS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A test's own database, reachable from the test for dumps and for rows the API cannot write.
#[derive(Clone)]
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// A new, empty PostgreSQL database on the test server: its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("pms_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

impl TestDb {
    /// A database for a test whose data directory is `dir`.
    pub async fn create(dir: &std::path::Path) -> Self {
        match postgres_admin_url() {
            Some(admin) => TestDb::Postgres(fresh_postgres_database(&admin).await),
            None => TestDb::Sqlite(dir.join("pms.db")),
        }
    }

    /// The `database.url` pms is given.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(p) => format!("sqlite://{}", p.display()),
            TestDb::Postgres(u) => u.clone(),
        }
    }

    /// Runs `statements` (plain SQL both backends understand) on one connection.
    pub async fn exec(&self, statements: &str) {
        self.exec_with_fks(statements, true).await
    }

    /// Like [`TestDb::exec`] with foreign keys not enforced, for rows only migrated data holds.
    pub async fn exec_without_fks(&self, statements: &str) {
        self.exec_with_fks(statements, false).await
    }

    async fn exec_with_fks(&self, statements: &str, fks: bool) {
        use sqlx::Connection;
        match self {
            TestDb::Sqlite(_) => {
                let mut c = sqlx::SqliteConnection::connect(&self.url()).await.unwrap();
                let prefix = if fks {
                    ""
                } else {
                    "PRAGMA foreign_keys = OFF; "
                };
                sqlx::raw_sql(&format!("{prefix}{statements}"))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
            TestDb::Postgres(u) => {
                let mut c = sqlx::PgConnection::connect(u).await.unwrap();
                let prefix = if fks {
                    ""
                } else {
                    "SET session_replication_role = replica; "
                };
                sqlx::raw_sql(&format!("{prefix}{statements}"))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
        }
    }

    /// The first column of every row of `query`, as text.
    pub async fn strings(&self, query: &str) -> Vec<String> {
        use sqlx::Connection;
        match self {
            TestDb::Sqlite(_) => {
                let mut c = sqlx::SqliteConnection::connect(&self.url()).await.unwrap();
                let v = sqlx::query_scalar::<_, String>(query)
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
                v
            }
            TestDb::Postgres(u) => {
                let mut c = sqlx::PgConnection::connect(u).await.unwrap();
                let v = sqlx::query_scalar::<_, String>(query)
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
                v
            }
        }
    }

    /// Every row of every table, as text: "nothing changed" means this is equal before and
    /// after.
    pub async fn dump(&self) -> String {
        let mut out = String::new();
        for table in [
            "policy_group",
            "auth_policy",
            "partner",
            "partner_policy_request",
            "oidc_client",
            "audit_log",
        ] {
            let sql = match self {
                TestDb::Sqlite(_) => {
                    let cols = self
                        .strings(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .await;
                    format!(
                        "SELECT json_group_array(json_array({})) FROM (SELECT * FROM {table} ORDER BY id)",
                        cols.join(", ")
                    )
                }
                TestDb::Postgres(_) => {
                    format!("SELECT coalesce(json_agg(t ORDER BY t.id), '[]')::text FROM {table} t")
                }
            };
            let rows = self.strings(&sql).await.concat();
            out.push_str(&format!("{table}: {rows}\n"));
        }
        out
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts the app with the default configuration changed by `adjust`.
pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path()).await;
    spawn_in(dir, db, adjust).await
}

/// Starts an app in `dir` serving from `db`, which other apps may share.
pub async fn spawn_in(
    dir: tempfile::TempDir,
    db: TestDb,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = base_config(&dir, &db);
    config.http.port = 0;
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
    ));
    let app = Application::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    started(app, dir, db, clock)
}

/// Starts an app whose configuration names its own address (the portal's `portal.redirect_uri`
/// must be set before pms listens), with its clock at `start`. A free loopback port is chosen
/// first, and chosen again should something else take it before pms binds it.
pub async fn spawn_at_own_address(
    start: chrono::DateTime<chrono::Utc>,
    adjust: impl Fn(&mut Config, &str),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path()).await;
    let clock = Arc::new(ManualClock::new(start));
    let mut attempts = 0;
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = base_config(&dir, &db);
        config.http.host = "127.0.0.1".into();
        config.http.port = port;
        adjust(&mut config, &format!("http://127.0.0.1:{port}"));
        match Application::build_with_clock(config, clock.clone()).await {
            Ok(app) => return started(app, dir, db, clock),
            Err(e) if attempts < 5 && format!("{e:#}").contains("cannot listen") => attempts += 1,
            Err(e) => panic!("pms did not start: {e:#}"),
        }
    }
}

/// The default configuration on `dir` and `db`.
fn base_config(dir: &tempfile::TempDir, db: &TestDb) -> Config {
    let mut config = Config::load(None, &[]).unwrap().config;
    config.data_dir = dir.path().to_path_buf();
    config.database.url = db.url().into();
    config
}

/// Serves `app` in the background.
fn started(
    app: Application,
    dir: tempfile::TempDir,
    db: TestDb,
    clock: Arc<ManualClock>,
) -> TestApp {
    let addr = app.local_addr().unwrap();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let issuer = DevIssuer::load_or_create(dir.path()).unwrap();
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        dir,
        clock,
        db,
        issuer,
    }
}

/// A v1 request envelope around `request`.
pub fn envelope(request: Value) -> Value {
    json!({ "id": "mosip.test", "version": "1.0", "requesttime": "2026-01-01T09:00:00.000Z", "metadata": {}, "request": request })
}

/// A V2 request envelope.
pub fn envelope_v2(id: &str, request: Value) -> Value {
    json!({ "id": id, "version": "1.0", "requestTime": "2026-01-01T09:00:00.000Z", "request": request })
}

/// The spec's example policy document (policies-and-partners.md §2.2).
pub fn sample_policy() -> Value {
    json!({
        "authTokenType": "policy",
        "allowedAuthTypes": [
            { "authType": "bio", "authSubType": "FINGER", "mandatory": false },
            { "authType": "otp", "authSubType": "", "mandatory": false },
            { "authType": "kycauth", "authSubType": "", "mandatory": false },
            { "authType": "kycexchange", "authSubType": "", "mandatory": false },
            { "authType": "wla", "authSubType": "", "mandatory": false }
        ],
        "allowedKycAttributes": [
            { "attributeName": "fullName" }, { "attributeName": "gender" }, { "attributeName": "email" }
        ]
    })
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// A response read whole; a body that is not JSON is kept as a string.
    pub async fn read(r: reqwest::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }

    /// `errors[*].errorCode`.
    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["errorCode"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn messages(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["message"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Asserts exactly one error with this code and message (HTTP 200).
    #[track_caller]
    pub fn assert_error(&self, code: &str, message: &str) {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.codes(), vec![code.to_string()], "{}", self.body);
        assert_eq!(self.messages(), vec![message.to_string()], "{}", self.body);
        assert!(self.body["response"].is_null(), "{}", self.body);
    }
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.body["errors"], json!([]), "{}", self.body);
        &self.body["response"]
    }
}

impl TestApp {
    pub fn token(&self, user: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_string()).collect();
        self.issuer
            .mint(user, &roles, Duration::from_secs(3600), self.clock.now())
            .unwrap()
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method.parse().unwrap(), format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        Resp::read(rb.send().await.unwrap()).await
    }

    /// `method path` as `user` with `roles`, body wrapped in a v1 envelope.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        user: &str,
        roles: &[&str],
        request: Option<Value>,
    ) -> Resp {
        let token = self.token(user, roles);
        let body = request.map(envelope);
        self.send(method, path, Some(&token), body.as_ref()).await
    }

    pub async fn get(&self, path: &str, user: &str, roles: &[&str]) -> Resp {
        self.call("GET", path, user, roles, None).await
    }

    // ---- building blocks of the journey

    pub async fn create_group(&self, name: &str) -> String {
        let r = self
            .call(
                "POST",
                "/v1/policymanager/policies/group/new",
                "pm1",
                POLICY_MANAGER,
                Some(json!({ "name": name, "desc": "group " })),
            )
            .await;
        r.ok()["id"].as_str().unwrap().to_string()
    }

    pub async fn create_policy(&self, group_name: &str, name: &str) -> String {
        let r = self
            .call(
                "POST",
                "/v1/policymanager/policies",
                "pm1",
                POLICY_MANAGER,
                Some(
                    json!({ "policyGroupName": group_name, "policyType": "Auth", "name": name,
                             "desc": "desc", "version": "1.0", "policies": sample_policy() }),
                ),
            )
            .await;
        r.ok()["id"].as_str().unwrap().to_string()
    }

    pub async fn publish(&self, policy_id: &str, group_id: &str) {
        self.call(
            "POST",
            &format!("/v1/policymanager/policies/{policy_id}/group/{group_id}/publish"),
            "pm1",
            POLICY_MANAGER,
            None,
        )
        .await
        .ok();
    }

    /// A published policy in the existing group `group_name`: the policy id.
    pub async fn published_policy_in(&self, group_name: &str, policy_name: &str) -> String {
        let p = self.create_policy(group_name, policy_name).await;
        let all = self
            .get(
                &format!("/v1/policymanager/policies/{p}"),
                "pm1",
                POLICY_MANAGER,
            )
            .await;
        let g = all.ok()["policyGroupId"].as_str().unwrap().to_string();
        self.publish(&p, &g).await;
        p
    }

    /// A group with one published policy: (group id, policy id).
    pub async fn published_policy(&self, group_name: &str, policy_name: &str) -> (String, String) {
        let g = self.create_group(group_name).await;
        let p = self.create_policy(group_name, policy_name).await;
        self.publish(&p, &g).await;
        (g, p)
    }

    pub async fn register_partner(&self, partner_id: &str, group_name: &str) -> Resp {
        self.call(
            "POST",
            "/v1/partnermanager/partners",
            partner_id,
            AUTH_PARTNER,
            Some(json!({ "partnerId": partner_id, "policyGroup": group_name, "organizationName": "Org of ".to_string() + partner_id,
                         "address": "12 Main Street", "contactNumber": "9876543210",
                         "emailId": format!("{partner_id}@example.org"), "partnerType": "Auth_Partner" })),
        )
        .await
    }

    pub async fn activate_partner(&self, partner_id: &str) {
        self.call(
            "PATCH",
            &format!("/v1/partnermanager/partners/{partner_id}"),
            "admin1",
            ADMIN,
            Some(json!({ "status": "Active" })),
        )
        .await
        .ok();
    }

    pub async fn request_mapping(&self, partner_id: &str, policy_name: &str) -> Resp {
        self.call(
            "POST",
            &format!("/v1/partnermanager/partners/{partner_id}/policy/map"),
            partner_id,
            AUTH_PARTNER,
            Some(json!({ "policyName": policy_name, "useCaseDescription": "login for health portal" })),
        )
        .await
    }

    /// Every row of every table, as text (see [`TestDb::dump`]).
    pub async fn dump(&self) -> String {
        self.db.dump().await
    }

    /// Runs SQL statements on one connection to the database, for states the API cannot
    /// produce (data migrated from MOSIP, rows changed behind pms's back).
    pub async fn sql(&self, statements: &str) {
        self.db.exec(statements).await
    }

    /// The number of audit rows.
    pub async fn audit_count(&self) -> i64 {
        self.db
            .strings("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log")
            .await[0]
            .parse()
            .unwrap()
    }
}

/// Runs `f` and asserts the database did not change.
#[macro_export]
macro_rules! unchanged {
    ($app:expr, $body:expr) => {{
        let before = $app.dump().await;
        let r = $body;
        assert_eq!(
            before,
            $app.dump().await,
            "the request changed the database"
        );
        r
    }};
}

pub fn now_str(app: &TestApp) -> String {
    format_ts(&app.clock.now())
}

impl TestDb {
    /// Every outbox row, as text (the outbox is not part of [`TestDb::dump`]).
    pub async fn outbox_dump(&self) -> String {
        let sql = match self {
            TestDb::Sqlite(_) => {
                let cols = self
                    .strings("SELECT name FROM pragma_table_info('outbox')")
                    .await;
                format!(
                    "SELECT json_group_array(json_array({})) FROM (SELECT * FROM outbox ORDER BY id)",
                    cols.join(", ")
                )
            }
            TestDb::Postgres(_) => {
                "SELECT coalesce(json_agg(t ORDER BY t.id), '[]')::text FROM outbox t".to_string()
            }
        };
        self.strings(&sql).await.concat()
    }

    /// The number of outbox rows in `state`.
    pub async fn outbox_count(&self, state: &str) -> i64 {
        self.strings(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE state = '{state}'"
        ))
        .await[0]
            .parse()
            .unwrap()
    }
}

/// Starts the real binary (`pms serve`) on `data_dir` and `db` with the extra environment `env`;
/// returns the child and its base URL.
pub async fn start_pms_binary(
    data_dir: &std::path::Path,
    db: &TestDb,
    env: &[(String, String)],
) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .arg("serve")
        .env("PMS_DATA_DIR", data_dir)
        .env("PMS_DATABASE__URL", db.url())
        .env("PMS_HTTP__PORT", "0")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = listening_base(&mut child).await;
    (child, base)
}

/// The base URL of a `pms serve` child started with a piped stdout, from its one line
/// `pms listening on <addr>`; panics with the exit status if it stops before listening.
pub async fn listening_base(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("pms prints its listening line within 30 s")
        .unwrap();
    let Some(line) = line else {
        let status = child.wait().await.unwrap();
        panic!("pms exited before listening: {status}");
    };
    let addr = line.strip_prefix("pms listening on ").unwrap().to_string();
    format!("http://{addr}")
}

/// A token of the dev issuer of `data_dir`, from `pms token`.
pub fn pms_token(data_dir: &std::path::Path, user: &str, roles: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .args(["token", "--sub", user, "--roles", roles])
        .env("PMS_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A tmpfs of `size` on a directory of its own, unmounted (lazily: the app keeps its files open
/// until the test's runtime ends) when dropped. For a disk that really fills up (ENOSPC from the
/// kernel, as on a full volume).
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` when this process may not mount (not root): the caller says so and returns.
    pub fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        out.status.success().then_some(Self { dir })
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system of `dir` with a file, leaving about `leave` bytes free; returns it.
pub fn fill(dir: &std::path::Path, leave: u64) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("{e}"),
        }
    }
    f.set_len(written.saturating_sub(leave)).unwrap();
    f.sync_all().unwrap();
    path
}
