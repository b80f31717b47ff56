//! `list_clients`: order, sorting, paging, filters and ownership over the shared catalogue, and
//! clients whose partner, group or policy row is missing (migrated data).

use crate::fixtures::*;
use pms_domain::list::{ClientFilter, ClientSortField, ClientSummary, ListQuery, SortDir};
use pms_domain::model::ClientStatus;
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_client_list_default_order_and_paging,
    case_client_list_sorting,
    case_client_list_filters,
    case_client_list_missing_joins,
);

type Q = ListQuery<ClientSortField, ClientFilter>;

const FIELDS: [ClientSortField; 8] = [
    ClientSortField::PartnerId,
    ClientSortField::OrgName,
    ClientSortField::PolicyGroupName,
    ClientSortField::PolicyName,
    ClientSortField::ClientId,
    ClientSortField::ClientName,
    ClientSortField::Status,
    ClientSortField::CreatedDateTime,
];

fn key(field: ClientSortField) -> impl Fn(&ClientSummary) -> Option<String> {
    move |s| match field {
        ClientSortField::PartnerId => Some(s.partner_id.clone()),
        ClientSortField::OrgName => s.org_name.clone(),
        ClientSortField::PolicyGroupName => s.policy_group_name.clone(),
        ClientSortField::PolicyName => s.policy_name.clone(),
        ClientSortField::ClientId => Some(s.client_id.clone()),
        ClientSortField::ClientName => Some(s.client_name.clone()),
        ClientSortField::Status => Some(s.status.as_str().to_string()),
        ClientSortField::CreatedDateTime => ts_key(&s.created),
    }
}

/// The catalogue plus six clients: both statuses, ties on creation time and name, literal
/// `%`/`_` in names.
fn seed() -> Seed {
    let mut seed = catalogue();
    let c = |id: &str, rp: &str, policy: &str, name: &str, status, cr| {
        let mut c = client(id, rp, policy, name, cr);
        c.status = status;
        c
    };
    let mut c2 = c(
        "cl-2",
        "par-2",
        "pol-b",
        "b%client",
        ClientStatus::Inactive,
        at(20, 500),
    );
    c2.upd_by = Some("user-2".into());
    c2.upd_dtimes = Some(at(21, 1));
    c2.name_lang_map = name_map(&[("fra", "b%client fr"), ("eng", "b%client")]);
    seed.clients = vec![
        c(
            "cl-0",
            "par-3",
            "pol-b",
            "another",
            ClientStatus::Inactive,
            at(1, 0),
        ),
        c(
            "cl-1",
            "par-1",
            "pol-a",
            "Client_A",
            ClientStatus::Active,
            at(10, 0),
        ),
        c2,
        c(
            "cl-3",
            "par-3",
            "pol-c",
            "B client",
            ClientStatus::Active,
            at(20, 500),
        ),
        c(
            "cl-4",
            "par-1",
            "pol-d",
            "another",
            ClientStatus::Active,
            at(5, 1),
        ),
        c(
            "cl-5",
            "par-2",
            "pol-f",
            "Zulu",
            ClientStatus::Active,
            at(20, 500),
        ),
    ];
    seed
}

fn summaries(seed: &Seed) -> Vec<ClientSummary> {
    seed.clients
        .iter()
        .map(|c| seed.client_summary(c))
        .collect()
}

async fn ids(store: &Arc<dyn Store>, q: &Q) -> (Vec<String>, u64) {
    let mut tx = store.read().await.unwrap();
    let page = tx.list_clients(q).await.unwrap();
    (
        page.items.into_iter().map(|s| s.client_id).collect(),
        page.total,
    )
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

fn owned(ids: &[&str]) -> Option<Vec<String>> {
    Some(strings(ids))
}

async fn case_client_list_default_order_and_paging(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;
    let all = summaries(&seed);

    let mut tx = store.read().await.unwrap();
    let listed = tx
        .list_clients(&query(ClientFilter::default()))
        .await
        .unwrap();
    drop(tx);
    check_eq!(listed.total, 6, "total");
    check_eq!(
        listed.items,
        reference_order(
            &all,
            |s| ts_key(&s.created),
            |s| s.client_id.clone(),
            SortDir::Desc
        ),
        "every summary, by creation time desc then id"
    );
    let order: Vec<&str> = listed.items.iter().map(|s| s.client_id.as_str()).collect();
    check_eq!(
        order,
        vec!["cl-2", "cl-3", "cl-5", "cl-1", "cl-4", "cl-0"],
        "default order"
    );
    let c2 = &listed.items[0];
    check_eq!(
        (
            c2.org_name.as_deref(),
            c2.policy_group_id.as_deref(),
            c2.policy_group_name.as_deref(),
            c2.policy_name.as_deref(),
            c2.status,
            c2.updated,
        ),
        (
            Some("org%two"),
            Some("g-3"),
            Some("B grp"),
            Some("B"),
            ClientStatus::Inactive,
            Some(at(21, 1)),
        ),
        "joined fields of cl-2 (group through the partner)"
    );

    let expect = [
        (0, vec!["cl-2", "cl-3"]),
        (1, vec!["cl-5", "cl-1"]),
        (2, vec!["cl-4", "cl-0"]),
        (3, vec![]),
        (u32::MAX, vec![]),
    ];
    for (no, want) in expect {
        let mut q: Q = query(ClientFilter::default());
        q.page = page(no, 2);
        check_eq!(ids(&store, &q).await, (strings(&want), 6), "page {no} of 2");
    }

    let mut q = sorted_by(
        ClientSortField::ClientName,
        SortDir::Asc,
        ClientFilter {
            owned_by: owned(&["par-2", "par-3"]),
            ..ClientFilter::default()
        },
    );
    q.page = page(0, 3);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["cl-3", "cl-5", "cl-0"]), 4),
        "own clients by name, page 0"
    );
    q.page = page(1, 3);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["cl-2"]), 4),
        "own clients by name, page 1"
    );
    q.page = page(2, 3);
    check_eq!(
        ids(&store, &q).await,
        (vec![], 4),
        "own clients, page past the end"
    );
}

async fn case_client_list_sorting(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;
    let all = summaries(&seed);

    for field in FIELDS {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let mut tx = store.read().await.unwrap();
            let got = tx
                .list_clients(&sorted_by(field, dir, ClientFilter::default()))
                .await
                .unwrap();
            check_eq!(
                got.items,
                reference_order(&all, key(field), |s| s.client_id.clone(), dir),
                "sort by {field:?} {dir:?}, then id asc"
            );
            check_eq!(got.total, 6, "total when sorting by {field:?} {dir:?}");
        }
    }

    let by = |field, dir| sorted_by(field, dir, ClientFilter::default());
    let cases = [
        (
            ClientSortField::ClientName,
            SortDir::Asc,
            vec!["cl-3", "cl-1", "cl-5", "cl-0", "cl-4", "cl-2"],
        ),
        (
            ClientSortField::ClientName,
            SortDir::Desc,
            vec!["cl-2", "cl-0", "cl-4", "cl-5", "cl-1", "cl-3"],
        ),
        (
            ClientSortField::Status,
            SortDir::Asc,
            vec!["cl-1", "cl-3", "cl-4", "cl-5", "cl-0", "cl-2"],
        ),
        (
            ClientSortField::Status,
            SortDir::Desc,
            vec!["cl-0", "cl-2", "cl-1", "cl-3", "cl-4", "cl-5"],
        ),
        (
            ClientSortField::PolicyGroupName,
            SortDir::Asc,
            vec!["cl-1", "cl-4", "cl-2", "cl-5", "cl-0", "cl-3"],
        ),
        (
            ClientSortField::OrgName,
            SortDir::Asc,
            vec!["cl-0", "cl-3", "cl-1", "cl-4", "cl-2", "cl-5"],
        ),
        (
            ClientSortField::CreatedDateTime,
            SortDir::Asc,
            vec!["cl-0", "cl-4", "cl-1", "cl-2", "cl-3", "cl-5"],
        ),
    ];
    for (field, dir, want) in cases {
        check_eq!(
            ids(&store, &by(field, dir)).await,
            (strings(&want), 6),
            "explicit order by {field:?} {dir:?}"
        );
    }
}

async fn case_client_list_filters(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;
    let f = ClientFilter::default;
    let filters: Vec<(&str, ClientFilter, Vec<&str>)> = vec![
        (
            "owned_by Some(empty) matches nothing",
            ClientFilter {
                owned_by: Some(vec![]),
                ..f()
            },
            vec![],
        ),
        (
            "owned_by par-1",
            ClientFilter {
                owned_by: owned(&["par-1"]),
                ..f()
            },
            vec!["cl-1", "cl-4"],
        ),
        (
            "owned_by par-2 and par-3",
            ClientFilter {
                owned_by: owned(&["par-2", "par-3"]),
                ..f()
            },
            vec!["cl-2", "cl-3", "cl-5", "cl-0"],
        ),
        (
            "owned_by is exact, not contains",
            ClientFilter {
                owned_by: owned(&["par-"]),
                ..f()
            },
            vec![],
        ),
        (
            "partner_id \"-3\"",
            ClientFilter {
                partner_id: Some("-3".into()),
                ..f()
            },
            vec!["cl-3", "cl-0"],
        ),
        (
            "org_name \"%\"",
            ClientFilter {
                org_name: Some("%".into()),
                ..f()
            },
            vec!["cl-2", "cl-5"],
        ),
        (
            "org_name \"_\"",
            ClientFilter {
                org_name: Some("_".into()),
                ..f()
            },
            vec!["cl-1", "cl-4"],
        ),
        (
            "org_name \"big\" ignores case",
            ClientFilter {
                org_name: Some("big".into()),
                ..f()
            },
            vec!["cl-3", "cl-0"],
        ),
        (
            "policy_group_name \"_\" (the partner's group)",
            ClientFilter {
                policy_group_name: Some("_".into()),
                ..f()
            },
            vec!["cl-1", "cl-4"],
        ),
        (
            "policy_group_name \"%\"",
            ClientFilter {
                policy_group_name: Some("%".into()),
                ..f()
            },
            vec!["cl-3", "cl-0"],
        ),
        (
            "policy_group_name \"b grp\" ignores case",
            ClientFilter {
                policy_group_name: Some("b grp".into()),
                ..f()
            },
            vec!["cl-2", "cl-5"],
        ),
        (
            "policy_name \"a\"",
            ClientFilter {
                policy_name: Some("a".into()),
                ..f()
            },
            vec!["cl-1", "cl-4"],
        ),
        (
            "policy_name \"b\" ignores case",
            ClientFilter {
                policy_name: Some("b".into()),
                ..f()
            },
            vec!["cl-2", "cl-3", "cl-5", "cl-0"],
        ),
        (
            "client_name \"b\" ignores case",
            ClientFilter {
                client_name: Some("b".into()),
                ..f()
            },
            vec!["cl-2", "cl-3"],
        ),
        (
            "client_name \"_\"",
            ClientFilter {
                client_name: Some("_".into()),
                ..f()
            },
            vec!["cl-1"],
        ),
        (
            "client_name \"%\"",
            ClientFilter {
                client_name: Some("%".into()),
                ..f()
            },
            vec!["cl-2"],
        ),
        (
            "client_name \"client\" ignores case",
            ClientFilter {
                client_name: Some("client".into()),
                ..f()
            },
            vec!["cl-2", "cl-3", "cl-1"],
        ),
        (
            "status ACTIVE",
            ClientFilter {
                status: Some("ACTIVE".into()),
                ..f()
            },
            vec!["cl-3", "cl-5", "cl-1", "cl-4"],
        ),
        (
            "status INACTIVE",
            ClientFilter {
                status: Some("INACTIVE".into()),
                ..f()
            },
            vec!["cl-2", "cl-0"],
        ),
        (
            "status is exact (\"active\")",
            ClientFilter {
                status: Some("active".into()),
                ..f()
            },
            vec![],
        ),
        (
            "status that is no status",
            ClientFilter {
                status: Some("bogus".into()),
                ..f()
            },
            vec![],
        ),
        (
            "owned_by and status",
            ClientFilter {
                owned_by: owned(&["par-3"]),
                status: Some("INACTIVE".into()),
                ..f()
            },
            vec!["cl-0"],
        ),
        (
            "owned_by Some(empty) wins over other filters",
            ClientFilter {
                owned_by: Some(vec![]),
                status: Some("ACTIVE".into()),
                ..f()
            },
            vec![],
        ),
    ];
    for (what, filter, want) in filters {
        let n = want.len() as u64;
        check_eq!(
            ids(&store, &query(filter)).await,
            (strings(&want), n),
            "{what}"
        );
    }
}

/// Clients migrated from MOSIP may name a partner or policy that is gone, or a partner without
/// a group: the joined fields are `None`, text filters on them do not match, and in sorts the
/// missing value is the lowest (first ascending, last descending), as in the SQLite reference.
async fn case_client_list_missing_joins(store: Arc<dyn Store>) {
    let mut seed = catalogue();
    seed.partners.push(partner(
        "par-9",
        "Lone Org",
        "lone@example.org",
        "user-9",
        at(0, 0),
    ));
    seed.clients = vec![
        client("cl-x1", "par-gone", "pol-gone", "orphan", at(50, 0)),
        client("cl-x2", "par-9", "pol-a", "no group", at(40, 0)),
        client("cl-x3", "par-1", "pol-a", "complete", at(30, 0)),
    ];
    seed.insert(&store).await;
    let all = summaries(&seed);

    let mut tx = store.read().await.unwrap();
    let listed = tx
        .list_clients(&query(ClientFilter::default()))
        .await
        .unwrap();
    drop(tx);
    check_eq!(listed.items, all, "summaries with missing joins");
    let orphan = &listed.items[0];
    check_eq!(
        (
            orphan.partner_id.as_str(),
            orphan.org_name.as_deref(),
            orphan.policy_group_id.as_deref(),
            orphan.policy_group_name.as_deref(),
            orphan.policy_group_description.as_deref(),
            orphan.policy_name.as_deref(),
            orphan.policy_description.as_deref(),
        ),
        ("par-gone", None, None, None, None, None, None),
        "the orphan's joined fields"
    );
    check_eq!(
        (
            listed.items[1].org_name.as_deref(),
            listed.items[1].policy_group_name.as_deref(),
            listed.items[1].policy_name.as_deref(),
        ),
        (Some("Lone Org"), None, Some("a")),
        "a partner without a group"
    );

    let f = ClientFilter::default;
    let filters: Vec<(&str, ClientFilter, Vec<&str>)> = vec![
        (
            "org_name \"o\" skips a missing partner",
            ClientFilter {
                org_name: Some("o".into()),
                ..f()
            },
            vec!["cl-x2", "cl-x3"],
        ),
        (
            "policy_group_name \"\" skips missing groups",
            ClientFilter {
                policy_group_name: Some(String::new()),
                ..f()
            },
            vec!["cl-x3"],
        ),
        (
            "policy_name \"\" skips a missing policy",
            ClientFilter {
                policy_name: Some(String::new()),
                ..f()
            },
            vec!["cl-x2", "cl-x3"],
        ),
        (
            "partner_id \"gone\" is the client's own column",
            ClientFilter {
                partner_id: Some("gone".into()),
                ..f()
            },
            vec!["cl-x1"],
        ),
        (
            "owned_by a partner that is gone",
            ClientFilter {
                owned_by: owned(&["par-gone"]),
                ..f()
            },
            vec!["cl-x1"],
        ),
    ];
    for (what, filter, want) in filters {
        let n = want.len() as u64;
        check_eq!(
            ids(&store, &query(filter)).await,
            (strings(&want), n),
            "{what}"
        );
    }

    // Sorting on a joined column: the missing value sorts lowest.
    let by = |field, dir| sorted_by(field, dir, ClientFilter::default());
    let cases = [
        (
            ClientSortField::OrgName,
            SortDir::Asc,
            vec!["cl-x1", "cl-x2", "cl-x3"],
        ),
        (
            ClientSortField::OrgName,
            SortDir::Desc,
            vec!["cl-x3", "cl-x2", "cl-x1"],
        ),
        (
            ClientSortField::PolicyGroupName,
            SortDir::Asc,
            vec!["cl-x1", "cl-x2", "cl-x3"],
        ),
        (
            ClientSortField::PolicyGroupName,
            SortDir::Desc,
            vec!["cl-x3", "cl-x1", "cl-x2"],
        ),
        (
            ClientSortField::PolicyName,
            SortDir::Asc,
            vec!["cl-x1", "cl-x2", "cl-x3"],
        ),
        (
            ClientSortField::PolicyName,
            SortDir::Desc,
            vec!["cl-x2", "cl-x3", "cl-x1"],
        ),
    ];
    for (field, dir, want) in cases {
        check_eq!(
            ids(&store, &by(field, dir)).await,
            (strings(&want), 3),
            "order by {field:?} {dir:?} with missing values (missing = lowest)"
        );
    }
}
