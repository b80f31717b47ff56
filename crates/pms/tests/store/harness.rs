//! Opening a fresh store per backend (only through `pms::open_store`) and running a case on each.

use pms::config::Config;
use pms_domain::Store;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

tokio::task_local! {
    static BACKEND: &'static str;
}

/// The backend the current case runs on, for assertion messages.
pub fn backend() -> &'static str {
    BACKEND.try_with(|b| *b).unwrap_or("?")
}

/// The PostgreSQL server to test against, if any.
fn postgres_admin_url() -> Option<String> {
    std::env::var("PMS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

fn config(data_dir: &Path, url: String) -> Config {
    let mut config = Config::load(None, &[]).unwrap().config;
    config.data_dir = data_dir.to_path_buf();
    config.database.url = url.into();
    config
}

/// `url` with its database name replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{db}?{q}"),
        None => format!("{server}/{db}"),
    }
}

async fn admin_exec(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("postgres: cannot connect to PMS_TEST_POSTGRES_URL: {e}"));
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("postgres: {sql}: {e}"));
    conn.close().await.unwrap();
}

/// Runs `case` on `store` as backend `name`, closes the store, and returns the panic message
/// of a failed case.
async fn run_on<F, Fut>(name: &'static str, store: Arc<dyn Store>, case: &F) -> Result<(), String>
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(BACKEND.scope(name, case(store.clone()))).await;
    store.close().await;
    outcome.map_err(|e| match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "non-text panic".to_string()),
        Err(e) => e.to_string(),
    })
}

/// Runs one case on SQLite, then on PostgreSQL when `PMS_TEST_POSTGRES_URL` is set.
pub async fn run<F, Fut>(case_name: &str, case: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pms.db").display());
    let store = pms::open_store(&config(dir.path(), url))
        .await
        .unwrap_or_else(|e| panic!("sqlite: open_store: {e:#}"));
    if let Err(msg) = run_on("sqlite", store, &case).await {
        panic!("sqlite: {case_name} failed: {msg}");
    }

    let Some(admin) = postgres_admin_url() else {
        eprintln!("postgres: skipped (PMS_TEST_POSTGRES_URL not set)");
        return;
    };
    let db = format!("pms_s_{}", uuid::Uuid::new_v4().simple());
    admin_exec(&admin, &format!("CREATE DATABASE {db}")).await;
    let store = pms::open_store(&config(dir.path(), with_database(&admin, &db))).await;
    let outcome = match store {
        Ok(store) => run_on("postgres", store, &case).await,
        Err(e) => Err(format!("open_store: {e:#}")),
    };
    // The database is dropped whether or not the case passed.
    admin_exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .await;
    if let Err(msg) = outcome {
        panic!("postgres: {case_name} failed: {msg}");
    }
}
