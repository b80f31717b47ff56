//! The whole journey, request-processing stages shared by every endpoint, health, and
//! durability across a `kill -9`.

use crate::helpers::*;
use crate::unchanged;
use serde_json::json;

#[tokio::test]
async fn journey_from_empty_database_to_approved_mapping() {
    let app = spawn_app().await;
    let (group_id, policy_id) = app.published_policy("health group", "health policy").await;
    app.register_partner("rp-1", "health group").await.ok();
    app.activate_partner("rp-1").await;
    let key = app.request_mapping("rp-1", "health policy").await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .call(
            "PUT",
            &format!("/v1/partnermanager/partners/policy/{key}"),
            "admin1",
            ADMIN,
            Some(json!({ "status": "Approved" })),
        )
        .await;
    assert_eq!(r.ok(), &json!("Policy mapping approved successfully"));
    let list = app
        .get(
            "/v1/partnermanager/partner-policy-requests",
            "rp-1",
            AUTH_PARTNER,
        )
        .await;
    let data = &list.ok()["data"];
    assert_eq!(data.as_array().unwrap().len(), 1);
    assert_eq!(data[0]["status"], "approved");
    assert_eq!(data[0]["policyId"], policy_id.as_str());
    assert_eq!(data[0]["policyGroupId"], group_id.as_str());
    assert_eq!(data[0]["partnerStatus"], "activated");
    // every mutation wrote its audit row: group, policy, publish, register, activate, request, approve
    assert_eq!(app.audit_count().await, 7);
}

#[tokio::test]
async fn envelope_echoes_id_and_version_and_formats_time() {
    let app = spawn_app().await;
    let r = app
        .call(
            "POST",
            "/v1/policymanager/policies/group/new",
            "pm1",
            POLICY_MANAGER,
            Some(json!({ "name": "g", "desc": "d" })),
        )
        .await;
    r.ok();
    assert_eq!(r.body["id"], "mosip.test");
    assert_eq!(r.body["version"], "1.0");
    assert!(r.body["metadata"].is_null());
    assert_eq!(r.body["responsetime"], now_str(&app));
    assert_eq!(r.headers["content-type"], "application/json");
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    let r = app
        .send("GET", "/v1/partnermanager/nothing-here", Some(&t), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.codes(), vec!["PMS_EXT_003"]);
    let r = app
        .send(
            "DELETE",
            "/v1/policymanager/policies/group/new",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.codes(), vec!["PMS_EXT_004"]);
    assert_eq!(r.messages(), vec!["Method not allowed"]);
}

#[tokio::test]
async fn trailing_slash_is_not_significant() {
    let app = spawn_app().await;
    let r = app
        .call(
            "POST",
            "/v1/policymanager/policies/group/new/",
            "pm1",
            POLICY_MANAGER,
            Some(json!({ "name": "g", "desc": "d" })),
        )
        .await;
    r.ok();
}

#[tokio::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    for raw in ["{\"request\": ", "", "[1,2]", "\"text\""] {
        let r = unchanged!(app, {
            app.client
                .post(format!("{}/v1/policymanager/policies/group/new", app.base))
                .bearer_auth(&t)
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap()
        });
        assert_eq!(r.status(), 400, "{raw:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["errorCode"], "PMS_COR_001");
        assert_eq!(
            body["errors"][0]["message"],
            "Invalid request parameter - malformed JSON body :body"
        );
        assert!(body["response"].is_null());
    }
}

#[tokio::test]
async fn body_over_the_limit_is_413_and_changes_nothing() {
    let app = spawn_with(|c| c.http.max_body_bytes = 1000).await;
    let big = envelope(json!({ "name": "g", "desc": "x".repeat(2000) }));
    let t = app.token("pm1", POLICY_MANAGER);
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(&t),
            Some(&big)
        )
        .await
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.codes(), vec!["PMS_EXT_001"]);
    assert_eq!(
        r.messages(),
        vec!["Request body exceeds the size limit of 1000 bytes"]
    );
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    let r = unchanged!(app, {
        app.client
            .post(format!("{}/v1/policymanager/policies/group/new", app.base))
            .bearer_auth(&t)
            .header("content-type", "text/plain")
            .body(envelope(json!({ "name": "g", "desc": "d" })).to_string())
            .send()
            .await
            .unwrap()
    });
    assert_eq!(r.status(), 415);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorCode"], "PMS_EXT_002");
}

#[tokio::test]
async fn missing_or_garbled_requesttime_is_request_error_004() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    for time in [
        json!(null),
        json!("2026-01-01T09:00:00Z"),
        json!(12),
        json!("2026-13-01T09:00:00.000Z"),
    ] {
        let body = json!({ "id": "x", "version": "1.0", "requesttime": time, "request": { "name": "g", "desc": "d" } });
        let r = unchanged!(
            app,
            app.send(
                "POST",
                "/v1/policymanager/policies/group/new",
                Some(&t),
                Some(&body)
            )
            .await
        );
        r.assert_error("PMS_REQUEST_ERROR_004", "Invalid request time");
        assert_eq!(r.body["id"], "x");
    }
    // absent entirely; the other spelling is accepted
    let body = json!({ "request": { "name": "g", "desc": "d" } });
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(&t),
            Some(&body)
        )
        .await
    );
    r.assert_error("PMS_REQUEST_ERROR_004", "Invalid request time");
    let body = json!({ "requestTime": "2026-01-01T09:00:00.000Z", "request": { "name": "g", "desc": "d" } });
    app.send(
        "POST",
        "/v1/policymanager/policies/group/new",
        Some(&t),
        Some(&body),
    )
    .await
    .ok();
}

#[tokio::test]
async fn clock_skew_check_when_configured() {
    let app = spawn_with(|c| c.request.max_clock_skew_seconds = 60).await;
    let t = app.token("pm1", POLICY_MANAGER);
    let body = json!({ "requesttime": "2025-01-01T09:00:00.000Z", "request": { "name": "g", "desc": "d" } });
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(&t),
            Some(&body)
        )
        .await
    );
    r.assert_error(
        "PMS_REQUEST_ERROR_006",
        "Request time is outside the allowed clock skew",
    );
}

#[tokio::test]
async fn all_field_failures_are_reported_in_order() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    let body = json!({ "request": { "name": "", "desc": 5 } });
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(&t),
            Some(&body)
        )
        .await
    );
    assert_eq!(
        r.codes(),
        vec!["PMS_REQUEST_ERROR_004", "PMS_COR_001", "PMS_COR_001"]
    );
    assert_eq!(
        r.messages()[1..],
        [
            "Invalid request parameter - value is empty or null :request.name".to_string(),
            "Invalid request parameter - invalid type, expected string :request.desc".to_string()
        ]
    );
    let body = json!({ "requesttime": "2026-01-01T09:00:00.000Z" });
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(&t),
            Some(&body)
        )
        .await
    );
    r.assert_error(
        "PMS_COR_001",
        "Invalid request parameter - must not be null :request",
    );
}

#[tokio::test]
async fn health_is_up_without_a_token() {
    let app = spawn_app().await;
    for path in [
        "/v1/partnermanager/actuator/health",
        "/v1/policymanager/actuator/health",
    ] {
        let r = app.send("GET", path, None, None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, json!({ "status": "UP" }));
    }
}

/// Starts the real binary on `data_dir`; returns the child and its base URL.
async fn start_binary(data_dir: &std::path::Path, db: &TestDb) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .arg("serve")
        .env("PMS_DATA_DIR", data_dir)
        .env("PMS_DATABASE__URL", db.url())
        .env("PMS_HTTP__PORT", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = line.strip_prefix("pms listening on ").unwrap().to_string();
    (child, format!("http://{addr}"))
}

fn cli_token(data_dir: &std::path::Path, user: &str, roles: &str) -> String {
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

#[tokio::test]
async fn everything_acknowledged_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path()).await;
    let (mut child, base) = start_binary(dir.path(), &db).await;
    let token = cli_token(dir.path(), "pm1", "POLICYMANAGER");
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..20 {
        let body = json!({ "requesttime": "2026-01-01T09:00:00.000Z", "request": { "name": format!("group {i}"), "desc": "d" } });
        let r: serde_json::Value = client
            .post(format!("{base}/v1/policymanager/policies/group/new"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["response"]["id"].as_str().unwrap().to_string());
    }
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    let (_child, base) = start_binary(dir.path(), &db).await;
    for id in ids {
        let r: serde_json::Value = client
            .get(format!("{base}/v1/policymanager/policies/group/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["response"]["policyGroup"]["id"], id.as_str(), "{r}");
    }
}

#[tokio::test]
async fn token_command_refuses_outside_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .args(["token", "--sub", "u", "--roles", "R"])
        .env("PMS_DATA_DIR", dir.path())
        .env("PMS_AUTH__MODE", "jwks")
        .env("PMS_AUTH__ISSUER", "https://kc.example/realms/mosip")
        .env("PMS_AUTH__JWKS_URI", "http://127.0.0.1:1/certs")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("auth.mode = dev"), "{err}");
}

#[tokio::test]
async fn bad_config_stops_start_up_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .args(["serve"])
        .env("PMS_DATA_DIR", dir.path())
        .env("PMS_DATABASE__URL", "mysql://localhost/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("pms: error:") && last.contains("unknown scheme"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn unreachable_postgres_stops_start_up_with_one_line_and_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .args(["serve"])
        .env("PMS_DATA_DIR", dir.path())
        // port 1: nothing listens there
        .env("PMS_DATABASE__URL", "postgres://pms:s3cret@127.0.0.1:1/pms")
        .env("PMS_DATABASE__CONNECT_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("pms: error:") && last.contains("cannot connect to the database"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[cfg(unix)]
#[test]
fn dev_signing_key_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    cli_token(dir.path(), "u", "R");
    let mode = std::fs::metadata(dir.path().join("dev-signing-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// No backend can store a NUL character (PostgreSQL refuses it), so it is refused everywhere
/// with a 400 (after authentication and the role check) instead of surfacing as a database
/// fault.
#[tokio::test]
async fn nul_characters_are_refused_at_the_edge() {
    let app = spawn_app().await;
    let token = app.token("admin1", ADMIN);
    let body = envelope(
        json!({ "partnerId": "p\u{0}1", "organizationName": "o", "address": "a",
        "contactNumber": "1", "emailId": "p1@x.org", "partnerType": "Auth_Partner" }),
    );
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/partnermanager/partners",
            Some(&token),
            Some(&body)
        )
        .await
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["errors"],
        json!([{ "errorCode": "PMS_COR_001", "message": "Invalid request parameter - must not contain NUL characters :body" }])
    );
    for (path, place) in [
        ("/v1/partnermanager/partners/p%001", "path"),
        ("/v1/partnermanager/oauth/client?clientName=a%00", "query"),
    ] {
        let r = app.send("GET", path, Some(&token), None).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(
            r.body["errors"][0]["message"],
            format!("Invalid request parameter - must not contain NUL characters :{place}")
        );
    }
}
