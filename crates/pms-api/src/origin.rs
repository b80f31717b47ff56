//! Where a cookie-authenticated write came from.
//!
//! A browser attaches the `Authorization` cookie (MOSIP's UIs authenticate with it) to any request to pms,
//! including one a foreign page makes it send: a `<form method=post>` needs no script and no
//! CORS approval, and an endpoint without a body (publish, redeliver) has no content type to
//! stop it. So a state-changing request authenticated by the cookie must name its origin, in
//! `Origin` or, without one, `Referer`, and that origin must be allowed
//! ([`crate::auth::Caller`] asks [`write_allowed`]). A request with the token in the
//! `Authorization` header needs no such check: a foreign page cannot set that header without a
//! CORS preflight, which pms never approves.
//!
//! Allowed are the origins of `http.allowed_origins`, or, when that list is empty, the request's
//! own origin: the scheme and the `Host` header. pms itself serves plain HTTP; behind a TLS
//! terminator the scheme is the one `X-Forwarded-Proto` names (only `http` or `https`). Trusting
//! that header cannot let a foreign site in: it only picks the scheme of pms's own host, and a
//! foreign page cannot set it either. A proxy that rewrites `Host` makes the own origin wrong and
//! every cookie write refused; docs/operations.md tells operators to list their origins then.

use axum::http::{header, HeaderMap, Method};

/// The ASCII serialisation of the origin of `url` (`scheme://host[:port]`, lower case, default
/// port left out), or `None` when `url` has no such origin (`null`, `data:`, not a URL).
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// An entry of `http.allowed_origins` in the form [`write_allowed`] compares: the one-line
/// reason when it is not `http(s)://host[:port]` without a path, query, fragment or user.
pub fn parse_allowed(entry: &str) -> Result<String, String> {
    let bad = || {
        format!("{entry:?} is not an origin: write scheme://host[:port] (http or https, no path)")
    };
    let rest = entry
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(bad)?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad());
    }
    origin_of(entry).ok_or_else(bad)
}

/// Whether `method` changes state (everything but reads).
pub fn changes_state(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The request's own origin: `X-Forwarded-Proto` (else `http`) and the `Host` header.
fn own_origin(headers: &HeaderMap) -> Option<String> {
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
    {
        Some(s) if s.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let host = headers.get(header::HOST)?.to_str().ok()?;
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    origin_of(&format!("{scheme}://{host}"))
}

/// The origin a request declares: its one `Origin` header, else the origin of its one `Referer`.
/// `Origin: null` (a sandboxed or privacy-sensitive context) declares none.
fn declared_origin(headers: &HeaderMap) -> Option<String> {
    let only = |name: header::HeaderName| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v.to_str().ok()),
            (None, _) => None,
            // Two values: neither can be trusted to be the browser's.
            (Some(_), Some(_)) => Some(None),
        }
    };
    match only(header::ORIGIN) {
        Some(origin) => origin.and_then(origin_of),
        None => only(header::REFERER).flatten().and_then(origin_of),
    }
}

/// Whether a cookie-authenticated write with these headers may go on: its declared origin is in
/// `allowed` (normalised by [`parse_allowed`]) or, when `allowed` is empty, is its own.
pub fn write_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(declared) = declared_origin(headers) else {
        return false;
    };
    if allowed.is_empty() {
        own_origin(headers).is_some_and(|own| own == declared)
    } else {
        allowed.contains(&declared)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn allowed_entries_are_bare_origins() {
        assert_eq!(
            parse_allowed("HTTPS://PMP.Example.org:443").unwrap(),
            "https://pmp.example.org"
        );
        assert_eq!(
            parse_allowed("http://10.0.0.5:8080").unwrap(),
            "http://10.0.0.5:8080"
        );
        assert_eq!(
            parse_allowed("http://[::1]:9109").unwrap(),
            "http://[::1]:9109"
        );
        for bad in [
            "https://pmp.example.org/",
            "https://pmp.example.org/ui",
            "https://pmp.example.org?x",
            "https://u@pmp.example.org",
            "pmp.example.org",
            "ftp://pmp.example.org",
            "https://",
            "null",
            "*",
            "",
        ] {
            let e = parse_allowed(bad).unwrap_err();
            assert!(
                e.contains("scheme://host[:port]") && !e.contains('\n'),
                "{e}"
            );
        }
    }

    #[test]
    fn the_own_origin_is_the_host_with_the_forwarded_scheme() {
        let own = |extra: &[(&'static str, &str)], origin: &str| {
            let mut h = headers(&[("host", "pms.example.org"), ("origin", origin)]);
            for (k, v) in extra {
                h.append(*k, v.parse().unwrap());
            }
            write_allowed(&h, &[])
        };
        assert!(own(&[], "http://pms.example.org"));
        assert!(own(&[], "http://PMS.example.org:80"));
        assert!(!own(&[], "https://pms.example.org"));
        assert!(own(
            &[("x-forwarded-proto", "https")],
            "https://pms.example.org"
        ));
        assert!(own(
            &[("x-forwarded-proto", "HTTPS, http")],
            "https://pms.example.org"
        ));
        assert!(!own(
            &[("x-forwarded-proto", "https")],
            "http://pms.example.org"
        ));
        assert!(!own(&[], "http://pms.example.org.evil.example"));
        assert!(!own(&[], "http://pms.example.org:8080"));
    }

    #[test]
    fn the_referer_counts_only_without_an_origin() {
        let allowed = vec!["https://pmp.example.org".to_string()];
        let ok = |pairs: &[(&'static str, &str)]| write_allowed(&headers(pairs), &allowed);
        assert!(ok(&[("origin", "https://pmp.example.org")]));
        assert!(ok(&[("referer", "https://pmp.example.org/a/b?c#d")]));
        assert!(!ok(&[
            ("origin", "https://evil.example"),
            ("referer", "https://pmp.example.org/")
        ]));
        assert!(!ok(&[
            ("origin", "null"),
            ("referer", "https://pmp.example.org/")
        ]));
        assert!(!ok(&[
            ("origin", "https://pmp.example.org"),
            ("origin", "https://evil.example")
        ]));
        assert!(!ok(&[(
            "referer",
            "https://evil.example/https://pmp.example.org"
        )]));
        assert!(!ok(&[]));
        // with a list, the own origin is not implied
        assert!(!ok(&[
            ("host", "pms.internal"),
            ("origin", "http://pms.internal")
        ]));
    }
}
