//! OIDC clients (api-oidc-clients.md): both families, every check in order, field rules, update
//! semantics, ownership, lists, the feature switch and a property test on hostile JSON.

use crate::helpers::*;
use crate::unchanged;
use base64::Engine;
use proptest::strategy::{Strategy, ValueTree};
use serde_json::{json, Value};

const OIDC: &str = "/v1/partnermanager/oidc/client";
const OAUTH: &str = "/v1/partnermanager/oauth/client";

/// The key of client-id.md §4.2 and its id.
const EC_ID: &str = "BgUSSeaEb9jpXBRVCC4uRJ5QOzy3EbAPSLO0nO0VV3w";
fn ec_vector() -> Value {
    json!({ "kty": "EC", "crv": "P-256", "x": "D_d95uQX3nhDefU4NSsrQT87O65aC73U71zesD4bkvk",
            "y": "6nSPXQO83XJBWzRWkZdcH3Qtpojc6qTffzV0N3S-atk" })
}

/// The key of client-id.md §4.1 and its id.
const RSA_ID: &str = "PcdI1nGbDbhvVj_h86tQGtoF52brbA8RqqYJ7o1oRVI";
fn rsa_vector() -> Value {
    json!({"kty":"RSA","e":"AQAB","use":"sig","kid":"1bbdc9de-c24f-4801-b6b3-691ac07641af","alg":"RS256","n":"wXGQA574CU-WTWPILd4S3_1sJf0Yof0kwMeNctXc1thQo70Ljfn9f4igpRe7f8qNs_W6dLuLWemFhGJBQBQ7vvickECKNJfo_EzSD_yyPCg7k_AGbTWTkuoObHrpilwJGyKVSkOIujH_FqHIVkwkVXjWc25Lsb8Gq4nAHNQEqqgaYPLEi5evCR6S0FzcXTPuRh9zH-cM0Onjv4orrfYpEr61HcRp5MXL55b7yBoIYlXD8NfalcgdrWzp4VZHvQ8yT9G5eaf27XUn6ZBeBf7VnELcKFTyw1pK2wqoOxRBc8Y1wO6rEy8PlCU6wD-mbIzcjG1wUfnbgvJOM4A5G41quQ"})
}

/// A fresh P-256 public key as a JWK.
fn fresh_key() -> Value {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap()
}

/// The example document of policies-and-partners.md §2.2 (MOSIP's eSignet sample policy).
fn mosip_policy() -> Value {
    json!({
        "authTokenType": "policy",
        "allowedAuthTypes": [
            { "authType": "bio", "authSubType": "FINGER", "mandatory": false },
            { "authType": "bio", "authSubType": "IRIS", "mandatory": false },
            { "authType": "bio", "authSubType": "FACE", "mandatory": false },
            { "authType": "otp", "authSubType": "", "mandatory": false },
            { "authType": "otp-request", "authSubType": "", "mandatory": false },
            { "authType": "demo", "authSubType": "", "mandatory": false },
            { "authType": "kyc", "authSubType": "", "mandatory": false },
            { "authType": "kycauth", "authSubType": "", "mandatory": false },
            { "authType": "kycexchange", "authSubType": "", "mandatory": false },
            { "authType": "wla", "authSubType": "", "mandatory": false },
            { "authType": "pwd", "authSubType": "", "mandatory": false }
        ],
        "allowedKycAttributes": [
            { "attributeName": "fullName" }, { "attributeName": "gender" }, { "attributeName": "phone" },
            { "attributeName": "email" }, { "attributeName": "dateOfBirth" }, { "attributeName": "city" },
            { "attributeName": "face" }, { "attributeName": "addressLine1" }
        ]
    })
}

const CLAIMS: &[&str] = &[
    "name",
    "address",
    "gender",
    "birthdate",
    "picture",
    "email",
    "phone_number",
];
const ACRS: &[&str] = &[
    "mosip:idp:acr:password",
    "mosip:idp:acr:generated-code",
    "mosip:idp:acr:linked-wallet",
    "mosip:idp:acr:biometrics",
];

/// A published policy of `policy_type` with `doc` in group `group`: its id.
async fn policy_with(
    app: &TestApp,
    group: &str,
    name: &str,
    policy_type: &str,
    doc: Value,
) -> String {
    let r = app
        .call(
            "POST",
            "/v1/policymanager/policies",
            "pm1",
            POLICY_MANAGER,
            Some(
                json!({ "policyGroupName": group, "policyType": policy_type, "name": name,
                         "desc": format!("desc {name}"), "version": "1.0", "policies": doc }),
            ),
        )
        .await;
    let id = r.ok()["id"].as_str().unwrap().to_string();
    let got = app
        .get(
            &format!("/v1/policymanager/policies/{id}"),
            "pm1",
            POLICY_MANAGER,
        )
        .await;
    let g = got.ok()["policyGroupId"].as_str().unwrap().to_string();
    app.publish(&id, &g).await;
    id
}

async fn approve(app: &TestApp, partner: &str, policy_name: &str) {
    let key = app.request_mapping(partner, policy_name).await.ok()["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    app.call(
        "PUT",
        &format!("/v1/partnermanager/partners/policy/{key}"),
        "admin1",
        ADMIN,
        Some(json!({ "status": "Approved" })),
    )
    .await
    .ok();
}

/// Group `g`, the MOSIP sample policy `pol` published in it, active auth partner `rp1` with an
/// approved mapping to it: the policy id.
async fn ready(app: &TestApp) -> String {
    app.create_group("g").await;
    let pol = policy_with(app, "g", "pol", "Auth", mosip_policy()).await;
    app.register_partner("rp1", "g").await.ok();
    app.activate_partner("rp1").await;
    approve(app, "rp1", "pol").await;
    pol
}

fn create_body(policy_id: &str, key: Value) -> Value {
    json!({
        "name": "Health Services Portal", "policyId": policy_id, "publicKey": key,
        "authPartnerId": "rp1", "logoUri": "https://health-services.com/logo.png",
        "redirectUris": ["https://health-services.com/userprofile", "http://localhost:5000/**"],
        "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"]
    })
}

fn oauth_body(policy_id: &str, key: Value) -> Value {
    let mut b = create_body(policy_id, key);
    b["clientNameLangMap"] =
        json!({ "eng": "Health Services Portal", "fra": "Portail des services de santé" });
    b
}

fn update_body(status: &str) -> Value {
    json!({
        "logoUri": "https://health-services.com/logo-v2.png",
        "redirectUris": ["https://health-services.com/userprofile", "https://health-services.com/callback/*"],
        "status": status, "grantTypes": ["authorization_code"], "clientName": "Health Services",
        "clientAuthMethods": ["private_key_jwt"]
    })
}

async fn create(app: &TestApp, path: &str, user: &str, roles: &[&str], body: Value) -> Resp {
    app.call("POST", path, user, roles, Some(body)).await
}

async fn update(app: &TestApp, path: &str, id: &str, user: &str, body: Value) -> Resp {
    let roles = if user == "admin1" {
        ADMIN
    } else {
        AUTH_PARTNER
    };
    app.call("PUT", &format!("{path}/{id}"), user, roles, Some(body))
        .await
}

async fn read(app: &TestApp, path: &str, id: &str, user: &str) -> Resp {
    let roles = if user == "admin1" {
        ADMIN
    } else {
        AUTH_PARTNER
    };
    app.get(&format!("{path}/{id}"), user, roles).await
}

async fn audit_actions(app: &TestApp, client_id: &str) -> Vec<String> {
    app.db
        .strings(&format!(
            "SELECT action FROM audit_log WHERE entity_type = 'OIDC_CLIENT' AND entity_id = '{client_id}' ORDER BY id"
        ))
        .await
}

#[tokio::test]
async fn legacy_create_derives_the_id_and_reads_back_through_both_families() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let mut key = ec_vector();
    key["kid"] = json!("ec-key-1");
    key["use"] = json!("sig");
    key["alg"] = json!("ES256");
    key["x5t"] = json!("dropped");
    let r = create(&app, OIDC, "rp1", AUTH_PARTNER, create_body(&pol, key)).await;
    assert_eq!(r.ok(), &json!({ "clientId": EC_ID, "status": "ACTIVE" }));
    assert_eq!(r.body["id"], "mosip.test");

    let r = read(&app, OIDC, EC_ID, "rp1").await;
    let expected = json!({
        "id": EC_ID, "name": "Health Services Portal", "clientNameLangMap": {}, "policyId": pol,
        "policyName": "pol", "relyingPartyId": "rp1", "logoUri": "https://health-services.com/logo.png",
        "redirectUris": ["https://health-services.com/userprofile", "http://localhost:5000/**"],
        "publicKey": "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"D_d95uQX3nhDefU4NSsrQT87O65aC73U71zesD4bkvk\",\"y\":\"6nSPXQO83XJBWzRWkZdcH3Qtpojc6qTffzV0N3S-atk\",\"kid\":\"ec-key-1\",\"use\":\"sig\",\"alg\":\"ES256\"}",
        "claims": CLAIMS, "acrValues": ACRS, "status": "ACTIVE",
        "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"],
        "createdDateTime": now_str(&app), "updatedDateTime": null,
        "delivery": {
            "esignet": { "state": "NONE", "pendingItems": 0, "attempts": 0, "lastAttemptAt": null, "nextAttemptAt": null, "lastError": null },
            "websub": { "state": "NONE", "pendingItems": 0, "attempts": 0, "lastAttemptAt": null, "nextAttemptAt": null, "lastError": null }
        },
    });
    assert_eq!(r.ok(), &expected);
    assert!(r.body["id"].is_null());
    assert_eq!(read(&app, OAUTH, EC_ID, "rp1").await.ok(), &expected);
    assert_eq!(read(&app, OAUTH, EC_ID, "admin1").await.ok(), &expected);
    assert_eq!(audit_actions(&app, EC_ID).await, vec!["CREATE_CLIENT"]);
}

#[tokio::test]
async fn oauth_create_keeps_the_name_map_apart_from_the_name() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let r = create(
        &app,
        OAUTH,
        "rp1",
        AUTH_PARTNER,
        oauth_body(&pol, rsa_vector()),
    )
    .await;
    assert_eq!(r.ok()["clientId"], RSA_ID);
    let got = read(&app, OIDC, RSA_ID, "rp1").await;
    let c = got.ok();
    assert_eq!(c["name"], "Health Services Portal");
    assert_eq!(
        c["clientNameLangMap"],
        json!({ "eng": "Health Services Portal", "fra": "Portail des services de santé" })
    );
    assert_eq!(c["claims"], json!(CLAIMS));
    assert_eq!(c["acrValues"], json!(ACRS));
    // the stored key is the normalised public JWK only
    let stored: Value = serde_json::from_str(c["publicKey"].as_str().unwrap()).unwrap();
    assert_eq!(
        stored.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["kty", "n", "e", "kid", "use", "alg"]
    );
}

#[tokio::test]
async fn the_same_key_again_is_a_duplicate_whatever_its_kid_use_or_alg() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    create(
        &app,
        OIDC,
        "rp1",
        AUTH_PARTNER,
        create_body(&pol, rsa_vector()),
    )
    .await
    .ok();
    let mut variants = Vec::new();
    for (member, value) in [
        ("kid", json!("another")),
        ("use", json!("sig")),
        ("alg", json!("PS256")),
    ] {
        let mut k = rsa_vector();
        k[member] = value;
        variants.push(k);
    }
    let mut bare = rsa_vector();
    for m in ["kid", "use", "alg"] {
        bare.as_object_mut().unwrap().remove(m);
    }
    variants.push(bare);
    for k in variants {
        for path in [OIDC, OAUTH] {
            let r = unchanged!(
                app,
                create(&app, path, "rp1", AUTH_PARTNER, oauth_body(&pol, k.clone())).await
            );
            r.assert_error("PMS_ESI_001", "Client public key already exists.");
        }
    }
}

#[tokio::test]
async fn concurrent_creates_with_one_key_give_one_client_and_one_duplicate() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    for _ in 0..5 {
        let key = fresh_key();
        let (a, b) = tokio::join!(
            create(
                &app,
                OIDC,
                "rp1",
                AUTH_PARTNER,
                create_body(&pol, key.clone())
            ),
            create(
                &app,
                OAUTH,
                "rp1",
                AUTH_PARTNER,
                oauth_body(&pol, key.clone())
            ),
        );
        let mut codes: Vec<Vec<String>> = vec![a.codes(), b.codes()];
        codes.sort();
        assert_eq!(codes, vec![vec![], vec!["PMS_ESI_001".to_string()]]);
        assert_eq!((a.status, b.status), (200, 200));
    }
}

/// Every business check of §4.2 in order, each with its code and message and no change stored.
#[tokio::test]
async fn create_checks_in_order() {
    let app = spawn_with(|c| {
        c.policy.allowed_policy_types = pms::config::List(vec!["Auth".into(), "DataShare".into()]);
    })
    .await;
    let pol = ready(&app).await;
    // partners for the failure cases
    app.register_partner("rp2", "g").await.ok();
    app.activate_partner("rp2").await;
    app.register_partner("rp-new", "g").await.ok();
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
    // policies for the failure cases
    let datashare = policy_with(&app, "g", "ds", "DataShare", mosip_policy()).await;
    let draft = app.create_policy("g", "draft").await;
    let unmapped = policy_with(&app, "g", "unmapped", "Auth", mosip_policy()).await;
    let pending = policy_with(&app, "g", "pending", "Auth", mosip_policy()).await;
    app.request_mapping("rp1", "pending").await.ok();
    let mut photo = mosip_policy();
    photo["allowedKycAttributes"] = json!([{ "attributeName": "photo" }]);
    photo["allowedAuthTypes"][0]["mandatory"] = json!(true);
    let no_claims = policy_with(&app, "g", "no-claims", "Auth", photo).await;
    approve(&app, "rp1", "no-claims").await;
    let mut mandatory = mosip_policy();
    mandatory["allowedAuthTypes"] = json!([
        { "authType": "otp", "authSubType": "", "mandatory": true },
        { "authType": "demo", "authSubType": "", "mandatory": false }
    ]);
    let mandatory = policy_with(&app, "g", "mandatory", "Auth", mandatory).await;
    approve(&app, "rp1", "mandatory").await;
    let mut no_acr = mosip_policy();
    no_acr["allowedAuthTypes"] = json!([
        { "authType": "demo", "authSubType": "", "mandatory": false },
        { "authType": "kyc", "authSubType": "", "mandatory": false }
    ]);
    let no_acr = policy_with(&app, "g", "no-acr", "Auth", no_acr).await;
    approve(&app, "rp1", "no-acr").await;
    // the duplicate for check 2
    create(&app, OIDC, "admin1", ADMIN, create_body(&pol, ec_vector()))
        .await
        .ok();

    let mut private = rsa_vector();
    private["d"] = json!("AQAB");
    let body = |partner: &str, policy: &str, key: Value| {
        let mut b = create_body(policy, key);
        b["authPartnerId"] = json!(partner);
        b
    };
    let cases: Vec<(&str, &[&str], Value, &str, String)> = vec![
        ("rp1", AUTH_PARTNER, body("rp1", &pol, private), "PMS_ESI_007", "Failed to process the Public Key: private key member d is not accepted".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &pol, ec_vector()), "PMS_ESI_001", "Client public key already exists.".into()),
        ("stranger", AUTH_PARTNER, body("rp1", &pol, fresh_key()), "PMS_CERTIFICATE_ERROR_002", "User Id does not exists.".into()),
        ("rp2", AUTH_PARTNER, body("rp1", &pol, fresh_key()), "PMS_POLICY_ERROR_009", "The given partner ID does not belong to the user.So unable to create OIDC client".into()),
        ("admin1", ADMIN, body("ghost", &pol, fresh_key()), "PMS_PRT_058", "AuthPartner doesn't exists with this Id - ghost.".into()),
        ("dev1", AUTH_PARTNER, body("dev1", &pol, fresh_key()), "PMS_PRT_059", "Only Auth_partner can Create OIDC Client. Device_Provider is not allowed to create OIDC Client.".into()),
        ("rp-new", AUTH_PARTNER, body("rp-new", &pol, fresh_key()), "PMS_PMP_016", "Partner is not active.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", "no-such-policy", fresh_key()), "PMS_PRT_073", "Policy not exists.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &datashare, fresh_key()), "PMS_PRT_057", "Policy Type Mismatch. Only Auth policy can be used to create OIDC Client.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &draft, fresh_key()), "PMS_PMP_019", "Policy is not active.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &unmapped, fresh_key()), "PMS_PRT_061", "Partner policy mapping not exists.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &pending, fresh_key()), "PMS_ESI_002", "Partner policy mapping is not approved. Please check mapping status.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &no_claims, fresh_key()), "PMS_ESI_005", "Partner has no user claims".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &mandatory, fresh_key()), "PMS_ESI_003", "Policy having mandatory auths. So client can't be created for the same.".into()),
        ("rp1", AUTH_PARTNER, body("rp1", &no_acr, fresh_key()), "PMS_ESI_006", "Partner has no Authentication Context Refrences".into()),
    ];
    for (user, roles, b, code, message) in cases {
        let r = unchanged!(app, create(&app, OIDC, user, roles, b).await);
        r.assert_error(code, &message);
    }

    // check 11: before the policy's validity starts (valid_from is its creation time)
    app.clock.advance(chrono::Duration::days(-1));
    let r = unchanged!(
        app,
        create(
            &app,
            OIDC,
            "rp1",
            AUTH_PARTNER,
            body("rp1", &pol, fresh_key())
        )
        .await
    );
    r.assert_error("PMS_PMP_018", "Policy expired.");
    app.clock.advance(chrono::Duration::days(1));

    // check 12: the API cannot deactivate a group with a published policy; data can still say so
    app.sql("UPDATE policy_group SET is_active = false WHERE name = 'g'")
        .await;
    let r = unchanged!(
        app,
        create(
            &app,
            OIDC,
            "rp1",
            AUTH_PARTNER,
            body("rp1", &pol, fresh_key())
        )
        .await
    );
    r.assert_error("PMS_PMP_023", "Policy group is not active.");
}

#[tokio::test]
async fn key_rejections_name_the_reason() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let mut p384 = ec_vector();
    p384["crv"] = json!("P-384");
    let mut es_on_rsa = rsa_vector();
    es_on_rsa["alg"] = json!("ES256");
    // 128 bytes with the top bit set: exactly 1024 bits
    let short_n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xC1u8; 128]);
    let short_rsa = json!({ "kty": "RSA", "e": "AQAB", "n": short_n });
    for (key, reason) in [
        (
            json!({ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }),
            "unsupported key type OKP; only RSA and EC P-256 are accepted",
        ),
        (p384, "unsupported curve P-384; only P-256 is accepted"),
        (es_on_rsa, "alg ES256 is not allowed for kty RSA"),
        (
            short_rsa,
            "RSA modulus has 1024 bits; at least 2048 are required",
        ),
        (json!({ "crv": "P-256" }), "kty is missing"),
    ] {
        let r = unchanged!(
            app,
            create(&app, OIDC, "rp1", AUTH_PARTNER, create_body(&pol, key)).await
        );
        r.assert_error(
            "PMS_ESI_007",
            &format!("Failed to process the Public Key: {reason}"),
        );
    }
}

/// The spec's example of a failing `/oauth/client` create: one entry per failing field, in
/// field order, eSignet-style codes where the spec says so.
#[tokio::test]
async fn create_field_failures_are_all_reported_in_field_order() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let mut b = oauth_body(&pol, fresh_key());
    b["name"] = json!("");
    b["redirectUris"] = json!(["$abcdefg"]);
    b["grantTypes"] = json!(["implicit"]);
    b["clientNameLangMap"] = json!({ "english": "x" });
    let r = unchanged!(app, create(&app, OAUTH, "rp1", AUTH_PARTNER, b).await);
    assert_eq!(
        r.body["errors"],
        json!([
            { "errorCode": "PMS_COR_001", "message": "Invalid request parameter - must not be blank :request.name" },
            { "errorCode": "invalid_redirect_uri", "message": "request.redirectUris[0]: invalid_redirect_uri" },
            { "errorCode": "invalid_grant_type", "message": "request.grantTypes[0]: invalid_grant_type" },
            { "errorCode": "invalid_language_code", "message": "request.clientNameLangMap[english]: invalid_language_code" }
        ])
    );
    assert!(r.body["response"].is_null());
}

#[tokio::test]
async fn each_field_rule_has_its_reason() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let long = |n: usize| "a".repeat(n);
    let cor = |reason: &str, path: &str| {
        (
            "PMS_COR_001".to_string(),
            format!("Invalid request parameter - {reason} :request.{path}"),
        )
    };
    let esi = |code: &str, path: &str| (code.to_string(), format!("request.{path}: {code}"));
    let many_uris: Vec<String> = (0..5)
        .map(|i| format!("https://rp.example.com/{}{i}", "p".repeat(400)))
        .collect();
    let cases: Vec<(&str, Value, (String, String))> = vec![
        ("name", json!(null), cor("must not be blank", "name")),
        (
            "name",
            json!(long(257)),
            cor("size must be between 1 and 256", "name"),
        ),
        (
            "name",
            json!(5),
            cor("invalid type, expected string", "name"),
        ),
        (
            "policyId",
            json!("   "),
            cor("must not be blank", "policyId"),
        ),
        (
            "policyId",
            json!(long(37)),
            cor("size must be between 1 and 36", "policyId"),
        ),
        (
            "publicKey",
            json!(null),
            cor("must not be empty", "publicKey"),
        ),
        (
            "publicKey",
            json!({}),
            cor("must not be empty", "publicKey"),
        ),
        (
            "publicKey",
            json!({ "kty": "EC", "x": null }),
            cor("must not be null", "publicKey[x]"),
        ),
        (
            "publicKey",
            json!("key"),
            cor("invalid type, expected object", "publicKey"),
        ),
        (
            "authPartnerId",
            json!(long(101)),
            cor("size must be between 1 and 100", "authPartnerId"),
        ),
        ("logoUri", json!(""), cor("must not be blank", "logoUri")),
        (
            "logoUri",
            json!("https//"),
            cor("must be a valid URL", "logoUri"),
        ),
        (
            "logoUri",
            json!("ftp://x.org/logo.png"),
            cor("must be a valid URL", "logoUri"),
        ),
        (
            "logoUri",
            json!(format!("https://x.org/{}", long(2040))),
            cor("size must be between 0 and 2048", "logoUri"),
        ),
        (
            "redirectUris",
            json!(null),
            cor("must not be null", "redirectUris"),
        ),
        (
            "redirectUris",
            json!([]),
            cor("size must be between 1 and 5", "redirectUris"),
        ),
        (
            "redirectUris",
            json!([
                "https://a.org/1",
                "https://a.org/2",
                "https://a.org/3",
                "https://a.org/4",
                "https://a.org/5",
                "https://a.org/6"
            ]),
            cor("size must be between 1 and 5", "redirectUris"),
        ),
        (
            "redirectUris",
            json!(["https://a.org/cb", " "]),
            cor("must not be blank", "redirectUris[1]"),
        ),
        (
            "redirectUris",
            json!(["https://a.org/cb", "https://rp.example.com/cb#top"]),
            esi("invalid_redirect_uri", "redirectUris[1]"),
        ),
        (
            "redirectUris",
            json!(["com.example.app:/oauth2redirect"]),
            esi("invalid_redirect_uri", "redirectUris[0]"),
        ),
        (
            "redirectUris",
            json!(["https://*.example.com/cb"]),
            esi("invalid_redirect_uri", "redirectUris[0]"),
        ),
        (
            "redirectUris",
            json!(["https://user@rp.example.com/cb"]),
            esi("invalid_redirect_uri", "redirectUris[0]"),
        ),
        (
            "redirectUris",
            json!(["https://rp.example.com//cb"]),
            esi("invalid_redirect_uri", "redirectUris[0]"),
        ),
        (
            "redirectUris",
            json!(many_uris),
            esi("invalid_redirect_uri", "redirectUris"),
        ),
        (
            "grantTypes",
            json!([""]),
            cor("must not be blank", "grantTypes[0]"),
        ),
        (
            "grantTypes",
            json!(["authorization_code", "AUTHORIZATION_CODE"]),
            esi("invalid_grant_type", "grantTypes[1]"),
        ),
        (
            "grantTypes",
            json!([]),
            cor("size must be between 1 and 3", "grantTypes"),
        ),
        (
            "clientAuthMethods",
            json!(["client_secret_basic"]),
            esi("invalid_client_auth", "clientAuthMethods[0]"),
        ),
        (
            "clientAuthMethods",
            json!("private_key_jwt"),
            cor("invalid type, expected list", "clientAuthMethods"),
        ),
        (
            "clientNameLangMap",
            json!(null),
            cor("must not be empty", "clientNameLangMap"),
        ),
        (
            "clientNameLangMap",
            json!({}),
            cor("must not be empty", "clientNameLangMap"),
        ),
        (
            "clientNameLangMap",
            json!({ "eng": "x", "ENG": "y" }),
            esi("invalid_language_code", "clientNameLangMap[ENG]"),
        ),
        (
            "clientNameLangMap",
            json!({ "ger": "x" }),
            esi("invalid_language_code", "clientNameLangMap[ger]"),
        ),
        (
            "clientNameLangMap",
            json!({ "eng": " " }),
            cor("must not be blank", "clientNameLangMap[eng]"),
        ),
        (
            "clientNameLangMap",
            json!({ "eng": long(51) }),
            esi("invalid_client_name_length", "clientNameLangMap[eng]"),
        ),
        (
            "clientNameLangMap",
            json!({ "eng": long(50), "fra": long(50), "deu": long(50), "spa": long(50), "ara": long(50), "hin": long(50), "zho": long(50), "jpn": long(50), "rus": long(50), "por": long(50) }),
            esi("invalid_client_name_length", "clientNameLangMap"),
        ),
    ];
    for (field, value, (code, message)) in cases {
        let mut b = oauth_body(&pol, fresh_key());
        b[field] = value.clone();
        let r = unchanged!(app, create(&app, OAUTH, "rp1", AUTH_PARTNER, b).await);
        assert_eq!(
            (r.codes(), r.messages()),
            (vec![code], vec![message]),
            "{field} = {value}"
        );
    }
    // the accepted forms of the §3.4 table and a valid map at the limit
    let mut b = oauth_body(&pol, fresh_key());
    b["redirectUris"] = json!([
        "https://health-services.com/userprofile",
        "http://localhost:5000/**",
        "io.mosip.residentapp://oauth",
        "https://rp.example.com/cb?tenant=1",
        "https://rp.example.com/callback/*"
    ]);
    b["clientNameLangMap"] = json!({ "eng": long(50), "fra": "Portail" });
    b["logoUri"] = json!("HTTPS://Example.org:8443/logo.png?v=1#x");
    create(&app, OAUTH, "rp1", AUTH_PARTNER, b).await.ok();
}

#[tokio::test]
async fn update_replaces_fields_and_writes_nothing_when_nothing_changes() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    create(
        &app,
        OAUTH,
        "rp1",
        AUTH_PARTNER,
        oauth_body(&pol, ec_vector()),
    )
    .await
    .ok();
    let before = read(&app, OIDC, EC_ID, "rp1").await.ok().clone();
    app.clock.advance(chrono::Duration::minutes(5));

    // /oauth replaces the whole map
    let mut b = update_body("ACTIVE");
    b["clientNameLangMap"] = json!({ "eng": "Health Services", "fra": "Services de santé" });
    let r = update(&app, OAUTH, EC_ID, "rp1", b.clone()).await;
    assert_eq!(r.ok(), &json!({ "clientId": EC_ID, "status": "ACTIVE" }));
    let after = read(&app, OIDC, EC_ID, "rp1").await.ok().clone();
    let mut expected = before.clone();
    for (k, v) in [
        ("name", json!("Health Services")),
        ("logoUri", json!("https://health-services.com/logo-v2.png")),
        ("redirectUris", b["redirectUris"].clone()),
        ("clientNameLangMap", b["clientNameLangMap"].clone()),
        ("updatedDateTime", json!(now_str(&app))),
    ] {
        expected[k] = v;
    }
    assert_eq!(after, expected);

    // the same request again changes nothing and writes nothing
    app.clock.advance(chrono::Duration::minutes(5));
    let r = unchanged!(app, update(&app, OAUTH, EC_ID, "rp1", b.clone()).await);
    assert_eq!(r.ok()["status"], "ACTIVE");

    // /oidc keeps the stored map
    let mut b2 = update_body("active");
    b2["clientName"] = json!("Renamed");
    update(&app, OIDC, EC_ID, "rp1", b2).await.ok();
    let c = read(&app, OAUTH, EC_ID, "rp1").await.ok().clone();
    assert_eq!(c["name"], "Renamed");
    assert_eq!(c["clientNameLangMap"], b["clientNameLangMap"]);
    // claims, ACR values, key, partner and policy never change
    for k in [
        "claims",
        "acrValues",
        "publicKey",
        "relyingPartyId",
        "policyId",
        "createdDateTime",
    ] {
        assert_eq!(c[k], before[k], "{k}");
    }
    assert_eq!(
        audit_actions(&app, EC_ID).await,
        vec!["CREATE_CLIENT", "UPDATE_CLIENT", "UPDATE_CLIENT"]
    );
}

#[tokio::test]
async fn deactivation_changes_only_the_status_and_is_final() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    create(
        &app,
        OIDC,
        "rp1",
        AUTH_PARTNER,
        create_body(&pol, ec_vector()),
    )
    .await
    .ok();
    let before = read(&app, OIDC, EC_ID, "rp1").await.ok().clone();
    app.clock.advance(chrono::Duration::minutes(1));
    let mut b = update_body("inactive");
    b["clientName"] = json!("Ignored Name");
    let r = update(&app, OIDC, EC_ID, "rp1", b).await;
    assert_eq!(r.ok(), &json!({ "clientId": EC_ID, "status": "INACTIVE" }));
    let after = read(&app, OIDC, EC_ID, "rp1").await.ok().clone();
    let mut expected = before;
    expected["status"] = json!("INACTIVE");
    expected["updatedDateTime"] = json!(now_str(&app));
    assert_eq!(after, expected);
    for (path, status) in [(OIDC, "ACTIVE"), (OAUTH, "INACTIVE"), (OIDC, "inactive")] {
        let mut b = update_body(status);
        b["clientNameLangMap"] = json!({ "eng": "x" });
        let r = unchanged!(app, update(&app, path, EC_ID, "admin1", b).await);
        r.assert_error("PMS_ESI_008", "Client already deactivated.");
    }
}

#[tokio::test]
async fn update_checks_in_order() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    app.register_partner("rp2", "g").await.ok();
    app.activate_partner("rp2").await;
    create(
        &app,
        OIDC,
        "rp1",
        AUTH_PARTNER,
        create_body(&pol, ec_vector()),
    )
    .await
    .ok();
    let r = unchanged!(
        app,
        update(&app, OIDC, "nope", "rp1", update_body("ACTIVE")).await
    );
    r.assert_error("PMS_ESI_004", "Client not exists with given id.");
    let r = unchanged!(
        app,
        update(&app, OIDC, EC_ID, "stranger", update_body("ACTIVE")).await
    );
    r.assert_error("PMS_CERTIFICATE_ERROR_002", "User Id does not exists.");
    let r = unchanged!(
        app,
        update(&app, OIDC, EC_ID, "rp2", update_body("ACTIVE")).await
    );
    r.assert_error(
        "PMS_POLICY_ERROR_010",
        "The given partner ID does not belong to the user.So unable to update OIDC client details",
    );
    // an inactive partner blocks every update except an admin's status change
    app.call(
        "PATCH",
        "/v1/partnermanager/partners/rp1",
        "admin1",
        ADMIN,
        Some(json!({ "status": "De-Active" })),
    )
    .await
    .ok();
    for (user, status) in [("rp1", "ACTIVE"), ("rp1", "INACTIVE"), ("admin1", "ACTIVE")] {
        let r = unchanged!(
            app,
            update(&app, OIDC, EC_ID, user, update_body(status)).await
        );
        r.assert_error("PMS_PMP_016", "Partner is not active.");
    }
    let r = update(&app, OIDC, EC_ID, "admin1", update_body("INACTIVE")).await;
    assert_eq!(r.ok()["status"], "INACTIVE");

    // check 3: a client whose partner is gone (migrated data)
    create(
        &app,
        OIDC,
        "rp1",
        AUTH_PARTNER,
        create_body(&pol, rsa_vector()),
    )
    .await
    .codes();
    app.sql(&format!(
        "INSERT INTO oidc_client SELECT '{RSA_ID}', name, name_lang_map, 'gone', policy_id, logo_uri, \
         redirect_uris, public_key, claims, acr_values, grant_types, client_auth_methods, 'ACTIVE', \
         cr_by, cr_dtimes, NULL, NULL, version FROM oidc_client WHERE id = '{EC_ID}'"
    ))
    .await;
    let r = unchanged!(
        app,
        update(&app, OIDC, RSA_ID, "admin1", update_body("ACTIVE")).await
    );
    r.assert_error(
        "PMS_PRT_058",
        "AuthPartner doesn't exists with this Id - gone.",
    );
}

/// Redirect URIs whose scheme runs script or reads local data in a browser
/// (`oidc_client.blocked_redirect_schemes`): `invalid_redirect_uri` at the element on create and
/// update through both families, in any case, and nothing is written. App schemes, `http`
/// (localhost too) and `https` stay valid, and so does a scheme that merely starts like a
/// blocked one.
#[tokio::test]
async fn redirect_uris_with_a_blocked_scheme_are_refused_on_create_and_update() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    create(
        &app,
        OAUTH,
        "rp1",
        AUTH_PARTNER,
        oauth_body(&pol, ec_vector()),
    )
    .await
    .ok();
    let blocked = [
        "javascript://rp.example/%0aalert(document.cookie)",
        "JaVaScRiPt://rp.example/cb",
        "vbscript://rp.example/cb",
        "VBScript://rp.example/cb",
        "data://rp.example/cb",
        "file://localhost/etc/passwd",
        "blob://rp.example/cb",
        "about://blank",
    ];
    for uri in blocked {
        for path in [OIDC, OAUTH] {
            let mut b = oauth_body(&pol, fresh_key());
            b["redirectUris"] = json!(["https://rp.example.com/cb", uri]);
            let r = unchanged!(app, create(&app, path, "rp1", AUTH_PARTNER, b).await);
            r.assert_error(
                "invalid_redirect_uri",
                "request.redirectUris[1]: invalid_redirect_uri",
            );
            let mut u = update_body("ACTIVE");
            u["clientNameLangMap"] = json!({ "eng": "Health Services" });
            u["redirectUris"] = json!([uri]);
            let r = unchanged!(app, update(&app, path, EC_ID, "rp1", u).await);
            r.assert_error(
                "invalid_redirect_uri",
                "request.redirectUris[0]: invalid_redirect_uri",
            );
        }
    }
    let valid = json!([
        "io.mosip.residentapp://oauth",
        "http://localhost:5000/**",
        "https://rp.example.com/cb",
        "javascripts://rp.example/cb",
        "data.example://cb"
    ]);
    let mut u = update_body("ACTIVE");
    u["redirectUris"] = valid.clone();
    update(&app, OIDC, EC_ID, "rp1", u).await.ok();
    assert_eq!(
        read(&app, OIDC, EC_ID, "rp1").await.ok()["redirectUris"],
        valid
    );
    let mut b = create_body(&pol, fresh_key());
    b["redirectUris"] = valid;
    create(&app, OIDC, "rp1", AUTH_PARTNER, b).await.ok();
}

/// `oidc_client.blocked_redirect_schemes` decides: a configured scheme is refused in any case,
/// and a default one that the configuration leaves out is accepted.
#[tokio::test]
async fn blocked_redirect_schemes_come_from_the_configuration() {
    let app =
        spawn_with(|c| c.oidc_client.blocked_redirect_schemes.0 = vec!["x-internal".into()]).await;
    let pol = ready(&app).await;
    let mut b = create_body(&pol, fresh_key());
    b["redirectUris"] = json!(["X-Internal://rp.example/cb"]);
    let r = unchanged!(app, create(&app, OIDC, "rp1", AUTH_PARTNER, b).await);
    r.assert_error(
        "invalid_redirect_uri",
        "request.redirectUris[0]: invalid_redirect_uri",
    );
    let mut b = create_body(&pol, fresh_key());
    b["redirectUris"] = json!(["data://rp.example/cb"]);
    create(&app, OIDC, "rp1", AUTH_PARTNER, b).await.ok();
}

/// Client names and the values of the name map are stored in NFC, trimmed; invisible format
/// (Cf) and control (Cc) characters are refused at the field, nothing written. (Client names
/// need not be unique: the spec has no such rule, so there is no duplicate to collide with.)
#[tokio::test]
async fn client_names_are_stored_in_nfc_and_hidden_characters_refused() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let invalid = |path: &str| {
        format!(
            "Invalid request parameter - must not contain invisible or control characters :request.{path}"
        )
    };
    let hidden = [
        "Health\u{200b}",
        "\u{202e}Health",
        "Heal\u{200d}th",
        "\u{feff}Health",
        "Heal\u{7}th",
        "Heal\tth",
    ];
    for name in hidden {
        for path in [OIDC, OAUTH] {
            let mut b = oauth_body(&pol, fresh_key());
            b["name"] = json!(name);
            let r = unchanged!(app, create(&app, path, "rp1", AUTH_PARTNER, b).await);
            r.assert_error("PMS_COR_001", &invalid("name"));
        }
        let mut b = oauth_body(&pol, fresh_key());
        b["clientNameLangMap"] = json!({ "eng": "Health", "fra": name });
        let r = unchanged!(app, create(&app, OAUTH, "rp1", AUTH_PARTNER, b).await);
        r.assert_error("PMS_COR_001", &invalid("clientNameLangMap[fra]"));
    }
    // NFD and surrounding spaces: stored and read in NFC, trimmed
    let mut b = oauth_body(&pol, ec_vector());
    b["name"] = json!(" Cafe\u{301} sante\u{301} ");
    b["clientNameLangMap"] = json!({ "eng": "Cafe\u{301} ", "fra": "\tsante\u{301}" });
    create(&app, OAUTH, "rp1", AUTH_PARTNER, b).await.ok();
    let got = read(&app, OAUTH, EC_ID, "rp1").await;
    let c = got.ok();
    assert_eq!(c["name"], "Caf\u{e9} sant\u{e9}");
    assert_eq!(
        c["clientNameLangMap"],
        json!({ "eng": "Caf\u{e9}", "fra": "sant\u{e9}" })
    );
    // update: the same rules for clientName and the map
    for name in hidden {
        for path in [OIDC, OAUTH] {
            let mut u = update_body("ACTIVE");
            u["clientName"] = json!(name);
            u["clientNameLangMap"] = json!({ "eng": "Health" });
            let r = unchanged!(app, update(&app, path, EC_ID, "rp1", u).await);
            r.assert_error("PMS_COR_001", &invalid("clientName"));
        }
        let mut u = update_body("ACTIVE");
        u["clientNameLangMap"] = json!({ "eng": name });
        let r = unchanged!(app, update(&app, OAUTH, EC_ID, "rp1", u).await);
        r.assert_error("PMS_COR_001", &invalid("clientNameLangMap[eng]"));
    }
    let mut u = update_body("ACTIVE");
    u["clientName"] = json!("Cafe\u{301} 2 ");
    u["clientNameLangMap"] = json!({ "eng": " Cafe\u{301} 2" });
    update(&app, OAUTH, EC_ID, "rp1", u).await.ok();
    let got = read(&app, OIDC, EC_ID, "rp1").await;
    let c = got.ok();
    assert_eq!(c["name"], "Caf\u{e9} 2");
    assert_eq!(c["clientNameLangMap"], json!({ "eng": "Caf\u{e9} 2" }));
}

#[tokio::test]
async fn update_field_failures_are_reported_in_field_order() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    create(
        &app,
        OIDC,
        "rp1",
        AUTH_PARTNER,
        create_body(&pol, ec_vector()),
    )
    .await
    .ok();
    let b = json!({ "logoUri": "nope", "redirectUris": ["https://a.org/cb"], "status": "gone",
                    "grantTypes": ["authorization_code"], "clientName": "", "clientAuthMethods": ["x"] });
    let r = unchanged!(app, update(&app, OAUTH, EC_ID, "rp1", b).await);
    assert_eq!(
        r.messages(),
        vec![
            "Invalid request parameter - must be a valid URL :request.logoUri",
            "Invalid request parameter - must match \"(ACTIVE)|(INACTIVE)\" :request.status",
            "Invalid request parameter - must not be blank :request.clientName",
            "request.clientAuthMethods[0]: invalid_client_auth",
            "Invalid request parameter - must not be empty :request.clientNameLangMap",
        ]
    );
    // the legacy PUT has no map to validate
    let mut ok = update_body("ACTIVE");
    ok["clientName"] = json!(long_name());
    let r = unchanged!(app, update(&app, OIDC, EC_ID, "rp1", ok).await);
    assert_eq!(
        r.messages(),
        vec!["Invalid request parameter - size must be between 1 and 256 :request.clientName"]
    );
}

fn long_name() -> String {
    "n".repeat(257)
}

#[tokio::test]
async fn read_checks_in_order() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    app.register_partner("rp2", "g").await.ok();
    create(
        &app,
        OIDC,
        "rp1",
        AUTH_PARTNER,
        create_body(&pol, ec_vector()),
    )
    .await
    .ok();
    for path in [OIDC, OAUTH] {
        read(&app, path, "nope", "rp1")
            .await
            .assert_error("PMS_ESI_004", "Client not exists with given id.");
        read(&app, path, EC_ID, "stranger")
            .await
            .assert_error("PMS_CERTIFICATE_ERROR_002", "User Id does not exists.");
        read(&app, path, EC_ID, "rp2").await.assert_error(
            "PMS_POLICY_ERROR_011",
            "The given partner ID does not belong to the user.So unable to get OIDC client details",
        );
    }
    // a client whose policy is gone reads with an empty policy name
    app.sql(&format!(
        "UPDATE oidc_client SET policy_id = 'gone' WHERE id = '{EC_ID}'"
    ))
    .await;
    assert_eq!(read(&app, OIDC, EC_ID, "rp1").await.ok()["policyName"], "");
}

#[tokio::test]
async fn list_pages_sorts_filters_and_scopes_to_the_owner() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    app.register_partner("rp2", "g").await.ok();
    app.activate_partner("rp2").await;
    approve(&app, "rp2", "pol").await;
    let mut ids = Vec::new();
    for (i, (partner, name)) in [
        ("rp1", "Alpha"),
        ("rp1", "beta%"),
        ("rp2", "Gamma"),
        ("rp1", "delta"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut b = create_body(&pol, fresh_key());
        b["authPartnerId"] = json!(partner);
        b["name"] = json!(name);
        let r = create(&app, OIDC, partner, AUTH_PARTNER, b).await;
        ids.push(r.ok()["clientId"].as_str().unwrap().to_string());
        app.clock.advance(chrono::Duration::seconds(i as i64 + 1));
    }
    update(&app, OIDC, &ids[3], "rp1", update_body("INACTIVE"))
        .await
        .ok();
    let list = |q: &'static str, user: &'static str| {
        let app = &app;
        async move {
            let roles = if user == "admin1" {
                ADMIN
            } else {
                AUTH_PARTNER
            };
            app.get(&format!("{OAUTH}{q}"), user, roles).await
        }
    };
    let r = list("", "admin1").await;
    assert_eq!(r.body["id"], "mosip.pms.oauth.partners.clients.get");
    assert_eq!(r.body["version"], "1.0");
    let page = r.ok();
    assert_eq!(page["totalResults"], 4);
    // newest first by default
    assert_eq!(page["data"][0]["clientName"], "delta");
    assert_eq!(
        page["data"][1],
        json!({
            "partnerId": "rp2", "orgName": "Org of rp2", "policyGroupId": page["data"][1]["policyGroupId"],
            "policyGroupName": "g", "policyGroupDescription": "group ", "policyName": "pol",
            "policyDescription": "desc pol", "clientId": ids[2], "clientName": "Gamma", "status": "ACTIVE",
            "createdDateTime": page["data"][1]["createdDateTime"], "updatedDateTime": null,
            "deliveryState": "NONE",
        })
    );
    assert!(page["data"][1]["policyGroupId"].is_string());
    let r = list("", "rp1").await;
    assert_eq!(r.ok()["totalResults"], 3);
    let r = list(
        "?sortFieldName=clientName&sortType=asc&pageNo=0&pageSize=2",
        "rp1",
    )
    .await;
    let names: Vec<&str> = r.ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Alpha", "beta%"]);
    assert_eq!(r.ok()["totalResults"], 3);
    for (q, n) in [
        ("?clientName=A%25", 1),
        ("?clientName=ALP", 1),
        ("?clientName=a", 4),
        ("?status=INACTIVE", 1),
        ("?status=inactive", 0),
        ("?partnerId=RP2", 1),
        ("?orgName=of%20rp1", 3),
        ("?policyName=POL&policyGroupName=G", 4),
    ] {
        let r = list(q, "admin1").await;
        assert_eq!(r.ok()["totalResults"], n, "{q}");
    }
    let r = list("?pageNo=3&pageSize=2", "admin1").await;
    assert_eq!(
        r.ok(),
        &json!({ "pageNo": 0, "pageSize": 0, "totalResults": 0, "data": [] })
    );
    for (q, code, message) in [
        ("?sortFieldName=clientName", "PMS_PS_ERROR_007", "Invalid Sorting request: 'sortType' and 'sortFieldName' must be specified together."),
        ("?pageNo=1", "PMS_PS_ERROR_006", "Invalid pagination request: 'pageNo' and 'pageSize' must be specified together."),
        ("?sortFieldName=clientName&sortType=ASC", "PMS_PS_ERROR_008", "Please provide pagination parameters ('pageNo' and 'pageSize') when requesting sorted data."),
        ("?sortFieldName=bogus&sortType=ASC&pageNo=0&pageSize=1", "PMS_PRT_357", "Invalid sort field bogus"),
        ("?sortFieldName=clientName&sortType=up&pageNo=0&pageSize=1", "PMS_PRT_358", "Sort type up is not supported"),
        ("?pageNo=-1&pageSize=1", "PMS_PRT_360", "Invalid Page No"),
        ("?pageNo=0&pageSize=0", "PMS_PRT_361", "Invalid page size"),
    ] {
        let r = list(q, "admin1").await;
        r.assert_error(code, message);
        assert_eq!(r.body["id"], "mosip.pms.oauth.partners.clients.get");
    }
    list("", "stranger")
        .await
        .assert_error("PMS_CERTIFICATE_ERROR_002", "User Id does not exists.");
    // an owned partner without a policy group (any type, unlike the mapping list)
    app.call(
        "POST",
        "/v1/partnermanager/partners",
        "admin1",
        ADMIN,
        Some(json!({ "partnerId": "dev9", "organizationName": "o", "address": "a", "contactNumber": "1",
                     "emailId": "dev9@x.org", "partnerType": "Device_Provider" })),
    )
    .await
    .ok();
    list("", "dev9")
        .await
        .assert_error("PMS_POLICY_ERROR_005", "Policy Group Id is empty.");
}

/// List checks 2 and 4 of §8.2 need partner rows the API never writes (a blank id, a group that
/// is gone); MOSIP data migrated into pms can hold them.
#[tokio::test]
async fn list_refuses_owned_partners_with_a_blank_id_or_a_missing_group() {
    let app = spawn_app().await;
    ready(&app).await;
    app.db.exec_without_fks(
        "INSERT INTO partner SELECT ' ', name, address, contact_no, 'blank@x.org', partner_type_code, \
           policy_group_id, 'owner-b', approval_status, is_active, lang_code, cr_by, cr_dtimes, NULL, NULL \
           FROM partner WHERE id = 'rp1'; \
         INSERT INTO partner SELECT 'rp-orphan', name, address, contact_no, 'orphan@x.org', partner_type_code, \
           'gone', 'owner-o', approval_status, is_active, lang_code, cr_by, cr_dtimes, NULL, NULL \
           FROM partner WHERE id = 'rp1';",
    )
    .await;
    for path in [OAUTH, "/v1/partnermanager/partner-policy-requests"] {
        app.get(path, "owner-b", AUTH_PARTNER)
            .await
            .assert_error("PMS_CERTIFICATE_ERROR_003", "Partner Id is null or empty.");
        app.get(path, "owner-o", AUTH_PARTNER)
            .await
            .assert_error("PMS_POLICY_ERROR_001", "Policy Group does not exists.");
    }
}

#[tokio::test]
async fn the_feature_switch_closes_every_client_endpoint_after_the_role_check() {
    let app = spawn_with(|c| c.oidc_client.enabled = false).await;
    for (method, path) in [
        ("POST", OIDC.to_string()),
        ("POST", OAUTH.to_string()),
        ("PUT", format!("{OIDC}/x")),
        ("PUT", format!("{OAUTH}/x")),
        ("GET", format!("{OIDC}/x")),
        ("GET", format!("{OAUTH}/x")),
        ("GET", OAUTH.to_string()),
    ] {
        let body = (method != "GET").then(|| envelope(json!({})));
        let r = app
            .send(
                method,
                &path,
                Some(&app.token("admin1", ADMIN)),
                body.as_ref(),
            )
            .await;
        r.assert_error(
            "PMS_FEATURE_002",
            "OIDC client related features are not available in the current deployment.",
        );
        let r = app
            .send(
                method,
                &path,
                Some(&app.token("pm1", POLICY_MANAGER)),
                body.as_ref(),
            )
            .await;
        assert_eq!(r.status, 403, "{method} {path}");
    }
}

/// Hostile JSON in the three free-form members: never a 5xx, and a row only when the value was
/// in fact acceptable.
#[tokio::test]
async fn arbitrary_json_in_key_uris_and_name_map_never_breaks_anything() {
    let app = spawn_app().await;
    let pol = ready(&app).await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = arb_json();
    for i in 0..150 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        let field = ["publicKey", "redirectUris", "clientNameLangMap"][i % 3];
        let mut b = oauth_body(&pol, fresh_key());
        b[field] = value.clone();
        let before = app.dump().await;
        let r = create(&app, OAUTH, "rp1", AUTH_PARTNER, b).await;
        if value.to_string().contains("\\u0000") {
            // no store can hold a NUL character: refused at the edge
            assert_eq!(r.status, 400, "{field} = {value}: {}", r.body);
            assert_eq!(before, app.dump().await, "{field} = {value}");
            continue;
        }
        assert_eq!(r.status, 200, "{field} = {value}: {}", r.body);
        if r.codes().is_empty() {
            let id = r.body["response"]["clientId"].as_str().unwrap().to_string();
            assert_ne!(
                field, "publicKey",
                "an arbitrary value was accepted as a key: {value}"
            );
            read(&app, OAUTH, &id, "rp1").await.ok();
        } else {
            assert_eq!(before, app.dump().await, "{field} = {value}");
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("https://rp.example.com/cb"),
            Just("eng"),
            Just("EC"),
            Just("RSA"),
            Just("P-256"),
            Just("AQAB"),
            Just("kty"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("kty".to_string()),
                    Just("crv".to_string()),
                    Just("x".to_string()),
                    Just("y".to_string()),
                    Just("n".to_string()),
                    Just("e".to_string()),
                    Just("d".to_string()),
                    Just("eng".to_string()),
                    Just("fra".to_string()),
                    "[a-z@]{0,5}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
