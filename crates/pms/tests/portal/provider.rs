//! Sign-in against a real, certified OpenID Provider: node-oidc-provider, pinned by
//! `tests/oidc-provider/package-lock.json` and started from `tests/oidc-provider/provider.mjs`.
//! The portal signs in through the provider's own login and consent pages (authorization code +
//! PKCE), its pages and the API accept the provider's JWT access tokens through its JWKS, the
//! session is refreshed with the provider's refresh token and ended, and an expired token is
//! refused. Node.js and npm are required: without them, or if the provider does not start, the
//! test fails (it never skips).

use crate::helpers::*;
use crate::web::{Page, Web};
use pms_domain::Clock;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The portal's client at the provider.
const CLIENT: &str = "pms-portal";
/// The `aud` of the provider's access tokens.
const AUDIENCE: &str = "pms-api";
/// The provider's access-token lifetime, in seconds.
const ACCESS_TTL: i64 = 300;

/// The folder of the provider's script and lockfile.
fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// `npm ci` in the provider's folder, unless its `node_modules` was installed from the same
/// `package.json` and `package-lock.json` (a stamp file records their hash).
fn install() {
    static DONE: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    let dir = provider_dir();
    let mut wanted = String::new();
    for f in ["package.json", "package-lock.json"] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        wanted.push_str(&format!(
            "{f} {:x}\n",
            <sha2::Sha256 as sha2::Digest>::digest(&bytes)
        ));
    }
    let stamp = dir.join("node_modules/.pms-installed");
    let current = std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted)
        && dir.join("node_modules/oidc-provider/package.json").exists();
    if !current {
        let out = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run npm (Node.js 20+ and npm are needed for this test): {e}")
            });
        assert!(
            out.status.success(),
            "npm ci in {} failed: {}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, wanted).unwrap();
    }
    *done = true;
}

/// A running node-oidc-provider, ended when dropped.
pub struct OpenIdProvider {
    pub issuer: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl OpenIdProvider {
    /// Starts the provider on a free loopback port with `users` (login → realm roles); it
    /// serves once [`Self::register`] has told it the portal's callback.
    pub async fn start(users: Value) -> Self {
        install();
        let mut child = tokio::process::Command::new("node")
            .arg("provider.mjs")
            .current_dir(provider_dir())
            .env("OP_CLIENT_ID", CLIENT)
            .env("OP_AUDIENCE", AUDIENCE)
            .env("OP_ACCESS_TOKEN_TTL", ACCESS_TTL.to_string())
            .env("OP_USERS", users.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node (Node.js 20+ is needed): {e}"));
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = err_lines.next_line().await {
                sink.lock().unwrap().push_str(&format!("{l}\n"));
            }
        });
        let mut op = Self {
            issuer: String::new(),
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
            stderr,
        };
        let line = op.next_line().await;
        op.issuer = line
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected provider output {line:?}{}", op.log()))
            .to_string();
        op
    }

    /// The provider's stderr so far, for failure messages.
    fn log(&self) -> String {
        format!("\nprovider stderr:\n{}", self.stderr.lock().unwrap())
    }

    async fn next_line(&mut self) -> String {
        match tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line()).await {
            Ok(Ok(Some(l))) => l,
            other => {
                let status = self.child.try_wait();
                panic!(
                    "the OpenID Provider did not start ({other:?}, exit {status:?}){}",
                    self.log()
                )
            }
        }
    }

    /// Registers the portal's callback as the client's redirect URI; the provider then serves.
    pub async fn register(&mut self, redirect_uri: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{redirect_uri}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
        let line = self.next_line().await;
        assert_eq!(line, "ready", "{}", self.log());
    }

    /// The provider's discovery document.
    pub async fn discovery(&self) -> Value {
        reqwest::get(format!("{}/.well-known/openid-configuration", self.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// `location` made absolute against the URL it answered.
fn absolute(location: &str, from: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let origin_end = from
        .find("://")
        .and_then(|s| from[s + 3..].find('/').map(|p| s + 3 + p))
        .unwrap_or(from.len());
    format!("{}{location}", &from[..origin_end])
}

/// `attr="…"` of the first element of `html` that has it.
fn attribute(html: &str, attr: &str) -> Option<String> {
    let needle = format!("{attr}=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Signs `user` in from the portal's sign-in link through the provider's own pages, as a
/// browser does: follows every redirect, fills in the login form and confirms the consent form.
/// Returns the portal's answer to the callback.
async fn sign_in(web: &mut Web, user: &str) -> Page {
    let mut page = web.get("/portal/login").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let mut url = format!("{}/portal/login", web.base);
    for _ in 0..12 {
        match page.status {
            302 | 303 => {
                let next = absolute(page.location.as_deref().unwrap(), &url);
                if next.starts_with(&format!("{}/portal/callback", web.base)) {
                    return web.get(&next).await;
                }
                url = next;
                page = web.get(&url).await;
            }
            200 => {
                // The provider's interaction page: a login form, then a consent form.
                let action = absolute(&attribute(&page.body, "action").unwrap(), &url);
                let prompt = crate::web::field_value(&page.body, "prompt").unwrap();
                let fields: Vec<(&str, &str)> = match prompt.as_str() {
                    "login" => vec![("prompt", "login"), ("login", user), ("password", "any")],
                    "consent" => vec![("prompt", "consent")],
                    other => panic!("unexpected prompt {other}: {}", page.body),
                };
                page = web.post(&action, &fields).await;
            }
            s => panic!("{url}: {s} {}", page.body),
        }
    }
    panic!("the sign-in did not come back to the portal");
}

/// The MOSIP 401 of the API (as `tests/api/auth.rs` asserts it).
#[track_caller]
fn assert_401(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_eq!(
        r.body["errors"],
        json!([{ "errorCode": "KER-ATH-401", "message": "Authentication Failed" }])
    );
}

#[tokio::test]
async fn sign_in_api_refresh_and_sign_out_against_node_oidc_provider() {
    let mut op = OpenIdProvider::start(json!({ "alice": ["AUTH_PARTNER", "POLICYMANAGER"] })).await;
    // node-oidc-provider's key set is at `/jwks` (the discovery document below confirms it; the
    // provider serves once it knows pms's callback, and pms needs the address at start-up).
    let jwks_uri = format!("{}/jwks", op.issuer);
    // pms's clock starts at the real time: the provider stamps its tokens with it.
    let now = pms_domain::Clock::now(&pms_domain::SystemClock);
    let app = spawn_at_own_address(now, |c, base| {
        c.auth.mode = pms::config::AuthMode::Jwks;
        c.auth.issuer = op.issuer.clone();
        c.auth.jwks_uri = jwks_uri.clone();
        c.auth.allowed_audiences = pms::config::List(vec![AUDIENCE.into()]);
        c.portal.oidc_client_id = CLIENT.into();
        c.portal.redirect_uri = format!("{base}/portal/callback");
        c.portal.cookie_secure = false;
    })
    .await;
    op.register(&format!("{}/portal/callback", app.base)).await;
    let discovery = op.discovery().await;
    assert_eq!(discovery["issuer"], json!(op.issuer));
    assert_eq!(discovery["jwks_uri"], json!(jwks_uri));
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );

    // 1. Sign-in: authorization code + PKCE through the provider's login and consent pages.
    let mut web = Web::of(&app);
    let sign_in_page = web.get("/portal/sign-in").await;
    assert!(
        sign_in_page.body.contains(&op.issuer),
        "{}",
        sign_in_page.body
    );
    let done = sign_in(&mut web, "alice").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/portal"));
    let access = web.cookies["pms_access"].clone();
    assert!(web.cookies.contains_key("pms_refresh"));
    assert!(!web.cookies.contains_key("pms_oidc"));
    // the access token is the provider's JWT for pms, with the realm roles pms reads
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            access.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], json!(op.issuer));
    assert_eq!(claims["aud"], json!(AUDIENCE));
    let expires = claims["exp"].as_i64().unwrap();
    assert_eq!(expires - claims["iat"].as_i64().unwrap(), ACCESS_TTL);
    assert_eq!(
        claims["realm_access"]["roles"],
        json!(["AUTH_PARTNER", "POLICYMANAGER"])
    );

    // 2. Pages that need the API's authentication, a write through a form included.
    let home = web.get("/portal").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Welcome, alice"), "{}", home.body);
    assert_eq!(web.get("/portal/partner").await.status, 200);
    let csrf = home.csrf();
    let made = web
        .post(
            "/portal/policy/groups",
            &[
                ("csrf", &csrf),
                ("name", "health"),
                ("desc", "from the portal"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    // the API accepts the same token as a bearer token
    let groups = app
        .send(
            "GET",
            "/v1/policymanager/policies/group/all",
            Some(&access),
            None,
        )
        .await;
    let names: Vec<&str> = groups
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["policyGroup"]["name"].as_str())
        .collect();
    assert_eq!(names, ["health"], "{}", groups.body);

    // 3. Near its expiry (pms refreshes within 60 s of it) the access token is refreshed at the
    // provider before a page runs.
    let until = |t: i64| chrono::Duration::seconds(t - app.clock.now().timestamp());
    app.clock.advance(until(expires - 45));
    let refresh = web.cookies["pms_refresh"].clone();
    let page = web.get("/portal/policy/groups").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("health"), "{}", page.body);
    assert_ne!(web.cookies["pms_access"], access);
    assert_ne!(
        web.cookies["pms_refresh"], refresh,
        "the provider rotates refresh tokens"
    );

    // 4. Sign-out forgets the tokens.
    let csrf = page.csrf();
    let out = web.post("/portal/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(!web.cookies.contains_key("pms_access"));
    assert!(!web.cookies.contains_key("pms_refresh"));
    let r = web.get("/portal/clients").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/portal/sign-in"));

    // 5. Past its expiry and the 30 s leeway, the provider's first token is refused by the API.
    app.clock.advance(until(expires + 31));
    assert_401(
        &app.send(
            "GET",
            "/v1/policymanager/policies/group/all",
            Some(&access),
            None,
        )
        .await,
    );
}
