//! The HTTP face of pms: MOSIP's partner-manager and policy-manager APIs on one axum router.
//! Handlers are thin: authenticate (extractor), check the role, read and validate the body into
//! domain commands, run the domain operation in one transaction, render the envelope.
//!
//! Architecture invariant: only this crate knows HTTP, MOSIP envelopes and error codes.
#![forbid(unsafe_code)]

pub mod auth;
pub mod client_input;
pub mod input;
pub mod jwk;
pub mod metrics;
pub mod openapi;
pub mod origin;
pub mod portal;
pub mod repr;
pub mod roles;
mod routes;
pub mod wire;

use auth::{Authenticator, Caller};
use axum::extract::State;
use axum::response::Response;
use axum::Router;
use pms_domain::model::Ctx;
use pms_domain::ops::clients::ClientRules;
use pms_domain::ops::Rules;
use pms_domain::outbox::OutboxTargets;
use pms_domain::policy_doc::PolicyDocValidator;
use pms_domain::StoreError;
use pms_domain::{Clock, Store};
use std::collections::HashMap;
use std::sync::Arc;
use wire::{ApiError, Echo, Kind};

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub max_body_bytes: usize,
    /// `0` switches the `requesttime` skew check off.
    pub max_clock_skew_seconds: u64,
    pub max_page_size: u32,
    /// `roles.<key>` → allowed roles (conventions.md §8.3).
    pub roles: HashMap<String, Vec<String>>,
    /// `oidc_client.enabled`: the feature switch of the client endpoints.
    pub oidc_enabled: bool,
    pub client_fields: client_input::ClientFieldRules,
    /// `http.allowed_origins`, each as [`origin::parse_allowed`] returns it: the origins a
    /// cookie-authenticated write may come from; empty means the request's own.
    pub allowed_origins: Vec<String>,
}

/// Everything a handler needs, shared by all requests.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub settings: ApiSettings,
    pub rules: Rules,
    pub policy_validator: PolicyDocValidator,
    pub client_rules: ClientRules,
    /// The downstream targets outbox rows are written for.
    pub outbox: OutboxTargets,
    /// Called after every committed write, to wake the delivery worker.
    pub after_commit: Arc<dyn Fn() + Send + Sync>,
    pub metrics: Arc<metrics::Metrics>,
}

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }

    /// The roles of `roles.<key>`; an unknown key allows nobody.
    pub fn roles(&self, key: &str) -> &[String] {
        self.settings.roles.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn ctx(&self, caller: &Caller, echo: &Echo) -> Ctx {
        Ctx {
            caller: caller.domain(self.auth.settings()),
            now: self.clock.now(),
            correlation_id: echo.correlation_id.clone(),
            outbox: self.outbox,
        }
    }

    /// Commits a write transaction, then wakes the delivery worker for any rows it wrote.
    pub async fn commit(&self, tx: Box<dyn pms_domain::Tx>) -> Result<(), StoreError> {
        tx.commit().await?;
        (self.after_commit)();
        Ok(())
    }
}

/// Whether `path` is a portal page (answered with pages, not envelopes).
pub fn is_portal_path(path: &str) -> bool {
    path.strip_prefix(portal::PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The answer to a request not completed within `seconds` (`http.request_timeout_seconds`):
/// 408 with the MOSIP envelope, or a portal page for a `portal` path; the connection is closed after
/// it, since the rest of the request's body may still be on its way.
pub fn request_timeout_response(
    portal: bool,
    now: pms_domain::Timestamp,
    seconds: u64,
) -> Response {
    let mut response = if portal {
        portal::request_timeout_page(seconds)
    } else {
        Echo::new(Kind::V1).error_response(now, ApiError::request_timeout(seconds))
    };
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

/// The whole API. Trailing slashes are handled by the caller's
/// [`tower_http::normalize_path::NormalizePathLayer`] around this router.
pub fn router(state: AppState) -> Router {
    routes::router()
        .layer(axum::middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// The one middleware around every API route: counts and times every request, refused ones
/// included. One layer, not one per concern: each `from_fn` layer costs every request a boxed
/// future and a clone of the inner service. It refuses nothing: input (a NUL character in the
/// path or query too) is refused by the handler after authentication and the role check
/// ([`input::PathArgs`], [`input::Params::parse`]), in MOSIP's check order: authentication, role, input.
async fn edge(
    State(st): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let response = next.run(req).await;
    st.metrics.observe(
        &method,
        route
            .as_ref()
            .map_or(metrics::UNMATCHED, axum::extract::MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
