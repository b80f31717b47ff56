//! Partner–policy mapping requests (policies-and-partners.md §4).

use crate::helpers::*;
use crate::unchanged;
use serde_json::json;

async fn decide(app: &TestApp, key: &str, status: &str) -> Resp {
    app.call(
        "PUT",
        &format!("/v1/partnermanager/partners/policy/{key}"),
        "admin1",
        ADMIN,
        Some(json!({ "status": status })),
    )
    .await
}

/// A group `g` with published policy `pol`, and active partner `rp1` in it.
async fn ready(app: &TestApp) -> (String, String) {
    let ids = app.published_policy("g", "pol").await;
    app.register_partner("rp1", "g").await.ok();
    app.activate_partner("rp1").await;
    ids
}

#[tokio::test]
async fn request_checks_in_order() {
    let app = spawn_app().await;
    let (g, _) = ready(&app).await;
    // other partners and policies for the failure cases
    app.register_partner("rp-new", "g").await.ok(); // not active
    let (_, _) = app.published_policy("g2", "other").await;
    app.create_policy("g", "draft").await;
    app.call(
        "POST",
        "/v1/partnermanager/partners",
        "admin1",
        ADMIN,
        Some(json!({ "partnerId": "dev1", "organizationName": "o", "address": "a", "contactNumber": "1",
                     "emailId": "dev1@x.org", "partnerType": "Device_Provider" })),
    )
    .await
    .ok();
    app.activate_partner("dev1").await;
    let _ = g;

    let m = |partner: &'static str, policy: &'static str| (partner, policy);
    for ((partner, policy), user, code, message) in [
        (
            m("ghost", "pol"),
            "ghost",
            "PMS_PRT_005",
            "Partner does not exist",
        ),
        (
            m("rp1", "pol"),
            "intruder",
            "PMS_PRT_055",
            "User not authorized.",
        ),
        (
            m("rp-new", "pol"),
            "rp-new",
            "PMS_PMP_016",
            "Partner is not active.",
        ),
        (
            m("dev1", "pol"),
            "dev1",
            "PMS_PRT_047",
            "Partner is not mapped to policy group",
        ),
        (
            m("rp1", "draft"),
            "rp1",
            "PMS_PRT_073",
            "Policy not exists.",
        ),
        (
            m("rp1", "nothing"),
            "rp1",
            "PMS_PRT_073",
            "Policy not exists.",
        ),
        (
            m("rp1", "other"),
            "rp1",
            "PMS_PRT_098",
            "Given policy doesn't exists under partner's policy group.",
        ),
    ] {
        let path = format!("/v1/partnermanager/partners/{partner}/policy/map");
        let body = json!({ "policyName": policy, "useCaseDescription": "use" });
        let r = unchanged!(
            app,
            app.call("POST", &path, user, AUTH_PARTNER, Some(body))
                .await
        );
        r.assert_error(code, message);
    }
    let key = app.request_mapping("rp1", "pol").await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    let r = unchanged!(app, app.request_mapping("rp1", "pol").await);
    r.assert_error(
        "PMS_PRT_053",
        "This policy is already pending for approval against your partner ID.",
    );
    decide(&app, &key, "Approved").await.ok();
    let r = unchanged!(app, app.request_mapping("rp1", "pol").await);
    r.assert_error(
        "PMS_PRT_060",
        "This policy has already been approved against your partner ID.",
    );
}

#[tokio::test]
async fn expired_policy_cannot_be_requested_or_approved() {
    let app = spawn_with(|c| c.policy.validity_years = 1).await;
    ready(&app).await;
    let key = app.request_mapping("rp1", "pol").await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(chrono::Duration::days(800));
    let r = unchanged!(app, decide(&app, &key, "Approved").await);
    r.assert_error("PMS_PMP_018", "Partner policy got expired.");
    // a rejection of the same request still works (departure B12)
    assert_eq!(
        decide(&app, &key, "Rejected").await.ok(),
        &json!("Policy mapping rejected successfully")
    );
    let r = unchanged!(app, app.request_mapping("rp1", "pol").await);
    r.assert_error("PMS_PMP_018", "Policy expired.");
}

#[tokio::test]
async fn inactive_group_blocks_request() {
    let app = spawn_app().await;
    let (g, p) = ready(&app).await;
    // a group can only be deactivated once it has no active policy: deactivate the policy first
    let t = app.token("pm1", POLICY_MANAGER);
    app.send(
        "PATCH",
        &format!("/v1/policymanager/policies/{p}"),
        Some(&t),
        Some(&envelope_v2(
            "mosip.pms.deactivate.policy.patch",
            json!({ "status": "De-Activate" }),
        )),
    )
    .await
    .ok();
    app.send(
        "PATCH",
        &format!("/v1/policymanager/policies/group/{g}"),
        Some(&t),
        Some(&envelope_v2(
            "mosip.pms.deactivate.policy.group.patch",
            json!({ "status": "De-Activate" }),
        )),
    )
    .await
    .ok();
    let r = unchanged!(app, app.request_mapping("rp1", "pol").await);
    r.assert_error("PMS_PRT_073", "Policy not exists.");
}

#[tokio::test]
async fn decisions_checks_in_order() {
    let app = spawn_app().await;
    ready(&app).await;
    let r = unchanged!(app, decide(&app, "no-such-key", "Approved").await);
    r.assert_error("PMS_PMP_007", "Partner api key does not exist");
    let key = app.request_mapping("rp1", "pol").await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    let r = unchanged!(app, decide(&app, &key, "Maybe").await);
    r.assert_error("PMS_PM_045", "Status should be either Approved or Rejected");
    let r = unchanged!(app, decide(&app, &key, "").await);
    r.assert_error(
        "PMS_COR_001",
        "Invalid request parameter - value is empty or null :request.status",
    );
    assert_eq!(
        decide(&app, &key, "approved").await.ok(),
        &json!("Policy mapping approved successfully")
    );
    let r = unchanged!(app, decide(&app, &key, "Rejected").await);
    r.assert_error("PMS_PM_034", "Policy request already approved.");

    app.published_policy_in("g", "pol2").await;
    let key2 = app.request_mapping("rp1", "pol2").await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&app, &key2, "Rejected").await.ok();
    let r = unchanged!(app, decide(&app, &key2, "Approved").await);
    r.assert_error("PMS_PM_035", "Policy request already rejected.");
    // a rejected request does not block a new one
    app.request_mapping("rp1", "pol2").await.ok();
}

#[tokio::test]
async fn list_pages_sorts_filters_and_scopes_to_the_owner() {
    let app = spawn_app().await;
    ready(&app).await;
    app.register_partner("rp2", "g").await.ok();
    app.activate_partner("rp2").await;
    for name in ["p_a", "p%b", "pol"] {
        if name != "pol" {
            app.published_policy_in("g", name).await;
        }
        app.request_mapping("rp1", name).await.ok();
        app.clock.advance(chrono::Duration::seconds(1));
    }
    app.request_mapping("rp2", "pol").await.ok();
    let list = |q: &'static str, user: &'static str, roles: &'static [&'static str]| {
        let app = &app;
        async move {
            app.get(
                &format!("/v1/partnermanager/partner-policy-requests{q}"),
                user,
                roles,
            )
            .await
        }
    };
    let r = list("", "admin1", ADMIN).await;
    assert_eq!(
        r.body["id"],
        "mosip.pms.all.partner.policy.mapping.requests.get"
    );
    assert_eq!(r.ok()["totalResults"], 4);
    let r = list("", "rp1", AUTH_PARTNER).await;
    assert_eq!(r.ok()["totalResults"], 3);
    // newest first by default
    assert_eq!(r.ok()["data"][0]["policyName"], "pol");
    let r = list(
        "?sortFieldName=policyName&sortType=asc&pageNo=0&pageSize=2",
        "rp1",
        AUTH_PARTNER,
    )
    .await;
    let page = r.ok();
    assert_eq!(
        (
            page["pageNo"].as_u64(),
            page["pageSize"].as_u64(),
            page["totalResults"].as_u64()
        ),
        (Some(0), Some(2), Some(3))
    );
    assert_eq!(page["data"][0]["policyName"], "p%b");
    assert_eq!(page["data"][1]["policyName"], "p_a");
    // filters are literal, case-insensitive substrings
    let r = list("?policyName=P%25", "rp1", AUTH_PARTNER).await;
    assert_eq!(r.ok()["totalResults"], 1);
    let r = list("?pageNo=5&pageSize=2", "rp1", AUTH_PARTNER).await;
    assert_eq!(
        r.ok(),
        &json!({ "pageNo": 0, "pageSize": 0, "totalResults": 0, "data": [] })
    );
    for (q, code, message) in [
        ("?sortFieldName=policyName", "PMS_PS_ERROR_007", "Invalid Sorting request: 'sortType' and 'sortFieldName' must be specified together."),
        ("?pageNo=1", "PMS_PS_ERROR_006", "Invalid pagination request: 'pageNo' and 'pageSize' must be specified together."),
        ("?sortFieldName=policyName&sortType=ASC", "PMS_PS_ERROR_008", "Please provide pagination parameters ('pageNo' and 'pageSize') when requesting sorted data."),
        ("?sortFieldName=bogus&sortType=ASC&pageNo=0&pageSize=1", "PMS_PRT_357", "Invalid sort field bogus"),
        ("?sortFieldName=policyName&sortType=up&pageNo=0&pageSize=1", "PMS_PRT_358", "Sort type up is not supported"),
        ("?pageNo=-1&pageSize=1", "PMS_PRT_360", "Invalid Page No"),
        ("?pageNo=0&pageSize=1001", "PMS_PRT_361", "Invalid page size"),
    ] {
        let r = list(q, "admin1", ADMIN).await;
        r.assert_error(code, message);
        assert_eq!(r.body["id"], "mosip.pms.all.partner.policy.mapping.requests.get");
    }
    list("", "stranger", AUTH_PARTNER)
        .await
        .assert_error("PMS_CERTIFICATE_ERROR_002", "User Id does not exists.");
}

/// §4.4's ownership checks apply to every owned partner that is not a device or FTM provider:
/// an owned partner without a policy group stops the list. (A blank id and a missing group
/// cannot be stored: ids are checked at registration, groups are foreign keys.)
#[tokio::test]
async fn list_refuses_an_owned_partner_without_a_policy_group() {
    let app = spawn_app().await;
    ready(&app).await;
    for (id, ty) in [("dev9", "Device_Provider"), ("sdk9", "SDK_Partner")] {
        app.call(
            "POST",
            "/v1/partnermanager/partners",
            "admin1",
            ADMIN,
            Some(
                json!({ "partnerId": id, "organizationName": "o", "address": "a",
                         "contactNumber": "1", "emailId": format!("{id}@x.org"),
                         "partnerType": ty }),
            ),
        )
        .await
        .ok();
    }
    let list = |user: &'static str| {
        let app = &app;
        async move {
            app.get(
                "/v1/partnermanager/partner-policy-requests",
                user,
                AUTH_PARTNER,
            )
            .await
        }
    };
    // a device provider without a group is exempt
    assert_eq!(list("dev9").await.ok()["totalResults"], 0);
    let r = unchanged!(app, list("sdk9").await);
    r.assert_error("PMS_POLICY_ERROR_005", "Policy Group Id is empty.");
    assert_eq!(
        r.body["id"],
        "mosip.pms.all.partner.policy.mapping.requests.get"
    );
    // an admin is not an owner, so no ownership check applies
    assert_eq!(list_as_admin(&app).await, 0);
}

async fn list_as_admin(app: &TestApp) -> u64 {
    app.get(
        "/v1/partnermanager/partner-policy-requests",
        "admin1",
        ADMIN,
    )
    .await
    .ok()["totalResults"]
        .as_u64()
        .unwrap()
}
