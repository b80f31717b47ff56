//! Policy groups and auth policies (policies-and-partners.md §1, §2; error-codes.md §7).

use crate::helpers::*;
use crate::unchanged;
use serde_json::{json, Value};

const T0: &str = "2026-01-01T09:00:00.000Z";
const T0_PLUS_200Y: &str = "2226-01-01T09:00:00.000Z";
const SCHEMA_URL: &str = "https://schemas.mosip.io/v1/auth-policy";
const GROUP_PATCH_ID: &str = "mosip.pms.deactivate.policy.group.patch";
const POLICY_PATCH_ID: &str = "mosip.pms.deactivate.policy.patch";

// ---- small helpers local to this file

async fn pm(app: &TestApp, method: &str, path: &str, request: Option<Value>) -> Resp {
    app.call(method, path, "pm1", POLICY_MANAGER, request).await
}

async fn pm_get(app: &TestApp, path: &str) -> Resp {
    app.get(path, "pm1", POLICY_MANAGER).await
}

async fn patch_v2(app: &TestApp, path: &str, id: &str, request: Value) -> Resp {
    let token = app.token("pm1", POLICY_MANAGER);
    app.send("PATCH", path, Some(&token), Some(&envelope_v2(id, request)))
        .await
}

async fn deactivate_group(app: &TestApp, group_id: &str) -> Resp {
    patch_v2(
        app,
        &format!("/v1/policymanager/policies/group/{group_id}"),
        GROUP_PATCH_ID,
        json!({ "status": "De-Activate" }),
    )
    .await
}

async fn deactivate_policy(app: &TestApp, policy_id: &str) -> Resp {
    patch_v2(
        app,
        &format!("/v1/policymanager/policies/{policy_id}"),
        POLICY_PATCH_ID,
        json!({ "status": "De-Activate" }),
    )
    .await
}

async fn update_group(app: &TestApp, id: &str, name: &str, desc: &str, active: bool) -> Resp {
    pm(
        app,
        "PUT",
        &format!("/v1/policymanager/policies/group/{id}"),
        Some(json!({ "name": name, "desc": desc, "isActive": active })),
    )
    .await
}

fn policy_req(group: &str, name: &str) -> Value {
    json!({ "policyGroupName": group, "policyType": "Auth", "name": name, "desc": "desc", "version": "1.0",
            "policies": sample_policy() })
}

fn update_req(group: &str, name: &str) -> Value {
    json!({ "policyGroupName": group, "name": name, "desc": "new desc", "version": "2.0", "policies": sample_policy() })
}

async fn get_policy(app: &TestApp, id: &str) -> Value {
    pm_get(app, &format!("/v1/policymanager/policies/{id}"))
        .await
        .ok()
        .clone()
}

async fn get_group(app: &TestApp, id: &str) -> Value {
    pm_get(app, &format!("/v1/policymanager/policies/group/{id}"))
        .await
        .ok()
        .clone()
}

/// Makes the group inactive through the V2 deactivate (the group must have no draft/active policy).
async fn inactive_group(app: &TestApp, name: &str) -> String {
    let g = app.create_group(name).await;
    deactivate_group(app, &g).await.ok();
    g
}

/// A published policy with an approved mapping for partner `partner`.
async fn approved_mapping(
    app: &TestApp,
    group: &str,
    policy: &str,
    partner: &str,
) -> (String, String) {
    let (g, p) = app.published_policy(group, policy).await;
    app.register_partner(partner, group).await.ok();
    app.activate_partner(partner).await;
    let r = app.request_mapping(partner, policy).await;
    let key = r.ok()["mappingkey"].as_str().unwrap().to_string();
    app.call(
        "PUT",
        &format!("/v1/partnermanager/partners/policy/{key}"),
        "admin1",
        ADMIN,
        Some(json!({ "status": "Approved" })),
    )
    .await
    .ok();
    (g, p)
}

#[track_caller]
fn assert_forbidden(r: &Resp) {
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.codes(), vec!["KER-ATH-403"], "{}", r.body);
    assert_eq!(r.messages(), vec!["Forbidden"], "{}", r.body);
}

#[track_caller]
fn assert_errors(r: &Resp, expected: &[(&str, &str)]) {
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<(String, String)> = r.codes().into_iter().zip(r.messages()).collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(c, m)| (c.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, want, "{}", r.body);
    assert!(r.body["response"].is_null(), "{}", r.body);
}

#[track_caller]
fn assert_v2_envelope(r: &Resp, id: &str) {
    assert_eq!(r.body["id"], json!(id), "{}", r.body);
    assert_eq!(r.body["version"], json!("1.0"), "{}", r.body);
    assert!(r.body["responseTime"].is_string(), "{}", r.body);
}

// =====================================================================================
// §1.2 POST /policies/group/new
// =====================================================================================

#[tokio::test]
async fn group_create_success_returns_dto_and_stores_group() {
    let app = spawn_app().await;
    let r = pm(
        &app,
        "POST",
        "/v1/policymanager/policies/group/new",
        Some(json!({ "name": "g1", "desc": "Group one" })),
    )
    .await;
    let resp = r.ok().clone();
    assert_eq!(r.body["id"], json!("mosip.test"));
    assert_eq!(r.body["version"], json!("1.0"));
    assert!(r.body["metadata"].is_null());
    let id = resp["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    assert_eq!(resp["name"], json!("g1"));
    assert_eq!(resp["desc"], json!("Group one"));
    assert_eq!(resp["is_Active"], json!(true));
    assert_eq!(resp["cr_by"], json!("pm1"));
    assert_eq!(resp["cr_dtimes"], json!(T0));
    assert!(resp["up_by"].is_null());
    assert!(resp["upd_dtimes"].is_null());

    let g = get_group(&app, &id).await;
    let pg = &g["policyGroup"];
    assert_eq!(pg["id"], json!(id));
    assert_eq!(pg["name"], json!("g1"));
    assert_eq!(pg["desc"], json!("Group one"));
    assert_eq!(pg["isActive"], json!(true));
    assert_eq!(pg["isDeleted"], json!(false));
    assert_eq!(pg["userId"], json!("pm1"));
    assert_eq!(pg["crBy"], json!("pm1"));
    assert_eq!(pg["crDtimes"], json!(T0));
    assert!(pg["updBy"].is_null());
    assert!(pg["updDtimes"].is_null());
    assert!(pg["delDtimes"].is_null());
    assert_eq!(g["policies"], json!([]));
}

#[tokio::test]
async fn group_create_name_is_case_sensitive() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = pm(
        &app,
        "POST",
        "/v1/policymanager/policies/group/new",
        Some(json!({ "name": "G1", "desc": "d" })),
    )
    .await;
    assert_eq!(r.ok()["name"], json!("G1"));
}

#[tokio::test]
async fn group_create_duplicate_name_pms_pol_014() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(json!({ "name": "g1", "desc": "other" }))
        )
        .await
    );
    r.assert_error("PMS_POL_014", "Policy group exists with name : g1");
}

#[tokio::test]
async fn group_create_blank_fields_pms_cor_001() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(json!({ "name": "   " }))
        )
        .await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_COR_001",
                "Invalid request parameter - value is empty or null :request.name",
            ),
            (
                "PMS_COR_001",
                "Invalid request parameter - value is empty or null :request.desc",
            ),
        ],
    );
}

#[tokio::test]
async fn group_create_too_long_fields_pms_cor_001() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(json!({ "name": "n".repeat(129), "desc": "d".repeat(257) }))
        )
        .await
    );
    assert_errors(
        &r,
        &[
            ("PMS_COR_001", "Invalid request parameter - Length should be in between 1 and 128 chars :request.name"),
            ("PMS_COR_001", "Invalid request parameter - Length should be in between 1 and 256 chars :request.desc"),
        ],
    );
    // the limits themselves are accepted (characters, not bytes)
    let r = pm(
        &app,
        "POST",
        "/v1/policymanager/policies/group/new",
        Some(json!({ "name": "é".repeat(128), "desc": "d".repeat(256) })),
    )
    .await;
    r.ok();
}

#[tokio::test]
async fn group_create_missing_request_pms_cor_001() {
    let app = spawn_app().await;
    let token = app.token("pm1", POLICY_MANAGER);
    let body = json!({ "id": "x", "version": "1.0", "requesttime": T0 });
    let r = unchanged!(
        app,
        app.send(
            "POST",
            "/v1/policymanager/policies/group/new",
            Some(&token),
            Some(&body)
        )
        .await
    );
    r.assert_error(
        "PMS_COR_001",
        "Invalid request parameter - must not be null :request",
    );
}

#[tokio::test]
async fn group_create_wrong_role_403() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        app.call(
            "POST",
            "/v1/policymanager/policies/group/new",
            "p1",
            AUTH_PARTNER,
            Some(json!({ "name": "g1", "desc": "d" }))
        )
        .await
    );
    assert_forbidden(&r);
    // PARTNER_ADMIN is allowed
    let r = app
        .call(
            "POST",
            "/v1/policymanager/policies/group/new",
            "admin1",
            ADMIN,
            Some(json!({ "name": "g1", "desc": "d" })),
        )
        .await;
    assert_eq!(r.ok()["cr_by"], json!("admin1"));
}

// =====================================================================================
// §1.3 PUT /policies/group/{id}
// =====================================================================================

#[tokio::test]
async fn group_update_success_changes_name_desc_and_audit_columns() {
    let app = spawn_app().await;
    let id = app.create_group("g1").await;
    app.clock.advance(chrono::Duration::minutes(1));
    let r = app
        .call(
            "PUT",
            &format!("/v1/policymanager/policies/group/{id}"),
            "pm2",
            POLICY_MANAGER,
            Some(json!({ "name": "g1b", "desc": "new", "isActive": true })),
        )
        .await;
    let resp = r.ok();
    assert_eq!(resp["id"], json!(id));
    assert_eq!(resp["name"], json!("g1b"));
    assert_eq!(resp["desc"], json!("new"));
    assert_eq!(resp["is_Active"], json!(true));
    assert_eq!(resp["cr_by"], json!("pm1"));
    assert_eq!(resp["cr_dtimes"], json!(T0));
    assert_eq!(resp["up_by"], json!("pm2"));
    assert_eq!(resp["upd_dtimes"], json!("2026-01-01T09:01:00.000Z"));

    let pg = get_group(&app, &id).await["policyGroup"].clone();
    assert_eq!(pg["name"], json!("g1b"));
    assert_eq!(pg["desc"], json!("new"));
    assert_eq!(pg["userId"], json!("pm2"));
    assert_eq!(pg["updBy"], json!("pm2"));
    assert_eq!(pg["updDtimes"], json!("2026-01-01T09:01:00.000Z"));
}

#[tokio::test]
async fn group_update_deactivate_and_reactivate() {
    let app = spawn_app().await;
    let id = app.create_group("g1").await;
    let r = update_group(&app, &id, "g1", "d", false).await;
    assert_eq!(r.ok()["is_Active"], json!(false));
    assert_eq!(
        get_group(&app, &id).await["policyGroup"]["isActive"],
        json!(false)
    );
    let r = update_group(&app, &id, "g1", "d", true).await;
    assert_eq!(r.ok()["is_Active"], json!(true));
    assert_eq!(
        get_group(&app, &id).await["policyGroup"]["isActive"],
        json!(true)
    );
}

#[tokio::test]
async fn group_update_keeping_name_and_status_with_active_policy_is_allowed() {
    let app = spawn_app().await;
    let (g, _) = app.published_policy("g1", "p1").await;
    let r = update_group(&app, &g, "g1", "changed", true).await;
    assert_eq!(r.ok()["desc"], json!("changed"));
}

#[tokio::test]
async fn group_update_unknown_group_pms_pol_008() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        update_group(&app, "no-such-group", "g1x", "d", true).await
    );
    r.assert_error("PMS_POL_008", "Policy ID does not exist");
}

#[tokio::test]
async fn group_update_name_taken_pms_pol_014() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let g2 = app.create_group("g2").await;
    let r = unchanged!(app, update_group(&app, &g2, "g1", "d", true).await);
    r.assert_error("PMS_POL_014", "Policy group exists with name : g1");
}

#[tokio::test]
async fn group_update_deactivate_with_active_policy_pms_pol_056() {
    let app = spawn_app().await;
    let (g, _) = app.published_policy("g1", "p1").await;
    let r = unchanged!(app, update_group(&app, &g, "g1", "d", false).await);
    r.assert_error(
        "PMS_POL_056",
        "Active policies exists under the policy group.",
    );
}

#[tokio::test]
async fn group_update_missing_is_active_pms_cor_001() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/group/{g}"),
            Some(json!({ "name": "g1", "desc": "d" }))
        )
        .await
    );
    r.assert_error(
        "PMS_COR_001",
        "Invalid request parameter - must not be null :request.isActive",
    );
}

#[tokio::test]
async fn group_update_field_errors_pms_cor_001() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/group/{g}"),
            Some(json!({ "name": "n".repeat(129), "desc": "", "isActive": null }))
        )
        .await
    );
    assert_errors(
        &r,
        &[
            ("PMS_COR_001", "Invalid request parameter - Length should be between 1 and 128 chars :request.name"),
            ("PMS_COR_001", "Invalid request parameter - value is empty or null :request.desc"),
            ("PMS_COR_001", "Invalid request parameter - must not be null :request.isActive"),
        ],
    );
}

#[tokio::test]
async fn group_update_wrong_role_403() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = unchanged!(
        app,
        app.call(
            "PUT",
            &format!("/v1/policymanager/policies/group/{g}"),
            "p1",
            AUTH_PARTNER,
            Some(json!({ "name": "x", "desc": "d", "isActive": true }))
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §1.4 PATCH /policies/group/{id} (V2 deactivate)
// =====================================================================================

#[tokio::test]
async fn group_deactivate_success() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = deactivate_group(&app, &g).await;
    assert_eq!(r.ok(), &json!({ "policyGroupId": g, "isActive": false }));
    assert_v2_envelope(&r, GROUP_PATCH_ID);
    assert_eq!(
        get_group(&app, &g).await["policyGroup"]["isActive"],
        json!(false)
    );
}

#[tokio::test]
async fn group_deactivate_with_only_deactivated_policies_succeeds() {
    let app = spawn_app().await;
    let (g, p) = app.published_policy("g1", "p1").await;
    deactivate_policy(&app, &p).await.ok();
    let r = deactivate_group(&app, &g).await;
    assert_eq!(r.ok()["isActive"], json!(false));
}

#[tokio::test]
async fn group_deactivate_unknown_pms_pol_068() {
    let app = spawn_app().await;
    let r = unchanged!(app, deactivate_group(&app, "nope").await);
    r.assert_error("PMS_POL_068", "The specified policy group does not exist");
    assert_v2_envelope(&r, GROUP_PATCH_ID);
}

#[tokio::test]
async fn group_deactivate_already_inactive_pms_pol_067() {
    let app = spawn_app().await;
    let g = inactive_group(&app, "g1").await;
    let r = unchanged!(app, deactivate_group(&app, &g).await);
    r.assert_error(
        "PMS_POL_067",
        "The policy group has already been deactivated",
    );
}

#[tokio::test]
async fn group_deactivate_active_and_draft_policies_pms_pol_069() {
    let app = spawn_app().await;
    let (g, _) = app.published_policy("g1", "p1").await;
    app.create_policy("g1", "p2").await;
    let r = unchanged!(app, deactivate_group(&app, &g).await);
    r.assert_error(
        "PMS_POL_069",
        "Active or draft policies are associated with the policy group",
    );
}

#[tokio::test]
async fn group_deactivate_active_policy_pms_pol_056() {
    let app = spawn_app().await;
    let (g, _) = app.published_policy("g1", "p1").await;
    let r = unchanged!(app, deactivate_group(&app, &g).await);
    r.assert_error(
        "PMS_POL_056",
        "Active policies exists under the policy group.",
    );
}

#[tokio::test]
async fn group_deactivate_draft_policy_pms_pol_070() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    app.create_policy("g1", "p1").await;
    let r = unchanged!(app, deactivate_group(&app, &g).await);
    r.assert_error(
        "PMS_POL_070",
        "Draft policies exists under the policy group.",
    );
}

#[tokio::test]
async fn group_deactivate_bad_status_pms_pol_073() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let path = format!("/v1/policymanager/policies/group/{g}");
    for req in [
        json!({ "status": "De-activate" }),
        json!({ "status": "Active" }),
        json!({}),
    ] {
        let r = unchanged!(
            app,
            patch_v2(&app, &path, GROUP_PATCH_ID, req.clone()).await
        );
        r.assert_error("PMS_POL_073", "Request status should be De-Activate");
        assert_v2_envelope(&r, GROUP_PATCH_ID);
    }
    // validation stage: reported before the business check of an unknown group
    let r = unchanged!(
        app,
        patch_v2(
            &app,
            "/v1/policymanager/policies/group/nope",
            GROUP_PATCH_ID,
            json!({ "status": "x" })
        )
        .await
    );
    r.assert_error("PMS_POL_073", "Request status should be De-Activate");
}

#[tokio::test]
async fn group_deactivate_wrong_envelope_id_pms_request_error_002() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let path = format!("/v1/policymanager/policies/group/{g}");
    let r = unchanged!(
        app,
        patch_v2(
            &app,
            &path,
            "mosip.wrong.id",
            json!({ "status": "De-Activate" })
        )
        .await
    );
    r.assert_error("PMS_REQUEST_ERROR_002", "Invalid Request Id");
    assert_v2_envelope(&r, GROUP_PATCH_ID);
    // the policy endpoint's id is wrong here too
    let r = unchanged!(
        app,
        patch_v2(
            &app,
            &path,
            POLICY_PATCH_ID,
            json!({ "status": "De-Activate" })
        )
        .await
    );
    r.assert_error("PMS_REQUEST_ERROR_002", "Invalid Request Id");
}

#[tokio::test]
async fn group_deactivate_bad_version_and_missing_request() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let path = format!("/v1/policymanager/policies/group/{g}");
    let token = app.token("pm1", POLICY_MANAGER);
    let body = json!({ "id": GROUP_PATCH_ID, "version": "2.0", "requestTime": T0, "request": { "status": "De-Activate" } });
    let r = unchanged!(
        app,
        app.send("PATCH", &path, Some(&token), Some(&body)).await
    );
    r.assert_error("PMS_REQUEST_ERROR_003", "Request version is invalid");
    let body = json!({ "id": GROUP_PATCH_ID, "version": "1.0", "requestTime": T0 });
    let r = unchanged!(
        app,
        app.send("PATCH", &path, Some(&token), Some(&body)).await
    );
    r.assert_error("PMS_REQUEST_ERROR_005", "Request body is invalid");
}

#[tokio::test]
async fn group_deactivate_wrong_role_403() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let token = app.token("p1", AUTH_PARTNER);
    let body = envelope_v2(GROUP_PATCH_ID, json!({ "status": "De-Activate" }));
    let r = unchanged!(
        app,
        app.send(
            "PATCH",
            &format!("/v1/policymanager/policies/group/{g}"),
            Some(&token),
            Some(&body)
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §1.5–1.7 group reads
// =====================================================================================

#[tokio::test]
async fn group_get_lists_policies_in_every_state() {
    let app = spawn_app().await;
    let (g, p1) = app.published_policy("g1", "p1").await;
    let p2 = app.create_policy("g1", "p2").await;
    let r = get_group(&app, &g).await;
    assert_eq!(r["policyGroup"]["name"], json!("g1"));
    let policies = r["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2);
    let find = |id: &str| {
        policies
            .iter()
            .find(|p| p["policyId"] == json!(id))
            .unwrap()
            .clone()
    };
    let a = find(&p1);
    assert_eq!(a["policyName"], json!("p1"));
    assert_eq!(a["policyDesc"], json!("desc"));
    assert_eq!(a["status"], json!("PUBLISHED"));
    assert_eq!(a["schema"], json!(SCHEMA_URL));
    assert_eq!(a["is_Active"], json!(true));
    assert_eq!(a["version"], json!("1.0"));
    assert_eq!(a["publishDate"], json!(T0));
    assert_eq!(a["validTill"], json!(T0_PLUS_200Y));
    assert_eq!(a["cr_by"], json!("pm1"));
    assert_eq!(a["policies"], sample_policy());
    for k in ["up_by", "upd_dtimes", "cr_dtimes"] {
        assert!(a.get(k).is_some(), "missing {k}: {a}");
    }
    let b = find(&p2);
    assert_eq!(b["status"], json!("DRAFTED"));
    assert!(b["schema"].is_null());
    assert_eq!(b["is_Active"], json!(false));
}

#[tokio::test]
async fn group_get_unknown_pms_pol_016() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        pm_get(&app, "/v1/policymanager/policies/group/nope").await
    );
    r.assert_error("PMS_POL_016", "Policy Group ID does not exist");
}

#[tokio::test]
async fn group_get_wrong_role_403() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = unchanged!(
        app,
        app.get(
            &format!("/v1/policymanager/policies/group/{g}"),
            "p1",
            AUTH_PARTNER
        )
        .await
    );
    assert_forbidden(&r);
}

#[tokio::test]
async fn group_all_lists_active_and_inactive_groups() {
    let app = spawn_app().await;
    app.published_policy("g1", "p1").await;
    let g2 = inactive_group(&app, "g2").await;
    let r = pm_get(&app, "/v1/policymanager/policies/group/all").await;
    let list = r.ok().as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let g1e = list
        .iter()
        .find(|e| e["policyGroup"]["name"] == json!("g1"))
        .unwrap();
    assert_eq!(g1e["policies"].as_array().unwrap().len(), 1);
    assert_eq!(g1e["policies"][0]["policyName"], json!("p1"));
    let g2e = list
        .iter()
        .find(|e| e["policyGroup"]["id"] == json!(g2))
        .unwrap();
    assert_eq!(g2e["policyGroup"]["isActive"], json!(false));
    assert_eq!(g2e["policies"], json!([]));
}

#[tokio::test]
async fn group_all_empty_and_wrong_role() {
    let app = spawn_app().await;
    let r = pm_get(&app, "/v1/policymanager/policies/group/all").await;
    assert_eq!(r.ok(), &json!([]));
    let r = unchanged!(
        app,
        app.get("/v1/policymanager/policies/group/all", "p1", AUTH_PARTNER)
            .await
    );
    assert_forbidden(&r);
}

#[tokio::test]
async fn policy_groups_v2_lists_active_groups_by_name() {
    let app = spawn_app().await;
    let gb = app.create_group("beta").await;
    let ga = app
        .call(
            "POST",
            "/v1/policymanager/policies/group/new",
            "pm1",
            POLICY_MANAGER,
            Some(json!({ "name": "alpha", "desc": "the alpha" })),
        )
        .await
        .ok()["id"]
        .clone();
    inactive_group(&app, "aaa-inactive").await;
    // partners may read this list
    let r = app
        .get(
            "/v1/policymanager/policies/policy-groups",
            "p1",
            AUTH_PARTNER,
        )
        .await;
    assert_v2_envelope(&r, "mosip.pms.policy.groups.get");
    assert_eq!(
        r.ok(),
        &json!([
            { "id": ga, "name": "alpha", "description": "the alpha" },
            { "id": gb, "name": "beta", "description": "group " },
        ])
    );
}

#[tokio::test]
async fn policy_groups_v2_none_active_pms_pol_059() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        pm_get(&app, "/v1/policymanager/policies/policy-groups").await
    );
    r.assert_error("PMS_POL_059", "There are no active policy groups.");
    assert_v2_envelope(&r, "mosip.pms.policy.groups.get");
    inactive_group(&app, "g1").await;
    let r = unchanged!(
        app,
        pm_get(&app, "/v1/policymanager/policies/policy-groups").await
    );
    r.assert_error("PMS_POL_059", "There are no active policy groups.");
}

#[tokio::test]
async fn policy_groups_v2_wrong_role_403() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        app.get(
            "/v1/policymanager/policies/policy-groups",
            "r1",
            &["RESIDENT"]
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §2.4 POST /policies
// =====================================================================================

#[tokio::test]
async fn policy_create_success_is_a_draft() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let mut req = policy_req("g1", "p1");
    req["policyType"] = json!("auth");
    req["policyId"] = json!("my-policy_1");
    let r = pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await;
    assert_eq!(
        r.ok(),
        &json!({ "id": "my-policy_1", "policyGroupName": "g1", "name": "p1", "desc": "desc", "is_Active": false,
                 "cr_by": "pm1", "cr_dtimes": T0, "up_by": null, "upd_dtimes": null })
    );
    let p = get_policy(&app, "my-policy_1").await;
    assert_eq!(p["policyId"], json!("my-policy_1"));
    assert_eq!(p["policyName"], json!("p1"));
    assert_eq!(p["policyDesc"], json!("desc"));
    assert_eq!(p["policyType"], json!("Auth"));
    assert_eq!(p["version"], json!("1.0"));
    assert_eq!(p["status"], json!("DRAFTED"));
    assert!(p["schema"].is_null());
    assert_eq!(p["is_Active"], json!(false));
    assert_eq!(p["publishDate"], json!(T0));
    assert_eq!(p["validTill"], json!(T0_PLUS_200Y));
    assert_eq!(p["policies"], sample_policy());
    assert_eq!(p["policyGroupId"], json!(g));
    assert_eq!(p["policyGroupName"], json!("g1"));
    assert_eq!(p["policyGroupStatus"], json!(true));
    assert_eq!(p["policyGroup_cr_by"], json!("pm1"));
    assert_eq!(p["cr_by"], json!("pm1"));
    assert!(p["up_by"].is_null());
}

#[tokio::test]
async fn policy_create_generates_id_and_same_name_in_other_group_is_allowed() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    app.create_group("g2").await;
    let a = app.create_policy("g1", "p1").await;
    let b = app.create_policy("g2", "p1").await;
    assert_ne!(a, b);
    assert!(!a.is_empty() && a.len() <= 36);
}

#[tokio::test]
async fn policy_create_type_not_allowed_pms_pol_023() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let mut req = policy_req("g1", "p1");
    req["policyType"] = json!("DataShare");
    // the document is not validated when the type is not allowed
    req["policies"] = json!({ "shareableAttributes": [] });
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    r.assert_error("PMS_POL_023", "Given policy type is not allowed ");
}

#[tokio::test]
async fn policy_create_unknown_group_pms_pol_019() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "POST",
            "/v1/policymanager/policies",
            Some(policy_req("G1", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_019", "Policy group name does not exist");
}

#[tokio::test]
async fn policy_create_inactive_group_pms_pol_053() {
    let app = spawn_app().await;
    inactive_group(&app, "g1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "POST",
            "/v1/policymanager/policies",
            Some(policy_req("g1", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_053", "Policy group is not active.");
}

#[tokio::test]
async fn policy_create_duplicate_name_pms_pol_009() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    app.create_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "POST",
            "/v1/policymanager/policies",
            Some(policy_req("g1", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_009", "Auth policy exists with name : p1");
}

#[tokio::test]
async fn policy_create_used_policy_id_pms_ext_005() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    app.create_group("g2").await;
    let mut req = policy_req("g1", "p1");
    req["policyId"] = json!("pid-1");
    pm(&app, "POST", "/v1/policymanager/policies", Some(req))
        .await
        .ok();
    let mut req = policy_req("g2", "p2");
    req["policyId"] = json!("pid-1");
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    r.assert_error("PMS_EXT_005", "Policy id already exists.");
}

#[tokio::test]
async fn policy_create_document_errors_are_all_reported() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let mut req = policy_req("g1", "p1");
    req["policies"] = json!({
        "allowedAuthTypes": [
            { "authType": "otp", "authSubType": "", "mandatory": false },
            { "authType": "bogus", "authSubType": "", "mandatory": false }
        ],
        "allowedKycAttributes": [ { "attributeName": "fullName" } ]
    });
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_PV_006",
                "Missing input parameter - authTokenType in policy data",
            ),
            (
                "PMS_PV_005",
                "Invalid input parameter - allowedAuthTypes/1/authType in policy data",
            ),
            ("PMS_PV_002", "Policy Object validation failed"),
        ],
    );
}

#[tokio::test]
async fn policy_create_document_wrong_type_pms_pv_007() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let mut req = policy_req("g1", "p1");
    req["policies"]["allowedAuthTypes"][0]["mandatory"] = json!("no");
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_PV_007",
                "Format Error: Expected format is allowedAuthTypes/0/mandatory/boolean.",
            ),
            ("PMS_PV_002", "Policy Object validation failed"),
        ],
    );
}

#[tokio::test]
async fn policy_create_document_enum_and_member_errors_pms_pv_005_006() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let mut req = policy_req("g1", "p1");
    req["policies"]["authTokenType"] = json!("Policy");
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_PV_005",
                "Invalid input parameter - authTokenType in policy data",
            ),
            ("PMS_PV_002", "Policy Object validation failed"),
        ],
    );

    let mut req = policy_req("g1", "p1");
    req["policies"]["allowedKycAttributes"] = json!([{ "attributeName": "fullName", "extra": 1 }]);
    req["policies"]["allowedAuthTypes"] = json!([{ "authType": "otp" }]);
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_PV_006",
                "Missing input parameter - allowedAuthTypes/0/mandatory in policy data",
            ),
            (
                "PMS_PV_005",
                "Invalid input parameter - allowedKycAttributes/0/extra in policy data",
            ),
            ("PMS_PV_002", "Policy Object validation failed"),
        ],
    );
}

#[tokio::test]
async fn policy_create_document_errors_come_before_business_checks() {
    let app = spawn_app().await;
    // unknown group AND bad document: the document (validation stage) wins
    let mut req = policy_req("nope", "p1");
    req["policies"]["authTokenType"] = json!("");
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_PV_005",
                "Invalid input parameter - authTokenType in policy data",
            ),
            ("PMS_PV_002", "Policy Object validation failed"),
        ],
    );
}

#[tokio::test]
async fn policy_create_field_errors_pms_cor_001() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let req = json!({ "policyId": "v2", "policyGroupName": "", "policyType": null, "name": "n".repeat(129),
                      "desc": "d".repeat(257), "version": "123456789", "policies": "x" });
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            ("PMS_COR_001", "Invalid request parameter - invalid policy id :request.policyId"),
            ("PMS_COR_001", "Invalid request parameter - value is empty or null :request.policyGroupName"),
            (
                "PMS_COR_001",
                "Invalid request parameter - value is empty or null. Allowed values Auth/DataShare/CredentialIssuance :request.policyType",
            ),
            ("PMS_COR_001", "Invalid request parameter - Length should be in between 1 and 128 chars :request.name"),
            ("PMS_COR_001", "Invalid request parameter - Length should be in between 1 and 256 chars :request.desc"),
            ("PMS_COR_001", "Invalid request parameter - Length should be in between 1 and 8 chars :request.version"),
            ("PMS_COR_001", "Invalid request parameter - invalid type, expected object :request.policies"),
        ],
    );
    let mut req = policy_req("g1", "p1");
    req.as_object_mut().unwrap().remove("policies");
    req["policyId"] = json!("bad id");
    let r = unchanged!(
        app,
        pm(&app, "POST", "/v1/policymanager/policies", Some(req)).await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_COR_001",
                "Invalid request parameter - invalid policy id :request.policyId",
            ),
            (
                "PMS_COR_001",
                "Invalid request parameter - value is empty or null :request.policies",
            ),
        ],
    );
}

#[tokio::test]
async fn policy_create_wrong_role_403() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        app.call(
            "POST",
            "/v1/policymanager/policies",
            "p1",
            AUTH_PARTNER,
            Some(policy_req("g1", "p1"))
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §2.5 PUT /policies/{policyId}
// =====================================================================================

#[tokio::test]
async fn policy_update_success_replaces_draft() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    app.clock.advance(chrono::Duration::minutes(5));
    let mut req = update_req("g1", "p1-renamed");
    req["policies"]["authTokenType"] = json!("random");
    let r = pm(
        &app,
        "PUT",
        &format!("/v1/policymanager/policies/{p}"),
        Some(req),
    )
    .await;
    let resp = r.ok();
    assert_eq!(resp["id"], json!(p));
    assert_eq!(resp["policyGroupName"], json!("g1"));
    assert_eq!(resp["name"], json!("p1-renamed"));
    assert_eq!(resp["desc"], json!("new desc"));
    assert_eq!(resp["is_Active"], json!(false));
    assert_eq!(resp["cr_by"], json!("pm1"));
    assert_eq!(resp["cr_dtimes"], json!(T0));
    assert_eq!(resp["up_by"], json!("pm1"));
    assert_eq!(resp["upd_dtimes"], json!("2026-01-01T09:05:00.000Z"));

    let g = get_policy(&app, &p).await;
    assert_eq!(g["policyName"], json!("p1-renamed"));
    assert_eq!(g["policyDesc"], json!("new desc"));
    assert_eq!(g["version"], json!("2.0"));
    assert_eq!(g["policies"]["authTokenType"], json!("random"));
    assert_eq!(g["status"], json!("DRAFTED"));
    assert_eq!(g["publishDate"], json!(T0));
}

#[tokio::test]
async fn policy_update_keeping_own_name_is_allowed() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = pm(
        &app,
        "PUT",
        &format!("/v1/policymanager/policies/{p}"),
        Some(update_req("g1", "p1")),
    )
    .await;
    assert_eq!(r.ok()["name"], json!("p1"));
}

#[tokio::test]
async fn policy_update_unknown_group_pms_pol_019() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/{p}"),
            Some(update_req("nope", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_019", "Policy group name does not exist");
    // checked before the policy id
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            "/v1/policymanager/policies/nope",
            Some(update_req("nope", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_019", "Policy group name does not exist");
}

#[tokio::test]
async fn policy_update_inactive_group_pms_pol_053() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    inactive_group(&app, "g2").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/{p}"),
            Some(update_req("g2", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_053", "Policy group is not active.");
}

#[tokio::test]
async fn policy_update_unknown_policy_pms_pol_008() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            "/v1/policymanager/policies/nope",
            Some(update_req("g1", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_008", "Policy ID does not exist");
}

#[tokio::test]
async fn policy_update_other_group_pms_pol_015() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    app.create_group("g2").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/{p}"),
            Some(update_req("g2", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_015", "Policy group and policy not mapped.");
}

#[tokio::test]
async fn policy_update_published_pms_pol_055() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/{p}"),
            Some(update_req("g1", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_055", "Published policy cannot be updated.");
}

#[tokio::test]
async fn policy_update_name_taken_pms_pol_009() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    app.create_policy("g1", "p1").await;
    let p2 = app.create_policy("g1", "p2").await;
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/{p2}"),
            Some(update_req("g1", "p1"))
        )
        .await
    );
    r.assert_error("PMS_POL_009", "Auth policy exists with name : p1");
}

#[tokio::test]
async fn policy_update_document_and_field_errors() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let mut req = update_req("g1", "");
    req["policies"]["kycLanguages"] = json!("eng");
    let r = unchanged!(
        app,
        pm(
            &app,
            "PUT",
            &format!("/v1/policymanager/policies/{p}"),
            Some(req)
        )
        .await
    );
    assert_errors(
        &r,
        &[
            (
                "PMS_COR_001",
                "Invalid request parameter - value is empty or null :request.name",
            ),
            (
                "PMS_PV_007",
                "Format Error: Expected format is kycLanguages/array.",
            ),
            ("PMS_PV_002", "Policy Object validation failed"),
        ],
    );
}

#[tokio::test]
async fn policy_update_wrong_role_403() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        app.call(
            "PUT",
            &format!("/v1/policymanager/policies/{p}"),
            "p1",
            AUTH_PARTNER,
            Some(update_req("g1", "p1"))
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §2.6 publish
// =====================================================================================

fn publish_path(p: &str, g: &str) -> String {
    format!("/v1/policymanager/policies/{p}/group/{g}/publish")
}

#[tokio::test]
async fn publish_success_activates_policy() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    app.clock.advance(chrono::Duration::hours(1));
    let r = pm(&app, "POST", &publish_path(&p, &g), None).await;
    let resp = r.ok().clone();
    assert_eq!(resp["policyId"], json!(p));
    assert_eq!(resp["policyGroupId"], json!(g));
    assert_eq!(resp["policyGroupName"], json!("g1"));
    assert_eq!(resp["status"], json!("PUBLISHED"));
    assert_eq!(resp["schema"], json!(SCHEMA_URL));
    assert_eq!(resp["is_Active"], json!(true));
    // validity unchanged
    assert_eq!(resp["publishDate"], json!(T0));
    assert_eq!(resp["validTill"], json!(T0_PLUS_200Y));
    assert_eq!(resp["policies"], sample_policy());

    let got = get_policy(&app, &p).await;
    assert_eq!(got["status"], json!("PUBLISHED"));
    assert_eq!(got["schema"], json!(SCHEMA_URL));
    assert_eq!(got["is_Active"], json!(true));
}

#[tokio::test]
async fn publish_unknown_group_pms_pol_016() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(app, pm(&app, "POST", &publish_path(&p, "nope"), None).await);
    r.assert_error("PMS_POL_016", "Policy Group ID does not exist");
}

#[tokio::test]
async fn publish_inactive_group_pms_pol_053() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    update_group(&app, &g, "g1", "d", false).await.ok();
    let r = unchanged!(app, pm(&app, "POST", &publish_path(&p, &g), None).await);
    r.assert_error("PMS_POL_053", "Policy group is not active.");
}

#[tokio::test]
async fn publish_unknown_policy_pms_pol_008() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = unchanged!(app, pm(&app, "POST", &publish_path("nope", &g), None).await);
    r.assert_error("PMS_POL_008", "Policy ID does not exist");
}

#[tokio::test]
async fn publish_other_group_pms_pol_015() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let g2 = app.create_group("g2").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(app, pm(&app, "POST", &publish_path(&p, &g2), None).await);
    r.assert_error("PMS_POL_015", "Policy group and policy not mapped.");
}

#[tokio::test]
async fn publish_twice_pms_pol_020() {
    let app = spawn_app().await;
    let (g, p) = app.published_policy("g1", "p1").await;
    let r = unchanged!(app, pm(&app, "POST", &publish_path(&p, &g), None).await);
    r.assert_error("PMS_POL_020", "Can not publish the published policy");
    // a deactivated policy cannot be published again either
    deactivate_policy(&app, &p).await.ok();
    let r = unchanged!(app, pm(&app, "POST", &publish_path(&p, &g), None).await);
    r.assert_error("PMS_POL_020", "Can not publish the published policy");
}

#[tokio::test]
async fn publish_wrong_role_403() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        app.call("POST", &publish_path(&p, &g), "p1", AUTH_PARTNER, None)
            .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §2.7 PATCH /policies/{policyId} (V2 deactivate)
// =====================================================================================

#[tokio::test]
async fn policy_deactivate_success() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let r = deactivate_policy(&app, &p).await;
    assert_eq!(r.ok(), &json!({ "policyId": p, "isActive": false }));
    assert_v2_envelope(&r, POLICY_PATCH_ID);
    let got = get_policy(&app, &p).await;
    assert_eq!(got["status"], json!("DEACTIVATED"));
    assert_eq!(got["is_Active"], json!(false));
    assert_eq!(got["schema"], json!(SCHEMA_URL));
}

#[tokio::test]
async fn policy_deactivate_unknown_pms_pol_065() {
    let app = spawn_app().await;
    let r = unchanged!(app, deactivate_policy(&app, "nope").await);
    r.assert_error("PMS_POL_065", "The specified policy does not exist.");
    assert_v2_envelope(&r, POLICY_PATCH_ID);
}

#[tokio::test]
async fn policy_deactivate_draft_pms_pol_072() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(app, deactivate_policy(&app, &p).await);
    r.assert_error(
        "PMS_POL_072",
        "The selected policy is not in activated status",
    );
}

#[tokio::test]
async fn policy_deactivate_twice_pms_pol_062() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    deactivate_policy(&app, &p).await.ok();
    let r = unchanged!(app, deactivate_policy(&app, &p).await);
    r.assert_error("PMS_POL_062", "The policy has already been deactivated.");
}

#[tokio::test]
async fn policy_deactivate_approved_mapping_pms_pol_063() {
    let app = spawn_app().await;
    let (_, p) = approved_mapping(&app, "g1", "p1", "partner1").await;
    let r = unchanged!(app, deactivate_policy(&app, &p).await);
    r.assert_error(
        "PMS_POL_063",
        "An approved partner policy request is associated with this policy.",
    );
}

#[tokio::test]
async fn policy_deactivate_pending_mapping_pms_pol_064() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    app.register_partner("partner1", "g1").await.ok();
    app.activate_partner("partner1").await;
    app.request_mapping("partner1", "p1").await.ok();
    let r = unchanged!(app, deactivate_policy(&app, &p).await);
    r.assert_error(
        "PMS_POL_064",
        "A pending partner policy request is associated with this policy.",
    );
}

#[tokio::test]
async fn policy_deactivate_bad_status_pms_pol_073() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let path = format!("/v1/policymanager/policies/{p}");
    for req in [
        json!({ "status": "de-activate" }),
        json!({ "status": "" }),
        json!({}),
    ] {
        let r = unchanged!(
            app,
            patch_v2(&app, &path, POLICY_PATCH_ID, req.clone()).await
        );
        r.assert_error("PMS_POL_073", "Request status should be De-Activate");
        assert_v2_envelope(&r, POLICY_PATCH_ID);
    }
}

#[tokio::test]
async fn policy_deactivate_wrong_envelope_id_pms_request_error_002() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let path = format!("/v1/policymanager/policies/{p}");
    let r = unchanged!(
        app,
        patch_v2(
            &app,
            &path,
            GROUP_PATCH_ID,
            json!({ "status": "De-Activate" })
        )
        .await
    );
    r.assert_error("PMS_REQUEST_ERROR_002", "Invalid Request Id");
    assert_v2_envelope(&r, POLICY_PATCH_ID);
}

#[tokio::test]
async fn policy_deactivate_wrong_role_403() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let token = app.token("p1", AUTH_PARTNER);
    let body = envelope_v2(POLICY_PATCH_ID, json!({ "status": "De-Activate" }));
    let r = unchanged!(
        app,
        app.send(
            "PATCH",
            &format!("/v1/policymanager/policies/{p}"),
            Some(&token),
            Some(&body)
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §2.8 PATCH /policies/{policyId}/group/{groupId} (legacy)
// =====================================================================================

async fn legacy(app: &TestApp, p: &str, g: &str, status: Value) -> Resp {
    pm(
        app,
        "PATCH",
        &format!("/v1/policymanager/policies/{p}/group/{g}"),
        Some(json!({ "status": status })),
    )
    .await
}

#[tokio::test]
async fn legacy_status_draft_deactive_changes_nothing() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    for s in ["De-Active", "de-active", "DE-ACTIVE"] {
        let r = unchanged!(app, legacy(&app, &p, &g, json!(s)).await);
        assert_eq!(r.ok(), &json!({ "message": "status updated successfully" }));
    }
    assert_eq!(get_policy(&app, &p).await["status"], json!("DRAFTED"));
}

#[tokio::test]
async fn legacy_status_invalid_status_pms_pol_045() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    for s in [json!("Deactivate"), json!(""), json!(null)] {
        let r = unchanged!(app, legacy(&app, &p, &g, s.clone()).await);
        r.assert_error("PMS_POL_045", "Policy Status either Active or De-active.");
    }
}

#[tokio::test]
async fn legacy_status_unknown_group_pms_pol_016() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(app, legacy(&app, &p, "nope", json!("De-Active")).await);
    r.assert_error("PMS_POL_016", "Policy Group ID does not exist");
}

#[tokio::test]
async fn legacy_status_inactive_group_pms_pol_053() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    update_group(&app, &g, "g1", "d", false).await.ok();
    let r = unchanged!(app, legacy(&app, &p, &g, json!("De-Active")).await);
    r.assert_error("PMS_POL_053", "Policy group is not active.");
}

#[tokio::test]
async fn legacy_status_unknown_policy_pms_pol_008() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let r = unchanged!(app, legacy(&app, "nope", &g, json!("De-Active")).await);
    r.assert_error("PMS_POL_008", "Policy ID does not exist");
}

#[tokio::test]
async fn legacy_status_other_group_pms_pol_015() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let g2 = app.create_group("g2").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(app, legacy(&app, &p, &g2, json!("De-Active")).await);
    r.assert_error("PMS_POL_015", "Policy group and policy not mapped.");
}

#[tokio::test]
async fn legacy_status_published_pms_pol_058() {
    let app = spawn_app().await;
    let (g, p) = app.published_policy("g1", "p1").await;
    for s in ["De-Active", "Active"] {
        let r = unchanged!(app, legacy(&app, &p, &g, json!(s)).await);
        r.assert_error(
            "PMS_POL_058",
            "Status cannot be changed for published policy.",
        );
    }
}

#[tokio::test]
async fn legacy_status_activate_draft_pms_pol_054() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    for s in ["Active", "active"] {
        let r = unchanged!(app, legacy(&app, &p, &g, json!(s)).await);
        r.assert_error("PMS_POL_054", "Cannot activate unpublished policy.");
    }
}

#[tokio::test]
async fn legacy_status_wrong_role_403() {
    let app = spawn_app().await;
    let g = app.create_group("g1").await;
    let p = app.create_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        app.call(
            "PATCH",
            &format!("/v1/policymanager/policies/{p}/group/{g}"),
            "p1",
            AUTH_PARTNER,
            Some(json!({ "status": "De-Active" }))
        )
        .await
    );
    assert_forbidden(&r);
}

// =====================================================================================
// §2.9 reads
// =====================================================================================

#[tokio::test]
async fn policy_get_unknown_pms_pol_008() {
    let app = spawn_app().await;
    let r = unchanged!(app, pm_get(&app, "/v1/policymanager/policies/nope").await);
    r.assert_error("PMS_POL_008", "Policy ID does not exist");
}

#[tokio::test]
async fn policy_get_has_every_member() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let got = get_policy(&app, &p).await;
    for k in [
        "policyGroupId",
        "policyGroupName",
        "policyGroupDesc",
        "policyGroupStatus",
        "policyGroup_cr_by",
        "policyGroup_cr_dtimes",
        "policyGroup_up_by",
        "policyGroup_upd_dtimes",
        "policyId",
        "policyName",
        "policyDesc",
        "policyType",
        "version",
        "publishDate",
        "validTill",
        "status",
        "schema",
        "is_Active",
        "cr_by",
        "cr_dtimes",
        "up_by",
        "upd_dtimes",
        "policies",
    ] {
        assert!(got.get(k).is_some(), "missing {k}: {got}");
    }
    assert_eq!(got["policyGroupDesc"], json!("group "));
    assert_eq!(got["policyGroup_cr_dtimes"], json!(T0));
}

#[tokio::test]
async fn policy_get_wrong_role_403() {
    let app = spawn_app().await;
    let (_, p) = app.published_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        app.get(
            &format!("/v1/policymanager/policies/{p}"),
            "p1",
            AUTH_PARTNER
        )
        .await
    );
    assert_forbidden(&r);
}

#[tokio::test]
async fn policies_all_lists_every_policy() {
    let app = spawn_app().await;
    let r = pm_get(&app, "/v1/policymanager/policies").await;
    assert_eq!(r.ok(), &json!([]));
    let (_, p1) = app.published_policy("g1", "p1").await;
    let p2 = app.create_policy("g1", "p2").await;
    let (_, p3) = app.published_policy("g2", "p3").await;
    deactivate_policy(&app, &p3).await.ok();
    let r = pm_get(&app, "/v1/policymanager/policies").await;
    let list = r.ok().as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let status =
        |id: &str| list.iter().find(|p| p["policyId"] == json!(id)).unwrap()["status"].clone();
    assert_eq!(status(&p1), json!("PUBLISHED"));
    assert_eq!(status(&p2), json!("DRAFTED"));
    assert_eq!(status(&p3), json!("DEACTIVATED"));
    let r = unchanged!(
        app,
        app.get("/v1/policymanager/policies", "p1", AUTH_PARTNER)
            .await
    );
    assert_forbidden(&r);
}

#[tokio::test]
async fn active_policies_of_group_lists_only_activated() {
    let app = spawn_app().await;
    let (g, p1) = app.published_policy("g1", "p1").await;
    app.create_policy("g1", "p2").await;
    let p3 = app.create_policy("g1", "p3").await;
    app.publish(&p3, &g).await;
    deactivate_policy(&app, &p3).await.ok();
    let r = app
        .get(
            "/v1/policymanager/policies/active/group/g1",
            "partner1",
            AUTH_PARTNER,
        )
        .await;
    assert_eq!(
        r.ok(),
        &json!([{ "policyGroupId": g, "policyGroupName": "g1", "id": p1, "name": "p1", "descr": "desc", "policyType": "Auth" }])
    );
}

#[tokio::test]
async fn active_policies_of_group_unknown_pms_pol_019() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        pm_get(&app, "/v1/policymanager/policies/active/group/g2").await
    );
    r.assert_error("PMS_POL_019", "Policy group name does not exist");
}

#[tokio::test]
async fn active_policies_of_group_inactive_pms_pol_053() {
    let app = spawn_app().await;
    inactive_group(&app, "g1").await;
    let r = unchanged!(
        app,
        pm_get(&app, "/v1/policymanager/policies/active/group/g1").await
    );
    r.assert_error("PMS_POL_053", "Policy group is not active.");
}

#[tokio::test]
async fn active_policies_of_group_wrong_role_403() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    let r = unchanged!(
        app,
        app.get(
            "/v1/policymanager/policies/active/group/g1",
            "r1",
            &["RESIDENT"]
        )
        .await
    );
    assert_forbidden(&r);
}

// ---- GET /policies/v2

const V2_ID: &str = "mosip.pms.policies.get";

async fn v2(app: &TestApp, query: &str) -> Resp {
    pm_get(app, &format!("/v1/policymanager/policies/v2{query}")).await
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["policyName"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn policies_v2_summary_members_and_default_page() {
    let app = spawn_app().await;
    let (g, p) = app.published_policy("g1", "Alpha").await;
    let r = v2(&app, "").await;
    assert_v2_envelope(&r, V2_ID);
    assert_eq!(
        r.ok(),
        &json!({ "pageNo": 0, "pageSize": 8, "totalResults": 1, "data": [
            { "policyId": p, "policyName": "Alpha", "policyDescription": "desc", "policyGroupId": g,
              "policyGroupName": "g1", "status": "activated", "createdDateTime": T0 }
        ] })
    );
}

#[tokio::test]
async fn policies_v2_default_page_size_is_8() {
    let app = spawn_app().await;
    app.create_group("g1").await;
    for i in 0..9 {
        app.create_policy("g1", &format!("p{i}")).await;
    }
    let r = v2(&app, "").await;
    let page = r.ok();
    assert_eq!(page["totalResults"], json!(9));
    assert_eq!(page["data"].as_array().unwrap().len(), 8);
    assert_eq!(page["pageNo"], json!(0));
    assert_eq!(page["pageSize"], json!(8));
}

#[tokio::test]
async fn policies_v2_paging_sorting_and_filters() {
    let app = spawn_app().await;
    let (_, _) = app.published_policy("g1", "Bravo").await;
    app.create_policy("g1", "Alpha").await;
    app.clock.advance(chrono::Duration::minutes(1));
    let (_, p) = app.published_policy("other", "Charlie").await;
    deactivate_policy(&app, &p).await.ok();

    let r = v2(
        &app,
        "?sortFieldName=policyName&sortType=asc&pageNo=0&pageSize=10",
    )
    .await;
    let page = r.ok();
    assert_eq!(page["totalResults"], json!(3));
    assert_eq!(names(page), vec!["Alpha", "Bravo", "Charlie"]);

    let r = v2(
        &app,
        "?sortFieldName=policyName&sortType=DESC&pageNo=1&pageSize=2",
    )
    .await;
    let page = r.ok();
    assert_eq!(page["pageNo"], json!(1));
    assert_eq!(page["pageSize"], json!(2));
    assert_eq!(page["totalResults"], json!(3));
    assert_eq!(names(page), vec!["Alpha".to_string()]);

    // filters: contains, ignoring case
    let r = v2(&app, "?policyName=RAV").await;
    assert_eq!(names(r.ok()), vec!["Bravo".to_string()]);
    let r = v2(&app, "?policyGroupName=OTH").await;
    assert_eq!(names(r.ok()), vec!["Charlie".to_string()]);
    // status: exact
    let r = v2(&app, "?status=draft").await;
    assert_eq!(names(r.ok()), vec!["Alpha".to_string()]);
    let r = v2(&app, "?status=deactivated").await;
    assert_eq!(r.ok()["data"][0]["status"], json!("deactivated"));
    let r = v2(&app, "?status=activated").await;
    assert_eq!(names(r.ok()), vec!["Bravo".to_string()]);

    // no match / page past the end
    let empty = json!({ "pageNo": 0, "pageSize": 0, "totalResults": 0, "data": [] });
    assert_eq!(v2(&app, "?policyName=zzz").await.ok(), &empty);
    assert_eq!(v2(&app, "?pageNo=5&pageSize=2").await.ok(), &empty);
}

#[tokio::test]
async fn policies_v2_invalid_sort_field_pms_prt_357() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        v2(
            &app,
            "?sortFieldName=bogus&sortType=ASC&pageNo=0&pageSize=5"
        )
        .await
    );
    r.assert_error("PMS_PRT_357", "Invalid sort field bogus");
    assert_v2_envelope(&r, V2_ID);
}

#[tokio::test]
async fn policies_v2_invalid_sort_type_pms_prt_358() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        v2(
            &app,
            "?sortFieldName=policyName&sortType=UP&pageNo=0&pageSize=5"
        )
        .await
    );
    r.assert_error("PMS_PRT_358", "Sort type UP is not supported");
}

#[tokio::test]
async fn policies_v2_invalid_page_no_pms_prt_360() {
    let app = spawn_app().await;
    for q in ["?pageNo=-1&pageSize=5", "?pageNo=abc&pageSize=5"] {
        let r = unchanged!(app, v2(&app, q).await);
        r.assert_error("PMS_PRT_360", "Invalid Page No");
    }
}

#[tokio::test]
async fn policies_v2_invalid_page_size_pms_prt_361() {
    let app = spawn_app().await;
    for q in [
        "?pageNo=0&pageSize=0",
        "?pageNo=0&pageSize=1001",
        "?pageNo=0&pageSize=x",
    ] {
        let r = unchanged!(app, v2(&app, q).await);
        r.assert_error("PMS_PRT_361", "Invalid page size");
    }
}

#[tokio::test]
async fn policies_v2_wrong_role_403() {
    let app = spawn_app().await;
    let r = unchanged!(
        app,
        app.get("/v1/policymanager/policies/v2", "p1", AUTH_PARTNER)
            .await
    );
    assert_forbidden(&r);
}

// ---- additional checks

#[tokio::test]
async fn deactivate_blank_path_id_pms_cor_002() {
    let app = spawn_app().await;
    app.published_policy("g1", "p1").await;
    let r = unchanged!(
        app,
        patch_v2(
            &app,
            "/v1/policymanager/policies/%20",
            POLICY_PATCH_ID,
            json!({ "status": "De-Activate" })
        )
        .await
    );
    r.assert_error("PMS_COR_002", "Invalid Input Parameter - policyId");
    let r = unchanged!(
        app,
        patch_v2(
            &app,
            "/v1/policymanager/policies/group/%20",
            GROUP_PATCH_ID,
            json!({ "status": "De-Activate" })
        )
        .await
    );
    r.assert_error("PMS_COR_002", "Invalid Input Parameter - policyGroupId");
}

#[tokio::test]
async fn successful_writes_are_audited_once_each() {
    let app = spawn_app().await;
    let before = app.audit_count().await;
    let g = app.create_group("g1").await;
    assert_eq!(app.audit_count().await, before + 1);
    update_group(&app, &g, "g1", "d2", true).await.ok();
    assert_eq!(app.audit_count().await, before + 2);
    let p = app.create_policy("g1", "p1").await;
    assert_eq!(app.audit_count().await, before + 3);
    pm(
        &app,
        "PUT",
        &format!("/v1/policymanager/policies/{p}"),
        Some(update_req("g1", "p1")),
    )
    .await
    .ok();
    assert_eq!(app.audit_count().await, before + 4);
    app.publish(&p, &g).await;
    assert_eq!(app.audit_count().await, before + 5);
    deactivate_policy(&app, &p).await.ok();
    assert_eq!(app.audit_count().await, before + 6);
    deactivate_group(&app, &g).await.ok();
    assert_eq!(app.audit_count().await, before + 7);
}
