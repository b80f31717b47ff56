//! Validation of auth-policy documents: the JSON Schema (draft-04) MOSIP ships, plus pms's
//! `authType` allow-list, with every violation reported in document order
//! (the `authType` allow-list); and [`shared`], the one decoded copy of a stored document
//! that the stores hand out.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// Policy id → (stored text, document decoded from it).
type DocsByPolicy = HashMap<String, (String, Arc<Value>)>;

/// See [`shared`].
static DOCS: LazyLock<Mutex<DocsByPolicy>> = LazyLock::new(Mutex::default);

/// Documents [`shared`] holds before it starts again (a deployment has tens of policies; a bulk
/// export reads them all once).
const DOCS_MAX: usize = 256;

/// Policy `id`'s stored document `text`, decoded once: while the text a store reads is byte for
/// byte the one decoded last for that id, the same `Arc` comes back (so it is right for any
/// database the process opens). Every client create reads its policy's document, several
/// kilobytes, on the writer's serial path; decoding it there was a fifth of a create's turn, and
/// the shared `Arc` is what lets the claims mapping remember grants by identity.
pub fn shared(id: &str, text: &str) -> serde_json::Result<Arc<Value>> {
    let cached = DOCS.lock().ok().and_then(|docs| {
        docs.get(id)
            .filter(|(t, _)| t == text)
            .map(|(_, doc)| doc.clone())
    });
    if let Some(doc) = cached {
        return Ok(doc);
    }
    let doc = Arc::new(serde_json::from_str::<Value>(text)?);
    if let Ok(mut docs) = DOCS.lock() {
        if docs.len() >= DOCS_MAX {
            docs.clear();
        }
        docs.insert(id.to_string(), (text.to_string(), doc.clone()));
    }
    Ok(doc)
}

/// One violation; `path` is the JSON pointer of the offending value without its leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// `path` is the missing member's full path (`allowedAuthTypes/0/mandatory`).
    Missing {
        path: String,
    },
    /// A member not allowed, a value outside an enum, an unknown `authType`, any other keyword.
    Invalid {
        path: String,
    },
    /// Wrong JSON type; `expected` is the schema's type name.
    Format {
        path: String,
        expected: String,
    },
    EmptyArray {
        path: String,
    },
    EmptyString {
        path: String,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("the auth-policy schema is not a valid draft-04 schema: {0}")]
pub struct SchemaError(String);

/// A compiled schema plus the allow-list; built once at start-up.
pub struct PolicyDocValidator {
    schema: jsonschema::Validator,
    allowed_auth_types: Vec<String>,
}

impl std::fmt::Debug for PolicyDocValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyDocValidator")
            .field("allowed_auth_types", &self.allowed_auth_types)
            .finish_non_exhaustive()
    }
}

/// The schema pms ships (MOSIP's default, unchanged).
pub const DEFAULT_SCHEMA: &str = include_str!("../../../config/auth-policy-schema.json");

impl PolicyDocValidator {
    pub fn new(schema: &Value, allowed_auth_types: Vec<String>) -> Result<Self, SchemaError> {
        let schema = jsonschema::draft4::new(schema).map_err(|e| SchemaError(e.to_string()))?;
        Ok(Self {
            schema,
            allowed_auth_types,
        })
    }

    /// All violations of `doc`, in document order; empty when the document is valid.
    /// The auth types `allowedAuthTypes` may name (`policy.allowed_auth_types`).
    pub fn allowed_auth_types(&self) -> &[String] {
        &self.allowed_auth_types
    }

    pub fn validate(&self, doc: &Value) -> Vec<Violation> {
        // (position in the document, emission order, violation): a stable sort on the position
        // keeps the schema's keyword order for violations at the same place.
        let mut found: Vec<(Vec<usize>, Violation)> = Vec::new();
        for err in self.schema.iter_errors(doc) {
            let segments: Vec<String> = err
                .instance_path()
                .iter()
                .map(|s| match s {
                    LocationSegment::Property(p) => p.to_string(),
                    LocationSegment::Index(i) => i.to_string(),
                })
                .collect();
            let path = segments.join("/");
            let pos = position(doc, &segments);
            match err.kind() {
                ValidationErrorKind::Required { property } => {
                    let member = property
                        .as_str()
                        .map_or_else(|| property.to_string(), str::to_string);
                    found.push((
                        pos,
                        Violation::Missing {
                            path: join(&path, &member),
                        },
                    ));
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for member in unexpected {
                        let mut member_segments = segments.clone();
                        member_segments.push(member.clone());
                        found.push((
                            position(doc, &member_segments),
                            Violation::Invalid {
                                path: join(&path, member),
                            },
                        ));
                    }
                }
                ValidationErrorKind::Type { kind } => {
                    let expected = match kind {
                        TypeKind::Single(t) => t.to_string(),
                        TypeKind::Multiple(set) => set
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join("|"),
                    };
                    found.push((pos, Violation::Format { path, expected }));
                }
                ValidationErrorKind::MinItems { .. } => {
                    found.push((pos, Violation::EmptyArray { path }));
                }
                ValidationErrorKind::MinLength { .. } => {
                    found.push((pos, Violation::EmptyString { path }));
                }
                _ => found.push((pos, Violation::Invalid { path })),
            }
        }
        self.check_auth_types(doc, &mut found);
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.into_iter().map(|(_, v)| v).collect()
    }

    fn check_auth_types(&self, doc: &Value, found: &mut Vec<(Vec<usize>, Violation)>) {
        let Some(list) = doc.get("allowedAuthTypes").and_then(Value::as_array) else {
            return;
        };
        for (i, item) in list.iter().enumerate() {
            let Some(auth_type) = item.get("authType").and_then(Value::as_str) else {
                continue; // missing or mistyped: the schema already reported it
            };
            if !self.allowed_auth_types.iter().any(|a| a == auth_type) {
                let segments = [
                    "allowedAuthTypes".to_string(),
                    i.to_string(),
                    "authType".to_string(),
                ];
                let v = Violation::Invalid {
                    path: segments.join("/"),
                };
                if !found.iter().any(|(_, f)| f == &v) {
                    found.push((position(doc, &segments), v));
                }
            }
        }
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}/{member}")
    }
}

/// The place of the value at `segments` in a depth-first walk of `doc`: the member index (in
/// the order the document lists its members) or array index at each level.
fn position(doc: &Value, segments: &[String]) -> Vec<usize> {
    let mut pos = Vec::with_capacity(segments.len());
    let mut cur = Some(doc);
    for seg in segments {
        let (idx, next) = match cur {
            Some(Value::Object(map)) => match map.iter().position(|(k, _)| k == seg) {
                Some(i) => (i, map.get(seg)),
                None => (usize::MAX, None),
            },
            Some(Value::Array(items)) => match seg.parse::<usize>() {
                Ok(i) => (i, items.get(i)),
                Err(_) => (usize::MAX, None),
            },
            _ => (usize::MAX, None),
        };
        pos.push(idx);
        cur = next;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stored_text_is_decoded_once_and_never_outlives_itself() {
        let first = super::shared("shared-test-1", r#"{"b":1,"a":[2]}"#).unwrap();
        let again = super::shared("shared-test-1", r#"{"b":1,"a":[2]}"#).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.to_string(), r#"{"b":1,"a":[2]}"#, "member order kept");
        let changed = super::shared("shared-test-1", r#"{"b":2}"#).unwrap();
        assert_eq!(changed.to_string(), r#"{"b":2}"#);
        let other = super::shared("shared-test-2", r#"{"b":1,"a":[2]}"#).unwrap();
        assert!(
            !Arc::ptr_eq(&first, &other),
            "another policy, its own entry"
        );
        assert!(super::shared("shared-test-3", "{not json").is_err());
    }

    fn validator() -> PolicyDocValidator {
        let schema: Value = serde_json::from_str(DEFAULT_SCHEMA).unwrap();
        PolicyDocValidator::new(
            &schema,
            ["otp", "bio", "kyc", "kycauth", "kycexchange", "wla", "demo"]
                .map(String::from)
                .to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn accepts_the_spec_example_document() {
        let doc = json!({
            "authTokenType": "policy",
            "allowedAuthTypes": [
                { "authType": "bio", "authSubType": "FINGER", "mandatory": false },
                { "authType": "kycexchange", "authSubType": "", "mandatory": false },
                { "authType": "wla", "authSubType": "", "mandatory": false }
            ],
            "allowedKycAttributes": [{ "attributeName": "fullName" }]
        });
        assert_eq!(validator().validate(&doc), vec![]);
    }

    #[test]
    fn reports_the_spec_example_in_order() {
        let doc = json!({
            "allowedAuthTypes": [
                { "authType": "bio", "mandatory": false },
                { "authType": "otp", "mandatory": false },
                { "authType": "bogus", "mandatory": false }
            ],
            "allowedKycAttributes": []
        });
        assert_eq!(
            validator().validate(&doc),
            vec![
                Violation::Missing {
                    path: "authTokenType".into()
                },
                Violation::Invalid {
                    path: "allowedAuthTypes/2/authType".into()
                },
            ]
        );
    }

    #[test]
    fn reports_every_kind_in_document_order() {
        let doc = json!({
            "allowedKycAttributes": [{ "attributeName": 5 }],
            "extra": true,
            "authTokenType": "Policy",
            "allowedAuthTypes": [{ "authType": "otp", "mandatory": "no", "x": 1 }]
        });
        assert_eq!(
            validator().validate(&doc),
            vec![
                Violation::Format {
                    path: "allowedKycAttributes/0/attributeName".into(),
                    expected: "string".into()
                },
                Violation::Invalid {
                    path: "extra".into()
                },
                Violation::Invalid {
                    path: "authTokenType".into()
                },
                Violation::Format {
                    path: "allowedAuthTypes/0/mandatory".into(),
                    expected: "boolean".into()
                },
                Violation::Invalid {
                    path: "allowedAuthTypes/0/x".into()
                },
            ]
        );
    }

    #[test]
    fn missing_nested_member_names_its_full_path() {
        let doc = json!({
            "authTokenType": "random",
            "allowedAuthTypes": [{ "authType": "otp" }],
            "allowedKycAttributes": []
        });
        assert_eq!(
            validator().validate(&doc),
            vec![Violation::Missing {
                path: "allowedAuthTypes/0/mandatory".into()
            }]
        );
    }
}
