//! `list_mappings`: order, sorting, paging, filters and ownership over the shared catalogue.

use crate::fixtures::*;
use pms_domain::list::{ListQuery, MappingFilter, MappingSortField, MappingSummary, SortDir};
use pms_domain::model::MappingStatus;
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_mapping_list_default_order_and_paging,
    case_mapping_list_sorting,
    case_mapping_list_filters,
);

type Q = ListQuery<MappingSortField, MappingFilter>;

const FIELDS: [MappingSortField; 9] = [
    MappingSortField::PartnerId,
    MappingSortField::PartnerType,
    MappingSortField::OrgName,
    MappingSortField::PolicyId,
    MappingSortField::PolicyGroupName,
    MappingSortField::PolicyName,
    MappingSortField::Status,
    MappingSortField::RequestDetail,
    MappingSortField::CreatedDateTime,
];

fn key(field: MappingSortField) -> impl Fn(&MappingSummary) -> Option<String> {
    move |s| match field {
        MappingSortField::PartnerId => Some(s.partner_id.clone()),
        MappingSortField::PartnerType => Some(s.partner_type.clone()),
        MappingSortField::OrgName => Some(s.org_name.clone()),
        MappingSortField::PolicyId => Some(s.policy_id.clone()),
        MappingSortField::PolicyGroupName => s.policy_group_name.clone(),
        MappingSortField::PolicyName => Some(s.policy_name.clone()),
        MappingSortField::Status => Some(s.status.as_str().to_string()),
        MappingSortField::RequestDetail => Some(s.partner_comment.clone()),
        MappingSortField::CreatedDateTime => ts_key(&s.created),
    }
}

/// The catalogue plus six requests: every status, every partner status, ties on creation time,
/// a rejected and a live request of one pair, literal `%`/`_` in comments.
fn seed() -> Seed {
    let mut seed = catalogue();
    let m = |id: &str, partner: &str, policy: &str, detail: &str, status, cr| {
        let mut m = mapping(id, partner, policy, status, cr);
        m.request_detail = detail.into();
        m
    };
    let mut m2 = m(
        "map-2",
        "par-2",
        "pol-b",
        "100% needed",
        MappingStatus::Approved,
        at(20, 2),
    );
    m2.upd_by = Some("admin-1".into());
    m2.upd_dtimes = Some(at(25, 3));
    let mut m3 = m(
        "map-3",
        "par-3",
        "pol-c",
        "Plain",
        MappingStatus::Rejected,
        at(20, 2),
    );
    m3.upd_by = Some("admin-1".into());
    m3.upd_dtimes = Some(at(26, 0));
    seed.mappings = vec![
        m(
            "map-1",
            "par-1",
            "pol-a",
            "please_approve",
            MappingStatus::InProgress,
            at(10, 1),
        ),
        m2,
        m3,
        m(
            "map-4",
            "par-1",
            "pol-b",
            "again",
            MappingStatus::Rejected,
            at(5, 0),
        ),
        m(
            "map-5",
            "par-1",
            "pol-b",
            "B first",
            MappingStatus::InProgress,
            at(30, 0),
        ),
        m(
            "map-6",
            "par-2",
            "pol-e",
            "zz",
            MappingStatus::Approved,
            at(20, 2),
        ),
    ];
    seed
}

fn summaries(seed: &Seed) -> Vec<MappingSummary> {
    seed.mappings
        .iter()
        .map(|m| seed.mapping_summary(m))
        .collect()
}

async fn ids(store: &Arc<dyn Store>, q: &Q) -> (Vec<String>, u64) {
    let mut tx = store.read().await.unwrap();
    let page = tx.list_mappings(q).await.unwrap();
    (page.items.into_iter().map(|s| s.id).collect(), page.total)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

fn owned(ids: &[&str]) -> Option<Vec<String>> {
    Some(strings(ids))
}

async fn case_mapping_list_default_order_and_paging(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;
    let all = summaries(&seed);

    let mut tx = store.read().await.unwrap();
    let listed = tx
        .list_mappings(&query(MappingFilter::default()))
        .await
        .unwrap();
    drop(tx);
    check_eq!(listed.total, 6, "total");
    check_eq!(
        listed.items,
        reference_order(
            &all,
            |s| ts_key(&s.created),
            |s| s.id.clone(),
            SortDir::Desc
        ),
        "every summary, by creation time desc then id"
    );
    let got: Vec<(&str, &str, MappingStatus)> = listed
        .items
        .iter()
        .map(|s| (s.id.as_str(), s.partner_status, s.status))
        .collect();
    check_eq!(
        got,
        vec![
            ("map-5", "InProgress", MappingStatus::InProgress),
            ("map-2", "activated", MappingStatus::Approved),
            ("map-3", "deactivated", MappingStatus::Rejected),
            ("map-6", "activated", MappingStatus::Approved),
            ("map-1", "InProgress", MappingStatus::InProgress),
            ("map-4", "InProgress", MappingStatus::Rejected),
        ],
        "default order with partner and request status"
    );
    let m2 = listed.items.iter().find(|s| s.id == "map-2").unwrap();
    check_eq!(m2.updated, Some(at(25, 3)), "updated time of map-2");
    check_eq!(
        m2.policy_group_name.as_deref(),
        Some("beta%grp"),
        "group of map-2's policy"
    );

    let expect = [
        (0, vec!["map-5", "map-2", "map-3", "map-6"]),
        (1, vec!["map-1", "map-4"]),
        (2, vec![]),
        (7, vec![]),
    ];
    for (no, want) in expect {
        let mut q: Q = query(MappingFilter::default());
        q.page = page(no, 4);
        check_eq!(ids(&store, &q).await, (strings(&want), 6), "page {no} of 4");
    }

    let mut q = sorted_by(
        MappingSortField::CreatedDateTime,
        SortDir::Asc,
        MappingFilter {
            owned_by: owned(&["par-1"]),
            ..MappingFilter::default()
        },
    );
    q.page = page(0, 2);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["map-4", "map-1"]), 3),
        "own requests, oldest first, page 0"
    );
    q.page = page(1, 2);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["map-5"]), 3),
        "own requests, oldest first, page 1"
    );
    q.page = page(5, 2);
    check_eq!(
        ids(&store, &q).await,
        (vec![], 3),
        "own requests, page past the end"
    );
}

async fn case_mapping_list_sorting(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;
    let all = summaries(&seed);

    for field in FIELDS {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let mut tx = store.read().await.unwrap();
            let got = tx
                .list_mappings(&sorted_by(field, dir, MappingFilter::default()))
                .await
                .unwrap();
            check_eq!(
                got.items,
                reference_order(&all, key(field), |s| s.id.clone(), dir),
                "sort by {field:?} {dir:?}, then id asc"
            );
            check_eq!(got.total, 6, "total when sorting by {field:?} {dir:?}");
        }
    }

    let by = |field, dir| sorted_by(field, dir, MappingFilter::default());
    let cases = [
        (
            MappingSortField::Status,
            SortDir::Asc,
            vec!["map-1", "map-5", "map-2", "map-6", "map-3", "map-4"],
        ),
        (
            MappingSortField::OrgName,
            SortDir::Asc,
            vec!["map-3", "map-1", "map-4", "map-5", "map-2", "map-6"],
        ),
        (
            MappingSortField::OrgName,
            SortDir::Desc,
            vec!["map-2", "map-6", "map-1", "map-4", "map-5", "map-3"],
        ),
        (
            MappingSortField::RequestDetail,
            SortDir::Asc,
            vec!["map-2", "map-5", "map-3", "map-4", "map-1", "map-6"],
        ),
        (
            MappingSortField::RequestDetail,
            SortDir::Desc,
            vec!["map-6", "map-1", "map-4", "map-3", "map-5", "map-2"],
        ),
        (
            MappingSortField::PolicyName,
            SortDir::Asc,
            vec!["map-2", "map-4", "map-5", "map-6", "map-1", "map-3"],
        ),
        (
            MappingSortField::PartnerType,
            SortDir::Asc,
            vec!["map-1", "map-4", "map-5", "map-3", "map-2", "map-6"],
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

async fn case_mapping_list_filters(store: Arc<dyn Store>) {
    let seed = seed();
    seed.insert(&store).await;
    let f = MappingFilter::default;
    let filters: Vec<(&str, MappingFilter, Vec<&str>)> = vec![
        (
            "owned_by Some(empty) matches nothing",
            MappingFilter {
                owned_by: Some(vec![]),
                ..f()
            },
            vec![],
        ),
        (
            "owned_by par-1",
            MappingFilter {
                owned_by: owned(&["par-1"]),
                ..f()
            },
            vec!["map-5", "map-1", "map-4"],
        ),
        (
            "owned_by par-3 and par-2",
            MappingFilter {
                owned_by: owned(&["par-3", "par-2"]),
                ..f()
            },
            vec!["map-2", "map-3", "map-6"],
        ),
        (
            "owned_by an unknown partner",
            MappingFilter {
                owned_by: owned(&["nobody"]),
                ..f()
            },
            vec![],
        ),
        (
            "owned_by is exact, not contains",
            MappingFilter {
                owned_by: owned(&["par"]),
                ..f()
            },
            vec![],
        ),
        (
            "partner_id \"-1\"",
            MappingFilter {
                partner_id: Some("-1".into()),
                ..f()
            },
            vec!["map-5", "map-1", "map-4"],
        ),
        (
            "partner_comment \"%\"",
            MappingFilter {
                partner_comment: Some("%".into()),
                ..f()
            },
            vec!["map-2"],
        ),
        (
            "partner_comment \"_\"",
            MappingFilter {
                partner_comment: Some("_".into()),
                ..f()
            },
            vec!["map-1"],
        ),
        (
            "partner_comment \"plain\" ignores case",
            MappingFilter {
                partner_comment: Some("plain".into()),
                ..f()
            },
            vec!["map-3"],
        ),
        (
            "partner_comment \"b f\" ignores case",
            MappingFilter {
                partner_comment: Some("b f".into()),
                ..f()
            },
            vec!["map-5"],
        ),
        (
            "org_name \"org\" ignores case",
            MappingFilter {
                org_name: Some("org".into()),
                ..f()
            },
            vec!["map-5", "map-2", "map-3", "map-6", "map-1", "map-4"],
        ),
        (
            "org_name \"_\"",
            MappingFilter {
                org_name: Some("_".into()),
                ..f()
            },
            vec!["map-5", "map-1", "map-4"],
        ),
        (
            "org_name \"%\"",
            MappingFilter {
                org_name: Some("%".into()),
                ..f()
            },
            vec!["map-2", "map-6"],
        ),
        (
            "policy_id \"pol-b\"",
            MappingFilter {
                policy_id: Some("pol-b".into()),
                ..f()
            },
            vec!["map-5", "map-2", "map-4"],
        ),
        (
            "policy_name \"b\" ignores case",
            MappingFilter {
                policy_name: Some("b".into()),
                ..f()
            },
            vec!["map-5", "map-2", "map-3", "map-4"],
        ),
        (
            "policy_name \"_\"",
            MappingFilter {
                policy_name: Some("_".into()),
                ..f()
            },
            vec!["map-6"],
        ),
        (
            "policy_group_name \"%\"",
            MappingFilter {
                policy_group_name: Some("%".into()),
                ..f()
            },
            vec!["map-5", "map-2", "map-4"],
        ),
        (
            "policy_group_name \"_\"",
            MappingFilter {
                policy_group_name: Some("_".into()),
                ..f()
            },
            vec!["map-3", "map-1"],
        ),
        (
            "policy_group_name \"b grp\" ignores case",
            MappingFilter {
                policy_group_name: Some("b grp".into()),
                ..f()
            },
            vec!["map-6"],
        ),
        (
            "partner_type \"partner\"",
            MappingFilter {
                partner_type: Some("partner".into()),
                ..f()
            },
            vec!["map-5", "map-3", "map-1", "map-4"],
        ),
        (
            "partner_type \"device\" ignores case",
            MappingFilter {
                partner_type: Some("device".into()),
                ..f()
            },
            vec!["map-2", "map-6"],
        ),
        (
            "status InProgress",
            MappingFilter {
                status: Some(MappingStatus::InProgress),
                ..f()
            },
            vec!["map-5", "map-1"],
        ),
        (
            "status approved",
            MappingFilter {
                status: Some(MappingStatus::Approved),
                ..f()
            },
            vec!["map-2", "map-6"],
        ),
        (
            "status rejected",
            MappingFilter {
                status: Some(MappingStatus::Rejected),
                ..f()
            },
            vec!["map-3", "map-4"],
        ),
        (
            "owned_by and status",
            MappingFilter {
                owned_by: owned(&["par-1", "par-2"]),
                status: Some(MappingStatus::InProgress),
                ..f()
            },
            vec!["map-5", "map-1"],
        ),
        (
            "owned_by Some(empty) wins over other filters",
            MappingFilter {
                owned_by: Some(vec![]),
                status: Some(MappingStatus::InProgress),
                ..f()
            },
            vec![],
        ),
        (
            "owned_by and a text filter",
            MappingFilter {
                owned_by: owned(&["par-1"]),
                partner_comment: Some("a".into()),
                ..f()
            },
            vec!["map-1", "map-4"],
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
