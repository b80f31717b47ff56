//! What the SQLite store's integration tests share.

use pms_domain::model::PolicyGroup;
use pms_domain::Store;
use pms_store_sqlite::{SqliteSettings, SqliteStore};
use std::time::Duration;

/// A migrated store on a fresh file in `dir`.
pub async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    let s = SqliteStore::connect(&SqliteSettings {
        url: format!("sqlite://{}", dir.path().join("pms.db").display()),
        max_connections: 4,
        connect_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    s.migrate().await.unwrap();
    s
}

/// A policy group named `name` (the smallest row a write can add).
#[allow(dead_code)] // not every test file writes groups
pub fn group(name: &str) -> PolicyGroup {
    PolicyGroup {
        id: format!("id-{name}"),
        name: name.to_string(),
        desc: "d".into(),
        is_active: true,
        user_id: "u".into(),
        cr_by: "u".into(),
        cr_dtimes: pms_domain::clock::parse_ts("2026-11-28T00:00:00.000Z").unwrap(),
        upd_by: None,
        upd_dtimes: None,
    }
}

/// Whether a read sees the group named `name`.
#[allow(dead_code)]
pub async fn exists(s: &SqliteStore, name: &str) -> bool {
    let mut r = s.read().await.unwrap();
    r.policy_group_by_name(name).await.unwrap().is_some()
}
