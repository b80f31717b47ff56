//! `list_policies`: order, sorting, paging and filters over the shared catalogue.

use crate::fixtures::*;
use pms_domain::list::{ListQuery, PolicyFilter, PolicySortField, PolicySummary, SortDir};
use pms_domain::model::PolicyState;
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_policy_list_default_order_and_paging,
    case_policy_list_sorting,
    case_policy_list_filters,
);

type Q = ListQuery<PolicySortField, PolicyFilter>;

const FIELDS: [PolicySortField; 7] = [
    PolicySortField::PolicyId,
    PolicySortField::PolicyName,
    PolicySortField::PolicyDescription,
    PolicySortField::PolicyGroupId,
    PolicySortField::PolicyGroupName,
    PolicySortField::Status,
    PolicySortField::CreatedDateTime,
];

fn key(field: PolicySortField) -> impl Fn(&PolicySummary) -> Option<String> {
    move |s| match field {
        PolicySortField::PolicyId => Some(s.policy_id.clone()),
        PolicySortField::PolicyName => Some(s.policy_name.clone()),
        PolicySortField::PolicyDescription => Some(s.policy_description.clone()),
        PolicySortField::PolicyGroupId => Some(s.policy_group_id.clone()),
        PolicySortField::PolicyGroupName => Some(s.policy_group_name.clone()),
        PolicySortField::Status => Some(s.state.as_list_str().to_string()),
        PolicySortField::CreatedDateTime => ts_key(&s.created),
    }
}

fn summaries(seed: &Seed) -> Vec<PolicySummary> {
    seed.policies
        .iter()
        .map(|p| seed.policy_summary(p))
        .collect()
}

fn default_order(items: &[PolicySummary]) -> Vec<PolicySummary> {
    reference_order(
        items,
        |s| ts_key(&s.created),
        |s| s.policy_id.clone(),
        SortDir::Desc,
    )
}

async fn ids(store: &Arc<dyn Store>, q: &Q) -> (Vec<String>, u64) {
    let mut tx = store.read().await.unwrap();
    let page = tx.list_policies(q).await.unwrap();
    (
        page.items.into_iter().map(|s| s.policy_id).collect(),
        page.total,
    )
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

async fn case_policy_list_default_order_and_paging(store: Arc<dyn Store>) {
    let seed = catalogue();
    seed.insert(&store).await;
    let all = summaries(&seed);

    let mut tx = store.read().await.unwrap();
    let listed = tx
        .list_policies(&query(PolicyFilter::default()))
        .await
        .unwrap();
    drop(tx);
    check_eq!(listed.total, 6, "total");
    check_eq!(
        listed.items,
        default_order(&all),
        "every summary, by creation time desc then id"
    );
    let order: Vec<&str> = listed.items.iter().map(|s| s.policy_id.as_str()).collect();
    check_eq!(
        order,
        vec!["pol-e", "pol-b", "pol-c", "pol-f", "pol-a", "pol-d"],
        "default order"
    );
    let states: Vec<PolicyState> = listed.items.iter().map(|s| s.state).collect();
    check_eq!(
        states,
        vec![
            PolicyState::Draft,
            PolicyState::Activated,
            PolicyState::Deactivated,
            PolicyState::Activated,
            PolicyState::Draft,
            PolicyState::Activated,
        ],
        "derived states"
    );

    // Pages of two, then past the end.
    let expect = [
        (0, vec!["pol-e", "pol-b"]),
        (1, vec!["pol-c", "pol-f"]),
        (2, vec!["pol-a", "pol-d"]),
        (3, vec![]),
        (1000, vec![]),
    ];
    for (no, want) in expect {
        let mut q: Q = query(PolicyFilter::default());
        q.page = page(no, 2);
        check_eq!(ids(&store, &q).await, (strings(&want), 6), "page {no} of 2");
    }
    let mut q: Q = query(PolicyFilter::default());
    q.page = page(1, 4);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["pol-a", "pol-d"]), 6),
        "partial last page"
    );
    let mut q: Q = query(PolicyFilter::default());
    q.page = page(0, 100);
    check_eq!(
        ids(&store, &q).await.0.len(),
        6,
        "one page larger than the list"
    );

    // Paging with a sort and a filter: the total counts the filtered rows.
    let mut q = sorted_by(
        PolicySortField::PolicyName,
        SortDir::Desc,
        PolicyFilter {
            status: Some(PolicyState::Activated),
            ..PolicyFilter::default()
        },
    );
    q.page = page(0, 2);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["pol-f", "pol-d"]), 3),
        "first page of activated by name desc"
    );
    q.page = page(1, 2);
    check_eq!(
        ids(&store, &q).await,
        (strings(&["pol-b"]), 3),
        "second page of activated by name desc"
    );
    q.page = page(2, 2);
    check_eq!(
        ids(&store, &q).await,
        (vec![], 3),
        "page past the end of a filtered list"
    );
}

async fn case_policy_list_sorting(store: Arc<dyn Store>) {
    let seed = catalogue();
    seed.insert(&store).await;
    let all = summaries(&seed);

    for field in FIELDS {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let mut tx = store.read().await.unwrap();
            let got = tx
                .list_policies(&sorted_by(field, dir, PolicyFilter::default()))
                .await
                .unwrap();
            check_eq!(
                got.items,
                reference_order(&all, key(field), |s| s.policy_id.clone(), dir),
                "sort by {field:?} {dir:?}, then id asc"
            );
            check_eq!(got.total, 6, "total when sorting by {field:?} {dir:?}");
        }
    }

    // Spelled out: byte order ("B" < "Z" < "a" < "b") and the id tie-break in both directions.
    let by = |field, dir| sorted_by(field, dir, PolicyFilter::default());
    let cases = [
        (
            PolicySortField::PolicyName,
            SortDir::Asc,
            vec!["pol-b", "pol-e", "pol-a", "pol-d", "pol-c", "pol-f"],
        ),
        (
            PolicySortField::PolicyName,
            SortDir::Desc,
            vec!["pol-c", "pol-f", "pol-a", "pol-d", "pol-e", "pol-b"],
        ),
        (
            PolicySortField::PolicyGroupName,
            SortDir::Asc,
            vec!["pol-a", "pol-c", "pol-e", "pol-f", "pol-b", "pol-d"],
        ),
        (
            PolicySortField::Status,
            SortDir::Asc,
            vec!["pol-b", "pol-d", "pol-f", "pol-c", "pol-a", "pol-e"],
        ),
        (
            PolicySortField::Status,
            SortDir::Desc,
            vec!["pol-a", "pol-e", "pol-c", "pol-b", "pol-d", "pol-f"],
        ),
        (
            PolicySortField::CreatedDateTime,
            SortDir::Asc,
            vec!["pol-d", "pol-a", "pol-b", "pol-c", "pol-f", "pol-e"],
        ),
        (
            PolicySortField::PolicyDescription,
            SortDir::Asc,
            vec!["pol-f", "pol-a", "pol-d", "pol-c", "pol-b", "pol-e"],
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

async fn case_policy_list_filters(store: Arc<dyn Store>) {
    let seed = catalogue();
    seed.insert(&store).await;
    let f = PolicyFilter::default;
    let text_filters: Vec<(&str, PolicyFilter, Vec<&str>)> = vec![
        (
            "policy_name \"a\" (exact case)",
            PolicyFilter {
                policy_name: Some("a".into()),
                ..f()
            },
            vec!["pol-a", "pol-d"],
        ),
        (
            "policy_name \"b\" ignores case",
            PolicyFilter {
                policy_name: Some("b".into()),
                ..f()
            },
            vec!["pol-b", "pol-c", "pol-f"],
        ),
        (
            "policy_name \"zed\" matches \"Zed_x\"",
            PolicyFilter {
                policy_name: Some("zed".into()),
                ..f()
            },
            vec!["pol-e"],
        ),
        (
            "policy_name \"_\" is a literal underscore",
            PolicyFilter {
                policy_name: Some("_".into()),
                ..f()
            },
            vec!["pol-e"],
        ),
        (
            "policy_name \"%\" is a literal percent",
            PolicyFilter {
                policy_name: Some("%".into()),
                ..f()
            },
            vec![],
        ),
        (
            "policy_description \"%\"",
            PolicyFilter {
                policy_description: Some("%".into()),
                ..f()
            },
            vec!["pol-e", "pol-a"],
        ),
        (
            "policy_description \"0% s\"",
            PolicyFilter {
                policy_description: Some("0% s".into()),
                ..f()
            },
            vec!["pol-a"],
        ),
        (
            "policy_description \"_\"",
            PolicyFilter {
                policy_description: Some("_".into()),
                ..f()
            },
            vec!["pol-e", "pol-b"],
        ),
        (
            "policy_description \"plain text\" ignores case",
            PolicyFilter {
                policy_description: Some("plain text".into()),
                ..f()
            },
            vec!["pol-d"],
        ),
        (
            "policy_description \"plain\"",
            PolicyFilter {
                policy_description: Some("plain".into()),
                ..f()
            },
            vec!["pol-c", "pol-d"],
        ),
        (
            "policy_group_name \"_\"",
            PolicyFilter {
                policy_group_name: Some("_".into()),
                ..f()
            },
            vec!["pol-c", "pol-a"],
        ),
        (
            "policy_group_name \"%\"",
            PolicyFilter {
                policy_group_name: Some("%".into()),
                ..f()
            },
            vec!["pol-b", "pol-d"],
        ),
        (
            "policy_group_name \"b\" ignores case",
            PolicyFilter {
                policy_group_name: Some("b".into()),
                ..f()
            },
            vec!["pol-e", "pol-b", "pol-f", "pol-d"],
        ),
        (
            "policy_type \"misp\"",
            PolicyFilter {
                policy_type: Some("misp".into()),
                ..f()
            },
            vec!["pol-e"],
        ),
        (
            "policy_type \"aut\"",
            PolicyFilter {
                policy_type: Some("aut".into()),
                ..f()
            },
            vec!["pol-b", "pol-c", "pol-f", "pol-a", "pol-d"],
        ),
        (
            "policy_id \"c\"",
            PolicyFilter {
                policy_id: Some("c".into()),
                ..f()
            },
            vec!["pol-c"],
        ),
        (
            "policy_id \"pol-\"",
            PolicyFilter {
                policy_id: Some("pol-".into()),
                ..f()
            },
            vec!["pol-e", "pol-b", "pol-c", "pol-f", "pol-a", "pol-d"],
        ),
        (
            "nothing matches",
            PolicyFilter {
                policy_name: Some("no such policy".into()),
                ..f()
            },
            vec![],
        ),
        (
            "status draft",
            PolicyFilter {
                status: Some(PolicyState::Draft),
                ..f()
            },
            vec!["pol-e", "pol-a"],
        ),
        (
            "status activated",
            PolicyFilter {
                status: Some(PolicyState::Activated),
                ..f()
            },
            vec!["pol-b", "pol-f", "pol-d"],
        ),
        (
            "status deactivated",
            PolicyFilter {
                status: Some(PolicyState::Deactivated),
                ..f()
            },
            vec!["pol-c"],
        ),
        (
            "several filters at once",
            PolicyFilter {
                policy_name: Some("b".into()),
                policy_group_name: Some("grp".into()),
                status: Some(PolicyState::Activated),
                ..f()
            },
            vec!["pol-b", "pol-f"],
        ),
    ];
    for (what, filter, want) in text_filters {
        let n = want.len() as u64;
        check_eq!(
            ids(&store, &query(filter)).await,
            (strings(&want), n),
            "{what}"
        );
    }

    // A filtered list returns the same full summaries as the unfiltered one.
    let mut tx = store.read().await.unwrap();
    let got = tx
        .list_policies(&query(PolicyFilter {
            policy_description: Some("%".into()),
            ..f()
        }))
        .await
        .unwrap();
    check_eq!(
        got.items,
        vec![
            seed.policy_summary(seed.policy("pol-e").unwrap()),
            seed.policy_summary(seed.policy("pol-a").unwrap())
        ],
        "filtered summaries"
    );
}
