//! Cookies, the browser session id and its CSRF token, token refresh, and the sign-in pages.

use super::{layout, oidc, MaybeUser, Portal, St, PREFIX};
use crate::portal::forms::Form;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use maud::html;
use secrecy::ExposeSecret as _;
use serde_json::Value;
use sha2::Sha256;
use std::time::Duration;

/// The browser's session id: what CSRF tokens are bound to.
pub const SID: &str = "pms_sid";
/// The access token.
pub const ACCESS: &str = "pms_access";
/// The refresh token (OIDC login only).
pub const REFRESH: &str = "pms_refresh";
/// The sign-out route (never refreshes).
const SIGN_OUT: &str = "/portal/sign-out";
/// A token this close to its expiry is refreshed first.
const REFRESH_MARGIN_SECONDS: i64 = 60;

/// The value of cookie `name` of a request.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Replaces (or with `None` removes) cookie `name` in the request's `Cookie` header, so that
/// handlers see what the response is about to set.
fn set_request_cookie(headers: &mut HeaderMap, name: &str, value: Option<&str>) {
    let mut pairs: Vec<(String, String)> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(n, _)| *n != name)
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    if let Some(v) = value {
        pairs.push((name.to_string(), v.to_string()));
    }
    headers.remove(header::COOKIE);
    let joined = pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(header::COOKIE, v);
    }
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, path `/portal`, `Secure` as configured;
/// `None` deletes the cookie. `max_age` `None` makes a browser-session cookie.
pub fn set_cookie(
    p: &Portal,
    name: &str,
    value: Option<&str>,
    max_age: Option<Duration>,
) -> HeaderValue {
    let secure = if p.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = match (value, max_age) {
        (None, _) => format!("{name}=; Path={PREFIX}; HttpOnly; SameSite=Lax{secure}; Max-Age=0"),
        (Some(v), Some(age)) => format!(
            "{name}={v}; Path={PREFIX}; HttpOnly; SameSite=Lax{secure}; Max-Age={}",
            age.as_secs()
        ),
        (Some(v), None) => format!("{name}={v}; Path={PREFIX}; HttpOnly; SameSite=Lax{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn valid_sid(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// HMAC-SHA256 of `data` under the portal's secret, base64url.
pub fn sign(p: &Portal, data: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(p.settings.csrf_secret.expose_secret()) else {
        return String::new();
    };
    mac.update(data);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `tag` is the HMAC of `data` (constant-time comparison).
pub fn verify(p: &Portal, data: &[u8], tag: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(p.settings.csrf_secret.expose_secret()) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(&tag).is_ok()
}

/// The CSRF token of the request's session id (empty without one).
pub fn csrf_of(p: &Portal, headers: &HeaderMap) -> String {
    cookie(headers, SID)
        .map(|sid| sign(p, format!("csrf:{sid}").as_bytes()))
        .unwrap_or_default()
}

/// Whether `token` is the CSRF token of the request's session id.
pub fn csrf_ok(p: &Portal, headers: &HeaderMap, token: &str) -> bool {
    match cookie(headers, SID) {
        Some(sid) if !token.is_empty() => verify(p, format!("csrf:{sid}").as_bytes(), token),
        _ => false,
    }
}

/// The `exp` claim of a JWT, read without verification (only to time a refresh).
pub fn expiry_of(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_f64().map(|e| e as i64)
}

/// Gives every browser a session id, and refreshes an access token about to expire when a
/// refresh token is at hand; what it sets is visible to the handler and sent back as cookies.
pub async fn session(State(p): St, mut req: Request, next: Next) -> Response {
    // As the API: no backend can store a NUL character, so none gets in.
    if crate::input::nul_in(req.uri()).is_some() {
        return layout::error_page(
            None,
            StatusCode::BAD_REQUEST,
            "Bad address",
            "The address contains a NUL character (%00).",
        );
    }
    let mut set = Vec::new();
    if !cookie(req.headers(), SID).is_some_and(valid_sid) {
        let sid = random_token();
        set_request_cookie(req.headers_mut(), SID, Some(&sid));
        set.push(set_cookie(&p, SID, Some(&sid), None));
    }
    // Assets are fetched by a page that was just served (and refreshed if needed): they never
    // refresh, so parallel fetches do not spend one refresh token several times. Sign-out ends
    // the session: a refresh there would spend a refresh token only to hand new tokens back.
    let path = req.uri().path();
    let skip = path.starts_with("/portal/assets/") || path == SIGN_OUT;
    if let (false, Some(_), Some(refresh)) = (
        skip,
        &p.settings.oidc,
        cookie(req.headers(), REFRESH).map(str::to_string),
    ) {
        let now = p.app.clock.now().timestamp();
        let due = cookie(req.headers(), ACCESS)
            .and_then(expiry_of)
            .is_none_or(|exp| exp - REFRESH_MARGIN_SECONDS <= now);
        if due {
            match oidc::refresh(&p, &refresh).await {
                Ok(tokens) => {
                    set_request_cookie(req.headers_mut(), ACCESS, Some(&tokens.access_token));
                    set.extend(token_cookies(&p, &tokens));
                    if let Some(r) = &tokens.refresh_token {
                        set_request_cookie(req.headers_mut(), REFRESH, Some(r));
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "portal: token refresh failed; signing out");
                    set_request_cookie(req.headers_mut(), ACCESS, None);
                    set_request_cookie(req.headers_mut(), REFRESH, None);
                    set.push(set_cookie(&p, ACCESS, None, None));
                    set.push(set_cookie(&p, REFRESH, None, None));
                }
            }
        }
    }
    let mut resp = next.run(req).await;
    // A cookie the handler set (or deleted) is its word: the browser keeps the last of two
    // `Set-Cookie`s of one name, so ours would undo, say, a sign-out.
    let by_handler: Vec<String> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split_once('=').map(|(n, _)| n.to_string()))
        .collect();
    for c in set {
        let name = c
            .to_str()
            .ok()
            .and_then(|v| v.split_once('='))
            .map(|(n, _)| n);
        if !name.is_some_and(|n| by_handler.iter().any(|h| h == n)) {
            resp.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    resp
}

/// The cookies of a token response.
pub fn token_cookies(p: &Portal, t: &oidc::Tokens) -> Vec<HeaderValue> {
    let mut out = vec![set_cookie(p, ACCESS, Some(&t.access_token), None)];
    if let Some(r) = &t.refresh_token {
        out.push(set_cookie(p, REFRESH, Some(r), None));
    }
    out
}

/// `/portal`: the signed-in person's starting points.
pub async fn home(user: MaybeUser) -> Response {
    let Some(user) = user.0 else {
        return super::see_other(&format!("{PREFIX}/sign-in"));
    };
    let body = html! {
        h1 { "Welcome, " (user.id()) }
        @if user.nav.is_empty() {
            p { "None of your roles gives access to a portal page. Ask an administrator for a role." }
        } @else {
            ul.tiles {
                @for (href, label) in &user.nav {
                    li { a href=(href) { (label) } }
                }
            }
        }
    };
    layout::ok(layout::page("Partner portal", Some(&user), body))
}

/// `/portal/sign-in`: dev sign-in, the OIDC login, or why there is none.
pub async fn sign_in(State(p): St) -> Response {
    if p.settings.dev_issuer.is_some() {
        return super::see_other(&format!("{PREFIX}/dev-sign-in"));
    }
    let body = match &p.settings.oidc {
        Some(o) => html! {
            h1 { "Sign in" }
            p { "You sign in with your organisation's account at " span.id { (o.issuer) } "." }
            p { a.button href={(PREFIX) "/login"} { "Sign in" } }
        },
        None => html! {
            h1 { "Sign in" }
            p { "Sign-in is not configured: set " code { "portal.oidc_client_id" } " (see the README)." }
        },
    };
    layout::ok(layout::page("Sign in", None, body))
}

/// `POST /portal/sign-out`: forgets the tokens and the session id.
pub async fn sign_out(State(p): St) -> Response {
    let body = html! {
        h1 { "Signed out" }
        p { a href={(PREFIX) "/sign-in"} { "Sign in again" } }
    };
    let mut resp = layout::ok(layout::page("Signed out", None, body));
    let h = resp.headers_mut();
    for name in [ACCESS, REFRESH, SID] {
        h.append(header::SET_COOKIE, set_cookie(&p, name, None, None));
    }
    resp
}

/// The roles offered on the dev sign-in page.
const DEV_ROLES: &[&str] = &[
    "AUTH_PARTNER",
    "PARTNER_ADMIN",
    "POLICYMANAGER",
    "PARTNERMANAGER",
    "PARTNER",
];

/// `GET /portal/dev-sign-in` (only routed with `auth.mode = dev`).
pub async fn dev_sign_in_form(user: MaybeUser) -> Response {
    layout::ok(dev_page(&user.1, "", &[], None))
}

fn dev_page(csrf: &str, user_id: &str, roles: &[&str], problem: Option<&str>) -> maud::Markup {
    let body = html! {
        h1 { "Dev sign-in" }
        p.note { "auth.mode = dev: this page mints a token of the embedded dev issuer. It does not exist with auth.mode = jwks." }
        form method="post" action={(PREFIX) "/dev-sign-in"} {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="user" { "User id" }
                input #user type="text" name="user" value=(user_id) required autocomplete="username"
                    aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| "user-error")];
                @if let Some(m) = problem { p.error #user-error { (m) } }
            }
            fieldset {
                legend { "Roles" }
                @for r in DEV_ROLES {
                    div.check {
                        input type="checkbox" id={"role-" (r)} name="roles" value=(r) checked[roles.contains(r)];
                        label for={"role-" (r)} { (r) }
                    }
                }
            }
            button type="submit" { "Sign in" }
        }
    };
    layout::page("Dev sign-in", None, body)
}

/// `POST /portal/dev-sign-in`: a dev token for the user and roles, in the access cookie.
pub async fn dev_sign_in(State(p): St, Extension(form): Extension<Form>) -> Response {
    let Some(issuer) = &p.settings.dev_issuer else {
        return layout::error_page(None, StatusCode::NOT_FOUND, "Not found", "No such page.");
    };
    let user = form.get("user").trim().to_string();
    let roles: Vec<&str> = form
        .all("roles")
        .into_iter()
        .filter(|r| DEV_ROLES.contains(r))
        .collect();
    if user.is_empty() || user.chars().any(char::is_whitespace) {
        let csrf = form.get("csrf");
        let mut resp = layout::ok(dev_page(
            csrf,
            &user,
            &roles,
            Some("Enter a user id without spaces."),
        ));
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return resp;
    }
    let owned: Vec<String> = roles.iter().map(|r| (*r).to_string()).collect();
    let ttl = p.settings.dev_token_ttl;
    let token = match issuer.mint(&user, &owned, ttl, p.app.clock.now()) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "portal: cannot mint a dev token");
            return layout::error_page(
                None,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "The dev issuer could not sign a token.",
            );
        }
    };
    let mut resp = super::see_other(PREFIX);
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&p, ACCESS, Some(&token), None),
    );
    // A new session id at sign-in: forms of the anonymous session stop working.
    h.append(
        header::SET_COOKIE,
        set_cookie(&p, SID, Some(&random_token()), None),
    );
    resp
}
