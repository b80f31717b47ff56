//! `pms copy-data` (issue: PostgreSQL backend): a populated SQLite database copied into an empty
//! target — PostgreSQL when `PMS_TEST_POSTGRES_URL` is set, else another SQLite file — answers
//! every GET with the same `response`, and a non-empty target is refused.

use crate::helpers::*;
use serde_json::{json, Value};

fn key() -> Value {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap()
}

/// An app on an SQLite file whatever the test backend, with some of everything in it.
async fn populated_sqlite_app() -> (TestApp, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::Sqlite(dir.path().join("pms.db"));
    let app = spawn_in(dir, db, |_| {}).await;
    let (_, pol) = app.published_policy("g", "pol").await;
    app.create_group("empty group").await;
    app.create_policy("g", "draft").await;
    let mut clients = Vec::new();
    for p in ["rp1", "rp2"] {
        app.register_partner(p, "g").await.ok();
        app.activate_partner(p).await;
        let mapping = app.request_mapping(p, "pol").await.ok()["mappingkey"]
            .as_str()
            .unwrap()
            .to_string();
        app.call(
            "PUT",
            &format!("/v1/partnermanager/partners/policy/{mapping}"),
            "admin1",
            ADMIN,
            Some(json!({ "status": "Approved" })),
        )
        .await
        .ok();
        for (i, path) in ["oidc", "oauth"].into_iter().enumerate() {
            let body = json!({
                "name": format!("{p} client {i}"), "policyId": pol, "publicKey": key(), "authPartnerId": p,
                "logoUri": "https://rp.example/logo.png", "redirectUris": ["https://rp.example/cb", "http://localhost:5000/**"],
                "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"],
                "clientNameLangMap": { "fra": "Portail", "eng": "Portal", "ara": "بوابة" }
            });
            let r = app
                .call(
                    "POST",
                    &format!("/v1/partnermanager/{path}/client"),
                    p,
                    AUTH_PARTNER,
                    Some(body),
                )
                .await;
            clients.push(r.ok()["clientId"].as_str().unwrap().to_string());
            app.clock.advance(chrono::Duration::milliseconds(1234));
        }
    }
    app.register_partner("rp-pending", "g").await.ok();
    // one client deactivated, so updated timestamps travel too
    app.call(
        "PUT",
        &format!("/v1/partnermanager/oidc/client/{}", clients[0]),
        "rp1",
        AUTH_PARTNER,
        Some(json!({ "logoUri": "https://rp.example/logo.png", "redirectUris": ["https://rp.example/cb"],
                     "status": "INACTIVE", "grantTypes": ["authorization_code"], "clientName": "x",
                     "clientAuthMethods": ["private_key_jwt"] })),
    )
    .await
    .ok();
    (app, clients)
}

fn copy_data(from: &str, to: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_pms"))
        .args(["copy-data", "--from", from, "--to", to])
        .env("PMS_DATA_DIR", dir.path())
        .output()
        .unwrap()
}

/// The `response` member of every GET the data answers, as text.
async fn every_get(app: &TestApp, clients: &[String]) -> Vec<String> {
    let mut paths: Vec<String> = clients
        .iter()
        .flat_map(|c| {
            [
                format!("/v1/partnermanager/oauth/client/{c}"),
                format!("/v1/partnermanager/oidc/client/{c}"),
            ]
        })
        .collect();
    for p in ["rp1", "rp2", "rp-pending"] {
        paths.push(format!("/v1/partnermanager/partners/{p}"));
    }
    let policies = app
        .get("/v1/policymanager/policies", "pm1", POLICY_MANAGER)
        .await;
    for p in policies.ok().as_array().unwrap() {
        let id = p["policyId"].as_str().unwrap();
        paths.push(format!("/v1/policymanager/policies/{id}"));
    }
    paths.push("/v1/policymanager/policies/group/all".into());
    paths.push(
        "/v1/partnermanager/oauth/client?sortFieldName=clientId&sortType=asc&pageNo=0&pageSize=10"
            .into(),
    );
    paths.push("/v1/partnermanager/partner-policy-requests?sortFieldName=partnerId&sortType=asc&pageNo=0&pageSize=10".into());
    let mut out = Vec::new();
    for path in paths {
        let roles: &[&str] = if path.starts_with("/v1/policymanager") {
            POLICY_MANAGER
        } else {
            ADMIN
        };
        let user = if roles == POLICY_MANAGER {
            "pm1"
        } else {
            "admin1"
        };
        let r = app.get(&path, user, roles).await;
        out.push(format!("{path} {}", r.ok()));
    }
    out
}

#[tokio::test]
async fn copy_data_moves_everything_and_the_copy_answers_identically() {
    let (source, clients) = populated_sqlite_app().await;
    let before = every_get(&source, &clients).await;
    let target_dir = tempfile::tempdir().unwrap();
    let target = match postgres_admin_url() {
        Some(admin) => TestDb::Postgres(fresh_postgres_database(&admin).await),
        None => {
            eprintln!(
                "postgres: skipped (PMS_TEST_POSTGRES_URL not set); copying SQLite to SQLite"
            );
            TestDb::Sqlite(target_dir.path().join("copy.db"))
        }
    };
    let out = copy_data(&source.db.url(), &target.url());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        counts,
        "policy_group\t2\nauth_policy\t2\npartner\t3\npartner_policy_request\t2\noidc_client\t4\naudit_log\t"
            .to_string()
            + &source.audit_count().await.to_string()
            + "\noutbox\t0\n"
    );
    let copy = spawn_in(tempfile::tempdir().unwrap(), target.clone(), |_| {}).await;
    let after = every_get(&copy, &clients).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a);
    }
    // the audit trail arrived whole and in order
    let q = "SELECT action || ' ' || entity_id FROM audit_log ORDER BY id";
    assert_eq!(source.db.strings(q).await, target.strings(q).await);
}

#[tokio::test]
async fn copy_data_refuses_a_target_that_is_not_empty() {
    let (source, _) = populated_sqlite_app().await;
    let other = spawn_app().await;
    other.create_group("already here").await;
    let before = other.dump().await;
    let out = copy_data(&source.db.url(), &other.db.url());
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("pms: error:") && err.contains("not empty"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(before, other.dump().await);
}
