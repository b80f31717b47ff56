//! `Tx::client_create_view`: what a client create checks, in one call (SQLite answers it in one
//! statement, PostgreSQL in three).

use crate::fixtures::*;
use pms_domain::model::MappingStatus;
use pms_domain::Store;
use std::sync::Arc;

async fn case_client_create_view_answers_the_create_checks(store: Arc<dyn Store>) {
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&group("g1", "G1", at(0, 0)))
        .await
        .unwrap();
    let mut g2 = group("g2", "G2", at(0, 1));
    g2.is_active = false;
    tx.insert_policy_group(&g2).await.unwrap();
    // Every optional column set on the policy and the partner read back by position.
    let mut p1 = published(policy("p1", "g1", "Pol", at(0, 2)), true);
    p1.upd_by = Some("admin-2".into());
    p1.upd_dtimes = Some(at(0, 9));
    tx.insert_policy(&p1).await.unwrap();
    tx.insert_policy(&published(policy("p2", "g2", "Pol2", at(0, 3)), true))
        .await
        .unwrap();
    let mut rp1 = partner("rp1", "Org", "a@x.org", "user-a", at(0, 4));
    rp1.policy_group_id = Some("g1".into());
    rp1.upd_by = Some("admin-2".into());
    rp1.upd_dtimes = Some(at(0, 8));
    tx.insert_partner(&rp1).await.unwrap();
    tx.insert_partner(&partner("rp2", "Org2", "b@x.org", "user-b", at(0, 5)))
        .await
        .unwrap();
    tx.insert_mapping(&mapping(
        "m1",
        "rp1",
        "p1",
        MappingStatus::Approved,
        at(0, 6),
    ))
    .await
    .unwrap();
    tx.insert_mapping(&mapping(
        "m2",
        "rp2",
        "p1",
        MappingStatus::InProgress,
        at(0, 7),
    ))
    .await
    .unwrap();
    tx.insert_client(&client("c1", "rp1", "p1", "Client", at(0, 8)))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    let v = tx
        .client_create_view("c1", None, "rp1", "p1")
        .await
        .unwrap();
    check!(v.client_taken, "c1 is taken: {v:?}");
    check!(
        !v.reader_owns_any && !v.reader_owns_partner,
        "no reader, no ownership"
    );
    check_eq!(v.partner.as_ref(), Some(&rp1), "partner round trip");
    match v.policy.as_ref() {
        Some(p) => assert_policy_eq(p, &p1, "policy round trip"),
        None => panic!("policy p1 missing"),
    }
    check!(
        v.group_active && v.mapping_exists && v.mapping_approved,
        "active group, approved mapping: {v:?}"
    );

    let v = tx
        .client_create_view("new", Some("user-a"), "rp1", "p1")
        .await
        .unwrap();
    check!(!v.client_taken, "new id is free");
    check!(v.reader_owns_any && v.reader_owns_partner, "owner: {v:?}");
    let v = tx
        .client_create_view("new", Some("user-b"), "rp1", "p1")
        .await
        .unwrap();
    check!(
        v.reader_owns_any && !v.reader_owns_partner,
        "other owner: {v:?}"
    );
    let v = tx
        .client_create_view("new", Some("nobody"), "rp1", "p1")
        .await
        .unwrap();
    check!(
        !v.reader_owns_any && !v.reader_owns_partner,
        "stranger: {v:?}"
    );
    let v = tx
        .client_create_view("new", None, "rp2", "p1")
        .await
        .unwrap();
    check!(
        v.mapping_exists && !v.mapping_approved,
        "mapping in progress: {v:?}"
    );
    let v = tx
        .client_create_view("new", None, "rp1", "p2")
        .await
        .unwrap();
    check!(
        v.policy.is_some() && !v.group_active && !v.mapping_exists && !v.mapping_approved,
        "inactive group, no mapping: {v:?}"
    );
    let v = tx
        .client_create_view("new", None, "nope", "nope")
        .await
        .unwrap();
    check!(
        v.partner.is_none() && v.policy.is_none() && !v.group_active && !v.mapping_exists,
        "unknown partner and policy: {v:?}"
    );
}

/// `Tx::check_rows_version` moves with every write of a row a create checks (partner, policy,
/// group, mapping), inside the writing transaction, and not with a client's; the view carries
/// the version of its own snapshot.
async fn case_check_rows_version_moves_with_the_rows_a_create_checks(store: Arc<dyn Store>) {
    let mut g1 = group("g1", "G1", at(0, 0));
    let mut p1 = published(policy("p1", "g1", "Pol", at(0, 1)), true);
    let mut rp1 = partner("rp1", "Org", "a@x.org", "user-a", at(0, 2));
    let mut m1 = mapping("m1", "rp1", "p1", MappingStatus::Approved, at(0, 3));
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&g1).await.unwrap();
    tx.insert_policy(&p1).await.unwrap();
    tx.insert_partner(&rp1).await.unwrap();
    tx.insert_mapping(&m1).await.unwrap();
    tx.commit().await.unwrap();

    async fn version(store: &Arc<dyn Store>) -> i64 {
        let mut rx = store.read().await.unwrap();
        rx.check_rows_version().await.unwrap()
    }
    let v0 = version(&store).await;
    let mut rx = store.read().await.unwrap();
    let view = rx
        .client_create_view("new", None, "rp1", "p1")
        .await
        .unwrap();
    drop(rx);
    check_eq!(
        view.rows_version,
        v0,
        "the view carries the current version"
    );
    check!(v0 >= 4, "the four inserts moved it (fresh database): {v0}");

    // A client (and its audit record) is not a row a create checks.
    let mut tx = store.write().await.unwrap();
    tx.insert_client(&client("c1", "rp1", "p1", "Client", at(0, 4)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    check_eq!(version(&store).await, v0, "a client write leaves it");

    let mut seen = v0;
    for what in ["partner", "policy", "group", "mapping"] {
        let mut tx = store.write().await.unwrap();
        match what {
            "partner" => {
                rp1.is_active = false;
                tx.update_partner(&rp1).await.unwrap();
            }
            "policy" => {
                p1.desc = "changed".into();
                tx.update_policy(&p1).await.unwrap();
            }
            "group" => {
                g1.is_active = false;
                tx.update_policy_group(&g1).await.unwrap();
            }
            _ => {
                m1.status = MappingStatus::Rejected;
                tx.update_mapping(&m1).await.unwrap();
            }
        }
        // Inside the writing transaction already, so a create later in it reads again.
        let inside = tx.check_rows_version().await.unwrap();
        check!(
            inside != seen,
            "{what} update moves it inside its transaction"
        );
        tx.commit().await.unwrap();
        let after = version(&store).await;
        check_eq!(after, inside, "{what} update, committed");
        seen = after;
    }
}

cases!(
    case_client_create_view_answers_the_create_checks,
    case_check_rows_version_moves_with_the_rows_a_create_checks
);
