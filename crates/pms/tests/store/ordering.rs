//! The order of the unpaged reads: groups by name, policies by creation time then id, a user's
//! partners by id, a pair's or a policy's requests by creation time then id.

use crate::fixtures::*;
use pms_domain::model::{AuthPolicy, MappingStatus, PolicyGroup};
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_policy_groups_by_name,
    case_policies_by_creation_then_id,
    case_partners_of_user_by_id,
    case_mappings_by_creation_then_id,
);

async fn case_policy_groups_by_name(store: Arc<dyn Store>) {
    // Inserted neither in name nor in id order; ids run against names.
    let seed = Seed {
        groups: vec![
            group("g-1", "b", at(1, 0)),
            group("g-2", "a", at(2, 0)),
            group("g-3", "B", at(3, 0)),
            group("g-4", "_x", at(4, 0)),
            group("g-5", "a b", at(5, 0)),
            group("g-6", "ab", at(0, 0)),
            group("g-7", "Zz", at(6, 0)),
            group("g-8", "é", at(7, 0)),
        ],
        ..Seed::default()
    };
    seed.insert(&store).await;
    let mut tx = store.read().await.unwrap();
    let names: Vec<String> = tx
        .policy_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    check_eq!(
        names,
        vec!["B", "Zz", "_x", "a", "a b", "ab", "b", "é"],
        "policy_groups by name, byte order"
    );
    let mut want: Vec<PolicyGroup> = seed.groups.clone();
    want.sort_by(|a, b| a.name.cmp(&b.name));
    check_eq!(
        tx.policy_groups().await.unwrap(),
        want,
        "policy_groups content"
    );
}

async fn case_policies_by_creation_then_id(store: Arc<dyn Store>) {
    let seed = Seed {
        groups: vec![group("g-1", "one", at(0, 0)), group("g-2", "two", at(0, 0))],
        policies: vec![
            policy("p-c", "g-1", "same", at(10, 5)),
            policy("p-B", "g-2", "same", at(10, 5)),
            policy("p-a", "g-1", "other", at(10, 5)),
            policy("p-d", "g-2", "Same", at(9, 999)),
            policy("p-0", "g-1", "third", at(10, 6)),
            published(policy("p-e", "g-2", "fourth", at(1, 0)), true),
        ],
        ..Seed::default()
    };
    seed.insert(&store).await;
    let pick = |ids: &[&str]| -> Vec<AuthPolicy> {
        ids.iter()
            .map(|id| seed.policy(id).unwrap().clone())
            .collect()
    };
    let mut tx = store.read().await.unwrap();
    assert_policies_eq(
        &tx.policies().await.unwrap(),
        &pick(&["p-e", "p-d", "p-B", "p-a", "p-c", "p-0"]),
        "policies()",
    );
    assert_policies_eq(
        &tx.policies_in_group("g-1").await.unwrap(),
        &pick(&["p-a", "p-c", "p-0"]),
        "policies_in_group(g-1)",
    );
    assert_policies_eq(
        &tx.policies_in_group("g-2").await.unwrap(),
        &pick(&["p-e", "p-d", "p-B"]),
        "policies_in_group(g-2)",
    );
    assert_policies_eq(
        &tx.policies_in_group("g-9").await.unwrap(),
        &[],
        "policies_in_group(unknown)",
    );
    assert_policies_eq(
        &tx.policies_named("same").await.unwrap(),
        &pick(&["p-B", "p-c"]),
        "policies_named(same): exact name, any group",
    );
    assert_policies_eq(
        &tx.policies_named("Same").await.unwrap(),
        &pick(&["p-d"]),
        "policies_named(Same)",
    );
    assert_policies_eq(
        &tx.policies_named("sam").await.unwrap(),
        &[],
        "policies_named is not a prefix match",
    );
}

async fn case_partners_of_user_by_id(store: Arc<dyn Store>) {
    let seed = Seed {
        partners: vec![
            partner("p-b", "B", "b@example.org", "user-1", at(1, 0)),
            partner("P-c", "C", "c@example.org", "user-1", at(0, 0)),
            partner("p-a", "A", "a@example.org", "user-1", at(2, 0)),
            partner("p-10", "Ten", "ten@example.org", "user-1", at(3, 0)),
            partner("p-x", "X", "x@example.org", "user-2", at(0, 0)),
            partner("p-y", "Y", "y@example.org", "USER-1", at(0, 0)),
        ],
        ..Seed::default()
    };
    seed.insert(&store).await;
    let mut tx = store.read().await.unwrap();
    let got = tx.partners_of_user("user-1").await.unwrap();
    check_eq!(
        got.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec!["P-c", "p-10", "p-a", "p-b"],
        "partners_of_user(user-1) by id, byte order; the user id is exact"
    );
    let want: Vec<_> = ["P-c", "p-10", "p-a", "p-b"]
        .iter()
        .map(|id| seed.partner(id).unwrap().clone())
        .collect();
    check_eq!(got, want, "partners_of_user content");
    check_eq!(
        tx.partners_of_user("user-2").await.unwrap(),
        vec![seed.partner("p-x").unwrap().clone()],
        "partners_of_user(user-2)"
    );
    check_eq!(
        tx.partners_of_user("nobody").await.unwrap(),
        vec![],
        "partners_of_user(unknown)"
    );
}

async fn case_mappings_by_creation_then_id(store: Arc<dyn Store>) {
    let mut seed = catalogue();
    seed.mappings = vec![
        mapping("m-c", "par-1", "pol-b", MappingStatus::Rejected, at(5, 5)),
        mapping("m-A", "par-1", "pol-b", MappingStatus::Rejected, at(5, 5)),
        mapping("m-b", "par-1", "pol-b", MappingStatus::InProgress, at(5, 4)),
        mapping("m-0", "par-1", "pol-b", MappingStatus::Rejected, at(6, 0)),
        mapping("m-x", "par-2", "pol-b", MappingStatus::Approved, at(5, 5)),
        mapping("m-y", "par-1", "pol-c", MappingStatus::Approved, at(0, 0)),
    ];
    seed.insert(&store).await;
    let mut tx = store.read().await.unwrap();
    let ids =
        |v: Vec<pms_domain::model::MappingRequest>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    check_eq!(
        ids(tx.mappings_of("par-1", "pol-b").await.unwrap()),
        vec!["m-b", "m-A", "m-c", "m-0"],
        "mappings_of(par-1, pol-b)"
    );
    check_eq!(
        ids(tx.mappings_of_policy("pol-b").await.unwrap()),
        vec!["m-b", "m-A", "m-c", "m-x", "m-0"],
        "mappings_of_policy(pol-b)"
    );
    check_eq!(
        ids(tx.mappings_of_policy("pol-a").await.unwrap()),
        Vec::<String>::new(),
        "mappings_of_policy without requests"
    );
}
