//! Service configuration: defaults → optional TOML file → `PMS_<SECTION>__<KEY>` environment
//! (conventions.md §12). Lists may be written comma-separated in the environment.

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A list of strings: a TOML array, or `a,b,c` in the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct List(pub Vec<String>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seq(Vec<String>),
            Text(String),
        }
        Ok(List(match Raw::deserialize(d)? {
            Raw::Seq(v) => v,
            Raw::Text(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }))
    }
}

/// A secret setting (a password, a client secret, a key, a URL that may carry a password).
/// `Debug` prints `[REDACTED]`; serialising writes an empty string, so the configuration can
/// never be written out with a secret in it (serialising serves only the defaults, which hold
/// no secret).
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// The value, for the one place that uses it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s.into())
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.into())
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("")
    }
}

fn list(items: &[&str]) -> List {
    List(items.iter().map(|s| (*s).to_string()).collect())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http: Http,
    pub database: Database,
    pub request: Request,
    pub auth: Auth,
    pub roles: BTreeMap<String, List>,
    pub list: Lists,
    pub policy: Policy,
    pub partner: PartnerCfg,
    pub oidc_client: OidcClientCfg,
    pub claims: ClaimsCfg,
    pub esignet: EsignetCfg,
    pub websub: WebsubCfg,
    pub service_token: ServiceTokenCfg,
    pub delivery: DeliveryCfg,
    pub portal: PortalCfg,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub host: String,
    pub port: u16,
    pub max_body_bytes: usize,
    /// A request head not complete in time closes the connection (from the connection's start
    /// for its first request, from the head's first byte for later ones).
    pub header_read_timeout_seconds: u64,
    /// A keep-alive connection with no request in flight is closed after this.
    pub idle_timeout_seconds: u64,
    /// A request (body included) not answered in time gets 408.
    pub request_timeout_seconds: u64,
    /// Connections served at once; more wait in the accept queue.
    pub max_connections: u32,
    /// The origins (`scheme://host[:port]`) a write authenticated by the `Authorization` cookie
    /// may come from; empty means the request's own (pms-api/src/origin.rs).
    pub allowed_origins: List,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Empty: `sqlite://<data_dir>/pms.db`. May carry a password.
    pub url: Secret,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &redact_url(self.url.expose()))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

/// Query parameters that carry a password in a PostgreSQL URL.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// A database URL fit for logs and errors: the password of the user-info and of `password` /
/// `sslpassword` query parameters replaced by `***`. A URL that cannot be parsed is not echoed
/// at all (it may hold a password where the parser did not expect one).
pub fn redact_url(raw: &str) -> String {
    // SQLite URLs name a file and carry no password; the URL parser would rewrite relative paths.
    if raw.is_empty() || raw.starts_with("sqlite:") {
        return raw.to_string();
    }
    let Ok(mut url) = url::Url::parse(raw) else {
        return "<unparsable URL>".into();
    };
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return "<unparsable URL>".into();
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p));
                let v = if secret { "***".into() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub max_clock_skew_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Dev,
    Jwks,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub mode: AuthMode,
    /// Dev mode mints admin tokens for anyone who asks; on a non-loopback `http.host` it is
    /// refused unless this is set.
    pub allow_dev_mode_on_public_address: bool,
    pub issuer: String,
    pub jwks_uri: String,
    pub allowed_algs: List,
    pub leeway_seconds: u64,
    pub allowed_audiences: List,
    pub admin_roles: List,
    pub partner_read_all_roles: List,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    pub max_page_size: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Empty: the embedded schema.
    pub auth_policy_schema_file: String,
    pub allowed_auth_types: List,
    pub allowed_policy_types: List,
    pub schema_url: String,
    pub validity_years: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerCfg {
    pub supported_languages: List,
    pub email_regex: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClientCfg {
    pub enabled: bool,
    /// Must be a subset of eSignet's `mosip.esignet.supported.grant.types`.
    pub grant_types: List,
    /// Must be a subset of eSignet's `mosip.esignet.supported.client.auth.methods`.
    pub client_auth_methods: List,
    pub rsa_min_bits: usize,
    pub rsa_max_bits: usize,
    pub language_codes: List,
    /// Redirect-URI schemes refused although §3.4's grammar accepts them (compared ignoring
    /// case); empty blocks none.
    pub blocked_redirect_schemes: List,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsCfg {
    pub claims_supported: List,
    /// Empty: the embedded `identity-mapping.json`.
    pub identity_mapping_file: String,
    /// Empty: the embedded `amr-acr-mapping.json`. Must be the file eSignet uses.
    pub amr_acr_mapping_file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsignetCfg {
    /// Empty: eSignet is not a target and no `ESIGNET` outbox rows are written.
    pub base_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebsubCfg {
    /// Empty: no `WEBSUB` outbox rows are written.
    pub hub_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenMode {
    ClientCredentials,
    MosipAuthmanager,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTokenCfg {
    pub mode: TokenMode,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub app_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryCfg {
    pub base_delay_seconds: u64,
    pub max_delay_seconds: u64,
    pub max_attempts: u32,
    pub lease_seconds: u64,
    pub http_timeout_seconds: u64,
    pub poll_interval_ms: u64,
    pub concurrency: u32,
    pub retention_days: u32,
}

/// The partner portal under `/portal` (README "Portal").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalCfg {
    pub enabled: bool,
    /// The `Secure` attribute of the portal's cookies; `false` only for plain-HTTP development.
    pub cookie_secure: bool,
    /// The key of the CSRF tokens and the pending-login cookie; empty: random per process (set
    /// it when several nodes serve the portal behind one name).
    pub csrf_secret: Secret,
    /// Lifetime of a token from the dev sign-in page (`auth.mode = dev`).
    pub dev_token_ttl_seconds: u64,
    /// The portal's OIDC client at `auth.issuer` (`auth.mode = jwks`); empty: no sign-in.
    pub oidc_client_id: String,
    /// Empty for a public client (PKCE only).
    pub oidc_client_secret: Secret,
    /// Empty: from `{auth.issuer}/.well-known/openid-configuration`.
    pub authorization_endpoint: String,
    /// Empty: from discovery.
    pub token_endpoint: String,
    /// The portal's callback registered at the issuer, e.g. `https://pms.example/portal/callback`;
    /// required with a portal OIDC client (never derived from a request's `Host`).
    pub redirect_uri: String,
    pub scopes: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./pms-data"),
            http: Http {
                host: "127.0.0.1".into(),
                port: 9109,
                max_body_bytes: 65536,
                header_read_timeout_seconds: 10,
                idle_timeout_seconds: 60,
                request_timeout_seconds: 30,
                max_connections: 4096,
                allowed_origins: List::default(),
            },
            database: Database {
                url: Secret::default(),
                max_connections: 10,
                connect_timeout_secs: 5,
            },
            request: Request {
                max_clock_skew_seconds: 0,
            },
            auth: Auth {
                mode: AuthMode::Dev,
                allow_dev_mode_on_public_address: false,
                issuer: String::new(),
                jwks_uri: String::new(),
                allowed_algs: list(&["RS256", "PS256", "ES256"]),
                leeway_seconds: 30,
                allowed_audiences: List::default(),
                admin_roles: list(&["PARTNER_ADMIN"]),
                partner_read_all_roles: list(&["PARTNER_ADMIN", "RESIDENT"]),
            },
            roles: pms_api::roles::defaults()
                .into_iter()
                .map(|(k, v)| (k, List(v)))
                .collect(),
            list: Lists {
                max_page_size: 1000,
            },
            policy: Policy {
                auth_policy_schema_file: String::new(),
                allowed_auth_types: list(&[
                    "otp",
                    "otp-request",
                    "demo",
                    "bio",
                    "kyc",
                    "kycauth",
                    "kycexchange",
                    "wla",
                    "pin",
                    "pwd",
                    "kba",
                    "keybinding",
                    "kbt",
                    "vciexchange",
                ]),
                allowed_policy_types: list(&["Auth"]),
                schema_url: "https://schemas.mosip.io/v1/auth-policy".into(),
                validity_years: 200,
            },
            partner: PartnerCfg {
                supported_languages: list(&["eng"]),
                email_regex: pms_domain::ops::DEFAULT_EMAIL_REGEX.into(),
            },
            oidc_client: OidcClientCfg {
                enabled: true,
                grant_types: list(&["authorization_code"]),
                client_auth_methods: list(&["private_key_jwt"]),
                rsa_min_bits: 2048,
                rsa_max_bits: 4096,
                language_codes: list(pms_domain::client_fields::ISO_639_2T),
                blocked_redirect_schemes: list(
                    pms_domain::client_fields::DEFAULT_BLOCKED_REDIRECT_SCHEMES,
                ),
            },
            claims: ClaimsCfg {
                claims_supported: list(pms_domain::claims::DEFAULT_CLAIMS_SUPPORTED),
                identity_mapping_file: String::new(),
                amr_acr_mapping_file: String::new(),
            },
            esignet: EsignetCfg {
                base_url: String::new(),
            },
            websub: WebsubCfg {
                hub_url: String::new(),
            },
            service_token: ServiceTokenCfg {
                mode: TokenMode::ClientCredentials,
                token_url: String::new(),
                client_id: String::new(),
                client_secret: Secret::default(),
                app_id: "partner".into(),
            },
            delivery: DeliveryCfg {
                base_delay_seconds: 2,
                max_delay_seconds: 600,
                max_attempts: 50,
                lease_seconds: 120,
                http_timeout_seconds: 30,
                poll_interval_ms: 1000,
                concurrency: 4,
                retention_days: 30,
            },
            portal: PortalCfg {
                enabled: true,
                cookie_secure: true,
                csrf_secret: Secret::default(),
                dev_token_ttl_seconds: 3600,
                oidc_client_id: String::new(),
                oidc_client_secret: Secret::default(),
                authorization_endpoint: String::new(),
                token_endpoint: String::new(),
                redirect_uri: String::new(),
                scopes: "openid profile email".into(),
            },
        }
    }
}

/// Environment variables that belong to tooling, not to the service, and are never warned about.
const NOT_CONFIG: &[&str] = &[
    "PMS_TEST_POSTGRES_URL",
    "PMS_TEST_CHROMEDRIVER",
    "PMS_LOG_JSON",
];

/// The keys held in [`Secret`]s.
const SECRET_KEYS: &[&str] = &[
    "database.url",
    "service_token.client_secret",
    "portal.csrf_secret",
    "portal.oidc_client_secret",
];

/// The loaded configuration plus what loading noticed.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// `PMS_*` variables that name no key.
    pub unknown_env: Vec<String>,
}

fn dotted_keys(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(map) = v {
        for (k, child) in map {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if child.is_object() && !(prefix.is_empty() && k == "roles_") {
                dotted_keys(&key, child, out);
            } else {
                out.insert(key);
            }
        }
    }
}

/// The dotted key of `PMS_SECTION__KEY`.
fn env_key(var: &str) -> Option<String> {
    var.strip_prefix("PMS_")
        .map(|k| k.to_ascii_lowercase().replace("__", "."))
}

impl Config {
    /// Defaults → `file` → environment (`env` given explicitly so tests need not touch the process).
    pub fn load(file: Option<&Path>, env: &[(String, String)]) -> Result<Loaded, String> {
        let defaults = Config::default();
        let mut known = BTreeSet::new();
        dotted_keys(
            "",
            &serde_json::to_value(&defaults).map_err(|e| e.to_string())?,
            &mut known,
        );
        let mut figment = Figment::from(Serialized::defaults(&defaults));
        if let Some(f) = file {
            if !f.exists() {
                return Err(format!("config file {} does not exist", f.display()));
            }
            figment = figment.merge(Toml::file_exact(f));
        }
        let mut unknown_env = Vec::new();
        let mut vars = Vec::new();
        for (name, value) in env {
            let Some(key) = env_key(name) else { continue };
            if NOT_CONFIG.contains(&name.as_str()) {
                continue;
            }
            let is_role = key
                .strip_prefix("roles.")
                .is_some_and(|r| !r.is_empty() && !r.contains('.'));
            if known.contains(&key) || is_role {
                vars.push((name.clone(), value.clone()));
            } else {
                unknown_env.push(name.clone());
            }
        }
        // Values are parsed as figment's `Env` provider parses them (numbers, booleans, text),
        // except secrets, which are taken as written: `12345` or `1.50` is a password, not a number.
        for (name, value) in &vars {
            if let Some(key) = env_key(name) {
                let parsed: figment::value::Value = if SECRET_KEYS.contains(&key.as_str()) {
                    figment::value::Value::from(value.clone())
                } else {
                    value
                        .parse()
                        .unwrap_or_else(|_| figment::value::Value::from(value.clone()))
                };
                figment = figment.merge(Serialized::global(&key, parsed));
            }
        }
        let config: Config = figment.extract().map_err(|e| one_line(&e.to_string()))?;
        config.validate()?;
        Ok(Loaded {
            config,
            unknown_env,
        })
    }

    fn validate(&self) -> Result<(), String> {
        if self.dev_mode_on_public_address() && !self.auth.allow_dev_mode_on_public_address {
            return Err(format!(
                "auth.mode = dev lets anyone sign in as an admin and is refused on the non-loopback \
                 http.host {}: use auth.mode = jwks, serve on 127.0.0.1, or set \
                 auth.allow_dev_mode_on_public_address = true",
                self.http.host
            ));
        }
        if self.auth.mode == AuthMode::Jwks {
            if self.auth.issuer.trim().is_empty() {
                return Err("auth.issuer is required when auth.mode = jwks".into());
            }
            if self.auth.jwks_uri.trim().is_empty() {
                return Err("auth.jwks_uri is required when auth.mode = jwks".into());
            }
        }
        for alg in &self.auth.allowed_algs.0 {
            if !matches!(alg.as_str(), "RS256" | "PS256" | "ES256") {
                return Err(format!(
                    "auth.allowed_algs: {alg} is not allowed (RS256, PS256, ES256)"
                ));
            }
        }
        if self.auth.mode == AuthMode::Jwks && self.auth.allowed_algs.0.is_empty() {
            return Err("auth.allowed_algs must not be empty".into());
        }
        for (key, roles) in &self.roles {
            if roles.0.is_empty() {
                return Err(format!("roles.{key} must not be empty"));
            }
        }
        for (name, l) in [
            ("auth.admin_roles", &self.auth.admin_roles),
            ("policy.allowed_auth_types", &self.policy.allowed_auth_types),
            (
                "policy.allowed_policy_types",
                &self.policy.allowed_policy_types,
            ),
            (
                "partner.supported_languages",
                &self.partner.supported_languages,
            ),
            ("oidc_client.grant_types", &self.oidc_client.grant_types),
            (
                "oidc_client.client_auth_methods",
                &self.oidc_client.client_auth_methods,
            ),
            (
                "oidc_client.language_codes",
                &self.oidc_client.language_codes,
            ),
            ("claims.claims_supported", &self.claims.claims_supported),
        ] {
            if l.0.is_empty() {
                return Err(format!("{name} must not be empty"));
            }
        }
        for entry in &self.http.allowed_origins.0 {
            pms_api::origin::parse_allowed(entry)
                .map_err(|e| format!("http.allowed_origins: {e}"))?;
        }
        if self.http.max_body_bytes == 0 {
            return Err("http.max_body_bytes must be greater than 0".into());
        }
        for (key, v) in [
            (
                "http.header_read_timeout_seconds",
                self.http.header_read_timeout_seconds,
            ),
            ("http.idle_timeout_seconds", self.http.idle_timeout_seconds),
            (
                "http.request_timeout_seconds",
                self.http.request_timeout_seconds,
            ),
            ("http.max_connections", u64::from(self.http.max_connections)),
        ] {
            if v == 0 {
                return Err(format!("{key} must be greater than 0"));
            }
        }
        if self.list.max_page_size == 0 {
            return Err("list.max_page_size must be greater than 0".into());
        }
        pms_domain::client_fields::BlockedSchemes::parse(
            &self.oidc_client.blocked_redirect_schemes.0,
        )
        .map_err(|e| format!("oidc_client.blocked_redirect_schemes: {e}"))?;
        let (min, max) = (self.oidc_client.rsa_min_bits, self.oidc_client.rsa_max_bits);
        // Below 2048 bits RSA is breakable in practice; eSignet keeps keys in a
        // 1024-character column, which a modulus above 4096 bits overflows.
        if !(2048..=max).contains(&min) || max > 4096 {
            return Err(format!(
                "oidc_client.rsa_min_bits ({min}) and rsa_max_bits ({max}) must satisfy 2048 <= min <= max <= 4096"
            ));
        }
        regex::Regex::new(&self.partner.email_regex).map_err(|e| {
            format!(
                "partner.email_regex is not a valid regex: {}",
                one_line(&e.to_string())
            )
        })?;
        if !self.esignet.base_url.is_empty() || !self.websub.hub_url.is_empty() {
            for (key, v) in [
                (
                    "service_token.token_url",
                    self.service_token.token_url.as_str(),
                ),
                (
                    "service_token.client_id",
                    self.service_token.client_id.as_str(),
                ),
                (
                    "service_token.client_secret",
                    self.service_token.client_secret.expose(),
                ),
            ] {
                if v.trim().is_empty() {
                    return Err(format!(
                        "{key} is required when esignet.base_url or websub.hub_url is set"
                    ));
                }
            }
        }
        // The callback is never derived from a request's Host header (the client chooses it), so
        // a portal sign-in needs it configured.
        if self.auth.mode == AuthMode::Jwks
            && !self.portal.oidc_client_id.trim().is_empty()
            && self.portal.redirect_uri.trim().is_empty()
        {
            return Err(
                "portal.redirect_uri is required when portal.oidc_client_id is set (auth.mode = jwks)"
                    .into(),
            );
        }
        if self.portal.dev_token_ttl_seconds == 0 {
            return Err("portal.dev_token_ttl_seconds must be greater than 0".into());
        }
        for (key, url) in [
            (
                "portal.authorization_endpoint",
                &self.portal.authorization_endpoint,
            ),
            ("portal.token_endpoint", &self.portal.token_endpoint),
            ("portal.redirect_uri", &self.portal.redirect_uri),
            ("esignet.base_url", &self.esignet.base_url),
            ("websub.hub_url", &self.websub.hub_url),
            ("service_token.token_url", &self.service_token.token_url),
        ] {
            let http = url.starts_with("http://") || url.starts_with("https://");
            if !url.is_empty() && !http {
                return Err(format!("{key} must be an http:// or https:// URL"));
            }
        }
        let d = &self.delivery;
        for (key, v) in [
            ("delivery.base_delay_seconds", d.base_delay_seconds),
            ("delivery.max_delay_seconds", d.max_delay_seconds),
            ("delivery.max_attempts", u64::from(d.max_attempts)),
            ("delivery.lease_seconds", d.lease_seconds),
            ("delivery.http_timeout_seconds", d.http_timeout_seconds),
            ("delivery.poll_interval_ms", d.poll_interval_ms),
            ("delivery.concurrency", u64::from(d.concurrency)),
        ] {
            if v == 0 {
                return Err(format!("{key} must be greater than 0"));
            }
        }
        // A lease shorter than a call's timeout would let a second worker take a row that is
        // still being sent.
        if d.lease_seconds <= d.http_timeout_seconds * 2 {
            return Err(format!(
                "delivery.lease_seconds ({}) must exceed twice delivery.http_timeout_seconds ({})",
                d.lease_seconds, d.http_timeout_seconds
            ));
        }
        self.database_url()?;
        Ok(())
    }

    /// `auth.mode = dev` while `http.host` is not a loopback address (a name other than
    /// `localhost` counts as public: it may resolve to anything).
    pub fn dev_mode_on_public_address(&self) -> bool {
        let host = self.http.host.trim();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        self.auth.mode == AuthMode::Dev && !loopback
    }

    /// The downstream targets rows are written for.
    pub fn outbox_targets(&self) -> pms_domain::outbox::OutboxTargets {
        pms_domain::outbox::OutboxTargets {
            esignet: !self.esignet.base_url.is_empty(),
            websub: !self.websub.hub_url.is_empty(),
        }
    }

    /// The effective database URL; the scheme decides the backend.
    /// The backend and URL `database.url` selects; empty means the embedded SQLite file.
    pub fn database_url(&self) -> Result<DatabaseUrl, String> {
        let url = if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("pms.db").display())
        } else {
            self.database.url.expose().to_string()
        };
        if url.starts_with("sqlite:") {
            Ok(DatabaseUrl::Sqlite(url.into()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.into()))
        } else {
            Err(format!(
                "database.url: unknown scheme in {:?} (expected sqlite: or postgres:)",
                redact_url(&url)
            ))
        }
    }
}

/// Which backend a database URL selects (architecture invariant: chosen once, from the scheme).
/// `Debug` and `Display` never print a password.
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite(Secret),
    Postgres(Secret),
}

impl DatabaseUrl {
    /// The URL itself, for the store's connect call only.
    pub fn expose(&self) -> &str {
        match self {
            DatabaseUrl::Sqlite(u) | DatabaseUrl::Postgres(u) => u.expose(),
        }
    }
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (DatabaseUrl::Sqlite(_), DatabaseUrl::Sqlite(_))
                | (DatabaseUrl::Postgres(_), DatabaseUrl::Postgres(_))
        ) && self.expose() == other.expose()
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(self.expose()))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(self.expose()))
    }
}

pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_spec_defaults() {
        let c = Config::load(None, &[]).unwrap().config;
        assert_eq!(c.http.port, 9109);
        assert_eq!(c.http.host, "127.0.0.1");
        assert_eq!(c.auth.mode, AuthMode::Dev);
        assert_eq!(
            c.database_url().unwrap(),
            DatabaseUrl::Sqlite("sqlite://./pms-data/pms.db".into())
        );
        assert_eq!(
            c.roles["postoidcclient"].0,
            vec!["AUTH_PARTNER", "PARTNER_ADMIN"]
        );
    }

    #[test]
    fn environment_overrides_file_and_splits_lists() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pms.toml");
        std::fs::write(
            &file,
            "data_dir = \"/x\"\n[http]\nport = 1234\n[roles]\npostpartners = [\"A\"]\n",
        )
        .unwrap();
        let loaded = Config::load(
            Some(&file),
            &env(&[
                ("PMS_HTTP__PORT", "4321"),
                ("PMS_ROLES__POSTOIDCCLIENT", "AUTH_PARTNER, X"),
                ("PMS_NOPE__THING", "1"),
                ("PMS_DATA_DIR", "/y"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        let c = loaded.config;
        assert_eq!(c.http.port, 4321);
        assert_eq!(c.data_dir, PathBuf::from("/y"));
        assert_eq!(c.roles["postpartners"].0, vec!["A"]);
        assert_eq!(c.roles["postoidcclient"].0, vec!["AUTH_PARTNER", "X"]);
        assert_eq!(
            c.roles["getpolicies"].0,
            vec!["PARTNER_ADMIN", "POLICYMANAGER"]
        );
        assert_eq!(loaded.unknown_env, vec!["PMS_NOPE__THING".to_string()]);
    }

    #[test]
    fn allowed_origins_default_to_none_and_read_as_a_list() {
        let c = Config::load(None, &[]).unwrap().config;
        assert!(c.http.allowed_origins.0.is_empty());
        let loaded = Config::load(
            None,
            &env(&[(
                "PMS_HTTP__ALLOWED_ORIGINS",
                "https://pmp.example.org, http://10.0.0.5:8080",
            )]),
        )
        .unwrap();
        assert!(loaded.unknown_env.is_empty());
        assert_eq!(
            loaded.config.http.allowed_origins.0,
            vec!["https://pmp.example.org", "http://10.0.0.5:8080"]
        );
    }

    #[test]
    fn bad_configs_are_one_line_errors() {
        for (vars, needle) in [
            (env(&[("PMS_AUTH__MODE", "jwks")]), "auth.issuer"),
            (
                env(&[("PMS_AUTH__MODE", "jwks"), ("PMS_AUTH__ISSUER", "x")]),
                "auth.jwks_uri",
            ),
            (env(&[("PMS_DATABASE__URL", "mysql://x")]), "unknown scheme"),
            (env(&[("PMS_HTTP__PORT", "notaport")]), "port"),
            (env(&[("PMS_AUTH__ALLOWED_ALGS", "HS256")]), "HS256"),
            (env(&[("PMS_AUTH__MODE", "sideways")]), "mode"),
            (
                env(&[("PMS_ESIGNET__BASE_URL", "http://esignet")]),
                "service_token.token_url",
            ),
            (env(&[("PMS_WEBSUB__HUB_URL", "hub")]), "websub.hub_url"),
            (
                env(&[("PMS_DELIVERY__LEASE_SECONDS", "30")]),
                "delivery.lease_seconds",
            ),
            (env(&[("PMS_SERVICE_TOKEN__MODE", "password")]), "mode"),
            (
                env(&[("PMS_PORTAL__TOKEN_ENDPOINT", "ftp://kc/token")]),
                "portal.token_endpoint",
            ),
            (
                env(&[("PMS_PORTAL__DEV_TOKEN_TTL_SECONDS", "0")]),
                "portal.dev_token_ttl_seconds",
            ),
            (
                env(&[
                    ("PMS_AUTH__MODE", "jwks"),
                    ("PMS_AUTH__ISSUER", "https://kc.example/realms/mosip"),
                    ("PMS_AUTH__JWKS_URI", "https://kc.example/certs"),
                    ("PMS_PORTAL__OIDC_CLIENT_ID", "pms-portal"),
                ]),
                "portal.redirect_uri",
            ),
            (
                env(&[(
                    "PMS_HTTP__ALLOWED_ORIGINS",
                    "https://pmp.example.org,https://pmp.example.org/ui",
                )]),
                "http.allowed_origins",
            ),
            (
                env(&[("PMS_HTTP__ALLOWED_ORIGINS", "pmp.example.org")]),
                "http.allowed_origins",
            ),
        ] {
            let err = Config::load(None, &vars).unwrap_err();
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn dev_mode_is_refused_on_a_public_address_unless_allowed() {
        for host in ["0.0.0.0", "::", "192.0.2.7", "pms.example"] {
            let err = Config::load(None, &env(&[("PMS_HTTP__HOST", host)])).unwrap_err();
            assert!(
                err.contains("auth.allow_dev_mode_on_public_address"),
                "{err}"
            );
            assert!(err.contains(host), "{err}");
            assert!(!err.contains('\n'), "{err}");
            let allowed = Config::load(
                None,
                &env(&[
                    ("PMS_HTTP__HOST", host),
                    ("PMS_AUTH__ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS", "true"),
                ]),
            )
            .unwrap()
            .config;
            assert!(allowed.dev_mode_on_public_address());
        }
        for host in ["127.0.0.1", "127.1.2.3", "::1", "localhost"] {
            let c = Config::load(None, &env(&[("PMS_HTTP__HOST", host)]))
                .unwrap()
                .config;
            assert!(!c.dev_mode_on_public_address(), "{host}");
        }
        // jwks mode on a public address is what production does.
        let c = Config::load(
            None,
            &env(&[
                ("PMS_HTTP__HOST", "0.0.0.0"),
                ("PMS_AUTH__MODE", "jwks"),
                ("PMS_AUTH__ISSUER", "https://kc/realms/mosip"),
                ("PMS_AUTH__JWKS_URI", "https://kc/realms/mosip/certs"),
            ]),
        );
        assert!(c.is_ok());
    }

    #[test]
    fn blocked_redirect_schemes_default_and_override() {
        let c = Config::load(None, &[]).unwrap().config;
        assert_eq!(
            c.oidc_client.blocked_redirect_schemes.0,
            vec!["javascript", "vbscript", "data", "file", "blob", "about"]
        );
        let c = Config::load(
            None,
            &env(&[(
                "PMS_OIDC_CLIENT__BLOCKED_REDIRECT_SCHEMES",
                "javascript, x-internal",
            )]),
        )
        .unwrap()
        .config;
        assert_eq!(
            c.oidc_client.blocked_redirect_schemes.0,
            vec!["javascript", "x-internal"]
        );
        // an empty value blocks nothing
        let c = Config::load(
            None,
            &env(&[("PMS_OIDC_CLIENT__BLOCKED_REDIRECT_SCHEMES", "")]),
        )
        .unwrap()
        .config;
        assert!(c.oidc_client.blocked_redirect_schemes.0.is_empty());
        for value in ["javascript:", "java script", "1x"] {
            let err = Config::load(
                None,
                &env(&[("PMS_OIDC_CLIENT__BLOCKED_REDIRECT_SCHEMES", value)]),
            )
            .unwrap_err();
            assert!(
                err.starts_with("oidc_client.blocked_redirect_schemes: "),
                "{err}"
            );
            assert!(err.contains(value), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        // an empty entry can only come from a file
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pms.toml");
        std::fs::write(
            &file,
            "[oidc_client]\nblocked_redirect_schemes = [\"javascript\", \"\"]\n",
        )
        .unwrap();
        let err = Config::load(Some(&file), &[]).unwrap_err();
        assert_eq!(
            err,
            "oidc_client.blocked_redirect_schemes: an entry is empty"
        );
    }

    #[test]
    fn a_portal_sign_in_needs_its_redirect_uri_only_in_jwks_mode() {
        let jwks = [
            ("PMS_AUTH__MODE", "jwks"),
            ("PMS_AUTH__ISSUER", "https://kc.example/realms/mosip"),
            ("PMS_AUTH__JWKS_URI", "https://kc.example/certs"),
            ("PMS_PORTAL__OIDC_CLIENT_ID", "pms-portal"),
        ];
        let mut with_uri = jwks.to_vec();
        with_uri.push((
            "PMS_PORTAL__REDIRECT_URI",
            "https://pms.example/portal/callback",
        ));
        let c = Config::load(None, &env(&with_uri)).unwrap().config;
        assert_eq!(c.portal.redirect_uri, "https://pms.example/portal/callback");
        // no portal client, or dev mode (no OIDC sign-in): nothing to redirect to
        assert!(Config::load(None, &env(&jwks[..3])).is_ok());
        assert!(Config::load(None, &env(&[("PMS_PORTAL__OIDC_CLIENT_ID", "pms-portal")])).is_ok());
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        for (raw, shown) in [
            ("postgres://u:secret@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u@h:5432/db?sslmode=disable&password=secret",
                "postgres://u@h:5432/db?sslmode=disable&password=***",
            ),
            (
                "postgresql://u:secret@h/db?PASSWORD=secret&sslpassword=secret",
                "postgresql://u:***@h/db?PASSWORD=***&sslpassword=***",
            ),
            ("postgres://h/db", "postgres://h/db"),
            ("postgres://u:secret@[::1", "<unparsable URL>"),
        ] {
            assert_eq!(redact_url(raw), shown);
        }
        let mut c = Config::default();
        c.database.url = "postgres://u:secret-1@h/db?password=secret-2".into();
        c.service_token.client_secret = "secret-3".into();
        c.portal.csrf_secret = "secret-4".into();
        c.portal.oidc_client_secret = "secret-5".into();
        let text = format!("{c:?} {c:#?}");
        assert!(!text.contains("secret-"), "{text}");
        assert!(
            text.contains("postgres://u:***@h/db?password=***"),
            "{text}"
        );
        // Serialising (figment's defaults) writes no secret either.
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("secret-"), "{json}");
        let url = c.database_url().unwrap();
        assert!(matches!(url, DatabaseUrl::Postgres(_)));
        assert!(!format!("{url:?} {url}").contains("secret-"));
        assert_eq!(url.expose(), "postgres://u:secret-1@h/db?password=secret-2");
    }

    #[test]
    fn start_up_errors_never_show_a_password() {
        for vars in [
            env(&[("PMS_DATABASE__URL", "mysql://u:secret-6@h/db")]),
            env(&[("PMS_DATABASE__URL", "mysql://h/db?password=secret-6")]),
            env(&[("PMS_DATABASE__URL", "secret-6")]),
        ] {
            let err = Config::load(None, &vars).unwrap_err();
            assert!(err.contains("database.url"), "{err}");
            assert!(!err.contains("secret-6"), "{err}");
        }
        // Secrets from the environment arrive intact.
        let c = Config::load(
            None,
            &env(&[
                ("PMS_SERVICE_TOKEN__CLIENT_SECRET", "s3cret,with,commas"),
                ("PMS_PORTAL__CSRF_SECRET", "1.50"),
            ]),
        )
        .unwrap()
        .config;
        assert_eq!(c.service_token.client_secret.expose(), "s3cret,with,commas");
        assert_eq!(c.portal.csrf_secret.expose(), "1.50");
    }
}
