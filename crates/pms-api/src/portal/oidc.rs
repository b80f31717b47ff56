//! OpenID Connect sign-in for `auth.mode = jwks`: authorization code with PKCE (S256), `state`
//! and `nonce` checked, the ID token's signature verified with the API's JWKS, refresh before
//! expiry (see [`super::session::session`]).
//!
//! The pending login (state, nonce, code verifier) travels in a short-lived `HttpOnly` cookie
//! signed with the portal secret, so no server-side store is needed and any pms node can finish
//! a login another began.
//!
//! The callback address sent to the provider is `portal.redirect_uri`, never one built from the
//! request's `Host` header: that header is the client's to choose, and a provider that accepted
//! a look-alike would hand the code to whoever named it.

use super::extract::Query;
use super::session::{self, random_token, set_cookie};
use super::{layout, Portal, St, PREFIX};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The OIDC client the portal signs in with (`portal.*`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `auth.issuer`: discovery is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Empty for a public client. Held as a secret so that no `Debug` output shows it.
    pub client_secret: SecretString,
    /// Empty: from discovery.
    pub authorization_endpoint: String,
    /// Empty: from discovery.
    pub token_endpoint: String,
    /// The callback registered at the issuer (`portal.redirect_uri`). Required: it is never
    /// derived from a request's `Host`, which the client chooses. Empty: the sign-in answers an
    /// error page.
    pub redirect_uri: String,
    pub scopes: String,
}

/// The endpoints in use, configured or discovered once.
#[derive(Debug, Clone)]
pub struct Endpoints {
    authorization: String,
    token: String,
}

/// A token response.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

/// The pending-login cookie.
const PENDING: &str = "pms_oidc";

async fn endpoints<'p>(p: &'p Portal, o: &OidcSettings) -> Result<&'p Endpoints, String> {
    p.endpoints
        .get_or_try_init(|| async {
            if !o.authorization_endpoint.is_empty() && !o.token_endpoint.is_empty() {
                return Ok(Endpoints {
                    authorization: o.authorization_endpoint.clone(),
                    token: o.token_endpoint.clone(),
                });
            }
            let url = format!(
                "{}/.well-known/openid-configuration",
                o.issuer.trim_end_matches('/')
            );
            let doc: Value = p
                .http
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| format!("OIDC discovery failed: {e}"))?
                .json()
                .await
                .map_err(|e| format!("OIDC discovery unreadable: {e}"))?;
            let field = |configured: &str, name: &str| -> Result<String, String> {
                if !configured.is_empty() {
                    return Ok(configured.to_string());
                }
                doc.get(name)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("OIDC discovery has no {name}"))
            };
            Ok(Endpoints {
                authorization: field(&o.authorization_endpoint, "authorization_endpoint")?,
                token: field(&o.token_endpoint, "token_endpoint")?,
            })
        })
        .await
}

/// The configured callback; `None` when unset (configuration validation requires it).
fn redirect_uri(o: &OidcSettings) -> Option<&str> {
    Some(o.redirect_uri.as_str()).filter(|r| !r.is_empty())
}

fn not_configured() -> Response {
    layout::error_page(
        None,
        StatusCode::NOT_FOUND,
        "Not found",
        "OIDC sign-in is not configured.",
    )
}

fn failed(message: &str) -> Response {
    layout::error_page(None, StatusCode::BAD_REQUEST, "Sign-in failed", message)
}

/// `GET /portal/login`: starts the authorization-code flow.
pub async fn login(State(p): St) -> Response {
    let Some(o) = &p.settings.oidc else {
        return not_configured();
    };
    let Some(redirect) = redirect_uri(o) else {
        tracing::error!("portal: portal.redirect_uri is not set; no sign-in is started");
        return not_configured();
    };
    let eps = match endpoints(&p, o).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "portal: OIDC endpoints unavailable");
            return failed("The sign-in service cannot be reached. Try again later.");
        }
    };
    let (state, nonce, verifier) = (random_token(), random_token(), random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let pending = URL_SAFE_NO_PAD
        .encode(json!({ "state": state, "nonce": nonce, "verifier": verifier }).to_string());
    let signed = format!("{pending}.{}", session::sign(&p, pending.as_bytes()));
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", o.client_id.as_str()),
        ("redirect_uri", redirect),
        ("scope", o.scopes.as_str()),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    let sep = if eps.authorization.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut resp = Redirect::to(&format!("{}{sep}{query}", eps.authorization)).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&p, PENDING, Some(&signed), Some(Duration::from_secs(600))),
    );
    resp
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The pending login of the cookie, if its signature holds.
fn pending_of(p: &Portal, headers: &HeaderMap) -> Option<Value> {
    let raw = session::cookie(headers, PENDING)?;
    let (payload, tag) = raw.split_once('.')?;
    if !session::verify(p, payload.as_bytes(), tag) {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// `GET /portal/callback`: checks `state`, redeems the code with the verifier, checks the ID
/// token (signature, issuer, audience, nonce, expiry) and that pms accepts the access token.
pub async fn callback(State(p): St, headers: HeaderMap, Query(cb): Query<Callback>) -> Response {
    let Some(o) = &p.settings.oidc else {
        return not_configured();
    };
    let mut resp = finish(&p, o, &headers, cb).await;
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&p, PENDING, None, None));
    resp
}

async fn finish(p: &Portal, o: &OidcSettings, headers: &HeaderMap, cb: Callback) -> Response {
    let Some(pending) = pending_of(p, headers) else {
        return failed("This sign-in was not started here or has expired. Sign in again.");
    };
    let text = |k: &str| pending.get(k).and_then(Value::as_str).unwrap_or("");
    if cb.state.as_deref() != Some(text("state")) {
        return failed(
            "The sign-in answer does not match the sign-in request (state). Sign in again.",
        );
    }
    if let Some(e) = cb.error {
        return failed(&format!("The sign-in service refused the sign-in: {e}."));
    }
    let Some(code) = cb.code else {
        return failed("The sign-in answer carries no code.");
    };
    let Some(redirect) = redirect_uri(o) else {
        return not_configured();
    };
    let tokens = match token_request(
        p,
        o,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", text("verifier")),
        ],
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "portal: code exchange failed");
            return failed("The sign-in service did not accept the sign-in code.");
        }
    };
    if let Err(e) = check_id_token(p, o, tokens.id_token.as_deref(), text("nonce")).await {
        tracing::warn!(error = %e, "portal: ID token refused");
        return failed("The sign-in answer could not be verified.");
    }
    if p.app
        .auth
        .authenticate(&tokens.access_token)
        .await
        .is_none()
    {
        return failed(
            "pms does not accept the access token of this sign-in (check auth.allowed_audiences).",
        );
    }
    let mut resp = super::see_other(PREFIX);
    let h = resp.headers_mut();
    for c in session::token_cookies(p, &tokens) {
        h.append(header::SET_COOKIE, c);
    }
    h.append(
        header::SET_COOKIE,
        set_cookie(p, session::SID, Some(&random_token()), None),
    );
    resp
}

async fn check_id_token(
    p: &Portal,
    o: &OidcSettings,
    id_token: Option<&str>,
    nonce: &str,
) -> Result<(), String> {
    let token = id_token.ok_or("no id_token")?;
    let claims = p.app.auth.verify_signature(token).await?;
    if claims.get("iss").and_then(Value::as_str) != Some(o.issuer.as_str()) {
        return Err("wrong issuer".into());
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == o.client_id,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(&o.client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err("wrong audience".into());
    }
    if nonce.is_empty() || claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err("nonce mismatch".into());
    }
    let exp = claims.get("exp").and_then(Value::as_f64).ok_or("no exp")?;
    let leeway = p.app.auth.settings().leeway_seconds as f64;
    if exp + leeway <= p.app.clock.now().timestamp() as f64 {
        return Err("expired".into());
    }
    Ok(())
}

/// A refresh-token grant.
pub async fn refresh(p: &Portal, refresh_token: &str) -> Result<Tokens, String> {
    let o = p.settings.oidc.as_ref().ok_or("no OIDC client")?;
    let mut t = token_request(
        p,
        o,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await?;
    if p.app.auth.authenticate(&t.access_token).await.is_none() {
        return Err("the refreshed access token is not accepted".into());
    }
    // Keep the old refresh token when the provider does not rotate it.
    if t.refresh_token.is_none() {
        t.refresh_token = Some(refresh_token.to_string());
    }
    Ok(t)
}

async fn token_request(
    p: &Portal,
    o: &OidcSettings,
    params: &[(&str, &str)],
) -> Result<Tokens, String> {
    let eps = endpoints(p, o).await?;
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("client_id", &o.client_id));
    let secret = o.client_secret.expose_secret();
    if !secret.is_empty() {
        form.push(("client_secret", secret));
    }
    let body = serde_urlencoded::to_string(&form).map_err(|e| e.to_string())?;
    let resp = p
        .http
        .post(&eps.token)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("token endpoint: {e}"))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("token endpoint: {e}"))?;
    if !status.is_success() {
        return Err(format!("token endpoint answered {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("token response: {e}"))
}
