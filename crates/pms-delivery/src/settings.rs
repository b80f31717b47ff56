//! What the worker is told at start-up: the two targets, the service account, and the timing of
//! delivery (downstream.md §2, §3.1, §5.5). The binary maps its configuration onto these.

use secrecy::SecretString;

/// How the service token is obtained (downstream.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// OAuth 2.0 `client_credentials` grant (for example Keycloak): a form POST, the token is
    /// `access_token` of the JSON reply.
    ClientCredentials,
    /// MOSIP's auth manager `clientidsecretkey` endpoint: a JSON POST, the token is the
    /// `Authorization` cookie of the reply.
    MosipAuthManager,
}

/// pms's own service account, used for every call to eSignet and the hub.
#[derive(Debug, Clone)]
pub struct ServiceTokenSettings {
    pub mode: TokenMode,
    pub token_url: String,
    pub client_id: String,
    /// Exposed only to build the token request; `Debug` prints `[REDACTED]`.
    pub client_secret: SecretString,
    /// `mosip_authmanager` only (MOSIP: `partner`).
    pub app_id: String,
}

/// Targets and timing of the worker (downstream.md §5.5 lists the defaults, which
/// [`DeliverySettings::default`] also carries).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// `esignet.base_url`; `None` (or empty): eSignet is not a target.
    pub esignet_base_url: Option<String>,
    /// `websub.hub_url`; `None` (or empty): the hub is not a target.
    pub websub_hub_url: Option<String>,
    pub token: ServiceTokenSettings,
    /// The wait after the first failed attempt; doubles with every further failure.
    pub base_delay_seconds: u64,
    pub max_delay_seconds: u64,
    /// A row that failed this many attempts ends `FAILED`.
    pub max_attempts: u32,
    /// How long a taken row belongs to this worker. Processing one row is cut off well inside
    /// it, so that no second worker takes a row that is still being sent.
    pub lease_seconds: u64,
    /// Whole-call timeout of every HTTP call (connect: 5 s at most).
    pub http_timeout_seconds: u64,
    /// How often the outbox is polled when nobody wakes the worker.
    pub poll_interval_ms: u64,
    /// Rows in flight at once in this process.
    pub concurrency: u32,
    /// Delivered and superseded rows older than this are deleted; 0 keeps them for ever.
    pub retention_days: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            esignet_base_url: None,
            websub_hub_url: None,
            token: ServiceTokenSettings {
                mode: TokenMode::ClientCredentials,
                token_url: String::new(),
                client_id: String::new(),
                client_secret: SecretString::default(),
                app_id: "partner".into(),
            },
            base_delay_seconds: 2,
            max_delay_seconds: 600,
            max_attempts: 50,
            lease_seconds: 120,
            http_timeout_seconds: 30,
            poll_interval_ms: 1000,
            concurrency: 4,
            retention_days: 30,
        }
    }
}

/// A configured URL, or `None` for an absent or blank one.
pub(crate) fn configured(url: &Option<String>) -> Option<&str> {
    url.as_deref().map(str::trim).filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let mut s = DeliverySettings::default();
        s.token.client_secret = "very-secret-value".into();
        let text = format!("{s:?}");
        assert!(!text.contains("very-secret-value"), "{text}");
        assert!(text.contains("REDACTED"));
    }

    #[test]
    fn blank_urls_are_not_configured() {
        assert_eq!(configured(&None), None);
        assert_eq!(configured(&Some("  ".into())), None);
        assert_eq!(configured(&Some("http://h/".into())), Some("http://h/"));
    }
}
