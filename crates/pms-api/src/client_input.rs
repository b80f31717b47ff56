//! Field rules of the OIDC client requests (api-oidc-clients.md §3): bean-validation reasons for
//! shape failures, eSignet-style codes (`<path>: <code>`) for the values eSignet would refuse.
//! Each reader reports at most one failure per field, the first rule in table order. Names, the
//! plain one and the map's values, are [`Name`]s: NFC, trimmed, no invisible or control character.

use crate::input::{Fields, Text, HIDDEN_CHARACTERS};
use pms_domain::client_fields::{
    is_allowed_redirect_uri, is_valid_logo_uri, name_map_fits, redirect_list_fits, BlockedSchemes,
};
use pms_domain::model::{ClientStatus, NameMap};
use pms_domain::name::Name;
use serde_json::Value;
use std::collections::HashSet;

pub const NAME: Text = bean(256, "size must be between 1 and 256");
pub const POLICY_ID: Text = bean(36, "size must be between 1 and 36");
pub const AUTH_PARTNER_ID: Text = bean(100, "size must be between 1 and 100");
const LOGO_URI: Text = Text {
    null: "must not be blank",
    blank: "must not be blank",
    max: 2048,
    len: "size must be between 0 and 2048",
};

const fn bean(max: usize, len: &'static str) -> Text {
    Text {
        null: "must not be blank",
        blank: "must not be blank",
        max,
        len,
    }
}

/// The count and element rule of a list field.
pub struct ListRule {
    pub max: usize,
    /// eSignet-style code for an element the value check refuses.
    pub code: &'static str,
}

pub const REDIRECT_URIS: ListRule = ListRule {
    max: 5,
    code: "invalid_redirect_uri",
};
pub const GRANT_TYPES: ListRule = ListRule {
    max: 3,
    code: "invalid_grant_type",
};
pub const CLIENT_AUTH_METHODS: ListRule = ListRule {
    max: 3,
    code: "invalid_client_auth",
};

/// The rules as the configuration sets them.
#[derive(Debug, Clone)]
pub struct ClientFieldRules {
    pub grant_types: Vec<String>,
    pub client_auth_methods: Vec<String>,
    pub language_codes: HashSet<String>,
    /// `oidc_client.blocked_redirect_schemes`: refused like any other bad redirect URI.
    pub blocked_redirect_schemes: BlockedSchemes,
}

fn esignet(f: &mut Fields<'_>, code: &str, path: &str) {
    f.push(code, &format!("request.{path}: {code}"));
}

/// §3.3.
pub fn logo_uri(f: &mut Fields<'_>) -> String {
    let before = f.error_count();
    let s = f.text("logoUri", LOGO_URI);
    if f.error_count() == before && f.has_request() && !is_valid_logo_uri(&s) {
        f.reject("must be a valid URL", "logoUri");
    }
    s
}

/// A list of 1..=`rule.max` non-blank strings, each passing `valid`; `[]` when it failed.
pub fn string_list(
    f: &mut Fields<'_>,
    name: &str,
    rule: &ListRule,
    valid: impl Fn(&str) -> bool,
) -> Vec<String> {
    if !f.has_request() {
        return Vec::new();
    }
    let items = match f.raw(name) {
        None | Some(Value::Null) => {
            f.reject("must not be null", name);
            return Vec::new();
        }
        Some(Value::Array(a)) if a.is_empty() || a.len() > rule.max => {
            f.reject(&format!("size must be between 1 and {}", rule.max), name);
            return Vec::new();
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            f.reject("invalid type, expected list", name);
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    // Every element must be a non-blank string before any is checked against its value rule.
    for (i, v) in items.iter().enumerate() {
        match v {
            Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
            Value::String(_) | Value::Null => {
                f.reject("must not be blank", &format!("{name}[{i}]"));
                return Vec::new();
            }
            _ => {
                f.reject("invalid type, expected string", &format!("{name}[{i}]"));
                return Vec::new();
            }
        }
    }
    if let Some(i) = out.iter().position(|s| !valid(s)) {
        esignet(f, rule.code, &format!("{name}[{i}]"));
        return Vec::new();
    }
    out
}

/// §3.4 plus the configured blocked schemes, including the whole-list length eSignet's column
/// imposes.
pub fn redirect_uris(f: &mut Fields<'_>, rules: &ClientFieldRules) -> Vec<String> {
    let before = f.error_count();
    let uris = string_list(f, "redirectUris", &REDIRECT_URIS, |s| {
        is_allowed_redirect_uri(s, &rules.blocked_redirect_schemes)
    });
    if f.error_count() == before && f.has_request() && !redirect_list_fits(&uris) {
        esignet(f, REDIRECT_URIS.code, "redirectUris");
    }
    uris
}

/// §3.5.
pub fn grant_types(f: &mut Fields<'_>, rules: &ClientFieldRules) -> Vec<String> {
    string_list(f, "grantTypes", &GRANT_TYPES, |s| {
        rules.grant_types.iter().any(|g| g == s)
    })
}

/// §3.5.
pub fn client_auth_methods(f: &mut Fields<'_>, rules: &ClientFieldRules) -> Vec<String> {
    string_list(f, "clientAuthMethods", &CLIENT_AUTH_METHODS, |s| {
        rules.client_auth_methods.iter().any(|m| m == s)
    })
}

/// §3.2: the shape only; the key itself is the first business check.
pub fn public_key(f: &mut Fields<'_>) -> Value {
    if !f.has_request() {
        return Value::Null;
    }
    match f.raw("publicKey") {
        None | Some(Value::Null) => f.reject("must not be empty", "publicKey"),
        Some(Value::Object(m)) if m.is_empty() => f.reject("must not be empty", "publicKey"),
        Some(Value::Object(m)) => match m.iter().find(|(_, v)| v.is_null()) {
            Some((k, _)) => f.reject("must not be null", &format!("publicKey[{k}]")),
            None => return Value::Object(m.clone()),
        },
        Some(_) => f.reject("invalid type, expected object", "publicKey"),
    }
    Value::Null
}

/// §3.7.
pub fn status(f: &mut Fields<'_>) -> ClientStatus {
    let before = f.error_count();
    let s = f.text("status", bean(usize::MAX, ""));
    match ClientStatus::parse(&s) {
        Some(st) => st,
        None => {
            if f.error_count() == before && f.has_request() {
                f.reject(r#"must match "(ACTIVE)|(INACTIVE)""#, "status");
            }
            ClientStatus::Active
        }
    }
}

/// §3.6. `name` is the plain client name, which eSignet stores beside the map as `@none`.
pub fn name_map(f: &mut Fields<'_>, rules: &ClientFieldRules, name: &str) -> NameMap {
    const FIELD: &str = "clientNameLangMap";
    if !f.has_request() {
        return NameMap::new();
    }
    let map = match f.raw(FIELD) {
        None | Some(Value::Null) => {
            f.reject("must not be empty", FIELD);
            return NameMap::new();
        }
        Some(Value::Object(m)) if m.is_empty() => {
            f.reject("must not be empty", FIELD);
            return NameMap::new();
        }
        Some(Value::Object(m)) => m,
        Some(_) => {
            f.reject("invalid type, expected object", FIELD);
            return NameMap::new();
        }
    };
    if let Some(k) = map.keys().find(|k| !rules.language_codes.contains(*k)) {
        esignet(f, "invalid_language_code", &format!("{FIELD}[{k}]"));
        return NameMap::new();
    }
    // Each value is a name like the plain one: normalised, refused with a hidden character, and
    // measured (50 characters, the 600 of the whole map) in the form that is stored.
    let mut names = NameMap::new();
    for (k, v) in map {
        let reason = match v.as_str().map(Name::parse) {
            Some(Ok(n)) if !n.is_empty() => {
                names.insert(k.clone(), Value::String(n.into()));
                continue;
            }
            Some(Ok(_)) => "must not be blank",
            Some(Err(_)) => HIDDEN_CHARACTERS,
            None if v.is_null() => "must not be blank",
            None => "invalid type, expected string",
        };
        f.reject(reason, &format!("{FIELD}[{k}]"));
        return NameMap::new();
    }
    let too_long = names
        .iter()
        .find(|(_, v)| v.as_str().is_some_and(|s| s.chars().count() > 50));
    if let Some((k, _)) = too_long {
        esignet(f, "invalid_client_name_length", &format!("{FIELD}[{k}]"));
        return NameMap::new();
    }
    if !name_map_fits(&names, name) {
        esignet(f, "invalid_client_name_length", FIELD);
        return NameMap::new();
    }
    names
}
