//! Decoded policy documents are shared while the stored text is unchanged, and never outlive
//! it: an updated document, or another database's policy with the same id, reads as stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pms_domain::model::{AuthPolicy, PolicyGroup};
use pms_domain::Store;
use pms_store_sqlite::SqliteStore;
use serde_json::json;
use std::sync::Arc;
use support::store;

fn at(s: &str) -> pms_domain::Timestamp {
    pms_domain::clock::parse_ts(s).unwrap()
}

async fn seed(s: &SqliteStore, doc: serde_json::Value) -> AuthPolicy {
    let group = PolicyGroup {
        id: "g-1".into(),
        name: "group".into(),
        desc: "d".into(),
        is_active: true,
        user_id: "u".into(),
        cr_by: "u".into(),
        cr_dtimes: at("2026-11-28T00:00:00.000Z"),
        upd_by: None,
        upd_dtimes: None,
    };
    let policy = AuthPolicy {
        id: "pol-1".into(),
        policy_group_id: "g-1".into(),
        name: "policy".into(),
        desc: "d".into(),
        policy_type: "Auth".into(),
        version: "1.0".into(),
        policies: Arc::new(doc),
        schema: None,
        is_active: false,
        valid_from: at("2026-11-28T00:00:00.000Z"),
        valid_to: at("2027-11-28T00:00:00.000Z"),
        cr_by: "u".into(),
        cr_dtimes: at("2026-11-28T00:00:00.000Z"),
        upd_by: None,
        upd_dtimes: None,
    };
    let mut tx = s.write().await.unwrap();
    tx.insert_policy_group(&group).await.unwrap();
    tx.insert_policy(&policy).await.unwrap();
    tx.commit().await.unwrap();
    policy
}

async fn read(s: &SqliteStore) -> Arc<serde_json::Value> {
    let mut r = s.read().await.unwrap();
    r.policy("pol-1").await.unwrap().unwrap().policies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_shared_until_its_text_changes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    let mut policy = seed(&s, json!({"z": 1, "a": ["x"]})).await;

    let first = read(&s).await;
    let again = read(&s).await;
    assert_eq!(first.to_string(), r#"{"z":1,"a":["x"]}"#);
    assert!(
        Arc::ptr_eq(&first, &again),
        "unchanged text: the same decoded document"
    );

    policy.policies = Arc::new(json!({"z": 2}));
    let mut tx = s.write().await.unwrap();
    tx.update_policy(&policy).await.unwrap();
    tx.commit().await.unwrap();
    let updated = read(&s).await;
    assert_eq!(
        updated.to_string(),
        r#"{"z":2}"#,
        "the update is read, not the cached one"
    );
    assert!(!Arc::ptr_eq(&first, &updated));

    // Another database in the same process, same policy id, other text.
    let dir2 = tempfile::tempdir().unwrap();
    let s2 = store(&dir2).await;
    seed(&s2, json!({"other": true})).await;
    assert_eq!(read(&s2).await.to_string(), r#"{"other":true}"#);
    assert_eq!(read(&s).await.to_string(), r#"{"z":2}"#);
}
