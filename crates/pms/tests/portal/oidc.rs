//! OIDC sign-in with PKCE against a stand-in provider started by the test: discovery, authorize
//! (redirects back with a code), a token endpoint that checks the code verifier against the S256
//! challenge, refresh-token grants and a JWKS. pms verifies everything as for Keycloak.

use crate::helpers::*;
use crate::web::Web;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pms_domain::Clock;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CLIENT: &str = "pms-portal";

struct Provider {
    issuer: String,
    key: EncodingKey,
    jwk: Value,
    now: AtomicI64,
    /// code → (challenge, nonce, redirect_uri)
    codes: Mutex<HashMap<String, (String, String, String)>>,
    refreshes: AtomicUsize,
    bad_verifiers: AtomicUsize,
}

impl Provider {
    fn sign(&self, claims: Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some("op-1".into());
        jsonwebtoken::encode(&h, &claims, &self.key).unwrap()
    }

    fn tokens(&self, nonce: Option<&str>, n: usize) -> Value {
        let now = self.now.load(Ordering::SeqCst);
        let access = self.sign(json!({
            "iss": self.issuer, "sub": "u-alice", "preferred_username": "alice",
            "realm_access": { "roles": ["AUTH_PARTNER"] }, "azp": CLIENT, "aud": "account",
            "iat": now, "exp": now + 300, "n": n,
        }));
        let mut t = json!({ "access_token": access, "token_type": "Bearer", "expires_in": 300,
                            "refresh_token": format!("rt-{n}") });
        if let Some(nonce) = nonce {
            t["id_token"] = json!(self.sign(json!({
                "iss": self.issuer, "sub": "u-alice", "aud": CLIENT, "nonce": nonce,
                "iat": now, "exp": now + 300,
            })));
        }
        t
    }
}

async fn discovery(State(p): State<Arc<Provider>>) -> Response {
    axum::Json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/auth", p.issuer),
        "token_endpoint": format!("{}/token", p.issuer),
        "jwks_uri": format!("{}/certs", p.issuer),
    }))
    .into_response()
}

async fn authorize(
    State(p): State<Arc<Provider>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("code_challenge").is_some_and(|c| c.len() == 43)
        && q.get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid"));
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let redirect = q["redirect_uri"].clone();
    p.codes.lock().unwrap().insert(
        code.clone(),
        (
            q["code_challenge"].clone(),
            q["nonce"].clone(),
            redirect.clone(),
        ),
    );
    let sep = if redirect.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect}{sep}code={code}&state={}", q["state"])).into_response()
}

async fn token(State(p): State<Arc<Provider>>, body: Bytes) -> Response {
    let f: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let refused =
        |e: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": e }))).into_response();
    if f.get("client_id").map(String::as_str) != Some(CLIENT) {
        return refused("invalid_client");
    }
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some((challenge, nonce, redirect)) = f
                .get("code")
                .and_then(|c| p.codes.lock().unwrap().remove(c))
            else {
                return refused("invalid_grant");
            };
            if f.get("redirect_uri") != Some(&redirect) {
                return refused("invalid_grant");
            }
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
            if computed != challenge {
                p.bad_verifiers.fetch_add(1, Ordering::SeqCst);
                return refused("invalid_grant");
            }
            axum::Json(p.tokens(Some(&nonce), 0)).into_response()
        }
        Some("refresh_token") => {
            if !f.get("refresh_token").is_some_and(|r| r.starts_with("rt-")) {
                return refused("invalid_grant");
            }
            let n = p.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
            axum::Json(p.tokens(None, n)).into_response()
        }
        _ => refused("unsupported_grant_type"),
    }
}

async fn start_provider(now: i64) -> Arc<Provider> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
    jwk["kid"] = json!("op-1");
    jwk["use"] = json!("sig");
    jwk["alg"] = json!("ES256");
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let p = Arc::new(Provider {
        issuer: format!("http://{addr}/realms/mosip"),
        key: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        jwk,
        now: AtomicI64::new(now),
        codes: Mutex::new(HashMap::new()),
        refreshes: AtomicUsize::new(0),
        bad_verifiers: AtomicUsize::new(0),
    });
    let jwks = json!({ "keys": [p.jwk.clone()] });
    let router = axum::Router::new()
        .route(
            "/realms/mosip/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/realms/mosip/auth", get(authorize))
        .route("/realms/mosip/token", post(token))
        .route(
            "/realms/mosip/certs",
            get(move || async move { axum::Json(jwks.clone()) }),
        )
        .with_state(p.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    p
}

fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace('+', " ");
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' && i + 2 < b.len() {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            (k.to_string(), String::from_utf8(out).unwrap())
        })
        .collect()
}

/// The provider's settings for pms, without `portal.redirect_uri`.
fn use_provider(c: &mut pms::config::Config, p: &Provider) {
    c.auth.mode = pms::config::AuthMode::Jwks;
    c.auth.jwks_uri = format!("{}/certs", p.issuer);
    c.auth.issuer = p.issuer.clone();
    c.portal.oidc_client_id = CLIENT.into();
    c.portal.cookie_secure = false;
}

async fn jwks_app(p: &Provider) -> TestApp {
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 1, 9, 0, 0).unwrap();
    spawn_at_own_address(start, |c, base| {
        use_provider(c, p);
        c.portal.redirect_uri = format!("{base}/portal/callback");
    })
    .await
}

/// The parts of a response a hostile `Host` header must not reach.
#[track_caller]
fn assert_host_not_echoed(page: &crate::web::Page, what: &str) {
    for (name, value) in &page.headers {
        let v = value.to_str().unwrap_or("").to_ascii_lowercase();
        assert!(!v.contains("evil.example"), "{what}: {name}: {v}");
    }
    if let Some(l) = &page.location {
        for (k, v) in query_of(l) {
            assert!(!v.contains("evil.example"), "{what}: Location {k}={v}");
        }
    }
    assert!(!page.body.contains("evil.example"), "{what}: {}", page.body);
}

/// The portal names only `portal.redirect_uri` as its callback: a hostile `Host` header reaches
/// no authorization redirect, no `Location` and no page, whether or not the address is set.
#[tokio::test]
async fn a_hostile_host_header_reaches_no_redirect() {
    const EVIL: &str = "evil.example:443/x?";
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 1, 9, 0, 0)
        .unwrap()
        .timestamp();
    let provider = start_provider(start).await;
    // Without the address (start-up refuses this configuration; the portal itself must not
    // fall back to the request's Host either): no sign-in starts.
    let bare = spawn_with(|c| use_provider(c, &provider)).await;
    let mut web = Web::of(&bare);
    web.host = Some(EVIL.into());
    let r = web.get("/portal/login").await;
    assert_host_not_echoed(&r, "login without portal.redirect_uri");
    assert_ne!(r.status, 303, "{:?}", r.location);
    assert!(!web.cookies.contains_key("pms_oidc"));

    // With the address: the whole sign-in, every request to pms carrying the hostile Host.
    let app = jwks_app(&provider).await;
    let mut web = Web::of(&app);
    web.host = Some(EVIL.into());
    for path in [
        "/portal",
        "/portal/",
        "/portal/sign-in",
        "/portal/clients",
        "/portal/no-such-page",
        "/portal/callback?state=forged&code=forged",
    ] {
        let r = web.get(path).await;
        assert_host_not_echoed(&r, path);
    }
    let go = web.get("/portal/login").await;
    assert_host_not_echoed(&go, "/portal/login");
    assert_eq!(go.status, 303, "{}", go.body);
    let authorize_url = go.location.clone().unwrap();
    assert!(
        authorize_url.starts_with(&format!("{}/auth?", provider.issuer)),
        "{authorize_url}"
    );
    assert_eq!(
        query_of(&authorize_url)["redirect_uri"],
        format!("{}/portal/callback", app.base)
    );
    let back = web.get(&authorize_url).await;
    let callback = back.location.unwrap();
    assert!(callback.starts_with(&app.base), "{callback}");
    let done = web.get(&callback).await;
    assert_host_not_echoed(&done, "/portal/callback");
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/portal"));
    let home = web.get("/portal").await;
    assert_host_not_echoed(&home, "/portal signed in");
    assert!(home.body.contains("Welcome, alice"), "{}", home.body);
    let csrf = home.csrf();
    let out = web.post("/portal/sign-out", &[("csrf", &csrf)]).await;
    assert_host_not_echoed(&out, "/portal/sign-out");
}

#[tokio::test]
async fn pkce_login_refresh_and_logout() {
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 1, 9, 0, 0)
        .unwrap()
        .timestamp();
    let provider = start_provider(start).await;
    let app = jwks_app(&provider).await;
    assert_eq!(app.clock.now().timestamp(), start);
    let mut web = Web::of(&app);
    let sign_in = web.get("/portal/sign-in").await;
    assert!(sign_in.body.contains("/portal/login"), "{}", sign_in.body);
    // 1. pms sends the browser to the provider with a PKCE challenge, state and nonce
    let go = web.get("/portal/login").await;
    assert_eq!(go.status, 303, "{}", go.body);
    let authorize_url = go.location.clone().unwrap();
    assert!(
        authorize_url.starts_with(&format!("{}/auth?", provider.issuer)),
        "{authorize_url}"
    );
    let q = query_of(&authorize_url);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], format!("{}/portal/callback", app.base));
    assert!(!q["state"].is_empty() && !q["nonce"].is_empty());
    let pending = web.cookies.get("pms_oidc").cloned().unwrap();
    // 2. the provider answers with a code
    let back = web.get(&authorize_url).await;
    assert_eq!(back.status, 303);
    let callback = back.location.unwrap();
    // a callback whose state is not the one sent is refused
    let forged = callback.replace(&format!("state={}", q["state"]), "state=forged");
    let r = web.get(&forged).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!web.cookies.contains_key("pms_access"));
    // the refused callback also dropped the pending login: restore it (same browser, retried)
    web.cookies.insert("pms_oidc".into(), pending.clone());
    // a pending-login cookie changed by hand (another verifier, say) is refused
    let mut tampered = pending.clone();
    tampered.insert(5, 'x');
    web.cookies.insert("pms_oidc".into(), tampered);
    let r = web.get(&callback).await;
    assert_eq!(r.status, 400);
    assert!(!web.cookies.contains_key("pms_access"));
    // 3. the real callback: code redeemed with the verifier, ID token checked, signed in
    web.cookies.insert("pms_oidc".into(), pending);
    let done = web.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/portal"));
    assert_eq!(provider.bad_verifiers.load(Ordering::SeqCst), 0);
    assert!(web.cookies.contains_key("pms_access"));
    assert_eq!(
        web.cookies.get("pms_refresh").map(String::as_str),
        Some("rt-0")
    );
    assert!(!web.cookies.contains_key("pms_oidc"));
    let home = web.get("/portal").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Welcome, alice"), "{}", home.body);
    // a code is good once
    let again = web.get(&callback).await;
    assert_eq!(again.status, 400);
    // 4. close to expiry the token is refreshed before the page runs
    let first = web.cookies["pms_access"].clone();
    app.clock.advance(chrono::Duration::seconds(270));
    provider.now.store(start + 270, Ordering::SeqCst);
    let page = web.get("/portal/partner").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    assert_ne!(web.cookies["pms_access"], first);
    assert_eq!(web.cookies["pms_refresh"], "rt-1");
    // a fresh token is not refreshed again
    web.get("/portal/partner").await;
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    // 5. logout clears the cookies, also when the token is due for a refresh: no refresh token
    // is spent and no new token undoes the sign-out
    let csrf = web.get("/portal").await.csrf();
    app.clock.advance(chrono::Duration::seconds(270));
    let out = web.post("/portal/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200);
    assert!(
        !web.cookies.contains_key("pms_access"),
        "{:?}",
        out.set_cookies()
    );
    assert!(!web.cookies.contains_key("pms_refresh"));
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    let r = web.get("/portal/clients").await;
    assert_eq!(r.status, 303);
}
