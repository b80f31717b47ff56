//! The audit trail: `append_audit` and `audit_of` (one entity, oldest first, JSON in order).

use crate::fixtures::*;
use pms_domain::Store;
use std::sync::Arc;

cases!(case_audit_of_order_and_content);

async fn case_audit_of_order_and_content(store: Arc<dyn Store>) {
    // Interleaved entities, several rows with the same timestamp (written in one transaction),
    // and an entity id shared by two entity types.
    let p1 = audit(
        "PARTNER",
        "par-1",
        "REGISTER_PARTNER",
        at(10, 1),
        None,
        Some(
            r#"{"id":"par-1","name":"Org","isActive":true,"approvalStatus":"InProgress","z":[1,2]}"#,
        ),
    );
    let g1 = audit(
        "POLICY_GROUP",
        "par-1",
        "CREATE_POLICY_GROUP",
        at(10, 1),
        None,
        Some(r#"{"name":"same id, other type"}"#),
    );
    let p2 = audit(
        "PARTNER",
        "par-1",
        "ACTIVATE_PARTNER",
        at(10, 1),
        Some(r#"{"isActive":false,"id":"par-1","nested":{"b":1,"a":{"y":null,"x":"é"}}}"#),
        Some(r#"{"isActive":true,"id":"par-1","nested":{"b":1,"a":{"y":null,"x":"é"}}}"#),
    );
    let other = audit(
        "PARTNER",
        "par-2",
        "REGISTER_PARTNER",
        at(11, 0),
        None,
        Some(r#"{"id":"par-2"}"#),
    );
    let mut p3 = audit(
        "PARTNER",
        "par-1",
        "DEACTIVATE_PARTNER",
        at(12, 999),
        Some(r#"{"zeta":"last","alpha":"first"}"#),
        None,
    );
    p3.actor = "admin-2".into();
    p3.correlation_id = "c0ffee00-0000-4000-8000-000000000001".into();
    let p4 = audit(
        "PARTNER",
        "par-1",
        "UPDATE_PARTNER",
        at(13, 0),
        Some("[3,1,2]"),
        Some(r#""a plain string""#),
    );

    let mut tx = store.write().await.unwrap();
    for a in [&p1, &g1, &p2] {
        tx.append_audit(a).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    for a in [&other, &p3, &p4] {
        tx.append_audit(a).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    assert_audits_eq(
        &tx.audit_of("PARTNER", "par-1").await.unwrap(),
        &[p1.clone(), p2.clone(), p3.clone(), p4.clone()],
        "audit_of(PARTNER, par-1)",
    );
    assert_audits_eq(
        &tx.audit_of("POLICY_GROUP", "par-1").await.unwrap(),
        &[g1],
        "audit_of(POLICY_GROUP, par-1)",
    );
    assert_audits_eq(
        &tx.audit_of("PARTNER", "par-2").await.unwrap(),
        &[other],
        "audit_of(PARTNER, par-2)",
    );
    check_eq!(
        tx.audit_of("PARTNER", "par-3").await.unwrap(),
        vec![],
        "audit_of an entity without records"
    );
    check_eq!(
        tx.audit_of("partner", "par-1").await.unwrap(),
        vec![],
        "audit_of matches the entity type exactly"
    );
    let got = tx.audit_of("PARTNER", "par-1").await.unwrap();
    check_eq!(
        text(&got[1].before),
        r#"{"isActive":false,"id":"par-1","nested":{"b":1,"a":{"y":null,"x":"é"}}}"#,
        "`before` text"
    );
    check_eq!(
        text(&got[2].before),
        r#"{"zeta":"last","alpha":"first"}"#,
        "`before` text"
    );
    check_eq!(got[2].after, None, "absent `after`");
    check_eq!(got[0].before, None, "absent `before`");
}
