//! Route table: one module per resource, merged here with the MOSIP fallbacks.
//!
//! Every route is registered as `.routes(routes!(handler))` on a [`OpenApiRouter`]: the axum route
//! and its OpenAPI operation both come from the handler's `#[utoipa::path]`, so the document of
//! [`crate::openapi`] lists exactly the routed methods and paths. Do not add routes with
//! `.route(…)`: they would be served but missing from the document (a test in
//! [`crate::openapi`] rejects it).

pub(crate) mod clients;
pub(crate) mod mappings;
pub(crate) mod partners;
pub(crate) mod policies;
pub(crate) mod policy_groups;

use crate::openapi::{self, Health, TAG_HEALTH};
use crate::wire::{json_response, ApiError, Echo, Kind};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The route modules' source text, for tests that keep rules about how routes are written.
#[cfg(test)]
pub(crate) const SOURCES: [(&str, &str); 6] = [
    ("mod.rs", include_str!("mod.rs")),
    ("policy_groups.rs", include_str!("policy_groups.rs")),
    ("policies.rs", include_str!("policies.rs")),
    ("partners.rs", include_str!("partners.rs")),
    ("mappings.rs", include_str!("mappings.rs")),
    ("clients.rs", include_str!("clients.rs")),
];

pub const PM: &str = "/v1/partnermanager";
pub const POL: &str = "/v1/policymanager";

pub fn router() -> Router<AppState> {
    let (router, _) = documented().split_for_parts();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Every route, each with its operation in the document.
pub(crate) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(health_pm))
        .routes(routes!(health_pol))
        .routes(routes!(openapi::api_docs))
        .routes(routes!(metrics))
        .merge(policy_groups::routes())
        .merge(policies::routes())
        .merge(partners::routes())
        .merge(mappings::routes())
        .merge(clients::routes())
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = TAG_HEALTH,
    operation_id = "metrics",
    summary = "Prometheus metrics: HTTP requests and latency, outbox depth, delivery attempts",
    security(()),
    responses((status = 200, description = "OpenMetrics text exposition", content_type = "application/openmetrics-text"))
)]
async fn metrics(st: State<AppState>) -> Response {
    crate::metrics::scrape(st).await
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/actuator/health",
    tag = TAG_HEALTH,
    operation_id = "partnerManagerHealth",
    summary = "Health of the partner manager",
    security(()),
    responses(
        (status = 200, description = "`UP`: the store answers and takes writes", body = Health),
        (status = 503, description = "`DOWN`: the store is unreachable, read-only or full", body = Health),
    )
)]
async fn health_pm(st: State<AppState>) -> Response {
    health(st).await
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/actuator/health",
    tag = TAG_HEALTH,
    operation_id = "policyManagerHealth",
    summary = "Health of the policy manager",
    security(()),
    responses(
        (status = 200, description = "`UP`: the store answers and takes writes", body = Health),
        (status = 503, description = "`DOWN`: the store is unreachable, read-only or full", body = Health),
    )
)]
async fn health_pol(st: State<AppState>) -> Response {
    health(st).await
}

/// `{"status":"UP"}` while the store answers a read and takes writes, else 503 `DOWN`.
/// Writability is what the store's last write found (a full disk or a read-only database still
/// reads); while that was an outage, the store probes it again (`Store::ping`).
async fn health(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => json_response(StatusCode::OK, &json!({ "status": "UP" })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unavailable");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "status": "DOWN" }),
            )
        }
    }
}

async fn not_found(State(st): State<AppState>) -> Response {
    Echo::new(Kind::V1).error_response(st.clock.now(), ApiError::not_found())
}

async fn method_not_allowed(State(st): State<AppState>) -> Response {
    Echo::new(Kind::V1).error_response(st.clock.now(), ApiError::method_not_allowed())
}
