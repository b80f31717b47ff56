//! The service's edge as an attacker meets it: metric labels from a fixed set, connection
//! timeouts and limits, secrets kept out of logs and errors, dev mode on a public address.

use crate::helpers::*;

/// `GET /metrics` as text.
async fn metrics_text(app: &TestApp) -> String {
    let r = app.send("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    r.body.as_str().unwrap().to_string()
}

#[tokio::test]
async fn invented_methods_and_paths_do_not_make_new_metric_series() {
    let app = spawn_app().await;
    let before = metrics_text(&app).await.len();
    for i in 0..300 {
        let path = if i % 2 == 0 {
            format!("/x{i}")
        } else {
            "/v1/partnermanager/partners".to_string()
        };
        let r = app.send(&format!("M{i}"), &path, None, None).await;
        assert!(r.status >= 400 && r.status < 500, "{}", r.status);
    }
    // A standard method on made-up paths: one `unmatched` route, not a route per path.
    for i in 0..50 {
        app.send("GET", &format!("/nothing/{i}"), None, None).await;
    }
    let text = metrics_text(&app).await;
    assert!(!text.contains("method=\"M"), "{text}");
    assert!(!text.contains("/x1"), "{text}");
    assert!(!text.contains("/nothing/"), "{text}");
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(text.contains("route=\"unmatched\""), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("pms_http_requests_total{"))
        .count();
    assert!(series <= 6, "{series} request series:\n{text}");
    // The exposition grew by a few series, not by hundreds.
    assert!(text.len() < before + 20_000, "{} -> {}", before, text.len());
}

mod connections {
    use super::*;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const HEALTH: &str =
        "GET /v1/partnermanager/actuator/health HTTP/1.1\r\nHost: pms.test\r\n\r\n";

    async fn spawn_limited(header: u64, idle: u64, request: u64, max: u32) -> TestApp {
        spawn_with(|c| {
            c.http.header_read_timeout_seconds = header;
            c.http.idle_timeout_seconds = idle;
            c.http.request_timeout_seconds = request;
            c.http.max_connections = max;
        })
        .await
    }

    async fn connect(app: &TestApp) -> TcpStream {
        TcpStream::connect(app.base.trim_start_matches("http://"))
            .await
            .unwrap()
    }

    /// Reads until the peer closes (or resets); `None` if it is still open after `limit`.
    async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(limit.saturating_sub(started.elapsed()), s.read(&mut buf))
                .await
            {
                Err(_) => return None,
                Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
                Ok(Ok(_)) => continue,
            }
        }
    }

    /// One complete response (head and `Content-Length` body) as text.
    async fn read_response(s: &mut TcpStream) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
                .await
                .expect("a response in time")
                .unwrap();
            assert!(n > 0, "closed before a whole response");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    return text;
                }
            }
        }
    }

    #[tokio::test]
    async fn a_half_sent_request_head_is_cut_off() {
        let app = spawn_limited(1, 60, 30, 4096).await;
        let mut s = connect(&app).await;
        s.write_all(b"GET /v1/partnermanager/actuator/health HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let after = closed_within(&mut s, Duration::from_secs(6)).await;
        let after = after.expect("a half-sent head must not hold the connection");
        assert!(after >= Duration::from_millis(800), "{after:?}");
    }

    #[tokio::test]
    async fn a_silent_connection_is_cut_off() {
        let app = spawn_limited(1, 60, 30, 4096).await;
        let mut s = connect(&app).await;
        assert!(closed_within(&mut s, Duration::from_secs(6))
            .await
            .is_some());
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
        // Idle 1 s, head 3 s: the close comes from the idle timeout.
        let app = spawn_limited(3, 1, 30, 4096).await;
        let mut s = connect(&app).await;
        s.write_all(HEALTH.as_bytes()).await.unwrap();
        assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
        let after = closed_within(&mut s, Duration::from_secs(6)).await;
        let after = after.expect("an idle connection must be closed");
        assert!(after < Duration::from_millis(2800), "{after:?}");

        // Head 1 s, idle 4 s: a connection idle longer than the head timeout still serves.
        let app = spawn_limited(1, 4, 30, 4096).await;
        let mut s = connect(&app).await;
        for _ in 0..2 {
            s.write_all(HEALTH.as_bytes()).await.unwrap();
            assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
            tokio::time::sleep(Duration::from_millis(1800)).await;
        }
    }

    #[tokio::test]
    async fn a_request_whose_body_never_completes_gets_408_in_the_envelope() {
        let app = spawn_limited(10, 60, 1, 4096).await;
        let before = app.dump().await;
        let token = app.token("pm1", POLICY_MANAGER);
        let mut s = connect(&app).await;
        let head = format!(
            "POST /v1/policymanager/policies/group/new HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n{{\"id\":\"mosip.partnermanagement.policy"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let response = read_response(&mut s).await;
        assert!(started.elapsed() >= Duration::from_millis(800));
        assert!(response.starts_with("HTTP/1.1 408"), "{response}");
        assert!(response.to_ascii_lowercase().contains("connection: close"));
        assert!(response.contains("application/json"), "{response}");
        let body: serde_json::Value =
            serde_json::from_str(&response[response.find("\r\n\r\n").unwrap() + 4..]).unwrap();
        assert_eq!(body["errors"][0]["errorCode"], "PMS_EXT_008");
        assert_eq!(
            body["errors"][0]["message"],
            "Request not completed within 1 seconds"
        );
        assert!(closed_within(&mut s, Duration::from_secs(3))
            .await
            .is_some());
        assert_eq!(app.dump().await, before);
    }

    #[tokio::test]
    async fn a_portal_form_whose_body_never_completes_gets_a_408_page() {
        let app = spawn_limited(10, 60, 1, 4096).await;
        let mut s = connect(&app).await;
        s.write_all(
            b"POST /portal/policy/groups HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nname=g",
        )
        .await
        .unwrap();
        let response = read_response(&mut s).await;
        assert!(response.starts_with("HTTP/1.1 408"), "{response}");
        assert!(response.contains("text/html"), "{response}");
        assert!(response.contains("Request timed out"), "{response}");
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_wait_and_are_served_later() {
        let app = spawn_limited(10, 60, 30, 2).await;
        let mut first = connect(&app).await;
        first.write_all(HEALTH.as_bytes()).await.unwrap();
        assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
        let _second = connect(&app).await;
        // Give the server time to take the second connection.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut third = connect(&app).await; // completes in the kernel's accept queue
        third.write_all(HEALTH.as_bytes()).await.unwrap();
        let mut buf = [0u8; 64];
        assert!(
            tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf))
                .await
                .is_err(),
            "a third connection must wait while two are open"
        );
        drop(first);
        assert!(read_response(&mut third).await.starts_with("HTTP/1.1 200"));
        // Many more than the limit, one after another: all served, pms still up.
        for _ in 0..20 {
            let r = app
                .send("GET", "/v1/partnermanager/actuator/health", None, None)
                .await;
            assert_eq!(r.status, 200);
        }
    }

    #[tokio::test]
    async fn sigterm_finishes_the_request_in_flight_and_closes_idle_connections() {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(dir.path()).await;
        let (mut child, base) = start_pms_binary(dir.path(), &db, &[]).await;
        let addr = base.trim_start_matches("http://").to_string();
        let mut idle = TcpStream::connect(&addr).await.unwrap();
        idle.write_all(HEALTH.as_bytes()).await.unwrap();
        assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
        // A request in flight: its head is in, its body not yet.
        let token = pms_token(dir.path(), "pm1", "POLICYMANAGER");
        let body = envelope(serde_json::json!({"name": "g1", "desc": "d"})).to_string();
        let mut busy = TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /v1/policymanager/policies/group/new HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        busy.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pid = child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        tokio::time::sleep(Duration::from_millis(300)).await;
        busy.write_all(body.as_bytes()).await.unwrap();
        let response = read_response(&mut busy).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("\"name\":\"g1\""), "{response}");
        assert!(closed_within(&mut idle, Duration::from_secs(5))
            .await
            .is_some());
        let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("pms stops after SIGTERM")
            .unwrap();
        assert!(status.success(), "{status:?}");
    }
}

mod secrets {
    use super::*;
    use std::process::Stdio;
    use std::time::Duration;

    const SECRETS: [&str; 5] = [
        "svc-Secret-41",
        "csrf-Secret-42",
        "oidc-Secret-43",
        "db-Secret-44",
        "db-Secret-45",
    ];

    fn assert_no_secret(output: &str) {
        for s in SECRETS {
            assert!(!output.contains(s), "{s} appears in:\n{output}");
        }
    }

    #[tokio::test]
    async fn a_failed_start_up_never_prints_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_pms"))
            .arg("serve")
            .env("RUST_LOG", "debug")
            .env("PMS_DATA_DIR", dir.path())
            .env(
                "PMS_DATABASE__URL",
                format!(
                    "postgres://pms:{}@127.0.0.1:1/pms?sslmode=disable&password={}",
                    SECRETS[3], SECRETS[4]
                ),
            )
            .env("PMS_DATABASE__CONNECT_TIMEOUT_SECS", "1")
            .env("PMS_SERVICE_TOKEN__CLIENT_SECRET", SECRETS[0])
            .env("PMS_PORTAL__CSRF_SECRET", SECRETS[1])
            .env("PMS_PORTAL__OIDC_CLIENT_SECRET", SECRETS[2])
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(!out.status.success());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("pms: error: cannot connect to the database"),
            "{text}"
        );
        assert!(text.contains("password=***"), "{text}");
        assert_no_secret(&text);
    }

    #[tokio::test]
    async fn secrets_never_reach_the_debug_log() {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(dir.path()).await;
        // On PostgreSQL the URL carries passwords (trust authentication ignores them).
        let url = match &db {
            TestDb::Postgres(u) => format!(
                "{}?password={}",
                u.replacen("postgres@", &format!("postgres:{}@", SECRETS[3]), 1),
                SECRETS[4]
            ),
            TestDb::Sqlite(_) => db.url(),
        };
        let log = dir.path().join("stderr.log");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pms"))
            .arg("serve")
            .env("RUST_LOG", "debug")
            .env("PMS_DATA_DIR", dir.path())
            .env("PMS_DATABASE__URL", &url)
            .env("PMS_HTTP__PORT", "0")
            // A hub that refuses connections: the worker fetches a token for every attempt.
            .env("PMS_WEBSUB__HUB_URL", "http://127.0.0.1:1/hub")
            .env("PMS_SERVICE_TOKEN__TOKEN_URL", "http://127.0.0.1:1/token")
            .env("PMS_SERVICE_TOKEN__CLIENT_ID", "pms")
            .env("PMS_SERVICE_TOKEN__CLIENT_SECRET", SECRETS[0])
            .env("PMS_PORTAL__CSRF_SECRET", SECRETS[1])
            .env("PMS_PORTAL__OIDC_CLIENT_SECRET", SECRETS[2])
            .env("PMS_DELIVERY__BASE_DELAY_SECONDS", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let base = listening_base(&mut child).await;
        // A policy group, a policy and its publication: WebSub rows for the worker to try.
        let token = pms_token(dir.path(), "pm1", "POLICYMANAGER");
        let client = reqwest::Client::new();
        let post = |path: &str, body: serde_json::Value| {
            client
                .post(format!("{base}{path}"))
                .bearer_auth(&token)
                .json(&envelope(body))
                .send()
        };
        let r: serde_json::Value = post(
            "/v1/policymanager/policies/group/new",
            serde_json::json!({"name": "g1", "desc": "d"}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let gid = r["response"]["id"].as_str().unwrap().to_string();
        let policy = serde_json::json!({ "policyGroupName": "g1", "policyType": "Auth",
            "name": "p1", "desc": "desc", "version": "1.0", "policies": sample_policy() });
        let r: serde_json::Value = post("/v1/policymanager/policies", policy)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pid = r["response"]["id"].as_str().unwrap().to_string();
        let r = client
            .post(format!(
                "{base}/v1/policymanager/policies/{pid}/group/{gid}/publish"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let os_pid = child.id().unwrap().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &os_pid])
            .status()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .unwrap()
            .unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        // The log did see the configuration and the worker's failed token fetches.
        assert!(text.contains("configuration loaded"), "{text}");
        assert!(text.contains("127.0.0.1:1"), "{text}");
        assert_no_secret(&text);
    }
}

mod dev_mode {
    use super::*;

    #[tokio::test]
    async fn dev_mode_on_a_public_address_stops_start_up_with_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_pms"))
            .arg("serve")
            .env("PMS_DATA_DIR", dir.path())
            .env("PMS_HTTP__HOST", "0.0.0.0")
            .env("PMS_HTTP__PORT", "0")
            .output()
            .await
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "it must not listen");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("pms: error")).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].contains("auth.allow_dev_mode_on_public_address"),
            "{err}"
        );
        assert!(lines[0].contains("0.0.0.0"), "{err}");
    }

    #[tokio::test]
    async fn dev_mode_allowed_on_a_public_address_warns_on_every_portal_page() {
        let app = spawn_with(|c| {
            c.http.host = "0.0.0.0".into();
            c.auth.allow_dev_mode_on_public_address = true;
        })
        .await;
        for path in ["/portal", "/portal/dev-sign-in", "/portal/no-such-page"] {
            let r = app.send("GET", path, None, None).await;
            let page = r.body.as_str().unwrap();
            assert!(
                page.contains("development sign-in on a public address"),
                "{path}: {page}"
            );
        }
        // The API's answers are untouched.
        let r = app
            .send("GET", "/v1/partnermanager/actuator/health", None, None)
            .await;
        assert_eq!(r.body["status"], "UP");

        // On loopback, no warning.
        let app = spawn_app().await;
        let r = app.send("GET", "/portal/dev-sign-in", None, None).await;
        assert!(!r
            .body
            .as_str()
            .unwrap()
            .contains("development sign-in on a public address"));
    }
}
