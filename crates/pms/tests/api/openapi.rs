//! The OpenAPI document at `GET /v1/partnermanager/v3/api-docs` (conventions.md §1): served without
//! a token, and listing exactly the methods and paths pms routes.
//!
//! Why a routed endpoint cannot be missing from the document: pms-api registers every route with
//! `OpenApiRouter::routes(routes!(handler))`, which takes the axum route's method and path from the
//! handler's `#[utoipa::path]`, the same attribute that makes its operation; a unit test in
//! `pms_api::openapi` rejects plain axum registrations (`.route(…)`) in the route modules. So the
//! routed set is the documented set by construction. The tests here pin that set to the complete
//! endpoint list (every row of the role table in `auth.rs`, the two health endpoints and the
//! document itself), so an endpoint added, lost or renamed shows up, and check the converse
//! against the running server: every documented operation is routed.

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const DOCS: &str = "/v1/partnermanager/v3/api-docs";

/// Every endpoint of pms, paths templated as in the document.
const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/v1/partnermanager/actuator/health"),
    ("GET", "/v1/policymanager/actuator/health"),
    ("GET", "/v1/partnermanager/v3/api-docs"),
    ("GET", "/metrics"),
    ("POST", "/v1/partnermanager/partners"),
    ("GET", "/v1/partnermanager/partners/{id}"),
    ("PATCH", "/v1/partnermanager/partners/{id}"),
    ("POST", "/v1/partnermanager/partners/{id}/policy/map"),
    ("PUT", "/v1/partnermanager/partners/policy/{key}"),
    ("GET", "/v1/partnermanager/partner-policy-requests"),
    ("POST", "/v1/policymanager/policies/group/new"),
    ("PUT", "/v1/policymanager/policies/group/{id}"),
    ("PATCH", "/v1/policymanager/policies/group/{id}"),
    ("GET", "/v1/policymanager/policies/group/{id}"),
    ("GET", "/v1/policymanager/policies/group/all"),
    ("GET", "/v1/policymanager/policies/policy-groups"),
    ("POST", "/v1/policymanager/policies"),
    ("PUT", "/v1/policymanager/policies/{id}"),
    (
        "POST",
        "/v1/policymanager/policies/{id}/group/{group}/publish",
    ),
    ("PATCH", "/v1/policymanager/policies/{id}/group/{group}"),
    ("PATCH", "/v1/policymanager/policies/{id}"),
    ("GET", "/v1/policymanager/policies/{id}"),
    ("GET", "/v1/policymanager/policies"),
    ("GET", "/v1/policymanager/policies/v2"),
    ("GET", "/v1/policymanager/policies/active/group/{name}"),
    ("POST", "/v1/partnermanager/oidc/client"),
    ("POST", "/v1/partnermanager/oauth/client"),
    ("PUT", "/v1/partnermanager/oidc/client/{client_id}"),
    ("PUT", "/v1/partnermanager/oauth/client/{client_id}"),
    ("GET", "/v1/partnermanager/oidc/client/{client_id}"),
    ("GET", "/v1/partnermanager/oauth/client/{client_id}"),
    ("GET", "/v1/partnermanager/oauth/client"),
    (
        "POST",
        "/v1/partnermanager/oauth/client/{client_id}/redeliver",
    ),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The (method, path) of every operation of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("path item");
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

async fn document(app: &TestApp) -> Value {
    let r = app.send("GET", DOCS, None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn document_is_served_without_a_token() {
    let app = spawn_app().await;
    let r = app.send("GET", DOCS, None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/json");
    let doc = &r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    assert_eq!(doc["info"]["title"], "pms");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&bearer["type"], &bearer["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    // a bad token is not looked at, and the trailing slash is not significant
    let r = app
        .send("GET", &format!("{DOCS}/"), Some("garbage"), None)
        .await;
    assert_eq!((r.status, &r.body), (200, doc));
    // the open endpoints say so; the others need a token and list its failures
    for (method, path) in operations(doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let open = path.ends_with("/actuator/health") || path == DOCS || path == "/metrics";
        if open {
            assert_eq!(op["security"], json!([]), "{method} {path}");
        } else {
            assert!(op.get("security").is_none(), "{method} {path}");
            assert_eq!(
                op["responses"]["401"]["$ref"], "#/components/responses/Unauthenticated",
                "{method} {path}"
            );
        }
    }
    assert_eq!(doc["security"], json!([{ "bearer": [] }, { "cookie": [] }]));
}

#[tokio::test]
async fn document_lists_every_endpoint_and_no_other() {
    let app = spawn_app().await;
    let documented = operations(&document(&app).await);
    let expected: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
    assert_eq!(expected.len(), ENDPOINTS.len(), "ENDPOINTS has a duplicate");
    let missing: Vec<_> = expected.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "not documented: {missing:?}; documented but not in ENDPOINTS: {unknown:?}"
    );
}

/// `{name}` segments replaced by `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn is_unrouted(r: &Resp) -> bool {
    let codes = r.codes();
    (r.status == 404 && codes.contains(&"PMS_EXT_003".to_string()))
        || (r.status == 405 && codes.contains(&"PMS_EXT_004".to_string()))
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let token = app.token("admin1", &["PARTNER_ADMIN", "POLICYMANAGER"]);
    let body = json!({});
    // the probe tells unrouted requests apart
    let r = app
        .send("GET", "/v1/partnermanager/nothing", Some(&token), None)
        .await;
    assert!(is_unrouted(&r) && r.status == 404, "{}", r.body);
    let r = app
        .send("DELETE", "/v1/partnermanager/partners", Some(&token), None)
        .await;
    assert!(is_unrouted(&r) && r.status == 405, "{}", r.body);

    let documented = operations(&document(&app).await);
    assert!(!documented.is_empty());
    for (method, path) in documented {
        let with_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        let url = concrete(&path);
        let r = app
            .send(&method, &url, Some(&token), with_body.then_some(&body))
            .await;
        assert!(
            !is_unrouted(&r),
            "{method} {path} is documented but not routed: {} {}",
            r.status,
            r.body
        );
    }
}
