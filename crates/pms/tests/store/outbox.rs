//! The transactional outbox (downstream.md §5): writing and reading rows, taking them in the
//! order of §5.3, recording outcomes, superseding, retention, metrics, copying; and the client
//! version that orders eSignet deliveries.

use crate::fixtures::*;
use pms_domain::outbox::{AggregateType, Channel, NewOutboxRow, OutboxRow, OutboxState};
use pms_domain::store::{Record, Table};
use pms_domain::{Store, Timestamp};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

cases!(
    case_outbox_insert_and_read,
    case_outbox_claim_due_time_and_lease,
    case_outbox_claim_order_and_dependencies,
    case_outbox_claim_limit_and_exclusive,
    case_outbox_update,
    case_outbox_supersede_esignet,
    case_outbox_purge,
    case_outbox_depth,
    case_outbox_restore_and_export,
    case_client_version_round_trip,
);

const CLIENT: AggregateType = AggregateType::Client;

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

/// An `ESIGNET` row of client `client_id` for `version`.
fn esignet(client_id: &str, version: i64, created: Timestamp) -> NewOutboxRow {
    NewOutboxRow {
        aggregate_type: CLIENT,
        aggregate_id: client_id.into(),
        channel: Channel::Esignet,
        operation: if version == 1 { "CREATE" } else { "UPDATE" }.into(),
        client_version: Some(version),
        event: None,
        depends_on: None,
        created_at: created,
    }
}

/// A `WEBSUB` row of any aggregate, depending on `depends_on`.
fn websub(
    aggregate_type: AggregateType,
    aggregate_id: &str,
    depends_on: Option<i64>,
    created: Timestamp,
) -> NewOutboxRow {
    NewOutboxRow {
        aggregate_type,
        aggregate_id: aggregate_id.into(),
        channel: Channel::Websub,
        operation: "OIDC_CLIENT_UPDATED".into(),
        client_version: None,
        event: Some(websub_event(aggregate_id)),
        depends_on,
        created_at: created,
    }
}

/// Inserts `row` in a committed transaction of its own; returns its id.
async fn insert(store: &Arc<dyn Store>, row: &NewOutboxRow) -> i64 {
    let mut tx = store.write().await.unwrap();
    let id = tx.insert_outbox(row).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// Claims in a committed write transaction; returns the rows taken.
async fn claim(
    store: &Arc<dyn Store>,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Vec<OutboxRow> {
    let mut tx = store.write().await.unwrap();
    let rows = tx.claim_outbox(now, lease_until, limit).await.unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn claimed_ids(store: &Arc<dyn Store>, now: Timestamp, limit: u32) -> Vec<i64> {
    claim(store, now, at(600, 0), limit)
        .await
        .iter()
        .map(|r| r.id)
        .collect()
}

/// Every row, by id (through `export`).
async fn all_rows(store: &Arc<dyn Store>) -> Vec<OutboxRow> {
    let mut tx = store.read().await.unwrap();
    let page = tx.export(Table::Outbox, None, 10_000).await.unwrap();
    page.records
        .into_iter()
        .map(|r| match r {
            Record::Outbox(o) => o,
            other => panic!(
                "[{}] export of outbox gave {other:?}",
                crate::harness::backend()
            ),
        })
        .collect()
}

async fn row(store: &Arc<dyn Store>, id: i64) -> OutboxRow {
    all_rows(store)
        .await
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("[{}] no outbox row {id}", crate::harness::backend()))
}

/// Sets the state of row `id` (other delivery fields as they are), committed.
async fn set_state(store: &Arc<dyn Store>, id: i64, state: OutboxState) {
    let mut r = row(store, id).await;
    r.state = state;
    let mut tx = store.write().await.unwrap();
    tx.update_outbox(&r).await.unwrap();
    tx.commit().await.unwrap();
}

async fn case_outbox_insert_and_read(store: Arc<dyn Store>) {
    // One transaction writes a client's eSignet row and its dependent WebSub row, as the domain
    // does; others write rows of other aggregates.
    let e1 = esignet("cl-1", 1, at(1, 1));
    let mut tx = store.write().await.unwrap();
    let id1 = tx.insert_outbox(&e1).await.unwrap();
    let w1 = websub(CLIENT, "cl-1", Some(id1), at(1, 1));
    let id2 = tx.insert_outbox(&w1).await.unwrap();
    check!(id2 > id1, "ids increase within a transaction: {id1}, {id2}");
    // Own uncommitted rows are visible.
    check_eq!(
        tx.outbox_of(CLIENT, &ids(&["cl-1"])).await.unwrap().len(),
        2,
        "own uncommitted rows"
    );
    tx.commit().await.unwrap();

    let p1 = websub(AggregateType::Partner, "cl-1", None, at(2, 0));
    let id3 = insert(&store, &p1).await;
    let e2 = esignet("cl-2", 1, at(2, 999));
    let id4 = insert(&store, &e2).await;
    let e3 = esignet("cl-1", 2, at(3, 0));
    let id5 = insert(&store, &e3).await;
    check!(
        id1 < id2 && id2 < id3 && id3 < id4 && id4 < id5,
        "ids increase in commit order: {id1} {id2} {id3} {id4} {id5}"
    );

    // A dropped transaction leaves no row.
    let mut tx = store.write().await.unwrap();
    tx.insert_outbox(&esignet("cl-1", 3, at(4, 0)))
        .await
        .unwrap();
    drop(tx);

    let mut tx = store.read().await.unwrap();
    let want_cl1 = vec![
        OutboxRow::new(id1, &e1),
        OutboxRow::new(id2, &w1),
        OutboxRow::new(id5, &e3),
    ];
    let got = tx.outbox_of(CLIENT, &ids(&["cl-1"])).await.unwrap();
    assert_outbox_rows_eq(&got, &want_cl1, "outbox_of(CLIENT, [cl-1])");
    check_eq!(
        (got[0].state, got[0].attempts, got[0].next_attempt_at),
        (OutboxState::Pending, 0, Some(at(1, 1))),
        "a new row is PENDING, due at its creation"
    );
    check_eq!(
        text(&got[1].event),
        text(&websub_event("cl-1")),
        "event text (member order)"
    );
    check!(
        text(&got[1].event).starts_with(r#"{"publisher":"#),
        "event members in written order: {}",
        text(&got[1].event)
    );

    let got = tx
        .outbox_of(CLIENT, &ids(&["cl-2", "cl-1", "cl-9"]))
        .await
        .unwrap();
    check_eq!(
        got.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![id1, id2, id4, id5],
        "outbox_of several clients: by id"
    );
    assert_outbox_rows_eq(
        &tx.outbox_of(AggregateType::Partner, &ids(&["cl-1"]))
            .await
            .unwrap(),
        &[OutboxRow::new(id3, &p1)],
        "outbox_of matches the aggregate type",
    );
    check_eq!(
        tx.outbox_of(AggregateType::Policy, &ids(&["cl-1"]))
            .await
            .unwrap(),
        vec![],
        "outbox_of an aggregate type without rows"
    );
    check_eq!(
        tx.outbox_of(CLIENT, &[]).await.unwrap(),
        vec![],
        "outbox_of no aggregates"
    );
    check_eq!(
        tx.count_rows(Table::Outbox).await.unwrap(),
        5,
        "count_rows(outbox)"
    );
}

async fn case_outbox_claim_due_time_and_lease(store: Arc<dyn Store>) {
    let n = esignet("cl-1", 1, at(10, 0));
    let id = insert(&store, &n).await;

    check_eq!(
        claim(&store, at(9, 999), at(100, 0), 10).await,
        vec![],
        "not due before next_attempt_at"
    );
    let got = claim(&store, at(10, 0), at(130, 0), 10).await;
    let mut want = OutboxRow::new(id, &n);
    want.state = OutboxState::InFlight;
    want.lease_until = Some(at(130, 0));
    assert_outbox_rows_eq(&got, &[want.clone()], "claimed at next_attempt_at");
    check_eq!(row(&store, id).await, want, "stored after the claim");

    check_eq!(
        claim(&store, at(11, 0), at(200, 0), 10).await,
        vec![],
        "an IN_FLIGHT row under lease is not taken again"
    );
    check_eq!(
        claim(&store, at(130, 0), at(200, 0), 10).await,
        vec![],
        "a lease ending now has not run out"
    );
    let got = claim(&store, at(130, 1), at(250, 1), 10).await;
    want.lease_until = Some(at(250, 1));
    assert_outbox_rows_eq(&got, &[want.clone()], "re-claimed after the lease ran out");

    // A retry: PENDING again, due later.
    let mut retry = want.clone();
    retry.state = OutboxState::Pending;
    retry.attempts = 1;
    retry.lease_until = None;
    retry.last_attempt_at = Some(at(131, 0));
    retry.next_attempt_at = Some(at(140, 500));
    retry.last_error = Some("HTTP 503".into());
    let mut tx = store.write().await.unwrap();
    tx.update_outbox(&retry).await.unwrap();
    tx.commit().await.unwrap();
    check_eq!(
        claim(&store, at(140, 499), at(300, 0), 10).await,
        vec![],
        "a retry is not taken before its next attempt"
    );
    let got = claim(&store, at(140, 500), at(300, 0), 10).await;
    let mut want = retry.clone();
    want.state = OutboxState::InFlight;
    want.lease_until = Some(at(300, 0));
    assert_outbox_rows_eq(&got, &[want], "a retry taken when due, history kept");

    // FAILED, DELIVERED and SUPERSEDED rows are never taken.
    for state in [
        OutboxState::Failed,
        OutboxState::Delivered,
        OutboxState::Superseded,
    ] {
        set_state(&store, id, state).await;
        check_eq!(
            claim(&store, at(900, 0), at(1000, 0), 10).await,
            vec![],
            "a {state:?} row is not taken"
        );
    }

    // A PENDING row without a due time is due; an IN_FLIGHT row without a lease has run out.
    let mut r = row(&store, id).await;
    r.state = OutboxState::Pending;
    r.next_attempt_at = None;
    let mut tx = store.write().await.unwrap();
    tx.update_outbox(&r).await.unwrap();
    tx.commit().await.unwrap();
    check_eq!(
        claimed_ids(&store, at(0, 0), 10).await,
        vec![id],
        "PENDING without next_attempt_at"
    );
    let mut r = row(&store, id).await;
    r.lease_until = None;
    let mut tx = store.write().await.unwrap();
    tx.update_outbox(&r).await.unwrap();
    tx.commit().await.unwrap();
    check_eq!(
        claimed_ids(&store, at(0, 0), 10).await,
        vec![id],
        "IN_FLIGHT without lease_until"
    );
}

async fn case_outbox_claim_order_and_dependencies(store: Arc<dyn Store>) {
    let t = at(1, 0);
    // Client cl-1: two changes, each an eSignet row and a WebSub row depending on it.
    let e1 = insert(&store, &esignet("cl-1", 1, t)).await;
    let w1 = insert(&store, &websub(CLIENT, "cl-1", Some(e1), t)).await;
    let e2 = insert(&store, &esignet("cl-1", 2, t)).await;
    let w2 = insert(&store, &websub(CLIENT, "cl-1", Some(e2), t)).await;
    // Another client, a partner with two events, and a policy whose id equals cl-1's.
    let e3 = insert(&store, &esignet("cl-2", 1, t)).await;
    let p1 = insert(&store, &websub(AggregateType::Partner, "par-1", None, t)).await;
    let p2 = insert(&store, &websub(AggregateType::Partner, "par-1", None, t)).await;
    let q1 = insert(&store, &websub(AggregateType::Policy, "cl-1", None, t)).await;

    // First of each aggregate and channel only; WebSub of cl-1 waits for its eSignet row.
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        vec![e1, e3, p1, q1],
        "first claim"
    );
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        Vec::<i64>::new(),
        "everything else waits for rows in flight"
    );

    // A FAILED predecessor blocks the later rows, and a FAILED dependency its dependant.
    set_state(&store, e1, OutboxState::Failed).await;
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        Vec::<i64>::new(),
        "e1 failed: e2 and w1 blocked"
    );

    // Different aggregates are independent.
    set_state(&store, p1, OutboxState::Delivered).await;
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        vec![p2],
        "p1 delivered: p2 next"
    );

    // e1 delivered: e2 (next eSignet row) and w1 (dependency delivered) become eligible; w2
    // still waits for w1 and for e2.
    set_state(&store, e1, OutboxState::Delivered).await;
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        vec![w1, e2],
        "e1 delivered"
    );
    set_state(&store, w1, OutboxState::Delivered).await;
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        Vec::<i64>::new(),
        "w2 waits for e2 in flight"
    );
    set_state(&store, e2, OutboxState::Pending).await;
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        vec![e2],
        "w2 waits for e2 pending again"
    );
    // A superseded dependency counts as delivered.
    set_state(&store, e2, OutboxState::Superseded).await;
    check_eq!(
        claimed_ids(&store, at(2, 0), 100).await,
        vec![w2],
        "e2 superseded: w2 next"
    );

    // A row whose lease ran out is taken again, never together with its successor.
    let e4 = insert(&store, &esignet("cl-3", 1, t)).await;
    let e5 = insert(&store, &esignet("cl-3", 2, t)).await;
    check_eq!(
        claim(&store, at(2, 0), at(3, 0), 100)
            .await
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![e4],
        "cl-3 first row"
    );
    let again = claimed_ids(&store, at(1000, 0), 100).await;
    check!(
        again.contains(&e4) && !again.contains(&e5),
        "expired lease: e4 again, e5 still waits: {again:?}"
    );
}

async fn case_outbox_claim_limit_and_exclusive(store: Arc<dyn Store>) {
    let mut all: Vec<i64> = Vec::new();
    for i in 0..5 {
        all.push(insert(&store, &esignet(&format!("cl-{i}"), 1, at(1, i))).await);
    }
    check_eq!(
        claimed_ids(&store, at(2, 0), 2).await,
        all[0..2].to_vec(),
        "limit 2: the two oldest"
    );
    check_eq!(
        claimed_ids(&store, at(2, 0), 2).await,
        all[2..4].to_vec(),
        "a second claim takes the next two"
    );

    // A claim rolled back takes nothing.
    let mut tx = store.write().await.unwrap();
    let got = tx.claim_outbox(at(2, 0), at(600, 0), 10).await.unwrap();
    check_eq!(
        got.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![all[4]],
        "claim in a dropped transaction"
    );
    drop(tx);
    check_eq!(
        claimed_ids(&store, at(2, 0), 10).await,
        vec![all[4]],
        "the row of a dropped claim is still there to take"
    );
    check_eq!(
        claimed_ids(&store, at(2, 0), 10).await,
        Vec::<i64>::new(),
        "nothing left"
    );

    // Concurrent claimers never take the same row.
    let mut more: BTreeSet<i64> = BTreeSet::new();
    for i in 0..12 {
        more.insert(insert(&store, &esignet(&format!("c-{i}"), 1, at(3, i))).await);
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut taken = Vec::new();
            loop {
                let mut tx = store.write().await.unwrap();
                let rows = tx.claim_outbox(at(4, 0), at(600, 0), 2).await.unwrap();
                tx.commit().await.unwrap();
                if rows.is_empty() {
                    return taken;
                }
                taken.extend(rows.iter().map(|r| r.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<i64> = seen.iter().copied().collect();
    check_eq!(
        seen.len(),
        distinct.len(),
        "concurrent claimers took a row twice: {seen:?}"
    );
    check_eq!(distinct, more, "concurrent claimers took every row");
}

async fn case_outbox_update(store: Arc<dyn Store>) {
    let n = websub(CLIENT, "cl-1", None, at(1, 0));
    let id = insert(&store, &n).await;
    let other = insert(&store, &websub(CLIENT, "cl-2", None, at(1, 0))).await;
    let untouched = row(&store, other).await;

    let mut r = OutboxRow::new(id, &n);
    r.state = OutboxState::Pending;
    r.attempts = 3;
    r.next_attempt_at = Some(at(20, 7));
    r.last_attempt_at = Some(at(12, 345));
    r.lease_until = Some(at(13, 0));
    r.last_error = Some("HTTP 503 from the hub: é✓".into());
    let mut tx = store.write().await.unwrap();
    tx.update_outbox(&r).await.unwrap();
    tx.commit().await.unwrap();
    check_eq!(row(&store, id).await, r, "after a retry update");

    r.state = OutboxState::Delivered;
    r.attempts = 49;
    r.next_attempt_at = None;
    r.lease_until = None;
    r.delivered_at = Some(at(21, 999));
    r.last_error = None;
    // Fields other than the delivery's are not changed by update_outbox.
    let mut changed = r.clone();
    changed.operation = "OTHER".into();
    changed.event = Some(Value::Null);
    changed.aggregate_id = "cl-9".into();
    let mut tx = store.write().await.unwrap();
    tx.update_outbox(&changed).await.unwrap();
    tx.commit().await.unwrap();
    let got = row(&store, id).await;
    assert_outbox_eq(&got, &r, "after a delivered update");
    check_eq!(row(&store, other).await, untouched, "other row untouched");

    // An update dropped without commit changes nothing.
    let mut tx = store.write().await.unwrap();
    let mut f = r.clone();
    f.state = OutboxState::Failed;
    tx.update_outbox(&f).await.unwrap();
    drop(tx);
    check_eq!(row(&store, id).await, r, "after a dropped update");
}

async fn case_outbox_supersede_esignet(store: Arc<dyn Store>) {
    let t = at(1, 0);
    let done = insert(&store, &esignet("cl-1", 1, t)).await;
    let failed = insert(&store, &esignet("cl-1", 2, t)).await;
    let flight = insert(&store, &esignet("cl-1", 2, t)).await;
    let pending = insert(&store, &esignet("cl-1", 3, t)).await;
    let sent = insert(&store, &esignet("cl-1", 3, t)).await;
    let newer = insert(&store, &esignet("cl-1", 4, t)).await;
    let web = insert(&store, &websub(CLIENT, "cl-1", Some(pending), t)).await;
    let other = insert(&store, &esignet("cl-2", 1, t)).await;
    set_state(&store, done, OutboxState::Delivered).await;
    set_state(&store, failed, OutboxState::Failed).await;
    set_state(&store, flight, OutboxState::InFlight).await;
    set_state(&store, sent, OutboxState::InFlight).await;
    let before = all_rows(&store).await;

    let mut tx = store.write().await.unwrap();
    let n = tx.supersede_esignet("cl-1", 3, sent).await.unwrap();
    tx.commit().await.unwrap();
    check_eq!(n, 2, "rows superseded");

    let after = all_rows(&store).await;
    for (b, a) in before.iter().zip(&after) {
        let mut want = b.clone();
        if a.id == failed || a.id == pending {
            want.state = OutboxState::Superseded;
        }
        check_eq!(a, &want, "row {} after supersede", b.id);
    }
    check_eq!(
        (
            row(&store, newer).await.state,
            row(&store, web).await.state,
            row(&store, other).await.state,
            row(&store, flight).await.state
        ),
        (
            OutboxState::Pending,
            OutboxState::Pending,
            OutboxState::Pending,
            OutboxState::InFlight
        ),
        "newer version, WebSub, other client and in-flight rows untouched"
    );

    let mut tx = store.write().await.unwrap();
    check_eq!(
        tx.supersede_esignet("cl-1", 3, sent).await.unwrap(),
        0,
        "nothing left to supersede"
    );
    check_eq!(
        tx.supersede_esignet("cl-1", 4, sent).await.unwrap(),
        1,
        "version 4 supersedes the newer row"
    );
    check_eq!(
        tx.supersede_esignet("cl-2", 1, other).await.unwrap(),
        0,
        "the excepted row is kept"
    );
    tx.commit().await.unwrap();
}

async fn case_outbox_purge(store: Arc<dyn Store>) {
    let old = at(1, 0);
    let cut = at(5, 0);
    let mut rows = Vec::new();
    for (state, created) in [
        (OutboxState::Delivered, old),
        (OutboxState::Superseded, old),
        (OutboxState::Failed, old),
        (OutboxState::Pending, old),
        (OutboxState::InFlight, old),
        (OutboxState::Delivered, cut),
        (OutboxState::Superseded, at(9, 0)),
        (OutboxState::Delivered, at(4, 999)),
    ] {
        let id = insert(&store, &esignet(&format!("cl-{}", rows.len()), 1, created)).await;
        set_state(&store, id, state).await;
        rows.push(id);
    }
    // A failed WebSub row depending on an old delivered eSignet row that is purged.
    let dep = insert(&store, &esignet("cl-d", 1, old)).await;
    set_state(&store, dep, OutboxState::Delivered).await;
    let dependant = insert(&store, &websub(CLIENT, "cl-d", Some(dep), old)).await;
    set_state(&store, dependant, OutboxState::Failed).await;

    let mut tx = store.write().await.unwrap();
    let n = tx.purge_outbox(cut).await.unwrap();
    tx.commit().await.unwrap();
    check_eq!(n, 4, "rows purged");
    check_eq!(
        all_rows(&store)
            .await
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![rows[2], rows[3], rows[4], rows[5], rows[6], dependant],
        "rows kept: open ones, and finished ones not older than the cut"
    );

    // Redelivered, the dependant of a purged row can be taken: its dependency was delivered.
    set_state(&store, dependant, OutboxState::Pending).await;
    let got = claimed_ids(&store, at(10, 0), 100).await;
    check!(
        got.contains(&dependant),
        "dependant of a purged row taken: {got:?}"
    );

    let mut tx = store.write().await.unwrap();
    check_eq!(tx.purge_outbox(cut).await.unwrap(), 0, "second purge");
    tx.commit().await.unwrap();
}

async fn case_outbox_depth(store: Arc<dyn Store>) {
    let sorted = |mut v: Vec<(Channel, OutboxState, u64)>| {
        v.sort_by_key(|(c, s, _)| (c.as_str(), s.as_str()));
        v
    };
    let mut tx = store.read().await.unwrap();
    check_eq!(tx.outbox_depth().await.unwrap(), vec![], "empty outbox");
    drop(tx);

    let t = at(1, 0);
    for (i, state) in [
        OutboxState::Pending,
        OutboxState::Pending,
        OutboxState::Failed,
        OutboxState::Delivered,
    ]
    .into_iter()
    .enumerate()
    {
        let id = insert(&store, &esignet(&format!("cl-{i}"), 1, t)).await;
        set_state(&store, id, state).await;
    }
    for (i, state) in [
        OutboxState::InFlight,
        OutboxState::Delivered,
        OutboxState::Delivered,
        OutboxState::Superseded,
        OutboxState::Pending,
    ]
    .into_iter()
    .enumerate()
    {
        let id = insert(&store, &websub(CLIENT, &format!("w-{i}"), None, t)).await;
        set_state(&store, id, state).await;
    }
    let mut tx = store.read().await.unwrap();
    check_eq!(
        sorted(tx.outbox_depth().await.unwrap()),
        sorted(vec![
            (Channel::Esignet, OutboxState::Pending, 2),
            (Channel::Esignet, OutboxState::Failed, 1),
            (Channel::Esignet, OutboxState::Delivered, 1),
            (Channel::Websub, OutboxState::InFlight, 1),
            (Channel::Websub, OutboxState::Delivered, 2),
            (Channel::Websub, OutboxState::Superseded, 1),
            (Channel::Websub, OutboxState::Pending, 1),
        ]),
        "depth by channel and state, non-zero groups only"
    );
}

async fn case_outbox_restore_and_export(store: Arc<dyn Store>) {
    // A row written before the copy, then rows restored with their ids and history.
    let first = insert(&store, &esignet("cl-0", 1, at(0, 0))).await;
    let mut a = outbox_row(40, CLIENT, "cl-1", Channel::Esignet, at(1, 1));
    a.state = OutboxState::InFlight;
    a.attempts = 7;
    a.next_attempt_at = Some(at(2, 2));
    a.last_attempt_at = Some(at(3, 3));
    a.lease_until = Some(at(4, 4));
    a.last_error = Some("connection reset".into());
    let mut b = outbox_row(41, CLIENT, "cl-1", Channel::Websub, at(1, 1));
    b.depends_on = Some(40);
    let mut c = outbox_row(
        9_000_000_000,
        AggregateType::Policy,
        "pol-1",
        Channel::Websub,
        at(5, 5),
    );
    c.state = OutboxState::Delivered;
    c.delivered_at = Some(at(6, 6));
    c.next_attempt_at = None;
    let mut d = outbox_row(
        39,
        AggregateType::Partner,
        "par-1",
        Channel::Websub,
        at(0, 5),
    );
    d.state = OutboxState::Failed;
    d.attempts = 50;
    d.last_error = Some("HTTP 400".into());
    let mut tx = store.write().await.unwrap();
    for r in [&a, &b, &c, &d] {
        tx.restore_outbox(r).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    assert_outbox_rows_eq(
        &tx.outbox_of(CLIENT, &ids(&["cl-1"])).await.unwrap(),
        &[a.clone(), b.clone()],
        "restored rows of cl-1",
    );
    check_eq!(
        tx.count_rows(Table::Outbox).await.unwrap(),
        5,
        "count_rows after restore"
    );
    // Export pages in id order; the position is the id.
    let mut got = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = tx.export(Table::Outbox, after.as_deref(), 2).await.unwrap();
        if page.records.is_empty() {
            check_eq!(page.last, None, "last of the empty page");
            break;
        }
        let last_id = match page.records.last() {
            Some(Record::Outbox(o)) => o.id.to_string(),
            other => panic!(
                "[{}] unexpected record {other:?}",
                crate::harness::backend()
            ),
        };
        check_eq!(page.last.clone(), Some(last_id), "position is the last id");
        got.extend(page.records);
        after = page.last;
    }
    let first_row = OutboxRow::new(first, &esignet("cl-0", 1, at(0, 0)));
    let want: Vec<Record> = [first_row, d.clone(), a.clone(), b.clone(), c.clone()]
        .into_iter()
        .map(Record::Outbox)
        .collect();
    check_eq!(got.len(), want.len(), "exported rows");
    for (g, w) in got.iter().zip(&want) {
        assert_record_eq(g, w, "exported outbox row");
    }
    drop(tx);

    // New rows continue above the restored ids, and the restored rows take part in claims as
    // they stood: a (in flight, lease run out) is taken again, b still waits for it, c is
    // delivered and d failed.
    let next = insert(&store, &esignet("cl-2", 1, at(7, 0))).await;
    check!(next > 9_000_000_000, "insert after restore: id {next}");
    let got = claimed_ids(&store, at(8, 0), 100).await;
    check_eq!(got, vec![first, 40, next], "claim after restore");
}

async fn case_client_version_round_trip(store: Arc<dyn Store>) {
    let mut c = client("cl-1", "par-1", "pol-1", "Client", at(1, 0));
    check_eq!(c.version, 1, "fixture version");
    let mut c2 = client("cl-2", "par-1", "pol-1", "Other", at(1, 1));
    c2.version = 1_099_511_627_776;
    let mut tx = store.write().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_client(&c2).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    assert_client_eq(&tx.client("cl-1").await.unwrap().unwrap(), &c, "inserted");
    assert_client_eq(
        &tx.client("cl-2").await.unwrap().unwrap(),
        &c2,
        "inserted, large version",
    );
    drop(tx);

    c.version = 2;
    c.name = "Renamed".into();
    c.upd_by = Some("user-2".into());
    c.upd_dtimes = Some(at(2, 0));
    let mut tx = store.write().await.unwrap();
    check_eq!(
        tx.client_for_update("cl-1")
            .await
            .unwrap()
            .map(|c| c.version),
        Some(1),
        "version read for update"
    );
    tx.update_client(&c).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    assert_client_eq(&tx.client("cl-1").await.unwrap().unwrap(), &c, "updated");
    let page = tx.export(Table::Client, None, 10).await.unwrap();
    check_eq!(
        page.records,
        vec![
            Record::Client(Box::new(c.clone())),
            Record::Client(Box::new(c2.clone()))
        ],
        "exported clients with their versions"
    );
}
