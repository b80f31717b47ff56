//! The server's own stderr: a log line that cannot be written never costs a request its
//! answer.

use crate::helpers::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

// ---- stderr that cannot be written

/// Starts `pms serve` (SQLite, debug logs) with stderr on `stderr`; the child and its base URL.
async fn start_with_stderr(
    data_dir: &Path,
    stderr: std::process::Stdio,
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
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
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    let Some(line) = line else {
        let status = child.wait().await.unwrap();
        panic!("pms exited before listening: {status}");
    };
    let addr = line.strip_prefix("pms listening on ").unwrap().to_string();
    (child, format!("http://{addr}"))
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
