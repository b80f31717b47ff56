//! Every `Tx` getter, insert and update: what is written is read back field for field,
//! timestamps to the millisecond and JSON with its member order.

use crate::fixtures::*;
use pms_domain::model::{ApprovalStatus, ClientStatus, MappingStatus};
use pms_domain::Store;
use std::sync::Arc;

cases!(
    case_policy_group_round_trip,
    case_policy_round_trip,
    case_partner_round_trip,
    case_mapping_round_trip,
    case_client_round_trip,
);

async fn case_policy_group_round_trip(store: Arc<dyn Store>) {
    let g1 = group("g-1", "alpha", at(0, 1));
    let mut g2 = group("g-2", "Beta grp é", at(59, 999));
    g2.is_active = false;
    g2.upd_by = Some("admin-2".into());
    g2.upd_dtimes = Some(at(3600, 7));
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&g1).await.unwrap();
    tx.insert_policy_group(&g2).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-1").await.unwrap(),
        Some(g1.clone()),
        "policy_group(g-1)"
    );
    check_eq!(
        tx.policy_group("g-2").await.unwrap(),
        Some(g2.clone()),
        "policy_group(g-2)"
    );
    check_eq!(
        tx.policy_group("g-3").await.unwrap(),
        None,
        "policy_group(unknown)"
    );
    check_eq!(
        tx.policy_group_by_name("Beta grp é").await.unwrap(),
        Some(g2.clone()),
        "policy_group_by_name"
    );
    check_eq!(
        tx.policy_group_by_name("ALPHA").await.unwrap(),
        None,
        "policy_group_by_name is exact, not case-insensitive"
    );
    check_eq!(
        tx.policy_groups().await.unwrap(),
        vec![g2.clone(), g1.clone()],
        "policy_groups by name (\"B\" < \"a\")"
    );
    drop(tx);

    let mut updated = g1.clone();
    updated.name = "alpha renamed".into();
    updated.desc = "new description".into();
    updated.is_active = false;
    updated.user_id = "admin-9".into();
    updated.upd_by = Some("admin-9".into());
    updated.upd_dtimes = Some(at(7200, 123));
    let mut tx = store.write().await.unwrap();
    tx.update_policy_group(&updated).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.policy_group("g-1").await.unwrap(),
        Some(updated.clone()),
        "policy_group after update"
    );
    check_eq!(
        tx.policy_group_by_name("alpha").await.unwrap(),
        None,
        "old name after rename"
    );
    check_eq!(
        tx.policy_group_by_name("alpha renamed").await.unwrap(),
        Some(updated),
        "new name after rename"
    );
    check_eq!(
        tx.policy_group("g-2").await.unwrap(),
        Some(g2),
        "the other group is untouched"
    );
}

async fn case_policy_round_trip(store: Arc<dyn Store>) {
    let g = group("g-1", "grp", at(0, 0));
    let draft = policy("pol-1", "g-1", "Policy One", at(10, 1));
    let mut published_one = published(policy("pol-2", "g-1", "Policy Two", at(11, 999)), true);
    published_one.valid_from = at(-86_400, 250);
    published_one.upd_by = Some("admin-2".into());
    published_one.upd_dtimes = Some(at(12, 500));
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&g).await.unwrap();
    tx.insert_policy(&draft).await.unwrap();
    tx.insert_policy(&published_one).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let got = tx.policy("pol-1").await.unwrap().unwrap();
    assert_policy_eq(&got, &draft, "policy(pol-1)");
    check_eq!(
        got.valid_to,
        far_future(),
        "valid_to in 2224 with milliseconds"
    );
    let got = tx.policy("pol-2").await.unwrap().unwrap();
    assert_policy_eq(&got, &published_one, "policy(pol-2)");
    check_eq!(tx.policy("pol-3").await.unwrap(), None, "policy(unknown)");
    let got = tx
        .policy_by_name_in_group("g-1", "Policy Two")
        .await
        .unwrap()
        .unwrap();
    assert_policy_eq(&got, &published_one, "policy_by_name_in_group");
    check_eq!(
        tx.policy_by_name_in_group("g-1", "policy two")
            .await
            .unwrap(),
        None,
        "policy_by_name_in_group is exact"
    );
    check_eq!(
        tx.policy_by_name_in_group("g-2", "Policy Two")
            .await
            .unwrap(),
        None,
        "policy_by_name_in_group of another group"
    );
    drop(tx);

    // Every field an update may change.
    let mut updated = draft.clone();
    updated.name = "Policy One v2".into();
    updated.desc = "changed".into();
    updated.version = "2.0".into();
    updated.policies = policy_doc_v2().into();
    updated.schema = Some("https://schemas.mosip.io/v1/auth-policy".into());
    updated.is_active = true;
    updated.upd_by = Some("admin-3".into());
    updated.upd_dtimes = Some(at(20, 20));
    let mut tx = store.write().await.unwrap();
    tx.update_policy(&updated).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let got = tx.policy("pol-1").await.unwrap().unwrap();
    assert_policy_eq(&got, &updated, "policy after update");
    check_eq!(
        text(&got.policies),
        text(&policy_doc_v2()),
        "updated document text"
    );
    let got = tx.policy("pol-2").await.unwrap().unwrap();
    assert_policy_eq(&got, &published_one, "the other policy is untouched");
}

async fn case_partner_round_trip(store: Arc<dyn Store>) {
    let g1 = group("g-1", "grp one", at(0, 0));
    let g2 = group("g-2", "grp two", at(0, 1));
    let p1 = partner(
        "par-1",
        "Société Générale 株式会社",
        "Mixed.Case@Example.ORG",
        "user-1",
        at(5, 5),
    );
    let mut p2 = partner("par-2", "Two", "two@example.org", "user-2", at(6, 6));
    p2.policy_group_id = Some("g-1".into());
    p2.partner_type_code = "Credential_Partner".into();
    p2.approval_status = ApprovalStatus::Approved;
    p2.is_active = false;
    p2.upd_by = Some("admin-1".into());
    p2.upd_dtimes = Some(at(7, 7));
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&g1).await.unwrap();
    tx.insert_policy_group(&g2).await.unwrap();
    tx.insert_partner(&p1).await.unwrap();
    tx.insert_partner(&p2).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.partner("par-1").await.unwrap(),
        Some(p1.clone()),
        "partner(par-1)"
    );
    check_eq!(
        tx.partner("par-2").await.unwrap(),
        Some(p2.clone()),
        "partner(par-2)"
    );
    check_eq!(
        tx.partner("PAR-1").await.unwrap(),
        None,
        "partner ids are exact"
    );
    check_eq!(
        tx.partner_by_email("mixed.case@example.org").await.unwrap(),
        Some(p1.clone()),
        "partner_by_email ignores case (lower-case probe)"
    );
    check_eq!(
        tx.partner_by_email("MIXED.CASE@EXAMPLE.ORG").await.unwrap(),
        Some(p1.clone()),
        "partner_by_email ignores case (upper-case probe)"
    );
    check_eq!(
        tx.partner_by_email("nobody@example.org").await.unwrap(),
        None,
        "partner_by_email(unknown)"
    );
    check_eq!(
        tx.partners_of_user("user-2").await.unwrap(),
        vec![p2.clone()],
        "partners_of_user"
    );
    drop(tx);

    // Every field an update may change.
    let mut updated = p1.clone();
    updated.name = "New Name".into();
    updated.address = "2 Side Street".into();
    updated.contact_no = "+10000000000".into();
    updated.email_id = "new@example.org".into();
    updated.policy_group_id = Some("g-2".into());
    updated.approval_status = ApprovalStatus::Approved;
    updated.is_active = false;
    updated.lang_code = "fra".into();
    updated.upd_by = Some("admin-2".into());
    updated.upd_dtimes = Some(at(99, 1));
    let mut tx = store.write().await.unwrap();
    tx.update_partner(&updated).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.partner("par-1").await.unwrap(),
        Some(updated.clone()),
        "partner after update"
    );
    check_eq!(
        tx.partner_by_email("mixed.case@example.org").await.unwrap(),
        None,
        "old e-mail after update"
    );
    check_eq!(
        tx.partner_by_email("NEW@example.org").await.unwrap(),
        Some(updated),
        "new e-mail after update"
    );
    check_eq!(
        tx.partner("par-2").await.unwrap(),
        Some(p2),
        "the other partner is untouched"
    );
}

async fn case_mapping_round_trip(store: Arc<dyn Store>) {
    let mut seed = Seed {
        groups: vec![group("g-1", "grp", at(0, 0))],
        policies: vec![
            policy("pol-1", "g-1", "one", at(1, 0)),
            policy("pol-2", "g-1", "two", at(1, 1)),
        ],
        partners: vec![
            partner("par-1", "One", "one@example.org", "user-1", at(2, 0)),
            partner("par-2", "Two", "two@example.org", "user-2", at(2, 1)),
        ],
        ..Seed::default()
    };
    let mut m1 = mapping(
        "map-1",
        "par-1",
        "pol-1",
        MappingStatus::InProgress,
        at(10, 1),
    );
    m1.request_detail = "please approve ✓".into();
    m1.request_datetimes = at(9, 999);
    let mut m2 = mapping("map-2", "par-1", "pol-1", MappingStatus::Rejected, at(5, 5));
    m2.upd_by = Some("admin-1".into());
    m2.upd_dtimes = Some(at(6, 6));
    let m3 = mapping(
        "map-3",
        "par-2",
        "pol-1",
        MappingStatus::Approved,
        at(10, 1),
    );
    let m4 = mapping("map-4", "par-1", "pol-2", MappingStatus::Approved, at(1, 0));
    seed.mappings = vec![m1.clone(), m2.clone(), m3.clone(), m4.clone()];
    seed.insert(&store).await;

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.mapping("map-1").await.unwrap(),
        Some(m1.clone()),
        "mapping(map-1)"
    );
    check_eq!(
        tx.mapping("map-2").await.unwrap(),
        Some(m2.clone()),
        "mapping(map-2)"
    );
    check_eq!(tx.mapping("map-9").await.unwrap(), None, "mapping(unknown)");
    check_eq!(
        tx.mappings_of("par-1", "pol-1").await.unwrap(),
        vec![m2.clone(), m1.clone()],
        "mappings_of(par-1, pol-1): by creation time"
    );
    check_eq!(
        tx.mappings_of("par-2", "pol-2").await.unwrap(),
        vec![],
        "mappings_of without requests"
    );
    check_eq!(
        tx.mappings_of_policy("pol-1").await.unwrap(),
        vec![m2.clone(), m1.clone(), m3.clone()],
        "mappings_of_policy(pol-1): by creation time, then id"
    );
    drop(tx);

    let mut tx = store.write().await.unwrap();
    check_eq!(
        tx.mapping_for_update("map-1").await.unwrap(),
        Some(m1.clone()),
        "mapping_for_update"
    );
    check_eq!(
        tx.mapping_for_update("map-9").await.unwrap(),
        None,
        "mapping_for_update(unknown)"
    );
    let mut decided = m1.clone();
    decided.status = MappingStatus::Approved;
    decided.upd_by = Some("admin-2".into());
    decided.upd_dtimes = Some(at(20, 2));
    tx.update_mapping(&decided).await.unwrap();
    check_eq!(
        tx.mapping("map-1").await.unwrap(),
        Some(decided.clone()),
        "the write transaction reads its own update"
    );
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    check_eq!(
        tx.mapping("map-1").await.unwrap(),
        Some(decided),
        "mapping after update"
    );
    check_eq!(
        tx.mapping("map-4").await.unwrap(),
        Some(m4),
        "the other mapping is untouched"
    );
}

async fn case_client_round_trip(store: Arc<dyn Store>) {
    let mut seed = catalogue();
    let mut c1 = client("cl-1", "par-1", "pol-b", "Client One", at(30, 333));
    c1.name_lang_map = name_map(&[("fra", "Client un"), ("eng", "Client One"), ("ara", "عميل")]);
    c1.redirect_uris = [
        "https://z.example/cb",
        "https://a.example/cb",
        "io.mosip.app:/cb",
    ]
    .into();
    c1.claims = ["phone_number", "name", "birthdate"].into();
    c1.acr_values = [
        "mosip:idp:acr:linked-wallet",
        "mosip:idp:acr:generated-code",
    ]
    .into();
    c1.upd_by = Some("user-1".into());
    c1.upd_dtimes = Some(at(31, 1));
    let c2 = client("cl-2", "par-2", "pol-d", "Two", at(30, 334));
    seed.clients = vec![c1.clone(), c2.clone()];
    seed.insert(&store).await;

    let mut tx = store.read().await.unwrap();
    assert_client_eq(
        &tx.client("cl-1").await.unwrap().unwrap(),
        &c1,
        "client(cl-1)",
    );
    assert_client_eq(
        &tx.client("cl-2").await.unwrap().unwrap(),
        &c2,
        "client(cl-2)",
    );
    check_eq!(tx.client("cl-3").await.unwrap(), None, "client(unknown)");
    drop(tx);

    // Every field an update may change.
    let mut updated = c1.clone();
    updated.name = "Client One renamed".into();
    updated.name_lang_map = name_map(&[("tam", "கிளையன்ட்"), ("eng", "Renamed"), ("deu", "Kunde")]);
    updated.logo_uri = "https://rp.example/new-logo.png".into();
    updated.redirect_uris = ["https://b.example/cb"].into();
    updated.grant_types = ["authorization_code", "implicit"].into();
    updated.client_auth_methods = ["private_key_jwt", "none"].into();
    updated.status = ClientStatus::Inactive;
    updated.upd_by = Some("admin-1".into());
    updated.upd_dtimes = Some(at(40, 404));
    let mut tx = store.write().await.unwrap();
    assert_client_eq(
        &tx.client_for_update("cl-1").await.unwrap().unwrap(),
        &c1,
        "client_for_update",
    );
    check_eq!(
        tx.client_for_update("cl-3").await.unwrap(),
        None,
        "client_for_update(unknown)"
    );
    tx.update_client(&updated).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let got = tx.client("cl-1").await.unwrap().unwrap();
    assert_client_eq(&got, &updated, "client after update");
    check_eq!(
        text(&got.name_lang_map),
        r#"{"tam":"கிளையன்ட்","eng":"Renamed","deu":"Kunde"}"#,
        "updated name map text"
    );
    assert_client_eq(
        &tx.client("cl-2").await.unwrap().unwrap(),
        &c2,
        "the other client is untouched",
    );
}
