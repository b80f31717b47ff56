//! Cross-site requests through the `Authorization` cookie: a state-changing request (POST, PUT,
//! PATCH, DELETE) whose token comes from the cookie must carry an `Origin` (or, without one, a
//! `Referer`) of an allowed origin, else 403 `KER-ATH-403` and nothing changes. The allowed
//! origins are `http.allowed_origins`, by default only the request's own (scheme + `Host`).
//! Bearer-header requests and reads are not affected.

use crate::helpers::*;
use crate::unchanged;
use serde_json::{json, Value};

const EVIL: &str = "https://evil.example";

/// A request authenticated by the `Authorization` cookie, with the given extra headers and an
/// optional body (content type, text).
async fn cookie_send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> Resp {
    let mut rb = app
        .client
        .request(method.parse().unwrap(), format!("{}{}", app.base, path))
        .header("cookie", format!("Authorization={token}"));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some((ctype, text)) = body {
        rb = rb.header("content-type", ctype).body(text);
    }
    Resp::read(rb.send().await.unwrap()).await
}

/// The form a cross-site `<form method=post>` sends: no JSON, just a urlencoded body.
fn form() -> Option<(&'static str, String)> {
    Some(("application/x-www-form-urlencoded", "a=1".to_string()))
}

fn json_body(v: &Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

#[track_caller]
fn assert_forbidden(r: &Resp) {
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.headers["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        r.body["errors"],
        json!([{ "errorCode": "KER-ATH-403", "message": "Forbidden" }]),
        "{}",
        r.body
    );
    assert!(r.body["response"].is_null() && r.body["id"].is_null());
}

async fn policy_status(app: &TestApp, id: &str) -> Value {
    app.get(
        &format!("/v1/policymanager/policies/{id}"),
        "pm1",
        POLICY_MANAGER,
    )
    .await
    .ok()["status"]
        .clone()
}

/// A group with a draft policy: (group id, policy id, publish path).
async fn draft(app: &TestApp) -> (String, String, String) {
    let g = app.create_group("health").await;
    let p = app.create_policy("health", "login").await;
    let path = format!("/v1/policymanager/policies/{p}/group/{g}/publish");
    (g, p, path)
}

#[tokio::test]
async fn a_cross_site_publish_through_the_cookie_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, p, publish) = draft(&app).await;
    let t = app.token("pm1", POLICY_MANAGER);
    let own = app.base.clone();
    let evil_referer = format!("{EVIL}/page?x=1");
    let own_host_evil_scheme = own.replace("http://", "https://");
    for headers in [
        vec![("origin", EVIL)],
        // an attacker's page on another port or scheme of the same host is another origin
        vec![("origin", own_host_evil_scheme.as_str())],
        vec![("origin", "null")],
        // the origin decides, whatever the referer says
        vec![("origin", EVIL), ("referer", own.as_str())],
        vec![("referer", evil_referer.as_str())],
        vec![("referer", "not a url")],
        vec![],
    ] {
        let r = unchanged!(
            app,
            cookie_send(&app, "POST", &publish, &t, &headers, form()).await
        );
        assert_forbidden(&r);
        assert_eq!(policy_status(&app, &p).await, "DRAFTED", "{headers:?}");
    }
    assert_eq!(app.audit_count().await, 2, "group and policy creation only");

    // the same request from pms's own origin goes through
    let r = cookie_send(&app, "POST", &publish, &t, &[("origin", &own)], form()).await;
    assert_eq!(r.ok()["status"], "PUBLISHED");
    assert_eq!(policy_status(&app, &p).await, "PUBLISHED");
}

#[tokio::test]
async fn a_same_origin_referer_stands_in_for_a_missing_origin() {
    let app = spawn_app().await;
    let (_, p, publish) = draft(&app).await;
    let t = app.token("pm1", POLICY_MANAGER);
    let referer = format!("{}/portal/whatever?x=1#y", app.base);
    let r = cookie_send(&app, "POST", &publish, &t, &[("referer", &referer)], None).await;
    r.ok();
    assert_eq!(policy_status(&app, &p).await, "PUBLISHED");
}

#[tokio::test]
async fn cross_site_json_writes_and_status_changes_through_the_cookie_are_refused() {
    let app = spawn_app().await;
    let (g, p) = app.published_policy("health", "login").await;
    app.register_partner("orgA", "health").await.ok();
    let admin = app.token("admin1", ADMIN);
    let evil = [("origin", EVIL)];

    // a JSON-body POST: a new policy group
    let body = envelope(json!({ "name": "stolen", "desc": "d" }));
    let r = unchanged!(
        app,
        cookie_send(
            &app,
            "POST",
            "/v1/policymanager/policies/group/new",
            &admin,
            &evil,
            json_body(&body)
        )
        .await
    );
    assert_forbidden(&r);

    // activation of a partner (PATCH with a JSON body)
    let body = envelope(json!({ "status": "Active" }));
    let r = unchanged!(
        app,
        cookie_send(
            &app,
            "PATCH",
            "/v1/partnermanager/partners/orgA",
            &admin,
            &evil,
            json_body(&body)
        )
        .await
    );
    assert_forbidden(&r);
    let partner = app
        .get("/v1/partnermanager/partners/orgA", "admin1", ADMIN)
        .await;
    assert_eq!(partner.ok()["isActive"], false);

    // deactivation of a policy and of its group (PATCH, V2 envelope)
    for (path, id) in [
        (
            format!("/v1/policymanager/policies/{p}"),
            "mosip.pms.deactivate.policy.patch",
        ),
        (
            format!("/v1/policymanager/policies/group/{g}"),
            "mosip.pms.deactivate.policy.group.patch",
        ),
    ] {
        let body = envelope_v2(id, json!({ "status": "De-Activate" }));
        let r = unchanged!(
            app,
            cookie_send(&app, "PATCH", &path, &admin, &evil, json_body(&body)).await
        );
        assert_forbidden(&r);
    }
    assert_eq!(policy_status(&app, &p).await, "PUBLISHED");

    // redelivery (a POST without a body): refused before the handler looks for the client,
    // which a same-origin request shows it does
    let redeliver = "/v1/partnermanager/oauth/client/no-such-client/redeliver";
    let r = unchanged!(
        app,
        cookie_send(&app, "POST", redeliver, &admin, &evil, form()).await
    );
    assert_forbidden(&r);
    let own = [("origin", app.base.as_str())];
    let r = cookie_send(&app, "POST", redeliver, &admin, &own, None).await;
    r.assert_error("PMS_ESI_004", "Client not exists with given id.");

    // the partner activation from pms's own origin goes through
    let body = envelope(json!({ "status": "Active" }));
    let r = cookie_send(
        &app,
        "PATCH",
        "/v1/partnermanager/partners/orgA",
        &admin,
        &own,
        json_body(&body),
    )
    .await;
    r.ok();
    let partner = app
        .get("/v1/partnermanager/partners/orgA", "admin1", ADMIN)
        .await;
    assert_eq!(partner.ok()["isActive"], true);
}

#[tokio::test]
async fn configured_origins_are_allowed_and_replace_the_own_origin() {
    let app = spawn_with(|c| {
        c.http.allowed_origins = pms::config::List(vec![
            "https://pmp.example.org".into(),
            "HTTPS://Admin.Example.org:8443".into(),
        ])
    })
    .await;
    let (_, p, publish) = draft(&app).await;
    let t = app.token("pm1", POLICY_MANAGER);
    // once the list is set, only its entries count: not even pms's own origin
    let own = app.base.clone();
    for origin in [own.as_str(), EVIL, "https://pmp.example.org:444"] {
        let r = unchanged!(
            app,
            cookie_send(&app, "POST", &publish, &t, &[("origin", origin)], form()).await
        );
        assert_forbidden(&r);
    }
    // compared as origins: case of scheme and host and the default port do not matter
    let r = cookie_send(
        &app,
        "POST",
        &publish,
        &t,
        &[("origin", "https://admin.example.org:8443")],
        form(),
    )
    .await;
    r.ok();
    assert_eq!(policy_status(&app, &p).await, "PUBLISHED");
    let p2 = app.create_policy("health", "login2").await;
    let g = app
        .get(
            &format!("/v1/policymanager/policies/{p2}"),
            "pm1",
            POLICY_MANAGER,
        )
        .await
        .ok()["policyGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = cookie_send(
        &app,
        "POST",
        &format!("/v1/policymanager/policies/{p2}/group/{g}/publish"),
        &t,
        &[("referer", "https://pmp.example.org:443/partners/list")],
        None,
    )
    .await;
    r.ok();
}

#[tokio::test]
async fn behind_a_tls_terminator_the_forwarded_scheme_makes_the_own_origin() {
    let app = spawn_app().await;
    let (_, p, publish) = draft(&app).await;
    let t = app.token("pm1", POLICY_MANAGER);
    let https_own = app.base.replace("http://", "https://");
    // without the proxy's word, pms serves plain HTTP: an https origin is another origin
    let r = unchanged!(
        app,
        cookie_send(
            &app,
            "POST",
            &publish,
            &t,
            &[("origin", &https_own)],
            form()
        )
        .await
    );
    assert_forbidden(&r);
    let r = unchanged!(
        app,
        cookie_send(
            &app,
            "POST",
            &publish,
            &t,
            &[("origin", EVIL), ("x-forwarded-proto", "https")],
            form()
        )
        .await
    );
    assert_forbidden(&r);
    let r = cookie_send(
        &app,
        "POST",
        &publish,
        &t,
        &[("origin", &https_own), ("x-forwarded-proto", "https")],
        form(),
    )
    .await;
    r.ok();
    assert_eq!(policy_status(&app, &p).await, "PUBLISHED");
}

#[tokio::test]
async fn bearer_requests_and_cookie_reads_are_not_affected() {
    let app = spawn_app().await;
    let (_, p, publish) = draft(&app).await;
    let t = app.token("pm1", POLICY_MANAGER);
    // bearer header: a cross-site page cannot set it, so no origin is asked for
    let r = app
        .client
        .post(format!("{}{publish}", app.base))
        .bearer_auth(&t)
        .header("origin", EVIL)
        .header("cookie", format!("Authorization={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(policy_status(&app, &p).await, "PUBLISHED");
    // reads change nothing: the cookie with a foreign origin still reads
    let r = cookie_send(
        &app,
        "GET",
        &format!("/v1/policymanager/policies/{p}"),
        &t,
        &[("origin", EVIL)],
        None,
    )
    .await;
    assert_eq!(r.ok()["status"], "PUBLISHED");
    // a cookie that authenticates nobody is still a 401, not a 403
    let r = cookie_send(&app, "POST", &publish, "garbage", &[("origin", EVIL)], None).await;
    assert_eq!(r.status, 401, "{}", r.body);
}
