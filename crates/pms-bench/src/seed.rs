//! Seeding through the public API, as the README walk-through does: a policy group, the MOSIP
//! sample auth policy (published), active auth partners each with an approved mapping, and one
//! client per partner created over HTTP (the template of the preloaded rows). Tokens come from
//! `pms token` on the same data directory.

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::Path;
use tokio::process::Command;

/// The policy group and policy the harness creates.
pub const GROUP: &str = "bench";
pub const POLICY_NAME: &str = "bench login";

/// A partner: its id (also its user, `preferred_username`) and token.
#[derive(Debug, Clone)]
pub struct Partner {
    pub id: String,
    pub token: String,
}

/// Everything the phases need from the seeded database.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub policy_id: String,
    pub admin_token: String,
    pub partners: Vec<Partner>,
    /// One client per partner, created over HTTP, in partner order.
    pub template_clients: Vec<String>,
}

/// Partner ids: none is a substring of another, so the list's `partnerId` filter (a substring
/// match) selects exactly one partner.
pub fn partner_id(i: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    let a = LETTERS.get(i % 26).copied().unwrap_or(b'a') as char;
    let b = LETTERS.get((i / 26) % 26).copied().unwrap_or(b'a') as char;
    format!("bench-rp-{b}{a}")
}

/// `pms token --sub <sub> --roles <roles> --ttl 86400` with `env`.
pub async fn token(
    pms_bin: &Path,
    env: &[(String, String)],
    sub: &str,
    roles: &str,
) -> anyhow::Result<String> {
    let mut cmd = Command::new(pms_bin);
    crate::args::pms_env(&mut cmd, env);
    let out = cmd
        .args(["token", "--sub", sub, "--roles", roles, "--ttl", "86400"])
        .output()
        .await
        .with_context(|| format!("cannot run {} token", pms_bin.display()))?;
    if !out.status.success() {
        bail!(
            "`pms token` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let token = String::from_utf8(out.stdout)
        .context("`pms token` printed non-UTF-8")?
        .trim()
        .to_string();
    if token.is_empty() {
        bail!("`pms token` printed nothing");
    }
    Ok(token)
}

/// A small JSON client for seeding and checks (not used for measured load).
pub struct Api {
    base: String,
    http: reqwest::Client,
    pub requesttime: String,
}

impl Api {
    pub fn new(base: String, requesttime: String) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .http1_only()
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        Ok(Self {
            base,
            http,
            requesttime,
        })
    }

    /// `method path` with a v1 envelope around `request`; fails unless HTTP 200 with no
    /// `errors`. Returns `response`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        request: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut rb = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path))
            .bearer_auth(token);
        if let Some(r) = request {
            let body = json!({ "id": "mosip.pms.bench", "version": "1.0",
                               "requesttime": self.requesttime, "metadata": {}, "request": r });
            rb = rb
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = rb
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("{method} {path}: HTTP {status}, not JSON: {text}"))?;
        let ok = status.is_success() && body["errors"].as_array().is_some_and(Vec::is_empty);
        if !ok {
            bail!("{method} {path}: HTTP {status}: {text}");
        }
        Ok(body["response"].clone())
    }
}

fn id_of(v: &Value, what: &str, member: &str) -> anyhow::Result<String> {
    v[member]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{what}: no `{member}` in {v}"))
}

/// The MOSIP sample auth policy (as the API tests use it).
pub fn sample_policy() -> Value {
    json!({
        "authTokenType": "policy",
        "allowedAuthTypes": [
            { "authType": "bio", "authSubType": "FINGER", "mandatory": false },
            { "authType": "bio", "authSubType": "IRIS", "mandatory": false },
            { "authType": "bio", "authSubType": "FACE", "mandatory": false },
            { "authType": "otp", "authSubType": "", "mandatory": false },
            { "authType": "kycauth", "authSubType": "", "mandatory": false },
            { "authType": "kycexchange", "authSubType": "", "mandatory": false },
            { "authType": "wla", "authSubType": "", "mandatory": false },
            { "authType": "pwd", "authSubType": "", "mandatory": false }
        ],
        "allowedKycAttributes": [
            { "attributeName": "fullName" }, { "attributeName": "gender" },
            { "attributeName": "phone" }, { "attributeName": "email" },
            { "attributeName": "dateOfBirth" }, { "attributeName": "city" },
            { "attributeName": "face" }, { "attributeName": "addressLine1" }
        ]
    })
}

/// The `request` of a client create (OAuth family, with a name per language).
pub fn create_request(policy_id: &str, partner: &str, name: &str, public_key: Value) -> Value {
    json!({
        "name": name, "policyId": policy_id, "publicKey": public_key,
        "authPartnerId": partner, "logoUri": format!("https://{partner}.example/logo.png"),
        "redirectUris": [format!("https://{partner}.example/callback"),
                         format!("https://{partner}.example/userprofile")],
        "grantTypes": ["authorization_code"], "clientAuthMethods": ["private_key_jwt"],
        "clientNameLangMap": { "eng": name, "fra": format!("{name} (fr)") }
    })
}

/// A fresh P-256 public key as a JWK.
pub fn fresh_jwk() -> anyhow::Result<Value> {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    Ok(serde_json::from_str(&secret.public_key().to_jwk_string())?)
}

/// Seeds group, policy, `partners` partners with approved mappings and one client each.
pub async fn seed(
    api: &Api,
    pms_bin: &Path,
    env: &[(String, String)],
    partners: usize,
) -> anyhow::Result<Seeded> {
    use reqwest::Method;
    let pm = token(pms_bin, env, "bench-pm", "POLICYMANAGER").await?;
    let admin = token(pms_bin, env, "bench-admin", "PARTNER_ADMIN").await?;

    let group = api
        .call(
            Method::POST,
            "/v1/policymanager/policies/group/new",
            &pm,
            Some(json!({ "name": GROUP, "desc": "pms-bench relying parties" })),
        )
        .await?;
    let group_id = id_of(&group, "policy group", "id")?;
    let policy = api
        .call(
            Method::POST,
            "/v1/policymanager/policies",
            &pm,
            Some(json!({
                "policyGroupName": GROUP, "policyType": "Auth", "name": POLICY_NAME,
                "desc": "Login with KYC (MOSIP sample policy)", "version": "1.0",
                "policies": sample_policy()
            })),
        )
        .await?;
    let policy_id = id_of(&policy, "policy", "id")?;
    api.call(
        Method::POST,
        &format!("/v1/policymanager/policies/{policy_id}/group/{group_id}/publish"),
        &pm,
        None,
    )
    .await?;

    let mut seeded = Vec::new();
    let mut template_clients = Vec::new();
    for i in 0..partners {
        let id = partner_id(i);
        let rp = token(pms_bin, env, &id, "AUTH_PARTNER").await?;
        api.call(
            Method::POST,
            "/v1/partnermanager/partners",
            &rp,
            Some(json!({
                "partnerId": id, "policyGroup": GROUP, "organizationName": format!("Org {id}"),
                "address": format!("{} Main Street", i + 1), "contactNumber": "9876543210",
                "emailId": format!("admin@{id}.example"), "partnerType": "Auth_Partner"
            })),
        )
        .await?;
        api.call(
            Method::PATCH,
            &format!("/v1/partnermanager/partners/{id}"),
            &admin,
            Some(json!({ "status": "Active" })),
        )
        .await?;
        let mapping = api
            .call(
                Method::POST,
                &format!("/v1/partnermanager/partners/{id}/policy/map"),
                &rp,
                Some(json!({ "policyName": POLICY_NAME, "useCaseDescription": "Benchmark" })),
            )
            .await?;
        let key = id_of(&mapping, "mapping request", "mappingkey")?;
        api.call(
            Method::PUT,
            &format!("/v1/partnermanager/partners/policy/{key}"),
            &admin,
            Some(json!({ "status": "Approved" })),
        )
        .await?;
        let created = api
            .call(
                Method::POST,
                "/v1/partnermanager/oauth/client",
                &rp,
                Some(create_request(
                    &policy_id,
                    &id,
                    &format!("Template client {id}"),
                    fresh_jwk()?,
                )),
            )
            .await?;
        template_clients.push(id_of(&created, "client", "clientId")?);
        seeded.push(Partner { id, token: rp });
    }
    Ok(Seeded {
        policy_id,
        admin_token: admin,
        partners: seeded,
        template_clients,
    })
}
