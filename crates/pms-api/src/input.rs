//! Stages 5–9 of request processing (conventions.md §2): body size, content type, JSON syntax,
//! query parameters, then envelope and field validation with every failure reported; and the
//! path parameters, whose failures also wait until the caller is authenticated and its role
//! checked ([`PathArgs`]).
//!
//! Handlers never use axum's `Path`, `Query`, `Json` or `Form` extractors: those refuse input
//! before the handler runs, in plain text and ahead of authentication. Here input is taken as it
//! came and read inside the handler, after `Caller::require`, failing with an [`ApiError`].

use crate::wire::{ApiError, Echo, ErrorEntry};
use crate::AppState;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use pms_domain::clock::parse_ts;
use pms_domain::list::{PageReq, Sort, SortDir};
use pms_domain::name::Name;
use serde_json::{Map, Value};

/// Reads the body of `req` as one JSON object (stages 5–7) and records its `id`/`version` in
/// `echo`.
pub async fn read_json(
    st: &AppState,
    req: Request,
    echo: &mut Echo,
) -> Result<Map<String, Value>, ApiError> {
    let limit = st.settings.max_body_bytes;
    let too_large = || {
        ApiError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PMS_EXT_001",
            format!("Request body exceeds the size limit of {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let content_type_ok = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    // Reading first keeps the stage order: an oversized body is 413 whatever its type.
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large())?;
    if !content_type_ok {
        return Err(ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "PMS_EXT_002",
            "Content-Type must be application/json",
        ));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if has_nul(&v) => Err(ApiError::nul_character("body")),
        Ok(Value::Object(map)) => {
            if let crate::wire::Kind::V1 = echo.kind {
                echo.id = map
                    .get("id")
                    .filter(|v| v.is_string())
                    .cloned()
                    .unwrap_or(Value::Null);
                echo.version = map
                    .get("version")
                    .filter(|v| v.is_string())
                    .cloned()
                    .unwrap_or(Value::Null);
            }
            Ok(map)
        }
        _ => Err(ApiError::malformed_json()),
    }
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Where a request's path or query encodes a NUL character (`%00`), if it does: the portal
/// refuses such a request before any page sees it (`portal::session`), since such text can never
/// match stored data, and PostgreSQL cannot even compare it. The API refuses it where it reads
/// the path or query ([`PathArgs`], [`Params::parse`]), after the role check.
pub fn nul_in(uri: &axum::http::Uri) -> Option<&'static str> {
    // Found by its `%` (a word-at-a-time search) rather than by comparing every three bytes:
    // this runs on every request.
    let has = |s: &str| {
        s.match_indices('%')
            .any(|(i, _)| s.as_bytes().get(i + 1..i + 3) == Some(b"00".as_slice()))
    };
    if has(uri.path()) {
        Some("path")
    } else if uri.query().is_some_and(has) {
        Some("query")
    } else {
        None
    }
}

/// The reason for a name with an invisible format (Cf) or control (Cc) character
/// ([`pms_domain::name`]): a pms rule, so a pms text, under the field-validation code `PMS_COR_001`
/// like every other field rule.
pub const HIDDEN_CHARACTERS: &str = "must not contain invisible or control characters";

/// Rules of one string field: the reason texts of its failures, as the endpoint's table gives.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub null: &'static str,
    pub blank: &'static str,
    pub max: usize,
    pub len: &'static str,
}

impl Text {
    /// MOSIP's policy-manager / partner style: one text for missing, null and blank.
    pub const fn mosip(max: usize, len: &'static str) -> Self {
        Self {
            null: "value is empty or null",
            blank: "value is empty or null",
            max,
            len,
        }
    }
}

/// Collects envelope and field failures (stage 9), in the order they are checked.
pub struct Fields<'a> {
    request: Option<&'a Map<String, Value>>,
    errors: Vec<ErrorEntry>,
}

fn field_error(reason: &str, path: &str) -> ErrorEntry {
    ErrorEntry::new(
        "PMS_COR_001",
        format!("Invalid request parameter - {reason} :{path}"),
    )
}

fn check_time(st: &AppState, value: Option<&Value>, errors: &mut Vec<ErrorEntry>) {
    match value.and_then(Value::as_str).and_then(parse_ts) {
        None => errors.push(ErrorEntry::new(
            "PMS_REQUEST_ERROR_004",
            "Invalid request time",
        )),
        Some(t) => {
            let skew = st.settings.max_clock_skew_seconds;
            if skew > 0 {
                let diff = (t - st.clock.now()).num_milliseconds().unsigned_abs();
                if diff > skew.saturating_mul(1000) {
                    errors.push(ErrorEntry::new(
                        "PMS_REQUEST_ERROR_006",
                        "Request time is outside the allowed clock skew",
                    ));
                }
            }
        }
    }
}

impl<'a> Fields<'a> {
    /// The v1 envelope: `requesttime` (or `requestTime`), then `request`.
    pub fn v1(st: &AppState, body: &'a Map<String, Value>) -> Self {
        let mut errors = Vec::new();
        check_time(
            st,
            body.get("requesttime").or_else(|| body.get("requestTime")),
            &mut errors,
        );
        let request = match body.get("request") {
            None | Some(Value::Null) => {
                errors.push(field_error("must not be null", "request"));
                None
            }
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                errors.push(field_error("invalid type, expected object", "request"));
                None
            }
        };
        Self { request, errors }
    }

    /// The V2 envelope of the two deactivate endpoints: `id`, `requestTime`, `version`, `request`.
    pub fn v2(st: &AppState, body: &'a Map<String, Value>, fixed_id: &str) -> Self {
        let mut errors = Vec::new();
        if body.get("id").and_then(Value::as_str) != Some(fixed_id) {
            errors.push(ErrorEntry::new(
                "PMS_REQUEST_ERROR_002",
                "Invalid Request Id",
            ));
        }
        check_time(
            st,
            body.get("requestTime").or_else(|| body.get("requesttime")),
            &mut errors,
        );
        if !body
            .get("version")
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case("1.0"))
        {
            errors.push(ErrorEntry::new(
                "PMS_REQUEST_ERROR_003",
                "Request version is invalid",
            ));
        }
        let request = match body.get("request") {
            Some(Value::Object(m)) => Some(m),
            _ => {
                errors.push(ErrorEntry::new(
                    "PMS_REQUEST_ERROR_005",
                    "Request body is invalid",
                ));
                None
            }
        };
        Self { request, errors }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.request.and_then(|r| r.get(name))
    }

    /// Records a failure with a code of its own (for example `PMS_PM_058`).
    pub fn push(&mut self, code: &str, message: &str) {
        self.errors.push(ErrorEntry::new(code, message));
    }

    pub fn reject(&mut self, reason: &str, name: &str) {
        self.errors
            .push(field_error(reason, &format!("request.{name}")));
    }

    /// Whether the `request` object itself was usable (its fields are checked only then).
    pub fn has_request(&self) -> bool {
        self.request.is_some()
    }

    /// A required string; `""` when it failed (the caller returns before using it).
    pub fn text(&mut self, name: &str, rule: Text) -> String {
        if !self.has_request() {
            return String::new();
        }
        match self.get(name) {
            None | Some(Value::Null) => self.reject(rule.null, name),
            Some(Value::String(s)) if s.trim().is_empty() => self.reject(rule.blank, name),
            Some(Value::String(s)) if s.chars().count() > rule.max => self.reject(rule.len, name),
            Some(Value::String(s)) => return s.clone(),
            Some(_) => self.reject("invalid type, expected string", name),
        }
        String::new()
    }

    /// A required name ([`pms_domain::name`]): its string rules checked on the normalised form
    /// (not blank, then no hidden character, then the length); the empty name when it failed
    /// (the caller returns before using it).
    pub fn name(&mut self, field: &str, rule: Text) -> Name {
        if !self.has_request() {
            return Name::default();
        }
        match self.get(field) {
            None | Some(Value::Null) => self.reject(rule.null, field),
            Some(Value::String(s)) => match Name::parse(s) {
                Ok(n) if n.is_empty() => self.reject(rule.blank, field),
                Ok(n) if n.chars() > rule.max => self.reject(rule.len, field),
                Ok(n) => return n,
                Err(_) => self.reject(HIDDEN_CHARACTERS, field),
            },
            Some(_) => self.reject("invalid type, expected string", field),
        }
        Name::default()
    }

    /// An optional string: `None` when absent or null.
    pub fn opt_text(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.reject("invalid type, expected string", name);
                None
            }
        }
    }

    /// The raw value of a member, for checks with their own codes.
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.get(name)
    }

    pub fn boolean(&mut self, name: &str) -> bool {
        if !self.has_request() {
            return false;
        }
        match self.get(name) {
            None | Some(Value::Null) => self.reject("must not be null", name),
            Some(Value::Bool(b)) => return *b,
            Some(_) => self.reject("invalid type, expected boolean", name),
        }
        false
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Failures recorded so far; a reader compares before and after to know whether its own
    /// field already failed.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Ends stage 9: every failure so far, or nothing.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::ok_status(self.errors))
        }
    }
}

/// The path parameters of a request in route order, percent-decoded, or why
/// they cannot be used. Extracting never fails: the failure is the handler's to return, after
/// the role check, so a stranger gets 401 or 403 whatever the path holds.
pub struct PathArgs(Result<Vec<String>, ApiError>);

impl<S: Send + Sync> FromRequestParts<S> for PathArgs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::RawPathParamsRejection as R;
        let args = match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) => {
                let args: Vec<String> = raw.iter().map(|(_, v)| v.to_string()).collect();
                // No backend can store or even compare a NUL character (PostgreSQL refuses it).
                if args.iter().any(|a| a.contains('\0')) {
                    Err(ApiError::nul_character("path"))
                } else {
                    Ok(args)
                }
            }
            Err(R::InvalidUtf8InPathParam(_)) => Err(ApiError::invalid_utf8("path")),
            Err(e) => Err(ApiError::internal(format!("path parameters: {e}"))),
        };
        Ok(PathArgs(args))
    }
}

impl PathArgs {
    /// The one parameter of a route like `/policies/{id}`.
    pub fn one(self) -> Result<String, ApiError> {
        let mut args = self.0?.into_iter();
        match (args.next(), args.next()) {
            (Some(a), None) => Ok(a),
            _ => Err(ApiError::internal(
                "route has not exactly one path parameter",
            )),
        }
    }

    /// The two parameters of a route like `/policies/{id}/group/{group}`.
    pub fn two(self) -> Result<(String, String), ApiError> {
        let mut args = self.0?.into_iter();
        match (args.next(), args.next(), args.next()) {
            (Some(a), Some(b), None) => Ok((a, b)),
            _ => Err(ApiError::internal(
                "route has not exactly two path parameters",
            )),
        }
    }
}

/// Query parameters of a list request, in the order they came.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The parameters of the raw query string (axum's `RawQuery`, which never refuses).
    /// Percent-encoded bytes that are not UTF-8 become U+FFFD, so a bad `pageNo` is the list
    /// check's own failure; a NUL character is refused.
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = match query {
            None => Vec::new(),
            Some(q) => serde_urlencoded::from_str(q).map_err(|_| ApiError::invalid_query())?,
        };
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::nul_character("query"));
        }
        Ok(Self(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A text filter, lower-cased for "contains, ignoring case"; empty means no filter.
    pub fn contains(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(str::to_lowercase)
    }
}

fn sort_dir(s: &str) -> Option<SortDir> {
    if s.eq_ignore_ascii_case("asc") {
        Some(SortDir::Asc)
    } else if s.eq_ignore_ascii_case("desc") {
        Some(SortDir::Desc)
    } else {
        None
    }
}

fn page_no(s: &str) -> Result<u32, ApiError> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| ApiError::one("PMS_PRT_360", "Invalid Page No"))
}

fn page_size(s: &str, max: u32) -> Result<u32, ApiError> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::one("PMS_PRT_361", "Invalid page size")),
    }
}

fn sort_of<F>(field: &str, dir: &str, parse: fn(&str) -> Option<F>) -> Result<Sort<F>, ApiError> {
    let field = parse(field)
        .ok_or_else(|| ApiError::one("PMS_PRT_357", format!("Invalid sort field {field}")))?;
    let dir = sort_dir(dir)
        .ok_or_else(|| ApiError::one("PMS_PRT_358", format!("Sort type {dir} is not supported")))?;
    Ok(Sort { field, dir })
}

/// The shared paging and sorting checks of conventions.md §9, in order.
pub fn list_params<F>(
    p: &Params,
    max_page_size: u32,
    parse: fn(&str) -> Option<F>,
) -> Result<(Option<Sort<F>>, Option<PageReq>), ApiError> {
    let (field, dir) = (p.get("sortFieldName"), p.get("sortType"));
    let (no, size) = (p.get("pageNo"), p.get("pageSize"));
    if field.is_some() != dir.is_some() {
        return Err(ApiError::one(
            "PMS_PS_ERROR_007",
            "Invalid Sorting request: 'sortType' and 'sortFieldName' must be specified together.",
        ));
    }
    if no.is_some() != size.is_some() {
        return Err(ApiError::one(
            "PMS_PS_ERROR_006",
            "Invalid pagination request: 'pageNo' and 'pageSize' must be specified together.",
        ));
    }
    if field.is_some() && no.is_none() {
        return Err(ApiError::one(
            "PMS_PS_ERROR_008",
            "Please provide pagination parameters ('pageNo' and 'pageSize') when requesting sorted data.",
        ));
    }
    let sort = match (field, dir) {
        (Some(f), Some(d)) => Some(sort_of(f, d, parse)?),
        _ => None,
    };
    let page = match (no, size) {
        (Some(n), Some(s)) => Some(PageReq {
            page_no: page_no(n)?,
            page_size: page_size(s, max_page_size)?,
        }),
        _ => None,
    };
    Ok((sort, page))
}

/// `GET /policies/v2`'s variant: paging defaults to page 0 of 8; sorting only with both
/// parameters.
pub fn policy_list_params<F>(
    p: &Params,
    max_page_size: u32,
    parse: fn(&str) -> Option<F>,
) -> Result<(Option<Sort<F>>, PageReq), ApiError> {
    let sort = match (p.get("sortFieldName"), p.get("sortType")) {
        (Some(f), Some(d)) => Some(sort_of(f, d, parse)?),
        (Some(f), None) => {
            parse(f)
                .ok_or_else(|| ApiError::one("PMS_PRT_357", format!("Invalid sort field {f}")))?;
            None
        }
        (None, Some(d)) => {
            sort_dir(d).ok_or_else(|| {
                ApiError::one("PMS_PRT_358", format!("Sort type {d} is not supported"))
            })?;
            None
        }
        (None, None) => None,
    };
    let page_no = p.get("pageNo").map(page_no).transpose()?.unwrap_or(0);
    let page_size = p
        .get("pageSize")
        .map(|s| page_size(s, max_page_size))
        .transpose()?
        .unwrap_or(8);
    Ok((sort, PageReq { page_no, page_size }))
}

/// The page object (`PageResponseV2Dto`); an empty page is all zeros whatever was asked.
pub fn page_json(page: Option<PageReq>, total: u64, data: Vec<Value>) -> Value {
    if data.is_empty() {
        return serde_json::json!({ "pageNo": 0, "pageSize": 0, "totalResults": 0, "data": [] });
    }
    let (no, size) = match page {
        Some(p) => (p.page_no, p.page_size as usize),
        None => (0, data.len()),
    };
    serde_json::json!({ "pageNo": no, "pageSize": size, "totalResults": total, "data": data })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::nul_in;

    /// axum's `Path`, `Query`, `Json` and `Form` refuse input in plain text before the handler
    /// runs, so before authentication and the role check: the API's handlers use [`super::PathArgs`],
    /// `RawQuery` with [`super::Params::parse`] and [`super::read_json`] instead.
    #[test]
    fn handlers_use_no_extractor_that_refuses_before_the_role_check() {
        for (file, source) in crate::routes::SOURCES {
            for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for name in ["Path", "Query", "Json", "Form"] {
                    // `name<` or `name(` as a whole word (utoipa's `…, Path, …` is fine).
                    let used = line.match_indices(name).any(|(i, _)| {
                        let before = line[..i].chars().next_back();
                        let after = line[i + name.len()..].chars().next();
                        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                            && matches!(after, Some('<' | '('))
                    });
                    assert!(
                        !used,
                        "routes/{file}: `{}` uses axum's {name}, which answers in plain text \
                         before the role check",
                        line.trim()
                    );
                }
            }
        }
    }

    #[test]
    fn only_an_encoded_nul_in_path_or_query_is_found() {
        let at = |u: &str| nul_in(&u.parse().unwrap());
        assert_eq!(at("/v1/x/a%00b"), Some("path"));
        assert_eq!(at("/v1/x/%00"), Some("path"));
        assert_eq!(at("/v1/x?q=%2F%00"), Some("query"));
        assert_eq!(at("/v1/x/a%2500?q=%0"), None);
        assert_eq!(at("/v1/x/%0?q=%20%"), None);
        assert_eq!(at("/v1/partnermanager/oauth/client/abc"), None);
    }
}
