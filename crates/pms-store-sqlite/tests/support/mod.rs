//! What the SQLite store's integration tests share.

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
