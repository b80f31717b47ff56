//! Many pms nodes, one database (issue: PostgreSQL backend): two app instances share the test's
//! database — PostgreSQL when `PMS_TEST_POSTGRES_URL` is set, else one SQLite file — and race.
//! Every race runs 20 rounds; no request may end in a 5xx.

use crate::helpers::*;
use serde_json::{json, Value};

/// Two nodes on one database, sharing the dev issuer's key as real nodes share Keycloak.
async fn two_nodes() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        a.dir.path().join("dev-signing-key.pem"),
        dir.path().join("dev-signing-key.pem"),
    )
    .unwrap();
    let b = spawn_in(dir, a.db.clone(), |_| {}).await;
    (a, b)
}

fn key() -> Value {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap()
}

fn client_body(policy_id: &str, key: Value) -> Value {
    json!({
        "name": "Portal", "policyId": policy_id, "publicKey": key, "authPartnerId": "rp1",
        "logoUri": "https://rp.example/logo.png", "redirectUris": ["https://rp.example/cb"],
        "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"]
    })
}

/// Group `g`, published policy `pol`, active `rp1` with the mapping approved: the policy id.
async fn ready(app: &TestApp) -> String {
    let (_, pol) = app.published_policy("g", "pol").await;
    app.register_partner("rp1", "g").await.ok();
    app.activate_partner("rp1").await;
    let key = app.request_mapping("rp1", "pol").await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    approve(app, &key).await.ok();
    pol
}

async fn approve(app: &TestApp, key: &str) -> Resp {
    app.call(
        "PUT",
        &format!("/v1/partnermanager/partners/policy/{key}"),
        "admin1",
        ADMIN,
        Some(json!({ "status": "Approved" })),
    )
    .await
}

async fn create(app: &TestApp, body: Value) -> Resp {
    app.call(
        "POST",
        "/v1/partnermanager/oidc/client",
        "rp1",
        AUTH_PARTNER,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn creates_spread_over_two_nodes_are_all_stored_exactly_once() {
    let (a, b) = two_nodes().await;
    let pol = ready(&a).await;
    let bodies: Vec<Value> = (0..40).map(|_| client_body(&pol, key())).collect();
    let results = futures_util::future::join_all(bodies.iter().enumerate().map(|(i, body)| {
        let node = if i % 2 == 0 { &a } else { &b };
        create(node, body.clone())
    }))
    .await;
    let mut ids: Vec<String> = results
        .iter()
        .map(|r| r.ok()["clientId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    for node in [&a, &b] {
        let page = node
            .get(
                "/v1/partnermanager/oauth/client?pageNo=0&pageSize=100&sortFieldName=clientId&sortType=asc",
                "admin1",
                ADMIN,
            )
            .await;
        let listed: Vec<String> = page.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["clientId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, ids);
    }
    let stored = a.db.strings("SELECT id FROM oidc_client").await;
    assert_eq!(stored.len(), 40);
}

#[tokio::test]
async fn the_same_key_on_both_nodes_at_once_creates_one_client() {
    let (a, b) = two_nodes().await;
    let pol = ready(&a).await;
    for round in 0..20 {
        let body = client_body(&pol, key());
        let (ra, rb) = tokio::join!(create(&a, body.clone()), create(&b, body.clone()));
        assert_eq!((ra.status, rb.status), (200, 200), "round {round}");
        let mut codes = vec![ra.codes(), rb.codes()];
        codes.sort();
        assert_eq!(
            codes,
            vec![vec![], vec!["PMS_ESI_001".to_string()]],
            "round {round}: {} / {}",
            ra.body,
            rb.body
        );
    }
    assert_eq!(a.db.strings("SELECT id FROM oidc_client").await.len(), 20);
}

#[tokio::test]
async fn the_same_mapping_approved_on_both_nodes_at_once_is_approved_once() {
    let (a, b) = two_nodes().await;
    ready(&a).await;
    let mut keys = Vec::new();
    for i in 0..20 {
        let name = format!("race {i}");
        a.published_policy_in("g", &name).await;
        let r = a.request_mapping("rp1", &name).await;
        keys.push(r.ok()["mappingkey"].as_str().unwrap().to_string());
    }
    for (round, key) in keys.iter().enumerate() {
        let (ra, rb) = tokio::join!(approve(&a, key), approve(&b, key));
        assert_eq!((ra.status, rb.status), (200, 200), "round {round}");
        let mut outcomes = vec![
            (ra.codes(), ra.body["response"].clone()),
            (rb.codes(), rb.body["response"].clone()),
        ];
        outcomes.sort_by_key(|o| o.0.clone());
        assert_eq!(
            outcomes,
            vec![
                (vec![], json!("Policy mapping approved successfully")),
                (vec!["PMS_PM_034".to_string()], Value::Null),
            ],
            "round {round}"
        );
    }
    let approvals =
        a.db.strings("SELECT action FROM audit_log WHERE action = 'APPROVE_POLICY_MAPPING'")
            .await;
    // 20 races plus the approval made by `ready`
    assert_eq!(approvals.len(), 21);
}
