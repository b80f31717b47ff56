//! The `pms` service as a library: configuration, wiring and the HTTP server, so that `main`
//! only parses the command line and tests can start the real application on port 0.
#![forbid(unsafe_code)]

pub mod config;
pub mod copy;
pub mod server;

use anyhow::Context;
use config::{AuthMode, Config, DatabaseUrl};
use pms_api::auth::DevIssuer;
use pms_api::auth::{AuthSettings, Authenticator};
use pms_api::client_input::ClientFieldRules;
/// PEM → JWK lives in `pms-api` (the portal converts uploaded PEM files with it too).
pub use pms_api::jwk;
use pms_api::portal::{OidcSettings, PortalSettings};
use pms_api::{ApiSettings, AppState, Services};
use pms_delivery::{DeliveryMetrics, DeliverySettings, ServiceTokenSettings, TokenMode, Worker};
use pms_domain::claims::{ClaimsMapping, DEFAULT_AMR_ACR_MAPPING, DEFAULT_IDENTITY_MAPPING};
use pms_domain::client_fields::BlockedSchemes;
use pms_domain::client_key::KeyPolicy;
use pms_domain::ops::clients::ClientRules;
use pms_domain::ops::Rules;
use pms_domain::policy_doc::{PolicyDocValidator, DEFAULT_SCHEMA};
use pms_domain::{Clock, Store, SystemClock};
use pms_store_postgres::{PgSettings, PgStore};
use pms_store_sqlite::{SqliteSettings, SqliteStore};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

/// Opens the store `database.url` selects and applies its migrations. An unreachable database
/// fails within `database.connect_timeout_secs` with a one-line reason.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url().map_err(anyhow::Error::msg)?;
    let connect_timeout = Duration::from_secs(config.database.connect_timeout_secs);
    let store: Arc<dyn Store> = match &url {
        DatabaseUrl::Sqlite(u) => Arc::new(
            SqliteStore::connect(&SqliteSettings {
                url: u.expose().to_string(),
                max_connections: config.database.max_connections,
                connect_timeout,
            })
            .await
            .with_context(|| format!("cannot open the database {url}"))?,
        ),
        DatabaseUrl::Postgres(u) => Arc::new(
            PgStore::connect(&PgSettings {
                url: u.expose().to_string(),
                max_connections: config.database.max_connections,
                connect_timeout,
            })
            .await
            .with_context(|| format!("cannot connect to the database {url}"))?,
        ),
    };
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

fn algorithms(names: &[String]) -> anyhow::Result<Vec<jsonwebtoken_alg::Algorithm>> {
    names
        .iter()
        .map(|n| {
            n.parse::<jsonwebtoken_alg::Algorithm>()
                .map_err(|_| anyhow::anyhow!("auth.allowed_algs: unknown algorithm {n}"))
        })
        .collect()
}

/// Re-export path for the JWT algorithm type (keeps `jsonwebtoken` an implementation detail of
/// `pms-api`).
mod jsonwebtoken_alg {
    pub use pms_api::auth::Algorithm;
}

fn policy_validator(config: &Config) -> anyhow::Result<PolicyDocValidator> {
    let file = &config.policy.auth_policy_schema_file;
    let text = if file.is_empty() {
        DEFAULT_SCHEMA.to_string()
    } else {
        std::fs::read_to_string(file)
            .with_context(|| format!("policy.auth_policy_schema_file: cannot read {file}"))?
    };
    let schema: serde_json::Value =
        serde_json::from_str(&text).context("policy.auth_policy_schema_file: not valid JSON")?;
    PolicyDocValidator::new(&schema, config.policy.allowed_auth_types.0.clone())
        .context("policy.auth_policy_schema_file")
}

/// The claims / ACR mapping data, read once at start-up (claims-and-acr.md §1).
fn claims_mapping(config: &Config) -> anyhow::Result<ClaimsMapping> {
    let read = |key: &str, file: &str, default: &str| -> anyhow::Result<String> {
        if file.is_empty() {
            Ok(default.to_string())
        } else {
            std::fs::read_to_string(file).with_context(|| format!("{key}: cannot read {file}"))
        }
    };
    let c = &config.claims;
    let identity = read(
        "claims.identity_mapping_file",
        &c.identity_mapping_file,
        DEFAULT_IDENTITY_MAPPING,
    )?;
    let amr_acr = read(
        "claims.amr_acr_mapping_file",
        &c.amr_acr_mapping_file,
        DEFAULT_AMR_ACR_MAPPING,
    )?;
    let files = format!(
        "claims mapping ({}, {})",
        or_embedded(&c.identity_mapping_file),
        or_embedded(&c.amr_acr_mapping_file)
    );
    let (mapping, warnings) = ClaimsMapping::new(c.claims_supported.0.clone(), &identity, &amr_acr)
        .with_context(|| files.clone())?;
    for w in warnings {
        tracing::warn!("{files}: {w}");
    }
    Ok(mapping)
}

fn or_embedded(file: &str) -> &str {
    if file.is_empty() {
        "embedded"
    } else {
        file
    }
}

/// The worker's settings from `esignet.*`, `websub.*`, `service_token.*` and `delivery.*`.
fn delivery_settings(config: &Config) -> DeliverySettings {
    let url = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let t = &config.service_token;
    let d = &config.delivery;
    DeliverySettings {
        esignet_base_url: url(&config.esignet.base_url),
        websub_hub_url: url(&config.websub.hub_url),
        token: ServiceTokenSettings {
            mode: match t.mode {
                config::TokenMode::ClientCredentials => TokenMode::ClientCredentials,
                config::TokenMode::MosipAuthmanager => TokenMode::MosipAuthManager,
            },
            token_url: t.token_url.clone(),
            client_id: t.client_id.clone(),
            client_secret: t.client_secret.expose().into(),
            app_id: t.app_id.clone(),
        },
        base_delay_seconds: d.base_delay_seconds,
        max_delay_seconds: d.max_delay_seconds,
        max_attempts: d.max_attempts,
        lease_seconds: d.lease_seconds,
        http_timeout_seconds: d.http_timeout_seconds,
        poll_interval_ms: d.poll_interval_ms,
        concurrency: d.concurrency,
        retention_days: d.retention_days,
    }
}

/// The portal's settings from `portal.*` and `auth.*`; `None` when `portal.enabled = false`.
fn portal_settings(config: &Config) -> anyhow::Result<Option<PortalSettings>> {
    let c = &config.portal;
    if !c.enabled {
        return Ok(None);
    }
    let dev_issuer = match config.auth.mode {
        AuthMode::Dev => Some(DevIssuer::load_or_create(&config.data_dir)?),
        AuthMode::Jwks => None,
    };
    let oidc = (config.auth.mode == AuthMode::Jwks && !c.oidc_client_id.is_empty()).then(|| {
        OidcSettings {
            issuer: config.auth.issuer.clone(),
            client_id: c.oidc_client_id.clone(),
            client_secret: c.oidc_client_secret.expose().into(),
            authorization_endpoint: c.authorization_endpoint.clone(),
            token_endpoint: c.token_endpoint.clone(),
            redirect_uri: c.redirect_uri.clone(),
            scopes: c.scopes.clone(),
        }
    });
    Ok(Some(PortalSettings {
        cookie_secure: c.cookie_secure,
        csrf_secret: if c.csrf_secret.is_empty() {
            pms_api::portal::random_secret()
        } else {
            c.csrf_secret.expose().as_bytes().to_vec().into()
        },
        dev_issuer,
        dev_token_ttl: Duration::from_secs(c.dev_token_ttl_seconds),
        oidc,
        public_dev_mode: config.dev_mode_on_public_address(),
    }))
}

/// A built application: store open and migrated, listener bound.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    store: Arc<dyn Store>,
    worker: Option<Worker>,
    portal: Option<PortalSettings>,
    limits: server::Limits,
    clock: Arc<dyn Clock>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`] with an injected clock (tests pin time with it).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let auth_settings = AuthSettings {
            issuer: config.auth.issuer.clone(),
            allowed_algs: algorithms(&config.auth.allowed_algs.0)?,
            leeway_seconds: config.auth.leeway_seconds,
            allowed_audiences: config.auth.allowed_audiences.0.clone(),
            admin_roles: config.auth.admin_roles.0.clone(),
            partner_read_all_roles: config.auth.partner_read_all_roles.0.clone(),
        };
        if config.dev_mode_on_public_address() {
            tracing::warn!(
                host = %config.http.host,
                "DANGER: auth.mode = dev on a non-loopback address \
                 (auth.allow_dev_mode_on_public_address = true): anyone who can reach pms can \
                 mint admin tokens at /portal/dev-sign-in; never keep real data here"
            );
        }
        let auth = match config.auth.mode {
            AuthMode::Dev => {
                tracing::warn!(
                    "auth.mode = dev: tokens come from the embedded dev issuer (`pms token`); \
                     never use this mode in production"
                );
                Authenticator::dev(&config.data_dir, auth_settings, clock.clone())?
            }
            AuthMode::Jwks => Authenticator::jwks(
                config.auth.jwks_uri.clone(),
                auth_settings,
                clock.clone(),
                Duration::from_secs(10),
            )?,
        };
        let rules = Rules {
            allowed_policy_types: config.policy.allowed_policy_types.0.clone(),
            schema_url: config.policy.schema_url.clone(),
            validity_years: config.policy.validity_years,
            supported_languages: config.partner.supported_languages.0.clone(),
            email_regex: regex::Regex::new(&config.partner.email_regex)
                .context("partner.email_regex")?,
        };
        let settings = ApiSettings {
            oidc_enabled: config.oidc_client.enabled,
            client_fields: ClientFieldRules {
                grant_types: config.oidc_client.grant_types.0.clone(),
                client_auth_methods: config.oidc_client.client_auth_methods.0.clone(),
                language_codes: config
                    .oidc_client
                    .language_codes
                    .0
                    .iter()
                    .cloned()
                    .collect(),
                blocked_redirect_schemes: BlockedSchemes::parse(
                    &config.oidc_client.blocked_redirect_schemes.0,
                )
                .context("oidc_client.blocked_redirect_schemes")?,
            },
            max_body_bytes: config.http.max_body_bytes,
            allowed_origins: config
                .http
                .allowed_origins
                .0
                .iter()
                .map(|o| pms_api::origin::parse_allowed(o).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<_>>()
                .context("http.allowed_origins")?,
            max_clock_skew_seconds: config.request.max_clock_skew_seconds,
            max_page_size: config.list.max_page_size,
            roles: config
                .roles
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
        };
        let mut delivery_metrics = None;
        let metrics = Arc::new(pms_api::metrics::Metrics::new(|registry| {
            delivery_metrics = Some(DeliveryMetrics::register(registry));
        }));
        let outbox = config.outbox_targets();
        let worker = match (outbox.esignet || outbox.websub, delivery_metrics) {
            (true, Some(m)) => Some(
                Worker::new(store.clone(), clock.clone(), delivery_settings(&config), m)
                    .context("delivery worker")?,
            ),
            _ => None,
        };
        let after_commit: Arc<dyn Fn() + Send + Sync> = match &worker {
            Some(w) => {
                let notify = w.notifier();
                Arc::new(move || notify.notify_one())
            }
            None => Arc::new(|| {}),
        };
        let state = AppState::new(Services {
            store: store.clone(),
            clock: clock.clone(),
            auth,
            settings,
            rules,
            policy_validator: policy_validator(&config)?,
            client_rules: ClientRules {
                key_policy: KeyPolicy {
                    rsa_min_bits: config.oidc_client.rsa_min_bits,
                    rsa_max_bits: config.oidc_client.rsa_max_bits,
                },
                claims: claims_mapping(&config)?,
            },
            outbox,
            after_commit,
            metrics,
        });
        let portal = portal_settings(&config)?;
        let addr = format!("{}:{}", config.http.host, config.http.port);
        let listener = TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let h = &config.http;
        let limits = server::Limits {
            header_read_timeout: Duration::from_secs(h.header_read_timeout_seconds),
            idle_timeout: Duration::from_secs(h.idle_timeout_seconds),
            request_timeout: Duration::from_secs(h.request_timeout_seconds),
            max_connections: usize::try_from(h.max_connections).unwrap_or(usize::MAX),
        };
        Ok(Self {
            listener,
            state,
            store,
            worker,
            portal,
            limits,
            clock,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves (and delivers the outbox, when a target is configured) until `shutdown`
    /// resolves, then lets in-flight requests and deliveries finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, mut stopped) = tokio::sync::watch::channel(());
        let worker = self.worker.map(|w| {
            tokio::spawn(w.run(async move {
                let _ = stopped.changed().await;
            }))
        });
        let mut router = pms_api::router(self.state.clone());
        if let Some(portal) = self.portal {
            router = router
                .merge(pms_api::portal::router(self.state, portal).map_err(anyhow::Error::msg)?);
        }
        let app = NormalizePathLayer::trim_trailing_slash().layer(router);
        server::serve(self.listener, app, self.limits, self.clock, async move {
            shutdown.await;
            let _ = stop.send(());
        })
        .await;
        if let Some(w) = worker {
            if let Err(e) = w.await {
                tracing::error!(error = %e, "delivery worker ended abnormally");
            }
        }
        self.store.close().await;
        Ok(())
    }
}
