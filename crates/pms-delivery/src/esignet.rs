//! eSignet's client-management API (downstream.md §3): the create and update bodies built from a
//! client's current record, the calls of one `ESIGNET` row with the follow-ups of §3.5, and the
//! outcome table that turns a reply into success, retry or give-up.

use crate::metrics::FailureReason;
use crate::token::{Token, TokenProvider};
use crate::verdict::{cut, with_token, Failure, Verdict};
use pms_domain::clock::format_ts;
use pms_domain::model::{ClientFamily, ClientStatus, OidcClient};
use pms_domain::outbox::{OP_CREATE, OP_UPDATE};
use pms_domain::Clock;
use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const DUPLICATE_CLIENT_ID: &str = "duplicate_client_id";
const INVALID_CLIENT_ID: &str = "invalid_client_id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Create,
    Update,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::Create => "create",
            Call::Update => "update",
        }
    }
}

/// What one call came back with, before the outcome table is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// HTTP 200, `response` not null, no errors.
    Ok,
    /// HTTP 200 with `errors[0].errorCode`.
    Error(String),
    /// HTTP 200 whose body is not eSignet's response shape.
    Unreadable,
    /// HTTP 200, `response` null, no errors.
    NoResponse,
    /// Any other status.
    Status(StatusCode),
    /// No reply: connection failure or timeout.
    Transport(Failure),
}

/// Reads an HTTP 200 body per §3.5.
fn read_body(body: &[u8]) -> Reply {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Reply::Unreadable;
    };
    let Some(obj) = v.as_object() else {
        return Reply::Unreadable;
    };
    match obj.get("errors") {
        Some(Value::Array(errors)) if !errors.is_empty() => {
            return match errors[0].get("errorCode").and_then(Value::as_str) {
                Some(code) => Reply::Error(cut(code, 100)),
                None => Reply::Unreadable,
            };
        }
        None | Some(Value::Null) | Some(Value::Array(_)) => {}
        Some(_) => return Reply::Unreadable,
    }
    match obj.get("response") {
        None | Some(Value::Null) => Reply::NoResponse,
        Some(_) => Reply::Ok,
    }
}

/// The outcome table of §3.5 for one reply. `tolerated` is an error code that, at this point of
/// a row's calls, contradicts what eSignet just said (for example `invalid_client_id` on the
/// update after a create it accepted): retried rather than given up.
fn verdict(reply: Reply, tolerated: Option<&str>) -> Verdict {
    match reply {
        Reply::Ok => Verdict::Success,
        Reply::Error(code) => {
            let retry = matches!(code.as_str(), "invalid_request" | "unknown_error")
                || tolerated == Some(code.as_str());
            let f = Failure::new(format!("eSignet error {code}"), FailureReason::ServiceError);
            if retry {
                Verdict::Retry(f)
            } else {
                Verdict::GiveUp(f)
            }
        }
        Reply::Unreadable => Verdict::Retry(Failure::new(
            "eSignet reply unreadable",
            FailureReason::BadReply,
        )),
        Reply::NoResponse => Verdict::Retry(Failure::new(
            "eSignet reply without response",
            FailureReason::BadReply,
        )),
        Reply::Status(s) => match s.as_u16() {
            401 => Verdict::Retry(Failure::status(s, FailureReason::Unauthorized)),
            403 => Verdict::Retry(Failure::status(s, FailureReason::Forbidden)),
            408 | 429 | 500..=599 => Verdict::Retry(Failure::status(s, FailureReason::HttpStatus)),
            _ => Verdict::GiveUp(Failure::status(s, FailureReason::HttpStatus)),
        },
        Reply::Transport(f) => Verdict::Retry(f),
    }
}

fn family_path(family: ClientFamily) -> &'static str {
    match family {
        ClientFamily::Oidc => "oidc-client",
        ClientFamily::OAuth => "oauth-client",
    }
}

/// The name map as eSignet takes it: without `@none`, which it adds itself.
fn name_map(c: &OidcClient) -> Value {
    let map: Map<String, Value> = c
        .name_lang_map
        .iter()
        .filter(|(k, _)| k.as_str() != "@none")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(map)
}

/// The `request` of a create (§3.3).
pub(crate) fn create_request(c: &OidcClient, public_key: &Value) -> Value {
    let mut r = json!({
        "clientId": c.id,
        "clientName": c.name,
        "publicKey": public_key,
        "relyingPartyId": c.rp_id,
        "userClaims": c.claims,
        "authContextRefs": c.acr_values,
        "logoUri": c.logo_uri,
        "redirectUris": c.redirect_uris,
        "grantTypes": c.grant_types,
        "clientAuthMethods": c.client_auth_methods,
    });
    if let (ClientFamily::OAuth, Some(obj)) = (c.family(), r.as_object_mut()) {
        obj.insert("clientNameLangMap".into(), name_map(c));
    }
    r
}

/// The `request` of an update (§3.4): every member, since eSignet replaces them all.
pub(crate) fn update_request(c: &OidcClient) -> Value {
    let mut r = json!({
        "logoUri": c.logo_uri,
        "redirectUris": c.redirect_uris,
        "status": c.status.as_str(),
        "grantTypes": c.grant_types,
        "clientName": c.name,
        "clientAuthMethods": c.client_auth_methods,
        "userClaims": c.claims,
        "authContextRefs": c.acr_values,
    });
    if let (ClientFamily::OAuth, Some(obj)) = (c.family(), r.as_object_mut()) {
        obj.insert("clientNameLangMap".into(), name_map(c));
    }
    r
}

/// Calls eSignet for `ESIGNET` rows.
pub(crate) struct EsignetClient {
    http: reqwest::Client,
    /// `esignet.base_url` without a trailing `/`.
    base: String,
    clock: Arc<dyn Clock>,
}

impl EsignetClient {
    pub fn new(http: reqwest::Client, base_url: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            clock,
        }
    }

    /// Sends `client` (its current record) for a row of `operation`, with the follow-ups of §3.5.
    pub async fn deliver(
        &self,
        operation: &str,
        client: &OidcClient,
        tokens: &TokenProvider,
    ) -> Verdict {
        let public_key = match serde_json::from_str::<Value>(&client.public_key) {
            Ok(k) if k.is_object() => k,
            _ => {
                return Verdict::GiveUp(Failure::new(
                    "stored public key is not a JSON object",
                    FailureReason::BadData,
                ))
            }
        };
        let token = match tokens.get().await {
            Ok(t) => t,
            Err(f) => return Verdict::Retry(f),
        };
        let send = |call: Call| self.send(call, client, &public_key, &token);
        let inactive = client.status == ClientStatus::Inactive;
        let v = match operation {
            OP_CREATE => match send(Call::Create).await {
                // An earlier attempt's reply was lost: the client is there, update it.
                Reply::Error(code) if code == DUPLICATE_CLIENT_ID => {
                    verdict(send(Call::Update).await, Some(INVALID_CLIENT_ID))
                }
                Reply::Ok if inactive => verdict(send(Call::Update).await, Some(INVALID_CLIENT_ID)),
                other => verdict(other, None),
            },
            OP_UPDATE => match send(Call::Update).await {
                // eSignet lacks the client (its create was never delivered): create it.
                Reply::Error(code) if code == INVALID_CLIENT_ID => match send(Call::Create).await {
                    Reply::Ok if inactive => {
                        verdict(send(Call::Update).await, Some(INVALID_CLIENT_ID))
                    }
                    other => verdict(other, Some(DUPLICATE_CLIENT_ID)),
                },
                other => verdict(other, None),
            },
            other => Verdict::GiveUp(Failure::new(
                format!("unknown eSignet operation {}", cut(other, 40)),
                FailureReason::BadData,
            )),
        };
        match &v {
            Verdict::Retry(f) if f.reason == FailureReason::Unauthorized => {
                tokens.invalidate(&token).await;
            }
            Verdict::Retry(f) if f.reason == FailureReason::Forbidden => {
                tracing::error!(
                    client_id = %client.id,
                    "eSignet refused the service account (HTTP 403): it lacks the scope \
                     add_oidc_client or update_oidc_client"
                );
            }
            _ => {}
        }
        v
    }

    /// One call; `requestTime` is taken now, at send time (§3.2).
    async fn send(&self, call: Call, c: &OidcClient, public_key: &Value, token: &Token) -> Reply {
        let family = family_path(c.family());
        let (req, request) = match call {
            Call::Create => (
                self.http
                    .post(format!("{}/v1/esignet/client-mgmt/{family}", self.base)),
                create_request(c, public_key),
            ),
            Call::Update => (
                self.http.put(format!(
                    "{}/v1/esignet/client-mgmt/{family}/{}",
                    self.base, c.id
                )),
                update_request(c),
            ),
        };
        let body = json!({
            "requestTime": format_ts(&self.clock.now()),
            "request": request,
        });
        let req = match with_token(req.header(ACCEPT, "application/json"), token.as_str()) {
            Ok(r) => r.json(&body),
            Err(f) => return Reply::Transport(f),
        };
        let reply = match req.send().await {
            Ok(resp) if resp.status() == StatusCode::OK => match resp.bytes().await {
                Ok(bytes) => read_body(&bytes),
                Err(e) => Reply::Transport(Failure::transport(&e)),
            },
            Ok(resp) => Reply::Status(resp.status()),
            Err(e) => Reply::Transport(Failure::transport(&e)),
        };
        tracing::debug!(client_id = %c.id, call = call.name(), reply = ?reply, "eSignet call");
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pms_domain::model::NameMap;

    fn client(map: &[(&str, &str)], status: ClientStatus) -> OidcClient {
        let mut m = NameMap::new();
        for (k, v) in map {
            m.insert((*k).into(), json!(v));
        }
        OidcClient {
            id: "cid".into(),
            name: "Portal".into(),
            name_lang_map: m,
            rp_id: "pms-1".into(),
            policy_id: "pol".into(),
            logo_uri: "https://x/logo.png".into(),
            redirect_uris: ["https://x/cb"].into(),
            public_key: r#"{"kty":"EC"}"#.into(),
            claims: ["name"].into(),
            acr_values: ["mosip:idp:acr:password"].into(),
            grant_types: ["authorization_code"].into(),
            client_auth_methods: ["private_key_jwt"].into(),
            status,
            cr_by: "u".into(),
            cr_dtimes: chrono::DateTime::UNIX_EPOCH,
            upd_by: None,
            upd_dtimes: None,
            version: 1,
        }
    }

    #[test]
    fn bodies_follow_the_family() {
        let legacy = client(&[], ClientStatus::Active);
        let c = create_request(&legacy, &json!({"kty":"EC"}));
        assert!(c.get("clientNameLangMap").is_none());
        assert_eq!(c["publicKey"], json!({"kty":"EC"}));
        assert_eq!(c["relyingPartyId"], "pms-1");
        let u = update_request(&legacy);
        assert!(u.get("clientNameLangMap").is_none());
        assert_eq!(u["status"], "ACTIVE");
        let oauth = client(
            &[("eng", "Portal"), ("@none", "Portal")],
            ClientStatus::Inactive,
        );
        let c = create_request(&oauth, &json!({}));
        assert_eq!(c["clientNameLangMap"], json!({"eng": "Portal"}));
        let u = update_request(&oauth);
        assert_eq!(u["clientNameLangMap"], json!({"eng": "Portal"}));
        assert_eq!(u["status"], "INACTIVE");
        let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "logoUri",
                "redirectUris",
                "status",
                "grantTypes",
                "clientName",
                "clientAuthMethods",
                "userClaims",
                "authContextRefs",
                "clientNameLangMap"
            ]
        );
    }

    #[test]
    fn reads_replies_like_the_table() {
        let ok =
            br#"{"responseTime":"t","response":{"clientId":"c","status":"ACTIVE"},"errors":[]}"#;
        assert_eq!(read_body(ok), Reply::Ok);
        let err = br#"{"response":null,"errors":[{"errorCode":"duplicate_client_id","errorMessage":"x"}]}"#;
        assert_eq!(read_body(err), Reply::Error("duplicate_client_id".into()));
        assert_eq!(
            read_body(br#"{"response":null,"errors":[]}"#),
            Reply::NoResponse
        );
        assert_eq!(read_body(br#"{"response":null}"#), Reply::NoResponse);
        assert_eq!(read_body(b"<html>"), Reply::Unreadable);
        assert_eq!(read_body(br#"{"errors":[{}]}"#), Reply::Unreadable);
    }

    #[test]
    fn outcome_table() {
        let code = |c: &str| verdict(Reply::Error(c.into()), None);
        assert!(matches!(code("invalid_request"), Verdict::Retry(_)));
        assert!(matches!(code("unknown_error"), Verdict::Retry(_)));
        assert_eq!(
            code("duplicate_public_key"),
            Verdict::GiveUp(Failure::new(
                "eSignet error duplicate_public_key",
                FailureReason::ServiceError
            ))
        );
        for c in [
            "invalid_claim",
            "invalid_acr",
            "invalid_redirect_uri",
            "whatever",
        ] {
            assert!(matches!(code(c), Verdict::GiveUp(_)), "{c}");
        }
        assert!(matches!(
            verdict(
                Reply::Error(INVALID_CLIENT_ID.into()),
                Some(INVALID_CLIENT_ID)
            ),
            Verdict::Retry(_)
        ));
        let status = |s: u16| verdict(Reply::Status(StatusCode::from_u16(s).unwrap()), None);
        for s in [401, 403, 408, 429, 500, 502, 503, 504] {
            assert!(matches!(status(s), Verdict::Retry(_)), "{s}");
        }
        for s in [201, 204, 301, 400, 404, 409, 415] {
            assert!(matches!(status(s), Verdict::GiveUp(_)), "{s}");
        }
        assert_eq!(
            status(503),
            Verdict::Retry(Failure::new("HTTP 503", FailureReason::HttpStatus))
        );
        assert!(matches!(
            verdict(Reply::Unreadable, None),
            Verdict::Retry(_)
        ));
        assert!(matches!(
            verdict(Reply::NoResponse, None),
            Verdict::Retry(_)
        ));
    }
}
