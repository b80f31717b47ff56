//! The WebSub hub (downstream.md §4): topic registration once per topic and process, publishing a
//! stored event with a fresh `publishedOn`, and reading the hub's reply.

use crate::metrics::FailureReason;
use crate::token::{Token, TokenProvider};
use crate::verdict::{with_token, Failure, Verdict};
use pms_domain::clock::format_ts;
use pms_domain::Clock;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// The stored event (§4.2 without `publishedOn`) with `publishedOn` placed after `topic`, so that
/// the members read `publisher`, `topic`, `publishedOn`, `event`.
pub(crate) fn with_published_on(event: &Map<String, Value>, published_on: &str) -> Value {
    let mut out = Map::new();
    let mut placed = false;
    for (k, v) in event {
        if k == "publishedOn" {
            continue;
        }
        if k == "event" && !placed {
            out.insert("publishedOn".into(), Value::String(published_on.into()));
            placed = true;
        }
        out.insert(k.clone(), v.clone());
        if k == "topic" && !placed {
            out.insert("publishedOn".into(), Value::String(published_on.into()));
            placed = true;
        }
    }
    if !placed {
        out.insert("publishedOn".into(), Value::String(published_on.into()));
    }
    Value::Object(out)
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` and `%XX`).
fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether an HTTP 200 body says the publish was accepted: its first form parameter's value is
/// `accepted` (how MOSIP's WebSub client reads it).
pub(crate) fn body_accepted(body: &str) -> bool {
    let first = body.trim().split('&').next().unwrap_or_default();
    let value = first.split_once('=').map_or("", |(_, v)| v);
    form_decode(value).trim() == "accepted"
}

/// Publishes `WEBSUB` rows.
pub(crate) struct Hub {
    http: reqwest::Client,
    url: String,
    clock: Arc<dyn Clock>,
    /// Topics registered since this process started (or since a 400/404 asked to register
    /// again).
    registered: tokio::sync::Mutex<HashSet<String>>,
}

impl Hub {
    pub fn new(http: reqwest::Client, url: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            url: url.to_string(),
            clock,
            registered: tokio::sync::Mutex::new(HashSet::new()),
        }
    }

    /// Registers `topic` unless this process already did. The lock is held across the call so
    /// that rows of one topic running at once register it once, and none publishes before it.
    async fn ensure_registered(&self, topic: &str, token: &Token) {
        let mut registered = self.registered.lock().await;
        if !registered.contains(topic) {
            self.register(topic, token).await;
            registered.insert(topic.to_string());
        }
    }

    /// Publishes the stored `event` on `topic`, registering the topic first if this process
    /// has not yet.
    pub async fn deliver(
        &self,
        topic: &str,
        event: Option<&Value>,
        tokens: &TokenProvider,
    ) -> Verdict {
        let Some(event) = event.and_then(Value::as_object) else {
            return Verdict::GiveUp(Failure::new(
                "stored event is not a JSON object",
                FailureReason::BadData,
            ));
        };
        let token = match tokens.get().await {
            Ok(t) => t,
            Err(f) => return Verdict::Retry(f),
        };
        self.ensure_registered(topic, &token).await;
        let body = with_published_on(event, &format_ts(&self.clock.now()));
        let req = self
            .http
            .post(&self.url)
            .query(&[("hub.mode", "publish"), ("hub.topic", topic)])
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let req = match with_token(req, token.as_str()) {
            Ok(r) => r,
            Err(f) => return Verdict::Retry(f),
        };
        match req.send().await {
            Err(e) => Verdict::Retry(Failure::transport(&e)),
            Ok(resp) => match resp.status() {
                StatusCode::ACCEPTED => Verdict::Success,
                StatusCode::OK => match resp.text().await {
                    Ok(text) if body_accepted(&text) => Verdict::Success,
                    Ok(_) => Verdict::Retry(Failure::new(
                        "hub did not accept the publish",
                        FailureReason::BadReply,
                    )),
                    Err(e) => Verdict::Retry(Failure::transport(&e)),
                },
                s @ StatusCode::UNAUTHORIZED => {
                    tokens.invalidate(&token).await;
                    Verdict::Retry(Failure::status(s, FailureReason::Unauthorized))
                }
                s @ StatusCode::FORBIDDEN => {
                    tracing::error!(
                        topic,
                        "the hub refused the service account (HTTP 403): it lacks the role \
                         PUBLISH_{topic}_GENERAL"
                    );
                    Verdict::Retry(Failure::status(s, FailureReason::Forbidden))
                }
                s => {
                    if matches!(s, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND) {
                        // Perhaps the hub forgot the topic: register again before the next try.
                        self.registered.lock().await.remove(topic);
                    }
                    Verdict::Retry(Failure::status(s, FailureReason::HttpStatus))
                }
            },
        }
    }

    /// `hub.mode=register`; failures are logged and ignored (the topic usually exists).
    async fn register(&self, topic: &str, token: &Token) {
        let req = self
            .http
            .post(&self.url)
            .form(&[("hub.mode", "register"), ("hub.topic", topic)]);
        let result = match with_token(req, token.as_str()) {
            Ok(req) => req.send().await.map_err(|e| Failure::transport(&e).error),
            Err(f) => Err(f.error),
        };
        match result {
            Ok(resp) if resp.status().is_success() => {
                tracing::info!(topic, "WebSub topic registered");
            }
            Ok(resp) => tracing::warn!(
                topic,
                status = resp.status().as_u16(),
                "WebSub topic registration refused; publishing anyway"
            ),
            Err(error) => tracing::warn!(
                topic,
                %error,
                "WebSub topic registration failed; publishing anyway"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn published_on_goes_after_topic() {
        let stored = json!({"publisher": "P", "topic": "T", "event": {"id": "1"}});
        let out = with_published_on(stored.as_object().unwrap(), "2025-07-01T10:15:31.120Z");
        assert_eq!(
            out.to_string(),
            r#"{"publisher":"P","topic":"T","publishedOn":"2025-07-01T10:15:31.120Z","event":{"id":"1"}}"#
        );
        let odd = json!({"event": {}, "publishedOn": "old"});
        let out = with_published_on(odd.as_object().unwrap(), "now");
        assert_eq!(out.to_string(), r#"{"publishedOn":"now","event":{}}"#);
    }

    #[test]
    fn accepted_bodies() {
        assert!(body_accepted("hub.mode=accepted"));
        assert!(body_accepted("result=accepted&hub.topic=T"));
        assert!(body_accepted("x=%61ccepted\n"));
        assert!(!body_accepted(""));
        assert!(!body_accepted("accepted"));
        assert!(!body_accepted("hub.mode=denied&result=accepted"));
        assert!(!body_accepted("hub.mode=accepted%"));
        assert_eq!(form_decode("a+b%20c%zz%4"), "a b c%zz%4");
    }
}
