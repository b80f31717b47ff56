//! The portal over plain HTTP: security headers, cookies, CSRF, the dev sign-in page only in
//! dev mode, ownership, and the preview that writes nothing.

use crate::helpers::*;
use crate::unchanged;
use crate::web::{p256_pem, Web};
use serde_json::json;

#[tokio::test]
async fn pages_send_a_strict_csp_and_cookie_attributes() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    let page = web.get("/portal/dev-sign-in").await;
    assert_eq!(page.status, 200);
    let h = |n: &str| page.headers.get(n).map(|v| v.to_str().unwrap().to_string());
    let csp = h("content-security-policy").unwrap();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(h("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"));
    // no inline script or style anywhere in the page
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(!page.body.contains("<style"), "{}", page.body);
    assert!(!page.body.contains("style=\""), "{}", page.body);
    let sid = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pms_sid="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/portal"] {
        assert!(sid.contains(attr), "{sid}");
    }
    // signing in sets the access token the same way
    let form = web.get("/portal/dev-sign-in").await;
    let r = web
        .post(
            "/portal/dev-sign-in",
            &[
                ("csrf", &form.csrf()),
                ("user", "u1"),
                ("roles", "AUTH_PARTNER"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let access = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pms_access="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(access.contains(attr), "{access}");
    }
    // the assets the pages load are served from the portal itself
    let css = web.get("/portal/assets/portal.css").await;
    assert_eq!(css.status, 200);
    assert!(css.body.contains("overflow-wrap: anywhere"));
    assert_eq!(web.get("/portal/assets/portal.js").await.status, 200);
}

#[tokio::test]
async fn cookie_secure_can_be_switched_off_for_plain_http() {
    let app = spawn_with(|c| c.portal.cookie_secure = false).await;
    let mut web = Web::of(&app);
    let page = web.get("/portal/dev-sign-in").await;
    let sid = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pms_sid="))
        .unwrap();
    assert!(!sid.contains("Secure"), "{sid}");
}

#[tokio::test]
async fn dev_sign_in_is_404_in_jwks_mode() {
    let app = spawn_with(|c| {
        c.auth.mode = pms::config::AuthMode::Jwks;
        c.auth.issuer = "https://kc.example/realms/mosip".into();
        c.auth.jwks_uri = "http://127.0.0.1:9/certs".into();
    })
    .await;
    let mut web = Web::of(&app);
    assert_eq!(web.get("/portal/dev-sign-in").await.status, 404);
    let r = web
        .post(
            "/portal/dev-sign-in",
            &[("user", "x"), ("roles", "PARTNER_ADMIN")],
        )
        .await;
    assert_eq!(r.status, 404);
    // and the sign-in page does not send anyone there
    let s = web.get("/portal/sign-in").await;
    assert_eq!(s.status, 200);
    assert!(!s.body.contains("dev-sign-in"), "{}", s.body);
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    let r = web.get("/portal/clients").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/portal/sign-in"));
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("pm1", &["POLICYMANAGER"]).await;
    assert!(!csrf.is_empty());
    for token in ["", "forged", &csrf[..csrf.len() - 2]] {
        let r = unchanged!(
            app,
            web.post(
                "/portal/policy/groups",
                &[("csrf", token), ("name", "g1"), ("desc", "d")]
            )
            .await
        );
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("Nothing was changed"), "{}", r.body);
    }
    // no token field at all
    let r = unchanged!(
        app,
        web.post("/portal/policy/groups", &[("name", "g1"), ("desc", "d")])
            .await
    );
    assert_eq!(r.status, 403);
    // another browser's token is refused too
    let mut other = Web::of(&app);
    let other_csrf = other.dev_sign_in("pm2", &["POLICYMANAGER"]).await;
    let r = unchanged!(
        app,
        web.post(
            "/portal/policy/groups",
            &[("csrf", &other_csrf), ("name", "g1"), ("desc", "d")]
        )
        .await
    );
    assert_eq!(r.status, 403);
    // the right token works, and the group is audited like an API create
    let before = app.audit_count().await;
    let r = web
        .post(
            "/portal/policy/groups",
            &[("csrf", &csrf), ("name", "g1"), ("desc", "d")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.audit_count().await, before + 1);
    let page = web.get("/portal/policy/groups").await;
    assert!(page.body.contains("g1"));
}

#[tokio::test]
async fn role_checks_are_the_apis() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("p1", &["AUTH_PARTNER"]).await;
    assert_eq!(web.get("/portal/policy/groups").await.status, 403);
    assert_eq!(web.get("/portal/admin/partners").await.status, 403);
    let r = unchanged!(
        app,
        web.post(
            "/portal/policy/groups",
            &[("csrf", &csrf), ("name", "g1"), ("desc", "d")]
        )
        .await
    );
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn form_errors_are_shown_next_to_the_field_with_what_was_typed() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("pm1", &["POLICYMANAGER"]).await;
    app.create_group("health").await;
    // an auth type outside the allow-list: the API's PMS_PV_005, next to the JSON field
    let doc = r#"{"authTokenType":"policy","allowedAuthTypes":[{"authType":"telepathy","authSubType":"","mandatory":false}],"allowedKycAttributes":[{"attributeName":"fullName"}]}"#;
    let r = unchanged!(
        app,
        web.post(
            "/portal/policy/policies",
            &[
                ("csrf", &csrf),
                ("policyGroupName", "health"),
                ("name", "My policy"),
                ("desc", "d"),
                ("policyType", "Auth"),
                ("version", "1.0"),
                ("policies", doc),
                ("action", "save"),
            ]
        )
        .await
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"policies-error\""), "{}", r.body);
    assert!(r.body.contains("PMS_PV_005"), "{}", r.body);
    assert!(r.body.contains("value=\"My policy\""), "{}", r.body);
    assert!(r.body.contains("telepathy"), "the JSON typed is kept");
    // JSON that does not parse
    let r = web
        .post(
            "/portal/policy/policies",
            &[
                ("csrf", &csrf),
                ("policyGroupName", "health"),
                ("name", "n"),
                ("desc", "d"),
                ("policyType", "Auth"),
                ("version", "1.0"),
                ("policies", "{ not json"),
                ("action", "check"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("This is not valid JSON"), "{}", r.body);
    // a blank name: the API's field message
    let r = web
        .post(
            "/portal/policy/groups",
            &[("csrf", &csrf), ("name", ""), ("desc", "d")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"name-error\""), "{}", r.body);
    assert!(r.body.contains("Value is empty or null"), "{}", r.body);
}

#[tokio::test]
async fn another_partners_ids_are_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let policy = crate::two_partners_ready(&app).await;
    // orgA owns a client
    let key = {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        serde_json::from_str::<serde_json::Value>(&secret.public_key().to_jwk_string()).unwrap()
    };
    let created = app
        .call(
            "POST",
            "/v1/partnermanager/oidc/client",
            "orgA",
            AUTH_PARTNER,
            Some(json!({ "name": "A app", "policyId": policy, "publicKey": key, "authPartnerId": "orgA",
                "logoUri": "https://a.example/logo.png", "redirectUris": ["https://a.example/cb"],
                "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"] })),
        )
        .await;
    let a_client = created.ok()["clientId"].as_str().unwrap().to_string();
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("orgB", &["AUTH_PARTNER"]).await;
    // a client under orgA's partner id
    let (pem, _) = p256_pem();
    let r = unchanged!(
        app,
        web.post_multipart(
            "/portal/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "B pretending"),
                ("authPartnerId", "orgA"),
                ("policyId", &policy),
                ("publicKeyPem", &pem),
                ("logoUri", "https://b.example/logo.png"),
                ("redirectUris", "https://b.example/cb"),
                ("grantTypes", "authorization_code"),
                ("clientAuthMethods", "private_key_jwt"),
                ("action", "create"),
            ]
        )
        .await
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("PMS_POLICY_ERROR_009"), "{}", r.body);
    assert!(r.body.contains("id=\"authPartnerId-error\""), "{}", r.body);
    // orgA's client: read, edit, deactivate
    let r = web.get(&format!("/portal/clients/{a_client}")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("PMS_POLICY_ERROR_011"), "{}", r.body);
    let r = unchanged!(
        app,
        web.post(
            &format!("/portal/clients/{a_client}/edit"),
            &[
                ("csrf", &csrf),
                ("clientName", "taken over"),
                ("logoUri", "https://b.example/logo.png"),
                ("redirectUris", "https://b.example/cb"),
                ("grantTypes", "authorization_code"),
                ("clientAuthMethods", "private_key_jwt"),
            ]
        )
        .await
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("PMS_POLICY_ERROR_011"), "{}", r.body);
    let r = unchanged!(
        app,
        web.post(
            &format!("/portal/clients/{a_client}/deactivate"),
            &[("csrf", &csrf)]
        )
        .await
    );
    assert_eq!(r.status, 422);
    // a mapping request for orgA
    let r = unchanged!(
        app,
        web.post(
            "/portal/partner/orgA/mappings",
            &[
                ("csrf", &csrf),
                ("policyName", "login"),
                ("useCaseDescription", "x")
            ]
        )
        .await
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("PMS_PRT_055"), "{}", r.body);
    // orgB's own list does not show orgA's client
    let list = web.get("/portal/clients").await;
    assert!(!list.body.contains(&a_client));
}

#[tokio::test]
async fn preview_derives_the_client_without_writing_and_create_writes_once() {
    let app = spawn_app().await;
    let policy = crate::two_partners_ready(&app).await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("orgA", &["AUTH_PARTNER"]).await;
    let (pem, client_id) = p256_pem();
    let fields = |action: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Health portal".to_string()),
            ("authPartnerId", "orgA".to_string()),
            ("policyId", policy.clone()),
            ("publicKeyPem", pem.clone()),
            ("logoUri", "https://a.example/logo.png".to_string()),
            ("redirectUris", "https://a.example/cb".to_string()),
            ("redirectUris", String::new()),
            ("grantTypes", "authorization_code".to_string()),
            ("clientAuthMethods", "private_key_jwt".to_string()),
            ("action", action.to_string()),
        ]
    };
    let as_ref = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };
    let preview = as_ref(&fields("preview"));
    let pv: Vec<(&str, &str)> = preview.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = unchanged!(app, web.post_multipart("/portal/clients/new", &pv).await);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Preview: nothing is saved yet"),
        "{}",
        r.body
    );
    assert!(r.body.contains(&client_id), "{}", r.body);
    assert!(
        r.body.contains("&quot;kty&quot;: &quot;EC&quot;"),
        "the converted JWK is in the form: {}",
        r.body
    );
    // a bad redirect URI: the API's eSignet-style code, next to the list, nothing written
    let mut bad = fields("create");
    bad[6].1 = "$not-a-uri".to_string();
    let b: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = unchanged!(app, web.post_multipart("/portal/clients/new", &b).await);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"redirectUris-error\""), "{}", r.body);
    assert!(
        r.body.contains("Invalid redirect uri (entry 1)"),
        "{}",
        r.body
    );
    // a scheme that runs script (oidc_client.blocked_redirect_schemes): the same, at the field
    let mut bad = fields("create");
    bad[6].1 = "JavaScript://a.example/%0aalert(1)".to_string();
    let b: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = unchanged!(app, web.post_multipart("/portal/clients/new", &b).await);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"redirectUris-error\""), "{}", r.body);
    assert!(
        r.body.contains("Invalid redirect uri (entry 1)"),
        "{}",
        r.body
    );
    // a bad key
    let mut bad = fields("create");
    bad[4].1 = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string();
    let b: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = unchanged!(app, web.post_multipart("/portal/clients/new", &b).await);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"publicKey-error\""), "{}", r.body);
    assert!(r.body.contains("The PEM file cannot be used"), "{}", r.body);
    // create
    let before = app.audit_count().await;
    let create = fields("create");
    let c: Vec<(&str, &str)> = create.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = web.post_multipart("/portal/clients/new", &c).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/portal/clients/{client_id}?ok=created").as_str())
    );
    assert_eq!(app.audit_count().await, before + 1);
    // the API reads the same client
    let got = app
        .get(
            &format!("/v1/partnermanager/oidc/client/{client_id}"),
            "orgA",
            AUTH_PARTNER,
        )
        .await;
    assert_eq!(got.ok()["name"], "Health portal");
}

#[tokio::test]
async fn nul_characters_and_oversized_forms_are_refused_like_the_api() {
    let app = spawn_with(|c| c.http.max_body_bytes = 400).await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("pm1", &["POLICYMANAGER"]).await;
    let r = unchanged!(
        app,
        web.post(
            "/portal/policy/groups",
            &[("csrf", &csrf), ("name", "a\0b"), ("desc", "d")]
        )
        .await
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = web.get("/portal/clients/abc%00def").await;
    assert_eq!(r.status, 400);
    // the request a form stands for is held to http.max_body_bytes, as the API's body is
    let long = "d".repeat(300);
    let r = unchanged!(
        app,
        web.post(
            "/portal/policy/groups",
            &[("csrf", &csrf), ("name", "g"), ("desc", &long)]
        )
        .await
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("PMS_EXT_001"), "{}", r.body);
}

#[tokio::test]
async fn unknown_portal_pages_are_html_404s() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    let r = web.get("/portal/no/such/page").await;
    assert_eq!(r.status, 404);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn a_policy_manager_deactivates_a_group_through_the_domain_operation() {
    let app = spawn_app().await;
    let id = app.create_group("old").await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("pm1", &["POLICYMANAGER"]).await;
    let page = web.get("/portal/policy/groups").await;
    assert!(page
        .body
        .contains(&format!("/portal/policy/groups/{id}/deactivate")));
    let before = app.audit_count().await;
    let r = web
        .post(
            &format!("/portal/policy/groups/{id}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.audit_count().await, before + 1);
    let got = app
        .get(
            &format!("/v1/policymanager/policies/group/{id}"),
            "pm1",
            POLICY_MANAGER,
        )
        .await;
    assert_eq!(got.ok()["policyGroup"]["isActive"], json!(false));
    // again: the API's error, in words
    let r = unchanged!(
        app,
        web.post(
            &format!("/portal/policy/groups/{id}/deactivate"),
            &[("csrf", &csrf)]
        )
        .await
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("PMS_POL_067"), "{}", r.body);
}

#[tokio::test]
async fn client_pages_obey_the_feature_switch_like_the_api() {
    let app = spawn_with(|c| c.oidc_client.enabled = false).await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("orgA", &["AUTH_PARTNER"]).await;
    for page in [
        "/portal/clients",
        "/portal/clients/new",
        "/portal/clients/x",
    ] {
        let r = web.get(page).await;
        assert_eq!(r.status, 422, "{page}: {}", r.body);
        assert!(r.body.contains("PMS_FEATURE_002"), "{page}: {}", r.body);
    }
    let r = unchanged!(
        app,
        web.post_multipart(
            "/portal/clients/new",
            &[("csrf", &csrf), ("name", "n"), ("action", "create")]
        )
        .await
    );
    assert!(r.body.contains("PMS_FEATURE_002"), "{}", r.body);
}

#[tokio::test]
async fn names_per_language_make_an_oauth_client_that_edits_keep() {
    let app = spawn_app().await;
    let policy = crate::two_partners_ready(&app).await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("orgA", &["AUTH_PARTNER"]).await;
    let jwk = {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        secret.public_key().to_jwk_string()
    };
    let base = |names: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Health portal".to_string()),
            ("clientNameLangMap", names.to_string()),
            ("authPartnerId", "orgA".to_string()),
            ("policyId", policy.clone()),
            ("publicKey", jwk.clone()),
            ("logoUri", "https://a.example/logo.png".to_string()),
            ("redirectUris", "https://a.example/cb".to_string()),
            ("grantTypes", "authorization_code".to_string()),
            ("clientAuthMethods", "private_key_jwt".to_string()),
            ("action", "create".to_string()),
        ]
    };
    // a line that is not code=name, and an unknown language code: both next to the field
    for (names, expect) in [
        ("fra Portail", "Line 1 is not written as code=name"),
        ("xx=Portail", "Invalid language code"),
    ] {
        let f = base(names);
        let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = unchanged!(
            app,
            web.post_multipart("/portal/clients/new", &fields).await
        );
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("id=\"clientNameLangMap-error\""),
            "{}",
            r.body
        );
        assert!(r.body.contains(expect), "{expect}: {}", r.body);
    }
    let f = base("eng=Health portal\nfra=Portail santé");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = web.post_multipart("/portal/clients/new", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = r
        .location
        .unwrap()
        .trim_start_matches("/portal/clients/")
        .trim_end_matches("?ok=created")
        .to_string();
    let path = format!("/v1/partnermanager/oauth/client/{id}");
    let got = app.get(&path, "orgA", AUTH_PARTNER).await.ok().clone();
    assert_eq!(got["clientNameLangMap"]["fra"], "Portail santé");
    // the edit form shows the map and a save keeps it
    let form = web.get(&format!("/portal/clients/{id}/edit")).await;
    assert!(form.body.contains("fra=Portail santé"), "{}", form.body);
    let r = web
        .post(
            &format!("/portal/clients/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("clientName", "Health portal 2"),
                (
                    "clientNameLangMap",
                    "eng=Health portal 2\nfra=Portail santé",
                ),
                ("logoUri", "https://a.example/logo.png"),
                ("redirectUris", "https://a.example/cb"),
                ("redirectUris", "https://a.example/cb2"),
                ("grantTypes", "authorization_code"),
                ("clientAuthMethods", "private_key_jwt"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let got = app.get(&path, "orgA", AUTH_PARTNER).await.ok().clone();
    assert_eq!(got["name"], "Health portal 2");
    assert_eq!(got["clientNameLangMap"]["fra"], "Portail santé");
    assert_eq!(got["redirectUris"].as_array().unwrap().len(), 2);
    // deactivate keeps everything else and cannot be repeated
    let r = web
        .post(
            &format!("/portal/clients/{id}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let got = app.get(&path, "orgA", AUTH_PARTNER).await.ok().clone();
    assert_eq!(got["status"], "INACTIVE");
    assert_eq!(got["clientNameLangMap"]["fra"], "Portail santé");
    let detail = web.get(&format!("/portal/clients/{id}")).await;
    assert!(
        !detail.body.contains("/deactivate\""),
        "no deactivate link once inactive"
    );
    let r = unchanged!(
        app,
        web.post(
            &format!("/portal/clients/{id}/deactivate"),
            &[("csrf", &csrf)]
        )
        .await
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("PMS_ESI_008"), "{}", r.body);
}

#[tokio::test]
async fn the_portal_can_be_switched_off() {
    let app = spawn_with(|c| c.portal.enabled = false).await;
    let mut web = Web::of(&app);
    for page in [
        "/portal",
        "/portal/dev-sign-in",
        "/portal/assets/portal.css",
    ] {
        let r = web.get(page).await;
        assert_eq!(r.status, 404, "{page}");
        // the API's own 404, not a portal page
        assert!(r.body.contains("PMS_EXT_003"), "{}", r.body);
    }
}

/// A store outage in the portal is a plain 503 page with `Retry-After`, not a problem placed
/// next to a field of the form. The disk really fills up (a small tmpfs, as in the API suite's
/// outage tests), and the portal recovers with it.
#[tokio::test]
async fn a_store_outage_is_a_plain_503_page() {
    let Some(disk) = SmallDisk::mount("16m") else {
        eprintln!("skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let data = tempfile::tempdir_in(disk.path()).unwrap();
    let db = TestDb::Sqlite(data.path().join("pms.db"));
    let app = spawn_in(data, db, |_| {}).await;
    let mut web = Web::of(&app);
    let csrf = web.dev_sign_in("pm1", &["POLICYMANAGER"]).await;
    let filler = fill(disk.path(), 256 * 1024);
    let mut refused = None;
    for i in 0..2000 {
        let name = format!("group {i} {}", "x".repeat(100));
        let r = web
            .post(
                "/portal/policy/groups",
                &[("csrf", &csrf), ("name", &name), ("desc", "d")],
            )
            .await;
        if r.status != 303 {
            refused = Some(r);
            break;
        }
    }
    let page = refused.expect("the disk never filled up");
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(
        page.body.contains("Service temporarily unavailable"),
        "{}",
        page.body
    );
    assert!(page.body.contains("disk full"), "{}", page.body);
    assert!(page.headers.get("retry-after").is_some());

    std::fs::remove_file(filler).unwrap();
    let r = web
        .post(
            "/portal/policy/groups",
            &[("csrf", &csrf), ("name", "after"), ("desc", "d")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// A query or path the portal cannot read is a portal error page (HTML, the portal's layout,
/// its security headers) with a 400, never axum's plain-text rejection; a wrong method is a
/// page too (405).
#[tokio::test]
async fn unreadable_queries_and_paths_are_portal_error_pages() {
    let app = spawn_app().await;
    let mut web = Web::of(&app);
    web.dev_sign_in(
        "admin1",
        &["PARTNER_ADMIN", "POLICYMANAGER", "AUTH_PARTNER"],
    )
    .await;
    for path in [
        "/portal/clients?pageNo=-1",
        "/portal/clients?pageNo=x",
        "/portal/admin/partners?pageNo=-1",
        "/portal/admin/mappings?pageNo=99999999999",
        "/portal/admin/clients?pageNo=%FF",
        "/portal/admin/deliveries?pageNo=1.5",
        "/portal/clients/%FF",
        "/portal/clients/%FF/edit",
        "/portal/clients/%FF?pageNo=-1",
    ] {
        let r = web.get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        let ctype = r.headers["content-type"].to_str().unwrap();
        assert!(ctype.starts_with("text/html"), "{path}: {ctype}");
        assert!(r.headers.contains_key("content-security-policy"), "{path}");
        assert!(r.body.contains("error-box"), "{path}: {}", r.body);
        assert!(
            r.body.contains("<nav"),
            "{path}: the portal's layout: {}",
            r.body
        );
        assert!(
            !r.body.contains("Failed to deserialize"),
            "{path}: {}",
            r.body
        );
        assert!(!r.body.contains("Invalid UTF-8"), "{path}: {}", r.body);
    }
    // a page asked with a method it does not take
    let r = web.get("/portal/sign-out").await;
    assert_eq!(r.status, 405, "{}", r.body);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.body.contains("error-box"), "{}", r.body);
    // a path parameter of a POST: the CSRF check passes, the path is refused, nothing changes
    let csrf = web.get("/portal").await.csrf();
    let r = unchanged!(
        app,
        web.post("/portal/admin/clients/%FF/redeliver", &[("csrf", &csrf)])
            .await
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("error-box"), "{}", r.body);
}
