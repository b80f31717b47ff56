//! Every `Constraint`, raised as `StoreError::Conflict` by the write that violates it. Each
//! violating write runs in its own transaction, which is then dropped (PostgreSQL aborts a
//! transaction on the first error).

use crate::fixtures::*;
use pms_domain::model::MappingStatus;
use pms_domain::store::{Constraint, Table};
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_conflicts_on_insert,
    case_live_mapping_conflicts,
    case_conflicts_on_update,
);

/// Rows counted per table, in `Table::ALL` order.
async fn counts(store: &Arc<dyn Store>) -> Vec<u64> {
    let mut tx = store.read().await.unwrap();
    let mut out = Vec::new();
    for t in Table::ALL {
        out.push(tx.count_rows(t).await.unwrap());
    }
    out
}

async fn case_conflicts_on_insert(store: Arc<dyn Store>) {
    let mut seed = catalogue();
    seed.mappings = vec![mapping(
        "map-1",
        "par-1",
        "pol-a",
        MappingStatus::InProgress,
        at(400, 0),
    )];
    seed.clients = vec![client("cl-1", "par-1", "pol-a", "Client", at(401, 0))];
    seed.insert(&store).await;
    let before = counts(&store).await;

    // PolicyGroupName: same name, new id.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_policy_group(&group("g-new", "Alpha_Group", at(500, 0)))
        .await;
    expect_conflict(r, Constraint::PolicyGroupName, "group with a taken name");
    drop(tx);
    // Names differing only in case are different names.
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&group("g-case", "alpha_group", at(500, 0)))
        .await
        .unwrap();
    drop(tx);

    // PolicyId: same id, new name.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_policy(&policy("pol-a", "g-2", "fresh name", at(500, 0)))
        .await;
    expect_conflict(r, Constraint::PolicyId, "policy with a taken id");
    drop(tx);

    // PolicyNameInGroup: same group and name, new id; the same name in another group is fine.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_policy(&policy("pol-new", "g-1", "a", at(500, 0)))
        .await;
    expect_conflict(
        r,
        Constraint::PolicyNameInGroup,
        "policy name taken in group",
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    tx.insert_policy(&policy("pol-new", "g-3", "a", at(500, 0)))
        .await
        .unwrap();
    drop(tx);

    // PartnerId: same id, new e-mail.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_partner(&partner(
            "par-1",
            "Other",
            "other@example.org",
            "user-9",
            at(500, 0),
        ))
        .await;
    expect_conflict(r, Constraint::PartnerId, "partner with a taken id");
    drop(tx);

    // PartnerEmail: new id, e-mail differing only in case.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_partner(&partner(
            "par-new",
            "Other",
            "ONE@Example.Org",
            "user-9",
            at(500, 0),
        ))
        .await;
    expect_conflict(
        r,
        Constraint::PartnerEmail,
        "partner with a taken e-mail (other case)",
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_partner(&partner(
            "par-new",
            "Other",
            "one@example.org",
            "user-9",
            at(500, 0),
        ))
        .await;
    expect_conflict(
        r,
        Constraint::PartnerEmail,
        "partner with a taken e-mail (same case)",
    );
    drop(tx);

    // LiveMapping: a second InProgress request of the same partner and policy.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_mapping(&mapping(
            "map-2",
            "par-1",
            "pol-a",
            MappingStatus::InProgress,
            at(500, 0),
        ))
        .await;
    expect_conflict(r, Constraint::LiveMapping, "second InProgress request");
    drop(tx);

    // ClientId: same id, everything else different.
    let mut tx = store.write().await.unwrap();
    let r = tx
        .insert_client(&client("cl-1", "par-2", "pol-b", "Another", at(500, 0)))
        .await;
    expect_conflict(r, Constraint::ClientId, "client with a taken id");
    drop(tx);

    check_eq!(
        counts(&store).await,
        before,
        "row counts after the rejected and dropped writes"
    );

    // A conflict inside a transaction that also wrote valid rows: nothing of it is committed
    // once the transaction is dropped.
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&group("g-ok", "fine", at(600, 0)))
        .await
        .unwrap();
    let r = tx
        .insert_policy_group(&group("g-bad", "fine", at(600, 0)))
        .await;
    expect_conflict(
        r,
        Constraint::PolicyGroupName,
        "duplicate within one transaction",
    );
    drop(tx);
    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-ok").await.unwrap(),
        None,
        "the valid row of the dropped transaction"
    );
}

async fn case_live_mapping_conflicts(store: Arc<dyn Store>) {
    catalogue().insert(&store).await;
    let insert = |m| {
        let store = store.clone();
        async move {
            let mut tx = store.write().await.unwrap();
            let r = tx.insert_mapping(&m).await;
            if r.is_ok() {
                tx.commit().await.unwrap();
            }
            r
        }
    };
    let m = |id: &str, partner: &str, policy: &str, status, secs| {
        mapping(id, partner, policy, status, at(secs, 0))
    };

    // Rejected requests never conflict, with each other or with a live one.
    insert(m("r-1", "par-1", "pol-b", MappingStatus::Rejected, 1))
        .await
        .unwrap();
    insert(m("r-2", "par-1", "pol-b", MappingStatus::Rejected, 2))
        .await
        .unwrap();
    insert(m("live-1", "par-1", "pol-b", MappingStatus::InProgress, 3))
        .await
        .unwrap();
    insert(m("r-3", "par-1", "pol-b", MappingStatus::Rejected, 4))
        .await
        .unwrap();

    // While live-1 is InProgress: neither another InProgress nor an approved request.
    expect_conflict(
        insert(m("x-1", "par-1", "pol-b", MappingStatus::InProgress, 5)).await,
        Constraint::LiveMapping,
        "InProgress while InProgress",
    );
    expect_conflict(
        insert(m("x-2", "par-1", "pol-b", MappingStatus::Approved, 5)).await,
        Constraint::LiveMapping,
        "approved while InProgress",
    );
    // Other partner or other policy: no conflict.
    insert(m("o-1", "par-2", "pol-b", MappingStatus::InProgress, 6))
        .await
        .unwrap();
    insert(m("o-2", "par-1", "pol-d", MappingStatus::InProgress, 6))
        .await
        .unwrap();

    // Approve live-1: still live.
    let mut tx = store.write().await.unwrap();
    let mut approved = tx.mapping_for_update("live-1").await.unwrap().unwrap();
    approved.status = MappingStatus::Approved;
    approved.upd_by = Some("admin-1".into());
    approved.upd_dtimes = Some(at(7, 0));
    tx.update_mapping(&approved).await.unwrap();
    tx.commit().await.unwrap();
    expect_conflict(
        insert(m("x-3", "par-1", "pol-b", MappingStatus::InProgress, 8)).await,
        Constraint::LiveMapping,
        "InProgress while approved",
    );
    expect_conflict(
        insert(m("x-4", "par-1", "pol-b", MappingStatus::Approved, 8)).await,
        Constraint::LiveMapping,
        "approved while approved",
    );
    insert(m("r-4", "par-1", "pol-b", MappingStatus::Rejected, 8))
        .await
        .unwrap();

    // Reject it: the pair is free again.
    let mut tx = store.write().await.unwrap();
    let mut rejected = approved.clone();
    rejected.status = MappingStatus::Rejected;
    rejected.upd_dtimes = Some(at(9, 0));
    tx.update_mapping(&rejected).await.unwrap();
    tx.commit().await.unwrap();
    insert(m("live-2", "par-1", "pol-b", MappingStatus::InProgress, 10))
        .await
        .unwrap();

    let mut tx = store.read().await.unwrap();
    let ids: Vec<String> = tx
        .mappings_of("par-1", "pol-b")
        .await
        .unwrap()
        .into_iter()
        .map(|m| format!("{}:{}", m.id, m.status.as_str()))
        .collect();
    check_eq!(
        ids,
        vec![
            "r-1:rejected",
            "r-2:rejected",
            "live-1:rejected",
            "r-3:rejected",
            "r-4:rejected",
            "live-2:InProgress",
        ],
        "requests of par-1 for pol-b"
    );
}

/// Updates that would break a uniqueness rule surface the same conflicts as inserts.
async fn case_conflicts_on_update(store: Arc<dyn Store>) {
    let mut seed = catalogue();
    seed.mappings = vec![
        mapping(
            "map-live",
            "par-1",
            "pol-b",
            MappingStatus::InProgress,
            at(1, 0),
        ),
        mapping(
            "map-old",
            "par-1",
            "pol-b",
            MappingStatus::Rejected,
            at(0, 0),
        ),
    ];
    seed.insert(&store).await;
    let before = counts(&store).await;

    let mut tx = store.write().await.unwrap();
    let mut g = seed.groups[0].clone();
    g.name = seed.groups[1].name.clone();
    expect_conflict(
        tx.update_policy_group(&g).await,
        Constraint::PolicyGroupName,
        "renaming a group to a taken name",
    );
    drop(tx);

    let mut tx = store.write().await.unwrap();
    let mut p = seed.policy("pol-a").unwrap().clone();
    p.name = seed.policy("pol-c").unwrap().name.clone();
    expect_conflict(
        tx.update_policy(&p).await,
        Constraint::PolicyNameInGroup,
        "renaming a policy to a name taken in its group",
    );
    drop(tx);

    let mut tx = store.write().await.unwrap();
    let mut pa = seed.partner("par-2").unwrap().clone();
    pa.email_id = "One@Example.org".into();
    expect_conflict(
        tx.update_partner(&pa).await,
        Constraint::PartnerEmail,
        "changing a partner's e-mail to a taken one (other case)",
    );
    drop(tx);

    let mut tx = store.write().await.unwrap();
    let mut revived = seed.mappings[1].clone();
    revived.status = MappingStatus::InProgress;
    expect_conflict(
        tx.update_mapping(&revived).await,
        Constraint::LiveMapping,
        "making a second request of the pair live",
    );
    drop(tx);

    check_eq!(
        counts(&store).await,
        before,
        "row counts after the rejected updates"
    );
    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-1").await.unwrap().as_ref(),
        seed.group("g-1"),
        "group unchanged"
    );
    check_eq!(
        tx.mapping("map-old").await.unwrap(),
        Some(seed.mappings[1].clone()),
        "mapping unchanged"
    );
}
