//! Stand-ins for the services pms delivers to (downstream.md): eSignet's client management, a
//! WebSub hub and a Keycloak token endpoint. Each is a small axum server on `127.0.0.1:0`,
//! started by the test, which validates requests the way the real service does and keeps what
//! it saw for the test to inspect.
//!
//! Every stand-in sits behind a TCP relay on its public port, so that eSignet can truly refuse
//! connections (listener closed, open keep-alive connections cut) and later listen again on the
//! same port.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use pms::config::Config;
use pms_domain::clock::{format_ts, parse_ts, Timestamp};
use pms_domain::Clock;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The service account pms is configured with.
pub const CLIENT_ID: &str = "mosip-pms-client";
pub const CLIENT_SECRET: &str = "pms-client-s3cret";

/// eSignet's `mosip.esignet.reqtime.leeway-minutes` default.
const REQUEST_TIME_LEEWAY_SECONDS: i64 = 120;

// ------------------------------------------------------------------------------------------
// shared state

/// What the three stand-ins share: the clock they judge time by, the tokens the token endpoint
/// issued, and one sequence numbering every recorded event, so that a test can order eSignet
/// calls against hub publishes.
struct Shared {
    clock: Mutex<Arc<dyn Clock>>,
    seq: AtomicU64,
    /// token → `exp` (seconds since the epoch)
    tokens: Mutex<HashMap<String, i64>>,
    token_fetches: AtomicUsize,
}

impl Shared {
    fn now(&self) -> Timestamp {
        let clock = self.clock.lock().unwrap().clone();
        clock.now()
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// `Authorization: Bearer <t>` and `Cookie: Authorization=<t>`, `t` issued here and not
    /// expired (downstream.md §2).
    fn check_token(&self, headers: &HeaderMap) -> Result<(), String> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or("no Authorization: Bearer header")?;
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .find_map(|c| c.strip_prefix("Authorization="))
            .ok_or("no Authorization cookie")?;
        if bearer != cookie {
            return Err("bearer token and cookie differ".into());
        }
        let exp = self
            .tokens
            .lock()
            .unwrap()
            .get(bearer)
            .copied()
            .ok_or("token not issued by the token endpoint")?;
        if exp <= self.now().timestamp() {
            return Err("token expired".into());
        }
        Ok(())
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded` pairs (also a query string), decoded.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{text}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn form_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// ------------------------------------------------------------------------------------------
// the TCP front

/// A stand-in's public port: a TCP relay in front of its axum server.
struct Front {
    addr: SocketAddr,
    backend: SocketAddr,
    relay: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Front {
    async fn start(app: Router) -> Front {
        let backend_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let backend = backend_listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(backend_listener, app).await;
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        Front {
            addr,
            backend,
            relay: tokio::sync::Mutex::new(Some(tokio::spawn(relay(listener, backend)))),
        }
    }

    /// Closes the port and cuts every open connection: connecting is refused from now on.
    async fn close(&self) {
        let mut slot = self.relay.lock().await;
        if let Some(task) = slot.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens on the same port again.
    async fn open(&self) {
        let mut slot = self.relay.lock().await;
        if slot.is_none() {
            let mut tries = 0;
            let listener = loop {
                match TcpListener::bind(self.addr).await {
                    Ok(l) => break l,
                    Err(e) => {
                        tries += 1;
                        assert!(tries < 100, "cannot listen on {} again: {e}", self.addr);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            };
            *slot = Some(tokio::spawn(relay(listener, self.backend)));
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Accepts on `listener` and relays each connection to `backend`. Aborting the task drops the
/// listener and (through the `JoinSet`) every relayed connection.
async fn relay(listener: TcpListener, backend: SocketAddr) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((mut inbound, _)) = accepted {
                    conns.spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(backend).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }
            _ = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

// ------------------------------------------------------------------------------------------
// the bundle

/// The three stand-ins, sharing a clock and the issued tokens.
pub struct Standins {
    shared: Arc<Shared>,
    pub esignet: Esignet,
    pub hub: Hub,
    pub token: TokenEndpoint,
}

impl Standins {
    /// Starts all three; they judge time (token expiry, eSignet's `requestTime` leeway) by
    /// `clock`.
    pub async fn start(clock: Arc<dyn Clock>) -> Standins {
        let shared = Arc::new(Shared {
            clock: Mutex::new(clock),
            seq: AtomicU64::new(0),
            tokens: Mutex::new(HashMap::new()),
            token_fetches: AtomicUsize::new(0),
        });
        let esignet = Esignet::start(shared.clone()).await;
        let hub = Hub::start(shared.clone()).await;
        let token = TokenEndpoint::start(shared.clone()).await;
        Standins {
            shared,
            esignet,
            hub,
            token,
        }
    }

    /// Judge time by `clock` from now on (the app's `ManualClock`, known once it runs).
    pub fn set_clock(&self, clock: Arc<dyn Clock>) {
        *self.shared.clock.lock().unwrap() = clock;
    }

    /// Points `c` at the stand-ins, with delivery timings for a test on a manual clock: base
    /// delay 1 s, maximum delay 2 s, HTTP timeout 1 s, lease 10 s, polling every 50 ms.
    pub fn configure(&self, c: &mut Config) {
        c.esignet.base_url = self.esignet.url();
        c.websub.hub_url = self.hub.url();
        c.service_token.token_url = self.token.url();
        c.service_token.client_id = CLIENT_ID.into();
        c.service_token.client_secret = CLIENT_SECRET.into();
        c.delivery.base_delay_seconds = 1;
        c.delivery.max_delay_seconds = 2;
        c.delivery.http_timeout_seconds = 1;
        c.delivery.lease_seconds = 10;
        c.delivery.poll_interval_ms = 50;
    }

    /// The same as `PMS_*` environment variables for the real binary (which runs on the real
    /// clock): lease 3 s.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("PMS_ESIGNET__BASE_URL", self.esignet.url()),
            ("PMS_WEBSUB__HUB_URL", self.hub.url()),
            ("PMS_SERVICE_TOKEN__TOKEN_URL", self.token.url()),
            ("PMS_SERVICE_TOKEN__CLIENT_ID", CLIENT_ID.into()),
            ("PMS_SERVICE_TOKEN__CLIENT_SECRET", CLIENT_SECRET.into()),
            ("PMS_DELIVERY__BASE_DELAY_SECONDS", "1".into()),
            ("PMS_DELIVERY__MAX_DELAY_SECONDS", "2".into()),
            ("PMS_DELIVERY__HTTP_TIMEOUT_SECONDS", "1".into()),
            ("PMS_DELIVERY__LEASE_SECONDS", "3".into()),
            ("PMS_DELIVERY__POLL_INTERVAL_MS", "50".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

// ------------------------------------------------------------------------------------------
// token endpoint

/// Keycloak's token endpoint, `client_credentials` only.
pub struct TokenEndpoint {
    shared: Arc<Shared>,
    front: Front,
}

impl TokenEndpoint {
    async fn start(shared: Arc<Shared>) -> Self {
        let app = Router::new()
            .fallback(token_handler)
            .with_state(shared.clone());
        TokenEndpoint {
            shared,
            front: Front::start(app).await,
        }
    }

    pub fn url(&self) -> String {
        format!("{}/token", self.front.url())
    }

    /// Tokens issued so far.
    pub fn fetches(&self) -> usize {
        self.shared.token_fetches.load(Ordering::SeqCst)
    }
}

async fn token_handler(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    if method != Method::POST || uri.path() != "/token" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let form = form_pairs(&String::from_utf8_lossy(&body));
    if form_value(&form, "grant_type") != Some("client_credentials") {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "unsupported_grant_type" }),
        );
    }
    if form_value(&form, "client_id") != Some(CLIENT_ID)
        || form_value(&form, "client_secret") != Some(CLIENT_SECRET)
    {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "unauthorized_client" }),
        );
    }
    let now = shared.now().timestamp();
    let exp = now + 300;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.{}",
        b64(&json!({ "alg": "RS256", "typ": "JWT", "kid": "standin" })),
        b64(
            &json!({ "exp": exp, "iat": now, "jti": uuid::Uuid::new_v4().to_string(),
                     "azp": CLIENT_ID, "scope": "add_oidc_client update_oidc_client" })
        ),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()),
    );
    shared.tokens.lock().unwrap().insert(token.clone(), exp);
    shared.token_fetches.fetch_add(1, Ordering::SeqCst);
    json_response(
        StatusCode::OK,
        &json!({ "access_token": token, "expires_in": 300, "token_type": "Bearer" }),
    )
}

// ------------------------------------------------------------------------------------------
// eSignet

/// How eSignet answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Healthy,
    /// The port is closed: connections are refused.
    Refuse,
    /// HTTP 500, empty body.
    Http500,
    /// HTTP 200 with this `errorCode`.
    ErrorCode(String),
    /// Never answers.
    Hang,
    /// Processes the call (the client is stored or updated) and then never answers: a reply
    /// lost on the way back.
    AcceptThenHang,
}

/// A call eSignet carried out.
#[derive(Debug, Clone)]
pub struct EsignetCall {
    pub seq: u64,
    /// `POST` (create) or `PUT` (update).
    pub method: String,
    /// `oidc-client` or `oauth-client`.
    pub family: String,
    pub client_id: String,
    /// The client's status after the call.
    pub status: String,
    pub client_name: String,
    /// False when the reply was never sent ([`Mode::AcceptThenHang`]).
    pub answered: bool,
}

impl EsignetCall {
    pub fn is_create(&self) -> bool {
        self.method == "POST"
    }
}

/// Any request that reached eSignet.
#[derive(Debug, Clone)]
pub struct EsignetAttempt {
    pub seq: u64,
    pub at: Instant,
    pub method: String,
    pub family: String,
    pub client_id: String,
    /// `ok`, `ok, reply withheld`, `HTTP 500`, `HTTP 401: …`, `hang`, `error <code>`, or
    /// `rejected: <reason>` (the request was malformed: a bug in pms).
    pub outcome: String,
}

impl EsignetAttempt {
    pub fn is_create(&self) -> bool {
        self.method == "POST"
    }
}

#[derive(Default)]
struct EsignetData {
    clients: BTreeMap<String, Value>,
    calls: Vec<EsignetCall>,
    attempts: Vec<EsignetAttempt>,
}

struct EsignetState {
    shared: Arc<Shared>,
    mode: Mutex<Mode>,
    data: Mutex<EsignetData>,
}

impl EsignetState {
    fn attempt(&self, method: &str, family: &str, client_id: &str, outcome: &str) {
        let seq = self.shared.next_seq();
        self.data.lock().unwrap().attempts.push(EsignetAttempt {
            seq,
            at: Instant::now(),
            method: method.into(),
            family: family.into(),
            client_id: client_id.into(),
            outcome: outcome.into(),
        });
    }
}

/// eSignet's client-management API (downstream.md §3).
pub struct Esignet {
    state: Arc<EsignetState>,
    front: Front,
}

impl Esignet {
    async fn start(shared: Arc<Shared>) -> Self {
        let state = Arc::new(EsignetState {
            shared,
            mode: Mutex::new(Mode::Healthy),
            data: Mutex::new(EsignetData::default()),
        });
        let app = Router::new()
            .fallback(esignet_handler)
            .with_state(state.clone());
        Esignet {
            state,
            front: Front::start(app).await,
        }
    }

    /// The `esignet.base_url`.
    pub fn url(&self) -> String {
        self.front.url()
    }

    pub async fn set_mode(&self, mode: Mode) {
        let before = std::mem::replace(&mut *self.state.mode.lock().unwrap(), mode.clone());
        match (before == Mode::Refuse, mode == Mode::Refuse) {
            (false, true) => self.front.close().await,
            (true, false) => self.front.open().await,
            _ => {}
        }
    }

    /// Every call carried out, in order.
    pub fn calls(&self) -> Vec<EsignetCall> {
        self.state.data.lock().unwrap().calls.clone()
    }

    pub fn calls_for(&self, client_id: &str) -> Vec<EsignetCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.client_id == client_id)
            .collect()
    }

    /// Every request that reached eSignet, in order.
    pub fn attempts(&self) -> Vec<EsignetAttempt> {
        self.state.data.lock().unwrap().attempts.clone()
    }

    pub fn attempts_for(&self, client_id: &str) -> Vec<EsignetAttempt> {
        self.attempts()
            .into_iter()
            .filter(|a| a.client_id == client_id)
            .collect()
    }

    /// Requests eSignet refused as malformed (should stay empty).
    pub fn rejections(&self) -> Vec<EsignetAttempt> {
        self.attempts()
            .into_iter()
            .filter(|a| a.outcome.starts_with("rejected") || a.outcome.starts_with("HTTP 401"))
            .collect()
    }

    /// The client as eSignet stores it: the create request's members, updated by later
    /// updates, plus `status`.
    pub fn client(&self, client_id: &str) -> Option<Value> {
        self.state
            .data
            .lock()
            .unwrap()
            .clients
            .get(client_id)
            .cloned()
    }

    pub fn client_count(&self) -> usize {
        self.state.data.lock().unwrap().clients.len()
    }
}

fn esignet_reply(now: &Timestamp, response: Value, errors: Value) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "responseTime": format_ts(now), "response": response, "errors": errors }),
    )
}

fn esignet_error(now: &Timestamp, code: &str, message: &str) -> Response {
    esignet_reply(
        now,
        Value::Null,
        json!([{ "errorCode": code, "errorMessage": message }]),
    )
}

const CREATE_MEMBERS: &[&str] = &[
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
const UPDATE_MEMBERS: &[&str] = &[
    "logoUri",
    "redirectUris",
    "status",
    "grantTypes",
    "clientName",
    "clientAuthMethods",
    "userClaims",
    "authContextRefs",
];

/// The `request` members of a create or update of `family` (downstream.md §3.3, §3.4): every
/// required member present with the right type, nothing else.
fn check_members(request: &Value, create: bool, oauth: bool) -> Result<(), String> {
    let obj = request.as_object().ok_or("request: must be an object")?;
    let mut expected: Vec<&str> = if create {
        CREATE_MEMBERS.to_vec()
    } else {
        UPDATE_MEMBERS.to_vec()
    };
    if oauth {
        expected.push("clientNameLangMap");
    }
    for key in obj.keys() {
        if !expected.contains(&key.as_str()) {
            return Err(format!("request.{key}: not a member of this call"));
        }
    }
    for key in expected {
        let v = obj
            .get(key)
            .ok_or_else(|| format!("request.{key}: must not be null"))?;
        let ok = match key {
            "publicKey" => v.as_object().is_some_and(|k| k.contains_key("kty")),
            "clientNameLangMap" => v
                .as_object()
                .is_some_and(|m| !m.is_empty() && m.values().all(Value::is_string)),
            "userClaims" | "authContextRefs" | "redirectUris" | "grantTypes"
            | "clientAuthMethods" => v
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)),
            "status" => matches!(v.as_str(), Some("ACTIVE" | "INACTIVE")),
            _ => v.as_str().is_some_and(|s| !s.trim().is_empty()),
        };
        if !ok {
            return Err(format!("request.{key}: invalid value {v}"));
        }
    }
    Ok(())
}

async fn esignet_handler(
    State(st): State<Arc<EsignetState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(rest) = uri.path().strip_prefix("/v1/esignet/client-mgmt/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (family, path_id) = match rest.split_once('/') {
        Some((f, id)) => (f.to_string(), Some(id.to_string())),
        None => (rest.to_string(), None),
    };
    if family != "oidc-client" && family != "oauth-client" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let create = match (&method, &path_id) {
        (&Method::POST, None) => true,
        (&Method::PUT, Some(_)) => false,
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    let method_name = if create { "POST" } else { "PUT" };
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let client_id = match &path_id {
        Some(id) => id.clone(),
        None => parsed
            .as_ref()
            .and_then(|b| b["request"]["clientId"].as_str())
            .unwrap_or("")
            .to_string(),
    };
    let attempt = |outcome: &str| st.attempt(method_name, &family, &client_id, outcome);
    let now = st.shared.now();
    let mode = st.mode.lock().unwrap().clone();
    match &mode {
        Mode::Http500 => {
            attempt("HTTP 500");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Mode::ErrorCode(code) => {
            attempt(&format!("error {code}"));
            return esignet_error(&now, code, code);
        }
        Mode::Hang => {
            attempt("hang");
            return std::future::pending().await;
        }
        Mode::Healthy | Mode::Refuse | Mode::AcceptThenHang => {}
    }
    if let Err(e) = st.shared.check_token(&headers) {
        attempt(&format!("HTTP 401: {e}"));
        return (StatusCode::UNAUTHORIZED, "UNAUTHORIZED").into_response();
    }
    let Some(body) = parsed else {
        attempt("rejected: body is not JSON");
        return esignet_error(&now, "invalid_request", "invalid_request");
    };
    let obj_ok = body
        .as_object()
        .is_some_and(|o| o.keys().all(|k| k == "requestTime" || k == "request"));
    if !obj_ok {
        attempt(&format!("rejected: unexpected envelope {body}"));
        return esignet_error(&now, "invalid_request", "invalid_request");
    }
    let time_ok = body["requestTime"]
        .as_str()
        .and_then(parse_ts)
        .is_some_and(|t| (t - now).num_seconds().abs() <= REQUEST_TIME_LEEWAY_SECONDS);
    if !time_ok {
        attempt(&format!(
            "rejected: requestTime {} vs {}",
            body["requestTime"],
            format_ts(&now)
        ));
        return esignet_error(&now, "invalid_request", "invalid_request");
    }
    let request = &body["request"];
    if let Err(e) = check_members(request, create, family == "oauth-client") {
        attempt(&format!("rejected: {e}"));
        return esignet_error(&now, "standin_rejected", &e);
    }
    let stored = {
        let mut data = st.data.lock().unwrap();
        let exists = data.clients.contains_key(&client_id);
        let result = if create {
            if exists {
                Err("duplicate_client_id")
            } else {
                let mut c = request.clone();
                c["status"] = json!("ACTIVE");
                data.clients.insert(client_id.clone(), c.clone());
                Ok(c)
            }
        } else if let Some(c) = data.clients.get_mut(&client_id) {
            for (k, v) in request.as_object().into_iter().flatten() {
                c[k] = v.clone();
            }
            Ok(c.clone())
        } else {
            Err("invalid_client_id")
        };
        if let Ok(c) = &result {
            let answered = mode != Mode::AcceptThenHang;
            let seq = st.shared.next_seq();
            data.calls.push(EsignetCall {
                seq,
                method: method_name.into(),
                family: family.clone(),
                client_id: client_id.clone(),
                status: c["status"].as_str().unwrap_or("").into(),
                client_name: c["clientName"].as_str().unwrap_or("").into(),
                answered,
            });
        }
        result
    };
    match stored {
        Err(code) => {
            attempt(&format!("error {code}"));
            esignet_error(&now, code, code)
        }
        Ok(c) if mode == Mode::AcceptThenHang => {
            let _ = c;
            attempt("ok, reply withheld");
            std::future::pending().await
        }
        Ok(c) => {
            attempt("ok");
            esignet_reply(
                &now,
                json!({ "clientId": client_id, "status": c["status"] }),
                json!([]),
            )
        }
    }
}

// ------------------------------------------------------------------------------------------
// WebSub hub

/// A publish the hub accepted.
#[derive(Debug, Clone)]
pub struct Publish {
    pub seq: u64,
    pub topic: String,
    /// The event model (downstream.md §4.2).
    pub body: Value,
}

impl Publish {
    pub fn event_id(&self) -> &str {
        self.body["event"]["id"].as_str().unwrap_or("")
    }
    pub fn data(&self) -> &Value {
        &self.body["event"]["data"]
    }
    /// The client id of a client event.
    pub fn client_id(&self) -> Option<&str> {
        self.data()["clientData"]["clientId"].as_str()
    }
}

#[derive(Default)]
struct HubData {
    registered: Vec<String>,
    publishes: Vec<Publish>,
    rejected: Vec<String>,
}

struct HubState {
    shared: Arc<Shared>,
    data: Mutex<HubData>,
}

/// A WebSub hub (downstream.md §4.1).
pub struct Hub {
    state: Arc<HubState>,
    front: Front,
}

impl Hub {
    async fn start(shared: Arc<Shared>) -> Self {
        let state = Arc::new(HubState {
            shared,
            data: Mutex::new(HubData::default()),
        });
        let app = Router::new()
            .fallback(hub_handler)
            .with_state(state.clone());
        Hub {
            state,
            front: Front::start(app).await,
        }
    }

    /// The `websub.hub_url`.
    pub fn url(&self) -> String {
        format!("{}/hub", self.front.url())
    }

    /// Every accepted publish, in order.
    pub fn publishes(&self) -> Vec<Publish> {
        self.state.data.lock().unwrap().publishes.clone()
    }

    /// The client events of `client_id`, in order.
    pub fn client_events(&self, client_id: &str) -> Vec<Publish> {
        self.publishes()
            .into_iter()
            .filter(|p| p.client_id() == Some(client_id))
            .collect()
    }

    pub fn of_topic(&self, topic: &str) -> Vec<Publish> {
        self.publishes()
            .into_iter()
            .filter(|p| p.topic == topic)
            .collect()
    }

    /// Topics registered, in order (repeats included).
    pub fn registered(&self) -> Vec<String> {
        self.state.data.lock().unwrap().registered.clone()
    }

    /// Requests the hub refused (should stay empty).
    pub fn rejections(&self) -> Vec<String> {
        self.state.data.lock().unwrap().rejected.clone()
    }
}

/// The event model of a publish to `topic`, or what is wrong with it.
fn check_event(topic: &str, body: &Value) -> Result<(), String> {
    let obj = body.as_object().ok_or("body is not a JSON object")?;
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["event", "publishedOn", "publisher", "topic"] {
        return Err(format!("members {keys:?}"));
    }
    if body["topic"] != topic {
        return Err(format!("topic {} but hub.topic={topic}", body["topic"]));
    }
    if body["publishedOn"].as_str().and_then(parse_ts).is_none() {
        return Err(format!("publishedOn {}", body["publishedOn"]));
    }
    let event = &body["event"];
    let mut keys: Vec<&str> = event
        .as_object()
        .ok_or("event is not an object")?
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    if keys != ["data", "id", "timestamp", "type"] {
        return Err(format!("event members {keys:?}"));
    }
    if event["id"]
        .as_str()
        .map(uuid::Uuid::parse_str)
        .is_none_or(|r| r.is_err())
    {
        return Err(format!("event.id {}", event["id"]));
    }
    if !(event["type"]["name"].is_string() && event["type"]["namespace"].is_string()) {
        return Err(format!("event.type {}", event["type"]));
    }
    if body["publisher"] != event["type"]["name"] {
        return Err(format!("publisher {}", body["publisher"]));
    }
    if event["timestamp"].as_str().and_then(parse_ts).is_none() {
        return Err(format!("event.timestamp {}", event["timestamp"]));
    }
    if !event["data"].is_object() {
        return Err(format!("event.data {}", event["data"]));
    }
    Ok(())
}

async fn hub_handler(
    State(st): State<Arc<HubState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST || uri.path() != "/hub" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let reject = |status: StatusCode, why: String| {
        st.data.lock().unwrap().rejected.push(why);
        status.into_response()
    };
    let query = form_pairs(uri.query().unwrap_or(""));
    if form_value(&query, "hub.mode") == Some("publish") {
        let Some(topic) = form_value(&query, "hub.topic") else {
            return reject(StatusCode::BAD_REQUEST, "publish without hub.topic".into());
        };
        if let Err(e) = st.shared.check_token(&headers) {
            return reject(StatusCode::UNAUTHORIZED, format!("publish {topic}: {e}"));
        }
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json_type {
            return reject(
                StatusCode::BAD_REQUEST,
                format!(
                    "publish {topic}: content type {:?}",
                    headers.get(header::CONTENT_TYPE)
                ),
            );
        }
        let Ok(event) = serde_json::from_slice::<Value>(&body) else {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("publish {topic}: not JSON"),
            );
        };
        if let Err(e) = check_event(topic, &event) {
            return reject(StatusCode::BAD_REQUEST, format!("publish {topic}: {e}"));
        }
        let seq = st.shared.next_seq();
        st.data.lock().unwrap().publishes.push(Publish {
            seq,
            topic: topic.to_string(),
            body: event,
        });
        return StatusCode::ACCEPTED.into_response();
    }
    let form = form_pairs(&String::from_utf8_lossy(&body));
    match (
        form_value(&form, "hub.mode"),
        form_value(&form, "hub.topic"),
    ) {
        (Some("register"), Some(topic)) if !topic.is_empty() => {
            st.data.lock().unwrap().registered.push(topic.to_string());
            StatusCode::ACCEPTED.into_response()
        }
        _ => reject(
            StatusCode::BAD_REQUEST,
            format!(
                "neither a publish nor a register: query {:?}, body {:?}",
                uri.query(),
                String::from_utf8_lossy(&body)
            ),
        ),
    }
}
