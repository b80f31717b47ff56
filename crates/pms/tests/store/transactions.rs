//! Transaction boundaries: a dropped write stores nothing, a commit is visible to later reads.

use crate::fixtures::*;
use pms_domain::model::MappingStatus;
use pms_domain::outbox::{AggregateType, Channel};
use pms_domain::store::Table;
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_dropped_write_stores_nothing,
    case_read_sees_committed_data,
);

/// One row in every table.
fn one_of_each() -> Seed {
    Seed {
        groups: vec![group("g-1", "grp", at(0, 1))],
        policies: vec![policy("pol-1", "g-1", "pol", at(0, 2))],
        partners: vec![partner(
            "par-1",
            "Org",
            "org@example.org",
            "user-1",
            at(0, 3),
        )],
        mappings: vec![mapping(
            "map-1",
            "par-1",
            "pol-1",
            MappingStatus::InProgress,
            at(0, 4),
        )],
        clients: vec![client("cl-1", "par-1", "pol-1", "Client", at(0, 5))],
        audits: vec![audit(
            "POLICY_GROUP",
            "g-1",
            "CREATE_POLICY_GROUP",
            at(0, 6),
            None,
            Some(r#"{"name":"grp","id":"g-1"}"#),
        )],
        outbox: vec![outbox_row(
            1,
            AggregateType::Client,
            "cl-1",
            Channel::Websub,
            at(0, 7),
        )],
    }
}

async fn all_counts(store: &Arc<dyn Store>) -> Vec<(&'static str, u64)> {
    let mut tx = store.read().await.unwrap();
    let mut out = Vec::new();
    for t in Table::ALL {
        out.push((t.name(), tx.count_rows(t).await.unwrap()));
    }
    out
}

async fn case_dropped_write_stores_nothing(store: Arc<dyn Store>) {
    let seed = one_of_each();
    let mut tx = store.write().await.unwrap();
    seed.write_to(&mut *tx).await;
    // Inside the transaction its own writes are visible...
    check_eq!(
        tx.policy_group("g-1").await.unwrap().as_ref(),
        seed.groups.first(),
        "own uncommitted group"
    );
    check_eq!(
        tx.count_rows(Table::Audit).await.unwrap(),
        1,
        "own uncommitted audit row"
    );
    drop(tx);

    // ...and after the drop, nowhere.
    let zero: Vec<(&str, u64)> = Table::ALL.iter().map(|t| (t.name(), 0)).collect();
    check_eq!(
        all_counts(&store).await,
        zero,
        "row counts after a dropped write"
    );
    let mut tx = store.read().await.unwrap();
    check_eq!(tx.policy_group("g-1").await.unwrap(), None, "group");
    check_eq!(tx.policy("pol-1").await.unwrap(), None, "policy");
    check_eq!(tx.partner("par-1").await.unwrap(), None, "partner");
    check_eq!(tx.mapping("map-1").await.unwrap(), None, "mapping");
    check_eq!(tx.client("cl-1").await.unwrap(), None, "client");
    check_eq!(
        tx.audit_of("POLICY_GROUP", "g-1").await.unwrap(),
        vec![],
        "audit"
    );
    check_eq!(
        tx.outbox_of(AggregateType::Client, &["cl-1".to_string()])
            .await
            .unwrap(),
        vec![],
        "outbox"
    );
    drop(tx);

    // An update dropped without commit leaves the committed row as it was.
    seed.insert(&store).await;
    let mut tx = store.write().await.unwrap();
    let mut g = seed.groups[0].clone();
    g.name = "changed".into();
    g.upd_dtimes = Some(at(9, 9));
    tx.update_policy_group(&g).await.unwrap();
    let mut c = seed.clients[0].clone();
    c.name = "changed".into();
    tx.update_client(&c).await.unwrap();
    drop(tx);
    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-1").await.unwrap().as_ref(),
        seed.groups.first(),
        "group after a dropped update"
    );
    check_eq!(
        tx.client("cl-1").await.unwrap().as_ref(),
        seed.clients.first(),
        "client after a dropped update"
    );
    drop(tx);
    let one: Vec<(&str, u64)> = Table::ALL.iter().map(|t| (t.name(), 1)).collect();
    check_eq!(all_counts(&store).await, one, "row counts after a commit");
}

async fn case_read_sees_committed_data(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    let seed = one_of_each();
    let mut tx = store.write().await.unwrap();
    seed.write_to(&mut *tx).await;
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-1").await.unwrap().as_ref(),
        seed.groups.first(),
        "group"
    );
    assert_policy_eq(
        &tx.policy("pol-1").await.unwrap().unwrap(),
        &seed.policies[0],
        "policy",
    );
    check_eq!(
        tx.partner("par-1").await.unwrap().as_ref(),
        seed.partners.first(),
        "partner"
    );
    check_eq!(
        tx.mapping("map-1").await.unwrap().as_ref(),
        seed.mappings.first(),
        "mapping"
    );
    assert_client_eq(
        &tx.client("cl-1").await.unwrap().unwrap(),
        &seed.clients[0],
        "client",
    );
    assert_audits_eq(
        &tx.audit_of("POLICY_GROUP", "g-1").await.unwrap(),
        &seed.audits,
        "audit",
    );
    assert_outbox_rows_eq(
        &tx.outbox_of(AggregateType::Client, &["cl-1".to_string()])
            .await
            .unwrap(),
        &seed.outbox,
        "outbox",
    );
    drop(tx);

    // A second commit is seen by a read transaction begun after it.
    let mut tx = store.write().await.unwrap();
    let mut g = seed.groups[0].clone();
    g.desc = "second version".into();
    g.upd_by = Some("admin-2".into());
    g.upd_dtimes = Some(at(1, 1));
    tx.update_policy_group(&g).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-1").await.unwrap(),
        Some(g),
        "group after the second commit"
    );
    tx.commit().await.unwrap();
    store.ping().await.unwrap();
}
