//! Authentication (conventions.md §7) and the role table (§8.3).

use crate::helpers::*;
use crate::unchanged;
use axum::routing::get;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pms_domain::Clock;
use serde_json::{json, Value};

const PATH: &str = "/v1/policymanager/policies/group/all";

#[track_caller]
fn assert_401(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_eq!(
        r.body["errors"],
        json!([{ "errorCode": "KER-ATH-401", "message": "Authentication Failed" }])
    );
    assert!(r.body["id"].is_null() && r.body["version"].is_null() && r.body["response"].is_null());
}

#[tokio::test]
async fn missing_token_is_401() {
    let app = spawn_app().await;
    assert_401(&app.send("GET", PATH, None, None).await);
    // an unauthenticated body is never parsed: malformed JSON still gets 401
    let r = unchanged!(app, {
        app.client
            .post(format!("{}/v1/policymanager/policies/group/new", app.base))
            .body("{")
            .send()
            .await
            .unwrap()
    });
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn expired_token_is_401() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    app.clock.advance(chrono::Duration::hours(2));
    assert_401(&app.send("GET", PATH, Some(&t), None).await);
}

/// A token whose signature was verified earlier is remembered, but its lifetime is checked on
/// every use: once expired it is refused like any other.
#[tokio::test]
async fn a_token_accepted_before_is_refused_once_expired() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    assert_eq!(app.send("GET", PATH, Some(&t), None).await.status, 200);
    assert_eq!(app.send("GET", PATH, Some(&t), None).await.status, 200);
    app.clock.advance(chrono::Duration::hours(2));
    assert_401(&app.send("GET", PATH, Some(&t), None).await);
}

#[tokio::test]
async fn token_of_another_key_is_401() {
    let app = spawn_app().await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = pms_api::auth::DevIssuer::load_or_create(other_dir.path()).unwrap();
    let t = other
        .mint(
            "pm1",
            &["POLICYMANAGER".to_string()],
            std::time::Duration::from_secs(600),
            app.clock.now(),
        )
        .unwrap();
    assert_401(&app.send("GET", PATH, Some(&t), None).await);
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn alg_none_is_401() {
    let app = spawn_app().await;
    let good = app.token("pm1", POLICY_MANAGER);
    let claims = good.split('.').nth(1).unwrap();
    for alg in ["none", "HS256"] {
        let t = format!("{}.{claims}.", b64(&json!({ "alg": alg, "typ": "JWT" })));
        assert_401(&app.send("GET", PATH, Some(&t), None).await);
    }
    assert_401(&app.send("GET", PATH, Some("not-a-jwt"), None).await);
}

#[tokio::test]
async fn cookie_token_is_accepted_and_header_wins() {
    let app = spawn_app().await;
    let t = app.token("pm1", POLICY_MANAGER);
    let r = app
        .client
        .get(format!("{}{PATH}", app.base))
        .header("cookie", format!("other=1; Authorization={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(format!("{}{PATH}", app.base))
        .header("authorization", "Bearer garbage")
        .header("cookie", format!("Authorization={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn missing_preferred_username_is_401() {
    let app = spawn_app().await;
    let t = app.token("", POLICY_MANAGER);
    assert_401(&app.send("GET", PATH, Some(&t), None).await);
}

/// A Keycloak stand-in: serves a JWKS with one P-256 key.
struct Issuer {
    key: EncodingKey,
    jwks_uri: String,
}

async fn start_issuer() -> Issuer {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
    jwk["kid"] = json!("kc-1");
    jwk["use"] = json!("sig");
    jwk["alg"] = json!("ES256");
    // Keycloak also lists an encryption key; it must be skipped, not break the set.
    let jwks = json!({ "keys": [ { "kid": "enc", "kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB" }, jwk ] });
    let router = axum::Router::new().route(
        "/certs",
        get(move || async move { axum::Json(jwks.clone()) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    Issuer {
        key: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        jwks_uri: format!("http://{addr}/certs"),
    }
}

const ISS: &str = "https://kc.example/auth/realms/mosip";

fn kc_token(issuer: &Issuer, claims: Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some("kc-1".into());
    jsonwebtoken::encode(&h, &claims, &issuer.key).unwrap()
}

#[tokio::test]
async fn jwks_mode_checks_issuer_audience_and_lifetime() {
    let issuer = start_issuer().await;
    let uri = issuer.jwks_uri.clone();
    let app = spawn_with(move |c| {
        c.auth.mode = pms::config::AuthMode::Jwks;
        c.auth.issuer = ISS.into();
        c.auth.jwks_uri = uri;
        c.auth.allowed_audiences = pms::config::List(vec!["pms".into()]);
    })
    .await;
    let now = app.clock.now().timestamp();
    let claims = |iss: &str, aud: Value, exp: i64| {
        json!({ "iss": iss, "aud": aud, "exp": exp, "preferred_username": "pm1",
                "realm_access": { "roles": ["POLICYMANAGER"] } })
    };
    let good = kc_token(&issuer, claims(ISS, json!(["account", "pms"]), now + 300));
    assert_eq!(app.send("GET", PATH, Some(&good), None).await.status, 200);
    let azp = kc_token(
        &issuer,
        json!({ "iss": ISS, "azp": "pms", "exp": now + 300, "preferred_username": "pm1", "realm_access": { "roles": ["POLICYMANAGER"] } }),
    );
    assert_eq!(app.send("GET", PATH, Some(&azp), None).await.status, 200);
    for bad in [
        claims("https://evil.example/realms/mosip", json!("pms"), now + 300),
        claims(ISS, json!("other"), now + 300),
        claims(ISS, json!("pms"), now - 300),
    ] {
        assert_401(
            &app.send("GET", PATH, Some(&kc_token(&issuer, bad)), None)
                .await,
        );
    }
    let future = kc_token(
        &issuer,
        json!({ "iss": ISS, "aud": "pms", "exp": now + 600, "nbf": now + 300, "preferred_username": "pm1" }),
    );
    assert_401(&app.send("GET", PATH, Some(&future), None).await);
    // the dev issuer's tokens mean nothing in jwks mode
    assert_401(
        &app.send("GET", PATH, Some(&app.token("pm1", POLICY_MANAGER)), None)
            .await,
    );
}

#[tokio::test]
async fn jwks_mode_with_unreachable_issuer_is_401_not_500() {
    let app = spawn_with(|c| {
        c.auth.mode = pms::config::AuthMode::Jwks;
        c.auth.issuer = ISS.into();
        c.auth.jwks_uri = "http://127.0.0.1:9/certs".into();
    })
    .await;
    let issuer = start_issuer().await;
    let t = kc_token(
        &issuer,
        json!({ "iss": ISS, "exp": app.clock.now().timestamp() + 60, "preferred_username": "u" }),
    );
    assert_401(&app.send("GET", PATH, Some(&t), None).await);
}

/// Every endpoint of this service with its role key (conventions.md §8.3).
const TABLE: &[(&str, &str, &str)] = &[
    ("POST", "/v1/partnermanager/partners", "postpartners"),
    (
        "GET",
        "/v1/partnermanager/partners/p1",
        "getpartnerspartnerid",
    ),
    ("PATCH", "/v1/partnermanager/partners/p1", "patchpartners"),
    (
        "POST",
        "/v1/partnermanager/partners/p1/policy/map",
        "postpartnerspolicymap",
    ),
    (
        "PUT",
        "/v1/partnermanager/partners/policy/k1",
        "putpartnerspolicymapping",
    ),
    (
        "GET",
        "/v1/partnermanager/partner-policy-requests",
        "getallpartnerpolicymappingrequests",
    ),
    (
        "POST",
        "/v1/policymanager/policies/group/new",
        "postpoliciesgroupnew",
    ),
    (
        "PUT",
        "/v1/policymanager/policies/group/g1",
        "putpoliciesgrouppolicygroupid",
    ),
    (
        "PATCH",
        "/v1/policymanager/policies/group/g1",
        "patchdeactivatepolicygroup",
    ),
    (
        "GET",
        "/v1/policymanager/policies/group/g1",
        "getpoliciesgrouppolicygroupid",
    ),
    (
        "GET",
        "/v1/policymanager/policies/group/all",
        "getpoliciesgroupall",
    ),
    (
        "GET",
        "/v1/policymanager/policies/policy-groups",
        "getpolicygroups",
    ),
    ("POST", "/v1/policymanager/policies", "postpolicies"),
    (
        "PUT",
        "/v1/policymanager/policies/p1",
        "putpoliciespolicyid",
    ),
    (
        "POST",
        "/v1/policymanager/policies/p1/group/g1/publish",
        "postpoliciespolicyidgrouppublish",
    ),
    (
        "PATCH",
        "/v1/policymanager/policies/p1/group/g1",
        "patchpoliciespolicyidgrouppolicygroupid",
    ),
    (
        "PATCH",
        "/v1/policymanager/policies/p1",
        "patchdeactivatepolicy",
    ),
    (
        "GET",
        "/v1/policymanager/policies/p1",
        "getpoliciespolicyid",
    ),
    ("GET", "/v1/policymanager/policies", "getpolicies"),
    ("GET", "/v1/policymanager/policies/v2", "getallpolicies"),
    (
        "GET",
        "/v1/policymanager/policies/active/group/g1",
        "getactivegroupgroupname",
    ),
    ("POST", "/v1/partnermanager/oidc/client", "postoidcclient"),
    ("POST", "/v1/partnermanager/oauth/client", "postoidcclient"),
    ("PUT", "/v1/partnermanager/oidc/client/c1", "putoidcclient"),
    ("PUT", "/v1/partnermanager/oauth/client/c1", "putoidcclient"),
    ("GET", "/v1/partnermanager/oidc/client/c1", "getoidcclient"),
    ("GET", "/v1/partnermanager/oauth/client/c1", "getoidcclient"),
    (
        "GET",
        "/v1/partnermanager/oauth/client",
        "getoauthpartnersclients",
    ),
];

#[tokio::test]
async fn every_role_table_row_is_enforced() {
    let app = spawn_app().await;
    let defaults = pms_api::roles::defaults();
    let outsider = app.token("p1", &["RESIDENT_ONLY", "SOMETHING_ELSE"]);
    let body = envelope(json!({}));
    for (method, path, key) in TABLE {
        let allowed = &defaults[*key];
        let r = unchanged!(
            app,
            app.send(method, path, Some(&outsider), Some(&body)).await
        );
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
        assert_eq!(
            r.body["errors"],
            json!([{ "errorCode": "KER-ATH-403", "message": "Forbidden" }])
        );
        for role in allowed {
            let t = app.token("p1", &[role.as_str()]);
            let r = app.send(method, path, Some(&t), Some(&body)).await;
            assert!(
                r.status != 403 && r.status != 401,
                "{method} {path} with {role}: {}",
                r.body
            );
        }
    }
}

#[tokio::test]
async fn configured_roles_replace_the_defaults() {
    let app = spawn_with(|c| {
        c.roles.insert(
            "getpoliciesgroupall".into(),
            pms::config::List(vec!["AUDITOR".into()]),
        );
    })
    .await;
    assert_eq!(app.get(PATH, "pm1", POLICY_MANAGER).await.status, 403);
    assert_eq!(app.get(PATH, "a1", &["AUDITOR"]).await.status, 200);
}

/// Registration check 1 (policies-and-partners.md §3.2): a token whose `email` claim is already a
/// partner's e-mail, compared ignoring case, cannot register another partner. Dev tokens carry no
/// e-mail, so this runs against the JWKS stand-in.
#[tokio::test]
async fn registered_email_in_token_cannot_register_again() {
    let issuer = start_issuer().await;
    let uri = issuer.jwks_uri.clone();
    let app = spawn_with(move |c| {
        c.auth.mode = pms::config::AuthMode::Jwks;
        c.auth.issuer = ISS.into();
        c.auth.jwks_uri = uri;
    })
    .await;
    let exp = app.clock.now().timestamp() + 300;
    let register = |user: &str, email: Option<&str>| {
        let mut claims = json!({ "iss": ISS, "exp": exp, "preferred_username": user,
                                 "realm_access": { "roles": ["AUTH_PARTNER"] } });
        if let Some(e) = email {
            claims["email"] = json!(e);
        }
        let token = kc_token(&issuer, claims);
        let body = envelope(
            json!({ "partnerId": user, "organizationName": "Org", "address": "a",
            "contactNumber": "1", "emailId": format!("{user}@example.org"), "partnerType": "SDK_Partner" }),
        );
        let app = &app;
        async move {
            app.send(
                "POST",
                "/v1/partnermanager/partners",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    assert_eq!(register("sdk1", None).await.ok()["status"], "InProgress");
    let r = unchanged!(app, register("sdk2", Some("SDK1@Example.org")).await);
    r.assert_error("PMS_PRT_055", "User not authorized.");
    // an e-mail claim no partner has is no obstacle
    assert_eq!(
        register("sdk2", Some("sdk2@example.org")).await.ok()["partnerId"],
        "sdk2"
    );
}
