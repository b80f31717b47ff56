//! `export` (keyset paging over every table) and `count_rows`.

use crate::fixtures::*;
use pms_domain::model::MappingStatus;
use pms_domain::outbox::{AggregateType, Channel, OutboxState};
use pms_domain::store::{Record, Table};
use pms_domain::Store;
use std::sync::Arc;

cases!(case_export_every_table, case_export_empty_tables);

/// Ids chosen so that byte order differs from case-insensitive and from insertion order.
fn seed() -> Seed {
    let groups = vec![
        group("grp-b", "group b", at(1, 0)),
        group("grp-B", "group B", at(2, 0)),
        group("grp-a", "group a", at(3, 0)),
    ];
    let mut p1 = published(policy("pol-z", "grp-b", "z", at(4, 1)), true);
    p1.policies = policy_doc_v2().into();
    let policies = vec![
        p1,
        policy("pol-A", "grp-a", "A", at(4, 2)),
        policy("pol-a", "grp-a", "a", at(4, 3)),
        published(policy("pol-1", "grp-B", "one", at(4, 4)), false),
        policy("pol-_", "grp-B", "underscore", at(4, 5)),
    ];
    let mut pa2 = partner("par-2", "Two", "two@example.org", "user-1", at(5, 2));
    pa2.policy_group_id = Some("grp-a".into());
    let partners = vec![
        partner("par-3", "Three", "three@example.org", "user-1", at(5, 1)),
        pa2,
        partner("Par-9", "Nine", "nine@example.org", "user-2", at(5, 3)),
        partner("par-10", "Ten", "ten@example.org", "user-3", at(5, 4)),
    ];
    let mappings = vec![
        mapping("m-5", "par-3", "pol-z", MappingStatus::InProgress, at(6, 1)),
        mapping("m-1", "par-3", "pol-a", MappingStatus::Approved, at(6, 2)),
        mapping("m-4", "par-2", "pol-z", MappingStatus::Rejected, at(6, 3)),
        mapping("M-2", "par-2", "pol-z", MappingStatus::InProgress, at(6, 4)),
        mapping("m-3", "Par-9", "pol-1", MappingStatus::Rejected, at(6, 5)),
    ];
    let mut c1 = client("cl-b", "par-3", "pol-z", "b", at(7, 1));
    c1.name_lang_map = name_map(&[("spa", "b es"), ("eng", "b en")]);
    c1.version = 7;
    let clients = vec![
        c1,
        client("cl-a", "par-2", "pol-z", "a", at(7, 2)),
        client("cl-C", "gone", "gone", "C", at(7, 3)),
    ];
    // Audit rows in insertion order, timestamps deliberately not in that order.
    let audits = vec![
        audit(
            "PARTNER",
            "par-3",
            "REGISTER_PARTNER",
            at(9, 0),
            None,
            Some(r#"{"z":1,"a":2}"#),
        ),
        audit(
            "PARTNER",
            "par-2",
            "REGISTER_PARTNER",
            at(8, 0),
            None,
            Some(r#"{"id":"par-2"}"#),
        ),
        audit(
            "POLICY",
            "pol-z",
            "PUBLISH_POLICY",
            at(8, 0),
            Some(r#"{"schema":null,"isActive":false}"#),
            Some(r#"{"schema":"x","isActive":true}"#),
        ),
        audit(
            "POLICY_GROUP",
            "grp-b",
            "CREATE_POLICY_GROUP",
            at(1, 0),
            None,
            None,
        ),
        audit(
            "OIDC_CLIENT",
            "cl-b",
            "CREATE_CLIENT",
            at(7, 1),
            None,
            Some(r#"{"clientNameLangMap":{"spa":"b es","eng":"b en"}}"#),
        ),
    ];
    // Outbox rows restored out of id order, in every state, with ids above 9 (numeric, not
    // text, order: 9 < 10 < 100).
    let mut o_failed = outbox_row(
        10,
        AggregateType::Client,
        "cl-b",
        Channel::Esignet,
        at(7, 1),
    );
    o_failed.state = OutboxState::Failed;
    o_failed.attempts = 50;
    o_failed.last_attempt_at = Some(at(8, 5));
    o_failed.next_attempt_at = None;
    o_failed.last_error = Some("HTTP 400 invalid_client".into());
    let mut o_websub = outbox_row(
        100,
        AggregateType::Client,
        "cl-b",
        Channel::Websub,
        at(7, 1),
    );
    o_websub.depends_on = Some(10);
    let mut o_flight = outbox_row(
        9,
        AggregateType::Partner,
        "par-3",
        Channel::Websub,
        at(9, 0),
    );
    o_flight.operation = "PARTNER_UPDATED".into();
    o_flight.state = OutboxState::InFlight;
    o_flight.lease_until = Some(at(130, 999));
    o_flight.attempts = 2;
    o_flight.last_attempt_at = Some(at(9, 500));
    o_flight.last_error = Some("timeout".into());
    let mut o_done = outbox_row(
        11,
        AggregateType::Policy,
        "pol-z",
        Channel::Websub,
        at(8, 0),
    );
    o_done.operation = "POLICY_UPDATED".into();
    o_done.state = OutboxState::Delivered;
    o_done.delivered_at = Some(at(8, 1));
    o_done.last_attempt_at = Some(at(8, 1));
    let mut o_superseded = outbox_row(
        12,
        AggregateType::Client,
        "cl-a",
        Channel::Esignet,
        at(7, 2),
    );
    o_superseded.state = OutboxState::Superseded;
    o_superseded.operation = "UPDATE".into();
    o_superseded.client_version = Some(1_099_511_627_776);
    Seed {
        groups,
        policies,
        partners,
        mappings,
        clients,
        audits,
        outbox: vec![o_failed, o_websub, o_flight, o_done, o_superseded],
    }
}

/// The records of `table` in export order: primary key byte order, audit in insertion order.
fn expected(seed: &Seed, table: Table) -> Vec<Record> {
    fn by_id<T: Clone>(v: &[T], id: impl Fn(&T) -> String, wrap: fn(T) -> Record) -> Vec<Record> {
        let mut v = v.to_vec();
        v.sort_by_key(|x| id(x));
        v.into_iter().map(wrap).collect()
    }
    match table {
        Table::PolicyGroup => by_id(&seed.groups, |g| g.id.clone(), Record::PolicyGroup),
        Table::AuthPolicy => by_id(&seed.policies, |p| p.id.clone(), Record::AuthPolicy),
        Table::Partner => by_id(&seed.partners, |p| p.id.clone(), Record::Partner),
        Table::Mapping => by_id(&seed.mappings, |m| m.id.clone(), Record::Mapping),
        Table::Client => by_id(
            &seed.clients,
            |c| c.id.clone(),
            |c| Record::Client(Box::new(c)),
        ),
        Table::Audit => seed.audits.iter().cloned().map(Record::Audit).collect(),
        Table::Outbox => {
            let mut v = seed.outbox.clone();
            v.sort_by_key(|o| o.id);
            v.into_iter().map(Record::Outbox).collect()
        }
    }
}

fn record_id(r: &Record) -> String {
    match r {
        Record::PolicyGroup(g) => g.id.clone(),
        Record::AuthPolicy(p) => p.id.clone(),
        Record::Partner(p) => p.id.clone(),
        Record::Mapping(m) => m.id.clone(),
        Record::Client(c) => c.id.clone(),
        Record::Audit(a) => format!("{}:{}", a.entity_id, a.action),
        Record::Outbox(o) => o.id.to_string(),
    }
}

async fn case_export_every_table(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;

    let mut tx = store.read().await.unwrap();
    for table in Table::ALL {
        let want = expected(&seed, table);
        check_eq!(
            tx.count_rows(table).await.unwrap(),
            want.len() as u64,
            "count_rows({})",
            table.name()
        );

        let mut got: Vec<Record> = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = tx.export(table, after.as_deref(), 2).await.unwrap();
            pages += 1;
            check!(
                pages <= want.len() + 2,
                "export of {} does not end",
                table.name()
            );
            check!(
                page.records.len() <= 2,
                "export of {} page {pages}: {} records for limit 2",
                table.name(),
                page.records.len()
            );
            if page.records.is_empty() {
                check_eq!(
                    page.last,
                    None,
                    "export of {}: `last` of an empty page",
                    table.name()
                );
                break;
            }
            check!(
                page.last.is_some(),
                "export of {} page {pages}: `last` missing",
                table.name()
            );
            if table != Table::Audit {
                check_eq!(
                    page.last.clone(),
                    page.records.last().map(record_id),
                    "export of {} page {pages}: `last` is the last key",
                    table.name()
                );
            }
            got.extend(page.records);
            after = page.last;
        }
        // Pages of two (the last one possibly partial), then one empty page.
        check_eq!(
            pages,
            want.len().div_ceil(2) + 1,
            "number of export pages of {}",
            table.name()
        );
        check_eq!(
            got.iter().map(record_id).collect::<Vec<_>>(),
            want.iter().map(record_id).collect::<Vec<_>>(),
            "export order of {}",
            table.name()
        );
        for (g, w) in got.iter().zip(&want) {
            assert_record_eq(g, w, &format!("exported {} row", table.name()));
        }
    }

    // Explicit: numeric order of the outbox ids, and a position that is not a number.
    let ids: Vec<String> = expected(&seed, Table::Outbox)
        .iter()
        .map(record_id)
        .collect();
    check_eq!(
        ids,
        vec!["9", "10", "11", "12", "100"],
        "expected outbox key order"
    );
    let rest = tx.export(Table::Outbox, Some("11"), 100).await.unwrap();
    check_eq!(
        (
            rest.records.iter().map(record_id).collect::<Vec<_>>(),
            rest.last
        ),
        (
            vec!["12".to_string(), "100".to_string()],
            Some("100".into())
        ),
        "outbox rows after 11"
    );
    check!(
        matches!(
            tx.export(Table::Outbox, Some("x"), 2).await,
            Err(pms_domain::StoreError::Corrupt(_))
        ),
        "an outbox position that is not a number is corrupt"
    );

    // Explicit: byte order of the keys.
    let ids: Vec<String> = expected(&seed, Table::Partner)
        .iter()
        .map(record_id)
        .collect();
    check_eq!(
        ids,
        vec!["Par-9", "par-10", "par-2", "par-3"],
        "expected partner key order"
    );
    let ids: Vec<String> = expected(&seed, Table::AuthPolicy)
        .iter()
        .map(record_id)
        .collect();
    check_eq!(
        ids,
        vec!["pol-1", "pol-A", "pol-_", "pol-a", "pol-z"],
        "expected policy key order"
    );

    // A page may start after any key it returned, also with a larger limit.
    let first = tx.export(Table::Mapping, None, 2).await.unwrap();
    check_eq!(
        first.last.as_deref(),
        Some("m-1"),
        "last of the first mapping page"
    );
    let rest = tx
        .export(Table::Mapping, first.last.as_deref(), 100)
        .await
        .unwrap();
    check_eq!(
        rest.records.iter().map(record_id).collect::<Vec<_>>(),
        vec!["m-3", "m-4", "m-5"],
        "mappings after m-1"
    );
    check_eq!(
        rest.last.as_deref(),
        Some("m-5"),
        "last of the rest of the mappings"
    );
}

async fn case_export_empty_tables(store: Arc<dyn Store>) {
    let mut tx = store.read().await.unwrap();
    for table in Table::ALL {
        check_eq!(
            tx.count_rows(table).await.unwrap(),
            0,
            "count_rows({}) of a new database",
            table.name()
        );
        let page = tx.export(table, None, 2).await.unwrap();
        check_eq!(
            (page.records.len(), page.last),
            (0, None),
            "export of empty {}",
            table.name()
        );
    }
}
