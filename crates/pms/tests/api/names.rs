//! Names that identify things (policy groups, policies, partners' organisations) are compared and
//! stored in Unicode NFC, trimmed; invisible format (Cf) and control (Cc) characters are refused.
//! Look-alike spellings of a taken name are therefore the same name: the spec's "already exists"
//! error, nothing written, and a name a request refers to finds what it names in any such
//! spelling. OIDC client names are in `clients.rs`.

use crate::helpers::*;
use crate::unchanged;
use serde_json::{json, Value};

const GROUPS: &str = "/v1/policymanager/policies/group";
const POLICIES: &str = "/v1/policymanager/policies";
const PARTNERS: &str = "/v1/partnermanager/partners";

/// `café` with a precomposed `é` (NFC).
const CAFE_NFC: &str = "caf\u{e9}";
/// `café` with `e` and a combining acute accent (NFD).
const CAFE_NFD: &str = "cafe\u{301}";

/// Spellings that look like `café` and must count as `café`.
fn look_alikes() -> Vec<String> {
    vec![
        CAFE_NFD.to_string(),
        format!("{CAFE_NFC} "),
        format!(" {CAFE_NFD}\t"),
        format!("{CAFE_NFC}\u{3000}"),
    ]
}

/// Names with an invisible or control character, each refused.
fn hidden() -> Vec<String> {
    vec![
        format!("{CAFE_NFC}\u{200b}"),
        format!("\u{202e}{CAFE_NFC}"),
        format!("caf\u{200d}\u{e9}"),
        format!("\u{feff}{CAFE_NFC}"),
        format!("caf\u{7}\u{e9}"),
        format!("caf\te"),
        "\u{200b}".to_string(),
    ]
}

fn invalid(field: &str) -> String {
    format!(
        "Invalid request parameter - must not contain invisible or control characters :request.{field}"
    )
}

async fn pm(app: &TestApp, method: &str, path: &str, request: Value) -> Resp {
    app.call(method, path, "pm1", POLICY_MANAGER, Some(request))
        .await
}

async fn new_group(app: &TestApp, name: &str) -> Resp {
    pm(
        app,
        "POST",
        &format!("{GROUPS}/new"),
        json!({ "name": name, "desc": "d" }),
    )
    .await
}

fn policy_req(group: &str, name: &str) -> Value {
    json!({ "policyGroupName": group, "policyType": "Auth", "name": name, "desc": "desc",
            "version": "1.0", "policies": sample_policy() })
}

#[tokio::test]
async fn policy_group_look_alikes_are_the_same_name() {
    let app = spawn_app().await;
    let id = new_group(&app, CAFE_NFD).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // stored and shown in NFC
    let got = app
        .get(&format!("{GROUPS}/{id}"), "pm1", POLICY_MANAGER)
        .await;
    assert_eq!(got.ok()["policyGroup"]["name"], CAFE_NFC);
    let stored = app
        .db
        .strings(&format!("SELECT name FROM policy_group WHERE id = '{id}'"))
        .await;
    assert_eq!(stored, vec![CAFE_NFC.to_string()]);
    for name in look_alikes().iter().chain([&CAFE_NFC.to_string()]) {
        let r = unchanged!(app, new_group(&app, name).await);
        r.assert_error(
            "PMS_POL_014",
            &format!("Policy group exists with name : {CAFE_NFC}"),
        );
    }
    // renaming another group to a look-alike is the same conflict
    let other = app.create_group("other").await;
    for name in look_alikes() {
        let r = unchanged!(
            app,
            pm(
                &app,
                "PUT",
                &format!("{GROUPS}/{other}"),
                json!({ "name": name, "desc": "d", "isActive": true }),
            )
            .await
        );
        r.assert_error(
            "PMS_POL_014",
            &format!("Policy group exists with name : {CAFE_NFC}"),
        );
    }
    // renaming the group to a look-alike of its own name keeps the NFC name
    let r = pm(
        &app,
        "PUT",
        &format!("{GROUPS}/{id}"),
        json!({ "name": format!("{CAFE_NFD} "), "desc": "d2", "isActive": true }),
    )
    .await;
    assert_eq!(r.ok()["name"], CAFE_NFC);
}

#[tokio::test]
async fn policy_group_names_with_hidden_characters_are_refused() {
    let app = spawn_app().await;
    let other = app.create_group("other").await;
    for name in hidden() {
        let r = unchanged!(app, new_group(&app, &name).await);
        r.assert_error("PMS_COR_001", &invalid("name"));
        let r = unchanged!(
            app,
            pm(
                &app,
                "PUT",
                &format!("{GROUPS}/{other}"),
                json!({ "name": name, "desc": "d", "isActive": true }),
            )
            .await
        );
        r.assert_error("PMS_COR_001", &invalid("name"));
    }
}

#[tokio::test]
async fn policy_look_alikes_are_the_same_name_and_find_their_group() {
    let app = spawn_app().await;
    app.create_group(CAFE_NFC).await;
    // the group is found by a look-alike of its name, and the policy stored in NFC
    let r = pm(&app, "POST", POLICIES, policy_req(CAFE_NFD, CAFE_NFD)).await;
    let body = r.ok().clone();
    assert_eq!(body["name"], CAFE_NFC);
    assert_eq!(body["policyGroupName"], CAFE_NFC);
    let id = body["id"].as_str().unwrap().to_string();
    let got = app
        .get(&format!("{POLICIES}/{id}"), "pm1", POLICY_MANAGER)
        .await;
    assert_eq!(got.ok()["policyName"], CAFE_NFC);
    for name in look_alikes() {
        let r = unchanged!(
            app,
            pm(
                &app,
                "POST",
                POLICIES,
                policy_req(&format!("{CAFE_NFC} "), &name)
            )
            .await
        );
        r.assert_error(
            "PMS_POL_009",
            &format!("Auth policy exists with name : {CAFE_NFC}"),
        );
    }
    // renaming another policy of the group to a look-alike is the same conflict
    let other = pm(&app, "POST", POLICIES, policy_req(CAFE_NFC, "other"))
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for name in look_alikes() {
        let r = unchanged!(
            app,
            pm(
                &app,
                "PUT",
                &format!("{POLICIES}/{other}"),
                json!({ "policyGroupName": CAFE_NFD, "name": name, "desc": "d", "version": "1.0",
                        "policies": sample_policy() }),
            )
            .await
        );
        assert_eq!(r.codes(), vec!["PMS_POL_009".to_string()], "{}", r.body);
    }
    for name in hidden() {
        let r = unchanged!(
            app,
            pm(&app, "POST", POLICIES, policy_req(CAFE_NFC, &name)).await
        );
        r.assert_error("PMS_COR_001", &invalid("name"));
    }
}

#[tokio::test]
async fn partner_organisation_names_are_stored_in_nfc_and_hidden_characters_refused() {
    let app = spawn_app().await;
    app.create_group(CAFE_NFC).await;
    let registration = |id: &str, org: &str, group: &str| {
        json!({ "partnerId": id, "policyGroup": group, "organizationName": org,
                "address": "12 Main St", "contactNumber": "9876543210",
                "emailId": format!("{id}@example.org"), "partnerType": "Auth_Partner" })
    };
    for name in hidden() {
        let r = unchanged!(
            app,
            app.call(
                "POST",
                PARTNERS,
                "rp1",
                AUTH_PARTNER,
                Some(registration("rp1", &name, CAFE_NFC)),
            )
            .await
        );
        r.assert_error("PMS_COR_001", &invalid("organizationName"));
    }
    // the group is found by a look-alike of its name; the organisation name is stored in NFC.
    // (Organisation names need not be unique: the spec has no such rule.)
    let org = format!(" Soci\u{e9}te\u{301} {CAFE_NFD} ");
    app.call(
        "POST",
        PARTNERS,
        "rp1",
        AUTH_PARTNER,
        Some(registration("rp1", &org, CAFE_NFD)),
    )
    .await
    .ok();
    let got = app
        .get(&format!("{PARTNERS}/rp1"), "rp1", AUTH_PARTNER)
        .await;
    let p = got.ok();
    assert_eq!(
        p["organizationName"],
        format!("Soci\u{e9}t\u{e9} {CAFE_NFC}")
    );
    assert_eq!(p["policyGroup"], CAFE_NFC);
}

#[tokio::test]
async fn the_active_policies_of_a_group_are_found_by_a_look_alike_name() {
    let app = spawn_app().await;
    app.create_group(CAFE_NFC).await;
    let policy = app.published_policy_in(CAFE_NFC, "p1").await;
    // `cafe\u{301}` percent-encoded in the path
    let r = app
        .get(
            &format!("{POLICIES}/active/group/cafe%CC%81"),
            "partner1",
            AUTH_PARTNER,
        )
        .await;
    let list = r.ok();
    assert_eq!(list[0]["id"], policy.as_str());
    assert_eq!(list[0]["policyGroupName"], CAFE_NFC);
}

#[tokio::test]
async fn a_mapping_request_finds_the_policy_by_a_look_alike_name() {
    let app = spawn_app().await;
    app.create_group("g").await;
    let policy = app.published_policy_in("g", CAFE_NFC).await;
    app.register_partner("rp1", "g").await.ok();
    app.activate_partner("rp1").await;
    let r = app.request_mapping("rp1", &format!("{CAFE_NFD} ")).await;
    assert!(r.ok()["mappingkey"].is_string(), "{}", r.body);
    let stored = app
        .db
        .strings("SELECT policy_id FROM partner_policy_request")
        .await;
    assert_eq!(stored, vec![policy]);
}
