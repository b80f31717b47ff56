//! Delivery to eSignet and the WebSub hub (downstream.md; api-oidc-clients.md §7.2, §8.3, §9):
//! acceptance tests against the stand-ins of `standins.rs`. The app runs on a manual clock which
//! the waits below move forward, so that backoff delays come due without real waiting.

use crate::helpers::*;
use crate::standins::{EsignetAttempt, Mode, Publish, Standins};
use crate::unchanged;
use pms::config::Config;
use pms_domain::clock::{parse_ts, ManualClock};
use pms_domain::SystemClock;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OIDC: &str = "/v1/partnermanager/oidc/client";
const OAUTH: &str = "/v1/partnermanager/oauth/client";
const CREATED: &str = "OIDC_CLIENT_CREATED";
const UPDATED: &str = "OIDC_CLIENT_UPDATED";
const PARTNER_UPDATED: &str = "PARTNER_UPDATED";
const POLICY_UPDATED: &str = "POLICY_UPDATED";
const BLOCKED: &str = "blocked by an earlier failed delivery";
const PARTNER_TYPE: (&str, &str) = (
    "PartnerManagementServiceImpl",
    "io.mosip.pmp.partner.manager.service.impl.PartnerManagementServiceImpl",
);
const POLICY_TYPE: (&str, &str) = ("PolicyManagementService", "io.mosip.pmp.policy.service");

/// How long a wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(12);

// ------------------------------------------------------------------------------------------
// waiting on a manual clock

/// Manual time added per tick, every [`TICK_EVERY`] of real time: 5 s of manual time per real
/// second, so that backoff delays (at most 2.4 s) come due within a few ticks while a call
/// hanging for the 1 s HTTP timeout can never outlive its 10 s lease.
const TICK_MS: i64 = 1500;
const TICK_EVERY: Duration = Duration::from_millis(300);
const POLL: Duration = Duration::from_millis(100);

/// Polls while moving `clocks` forward; fails the test once `timeout` has passed.
struct Waiter<'a> {
    clocks: Vec<&'a ManualClock>,
    what: String,
    timeout: Duration,
    start: Instant,
    last_tick: Instant,
}

impl<'a> Waiter<'a> {
    fn new(clocks: &[&'a ManualClock], timeout: Duration, what: &str) -> Self {
        let now = Instant::now();
        Self {
            clocks: clocks.to_vec(),
            what: what.to_string(),
            timeout,
            start: now,
            last_tick: now,
        }
    }

    /// Sleeps one poll interval, ticking the clocks when due; `seen` describes the last state
    /// for the failure message.
    async fn step(&mut self, seen: impl std::fmt::Display) {
        if self.start.elapsed() > self.timeout {
            panic!(
                "timed out after {:?} waiting for {}; last seen: {seen}",
                self.timeout, self.what
            );
        }
        tokio::time::sleep(POLL).await;
        if self.last_tick.elapsed() >= TICK_EVERY {
            for c in &self.clocks {
                c.advance(chrono::Duration::milliseconds(TICK_MS));
            }
            self.last_tick = Instant::now();
        }
    }
}

/// Ticks `app`'s clock and polls `GET /oauth/client/{id}` until `condition` holds for the
/// client detail; returns that detail.
async fn wait_until(
    app: &TestApp,
    id: &str,
    timeout: Duration,
    what: &str,
    condition: impl Fn(&Value) -> bool,
) -> Value {
    let mut w = Waiter::new(&[&app.clock], timeout, what);
    loop {
        let d = detail(app, id).await;
        if condition(&d) {
            return d;
        }
        w.step(&d["delivery"]).await;
    }
}

/// Ticks `clocks` until `condition` (on the stand-ins, say) holds.
async fn wait_for(
    clocks: &[&ManualClock],
    timeout: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) {
    let mut w = Waiter::new(clocks, timeout, what);
    while !condition() {
        w.step("-").await;
    }
}

/// Lets `real` time pass while ticking `clocks`, for "nothing more happens" checks.
async fn settle(clocks: &[&ManualClock], real: Duration) {
    let start = Instant::now();
    let mut w = Waiter::new(clocks, real + Duration::from_secs(5), "settling");
    while start.elapsed() < real {
        w.step("-").await;
    }
}

// ------------------------------------------------------------------------------------------
// set-up and requests

/// An app pointed at the stand-ins, which then judge time by its clock.
async fn app_with(s: &Standins, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_with(|c| {
        s.configure(c);
        adjust(c);
    })
    .await;
    s.set_clock(app.clock.clone());
    app
}

/// Group `g`, published policy `pol`, active `rp1` with the mapping approved: the policy id.
async fn ready(app: &TestApp) -> String {
    let (_, pol) = app.published_policy("g", "pol").await;
    app.register_partner("rp1", "g").await.ok();
    app.activate_partner("rp1").await;
    let key = app.request_mapping("rp1", "pol").await.ok()["mappingkey"]
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
    pol
}

fn fresh_key() -> Value {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap()
}

fn name_map(name: &str) -> Value {
    json!({ "eng": name, "fra": format!("{name} (fra)") })
}

fn path_of(oauth: bool) -> &'static str {
    if oauth {
        OAUTH
    } else {
        OIDC
    }
}

fn family_of(oauth: bool) -> &'static str {
    if oauth {
        "oauth-client"
    } else {
        "oidc-client"
    }
}

fn create_body(policy_id: &str, name: &str, oauth: bool) -> Value {
    let mut b = json!({
        "name": name, "policyId": policy_id, "publicKey": fresh_key(), "authPartnerId": "rp1",
        "logoUri": "https://rp.example/logo.png", "redirectUris": ["https://rp.example/cb"],
        "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"]
    });
    if oauth {
        b["clientNameLangMap"] = name_map(name);
    }
    b
}

fn update_body(name: &str, oauth: bool) -> Value {
    let mut b = json!({
        "logoUri": "https://rp.example/logo-v2.png",
        "redirectUris": ["https://rp.example/cb", "https://rp.example/cb2"],
        "status": "ACTIVE", "grantTypes": ["authorization_code"], "clientName": name,
        "clientAuthMethods": ["private_key_jwt"]
    });
    if oauth {
        b["clientNameLangMap"] = name_map(name);
    }
    b
}

/// Creates a client of `rp1` (OAuth family when `oauth`): its id.
async fn create_client(app: &TestApp, policy_id: &str, name: &str, oauth: bool) -> String {
    let r = app
        .call(
            "POST",
            path_of(oauth),
            "rp1",
            AUTH_PARTNER,
            Some(create_body(policy_id, name, oauth)),
        )
        .await;
    r.ok()["clientId"].as_str().unwrap().to_string()
}

async fn update_client(app: &TestApp, id: &str, name: &str, oauth: bool) -> Resp {
    app.call(
        "PUT",
        &format!("{}/{id}", path_of(oauth)),
        "rp1",
        AUTH_PARTNER,
        Some(update_body(name, oauth)),
    )
    .await
}

/// `GET /oauth/client/{id}` as an admin: the `ClientDetail`.
async fn detail(app: &TestApp, id: &str) -> Value {
    app.get(&format!("{OAUTH}/{id}"), "admin1", ADMIN)
        .await
        .ok()
        .clone()
}

async fn redeliver(app: &TestApp, id: &str, user: &str, roles: &[&str]) -> Resp {
    app.call(
        "POST",
        &format!("{OAUTH}/{id}/redeliver"),
        user,
        roles,
        None,
    )
    .await
}

/// The list entry of client `id`.
async fn listed(app: &TestApp, id: &str) -> Value {
    let page = app
        .get(&format!("{OAUTH}?pageNo=0&pageSize=100"), "admin1", ADMIN)
        .await;
    page.ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {}", page.body))
}

fn channel<'a>(d: &'a Value, name: &str) -> &'a Value {
    &d["delivery"][name]
}

fn state<'a>(d: &'a Value, name: &str) -> &'a str {
    channel(d, name)["state"].as_str().unwrap_or("")
}

fn delivered(d: &Value) -> bool {
    state(d, "esignet") == "DELIVERED" && state(d, "websub") == "DELIVERED"
}

fn attempts(d: &Value, name: &str) -> u64 {
    channel(d, name)["attempts"].as_u64().unwrap_or(0)
}

// ------------------------------------------------------------------------------------------
// what eSignet and the hub must hold

/// eSignet holds client `d` exactly as pms stores it (downstream.md §3.3, §3.4).
fn assert_esignet_matches(s: &Standins, d: &Value) {
    let id = d["id"].as_str().unwrap();
    let stored = s
        .esignet
        .client(id)
        .unwrap_or_else(|| panic!("eSignet does not have {id}"));
    let key: Value = serde_json::from_str(d["publicKey"].as_str().unwrap()).unwrap();
    let mut expected = json!({
        "clientId": id, "clientName": d["name"], "publicKey": key,
        "relyingPartyId": d["relyingPartyId"], "userClaims": d["claims"],
        "authContextRefs": d["acrValues"], "logoUri": d["logoUri"],
        "redirectUris": d["redirectUris"], "grantTypes": d["grantTypes"],
        "clientAuthMethods": d["clientAuthMethods"], "status": d["status"],
    });
    let mut map = d["clientNameLangMap"].as_object().unwrap().clone();
    map.remove("@none");
    if !map.is_empty() {
        expected["clientNameLangMap"] = Value::Object(map);
    }
    assert_eq!(stored, expected, "eSignet's copy of {id} differs from pms");
}

/// The envelope of a publish (downstream.md §4.2) for `topic` with `event.type` `ty`.
fn assert_envelope(p: &Publish, topic: &str, ty: (&str, &str)) {
    assert_eq!(p.topic, topic, "{}", p.body);
    assert_eq!(p.body["topic"], topic, "{}", p.body);
    assert_eq!(p.body["publisher"], ty.0, "{}", p.body);
    assert_eq!(
        p.body["event"]["type"],
        json!({ "name": ty.0, "namespace": ty.1 }),
        "{}",
        p.body
    );
    uuid::Uuid::parse_str(p.event_id()).unwrap();
    let published = parse_ts(p.body["publishedOn"].as_str().unwrap()).unwrap();
    let committed = parse_ts(p.body["event"]["timestamp"].as_str().unwrap()).unwrap();
    assert!(
        published >= committed,
        "published before commit: {}",
        p.body
    );
}

/// `clientData` of client `d` with name `name` (§4.3).
fn client_data(d: &Value, name: &str) -> Value {
    json!({ "clientId": d["id"], "clientName": name, "clientStatus": d["status"],
            "userClaims": d["claims"], "authContextRefs": d["acrValues"],
            "clientAuthMethods": d["clientAuthMethods"] })
}

fn partner_data(id: &str, status: &str) -> Value {
    json!({ "partnerId": id, "partnerName": format!("Org of {id}"), "certificateData": null,
            "partnerStatus": status })
}

/// `policyData` of policy `id` as pms stores it now (§4.3).
async fn policy_data(app: &TestApp, id: &str) -> Value {
    let p = app
        .get(
            &format!("/v1/policymanager/policies/{id}"),
            "pm1",
            POLICY_MANAGER,
        )
        .await
        .ok()
        .clone();
    let local = |v: &Value| v.as_str().unwrap().trim_end_matches('Z').to_string();
    json!({
        "policyId": id, "policy": p["policies"], "policyName": p["policyName"],
        "policyStatus": if p["is_Active"] == json!(true) { "ACTIVE" } else { "DEACTIVE" },
        "policyDescription": p["policyDesc"],
        "policyCommenceOn": local(&p["publishDate"]), "policyExpiresOn": local(&p["validTill"]),
    })
}

fn topics(events: &[Publish]) -> Vec<&str> {
    events.iter().map(|p| p.topic.as_str()).collect()
}

fn assert_no_rejections(s: &Standins) {
    assert_eq!(
        s.esignet.rejections().len(),
        0,
        "{:?}",
        s.esignet.rejections()
    );
    assert_eq!(s.hub.rejections(), Vec::<String>::new());
}

// ------------------------------------------------------------------------------------------
// 1. failures are retried until eSignet is back, for creates and updates

/// Create while eSignet fails in `mode`, see two failed attempts, heal; update while it fails
/// again, see two failed attempts, heal; then check eSignet and the hub against pms.
async fn retries_through(mode: Mode, expected_error: &str, oauth: bool) {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let app = app_with(&s, |_| {}).await;
    let pol = ready(&app).await;
    let family = family_of(oauth);

    s.esignet.set_mode(mode.clone()).await;
    let id = create_client(&app, &pol, "Portal", oauth).await;
    let failing = |d: &Value| state(d, "esignet") == "PENDING" && attempts(d, "esignet") >= 2;
    let d = wait_until(&app, &id, WAIT, "two failed creates", failing).await;
    assert_failing(&d, expected_error);
    assert!(s.esignet.calls_for(&id).is_empty());
    assert!(
        s.hub.client_events(&id).is_empty(),
        "published before eSignet had it"
    );
    let created = d;

    s.esignet.set_mode(Mode::Healthy).await;
    let d = wait_until(&app, &id, WAIT, "the create delivered", delivered).await;
    assert_esignet_matches(&s, &d);
    assert_eq!(topics(&s.hub.client_events(&id)), [CREATED]);

    s.esignet.set_mode(mode.clone()).await;
    update_client(&app, &id, "Portal renamed", oauth).await.ok();
    let d = wait_until(&app, &id, WAIT, "two failed updates", failing).await;
    assert_failing(&d, expected_error);
    assert_eq!(s.esignet.calls_for(&id).len(), 1);
    assert_eq!(topics(&s.hub.client_events(&id)), [CREATED]);

    s.esignet.set_mode(Mode::Healthy).await;
    let d = wait_until(&app, &id, WAIT, "the update delivered", delivered).await;
    assert_eq!(d["name"], "Portal renamed");
    assert_esignet_matches(&s, &d);
    for ch in ["esignet", "websub"] {
        assert_eq!(channel(&d, ch)["pendingItems"], 0, "{d}");
        assert!(channel(&d, ch)["nextAttemptAt"].is_null(), "{d}");
    }
    // the most recent row: its failed attempts and the successful one
    assert!(attempts(&d, "esignet") >= 3, "{d}");
    assert_eq!(attempts(&d, "websub"), 1, "{d}");

    let calls: Vec<String> = s
        .esignet
        .calls_for(&id)
        .iter()
        .map(|c| {
            let answered = if c.answered { "" } else { " (reply withheld)" };
            format!(
                "{} {} {} {}{answered}",
                c.method, c.family, c.status, c.client_name
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            format!("POST {family} ACTIVE Portal"),
            format!("PUT {family} ACTIVE Portal renamed"),
        ]
    );
    if mode != Mode::Refuse {
        let failed = s
            .esignet
            .attempts_for(&id)
            .iter()
            .filter(|a| a.outcome != "ok")
            .count();
        assert!(failed >= 4, "{:?}", s.esignet.attempts_for(&id));
    }

    let calls = s.esignet.calls_for(&id);
    let events = s.hub.client_events(&id);
    assert_eq!(topics(&events), [CREATED, UPDATED]);
    assert!(
        events[0].seq > calls[0].seq,
        "created event before eSignet had the client"
    );
    assert!(
        events[1].seq > calls[1].seq,
        "updated event before eSignet had the update"
    );
    assert_envelope(&events[0], CREATED, PARTNER_TYPE);
    assert_envelope(&events[1], UPDATED, PARTNER_TYPE);
    assert_ne!(events[0].event_id(), events[1].event_id());
    assert_eq!(
        events[0].data(),
        &json!({
            "partnerData": partner_data("rp1", "ACTIVE"),
            "policyData": policy_data(&app, &pol).await,
            "clientData": client_data(&created, "Portal"),
        })
    );
    assert_eq!(
        events[1].data(),
        &json!({ "clientData": client_data(&d, "Portal renamed") })
    );
    assert_eq!(
        events[0].body["event"]["timestamp"],
        created["createdDateTime"]
    );
    assert_eq!(events[1].body["event"]["timestamp"], d["updatedDateTime"]);
    let registered = s.hub.registered();
    assert!(registered.iter().any(|t| t == CREATED), "{registered:?}");
    assert!(registered.iter().any(|t| t == UPDATED), "{registered:?}");
    assert_eq!(s.token.fetches(), 1, "the service token is cached");
    assert_no_rejections(&s);
}

/// eSignet failing: its row pending with the failure shown, the event row waiting behind it.
fn assert_failing(d: &Value, expected_error: &str) {
    let e = channel(d, "esignet");
    assert_eq!(e["state"], "PENDING", "{d}");
    assert_eq!(e["pendingItems"], 1, "{d}");
    assert_eq!(e["lastError"], expected_error, "{d}");
    assert!(e["lastAttemptAt"].is_string(), "{d}");
    assert!(e["nextAttemptAt"].is_string(), "{d}");
    let w = channel(d, "websub");
    assert_eq!(w["state"], "PENDING", "{d}");
    assert_eq!(w["pendingItems"], 1, "{d}");
    assert_eq!(w["attempts"], 0, "{d}");
    assert!(w["lastError"].is_null(), "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refused_connections_are_retried_until_esignet_is_back() {
    retries_through(Mode::Refuse, "connection failed", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_500_is_retried_until_esignet_is_back() {
    retries_through(Mode::Http500, "HTTP 500", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_error_is_retried_until_esignet_is_back() {
    retries_through(
        Mode::ErrorCode("unknown_error".into()),
        "eSignet error unknown_error",
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timeouts_are_retried_until_esignet_is_back() {
    retries_through(Mode::Hang, "timeout", false).await;
}

// ------------------------------------------------------------------------------------------
// 2. requests never wait for eSignet

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_do_not_wait_for_a_hanging_esignet() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let app = app_with(&s, |_| {}).await;
    let pol = ready(&app).await;
    s.esignet.set_mode(Mode::Hang).await;

    let started = Instant::now();
    let id = create_client(&app, &pol, "Portal", false).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "create took {:?}",
        started.elapsed()
    );
    wait_for(&[&app.clock], WAIT, "the create to reach eSignet", || {
        !s.esignet.attempts_for(&id).is_empty()
    })
    .await;
    let started = Instant::now();
    update_client(&app, &id, "Portal renamed", false).await.ok();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "update took {:?}",
        started.elapsed()
    );

    let d = detail(&app, &id).await;
    assert_eq!(d["name"], "Portal renamed");
    for ch in ["esignet", "websub"] {
        assert_eq!(state(&d, ch), "PENDING", "{d}");
        assert_eq!(channel(&d, ch)["pendingItems"], 2, "{d}");
    }
    // nothing failed for good, so the event rows are waiting, not blocked
    assert_eq!(attempts(&d, "websub"), 0, "{d}");
    assert!(channel(&d, "websub")["lastError"].is_null(), "{d}");
    assert!(s.hub.client_events(&id).is_empty());
    assert!(s.esignet.calls_for(&id).is_empty());

    // once eSignet answers, the create carries the current record, which also delivers the
    // update (downstream.md §5.4: the update row is superseded)
    s.esignet.set_mode(Mode::Healthy).await;
    let d = wait_until(&app, &id, WAIT, "both rows delivered", delivered).await;
    assert_esignet_matches(&s, &d);
    let calls: Vec<_> = s
        .esignet
        .calls_for(&id)
        .into_iter()
        .map(|c| (c.method, c.client_name))
        .collect();
    assert_eq!(calls, [("POST".to_string(), "Portal renamed".to_string())]);
    let events = s.hub.client_events(&id);
    assert_eq!(topics(&events), [CREATED, UPDATED]);
    assert_eq!(events[0].data()["clientData"]["clientName"], "Portal");
    assert_eq!(
        events[1].data()["clientData"]["clientName"],
        "Portal renamed"
    );
    assert_no_rejections(&s);
}

// ------------------------------------------------------------------------------------------
// 3. a code eSignet gives up on, and redelivery

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_client_fails_visibly_and_redelivers() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let app = app_with(&s, |_| {}).await;
    let pol = ready(&app).await;
    s.esignet
        .set_mode(Mode::ErrorCode("invalid_claim".into()))
        .await;
    let id = create_client(&app, &pol, "Portal", false).await;

    let d = wait_until(&app, &id, WAIT, "eSignet delivery FAILED", |d| {
        state(d, "esignet") == "FAILED"
    })
    .await;
    let e = channel(&d, "esignet");
    assert_eq!(e["lastError"], "eSignet error invalid_claim", "{d}");
    assert_eq!(e["attempts"], 1, "{d}");
    assert_eq!(e["pendingItems"], 1, "{d}");
    assert!(e["nextAttemptAt"].is_null(), "{d}");
    let w = channel(&d, "websub");
    assert_eq!(w["state"], "PENDING", "{d}");
    assert_eq!(w["lastError"], BLOCKED, "{d}");
    assert_eq!(listed(&app, &id).await["deliveryState"], "FAILED");
    // given up: no further attempt, nothing published
    settle(&[&app.clock], Duration::from_secs(1)).await;
    assert_eq!(
        s.esignet.attempts_for(&id).len(),
        1,
        "{:?}",
        s.esignet.attempts_for(&id)
    );
    assert!(s.hub.client_events(&id).is_empty());
    assert_eq!(state(&detail(&app, &id).await, "esignet"), "FAILED");

    s.esignet.set_mode(Mode::Healthy).await;
    let r = unchanged!(app, redeliver(&app, &id, "rp1", AUTH_PARTNER).await);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.codes(), ["KER-ATH-403"]);

    let r = redeliver(&app, &id, "admin1", ADMIN).await;
    let body = r.ok();
    assert_eq!(body["clientId"], id.as_str());
    assert_eq!(body["status"], "ACTIVE");
    let e = &body["delivery"]["esignet"];
    assert_eq!(e["state"], "PENDING", "{body}");
    assert_eq!(e["attempts"], 0, "{body}");
    assert_eq!(e["pendingItems"], 1, "{body}");
    assert_eq!(e["nextAttemptAt"], now_str(&app).as_str(), "{body}");
    let w = &body["delivery"]["websub"];
    assert_eq!(w["state"], "PENDING", "{body}");
    assert!(w["lastError"].is_null(), "no longer blocked: {body}");

    let d = wait_until(&app, &id, WAIT, "delivered after redelivery", delivered).await;
    assert_esignet_matches(&s, &d);
    assert_eq!(
        attempts(&d, "esignet"),
        1,
        "counted since the redelivery: {d}"
    );
    let calls: Vec<_> = s
        .esignet
        .calls_for(&id)
        .into_iter()
        .map(|c| c.method)
        .collect();
    assert_eq!(calls, ["POST"]);
    assert_eq!(topics(&s.hub.client_events(&id)), [CREATED]);
    assert_eq!(listed(&app, &id).await["deliveryState"], "DELIVERED");
    let actions = app
        .db
        .strings(&format!(
            "SELECT action FROM audit_log WHERE entity_type = 'OIDC_CLIENT' AND entity_id = '{id}' ORDER BY id"
        ))
        .await;
    assert_eq!(actions, ["CREATE_CLIENT", "REDELIVER_CLIENT"]);

    // nothing failed: nothing to do
    let outbox = app.db.outbox_dump().await;
    let r = unchanged!(app, redeliver(&app, &id, "admin1", ADMIN).await);
    assert_eq!(app.db.outbox_dump().await, outbox);
    let body = r.ok();
    assert_eq!(body["delivery"], d["delivery"]);

    let r = unchanged!(
        app,
        redeliver(&app, "no-such-client", "admin1", ADMIN).await
    );
    r.assert_error("PMS_ESI_004", "Client not exists with given id.");
    assert_no_rejections(&s);
}

// ------------------------------------------------------------------------------------------
// 4. partner and policy events; no hub configured

async fn patch_partner(app: &TestApp, id: &str, status: &str) -> Resp {
    app.call(
        "PATCH",
        &format!("/v1/partnermanager/partners/{id}"),
        "admin1",
        ADMIN,
        Some(json!({ "status": status })),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partner_and_policy_changes_are_published_without_calling_esignet() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let app = app_with(&s, |_| {}).await;
    let (_, pol) = app.published_policy("g", "pol").await;
    let published = policy_data(&app, &pol).await;
    app.register_partner("rp1", "g").await.ok();
    patch_partner(&app, "rp1", "Active").await.ok();
    // no change of state: no event
    let count = "SELECT CAST(COUNT(*) AS TEXT) FROM outbox";
    let rows = app.db.strings(count).await;
    unchanged!(app, patch_partner(&app, "rp1", "Active").await.ok().clone());
    assert_eq!(app.db.strings(count).await, rows);
    patch_partner(&app, "rp1", "De-Active").await.ok();
    let token = app.token("pm1", POLICY_MANAGER);
    let body = envelope_v2(
        "mosip.pms.deactivate.policy.patch",
        json!({ "status": "De-Activate" }),
    );
    app.send(
        "PATCH",
        &format!("/v1/policymanager/policies/{pol}"),
        Some(&token),
        Some(&body),
    )
    .await
    .ok();
    let deactivated = policy_data(&app, &pol).await;
    assert_eq!(deactivated["policyStatus"], "DEACTIVE");

    wait_for(
        &[&app.clock],
        WAIT,
        "two partner and two policy events",
        || s.hub.of_topic(PARTNER_UPDATED).len() >= 2 && s.hub.of_topic(POLICY_UPDATED).len() >= 2,
    )
    .await;
    settle(&[&app.clock], Duration::from_millis(800)).await;

    let partner = s.hub.of_topic(PARTNER_UPDATED);
    assert_eq!(partner.len(), 2, "{partner:?}");
    for p in &partner {
        assert_envelope(p, PARTNER_UPDATED, PARTNER_TYPE);
    }
    assert_eq!(
        partner[0].data(),
        &json!({ "partnerData": partner_data("rp1", "ACTIVE") })
    );
    assert_eq!(
        partner[1].data(),
        &json!({ "partnerData": partner_data("rp1", "DEACTIVE") })
    );
    let policy = s.hub.of_topic(POLICY_UPDATED);
    assert_eq!(policy.len(), 2, "{policy:?}");
    for p in &policy {
        assert_envelope(p, POLICY_UPDATED, POLICY_TYPE);
    }
    assert_eq!(policy[0].data(), &json!({ "policyData": published }));
    assert_eq!(policy[1].data(), &json!({ "policyData": deactivated }));
    let ids: BTreeSet<&str> = partner
        .iter()
        .chain(&policy)
        .map(Publish::event_id)
        .collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(s.hub.publishes().len(), 4);
    let registered = s.hub.registered();
    assert!(
        registered.iter().any(|t| t == PARTNER_UPDATED),
        "{registered:?}"
    );
    assert!(
        registered.iter().any(|t| t == POLICY_UPDATED),
        "{registered:?}"
    );
    assert!(
        s.esignet.attempts().is_empty(),
        "{:?}",
        s.esignet.attempts()
    );
    assert_no_rejections(&s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_hub_nothing_is_queued_for_it() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let app = app_with(&s, |c| c.websub.hub_url = String::new()).await;
    let pol = ready(&app).await;
    let id = create_client(&app, &pol, "Portal", true).await;
    let d = wait_until(&app, &id, WAIT, "the create delivered", |d| {
        state(d, "esignet") == "DELIVERED"
    })
    .await;
    assert_eq!(
        channel(&d, "websub"),
        &json!({ "state": "NONE", "pendingItems": 0, "attempts": 0, "lastAttemptAt": null,
                 "nextAttemptAt": null, "lastError": null })
    );
    update_client(&app, &id, "Portal renamed", true).await.ok();
    let d = wait_until(&app, &id, WAIT, "the update delivered", |d| {
        state(d, "esignet") == "DELIVERED" && s.esignet.calls_for(&id).len() == 2
    })
    .await;
    assert_eq!(state(&d, "websub"), "NONE");
    assert_esignet_matches(&s, &d);
    assert_eq!(listed(&app, &id).await["deliveryState"], "DELIVERED");
    settle(&[&app.clock], Duration::from_millis(500)).await;
    assert!(s.hub.publishes().is_empty(), "{:?}", s.hub.publishes());
    assert!(s.hub.registered().is_empty(), "{:?}", s.hub.registered());
    let websub_rows = app
        .db
        .strings("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE channel = 'WEBSUB'")
        .await;
    assert_eq!(websub_rows, ["0"]);
    assert_no_rejections(&s);
}

// ------------------------------------------------------------------------------------------
// 5. kill -9 while rows are in flight

/// The real binary over HTTP, with tokens from `pms token`.
struct Remote {
    base: String,
    http: reqwest::Client,
}

impl Remote {
    /// `method path` with a v1 envelope around `request`; asserts success, returns `response`.
    async fn call(&self, method: &str, path: &str, token: &str, request: Option<Value>) -> Value {
        let mut rb = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(r) = request {
            rb = rb.json(&envelope(r));
        }
        let body: Value = rb.send().await.unwrap().json().await.unwrap();
        assert_eq!(body["errors"], json!([]), "{method} {path}: {body}");
        body["response"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_in_flight_survive_kill_9() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let env = s.env();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path()).await;
    let (mut child, base) = start_pms_binary(dir.path(), &db, &env).await;
    let pm = pms_token(dir.path(), "pm1", "POLICYMANAGER");
    let admin = pms_token(dir.path(), "admin1", "PARTNER_ADMIN");
    let rp = pms_token(dir.path(), "rp1", "AUTH_PARTNER");
    let mut remote = Remote {
        base,
        http: reqwest::Client::new(),
    };

    let g = remote
        .call(
            "POST",
            "/v1/policymanager/policies/group/new",
            &pm,
            Some(json!({ "name": "g", "desc": "group" })),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pol = remote
        .call(
            "POST",
            "/v1/policymanager/policies",
            &pm,
            Some(
                json!({ "policyGroupName": "g", "policyType": "Auth", "name": "pol",
                           "desc": "desc", "version": "1.0", "policies": sample_policy() }),
            ),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    remote
        .call(
            "POST",
            &format!("/v1/policymanager/policies/{pol}/group/{g}/publish"),
            &pm,
            None,
        )
        .await;
    remote
        .call(
            "POST",
            "/v1/partnermanager/partners",
            &rp,
            Some(
                json!({ "partnerId": "rp1", "policyGroup": "g", "organizationName": "Org of rp1",
                           "address": "12 Main Street", "contactNumber": "9876543210",
                           "emailId": "rp1@example.org", "partnerType": "Auth_Partner" }),
            ),
        )
        .await;
    remote
        .call(
            "PATCH",
            "/v1/partnermanager/partners/rp1",
            &admin,
            Some(json!({ "status": "Active" })),
        )
        .await;
    let key = remote
        .call(
            "POST",
            "/v1/partnermanager/partners/rp1/policy/map",
            &rp,
            Some(json!({ "policyName": "pol", "useCaseDescription": "login" })),
        )
        .await["mappingkey"]
        .as_str()
        .unwrap()
        .to_string();
    remote
        .call(
            "PUT",
            &format!("/v1/partnermanager/partners/policy/{key}"),
            &admin,
            Some(json!({ "status": "Approved" })),
        )
        .await;

    s.esignet.set_mode(Mode::Hang).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let r = remote
            .call(
                "POST",
                OIDC,
                &rp,
                Some(create_body(&pol, &format!("Portal {i}"), false)),
            )
            .await;
        ids.push(r["clientId"].as_str().unwrap().to_string());
    }
    // calls hanging: their rows are in flight
    wait_for(&[], WAIT, "eSignet calls hanging", || {
        s.esignet
            .attempts()
            .iter()
            .filter(|a| a.outcome == "hang")
            .count()
            >= 4
    })
    .await;
    // eSignet now takes calls in but answers none: replies lost on the way back
    s.esignet.set_mode(Mode::AcceptThenHang).await;
    wait_for(&[], WAIT, "a create whose reply is lost", || {
        s.esignet
            .calls()
            .iter()
            .any(|c| c.is_create() && !c.answered)
    })
    .await;
    wait_for(&[], WAIT, "a call just started", || {
        s.esignet
            .attempts()
            .last()
            .is_some_and(|a| a.at.elapsed() < Duration::from_millis(200))
    })
    .await;
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    let killed_at = Instant::now();
    assert!(
        db.outbox_count("IN_FLIGHT").await >= 1,
        "no row was in flight at the kill"
    );
    let lost: BTreeSet<String> = s
        .esignet
        .calls()
        .iter()
        .filter(|c| c.is_create() && !c.answered)
        .map(|c| c.client_id.clone())
        .collect();

    s.esignet.set_mode(Mode::Healthy).await;
    let (_child, base) = start_pms_binary(dir.path(), &db, &env).await;
    remote.base = base;
    let mut w = Waiter::new(&[], Duration::from_secs(20), "all 10 clients delivered");
    let details = loop {
        let mut all = Vec::new();
        for id in &ids {
            all.push(
                remote
                    .call("GET", &format!("{OAUTH}/{id}"), &admin, None)
                    .await,
            );
        }
        let pending: Vec<_> = all
            .iter()
            .filter(|d| !delivered(d))
            .map(|d| d["delivery"].clone())
            .collect();
        if pending.is_empty() {
            break all;
        }
        w.step(format!(
            "{} eSignet attempts: {:?}",
            json!(pending),
            s.esignet.attempts()
        ))
        .await;
    };

    for (i, d) in details.iter().enumerate() {
        let id = d["id"].as_str().unwrap();
        assert_esignet_matches(&s, d);
        let calls = s.esignet.calls_for(id);
        assert_eq!(
            calls.iter().filter(|c| c.is_create()).count(),
            1,
            "{id} created more than once: {calls:?}"
        );
        assert!(calls[0].is_create(), "{calls:?}");
        let tried = s.esignet.attempts_for(id);
        assert_repeats_became_updates(&tried, killed_at);
        if lost.contains(id) {
            assert!(
                tried
                    .iter()
                    .any(|a| a.is_create() && a.outcome == "error duplicate_client_id"),
                "{id}: the lost create was not repeated as a duplicate: {tried:?}"
            );
        }
        let events = s.hub.client_events(id);
        assert!(!events.is_empty(), "{id}: no created event");
        assert!(events.iter().all(|p| p.topic == CREATED), "{events:?}");
        let event_ids: BTreeSet<&str> = events.iter().map(Publish::event_id).collect();
        assert_eq!(
            event_ids.len(),
            1,
            "{id}: repeats with another event id: {events:?}"
        );
        assert!(
            events[0].seq > calls[0].seq,
            "{id}: published before eSignet had it"
        );
        assert_eq!(
            events[0].data()["clientData"]["clientName"],
            format!("Portal {i}")
        );
    }
    assert_eq!(s.esignet.client_count(), 10);
    assert_no_rejections(&s);
}

/// After a client's first successful create, every create attempt was answered
/// `duplicate_client_id` and continued as an update — unless the process died in between.
fn assert_repeats_became_updates(tried: &[EsignetAttempt], killed_at: Instant) {
    let Some(first) = tried
        .iter()
        .position(|a| a.is_create() && a.outcome.starts_with("ok"))
    else {
        panic!("never created: {tried:?}");
    };
    for (i, a) in tried.iter().enumerate().skip(first + 1) {
        if !a.is_create() {
            continue;
        }
        assert_eq!(a.outcome, "error duplicate_client_id", "{tried:?}");
        match tried.get(i + 1) {
            Some(next) if !next.is_create() => {}
            Some(next) if a.at < killed_at && next.at > killed_at => {}
            _ => panic!("a duplicate create was not followed by an update: {tried:?}"),
        }
    }
}

// ------------------------------------------------------------------------------------------
// 6. two nodes, one database

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_deliver_every_row_exactly_once() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let a = app_with(&s, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        a.dir.path().join("dev-signing-key.pem"),
        dir.path().join("dev-signing-key.pem"),
    )
    .unwrap();
    let b = spawn_in(dir, a.db.clone(), |c| s.configure(c)).await;
    let pol = ready(&a).await;

    let created = futures_util::future::join_all((0..20).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        let pol = pol.clone();
        async move { create_client(node, &pol, &format!("Portal {i}"), i % 3 == 0).await }
    }))
    .await;
    let ids: BTreeSet<String> = created.into_iter().collect();
    assert_eq!(ids.len(), 20);

    // both clocks move together
    let mut w = Waiter::new(
        &[&a.clock, &b.clock],
        Duration::from_secs(15),
        "all delivered",
    );
    loop {
        let page = a
            .get(&format!("{OAUTH}?pageNo=0&pageSize=100"), "admin1", ADMIN)
            .await;
        let states: BTreeMap<String, String> = page.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["clientId"].as_str().unwrap().to_string(),
                    c["deliveryState"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if states.len() == 20 && states.values().all(|s| s == "DELIVERED") {
            break;
        }
        w.step(json!(states)).await;
    }

    let calls = s.esignet.calls();
    assert_eq!(calls.len(), 20, "{calls:?}");
    assert!(
        calls.iter().all(|c| c.is_create() && c.answered),
        "{calls:?}"
    );
    let mut per_client: BTreeMap<String, usize> = BTreeMap::new();
    for at in s.esignet.attempts() {
        *per_client.entry(at.client_id.clone()).or_default() += 1;
    }
    assert_eq!(per_client.keys().cloned().collect::<BTreeSet<_>>(), ids);
    assert!(
        per_client.values().all(|n| *n == 1),
        "a row was attempted twice: {:?}",
        s.esignet.attempts()
    );
    for id in &ids {
        assert_esignet_matches(&s, &detail(&a, id).await);
    }
    let events = s.hub.of_topic(CREATED);
    assert_eq!(events.len(), 20, "{events:?}");
    let event_ids: BTreeSet<&str> = events.iter().map(Publish::event_id).collect();
    assert_eq!(event_ids.len(), 20);
    let event_clients: BTreeSet<String> = events
        .iter()
        .map(|p| p.client_id().unwrap().to_string())
        .collect();
    assert_eq!(event_clients, ids);
    assert!(s.hub.of_topic(UPDATED).is_empty());
    // every row was delivered by exactly one of the nodes
    let mut delivered_by = Vec::new();
    for node in [&a, &b] {
        let m = node.send("GET", "/metrics", None, None).await;
        let text = m.body.as_str().unwrap();
        let labels = [("channel", "esignet"), ("outcome", "delivered")];
        delivered_by.push(sample_opt(text, "pms_delivery_attempts_total", &labels).unwrap_or(0.0));
    }
    assert_eq!(delivered_by.iter().sum::<f64>(), 20.0, "{delivered_by:?}");
    assert_no_rejections(&s);
}

// ------------------------------------------------------------------------------------------
// 7. metrics

/// The samples of a Prometheus text exposition: (name, labels, value).
fn samples(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (head, value) = l.rsplit_once(' ')?;
            let (name, labels) = match head.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (head, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|kv| !kv.is_empty())
                .filter_map(|kv| {
                    let (k, v) = kv.split_once("=\"")?;
                    Some((k.to_string(), v.trim_end_matches('"').to_string()))
                })
                .collect();
            Some((name.to_string(), labels, value.parse().ok()?))
        })
        .collect()
}

/// The value of the sample `name` whose labels include `labels`, if there is one.
fn sample_opt(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = samples(text)
        .into_iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| v)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} in\n{text}");
    found.first().copied()
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample_opt(text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_show_requests_outbox_rows_and_delivery_attempts() {
    let s = Standins::start(Arc::new(SystemClock)).await;
    let app = app_with(&s, |_| {}).await;
    let pol = ready(&app).await;
    s.esignet.set_mode(Mode::Http500).await;
    let first = create_client(&app, &pol, "Portal 0", false).await;
    wait_until(&app, &first, WAIT, "two failed creates", |d| {
        attempts(d, "esignet") >= 2
    })
    .await;
    s.esignet.set_mode(Mode::Healthy).await;
    let mut ids = vec![first];
    for i in 1..3 {
        ids.push(create_client(&app, &pol, &format!("Portal {i}"), false).await);
    }
    for id in &ids {
        wait_until(&app, id, WAIT, "delivered", delivered).await;
    }
    // the policy publish and the partner activation of the set-up
    wait_for(&[&app.clock], WAIT, "partner and policy events", || {
        s.hub.publishes().len() == 5
    })
    .await;
    let http_500 = s
        .esignet
        .attempts()
        .iter()
        .filter(|a| a.outcome == "HTTP 500")
        .count() as f64;
    assert!(http_500 >= 2.0);

    let r = app.send("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    let text = r.body.as_str().unwrap();
    let creates = sample(
        text,
        "pms_http_requests_total",
        &[("method", "POST"), ("route", OIDC), ("status", "200")],
    );
    assert_eq!(creates, 3.0);
    for (target, st, n) in [
        ("ESIGNET", "DELIVERED", 3.0),
        ("ESIGNET", "PENDING", 0.0),
        ("ESIGNET", "FAILED", 0.0),
        ("WEBSUB", "DELIVERED", 5.0),
        ("WEBSUB", "PENDING", 0.0),
    ] {
        assert_eq!(
            sample(
                text,
                "pms_outbox_rows",
                &[("target", target), ("state", st)]
            ),
            n,
            "{target} {st}"
        );
    }
    let attempts_of = |channel: &str, outcome: &str| {
        sample(
            text,
            "pms_delivery_attempts_total",
            &[("channel", channel), ("outcome", outcome)],
        )
    };
    assert_eq!(attempts_of("esignet", "delivered"), 3.0);
    assert_eq!(attempts_of("esignet", "retry"), http_500);
    assert_eq!(attempts_of("websub", "delivered"), 5.0);
    assert_eq!(
        sample(
            text,
            "pms_delivery_failures_total",
            &[("channel", "esignet"), ("reason", "http_status")]
        ),
        http_500
    );
    assert_eq!(
        sample(
            text,
            "pms_delivery_token_fetches_total",
            &[("result", "ok")]
        ),
        s.token.fetches() as f64
    );
    assert_no_rejections(&s);
}
