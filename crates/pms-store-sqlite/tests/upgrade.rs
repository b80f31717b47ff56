//! A database created by an earlier version keeps its clients through the later migrations
//! (0004 and 0005 rebuild the client table).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pms_domain::list::{ClientFilter, ListQuery};
use pms_domain::Store;
use pms_store_sqlite::{SqliteSettings, SqliteStore};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::time::Duration;

#[tokio::test]
async fn clients_survive_the_client_table_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pms.db").display());
    // The migrations up to 0003, as an earlier pms applied them.
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    for f in ["0001_init.sql", "0002_oidc_client.sql", "0003_outbox.sql"] {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(f);
        std::fs::copy(src, old.join(f)).unwrap();
    }
    let mut conn = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run_direct(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO oidc_client (id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris, \
         public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes, \
         upd_by, upd_dtimes, version) VALUES ('c1', 'Client', '{\"eng\":\"Client\"}', 'rp1', 'pol1', \
         'https://rp.example/logo.png', '[\"https://rp.example/cb\"]', '{\"kty\":\"EC\"}', '[\"name\"]', \
         '[\"mosip:idp:acr:generated-code\"]', '[\"authorization_code\"]', '[\"private_key_jwt\"]', \
         'ACTIVE', 'u1', '2026-01-01T09:00:00.000Z', 'u2', '2026-01-02T09:00:00.000Z', 3)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let store = SqliteStore::connect(&SqliteSettings {
        url,
        max_connections: 2,
        connect_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let c = tx.client("c1").await.unwrap().expect("client kept");
    assert_eq!(c.name, "Client");
    assert_eq!(c.rp_id, "rp1");
    assert_eq!(c.redirect_uris, ["https://rp.example/cb"]);
    assert_eq!(c.claims, ["name"]);
    assert_eq!(c.upd_by.as_deref(), Some("u2"));
    assert_eq!(c.version, 3);
    // The rebuilt indexes serve the partner-filtered list.
    let page = tx
        .list_clients(&ListQuery {
            sort: None,
            page: None,
            filter: ClientFilter {
                partner_id: Some("rp".into()),
                ..ClientFilter::default()
            },
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items.len(), 1);
}
