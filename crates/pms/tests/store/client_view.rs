//! `Tx::client_view`: the client, its policy's name, its outbox rows and the reader's ownership
//! in one call.

use crate::fixtures::*;
use pms_domain::outbox::{AggregateType, Channel, OutboxState};
use pms_domain::Store;
use std::sync::Arc;

async fn case_client_view_answers_the_read_checks(store: Arc<dyn Store>) {
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&group("g1", "G", at(0, 0)))
        .await
        .unwrap();
    tx.insert_policy(&policy("p1", "g1", "Pol", at(0, 1)))
        .await
        .unwrap();
    tx.insert_partner(&partner("rp1", "Org", "a@x.org", "user-a", at(0, 2)))
        .await
        .unwrap();
    tx.insert_partner(&partner("rp2", "Org2", "b@x.org", "user-b", at(0, 3)))
        .await
        .unwrap();
    let c = client("c1", "rp1", "p1", "Client", at(0, 4));
    tx.insert_client(&c).await.unwrap();
    let orphan = client("c2", "rp1", "gone", "Orphan", at(0, 5));
    tx.insert_client(&orphan).await.unwrap();
    // c1's deliveries, restored out of id order and with every optional field set on one; a
    // partner row with the same aggregate id is not c1's.
    let mut failed = outbox_row(10, AggregateType::Client, "c1", Channel::Esignet, at(0, 6));
    failed.state = OutboxState::Failed;
    failed.attempts = 50;
    failed.last_attempt_at = Some(at(8, 5));
    failed.next_attempt_at = None;
    failed.lease_until = Some(at(9, 1));
    failed.delivered_at = Some(at(9, 2));
    failed.last_error = Some("HTTP 400 invalid_client".into());
    let mut websub = outbox_row(100, AggregateType::Client, "c1", Channel::Websub, at(0, 6));
    websub.depends_on = Some(10);
    // A later eSignet row: id order differs from the (channel, id) order of the outbox index.
    let later = outbox_row(200, AggregateType::Client, "c1", Channel::Esignet, at(0, 7));
    let partner_row = outbox_row(9, AggregateType::Partner, "c1", Channel::Websub, at(0, 6));
    for r in [&later, &websub, &partner_row, &failed] {
        tx.restore_outbox(r).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let v = tx.client_view("c1", None).await.unwrap().unwrap();
    check_eq!(v.client, c, "client round trip");
    check_eq!(v.policy_name.as_deref(), Some("Pol"), "policy name");
    check_eq!(
        v.deliveries,
        vec![failed, websub, later],
        "c1's outbox rows in id order"
    );
    check!(
        !v.reader_owns_any && !v.reader_owns_partner,
        "no reader, no ownership"
    );
    let v = tx.client_view("c1", Some("user-a")).await.unwrap().unwrap();
    check!(v.reader_owns_any && v.reader_owns_partner, "owner: {v:?}");
    let v = tx.client_view("c1", Some("user-b")).await.unwrap().unwrap();
    check!(
        v.reader_owns_any && !v.reader_owns_partner,
        "other owner: {v:?}"
    );
    let v = tx.client_view("c1", Some("nobody")).await.unwrap().unwrap();
    check!(
        !v.reader_owns_any && !v.reader_owns_partner,
        "stranger: {v:?}"
    );
    let v = tx.client_view("c2", Some("user-a")).await.unwrap().unwrap();
    check_eq!(v.policy_name, None, "policy gone");
    check!(v.deliveries.is_empty(), "no deliveries: {v:?}");
    check!(
        tx.client_view("nope", None).await.unwrap().is_none(),
        "unknown id"
    );
}

cases!(case_client_view_answers_the_read_checks);
