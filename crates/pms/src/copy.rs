//! `pms copy-data --from URL --to URL`: moves everything (audit included) from one database into
//! an empty one, typically from the embedded SQLite file to PostgreSQL. Rows travel as domain
//! records through the `Store` trait, so no backend's SQL leaks out of its crate.

use anyhow::{bail, Context};
use pms_domain::store::{Record, Table, Tx};
use pms_domain::Store;

/// Rows read from the source per round trip.
const BATCH: u32 = 1000;

async fn insert(tx: &mut dyn Tx, record: &Record) -> anyhow::Result<()> {
    match record {
        Record::PolicyGroup(g) => tx.insert_policy_group(g).await?,
        Record::AuthPolicy(p) => tx.insert_policy(p).await?,
        Record::Partner(p) => tx.insert_partner(p).await?,
        Record::Mapping(m) => tx.insert_mapping(m).await?,
        Record::Client(c) => tx.insert_client(c).await?,
        Record::Audit(a) => tx.append_audit(a).await?,
        Record::Outbox(o) => tx.restore_outbox(o).await?,
    }
    Ok(())
}

/// Copies every table from `from` into `to` in one target transaction: either everything
/// arrives and the row counts match, or nothing is written. Refuses a target that holds any row.
/// Returns the number of rows per table.
pub async fn copy_data(from: &dyn Store, to: &dyn Store) -> anyhow::Result<Vec<(Table, u64)>> {
    // The write transaction is taken first so that nothing can slip into the target between
    // the emptiness check and the copy.
    let mut dst = to.write().await.context("target")?;
    for table in Table::ALL {
        let n = dst.count_rows(table).await.context("target")?;
        if n > 0 {
            bail!(
                "the target database is not empty (table {} has {n} rows); copy-data only fills an empty database",
                table.name()
            );
        }
    }
    // One read transaction: a consistent snapshot of the source even if it is being served.
    let mut src = from.read().await.context("source")?;
    let mut counts = Vec::new();
    for table in Table::ALL {
        let mut after: Option<String> = None;
        let mut copied = 0u64;
        loop {
            let page = src
                .export(table, after.as_deref(), BATCH)
                .await
                .with_context(|| format!("reading {}", table.name()))?;
            if page.records.is_empty() {
                break;
            }
            for record in &page.records {
                insert(dst.as_mut(), record)
                    .await
                    .with_context(|| format!("writing {}", table.name()))?;
            }
            copied += page.records.len() as u64;
            after = page.last;
        }
        let expected = src.count_rows(table).await.context("source")?;
        let written = dst.count_rows(table).await.context("target")?;
        if expected != written || copied != expected {
            bail!(
                "row count mismatch in {}: source {expected}, copied {copied}, target {written}; nothing was written",
                table.name()
            );
        }
        counts.push((table, written));
    }
    dst.commit().await.context("committing the target")?;
    Ok(counts)
}
