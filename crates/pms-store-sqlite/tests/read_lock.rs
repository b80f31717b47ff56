//! The held WAL snapshot (`conn::Holder`): while nobody writes, the store keeps a read
//! transaction open so that reads do not take and drop SQLite's WAL read lock one by one; it
//! must never keep the WAL from being checkpointed and restarted, neither for this process's
//! writes nor, for more than a second or two, for another process's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pms_domain::Store;
use pms_store_sqlite::SqliteStore;
use std::path::PathBuf;
use std::time::Duration;
use support::{exists, group, store};

/// A fresh store after one write and one read (which leaves a snapshot held).
async fn written_and_read() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    write(&s, "a").await;
    assert!(exists(&s, "a").await);
    (dir, s)
}

async fn write(s: &SqliteStore, name: &str) {
    let mut tx = s.write().await.unwrap();
    tx.insert_policy_group(&group(name)).await.unwrap();
    tx.commit().await.unwrap();
}

fn wal(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("pms.db-wal")
}

/// Another process's connection, which must not wait.
fn outsider(dir: &tempfile::TempDir) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(dir.path().join("pms.db")).unwrap();
    c.busy_timeout(Duration::ZERO).unwrap();
    c
}

/// `PRAGMA wal_checkpoint(mode)`: (busy, frames in the WAL, frames copied).
fn checkpoint(c: &rusqlite::Connection, mode: &str) -> (i64, i64, i64) {
    c.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_store_holds_a_snapshot_and_readers_see_every_commit() {
    let (dir, s) = written_and_read().await;
    // The read left a snapshot held: a RESTART checkpoint, which waits for every reader of
    // the WAL, finds one.
    let other = outsider(&dir);
    assert_eq!(checkpoint(&other, "RESTART").0, 1, "no snapshot held");
    // Held or not, every read sees the latest commit.
    write(&s, "b").await;
    assert!(exists(&s, "b").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_steps_aside_so_a_write_restarts_the_wal() {
    let (dir, s) = written_and_read().await;
    // Everything in the WAL is copied into the file (the held snapshot is the newest, so it
    // does not stop a PASSIVE checkpoint) ...
    let other = outsider(&dir);
    let (busy, log, copied) = checkpoint(&other, "PASSIVE");
    assert_eq!((busy, copied), (0, log));
    let size = std::fs::metadata(wal(&dir)).unwrap().len();
    // ... so the next write starts the WAL over from its beginning, which it can only do when
    // no reader holds a snapshot in it: the WAL does not grow.
    write(&s, "b").await;
    assert!(
        std::fs::metadata(wal(&dir)).unwrap().len() <= size,
        "the WAL grew: a snapshot was held through the write"
    );
    assert!(exists(&s, "b").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_truncates_the_wal_after_reads() {
    let (dir, s) = written_and_read().await;
    s.close().await;
    assert_eq!(std::fs::metadata(wal(&dir)).unwrap().len(), 0);
    // The store still works after it (a snapshot is taken again on the next read).
    assert!(exists(&s, "a").await);
}

/// Another process commits after the store took its snapshot: until the snapshot moves, a
/// checkpoint cannot copy the new frames past it.
fn outside_commit_behind_the_snapshot(dir: &tempfile::TempDir) -> rusqlite::Connection {
    let other = outsider(dir);
    other
        .execute_batch("INSERT INTO policy_group (id, name, descr, is_active, user_id, cr_by, cr_dtimes) VALUES ('id-x', 'x', 'd', 1, 'u', 'u', '2026-11-28T00:00:00.000Z')")
        .unwrap();
    let (_, log, copied) = checkpoint(&other, "PASSIVE");
    assert!(
        copied < log,
        "the held snapshot did not stop the checkpoint"
    );
    other
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_store_moves_its_snapshot_on_for_another_process_commits() {
    let (dir, s) = written_and_read().await;
    let other = outside_commit_behind_the_snapshot(&dir);
    // Reads go on; within two seconds the old snapshot is dropped and a read takes a new one.
    for _ in 0..44 {
        assert!(exists(&s, "x").await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (busy, log, copied) = checkpoint(&other, "PASSIVE");
    assert_eq!((busy, copied), (0, log));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_store_drops_its_snapshot_for_another_process_commits() {
    // The store stays open (`_s`), idle.
    let (dir, _s) = written_and_read().await;
    let other = outside_commit_behind_the_snapshot(&dir);
    // No reads: the store's task drops the old snapshot within two seconds.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (busy, log, copied) = checkpoint(&other, "PASSIVE");
    assert_eq!((busy, copied), (0, log));
    // And a TRUNCATE from outside goes through too, nothing being held.
    assert_eq!(checkpoint(&other, "TRUNCATE").0, 0);
}
