//! The store's outages and the server's own stderr: a database that cannot be reached or has no
//! room answers every request 503 with `Retry-After` and `PMS_PRT_503` (never 500), health says
//! `DOWN` while it lasts and `UP` after, and pms recovers without a restart; a log line that
//! cannot be written never costs a request its answer.

use crate::helpers::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const HEALTH: [&str; 2] = [
    "/v1/partnermanager/actuator/health",
    "/v1/policymanager/actuator/health",
];

/// Both health endpoints: the status every one answers (asserted equal) and the body.
async fn health(app: &TestApp) -> u16 {
    let mut statuses = Vec::new();
    for path in HEALTH {
        let r = app.send("GET", path, None, None).await;
        let want = if r.status == 200 { "UP" } else { "DOWN" };
        assert_eq!(r.body, json!({ "status": want }), "{path}");
        statuses.push(r.status);
    }
    assert_eq!(statuses[0], statuses[1], "both health endpoints agree");
    statuses[0]
}

/// A 503 in the MOSIP envelope with a `Retry-After` and `PMS_PRT_503` whose message names
/// `reason`.
#[track_caller]
fn assert_outage(r: &Resp, reason: &str) {
    assert_eq!(r.status, 503, "{}", r.body);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {:?}", r.headers));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(r.codes(), vec!["PMS_PRT_503".to_string()], "{}", r.body);
    assert!(
        r.messages()[0].contains(reason),
        "{:?} should name {reason}",
        r.messages()
    );
    assert!(r.body["response"].is_null(), "{}", r.body);
}

async fn new_group(app: &TestApp, name: &str) -> Resp {
    app.call(
        "POST",
        "/v1/policymanager/policies/group/new",
        "pm1",
        POLICY_MANAGER,
        Some(json!({ "name": name, "desc": "a group" })),
    )
    .await
}

/// The V2 deactivate of a policy group (a V2 endpoint that writes).
async fn deactivate_group(app: &TestApp, id: &str) -> Resp {
    let token = app.token("pm1", POLICY_MANAGER);
    let id_v2 = "mosip.pms.deactivate.policy.group.patch";
    app.send(
        "PATCH",
        &format!("/v1/policymanager/policies/group/{id}"),
        Some(&token),
        Some(&envelope_v2(id_v2, json!({ "status": "De-Activate" }))),
    )
    .await
}

// ---- SQLite: the disk fills up

/// A real full disk, not a simulated one: the database lives on a small tmpfs that the test
/// fills, so SQLite meets ENOSPC from the kernel exactly as on a full volume (SQLITE_FULL from
/// the WAL append of a commit). SQLite's own `max_page_count` would give SQLITE_FULL too, but
/// from a page count, not from the file system, and no setting of pms reaches it.
#[tokio::test]
async fn sqlite_full_disk_is_503_with_health_down_until_space_returns() {
    let Some(disk) = SmallDisk::mount("16m") else {
        eprintln!("skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let data = tempfile::tempdir_in(disk.path()).unwrap();
    let db = TestDb::Sqlite(data.path().join("pms.db"));
    let app = spawn_in(data, db, |_| {}).await;
    let group_id = app.create_group("kept").await;
    assert_eq!(health(&app).await, 200);

    let filler = fill(disk.path(), 256 * 1024);
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..2000 {
        let name = format!("group {i} {}", "x".repeat(100));
        let r = new_group(&app, &name).await;
        if r.status == 200 {
            r.ok();
            acknowledged.push(name);
        } else {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the disk never filled up");
    assert_outage(&refused, "disk full");
    // Every write answers so while the disk is full, in its endpoint's envelope; reads still
    // work.
    assert_outage(&new_group(&app, "one more").await, "disk full");
    assert_eq!(refused.body["id"], "mosip.test", "{}", refused.body);
    let v2 = deactivate_group(&app, &group_id).await;
    assert_outage(&v2, "disk full");
    assert_eq!(
        v2.body["id"], "mosip.pms.deactivate.policy.group.patch",
        "{}",
        v2.body
    );
    assert!(v2.body.get("responseTime").is_some(), "{}", v2.body);
    assert_eq!(health(&app).await, 503, "health while the disk is full");
    assert_eq!(health(&app).await, 503, "health stays DOWN");
    app.get(
        "/v1/policymanager/policies/group/all",
        "pm1",
        POLICY_MANAGER,
    )
    .await
    .ok();

    // Space comes back: health and writes recover without a restart, and every write that
    // was acknowledged is there.
    std::fs::remove_file(filler).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(health(&app).await, 200, "health once space is back");
    new_group(&app, "after").await.ok();
    deactivate_group(&app, &group_id).await.ok();
    let names = app.db.strings("SELECT name FROM policy_group").await;
    for n in &acknowledged {
        assert!(names.contains(n), "acknowledged group {n} lost");
    }
    assert!(names.contains(&"after".to_string()));
    drop(app);
}

// ---- PostgreSQL: the connection is cut

/// A TCP proxy in front of `target` that the test can cut (every open connection closed, new
/// ones refused) and restore.
struct Proxy {
    port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = tokio::sync::watch::channel(true);
        let rx = up.subscribe();
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut state = rx.clone();
                if !*state.borrow_and_update() {
                    // Refused: closed at once, as a server that is down would.
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut ri, mut wi) = inbound.into_split();
                    let (mut ro, mut wo) = outbound.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut ri, &mut wo) => {}
                        _ = tokio::io::copy(&mut ro, &mut wi) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// PostgreSQL restarting or failing over, seen from pms: the server closes every connection and
/// refuses new ones for a while, then accepts them again.
#[tokio::test]
async fn postgres_connection_cut_is_503_with_health_down_until_it_returns() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("skipped: PMS_TEST_POSTGRES_URL is not set");
        return;
    };
    let url = fresh_postgres_database(&admin).await;
    let (head, rest) = url.split_once('@').unwrap();
    let (hostport, database) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(hostport.to_string()).await;
    let via_proxy = format!("{head}@127.0.0.1:{}/{database}", proxy.port);
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_in(dir, TestDb::Postgres(url.clone()), |c| {
        c.database.url = via_proxy.into();
        c.database.connect_timeout_secs = 1;
    })
    .await;
    let group_id = app.create_group("kept").await;
    assert_eq!(health(&app).await, 200);

    proxy.cut();
    let r = new_group(&app, "during the cut").await;
    assert_outage(&r, "database unavailable");
    assert_eq!(r.body["id"], "mosip.test", "{}", r.body);
    let v2 = deactivate_group(&app, &group_id).await;
    assert_outage(&v2, "database unavailable");
    assert_eq!(
        v2.body["id"], "mosip.pms.deactivate.policy.group.patch",
        "{}",
        v2.body
    );
    let read = app
        .get(
            "/v1/policymanager/policies/group/all",
            "pm1",
            POLICY_MANAGER,
        )
        .await;
    assert_outage(&read, "database unavailable");
    assert_eq!(
        health(&app).await,
        503,
        "health while the database is cut off"
    );

    proxy.restore();
    assert_eq!(health(&app).await, 200, "health once the database is back");
    new_group(&app, "after").await.ok();
    deactivate_group(&app, &group_id).await.ok();
    let names = app.db.strings("SELECT name FROM policy_group").await;
    assert!(names.contains(&"after".to_string()), "{names:?}");
    assert!(!names.contains(&"during the cut".to_string()), "{names:?}");
}

// ---- stderr that cannot be written

/// Starts `pms serve` (SQLite, debug logs) with stderr on `stderr`; the child and its base URL.
async fn start_with_stderr(
    data_dir: &Path,
    stderr: std::process::Stdio,
) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .arg("serve")
        .env("PMS_DATA_DIR", data_dir)
        .env(
            "PMS_DATABASE__URL",
            TestDb::Sqlite(data_dir.join("pms.db")).url(),
        )
        .env("PMS_HTTP__PORT", "0")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = listening_base(&mut child).await;
    (child, base)
}

/// Every request of a short journey against `base` gets its answer.
async fn journey_answers(data_dir: &Path, base: &str) {
    let client = reqwest::Client::new();
    let token = pms_token(data_dir, "pm1", "POLICYMANAGER");
    for i in 0..20 {
        let body = envelope(json!({ "name": format!("g{i}"), "desc": "a group" }));
        let r = client
            .post(format!("{base}/v1/policymanager/policies/group/new"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("write {i} got no answer: {e}"));
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"], json!([]), "{v}");
        // A failing request logs at error level on its own path too.
        let r = client
            .post(format!("{base}/v1/policymanager/policies/group/new"))
            .bearer_auth(&token)
            .body("{not json")
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("bad request {i} got no answer: {e}"));
        assert_eq!(r.status(), 400);
    }
    let r = client
        .get(format!("{base}/v1/partnermanager/actuator/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// stderr on a full disk (`/dev/full`: every write fails with ENOSPC) and stderr into a pipe
/// nobody reads any more (EPIPE), with debug logs so that every request writes log lines.
#[tokio::test]
async fn unwritable_stderr_never_costs_a_request_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let (mut child, base) = start_with_stderr(dir.path(), full.into()).await;
    journey_answers(dir.path(), &base).await;
    assert!(child.try_wait().unwrap().is_none(), "pms exited");
    child.kill().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let (mut child, base) = start_with_stderr(dir.path(), writer.into()).await;
    journey_answers(dir.path(), &base).await;
    assert!(child.try_wait().unwrap().is_none(), "pms exited");
    child.kill().await.unwrap();
}
