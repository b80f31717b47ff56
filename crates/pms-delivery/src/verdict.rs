//! What one delivery attempt of a row came to, and the pieces every downstream call shares: the
//! two token headers and the short `last_error` texts of transport failures.

use crate::metrics::FailureReason;
use reqwest::header::{HeaderValue, COOKIE};
use reqwest::RequestBuilder;

/// A failed attempt: the row's `last_error` and the metrics reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub error: String,
    pub reason: FailureReason,
}

impl Failure {
    pub fn new(error: impl Into<String>, reason: FailureReason) -> Self {
        Self {
            error: error.into(),
            reason,
        }
    }

    /// `HTTP <status>`.
    pub fn status(status: reqwest::StatusCode, reason: FailureReason) -> Self {
        Self::new(format!("HTTP {}", status.as_u16()), reason)
    }

    /// A transport failure: `timeout` or `connection failed`.
    pub fn transport(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::new("timeout", FailureReason::Timeout)
        } else {
            Self::new("connection failed", FailureReason::Connection)
        }
    }
}

/// The outcome of one attempt (downstream.md §5.4 step 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Success,
    Retry(Failure),
    GiveUp(Failure),
    /// The target is not configured here: put the row back as it was, due later.
    Defer(Failure),
}

/// Adds `Authorization: Bearer <t>` and `Cookie: Authorization=<t>` (downstream.md §2), both
/// marked sensitive so that no debug output of the request shows them.
pub(crate) fn with_token(req: RequestBuilder, token: &str) -> Result<RequestBuilder, Failure> {
    let mut cookie = HeaderValue::from_str(&format!("Authorization={token}"))
        .map_err(|_| Failure::new("service token: unusable characters", FailureReason::Token))?;
    cookie.set_sensitive(true);
    Ok(req.bearer_auth(token).header(COOKIE, cookie))
}

/// At most `max` characters of a text that came from outside (error codes, reply bodies).
pub(crate) fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
