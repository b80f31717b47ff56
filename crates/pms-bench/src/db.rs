//! Where a session's database lives: SQLite in a temporary directory, or PostgreSQL (a given
//! empty database, or a fresh one created and dropped on a given server).

use anyhow::{bail, Context};

/// Where a session's database lives.
pub(crate) enum Db {
    Sqlite,
    /// An existing empty PostgreSQL database.
    Given(String),
    /// A PostgreSQL server: a fresh database per session.
    Server(String),
}

pub(crate) async fn pg_execute(url: &str, sql: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))?;
    sqlx::raw_sql(sql).execute(&mut c).await?;
    c.close().await?;
    Ok(())
}

pub(crate) async fn pg_require_empty(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let name = url
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or("");
    if matches!(name, "postgres" | "template0" | "template1") {
        bail!(
            "--database-url names the maintenance database `{name}`; pass it as --postgres SERVER_URL \
             (a fresh database is created and dropped) or create an empty one with `createdb`"
        );
    }
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut c)
    .await?;
    c.close().await?;
    if tables > 0 {
        bail!(
            "--database-url must name an empty database (it has {tables} tables in schema public); \
             create one with `createdb`, or pass --postgres SERVER_URL to let pms-bench create and drop one"
        );
    }
    Ok(())
}

/// A URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Replaces the database name of a PostgreSQL URL.
pub(crate) fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").context("not a URL")? + 3;
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}
