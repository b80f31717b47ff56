//! Hostile paths and queries on every documented route: every answer is a MOSIP envelope
//! (`Content-Type: application/json`, never a 5xx) given in the order MOSIP's contract checks:
//! authentication (401), then the role (403), then the input. The routes come from the OpenAPI
//! document, so a route added later is swept too.

use crate::helpers::*;
use serde_json::{json, Value};

const DOCS: &str = "/v1/partnermanager/v3/api-docs";
const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

/// (method, templated path, query parameter names) of every operation that needs a token.
async fn operations(app: &TestApp) -> Vec<(String, String, Vec<String>)> {
    let doc = app.send("GET", DOCS, None, None).await.body;
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) || op["security"] == json!([]) {
                continue;
            }
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            out.push((method.to_uppercase(), path.clone(), query));
        }
    }
    assert!(out.len() > 20, "{out:?}");
    out
}

/// `path` with every `{name}` segment replaced by `value` (already percent-encoded).
fn with_params(path: &str, value: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { value } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends `method url` with a v1 envelope body on the methods that take one.
async fn probe(app: &TestApp, method: &str, url: &str, token: Option<&str>) -> Resp {
    let body = envelope(json!({}));
    let with_body = matches!(method, "POST" | "PUT" | "PATCH");
    app.send(method, url, token, with_body.then_some(&body))
        .await
}

/// An envelope: JSON, never a 5xx, `response` null and at least one error.
#[track_caller]
fn assert_failure_envelope(what: &str, r: &Resp) {
    assert!(r.status < 500, "{what}: {} {}", r.status, r.body);
    let ctype = r
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        ctype.as_deref(),
        Some("application/json"),
        "{what}: {} {}",
        r.status,
        r.body
    );
    assert!(r.body.is_object(), "{what}: {} {}", r.status, r.body);
    assert!(r.body["response"].is_null(), "{what}: {}", r.body);
    assert!(
        !r.codes().is_empty() && r.codes().iter().all(|c| !c.is_empty()),
        "{what}: {}",
        r.body
    );
}

#[track_caller]
fn assert_code(what: &str, r: &Resp, status: u16, code: &str) {
    assert_failure_envelope(what, r);
    assert_eq!(
        (r.status, r.codes()),
        (status, vec![code.to_string()]),
        "{what}: {}",
        r.body
    );
}

#[tokio::test]
async fn hostile_path_parameters_get_envelopes_in_the_order_auth_role_input() {
    let app = spawn_app().await;
    let stranger = app.token("nobody", &["NOT_A_PMS_ROLE"]);
    let everything = app.token(
        "admin1",
        &["PARTNER_ADMIN", "POLICYMANAGER", "AUTH_PARTNER"],
    );
    let long = "x".repeat(4096);
    let mut swept = 0;
    for (method, path, _) in operations(&app).await {
        if !path.contains('{') {
            continue;
        }
        swept += 1;
        for (name, value) in [("%FF", "%FF"), ("%00", "a%00b"), ("over-long", &long)] {
            let url = with_params(&path, value);
            let what = format!("{method} {path} with {name}");
            let r = probe(&app, &method, &url, None).await;
            assert_code(&format!("{what}, no token"), &r, 401, "KER-ATH-401");
            let r = probe(&app, &method, &url, Some(&stranger)).await;
            assert_code(&format!("{what}, unrelated role"), &r, 403, "KER-ATH-403");
            let r = probe(&app, &method, &url, Some(&everything)).await;
            let what = format!("{what}, allowed role");
            match name {
                "%FF" => {
                    assert_code(&what, &r, 400, "PMS_COR_001");
                    assert_eq!(
                        r.messages(),
                        ["Invalid request parameter - must be valid UTF-8 :path"],
                        "{what}"
                    );
                }
                "%00" => {
                    assert_code(&what, &r, 400, "PMS_COR_001");
                    assert_eq!(
                        r.messages(),
                        ["Invalid request parameter - must not contain NUL characters :path"],
                        "{what}"
                    );
                }
                // an id no record has: the endpoint's own validation or not-found answer
                _ => assert_failure_envelope(&what, &r),
            }
        }
    }
    assert!(swept >= 15, "{swept} routes with path parameters");
}

#[tokio::test]
async fn hostile_list_queries_get_envelopes_in_the_order_auth_role_input() {
    let app = spawn_app().await;
    let stranger = app.token("nobody", &["NOT_A_PMS_ROLE"]);
    let everything = app.token(
        "admin1",
        &["PARTNER_ADMIN", "POLICYMANAGER", "AUTH_PARTNER"],
    );
    let lists: Vec<_> = operations(&app)
        .await
        .into_iter()
        .filter(|(_, _, q)| q.iter().any(|n| n == "pageNo"))
        .collect();
    assert_eq!(lists.len(), 3, "{lists:?}");
    for (method, path, _) in lists {
        for (query, status, code) in [
            ("pageNo=-1&pageSize=1", 200, "PMS_PRT_360"),
            ("pageNo=%FF&pageSize=1", 200, "PMS_PRT_360"),
            ("pageNo=0&pageSize=x", 200, "PMS_PRT_361"),
            ("pageNo=0&pageSize=%FF", 200, "PMS_PRT_361"),
            ("pageNo=0&pageSize=-5", 200, "PMS_PRT_361"),
            ("pageNo=0&pageSize=1&status=a%00", 400, "PMS_COR_001"),
        ] {
            let url = format!("{path}?{query}");
            let what = format!("{method} {url}");
            let r = app.send(&method, &url, None, None).await;
            assert_code(&format!("{what}, no token"), &r, 401, "KER-ATH-401");
            let r = app.send(&method, &url, Some(&stranger), None).await;
            assert_code(&format!("{what}, unrelated role"), &r, 403, "KER-ATH-403");
            let r = app.send(&method, &url, Some(&everything), None).await;
            assert_code(&format!("{what}, allowed role"), &r, status, code);
        }
        // a name or value that is not UTF-8 in a filter is no failure: nothing matches it
        let url = format!("{path}?%FF=1&partnerId=%FF%FE");
        let r = app.send(&method, &url, Some(&everything), None).await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        assert_eq!(r.body["errors"], json!([]), "{url}: {}", r.body);
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_envelopes() {
    let app = spawn_app().await;
    let token = app.token("admin1", ADMIN);
    for t in [None, Some(token.as_str())] {
        for url in [
            "/v1/partnermanager/nothing",
            "/v1/policymanager/policies/a/b/c/d/e",
            "/v1/partnermanager/%FF",
            "/nothing",
        ] {
            let r = app.send("GET", url, t, None).await;
            assert_code(&format!("GET {url}"), &r, 404, "PMS_EXT_003");
        }
        for (method, url) in [
            ("DELETE", "/v1/partnermanager/partners"),
            ("POST", "/v1/policymanager/policies/%FF"),
            ("DELETE", "/v1/policymanager/policies/group/all"),
        ] {
            let r = app.send(method, url, t, None).await;
            assert_code(&format!("{method} {url}"), &r, 405, "PMS_EXT_004");
        }
    }
    // bodies that are not JSON, or not sent as JSON
    for (ctype, body, status, code) in [
        ("application/json", "{", 400, "PMS_COR_001"),
        ("application/json", "", 400, "PMS_COR_001"),
        ("application/json", "[1]", 400, "PMS_COR_001"),
        ("text/plain", "{}", 415, "PMS_EXT_002"),
        (
            "application/x-www-form-urlencoded",
            "a=1",
            415,
            "PMS_EXT_002",
        ),
    ] {
        let r = app
            .client
            .post(format!("{}/v1/partnermanager/partners", app.base))
            .bearer_auth(&token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        let r = Resp {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null),
        };
        assert_code(&format!("{ctype} {body:?}"), &r, status, code);
    }
}

#[tokio::test]
async fn the_document_lists_the_path_failure_of_every_route_with_a_path_parameter() {
    let app = spawn_app().await;
    let doc = app.send("GET", DOCS, None, None).await.body;
    for (method, path, _) in operations(&app).await {
        let described = doc["paths"][&path][method.to_lowercase()]["responses"]["400"]
            ["description"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_eq!(
            described.contains("path parameter"),
            path.contains('{'),
            "{method} {path}: {described:?}"
        );
    }
}
