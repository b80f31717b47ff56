//! The OpenAPI 3 document of pms, served at `GET /v1/partnermanager/v3/api-docs` without
//! authentication (conventions.md §1).
//!
//! The document is generated from the code: every handler carries `#[utoipa::path]` and is routed
//! through `utoipa_axum::routes!`, which takes the method and path of the axum route from that same
//! attribute, so a route and its operation cannot drift apart. This module holds what the handlers
//! share: the document's head ([`base`]), the envelope shapes their operations refer to, the tags,
//! the post-processing that adds the failures all operations of a kind share ([`finish`]) and the
//! handler serving the document.

use crate::routes::PM;
use crate::wire::{json_response, ApiError, Echo, Kind};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Ref, RefOr,
};
use utoipa::{IntoParams, ToSchema};

pub const TAG_HEALTH: &str = "health";
pub const TAG_API_DOCS: &str = "api-docs";
pub const TAG_POLICY_GROUPS: &str = "policy groups";
pub const TAG_POLICIES: &str = "auth policies";
pub const TAG_PARTNERS: &str = "partners";
pub const TAG_MAPPINGS: &str = "partner-policy mappings";
pub const TAG_CLIENTS: &str = "oidc and oauth clients";

/// Description of the HTTP 200 answer of a v1 endpoint.
pub const V1_OK: &str = "v1 envelope (`ResponseWrapper`): `response` on success, else `errors` \
    (validation and business failures are HTTP 200, conventions.md §5)";
/// Description of the HTTP 200 answer of a V2 endpoint.
pub const V2_OK: &str = "V2 envelope (`ResponseWrapperV2`): `response` on success, else `errors` \
    (validation and business failures are HTTP 200, conventions.md §5)";

const BEARER: &str = "bearer";
const COOKIE: &str = "cookie";

/// An error object of an envelope (conventions.md §4.3).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ServiceError {
    #[schema(example = "PMS_POL_016")]
    pub error_code: String,
    pub message: String,
}

/// MOSIP's v1 response envelope (conventions.md §4.1). Every member is always present.
#[derive(ToSchema)]
pub struct ResponseWrapper {
    /// The request's `id`, or null.
    #[schema(required)]
    pub id: Option<String>,
    /// The request's `version`, or null.
    #[schema(required)]
    pub version: Option<String>,
    /// Server time, UTC, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
    #[schema(example = "2025-07-01T10:15:30.456Z")]
    pub responsetime: String,
    /// Always null.
    #[schema(value_type = Option<Object>, required)]
    pub metadata: Value,
    /// The result on success; null whenever `errors` is not empty.
    #[schema(value_type = Option<Value>, required)]
    pub response: Value,
    /// Empty on success.
    pub errors: Vec<ServiceError>,
}

/// MOSIP's V2 response envelope (conventions.md §4.2): the v1 members, with `responseTime`, the
/// endpoint's fixed `id` and `version` `1.0`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ResponseWrapperV2 {
    /// The endpoint's fixed id.
    #[schema(example = "mosip.pms.policies.get")]
    pub id: String,
    #[schema(example = "1.0")]
    pub version: String,
    /// Server time, UTC, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
    #[schema(example = "2025-07-01T10:15:30.456Z")]
    pub response_time: String,
    /// Always null.
    #[schema(value_type = Option<Object>, required)]
    pub metadata: Value,
    /// The result on success; null whenever `errors` is not empty.
    #[schema(value_type = Option<Value>, required)]
    pub response: Value,
    /// Empty on success.
    pub errors: Vec<ServiceError>,
}

/// MOSIP's v1 request envelope (conventions.md §3.1); the members of `request` are listed in the
/// endpoint's section of the spec.
#[derive(ToSchema)]
pub struct RequestWrapper {
    /// Optional, not validated, echoed.
    pub id: Option<String>,
    /// Optional, not validated, echoed.
    pub version: Option<String>,
    /// UTC, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
    #[schema(example = "2025-07-01T10:15:30.123Z")]
    pub requesttime: String,
    /// Ignored.
    #[schema(value_type = Option<Value>)]
    pub metadata: Value,
    #[schema(value_type = Object)]
    pub request: Value,
}

/// MOSIP's V2 request envelope (conventions.md §3.2): `id` must be the endpoint's fixed id and
/// `version` `1.0`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RequestWrapperV2 {
    pub id: String,
    #[schema(example = "1.0")]
    pub version: String,
    /// UTC, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
    #[schema(example = "2025-07-01T10:15:30.123Z")]
    pub request_time: String,
    /// `{"status": "De-Activate"}`.
    #[schema(value_type = Object)]
    pub request: Value,
}

/// The body of the health endpoints.
#[derive(ToSchema)]
pub struct Health {
    /// `UP` or `DOWN`.
    #[schema(example = "UP")]
    pub status: String,
}

/// Paging and sorting of the list endpoints (conventions.md §9, which also gives the rules on
/// which of them go together; `GET /policies/v2` has its own variant).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct Paging {
    /// One of the endpoint's sort fields.
    pub sort_field_name: Option<String>,
    /// `ASC` or `DESC`, ignoring case.
    pub sort_type: Option<String>,
    /// Page number, from 0.
    pub page_no: Option<u32>,
    /// Page size, from 1 to `list.max_page_size`.
    #[param(minimum = 1)]
    pub page_size: Option<u32>,
}

/// The document's head: info, tags and the security schemes; the route table adds the paths.
pub fn base() -> OpenApi {
    let bearer = SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "`Authorization: Bearer <token>` (conventions.md §7.1)",
            ))
            .build(),
    );
    let cookie = SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
        "Authorization",
        "The token in the `Authorization` cookie, read when the header is absent. A POST, PUT, \
         PATCH or DELETE authenticated by it must name an allowed origin in `Origin` (else \
         `Referer`): config `http.allowed_origins`, by default the request's own; otherwise 403",
    )));
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("pms")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "MOSIP partner manager (`/v1/partnermanager`) and policy manager \
                     (`/v1/policymanager`) for eSignet relying parties, served by one process. \
                     Paths are absolute; both base paths are part of them.",
                ))
                .license(Some(
                    LicenseBuilder::new()
                        .name("MPL-2.0")
                        .identifier(Some("MPL-2.0"))
                        .build(),
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(BEARER, bearer)
                .security_scheme(COOKIE, cookie)
                .build(),
        ))
        // Every operation needs a token unless it says otherwise (health, this document).
        .security(Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(COOKIE, Vec::<String>::new()),
        ]))
        .tags(Some(vec![
            tag(TAG_POLICY_GROUPS, "Policy groups (policy manager)"),
            tag(TAG_POLICIES, "Auth policies (policy manager)"),
            tag(TAG_PARTNERS, "Partner registration, read and activation"),
            tag(TAG_MAPPINGS, "Partner-policy mapping requests"),
            tag(TAG_CLIENTS, "The OIDC and OAuth client families"),
            tag(TAG_HEALTH, "Store reachability, no authentication"),
            tag(TAG_API_DOCS, "This document, no authentication"),
        ]))
        .build()
}

/// The authentication and role failures of every operation that needs a token, as reusable
/// responses (status, component name, description). They are always in the v1 envelope with null
/// `id` and `version`.
const AUTH_FAILURES: &[(&str, &str, &str)] = &[
    (
        "401",
        "Unauthenticated",
        "`KER-ATH-401`: missing, invalid or expired token (header `WWW-Authenticate: Bearer`)",
    ),
    (
        "403",
        "Forbidden",
        "`KER-ATH-403`: the token has none of the endpoint's roles, or a write authenticated by \
         the cookie named no allowed origin",
    ),
];

/// The failures of reading a body (conventions.md §2, stages 5 to 7), in the endpoint's envelope.
const BODY_FAILURES: &[(&str, &str)] = &[
    (
        "400",
        "`PMS_COR_001`: the body is not one well-formed JSON object",
    ),
    (
        "413",
        "`PMS_EXT_001`: the body is larger than `http.max_body_bytes`",
    ),
    (
        "415",
        "`PMS_EXT_002`: the content type is not `application/json`",
    ),
];

/// The failure of a path parameter (after the role check), in the endpoint's envelope.
const PATH_FAILURE: &str =
    "`PMS_COR_001`: a path parameter is not UTF-8 once percent-decoded, or contains a NUL character";

/// Completes the collected document. Operations that set their own `security` need no token and
/// get an empty one (OpenAPI's "no authentication"); all others inherit the document's and get the
/// authentication and role failures, and, when they take a body, the failures of reading it.
pub fn finish(mut api: OpenApi) -> OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description) in AUTH_FAILURES {
        let content = Content::new(Some(Ref::from_schema_name(ResponseWrapper::name())));
        let response = ResponseBuilder::new()
            .description(*description)
            .content("application/json", content)
            .build();
        components.responses.insert((*name).into(), response.into());
    }
    for item in api.paths.paths.values_mut() {
        for op in operations(item) {
            if let Some(security) = &mut op.security {
                security.clear();
                continue;
            }
            let responses = &mut op.responses.responses;
            for (status, name, _) in AUTH_FAILURES {
                let response = RefOr::Ref(Ref::from_response_name(*name));
                responses.insert((*status).into(), response);
            }
            // The envelope of the endpoint is the one of its success.
            let envelope = match responses.get("200") {
                Some(RefOr::T(ok)) => ok.content.clone(),
                _ => Default::default(),
            };
            let has_path =
                op.parameters.iter().flatten().any(
                    |p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path)),
                );
            let mut failures: Vec<(&str, String)> = Vec::new();
            if has_path {
                failures.push(("400", PATH_FAILURE.to_string()));
            }
            if op.request_body.is_some() {
                for (status, description) in BODY_FAILURES {
                    match failures.iter_mut().find(|(s, _)| s == status) {
                        Some((_, d)) => *d = format!("{description}; or {PATH_FAILURE}"),
                        None => failures.push((status, (*description).to_string())),
                    }
                }
            }
            for (status, description) in failures {
                let mut response = ApiResponse::new(description);
                response.content = envelope.clone();
                responses.insert(status.into(), response.into());
            }
        }
    }
    api
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
        &mut item.query,
    ]
    .into_iter()
    .flatten()
}

/// The finished document, built on first use: it is fixed by the code. (It used to reach
/// [`api_docs`] as a request extension, which every request of every route paid to insert.)
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| finish(crate::routes::documented().split_for_parts().1))
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/v3/api-docs",
    tag = TAG_API_DOCS,
    operation_id = "apiDocs",
    summary = "This OpenAPI document",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
pub async fn api_docs(State(st): State<AppState>) -> Response {
    match serde_json::to_value(document()) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => {
            Echo::new(Kind::V1).error_response(st.clock.now(), ApiError::internal(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use utoipa::openapi::path::ParameterIn;

    /// The document lists every route because routes are only ever registered through
    /// `OpenApiRouter::routes(routes!(…))`. A plain axum registration would serve a path the
    /// document does not know, so none may appear in the route modules.
    #[test]
    fn routes_are_registered_only_with_their_documentation() {
        for (file, source) in crate::routes::SOURCES {
            for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for undocumented in [
                    ".route(",
                    ".route_service(",
                    ".nest_service(",
                    "axum::routing",
                ] {
                    assert!(
                        !line.contains(undocumented),
                        "routes/{file}: `{}` registers a route without documentation; \
                         use `.routes(routes!(handler))` with `#[utoipa::path]`",
                        line.trim()
                    );
                }
            }
        }
    }

    #[test]
    fn operation_ids_are_unique_and_path_parameters_declared() {
        let api = document().clone();
        let mut ids = BTreeSet::new();
        for (path, mut item) in api.paths.paths {
            let templated: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_string)
                .collect();
            for op in operations(&mut item) {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(
                    ids.insert(id.clone()),
                    "{path}: duplicate operationId {id:?}"
                );
                let declared: BTreeSet<String> = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path) => {
                            Some(p.name.clone())
                        }
                        _ => None,
                    })
                    .collect();
                assert_eq!(declared, templated, "{path} {id}: path parameters");
                assert!(op.summary.is_some() && op.tags.is_some(), "{path} {id}");
            }
        }
    }

    #[test]
    fn head_and_security() {
        let api = document().clone();
        assert_eq!(api.info.title, "pms");
        assert_eq!(api.info.version, env!("CARGO_PKG_VERSION"));
        let open: Vec<String> = api
            .paths
            .paths
            .into_iter()
            .filter(|(_, item)| {
                item.get
                    .as_ref()
                    .is_some_and(|op| op.security == Some(vec![]))
            })
            .map(|(path, _)| path)
            .collect();
        assert_eq!(
            open,
            [
                "/metrics",
                "/v1/partnermanager/actuator/health",
                "/v1/partnermanager/v3/api-docs",
                "/v1/policymanager/actuator/health",
            ]
        );
    }
}
