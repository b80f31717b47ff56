//! The partner portal: server-rendered pages under `/portal` for auth partners, partner admins and
//! policy managers (issue 7).
//!
//! Every page runs the same domain operations as the API, with the same role checks
//! ([`AppState::roles`]) and the same field parsing (the `*_command` readers of [`crate::routes`]
//! fed a v1 envelope built from the form), so no rule exists twice and the same audit records are
//! written. Errors come from the one mapping of [`crate::wire`] and are shown next to the field
//! that caused them.
//!
//! Sessions: the access token lives in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` unless
//! `portal.cookie_secure = false`) and is checked on every request by the API's
//! [`crate::auth::Authenticator`]. A random `pms_sid` cookie identifies the browser; every POST
//! must carry `csrf = HMAC-SHA256(portal.csrf_secret, pms_sid)` or it is refused (403) before any
//! handler runs. Pages send a strict Content-Security-Policy: scripts and styles only from the
//! embedded asset files.

mod admin;
mod assets;
mod clients;
mod extract;
mod forms;
mod layout;
mod oidc;
mod partner;
mod policy;
mod session;

use crate::auth::{Caller, DevIssuer};
use crate::wire::ApiError;
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::Router;
use secrecy::SecretSlice;
use std::sync::Arc;
use std::time::Duration;

pub use oidc::OidcSettings;

/// The portal's answer to a request not completed within `http.request_timeout_seconds`.
pub fn request_timeout_page(seconds: u64) -> axum::response::Response {
    layout::error_page(
        None,
        axum::http::StatusCode::REQUEST_TIMEOUT,
        "Request timed out",
        &format!("The request was not completed within {seconds} seconds. Please try again."),
    )
}

/// The path prefix of every portal page.
pub const PREFIX: &str = "/portal";

/// What the portal needs beyond [`AppState`].
pub struct PortalSettings {
    /// The `Secure` attribute of the portal's cookies (`portal.cookie_secure`).
    pub cookie_secure: bool,
    /// The key of the CSRF tokens (`portal.csrf_secret`; random per process when unset).
    pub csrf_secret: SecretSlice<u8>,
    /// `Some` with `auth.mode = dev`: the issuer the dev sign-in page mints tokens with.
    pub dev_issuer: Option<DevIssuer>,
    /// Lifetime of a dev sign-in token.
    pub dev_token_ttl: Duration,
    /// `Some` with `auth.mode = jwks` and `portal.oidc_client_id` set: the OIDC login.
    pub oidc: Option<OidcSettings>,
    /// Dev mode on a non-loopback address (`auth.allow_dev_mode_on_public_address`): every
    /// page carries a warning that anyone can sign in as anyone.
    pub public_dev_mode: bool,
}

impl std::fmt::Debug for PortalSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSettings")
            .field("cookie_secure", &self.cookie_secure)
            .field("csrf_secret", &self.csrf_secret)
            .field("dev", &self.dev_issuer.is_some())
            .field("oidc", &self.oidc)
            .finish_non_exhaustive()
    }
}

/// A random secret for the CSRF tokens of one process.
pub fn random_secret() -> SecretSlice<u8> {
    use rand_core::RngCore;
    let mut key = vec![0u8; 32];
    rand_core::OsRng.fill_bytes(&mut key);
    key.into()
}

pub(crate) struct PortalInner {
    pub app: AppState,
    pub settings: PortalSettings,
    pub http: reqwest::Client,
    pub endpoints: tokio::sync::OnceCell<oidc::Endpoints>,
}

#[derive(Clone)]
pub(crate) struct Portal(Arc<PortalInner>);

impl std::ops::Deref for Portal {
    type Target = PortalInner;
    fn deref(&self) -> &PortalInner {
        &self.0
    }
}

/// The portal's routes (no fallback: unknown paths get the API's 404). The dev sign-in routes
/// exist only when `settings.dev_issuer` is set, so with `auth.mode = jwks` they answer 404.
pub fn router(app: AppState, settings: PortalSettings) -> Result<Router, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the portal's HTTP client: {e}"))?;
    let dev = settings.dev_issuer.is_some();
    let public_dev_mode = settings.public_dev_mode;
    let portal = Portal(Arc::new(PortalInner {
        app,
        settings,
        http,
        endpoints: tokio::sync::OnceCell::new(),
    }));
    let p = |s: &str| format!("{PREFIX}{s}");
    let mut r = Router::new()
        .route(PREFIX, get(session::home))
        .route(&p("/assets/{file}"), get(assets::serve))
        .route(&p("/sign-in"), get(session::sign_in))
        .route(&p("/sign-out"), post(session::sign_out))
        .route(&p("/login"), get(oidc::login))
        .route(&p("/callback"), get(oidc::callback))
        .route(&p("/partner"), get(partner::page))
        .route(&p("/partner/register"), post(partner::register))
        .route(&p("/partner/{id}/mappings"), post(partner::request_mapping))
        .route(&p("/clients"), get(clients::list))
        .route(
            &p("/clients/new"),
            get(clients::new_form).post(clients::create),
        )
        .route(&p("/clients/{id}"), get(clients::detail))
        .route(
            &p("/clients/{id}/edit"),
            get(clients::edit_form).post(clients::edit),
        )
        .route(
            &p("/clients/{id}/deactivate"),
            get(clients::deactivate_form).post(clients::deactivate),
        )
        .route(&p("/admin/partners"), get(admin::partners))
        .route(
            &p("/admin/partners/{id}/status"),
            post(admin::partner_status),
        )
        .route(&p("/admin/mappings"), get(admin::mappings))
        .route(&p("/admin/mappings/{key}/decision"), post(admin::decide))
        .route(&p("/admin/clients"), get(admin::clients))
        .route(&p("/admin/deliveries"), get(admin::deliveries))
        .route(&p("/admin/clients/{id}/redeliver"), post(admin::redeliver))
        .route(
            &p("/policy/groups"),
            get(policy::groups).post(policy::create_group),
        )
        .route(
            &p("/policy/groups/{id}/deactivate"),
            post(policy::deactivate_group),
        )
        .route(
            &p("/policy/policies"),
            get(policy::policies).post(policy::create_policy),
        )
        .route(&p("/policy/policies/{id}/publish"), post(policy::publish))
        .route(
            &p("/policy/policies/{id}/deactivate"),
            post(policy::deactivate),
        );
    if dev {
        r = r.route(
            &p("/dev-sign-in"),
            get(session::dev_sign_in_form).post(session::dev_sign_in),
        );
    }
    // Any other page under /portal (the dev sign-in page too, outside dev mode): an HTML 404.
    r = r.route(UNKNOWN, any(not_found));
    r = r.method_not_allowed_fallback(method_not_allowed);
    if public_dev_mode {
        r = r.layer(middleware::map_response(public_dev_mode_warning));
    }
    Ok(
        r.layer(middleware::from_fn_with_state(portal.clone(), forms::csrf))
            .layer(middleware::from_fn_with_state(
                portal.clone(),
                session::session,
            ))
            .layer(middleware::from_fn(security_headers))
            .with_state(portal),
    )
}

/// The warning at the top of every page while dev mode serves a non-loopback address. A rewrite
/// of the finished page rather than a parameter of every template: it exists only in this mode,
/// which production never runs.
async fn public_dev_mode_warning(response: Response) -> Response {
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return layout::error_page(
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Page unavailable",
            "The page could not be built. Please try again.",
        );
    };
    let page = String::from_utf8_lossy(&bytes);
    let banner = layout::public_dev_mode_banner().into_string();
    let page = match page.find("<body>") {
        Some(at) => {
            let at = at + "<body>".len();
            format!("{}{banner}{}", &page[..at], &page[at..])
        }
        None => page.into_owned(),
    };
    let mut parts = parts;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

/// The route of every other path under `/portal`.
pub(crate) const UNKNOWN: &str = "/portal/{*rest}";

async fn not_found() -> Response {
    layout::error_page(
        None,
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page.",
    )
}

/// A known page asked with a method it does not take: a page too, not axum's empty 405 (set per
/// route, so it survives the merge beside the API, whose 405 is its envelope).
async fn method_not_allowed() -> Response {
    layout::error_page(
        None,
        StatusCode::METHOD_NOT_ALLOWED,
        "Not allowed here",
        "This page does not take that kind of request.",
    )
}

/// The Content-Security-Policy of every portal response: nothing inline, nothing foreign.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A signed-in person: the API's [`Caller`] plus the CSRF token of their forms.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub caller: Caller,
    pub csrf: String,
    /// The navigation entries whose role keys the caller passes.
    pub nav: Vec<(String, &'static str)>,
}

/// Navigation: (role key, path, label); an entry shows when the caller passes its key.
const NAV: &[(&str, &str, &str)] = &[
    (crate::roles::GET_PARTNER, "/partner", "Organisation"),
    (crate::roles::GET_OAUTH_CLIENTS, "/clients", "Clients"),
    (crate::roles::PATCH_PARTNER, "/admin/partners", "Partners"),
    (
        crate::roles::PUT_POLICY_MAPPING,
        "/admin/mappings",
        "Requests",
    ),
    (
        crate::roles::POST_REDELIVER,
        "/admin/clients",
        "All clients",
    ),
    (
        crate::roles::POST_REDELIVER,
        "/admin/deliveries",
        "Deliveries",
    ),
    (
        crate::roles::GET_GROUPS_ALL,
        "/policy/groups",
        "Policy groups",
    ),
    (crate::roles::GET_POLICIES, "/policy/policies", "Policies"),
];

impl User {
    /// The API's role check of `key`: `Some(403 page)` when it fails.
    pub fn refuse(&self, p: &Portal, key: &str) -> Option<Response> {
        if self.may(p, key) {
            None
        } else {
            Some(layout::error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                "Not allowed",
                &format!(
                    "None of your roles may do this (roles.{key}: {}).",
                    p.app.roles(key).join(", ")
                ),
            ))
        }
    }

    /// The API's admission of the client endpoints (`routes::clients::admit`): the role of
    /// `key`, then the `oidc_client.enabled` switch.
    pub fn admit_client(&self, p: &Portal, key: &str) -> Option<Response> {
        match crate::routes::clients::admit(&p.app, &self.caller, key) {
            Ok(()) => None,
            Err(e) if e.status == StatusCode::FORBIDDEN => self.refuse(p, key),
            Err(e) => Some(failure_page(self, &e)),
        }
    }

    pub fn may(&self, p: &Portal, key: &str) -> bool {
        self.caller.has_any(p.app.roles(key))
    }

    pub fn id(&self) -> &str {
        &self.caller.principal.user_id
    }
}

/// The signed-in person if any (pages that also serve visitors).
pub(crate) struct MaybeUser(pub Option<User>, pub String);

impl FromRequestParts<Portal> for MaybeUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, p: &Portal) -> Result<Self, Self::Rejection> {
        let csrf = session::csrf_of(p, &parts.headers);
        let principal = match session::cookie(&parts.headers, session::ACCESS) {
            Some(token) => p.app.auth.authenticate(token).await,
            None => None,
        };
        Ok(MaybeUser(
            principal.map(|principal| {
                let caller = Caller { principal };
                let nav = NAV
                    .iter()
                    .filter(|(key, _, _)| caller.has_any(p.app.roles(key)))
                    .map(|(_, path, label)| (format!("{PREFIX}{path}"), *label))
                    .collect();
                User {
                    caller,
                    csrf: csrf.clone(),
                    nav,
                }
            }),
            csrf,
        ))
    }
}

impl FromRequestParts<Portal> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, p: &Portal) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, p).await?.0 {
            Some(u) => Ok(u),
            None => Err(Redirect::to(&format!("{PREFIX}/sign-in")).into_response()),
        }
    }
}

/// A domain or store failure as a page (for reads and actions without a form of their own).
/// A store outage is a plain 503 page with `Retry-After`, whatever the form: nothing the person
/// typed is wrong.
pub(crate) fn failure_page(user: &User, e: &ApiError) -> Response {
    if e.status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = ?e, "portal request: store unavailable");
        let mut page = layout::error_page(
            Some(user),
            StatusCode::SERVICE_UNAVAILABLE,
            "Service temporarily unavailable",
            &format!(
                "{} Nothing you entered is wrong; please try again in a few minutes.",
                e.errors.first().map_or("", |x| x.message.as_str())
            ),
        );
        if let Some(secs) = e.retry_after {
            page.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        return page;
    }
    if e.status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = ?e, "portal request failed");
    }
    let text: Vec<String> = e
        .errors
        .iter()
        .map(|x| format!("{} ({})", x.message, x.code))
        .collect();
    layout::error_page(
        Some(user),
        StatusCode::UNPROCESSABLE_ENTITY,
        "That did not work",
        &text.join(" "),
    )
}

/// 303 to a portal path, for the POST-redirect-GET of every successful form.
pub(crate) fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// State for handlers that need it.
pub(crate) type St = State<Portal>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_output_shows_no_secret() {
        let settings = PortalSettings {
            cookie_secure: true,
            csrf_secret: b"csrf-key-123".to_vec().into(),
            dev_issuer: None,
            dev_token_ttl: Duration::from_secs(60),
            oidc: Some(OidcSettings {
                issuer: "https://kc.example/realms/mosip".into(),
                client_id: "pms-portal".into(),
                client_secret: "portal-s3cret".into(),
                authorization_endpoint: String::new(),
                token_endpoint: String::new(),
                redirect_uri: "https://pms.example/portal/callback".into(),
                scopes: "openid".into(),
            }),
            public_dev_mode: false,
        };
        let printed = format!("{settings:?}");
        assert!(printed.contains("pms-portal"), "{printed}");
        assert!(!printed.contains("portal-s3cret"), "{printed}");
        assert!(!printed.contains("csrf-key-123"), "{printed}");
        // the bytes of the CSRF key are not printed as numbers either
        assert!(!printed.contains("99, 115, 114, 102"), "{printed}");
        let oidc = format!("{:?}", settings.oidc.unwrap());
        assert!(!oidc.contains("portal-s3cret"), "{oidc}");
    }
}
