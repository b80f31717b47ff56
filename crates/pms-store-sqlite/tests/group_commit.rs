//! Group commit on the SQLite writer: operations that share a transaction are each committed or
//! rolled back on their own terms, every acknowledged write is on disk, and nothing half-done
//! is visible to readers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pms_domain::Store;
use std::sync::Arc;
use std::time::Duration;
use support::{exists, group, store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_member_leaves_the_others_committed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(store(&dir).await);
    let mut first = s.write().await.unwrap();
    first.insert_policy_group(&group("kept")).await.unwrap();
    // Queued behind `first`: it joins the transaction `first` leaves open, writes, then fails.
    let s2 = s.clone();
    let second = tokio::spawn(async move {
        let mut tx = s2.write().await.unwrap();
        tx.insert_policy_group(&group("dropped")).await.unwrap();
        drop(tx);
    });
    // Let `second` queue for the turn before `first` gives it up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.commit().await.unwrap();
    second.await.unwrap();
    assert!(exists(&s, "kept").await);
    assert!(!exists(&s, "dropped").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_all_committed_and_conflicts_stay_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(store(&dir).await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = s.write().await.unwrap();
            // Every tenth writer takes the name of the one before it.
            let name = if i % 10 == 9 {
                format!("g{}", i - 1)
            } else {
                format!("g{i}")
            };
            let mut g = group(&name);
            g.id = format!("id-{i}");
            match tx.insert_policy_group(&g).await {
                Ok(()) => tx.commit().await.map(|()| true),
                Err(e) => {
                    drop(tx);
                    assert!(matches!(e, pms_domain::StoreError::Conflict(_)), "{e}");
                    Ok(false)
                }
            }
        }));
    }
    let mut committed = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            committed += 1;
        }
    }
    let mut r = s.read().await.unwrap();
    let stored = r.policy_groups().await.unwrap();
    assert_eq!(stored.len(), committed);
    // Twenty pairs of writers share a name: exactly one of each pair is stored.
    assert_eq!(committed, 200 - 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_write_is_in_the_file_when_the_store_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Arc::new(store(&dir).await);
        let mut tasks = Vec::new();
        for i in 0..50 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = s.write().await.unwrap();
                tx.insert_policy_group(&group(&format!("n{i}")))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    // A fresh store on the same file (new connections) sees every acknowledged write.
    let s = store(&dir).await;
    for i in 0..50 {
        assert!(exists(&s, &format!("n{i}")).await, "n{i} lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_a_member_before_its_group_commits() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(store(&dir).await);
    let mut tx = s.write().await.unwrap();
    tx.insert_policy_group(&group("pending")).await.unwrap();
    assert!(!exists(&s, "pending").await);
    tx.commit().await.unwrap();
    assert!(exists(&s, "pending").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_another_process_holding_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(store(&dir).await);
    // Another process (a `pms` command, say) holds the write lock.
    let other = rusqlite::Connection::open(dir.path().join("pms.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let s2 = s.clone();
    let write = tokio::spawn(async move {
        let mut tx = s2.write().await.unwrap();
        tx.insert_policy_group(&group("after")).await.unwrap();
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the write went ahead of the lock");
    // The runtime's threads are not stuck behind the lock: reads still run.
    assert!(!exists(&s, "after").await);
    other.execute_batch("COMMIT").unwrap();
    tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .expect("the write proceeds once the lock is free")
        .unwrap();
    assert!(exists(&s, "after").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_committed_when_its_first_member_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(store(&dir).await);
    let mut first = s.write().await.unwrap();
    first.insert_policy_group(&group("first")).await.unwrap();
    // Queued behind `first`; joins its transaction and holds the turn a while.
    let s2 = s.clone();
    let second = tokio::spawn(async move {
        let mut tx = s2.write().await.unwrap();
        tx.insert_policy_group(&group("second")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // `first` releases its savepoint (the group's first member, the one that commits) and waits
    // for the turn `second` holds; then its request is cancelled.
    let committer = tokio::spawn(async move { first.commit().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    committer.abort();
    // `second` takes over and commits the group: its acknowledgement is true.
    tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the remaining member commits the group")
        .unwrap();
    assert!(exists(&s, "second").await);
    // The cancelled member's work was in the same transaction (it was never acknowledged).
    assert!(exists(&s, "first").await);
}
