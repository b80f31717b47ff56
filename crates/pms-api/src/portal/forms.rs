//! Form bodies (URL-encoded or multipart), the CSRF check every POST passes first, the v1
//! envelope a form becomes, and the API's errors placed next to the fields that caused them.

use super::{layout, session, St};
use crate::wire::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, MatchedPath, Multipart, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use pms_domain::clock::format_ts;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The largest form body the portal reads (a PEM file of a 4096-bit key is about 3.3 kB).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The fields of a submitted form in document order; file inputs hold the file's text.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Sets `name` to the single value `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.fields.retain(|(k, _)| k != name);
        self.fields.push((name.to_string(), value.to_string()));
    }
}

async fn parse(content_type: &str, bytes: axum::body::Bytes) -> Result<Form, String> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(&bytes)
            .map(|fields| Form { fields })
            .map_err(|e| e.to_string()),
        "multipart/form-data" => {
            let req = Request::builder()
                .method(Method::POST)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(bytes))
                .map_err(|e| e.to_string())?;
            let mut mp = Multipart::from_request(req, &())
                .await
                .map_err(|e| e.body_text())?;
            let mut fields = Vec::new();
            while let Some(field) = mp.next_field().await.map_err(|e| e.body_text())? {
                let name = field.name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| format!("{name}: the file is not text"))?;
                fields.push((name, text));
            }
            Ok(Form { fields })
        }
        _ => Err(
            "a form must be sent as application/x-www-form-urlencoded or multipart/form-data"
                .into(),
        ),
    }
}

/// Every POST: the body is read as a form and its `csrf` field checked against the session id
/// before any handler runs; a refused request changes nothing. The parsed [`Form`] is handed to
/// the handler as an extension.
pub async fn csrf(State(p): St, req: Request, next: Next) -> Response {
    // The 404 of unknown pages changes nothing and needs no token (so the dev sign-in page
    // answers 404 to any method outside dev mode).
    let unknown = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|m| m.as_str() == super::UNKNOWN);
    if req.method() != Method::POST || unknown {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return layout::error_page(
            None,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The form is larger than the portal accepts (256 kB).",
        );
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let form = match parse(&content_type, bytes).await {
        Ok(f) => f,
        Err(e) => {
            return layout::error_page(None, StatusCode::BAD_REQUEST, "Unreadable form", &e);
        }
    };
    if form
        .fields
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return layout::error_page(
            None,
            StatusCode::BAD_REQUEST,
            "Unreadable form",
            "A field contains a NUL character, which cannot be stored. Nothing was changed.",
        );
    }
    if !session::csrf_ok(&p, &parts.headers, form.get("csrf")) {
        tracing::info!(path = %parts.uri.path(), "portal: POST refused, missing or invalid CSRF token");
        return layout::error_page(
            None,
            StatusCode::FORBIDDEN,
            "Form refused",
            "This form did not carry a valid security token (it may have come from another site, \
             or your session changed). Nothing was changed. Go back, reload the page and try again.",
        );
    }
    parts.extensions.insert(form);
    next.run(Request::from_parts(parts, Body::empty())).await
}

/// The v1 envelope the API would receive for `request`, timed now.
pub fn envelope(st: &AppState, request: Map<String, Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String("mosip.pms.portal".into()));
    m.insert("version".into(), Value::String("1.0".into()));
    m.insert(
        "requesttime".into(),
        Value::String(format_ts(&st.clock.now())),
    );
    m.insert("request".into(), Value::Object(request));
    m
}

/// Non-blank text fields of `form` as JSON strings under the same names; blank ones are left out
/// (so the API's "must not be blank" rules speak for them).
pub fn strings(form: &Form, names: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for n in names {
        let v = form.get(n);
        if !v.trim().is_empty() {
            m.insert((*n).to_string(), Value::String(v.to_string()));
        }
    }
    m
}

/// The non-blank values of a repeated field as a JSON list.
pub fn list(form: &Form, name: &str) -> Value {
    Value::Array(
        form.all(name)
            .into_iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Value::String(v.trim().to_string()))
            .collect(),
    )
}

/// What went wrong with a form: messages per field name, and those of no field.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    pub fields: BTreeMap<String, Vec<String>>,
    pub general: Vec<String>,
    /// For list fields: the entries (0-based) the messages name.
    pub entries: BTreeMap<String, std::collections::BTreeSet<usize>>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    pub fn of(&self, field: &str) -> &[String] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// Whether entry `i` of list field `field` is the cause: the entries named, or all of them
    /// when the problem is the whole list's.
    pub fn entry_invalid(&self, field: &str, i: usize) -> bool {
        match self.entries.get(field) {
            Some(set) => set.contains(&i),
            None => !self.of(field).is_empty(),
        }
    }

    /// The API's errors: each next to its field when the message names one (`:request.x` or
    /// `request.x: code`) or `codes` maps its code to one, otherwise above the form. A field that
    /// already has a problem of the portal's own (an unreadable PEM file, JSON that does not
    /// parse) keeps only that one.
    pub fn from_api(e: &ApiError, codes: &[(&str, &str)]) -> Self {
        let mut p = Problems::default();
        p.merge_api(e, codes);
        p
    }

    pub fn merge_api(&mut self, e: &ApiError, codes: &[(&str, &str)]) {
        if e.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = ?e, "portal request failed");
        }
        let own: Vec<String> = self.fields.keys().cloned().collect();
        for entry in &e.errors {
            let (field, text, index) = describe(&entry.message, &entry.code, codes);
            if let (Some(f), Some(i)) = (&field, index) {
                if !own.contains(f) {
                    self.entries.entry(f.clone()).or_default().insert(i);
                }
            }
            let text = format!("{text} ({})", entry.code);
            match field {
                Some(f) if own.contains(&f) => {}
                Some(f) => self.add(&f, text),
                None => self.general.push(text),
            }
        }
    }
}

/// The field (root member name) an error message names, and the message in words.
fn describe(
    message: &str,
    code: &str,
    codes: &[(&str, &str)],
) -> (Option<String>, String, Option<usize>) {
    let root = |path: &str| -> (String, Option<usize>) {
        let name = path.split(['[', '.']).next().unwrap_or(path).to_string();
        let index = path
            .split_once('[')
            .and_then(|(_, r)| r.split(']').next())
            .and_then(|i| i.parse::<usize>().ok());
        (name, index)
    };
    let item = |i: Option<usize>| i.map(|i| format!(" (entry {})", i + 1)).unwrap_or_default();
    // "Invalid request parameter - {reason} :request.{path}"
    if let Some((head, path)) = message.rsplit_once(" :request.") {
        let reason = head
            .strip_prefix("Invalid request parameter - ")
            .unwrap_or(head);
        let (name, i) = root(path);
        return (Some(name), format!("{}{}", capitalise(reason), item(i)), i);
    }
    // "request.{path}: {code}" (eSignet-style value checks)
    if let Some(rest) = message.strip_prefix("request.") {
        if let Some((path, c)) = rest.split_once(": ") {
            let (name, i) = root(path);
            return (
                Some(name),
                format!("{}{}", capitalise(&c.replace('_', " ")), item(i)),
                i,
            );
        }
    }
    if code.starts_with("PMS_PV_") {
        return (Some("policies".into()), message.to_string(), None);
    }
    let field = codes
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, f)| (*f).to_string());
    (field, message.to_string(), None)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_their_fields() {
        let (f, t, _) = describe(
            "Invalid request parameter - must not be blank :request.name",
            "PMS_COR_001",
            &[],
        );
        assert_eq!(
            (f.as_deref(), t.as_str()),
            (Some("name"), "Must not be blank")
        );
        let (f, t, i) = describe(
            "request.redirectUris[1]: invalid_redirect_uri",
            "invalid_redirect_uri",
            &[],
        );
        assert_eq!(f.as_deref(), Some("redirectUris"));
        assert_eq!(t, "Invalid redirect uri (entry 2)");
        assert_eq!(i, Some(1));
        let (f, _, _) = describe(
            "Failed to process the Public Key: x",
            "PMS_ESI_007",
            &[("PMS_ESI_007", "publicKey")],
        );
        assert_eq!(f.as_deref(), Some("publicKey"));
        let (f, _, _) = describe("Something", "PMS_X", &[]);
        assert!(f.is_none());
    }
}
