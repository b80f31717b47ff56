//! Authentication (conventions.md §7): the bearer token from the `Authorization` header or
//! cookie, verified either against the embedded dev issuer's key or against the issuer's JWKS,
//! and the [`Caller`] extractor the handlers receive.

use crate::wire::{ApiError, Echo, Kind};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::Response;
pub use jsonwebtoken::Algorithm;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use pms_domain::{Clock, Timestamp};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The fixed issuer of dev-mode tokens.
pub const DEV_ISSUER: &str = "pms-dev";
/// The dev signing key's file name inside `data_dir`.
pub const DEV_KEY_FILE: &str = "dev-signing-key.pem";
/// An unknown `kid` refetches the JWKS at most this often.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// How tokens are checked.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub issuer: String,
    pub allowed_algs: Vec<Algorithm>,
    pub leeway_seconds: u64,
    pub allowed_audiences: Vec<String>,
    pub admin_roles: Vec<String>,
    pub partner_read_all_roles: Vec<String>,
}

/// A verified token's subject.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read or create the dev signing key {path}: {reason}")]
    DevKey { path: PathBuf, reason: String },
    #[error("{0}")]
    Config(String),
}

/// Where verification keys come from.
enum KeySource {
    Dev(Box<DecodingKey>),
    Jwks(JwksCache),
}

struct JwksCache {
    uri: String,
    http: reqwest::Client,
    state: RwLock<JwksState>,
}

#[derive(Default)]
struct JwksState {
    keys: Vec<(Option<String>, DecodingKey)>,
    fetched_at: Option<Instant>,
}

/// Verifies tokens; one per process, shared by all requests.
pub struct Authenticator {
    settings: AuthSettings,
    keys: KeySource,
    clock: Arc<dyn Clock>,
    verified: VerifiedTokens,
}

/// Tokens whose signature and fixed claims were verified, by SHA-256 of the token text. A client
/// sends the same token on every request until it expires; checking its signature, issuer,
/// audience and subject once is enough (they cannot change for the same text under the same
/// settings), while expiry and `nbf` are checked against the clock on every use. Emptied when the
/// JWKS changes and when full (a bounded map, no eviction bookkeeping on the hot path).
struct VerifiedTokens {
    map: std::sync::Mutex<std::collections::HashMap<[u8; 32], Arc<Verified>>>,
}

/// What a verified token grants, and when.
#[derive(Debug)]
struct Verified {
    exp: f64,
    nbf: Option<f64>,
    principal: Arc<Principal>,
}

const VERIFIED_TOKENS_MAX: usize = 10_000;

impl VerifiedTokens {
    fn new() -> Self {
        Self {
            map: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn key(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<Arc<Verified>> {
        self.map.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: [u8; 32], verified: Arc<Verified>) {
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= VERIFIED_TOKENS_MAX {
                m.clear();
            }
            m.insert(key, verified);
        }
    }

    fn clear(&self) {
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Dev mode: tokens of the embedded issuer, ES256 only, issuer [`DEV_ISSUER`].
    pub fn dev(
        data_dir: &Path,
        mut settings: AuthSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthError> {
        let key = DevIssuer::load_or_create(data_dir)?;
        settings.issuer = DEV_ISSUER.to_string();
        settings.allowed_algs = vec![Algorithm::ES256];
        Ok(Self {
            settings,
            keys: KeySource::Dev(Box::new(key.decoding)),
            clock,
            verified: VerifiedTokens::new(),
        })
    }

    /// Production mode: keys from the issuer's JWKS, fetched on first use and cached.
    pub fn jwks(
        jwks_uri: String,
        settings: AuthSettings,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| AuthError::Config(format!("cannot build the JWKS HTTP client: {e}")))?;
        Ok(Self {
            settings,
            keys: KeySource::Jwks(JwksCache {
                uri: jwks_uri,
                http,
                state: RwLock::new(JwksState::default()),
            }),
            clock,
            verified: VerifiedTokens::new(),
        })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Every check of conventions.md §7.2; any failure is `None` (401), the reason logged at debug.
    pub async fn authenticate(&self, token: &str) -> Option<Arc<Principal>> {
        match self.verify(token).await {
            Ok(p) => Some(p),
            Err(reason) => {
                tracing::debug!(%reason, "token rejected");
                None
            }
        }
    }

    async fn verify(&self, token: &str) -> Result<Arc<Principal>, String> {
        let key = VerifiedTokens::key(token);
        if let Some(v) = self.verified.get(&key) {
            self.check_time(&v, self.clock.now())?;
            return Ok(v.principal.clone());
        }
        let claims = self.verify_signature(token).await?;
        let v = Arc::new(self.check_claims(&claims)?);
        self.check_time(&v, self.clock.now())?;
        self.verified.put(key, v.clone());
        Ok(v.principal.clone())
    }

    /// The claims of a token whose algorithm is allowed and whose signature one of the keys
    /// verifies; no claim is checked (the portal checks an ID token's own claims with this).
    pub async fn verify_signature(&self, token: &str) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        if !self.settings.allowed_algs.contains(&header.alg) {
            return Err(format!("algorithm {:?} not allowed", header.alg));
        }
        let mut validation = Validation::new(header.alg);
        // Time and issuer are checked by the caller against the injected clock; audience by our
        // rule.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(match &self.keys {
            KeySource::Dev(k) => decode(token, k, &validation)?,
            KeySource::Jwks(cache) => {
                let (claims, refetched) = cache
                    .decode(token, header.kid.as_deref(), &validation)
                    .await?;
                if refetched {
                    // Keys may have been withdrawn: trust no earlier verification.
                    self.verified.clear();
                }
                claims
            }
        })
    }

    /// `exp` and `nbf` against the clock, with the configured leeway: on every use of a token.
    fn check_time(&self, v: &Verified, now: Timestamp) -> Result<(), String> {
        let now = now.timestamp() as f64;
        let leeway = i64::try_from(self.settings.leeway_seconds).unwrap_or(i64::MAX) as f64;
        if v.exp + leeway <= now {
            return Err("expired".into());
        }
        if v.nbf.is_some_and(|nbf| nbf - leeway > now) {
            return Err("not yet valid".into());
        }
        Ok(())
    }

    /// The claims that do not depend on the time (issuer, audience, subject, roles), and the
    /// token's `exp` and `nbf` for [`Self::check_time`]: once per token.
    fn check_claims(&self, c: &Map<String, Value>) -> Result<Verified, String> {
        let exp = c.get("exp").and_then(Value::as_f64).ok_or("no exp")?;
        let nbf = match c.get("nbf") {
            Some(nbf) => Some(nbf.as_f64().ok_or("nbf not a number")?),
            None => None,
        };
        if c.get("iss").and_then(Value::as_str) != Some(self.settings.issuer.as_str()) {
            return Err("wrong issuer".into());
        }
        if !self.settings.allowed_audiences.is_empty() {
            let mut auds: Vec<&str> = match c.get("aud") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if let Some(azp) = c.get("azp").and_then(Value::as_str) {
                auds.push(azp);
            }
            if !auds
                .iter()
                .any(|a| self.settings.allowed_audiences.iter().any(|x| x == a))
            {
                return Err("audience not allowed".into());
            }
        }
        let user_id = c
            .get("preferred_username")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or("no preferred_username")?
            .to_string();
        let roles = c
            .get("realm_access")
            .and_then(|r| r.get("roles"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let email = c.get("email").and_then(Value::as_str).map(str::to_string);
        Ok(Verified {
            exp,
            nbf,
            principal: Arc::new(Principal {
                user_id,
                email,
                roles,
            }),
        })
    }
}

fn decode(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<Map<String, Value>, String> {
    jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
        .map(|d| d.claims)
        .map_err(|e| format!("signature or format: {e}"))
}

impl JwksCache {
    /// The token's claims, and whether the key set was refetched on the way.
    async fn decode(
        &self,
        token: &str,
        kid: Option<&str>,
        validation: &Validation,
    ) -> Result<(Map<String, Value>, bool), String> {
        if let Some(claims) = self.try_cached(token, kid, validation).await {
            return claims.map(|c| (c, false));
        }
        let due = self
            .state
            .read()
            .await
            .fetched_at
            .is_none_or(|t| t.elapsed() >= JWKS_REFETCH_INTERVAL);
        if !due {
            return Err("unknown kid; JWKS refetched less than 60 s ago".into());
        }
        self.refetch().await?;
        self.try_cached(token, kid, validation)
            .await
            .unwrap_or_else(|| Err("unknown kid".into()))
            .map(|c| (c, true))
    }

    /// `None` when no cached key matches the `kid`.
    async fn try_cached(
        &self,
        token: &str,
        kid: Option<&str>,
        validation: &Validation,
    ) -> Option<Result<Map<String, Value>, String>> {
        let state = self.state.read().await;
        let candidates: Vec<&DecodingKey> = state
            .keys
            .iter()
            .filter(|(k, _)| kid.is_none() || k.as_deref() == kid)
            .map(|(_, key)| key)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut last = String::new();
        for key in candidates {
            match decode(token, key, validation) {
                Ok(c) => return Some(Ok(c)),
                Err(e) => last = e,
            }
        }
        Some(Err(last))
    }

    async fn refetch(&self) -> Result<(), String> {
        let mut state = self.state.write().await;
        // Another request may have refetched while we waited for the lock.
        if state
            .fetched_at
            .is_some_and(|t| t.elapsed() < JWKS_REFETCH_INTERVAL)
        {
            return Ok(());
        }
        state.fetched_at = Some(Instant::now());
        let body: Value = self
            .http
            .get(&self.uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("JWKS fetch failed: {e}"))?
            .json()
            .await
            .map_err(|e| format!("JWKS unreadable: {e}"))?;
        let mut keys = Vec::new();
        for jwk in body
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // Keys we cannot use (encryption keys, unknown types) are skipped, not fatal.
            if jwk
                .get("use")
                .and_then(Value::as_str)
                .is_some_and(|u| u != "sig")
            {
                continue;
            }
            let Ok(parsed) = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk.clone()) else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(&parsed) {
                keys.push((parsed.common.key_id.clone(), key));
            }
        }
        tracing::info!(uri = %self.uri, keys = keys.len(), "JWKS fetched");
        state.keys = keys;
        Ok(())
    }
}

/// The embedded dev issuer: an ES256 key kept in `data_dir` (mode 0600).
pub struct DevIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl DevIssuer {
    /// Reads the key, creating it on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AuthError> {
        use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
        let path = data_dir.join(DEV_KEY_FILE);
        let err = |reason: String| AuthError::DevKey {
            path: path.clone(),
            reason,
        };
        let secret = match std::fs::read_to_string(&path) {
            Ok(pem) => p256::SecretKey::from_pkcs8_pem(&pem).map_err(|e| err(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(|e| err(e.to_string()))?;
                let secret = p256::SecretKey::random(&mut rand_core::OsRng);
                let pem = secret
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| err(e.to_string()))?;
                write_private(&path, pem.as_bytes()).map_err(|e| err(e.to_string()))?;
                // Two processes may race to create it: whoever wrote first wins, both use that.
                let pem = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
                p256::SecretKey::from_pkcs8_pem(&pem).map_err(|e| err(e.to_string()))?
            }
            Err(e) => return Err(err(e.to_string())),
        };
        let private_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| err(e.to_string()))?;
        let public_pem = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            encoding: EncodingKey::from_ec_pem(private_pem.as_bytes())
                .map_err(|e| err(e.to_string()))?,
            decoding: DecodingKey::from_ec_pem(public_pem.as_bytes())
                .map_err(|e| err(e.to_string()))?,
        })
    }

    /// A signed token for `user` with `roles`, valid `ttl` from `now`.
    pub fn mint(
        &self,
        user: &str,
        roles: &[String],
        ttl: Duration,
        now: Timestamp,
    ) -> Result<String, AuthError> {
        let iat = now.timestamp();
        let exp = iat.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
        let claims = json!({
            "iss": DEV_ISSUER, "sub": user, "preferred_username": user,
            "realm_access": { "roles": roles }, "iat": iat, "nbf": iat, "exp": exp,
        });
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(DEV_ISSUER.to_string());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| AuthError::Config(e.to_string()))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(bytes)?;
            f.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer …`: only the request's own code can set it.
    Header,
    /// The `Authorization` cookie: a browser sends it whoever made it send the request
    /// ([`crate::origin`]).
    Cookie,
}

/// The token of a request: `Authorization: Bearer …` first, else the `Authorization` cookie.
pub fn token_of(headers: &HeaderMap) -> Option<&str> {
    token_and_source(headers).map(|(token, _)| token)
}

/// The token of a request and where it came from (see [`token_of`]).
pub fn token_and_source(headers: &HeaderMap) -> Option<(&str, TokenSource)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some((token, TokenSource::Header));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == "Authorization")
        .map(|(_, value)| value.trim())
        .filter(|t| !t.is_empty())
        .map(|token| (token, TokenSource::Cookie))
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Arc<Principal>,
}

impl Caller {
    pub fn has_any(&self, roles: &[String]) -> bool {
        self.principal.roles.iter().any(|r| roles.contains(r))
    }

    /// Stage 3: 403 unless one of the caller's roles is in `allowed`.
    pub fn require(&self, allowed: &[String]) -> Result<(), ApiError> {
        if self.has_any(allowed) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    pub fn domain(&self, settings: &AuthSettings) -> pms_domain::model::Caller {
        pms_domain::model::Caller {
            user_id: self.principal.user_id.clone(),
            email: self.principal.email.clone(),
            is_admin: self.has_any(&settings.admin_roles),
            reads_all_partners: self.has_any(&settings.partner_read_all_roles),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    /// Stage 2, authentication; then, for a write authenticated by the cookie, the origin check
    /// of [`crate::origin`], refused like a missing role (403) so a cross-site request changes
    /// nothing and learns nothing more than a stranger would.
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let (principal, source) = match token_and_source(&parts.headers) {
            Some((token, source)) => (st.auth.authenticate(token).await, source),
            None => (None, TokenSource::Header),
        };
        let Some(principal) = principal else {
            return Err(
                Echo::new(Kind::V1).error_response(st.clock.now(), ApiError::unauthenticated())
            );
        };
        if source == TokenSource::Cookie
            && crate::origin::changes_state(&parts.method)
            && !crate::origin::write_allowed(&parts.headers, &st.settings.allowed_origins)
        {
            tracing::info!(
                method = %parts.method,
                path = %parts.uri.path(),
                origin = ?parts.headers.get(header::ORIGIN),
                // Only whether there was one: a referer's path and query are not ours to log.
                referer = parts.headers.contains_key(header::REFERER),
                "cookie-authenticated write from a foreign or unnamed origin refused"
            );
            return Err(Echo::new(Kind::V1).error_response(st.clock.now(), ApiError::forbidden()));
        }
        Ok(Caller { principal })
    }
}
