//! Partners (policies-and-partners.md §3).

use crate::helpers::*;
use crate::unchanged;
use serde_json::{json, Value};

const PARTNERS: &str = "/v1/partnermanager/partners";

fn registration(id: &str, email: &str) -> Value {
    json!({ "partnerId": id, "policyGroup": "g", "organizationName": "Health Ltd", "address": "12 Main St",
            "contactNumber": "9876543210", "emailId": email, "partnerType": "auth_partner" })
}

#[tokio::test]
async fn register_read_activate_deactivate() {
    let app = spawn_app().await;
    app.create_group("g").await;
    let r = app
        .call(
            "POST",
            PARTNERS,
            "rp1",
            AUTH_PARTNER,
            Some(registration("rp1", "a@b.org")),
        )
        .await;
    assert_eq!(
        r.ok(),
        &json!({ "partnerId": "rp1", "status": "InProgress" })
    );
    let r = app
        .get(&format!("{PARTNERS}/rp1"), "rp1", AUTH_PARTNER)
        .await;
    assert_eq!(
        r.ok(),
        &json!({ "partnerID": "rp1", "status": "De-active", "organizationName": "Health Ltd", "contactNumber": "9876543210",
                 "emailId": "a@b.org", "address": "12 Main St", "partnerType": "Auth_Partner", "policyGroup": "g",
                 "isActive": false, "approvalStatus": "InProgress" })
    );
    let path = format!("{PARTNERS}/rp1");
    let patch = |s: &str| {
        app.call(
            "PATCH",
            &path,
            "admin1",
            ADMIN,
            Some(json!({ "status": s })),
        )
    };
    assert_eq!(
        patch("active").await.ok()["message"],
        "Partner activated successfully"
    );
    assert_eq!(
        app.get(&format!("{PARTNERS}/rp1"), "rp1", AUTH_PARTNER)
            .await
            .ok()["status"],
        "active"
    );
    // activating an active partner changes nothing
    let r = unchanged!(app, patch("Active").await);
    assert_eq!(r.ok()["message"], "Partner activated successfully");
    assert_eq!(
        patch("De-Active").await.ok()["message"],
        "Partner de-activated successfully"
    );
    let r = unchanged!(app, patch("Active").await);
    r.assert_error(
        "PMS_PM_063",
        "The selected partner has already been deactivated.",
    );
    let r = unchanged!(app, patch("On").await);
    r.assert_error("PMS_PM_058", "Status should be either Active or De-Active");
    let r = unchanged!(
        app,
        app.call(
            "PATCH",
            &format!("{PARTNERS}/nobody"),
            "admin1",
            ADMIN,
            Some(json!({ "status": "Active" }))
        )
        .await
    );
    r.assert_error("PMS_PMP_005", "Partner ID does not exist");
}

#[tokio::test]
async fn deactivating_a_registered_partner_changes_nothing() {
    let app = spawn_app().await;
    app.create_group("g").await;
    app.call(
        "POST",
        PARTNERS,
        "rp1",
        AUTH_PARTNER,
        Some(registration("rp1", "a@b.org")),
    )
    .await
    .ok();
    let r = unchanged!(
        app,
        app.call(
            "PATCH",
            &format!("{PARTNERS}/rp1"),
            "admin1",
            ADMIN,
            Some(json!({ "status": "De-Active" }))
        )
        .await
    );
    assert_eq!(r.ok()["message"], "Partner de-activated successfully");
}

#[tokio::test]
async fn registration_checks_in_order() {
    let app = spawn_app().await;
    app.create_group("g").await;
    let inactive = app.create_group("old").await;
    app.send(
        "PATCH",
        &format!("/v1/policymanager/policies/group/{inactive}"),
        Some(&app.token("pm1", POLICY_MANAGER)),
        Some(&envelope_v2(
            "mosip.pms.deactivate.policy.group.patch",
            json!({ "status": "De-Activate" }),
        )),
    )
    .await
    .ok();
    app.call(
        "POST",
        PARTNERS,
        "rp1",
        AUTH_PARTNER,
        Some(registration("rp1", "taken@b.org")),
    )
    .await
    .ok();

    let cases: Vec<(&str, Value, Option<&str>, &str, &str)> = vec![
        (
            "rp2",
            registration("rp2", "nope"),
            None,
            "PMS_PRT_012",
            "Invalid emailId.",
        ),
        (
            "rp 2",
            registration("rp 2", "x@b.org"),
            None,
            "PMS_PRT_066",
            "PartnerId should not have any spaces",
        ),
        (
            "a",
            registration(&"a".repeat(37), "x@b.org"),
            None,
            "PMS_PRT_052",
            "PartnerId max length should be 36",
        ),
        (
            "someone",
            registration("rp2", "x@b.org"),
            None,
            "PMS_PRT_055",
            "User not authorized.",
        ),
        (
            "rp2",
            registration("rp2", "TAKEN@b.org"),
            None,
            "PMS_PRT_011",
            "Email is already exists.",
        ),
        (
            "rp2",
            {
                let mut v = registration("rp2", "x@b.org");
                v["langCode"] = json!("fra");
                v
            },
            None,
            "PMS_PRT_056",
            "Given langCode is not supported",
        ),
        (
            "rp1",
            registration("rp1", "x@b.org"),
            None,
            "PMS_PRT_051",
            "A Partner is already registered with the same Id",
        ),
        (
            "rp2",
            {
                let mut v = registration("rp2", "x@b.org");
                v["partnerType"] = json!("Alien");
                v
            },
            None,
            "PMS_PRT_010",
            "Partner Type does not exist",
        ),
        (
            "rp2",
            {
                let mut v = registration("rp2", "x@b.org");
                v["policyGroup"] = json!("");
                v
            },
            None,
            "PMS_PRT_108",
            "Policy group is Mandatory for Auth_Partner",
        ),
        (
            "rp2",
            {
                let mut v = registration("rp2", "x@b.org");
                v["policyGroup"] = json!("missing");
                v
            },
            None,
            "PMS_PRT_002",
            "Policy group does not exist",
        ),
        (
            "rp2",
            {
                let mut v = registration("rp2", "x@b.org");
                v["policyGroup"] = json!("old");
                v
            },
            None,
            "PMS_PMP_023",
            "Policy group is not active.",
        ),
    ];
    for (user, body, _, code, message) in cases {
        let r = unchanged!(
            app,
            app.call("POST", PARTNERS, user, AUTH_PARTNER, Some(body))
                .await
        );
        r.assert_error(code, message);
    }
    // an admin may register any id; a type without group needs none
    let mut body = registration("dev-1", "dev@b.org");
    body["partnerType"] = json!("Device_Provider");
    body["policyGroup"] = Value::Null;
    app.call("POST", PARTNERS, "admin1", ADMIN, Some(body))
        .await
        .ok();
}

#[tokio::test]
async fn registration_field_errors_are_all_reported() {
    let app = spawn_app().await;
    let body = json!({ "partnerId": "", "organizationName": "x".repeat(129), "address": "a", "contactNumber": "1".repeat(17),
                       "emailId": "a@b.org", "partnerType": null });
    let r = unchanged!(
        app,
        app.call("POST", PARTNERS, "rp1", AUTH_PARTNER, Some(body))
            .await
    );
    assert_eq!(
        r.messages(),
        vec![
            "Invalid request parameter - value is empty or null :request.partnerId",
            "Invalid request parameter - Length should be between 1 and 128 chars :request.organizationName",
            "Invalid request parameter - Length should be between 1 and 16 chars :request.contactNumber",
            "Invalid request parameter - value is empty or null :request.partnerType",
        ]
    );
}

#[tokio::test]
async fn reading_a_partner_checks_ownership() {
    let app = spawn_app().await;
    app.create_group("g").await;
    app.call(
        "POST",
        PARTNERS,
        "rp1",
        AUTH_PARTNER,
        Some(registration("rp1", "a@b.org")),
    )
    .await
    .ok();
    app.get(&format!("{PARTNERS}/nobody"), "rp1", AUTH_PARTNER)
        .await
        .assert_error("PMS_PRT_005", "Partner does not exist");
    app.get(&format!("{PARTNERS}/rp1"), "rp2", AUTH_PARTNER)
        .await
        .assert_error("PMS_PRT_055", "User not authorized.");
    app.get(&format!("{PARTNERS}/rp1"), "admin1", ADMIN)
        .await
        .ok();
    app.get(&format!("{PARTNERS}/rp1"), "resident", &["RESIDENT"])
        .await
        .ok();
}
