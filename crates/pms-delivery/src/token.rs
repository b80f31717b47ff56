//! The service token (downstream.md §2): fetched with `client_credentials` or from MOSIP's auth
//! manager, cached until 60 seconds before it expires, dropped after a 401. Concurrent rows share
//! one fetch. Neither the secret nor a token is ever logged.

use crate::metrics::{DeliveryMetrics, FailureReason};
use crate::settings::{ServiceTokenSettings, TokenMode};
use crate::verdict::Failure;
use base64::Engine as _;
use pms_domain::clock::{format_ts, Timestamp};
use pms_domain::Clock;
use reqwest::header::SET_COOKIE;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use std::fmt;
use std::sync::Arc;

/// A token is refreshed this long before its `exp`.
const EXPIRY_MARGIN_SECONDS: i64 = 60;
/// How long a token whose lifetime cannot be told is kept.
const UNKNOWN_LIFETIME_SECONDS: i64 = 300;

/// A bearer token; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

struct Cached {
    token: Token,
    valid_until: Timestamp,
}

pub(crate) struct TokenProvider {
    http: reqwest::Client,
    settings: ServiceTokenSettings,
    clock: Arc<dyn Clock>,
    metrics: Arc<DeliveryMetrics>,
    /// Held across the fetch, so that rows waiting for a token share one request.
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenProvider {
    pub fn new(
        http: reqwest::Client,
        settings: ServiceTokenSettings,
        clock: Arc<dyn Clock>,
        metrics: Arc<DeliveryMetrics>,
    ) -> Self {
        Self {
            http,
            settings,
            clock,
            metrics,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached token, or a fresh one.
    pub async fn get(&self) -> Result<Token, Failure> {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        if let Some(c) = cache.as_ref().filter(|c| now < c.valid_until) {
            return Ok(c.token.clone());
        }
        *cache = None;
        let fetched = self.fetch().await;
        self.metrics.token_fetch(fetched.is_ok());
        let (token, lifetime) = fetched.map_err(|e| {
            tracing::warn!(error = %e, "service token fetch failed");
            Failure::new(format!("service token: {e}"), FailureReason::Token)
        })?;
        let valid_until = valid_until(&token, lifetime, now);
        if now < valid_until {
            *cache = Some(Cached {
                token: token.clone(),
                valid_until,
            });
        }
        tracing::debug!(valid_until = %format_ts(&valid_until), "service token fetched");
        Ok(token)
    }

    /// Drops `token` from the cache after a 401 (unless it was already replaced).
    pub async fn invalidate(&self, token: &Token) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == token) {
            *cache = None;
        }
    }

    /// One request to the token endpoint: the token and the `expires_in` of the reply, if any.
    async fn fetch(&self) -> Result<(Token, Option<i64>), String> {
        let s = &self.settings;
        let req = match s.mode {
            TokenMode::ClientCredentials => self.http.post(&s.token_url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.expose_secret()),
            ]),
            TokenMode::MosipAuthManager => self.http.post(&s.token_url).json(&json!({
                "id": "string",
                "version": "string",
                "requesttime": format_ts(&self.clock.now()),
                "metadata": {},
                "request": {
                    "appId": s.app_id,
                    "clientId": s.client_id,
                    "secretKey": s.client_secret.expose_secret(),
                }
            })),
        };
        let resp = req.send().await.map_err(|e| Failure::transport(&e).error)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        match s.mode {
            TokenMode::ClientCredentials => {
                let body: Value = resp
                    .json()
                    .await
                    .map_err(|_| "reply unreadable".to_string())?;
                let token = body
                    .get("access_token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or("no access_token in the reply")?;
                let expires_in = body.get("expires_in").and_then(|v| {
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                });
                Ok((Token(token.to_string()), expires_in))
            }
            TokenMode::MosipAuthManager => resp
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(authorization_cookie)
                .map(|t| (Token(t), None))
                .ok_or_else(|| "no Authorization cookie in the reply".to_string()),
        }
    }
}

/// The value of a `Set-Cookie` header's cookie when it is named `Authorization`.
fn authorization_cookie(set_cookie: &str) -> Option<String> {
    let pair = set_cookie.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    let value = value.trim().trim_matches('"');
    (name.trim() == "Authorization" && !value.is_empty()).then(|| value.to_string())
}

/// The `exp` of a JWT's payload, read without verifying anything.
fn jwt_exp(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))
}

/// Until when a token fetched at `now` may be used: 60 s before a JWT's `exp`; else `expires_in`
/// (less 60 s, or half of it when shorter); else 5 minutes.
fn valid_until(token: &Token, expires_in: Option<i64>, now: Timestamp) -> Timestamp {
    if let Some(exp) = jwt_exp(token.as_str()).and_then(|e| chrono::DateTime::from_timestamp(e, 0))
    {
        return exp - chrono::Duration::seconds(EXPIRY_MARGIN_SECONDS);
    }
    let secs = match expires_in {
        Some(e) if e > 0 => e - EXPIRY_MARGIN_SECONDS.min(e / 2),
        _ => UNKNOWN_LIFETIME_SECONDS,
    };
    now + chrono::Duration::seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256"}"#),
            e.encode(payload)
        )
    }

    #[test]
    fn reads_exp_of_a_jwt_without_verifying() {
        assert_eq!(
            jwt_exp(&jwt(r#"{"exp":1751364931,"sub":"x"}"#)),
            Some(1751364931)
        );
        assert_eq!(jwt_exp(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(jwt_exp("opaque-token"), None);
        assert_eq!(jwt_exp("a.b.c.d"), None);
    }

    #[test]
    fn lifetime_follows_exp_then_expires_in_then_five_minutes() {
        let now = chrono::Utc.with_ymd_and_hms(2025, 7, 1, 10, 0, 0).unwrap();
        let exp = now + chrono::Duration::seconds(3600);
        let t = Token(jwt(&format!(r#"{{"exp":{}}}"#, exp.timestamp())));
        assert_eq!(
            valid_until(&t, Some(10), now),
            exp - chrono::Duration::seconds(60)
        );
        let opaque = Token("opaque".into());
        assert_eq!(
            valid_until(&opaque, Some(300), now),
            now + chrono::Duration::seconds(240)
        );
        assert_eq!(
            valid_until(&opaque, Some(60), now),
            now + chrono::Duration::seconds(30)
        );
        assert_eq!(
            valid_until(&opaque, None, now),
            now + chrono::Duration::seconds(300)
        );
    }

    #[test]
    fn finds_the_authorization_cookie() {
        assert_eq!(
            authorization_cookie("Authorization=abc.def.ghi; Path=/; HttpOnly").as_deref(),
            Some("abc.def.ghi")
        );
        assert_eq!(authorization_cookie("Other=1; Path=/"), None);
        assert_eq!(authorization_cookie("Authorization=; Path=/"), None);
    }

    #[test]
    fn debug_hides_the_token() {
        assert_eq!(format!("{:?}", Token("secret".into())), "Token(***)");
    }
}
