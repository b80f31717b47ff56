//! Portal tests. The HTTP-level ones (security headers, CSRF, dev sign-in only in dev mode,
//! ownership, the OIDC PKCE login against a stand-in provider and against node-oidc-provider, a
//! real OpenID Provider that needs Node.js and npm) always run; the browser journey
//! runs in headless Chromium when `PMS_TEST_CHROMEDRIVER` names a chromedriver binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../api/helpers.rs"]
mod helpers;

mod browser;
mod http;
mod oidc;
mod provider;
mod web;

use helpers::{TestApp, ADMIN};
use serde_json::json;

/// Group `health` with the published policy `login`, and active auth partners `orgA` and `orgB`
/// (users of the same name) each with an approved mapping to it: the policy id.
pub async fn two_partners_ready(app: &TestApp) -> String {
    let (_, policy) = app.published_policy("health", "login").await;
    for p in ["orgA", "orgB"] {
        app.register_partner(p, "health").await.ok();
        app.activate_partner(p).await;
        let key = app.request_mapping(p, "login").await.ok()["mappingkey"]
            .as_str()
            .unwrap()
            .to_string();
        app.call(
            "PUT",
            &format!("/v1/partnermanager/partners/policy/{key}"),
            "admin1",
            ADMIN,
            Some(json!({ "status": "Approved" })),
        )
        .await
        .ok();
    }
    policy
}
