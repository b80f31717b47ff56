//! Stand-ins for eSignet, the WebSub hub and the token endpoints, and a harness that runs the
//! real worker against a fresh SQLite store and a [`ManualClock`] shared with the stand-ins.
//!
//! The stand-ins check requests the way the real systems do (token headers, `requestTime`
//! leeway, required members, path family) and record every check that failed in
//! `World::violations`; tests assert that list stays empty.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::Router;
use base64::Engine as _;
use chrono::TimeZone;
use pms_delivery::{DeliveryMetrics, DeliverySettings, ServiceTokenSettings, TokenMode, Worker};
use pms_domain::clock::{format_ts, parse_ts, ManualClock, Timestamp};
use pms_domain::model::{
    ApprovalStatus, AuthPolicy, Caller, ClientFamily, ClientStatus, Ctx, DomainEvent, NameMap,
    OidcClient, Partner,
};
use pms_domain::outbox::{self, AggregateType, OutboxRow, OutboxState, OutboxTargets};
use pms_domain::{Clock, Store};
use pms_store_sqlite::{SqliteSettings, SqliteStore};
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

pub const CLIENT_ID: &str = "pms-client";
pub const CLIENT_SECRET: &str = "s3cret-value";

/// How a stand-in answers the next call.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Healthy,
    /// This HTTP status, empty body.
    Status(u16),
    /// HTTP 200 with this eSignet error code.
    Code(&'static str),
    /// Never answers.
    Hang,
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// HTTP 200, `response` null, no errors.
    NoResponse,
}

/// What eSignet's client registry went through, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Created { id: String, family: String },
    Updated { id: String, status: String },
}

#[derive(Debug, Clone)]
pub struct EsignetCall {
    pub method: &'static str,
    pub family: String,
    pub id: String,
    pub body: Value,
    /// `ok`, an error code, `HTTP <n>`, `hang`, …
    pub reply: String,
}

#[derive(Debug, Clone)]
pub enum HubEvent {
    Register {
        topic: String,
    },
    Publish {
        seq: u64,
        topic: String,
        body: String,
        status: u16,
        accepted: bool,
    },
}

/// The shared state of all stand-ins.
pub struct World {
    pub clock: Arc<ManualClock>,
    seq: AtomicU64,
    pub violations: Mutex<Vec<String>>,
    // token endpoint
    pub token_mode: Mutex<Mode>,
    pub token_fetches: AtomicU64,
    pub opaque_tokens: AtomicBool,
    issued: Mutex<Vec<String>>,
    revoked: Mutex<HashSet<String>>,
    // eSignet
    pub esignet_mode: Mutex<Mode>,
    /// Consumed one per call before `esignet_mode` applies.
    pub esignet_script: Mutex<VecDeque<Mode>>,
    /// Calls for these client ids hang.
    pub hang_ids: Mutex<HashSet<String>>,
    pub esignet_clients: Mutex<HashMap<String, (String, String)>>,
    pub esignet_calls: Mutex<Vec<EsignetCall>>,
    pub effects: Mutex<Vec<(u64, Effect)>>,
    // hub
    /// (status, body) of the next publishes; 202 when empty.
    pub hub_script: Mutex<VecDeque<(u16, &'static str)>>,
    pub hub_log: Mutex<Vec<HubEvent>>,
    /// Registrations answer HTTP 500 (and are still recorded).
    pub hub_register_fails: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap()
}

impl World {
    fn new(clock: Arc<ManualClock>) -> Self {
        Self {
            clock,
            seq: AtomicU64::new(0),
            violations: Mutex::default(),
            token_mode: Mutex::new(Mode::Healthy),
            token_fetches: AtomicU64::new(0),
            opaque_tokens: AtomicBool::new(false),
            issued: Mutex::default(),
            revoked: Mutex::default(),
            esignet_mode: Mutex::new(Mode::Healthy),
            esignet_script: Mutex::default(),
            hang_ids: Mutex::default(),
            esignet_clients: Mutex::default(),
            esignet_calls: Mutex::default(),
            effects: Mutex::default(),
            hub_script: Mutex::default(),
            hub_log: Mutex::default(),
            hub_register_fails: AtomicBool::new(false),
        }
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst)
    }

    fn violation(&self, v: String) {
        lock(&self.violations).push(v);
    }

    pub fn set_esignet(&self, mode: Mode) {
        *lock(&self.esignet_mode) = mode;
    }

    pub fn script_esignet(&self, modes: impl IntoIterator<Item = Mode>) {
        lock(&self.esignet_script).extend(modes);
    }

    pub fn script_hub(&self, replies: impl IntoIterator<Item = (u16, &'static str)>) {
        lock(&self.hub_script).extend(replies);
    }

    pub fn effects(&self) -> Vec<Effect> {
        lock(&self.effects).iter().map(|(_, e)| e.clone()).collect()
    }

    pub fn calls(&self) -> Vec<EsignetCall> {
        lock(&self.esignet_calls).clone()
    }

    pub fn hub_log(&self) -> Vec<HubEvent> {
        lock(&self.hub_log).clone()
    }

    /// Accepted publishes: (seq, topic, body).
    pub fn published(&self) -> Vec<(u64, String, String)> {
        self.hub_log()
            .into_iter()
            .filter_map(|e| match e {
                HubEvent::Publish {
                    seq,
                    topic,
                    body,
                    accepted: true,
                    ..
                } => Some((seq, topic, body)),
                _ => None,
            })
            .collect()
    }

    pub fn registrations(&self) -> Vec<String> {
        self.hub_log()
            .into_iter()
            .filter_map(|e| match e {
                HubEvent::Register { topic, .. } => Some(topic),
                _ => None,
            })
            .collect()
    }

    /// The sequence number of the first effect on `id`.
    pub fn effect_seq(&self, id: &str) -> Option<u64> {
        lock(&self.effects)
            .iter()
            .find(|(_, e)| match e {
                Effect::Created { id: i, .. } | Effect::Updated { id: i, .. } => i == id,
            })
            .map(|(s, _)| *s)
    }

    pub fn revoke_all_tokens(&self) {
        let issued = lock(&self.issued).clone();
        lock(&self.revoked).extend(issued);
    }

    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn fetches(&self) -> u64 {
        self.token_fetches.load(Ordering::SeqCst)
    }

    pub fn assert_no_violations(&self) {
        let v = lock(&self.violations).clone();
        assert!(v.is_empty(), "stand-ins saw bad requests: {v:#?}");
    }

    /// Both token headers present, equal, issued by the token stand-in and not revoked.
    fn token_ok(&self, who: &str, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let cookie = headers
            .get(COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split(';')
                    .filter_map(|p| p.trim().split_once('='))
                    .find(|(k, _)| *k == "Authorization")
                    .map(|(_, t)| t.to_string())
            });
        match (bearer, cookie) {
            (Some(b), Some(c)) if b == c => {
                lock(&self.issued).contains(&b) && !lock(&self.revoked).contains(&b)
            }
            other => {
                self.violation(format!(
                    "{who}: token headers missing or different: {other:?}"
                ));
                false
            }
        }
    }

    fn issue_token(&self) -> String {
        let n = self.token_fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let token = if self.opaque_tokens.load(Ordering::SeqCst) {
            format!("opaque-token-{n}")
        } else {
            let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let exp = self.clock.now().timestamp() + 86_400;
            format!(
                "{}.{}.signature{n}",
                e.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
                e.encode(format!(r#"{{"sub":"{CLIENT_ID}","exp":{exp},"n":{n}}}"#))
            )
        };
        lock(&self.issued).push(token.clone());
        token
    }

    fn request_time_ok(&self, who: &str, t: Option<&Value>) -> bool {
        let Some(at) = t.and_then(Value::as_str).and_then(parse_ts) else {
            self.violation(format!("{who}: requestTime missing or malformed: {t:?}"));
            return false;
        };
        let skew = (self.clock.now() - at).num_seconds().abs();
        if skew > 120 {
            self.violation(format!("{who}: requestTime {skew} s away from now"));
            return false;
        }
        true
    }
}

fn form(body: &str) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn status(code: u16, body: &'static str) -> Response {
    (StatusCode::from_u16(code).unwrap(), body).into_response()
}

fn esignet_error(code: &str) -> Response {
    axum::Json(json!({
        "responseTime": "2025-07-01T10:15:31.090Z",
        "response": null,
        "errors": [{ "errorCode": code, "errorMessage": code }]
    }))
    .into_response()
}

// ---------------------------------------------------------------------------------- token

async fn token_endpoint(State(w): State<Arc<World>>, headers: HeaderMap, body: String) -> Response {
    if let Mode::Status(s) = lock(&w.token_mode).clone() {
        return status(s, "");
    }
    let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if ct != Some("application/x-www-form-urlencoded") {
        w.violation(format!("token: content type {ct:?}"));
    }
    let f = form(&body);
    let get = |k: &str| f.get(k).map(String::as_str);
    if get("grant_type") != Some("client_credentials")
        || get("client_id") != Some(CLIENT_ID)
        || get("client_secret") != Some(CLIENT_SECRET)
    {
        w.violation(format!("token: bad form {f:?}"));
        return status(401, r#"{"error":"invalid_client"}"#);
    }
    let token = w.issue_token();
    axum::Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": 86_400 }))
        .into_response()
}

async fn authmanager_endpoint(State(w): State<Arc<World>>, body: Bytes) -> Response {
    if let Mode::Status(s) = lock(&w.token_mode).clone() {
        return status(s, "");
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let r = &v["request"];
    let ok = v["id"].is_string()
        && v["version"].is_string()
        && v["metadata"].is_object()
        && w.request_time_ok("authmanager", v.get("requesttime"))
        && r["appId"] == "partner"
        && r["clientId"] == CLIENT_ID
        && r["secretKey"] == CLIENT_SECRET;
    if !ok {
        w.violation(format!("authmanager: bad request {v}"));
        return axum::Json(json!({"response": null,
            "errors": [{"errorCode": "KER-ATH-003", "errorMessage": "bad credentials"}]}))
        .into_response();
    }
    let token = w.issue_token();
    (
        [(
            SET_COOKIE,
            format!("Authorization={token}; Max-Age=86400; Path=/; HttpOnly"),
        )],
        axum::Json(
            json!({"response": {"status": "Success", "message": "Success"}, "errors": null}),
        ),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------- eSignet

const CREATE_MEMBERS: [&str; 10] = [
    "clientId",
    "clientName",
    "publicKey",
    "relyingPartyId",
    "userClaims",
    "authContextRefs",
    "logoUri",
    "redirectUris",
    "grantTypes",
    "clientAuthMethods",
];
const UPDATE_MEMBERS: [&str; 8] = [
    "logoUri",
    "redirectUris",
    "status",
    "grantTypes",
    "clientName",
    "clientAuthMethods",
    "userClaims",
    "authContextRefs",
];

async fn esignet_create(
    State(w): State<Arc<World>>,
    Path(family): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    esignet_call(w, "POST", family, None, headers, body).await
}

async fn esignet_update(
    State(w): State<Arc<World>>,
    Path((family, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    esignet_call(w, "PUT", family, Some(id), headers, body).await
}

async fn esignet_call(
    w: Arc<World>,
    method: &'static str,
    family: String,
    path_id: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let req = v.get("request").cloned().unwrap_or(Value::Null);
    let id = path_id
        .clone()
        .or_else(|| req["clientId"].as_str().map(str::to_string))
        .unwrap_or_default();
    let mut mode = lock(&w.esignet_script)
        .pop_front()
        .unwrap_or_else(|| lock(&w.esignet_mode).clone());
    if lock(&w.hang_ids).contains(&id) {
        mode = Mode::Hang;
    }
    let record = |reply: String| {
        lock(&w.esignet_calls).push(EsignetCall {
            method,
            family: family.clone(),
            id: id.clone(),
            body: v.clone(),
            reply,
        });
    };
    match mode {
        Mode::Healthy => {}
        Mode::Hang => {
            record("hang".into());
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return status(500, "");
        }
        Mode::Status(s) => {
            record(format!("HTTP {s}"));
            return status(s, "");
        }
        Mode::Code(c) => {
            record(c.into());
            return esignet_error(c);
        }
        Mode::Garbage => {
            record("garbage".into());
            return status(200, "<html>oops</html>");
        }
        Mode::NoResponse => {
            record("no response".into());
            return axum::Json(json!({"responseTime": "x", "response": null, "errors": []}))
                .into_response();
        }
    }
    if !w.token_ok("esignet", &headers) {
        record("HTTP 401".into());
        return status(401, "UNAUTHORIZED");
    }
    // Validation, as eSignet's bean validation and filters do.
    let who = format!("esignet {method} {family}");
    let mut valid = true;
    let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if ct != Some("application/json") {
        w.violation(format!("{who}: content type {ct:?}"));
        valid = false;
    }
    if v.as_object().map(|o| o.len()) != Some(2) {
        w.violation(format!(
            "{who}: envelope must have requestTime and request only: {v}"
        ));
        valid = false;
    }
    valid &= w.request_time_ok(&who, v.get("requestTime"));
    let members: &[&str] = if method == "POST" {
        &CREATE_MEMBERS
    } else {
        &UPDATE_MEMBERS
    };
    for m in members {
        if req.get(*m).is_none_or(Value::is_null) {
            w.violation(format!("{who}: member {m} missing"));
            valid = false;
        }
    }
    if method == "POST" && !req["publicKey"].is_object() {
        w.violation(format!("{who}: publicKey is not an object"));
        valid = false;
    }
    let has_map = req.get("clientNameLangMap").is_some();
    match (family.as_str(), has_map) {
        ("oauth-client", true) | ("oidc-client", false) => {}
        _ => {
            w.violation(format!("{who}: clientNameLangMap present: {has_map}"));
            valid = false;
        }
    }
    if has_map
        && req["clientNameLangMap"]
            .as_object()
            .is_none_or(|m| m.is_empty() || m.contains_key("@none"))
    {
        w.violation(format!("{who}: bad clientNameLangMap"));
        valid = false;
    }
    if !valid {
        record("invalid_request".into());
        return esignet_error("invalid_request");
    }
    let seq = w.next_seq();
    let mut clients = lock(&w.esignet_clients);
    let (effect, state) = if method == "POST" {
        if clients.contains_key(&id) {
            drop(clients);
            record(DUP.into());
            return esignet_error(DUP);
        }
        clients.insert(id.clone(), (family.clone(), "ACTIVE".into()));
        (
            Effect::Created {
                id: id.clone(),
                family: family.clone(),
            },
            "ACTIVE".to_string(),
        )
    } else {
        let Some(entry) = clients.get_mut(&id) else {
            drop(clients);
            record(INVALID.into());
            return esignet_error(INVALID);
        };
        let st = req["status"].as_str().unwrap_or_default().to_string();
        entry.1 = st.clone();
        (
            Effect::Updated {
                id: id.clone(),
                status: st.clone(),
            },
            st,
        )
    };
    drop(clients);
    lock(&w.effects).push((seq, effect));
    record("ok".into());
    axum::Json(json!({
        "responseTime": format_ts(&w.clock.now()),
        "response": { "clientId": id, "status": state },
        "errors": []
    }))
    .into_response()
}

const DUP: &str = "duplicate_client_id";
const INVALID: &str = "invalid_client_id";

// ---------------------------------------------------------------------------------- hub

async fn hub(
    State(w): State<Arc<World>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let seq = w.next_seq();
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if q.get("hub.mode").map(String::as_str) == Some("publish") {
        let topic = q.get("hub.topic").cloned().unwrap_or_default();
        let who = format!("hub publish {topic}");
        if !w.token_ok(&who, &headers) {
            lock(&w.hub_log).push(HubEvent::Publish {
                seq,
                topic,
                body,
                status: 401,
                accepted: false,
            });
            return status(401, "");
        }
        if ct != "application/json" {
            w.violation(format!("{who}: content type {ct}"));
        }
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if keys != ["publisher", "topic", "publishedOn", "event"] {
            w.violation(format!("{who}: members {keys:?}"));
        }
        if v["topic"] != topic.as_str() {
            w.violation(format!("{who}: topic member {}", v["topic"]));
        }
        w.request_time_ok(&format!("{who} publishedOn"), v.get("publishedOn"));
        let (code, text) = lock(&w.hub_script).pop_front().unwrap_or((202, ""));
        let first = form(text.split('&').next().unwrap_or_default());
        let accepted = code == 202
            || (code == 200 && first.values().next().map(String::as_str) == Some("accepted"));
        lock(&w.hub_log).push(HubEvent::Publish {
            seq,
            topic,
            body,
            status: code,
            accepted,
        });
        return status(code, text);
    }
    let f = form(&body);
    if ct != "application/x-www-form-urlencoded"
        || f.get("hub.mode").map(String::as_str) != Some("register")
    {
        w.violation(format!("hub: unexpected call {q:?} {ct} {body}"));
        return status(400, "");
    }
    let topic = f.get("hub.topic").cloned().unwrap_or_default();
    w.token_ok("hub register", &headers);
    lock(&w.hub_log).push(HubEvent::Register { topic });
    if w.hub_register_fails.load(Ordering::SeqCst) {
        return status(500, "");
    }
    status(202, "")
}

// ---------------------------------------------------------------------------------- harness

/// Where the eSignet stand-in is when the worker starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EsignetAt {
    Up,
    /// Its port is reserved but nothing listens: connections are refused until `esignet_up`.
    Down,
    /// Not configured in the worker.
    Absent,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub esignet: EsignetAt,
    pub hub: bool,
    pub token_mode: TokenMode,
    pub max_attempts: u32,
    pub http_timeout_seconds: u64,
    pub lease_seconds: u64,
    pub concurrency: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            esignet: EsignetAt::Up,
            hub: true,
            token_mode: TokenMode::ClientCredentials,
            max_attempts: 50,
            http_timeout_seconds: 5,
            lease_seconds: 3600,
            concurrency: 4,
        }
    }
}

pub fn t0() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2025, 7, 1, 10, 0, 0).unwrap()
}

async fn serve(listener: tokio::net::TcpListener, app: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

fn esignet_app(w: Arc<World>) -> Router {
    Router::new()
        .route("/v1/esignet/client-mgmt/{family}", post(esignet_create))
        .route("/v1/esignet/client-mgmt/{family}/{id}", put(esignet_update))
        .with_state(w)
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub struct Harness {
    pub world: Arc<World>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub registry: Registry,
    pub opts: Options,
    notify: Option<Arc<Notify>>,
    esignet_port: u16,
    aux_addr: std::net::SocketAddr,
    servers: Mutex<Vec<JoinHandle<()>>>,
    shutdown: Option<oneshot::Sender<()>>,
    worker: Option<JoinHandle<()>>,
    aggregates: Mutex<Vec<(AggregateType, String)>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Stand-ins, store and worker, running.
    pub async fn start(opts: Options) -> Self {
        let mut h = Self::prepare(opts).await;
        h.start_worker();
        h
    }

    /// Stand-ins and store; the worker is started by [`Harness::start_worker`].
    pub async fn prepare(opts: Options) -> Self {
        init_tracing();
        let clock = Arc::new(ManualClock::new(t0()));
        let world = Arc::new(World::new(clock.clone()));
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(&SqliteSettings {
            url: format!("sqlite://{}", dir.path().join("pms.db").display()),
            max_connections: 4,
            connect_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let aux = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let aux_addr = aux.local_addr().unwrap();
        let aux_app = Router::new()
            .route("/token", post(token_endpoint))
            .route("/authenticate", post(authmanager_endpoint))
            .route("/hub", post(hub))
            .with_state(world.clone());
        let mut servers = vec![serve(aux, aux_app).await];
        let esignet = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let esignet_port = esignet.local_addr().unwrap().port();
        if opts.esignet == EsignetAt::Up {
            servers.push(serve(esignet, esignet_app(world.clone())).await);
        } else {
            drop(esignet);
        }
        Self {
            world,
            store: Arc::new(store),
            clock,
            registry: Registry::default(),
            opts,
            notify: None,
            esignet_port,
            aux_addr,
            servers: Mutex::new(servers),
            shutdown: None,
            worker: None,
            aggregates: Mutex::default(),
            _dir: dir,
        }
    }

    pub fn settings(&self) -> DeliverySettings {
        let o = &self.opts;
        DeliverySettings {
            esignet_base_url: (o.esignet != EsignetAt::Absent)
                .then(|| format!("http://127.0.0.1:{}/", self.esignet_port)),
            websub_hub_url: o.hub.then(|| format!("http://{}/hub", self.aux_addr)),
            token: ServiceTokenSettings {
                mode: o.token_mode,
                token_url: match o.token_mode {
                    TokenMode::ClientCredentials => format!("http://{}/token", self.aux_addr),
                    TokenMode::MosipAuthManager => {
                        format!("http://{}/authenticate", self.aux_addr)
                    }
                },
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                app_id: "partner".into(),
            },
            base_delay_seconds: 1,
            max_delay_seconds: 2,
            max_attempts: o.max_attempts,
            lease_seconds: o.lease_seconds,
            http_timeout_seconds: o.http_timeout_seconds,
            poll_interval_ms: 50,
            concurrency: o.concurrency,
            retention_days: 30,
        }
    }

    pub fn start_worker(&mut self) {
        let metrics = DeliveryMetrics::register(&mut self.registry);
        let clock: Arc<dyn Clock> = self.clock.clone();
        let worker = Worker::new(self.store.clone(), clock, self.settings(), metrics).unwrap();
        self.notify = Some(worker.notifier());
        let (tx, rx) = oneshot::channel::<()>();
        self.shutdown = Some(tx);
        self.worker = Some(tokio::spawn(worker.run(async move {
            let _ = rx.await;
        })));
    }

    /// Starts the eSignet stand-in on the port the worker was given.
    pub async fn esignet_up(&self) {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", self.esignet_port))
            .await
            .unwrap();
        let s = serve(l, esignet_app(self.world.clone())).await;
        lock(&self.servers).push(s);
    }

    pub fn wake(&self) {
        if let Some(n) = &self.notify {
            n.notify_one();
        }
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            caller: Caller {
                user_id: "admin".into(),
                email: None,
                is_admin: true,
                reads_all_partners: true,
            },
            now: self.clock.now(),
            correlation_id: "test".into(),
            outbox: OutboxTargets {
                esignet: true,
                websub: true,
            },
        }
    }

    /// Commits `client` (when given) and the outbox rows of `events`, as an operation would.
    pub async fn commit(&self, client: Option<&OidcClient>, events: Vec<DomainEvent>) {
        let ctx = self.ctx();
        let mut tx = self.store.write().await.unwrap();
        if let Some(c) = client {
            tx.insert_client(c).await.unwrap();
        }
        for e in &events {
            let agg = match e {
                DomainEvent::ClientCreated { client, .. }
                | DomainEvent::ClientUpdated { client } => {
                    (AggregateType::Client, client.id.clone())
                }
                DomainEvent::PartnerUpdated { partner } => {
                    (AggregateType::Partner, partner.id.clone())
                }
                DomainEvent::PolicyUpdated { policy } => (AggregateType::Policy, policy.id.clone()),
            };
            let mut aggs = lock(&self.aggregates);
            if !aggs.contains(&agg) {
                aggs.push(agg);
            }
        }
        outbox::record(tx.as_mut(), &ctx, &events).await.unwrap();
        tx.commit().await.unwrap();
        self.wake();
    }

    /// A client created through the API: the client with its `CREATE` and
    /// `OIDC_CLIENT_CREATED` rows.
    pub async fn create_client(&self, id: &str, oauth: bool) -> OidcClient {
        let c = client(id, oauth, self.clock.now());
        self.commit(
            Some(&c),
            vec![DomainEvent::ClientCreated {
                client: c.clone(),
                family: c.family(),
                partner: partner().into(),
                policy: policy().into(),
            }],
        )
        .await;
        c
    }

    /// A client update through the API: the new version with its `UPDATE` and
    /// `OIDC_CLIENT_UPDATED` rows.
    pub async fn update_client(
        &self,
        id: &str,
        change: impl FnOnce(&mut OidcClient),
    ) -> OidcClient {
        let ctx = self.ctx();
        let mut tx = self.store.write().await.unwrap();
        let mut c = tx.client_for_update(id).await.unwrap().unwrap();
        change(&mut c);
        c.version += 1;
        c.upd_by = Some("admin".into());
        c.upd_dtimes = Some(ctx.now);
        tx.update_client(&c).await.unwrap();
        outbox::record(
            tx.as_mut(),
            &ctx,
            &[DomainEvent::ClientUpdated { client: c.clone() }],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        self.wake();
        c
    }

    pub async fn partner_updated(&self, id: &str) {
        let mut p = partner();
        p.id = id.into();
        self.commit(None, vec![DomainEvent::PartnerUpdated { partner: p }])
            .await;
    }

    /// Every outbox row of the aggregates this test wrote, by id.
    pub async fn rows(&self) -> Vec<OutboxRow> {
        let aggs = lock(&self.aggregates).clone();
        let mut tx = self.store.read().await.unwrap();
        let mut rows = Vec::new();
        for (t, id) in aggs {
            rows.extend(tx.outbox_of(t, &[id]).await.unwrap());
        }
        rows.sort_by_key(|r| r.id);
        rows
    }

    /// Runs the world until `done` holds for the rows: wakes the worker and, while no row is in
    /// flight, moves the clock to the next retry time. Fails after 30 s of real time.
    pub async fn drive_until(
        &self,
        what: &str,
        done: impl Fn(&[OutboxRow]) -> bool,
    ) -> Vec<OutboxRow> {
        let started = std::time::Instant::now();
        loop {
            let rows = self.rows().await;
            if done(&rows) {
                return rows;
            }
            if started.elapsed() > Duration::from_secs(30) {
                panic!(
                    "timed out waiting for {what}\nrows: {rows:#?}\ncalls: {:#?}\nhub: {:#?}\nviolations: {:#?}",
                    self.world.calls(),
                    self.world.hub_log(),
                    lock(&self.world.violations)
                );
            }
            if !rows.iter().any(|r| r.state == OutboxState::InFlight) {
                let now = self.clock.now();
                if let Some(due) = rows
                    .iter()
                    .filter(|r| r.state == OutboxState::Pending)
                    .filter_map(|r| r.next_attempt_at)
                    .filter(|d| *d > now)
                    .min()
                {
                    self.clock.set(due);
                }
            }
            self.wake();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Until every row is delivered or superseded.
    pub async fn drive_until_done(&self) -> Vec<OutboxRow> {
        self.drive_until("every row delivered", |rows| {
            !rows.is_empty() && rows.iter().all(|r| r.state.is_done())
        })
        .await
    }

    /// Stops the worker; it must return promptly.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(w) = self.worker.take() {
            tokio::time::timeout(Duration::from_secs(10), w)
                .await
                .expect("worker did not stop")
                .unwrap();
        }
    }

    pub fn metrics_text(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).unwrap();
        text
    }

    /// The metrics once they contain every line of `wants` (up to 2 s): the worker counts an
    /// attempt after committing its outcome, so counts can trail the rows by a moment.
    pub async fn metrics_with(&self, wants: &[&str]) -> String {
        let mut text = self.metrics_text();
        for _ in 0..100 {
            if wants.iter().all(|w| text.contains(w)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            text = self.metrics_text();
        }
        text
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(w) = &self.worker {
            w.abort();
        }
        for s in lock(&self.servers).iter() {
            s.abort();
        }
    }
}

/// Rows of one channel.
pub fn of(rows: &[OutboxRow], channel: pms_domain::outbox::Channel) -> Vec<OutboxRow> {
    rows.iter()
        .filter(|r| r.channel == channel)
        .cloned()
        .collect()
}

pub fn partner() -> Partner {
    Partner {
        id: "pms-111999".into(),
        name: "Health Services Ltd".into(),
        address: "1 Main St".into(),
        contact_no: "1234567890".into(),
        email_id: "ops@health-services.com".into(),
        partner_type_code: "Auth_Partner".into(),
        policy_group_id: Some("group-1".into()),
        user_id: "partner-user".into(),
        approval_status: ApprovalStatus::Approved,
        is_active: true,
        lang_code: "eng".into(),
        cr_by: "partner-user".into(),
        cr_dtimes: t0(),
        upd_by: None,
        upd_dtimes: None,
    }
}

pub fn policy() -> AuthPolicy {
    AuthPolicy {
        id: "policy-1".into(),
        policy_group_id: "group-1".into(),
        name: "mosip policy".into(),
        desc: "desc".into(),
        policy_type: "Auth".into(),
        version: "1.0".into(),
        policies: json!({"authTokenType": "policy"}).into(),
        schema: Some("https://schemas.mosip.io/auth-policy".into()),
        is_active: true,
        valid_from: t0(),
        valid_to: t0() + chrono::Duration::days(365),
        cr_by: "admin".into(),
        cr_dtimes: t0(),
        upd_by: None,
        upd_dtimes: None,
    }
}

pub fn client(id: &str, oauth: bool, now: Timestamp) -> OidcClient {
    let mut map = NameMap::new();
    if oauth {
        map.insert("eng".into(), json!("Health Services Portal"));
        map.insert("fra".into(), json!("Portail des services de santé"));
    }
    OidcClient {
        id: id.into(),
        name: "Health Services Portal".into(),
        name_lang_map: map,
        rp_id: "pms-111999".into(),
        policy_id: "policy-1".into(),
        logo_uri: "https://health-services.com/logo.png".into(),
        redirect_uris: ["https://health-services.com/userprofile"].into(),
        public_key: r#"{"kty":"EC","crv":"P-256","x":"D_d95uQX3nhDefU4NSsrQT87O65aC73U71zesD4bkvk","y":"6nSPXQO83XJBWzRWkZdcH3Qtpojc6qTffzV0N3S-atk","kid":"ec-key-1","use":"sig","alg":"ES256"}"#.into(),
        claims: ["name", "email"].into(),
        acr_values: ["mosip:idp:acr:password"].into(),
        grant_types: ["authorization_code"].into(),
        client_auth_methods: ["private_key_jwt"].into(),
        status: ClientStatus::Active,
        cr_by: "partner-user".into(),
        cr_dtimes: now,
        upd_by: None,
        upd_dtimes: None,
        version: 1,
    }
}

/// A family's path segment.
pub fn family_path(oauth: bool) -> &'static str {
    if oauth {
        "oauth-client"
    } else {
        "oidc-client"
    }
}

#[allow(dead_code)]
pub fn family_of(c: &OidcClient) -> &'static str {
    family_path(c.family() == ClientFamily::OAuth)
}
