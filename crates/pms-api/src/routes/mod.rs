//! Route table: one module per resource, merged here with the MOSIP fallbacks.

mod clients;
mod mappings;
mod partners;
mod policies;
mod policy_groups;

use crate::wire::{json_response, ApiError, Echo, Kind};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub const PM: &str = "/v1/partnermanager";
pub const POL: &str = "/v1/policymanager";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PM}/actuator/health"), get(health))
        .route(&format!("{POL}/actuator/health"), get(health))
        .merge(policy_groups::routes())
        .merge(policies::routes())
        .merge(partners::routes())
        .merge(mappings::routes())
        .merge(clients::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `{"status":"UP"}` while the store answers, else 503 `DOWN`.
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
