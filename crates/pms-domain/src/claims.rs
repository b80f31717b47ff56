//! The claims and ACR values an OIDC client is granted, computed from its auth policy with the
//! mapping data in `config/` (claims supported, identity mapping, AMR/ACR mapping).
//!
//! The mapping files are parsed and checked once at start-up, into a form that makes each
//! create a few set look-ups; the caller reads the files and passes their text (no IO here).

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

/// eSignet accepts at most 30 claims and 30 ACR values per client.
const MAX_ENTRIES: usize = 30;

/// The `claims_supported` of eSignet's discovery document in MOSIP's `esignet-default.properties`.
pub const DEFAULT_CLAIMS_SUPPORTED: &[&str] = &[
    "name",
    "address",
    "gender",
    "birthdate",
    "picture",
    "email",
    "phone_number",
    "individual_id",
];

/// MOSIP's default identity mapping (`mosip-config`, branch master).
pub const DEFAULT_IDENTITY_MAPPING: &str = include_str!("../../../config/identity-mapping.json");

/// MOSIP's default AMR/ACR mapping; must be the file eSignet uses.
pub const DEFAULT_AMR_ACR_MAPPING: &str = include_str!("../../../config/amr-acr-mapping.json");

/// The claims / ACR mapping data (`config/*.json` or replacements), loaded once at start-up.
#[derive(Debug, Clone)]
pub struct ClaimsMapping {
    /// Claims that have an identity entry, in `claims_supported` order (duplicates dropped), each
    /// with the lower-cased parts of its `value`. Keeping a list per claim, rather than MOSIP's
    /// map keyed by the parts, is what lets two claims with identical parts both be selected.
    claims: Vec<(String, Vec<String>)>,
    /// ACR values in file order, each with the lower-cased factor types it needs, or `None` when
    /// it can never be selected (empty AMR list, unknown AMR or an AMR without factors). Every
    /// AMR must be satisfied, i.e. every factor of every AMR allowed, so the union is enough.
    acrs: Vec<(String, Option<BTreeSet<String>>)>,
    /// What the policy documents seen last grant (see [`ClaimsMapping::grants_of`]).
    memo: GrantsMemo,
}

/// How many policy documents [`ClaimsMapping::grants_of`] remembers.
const MEMO_SIZE: usize = 16;

/// Recent documents and their grants, by identity: an entry holds its document, so the
/// allocation cannot be reused for another one while the entry exists.
type MemoEntries = Vec<(Arc<Value>, Result<Grants, GrantsError>)>;

#[derive(Debug, Clone, Default)]
struct GrantsMemo(Arc<Mutex<MemoEntries>>);

/// What a client is granted: eSignet's `userClaims` and `authContextRefs`, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    pub claims: Vec<String>,
    pub acr_values: Vec<String>,
}

/// Why a policy grants nothing usable: no claim, a mandatory auth type, or no ACR value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantsError {
    #[error("no claims")]
    NoClaims,
    #[error("mandatory auth")]
    MandatoryAuth,
    #[error("no acr")]
    NoAcr,
}

/// A problem in the mapping data; the message names the part (the caller prefixes the file name).
///
/// Messages start with the input they concern (`identity mapping`, `AMR/ACR mapping` or
/// `claims_supported`) because one call checks all three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingError(pub String);

const IDENTITY: &str = "identity mapping";
const AMR_ACR: &str = "AMR/ACR mapping";

fn mapping_error(input: &str, problem: impl std::fmt::Display) -> MappingError {
    MappingError(format!("{input}: {problem}"))
}

fn parse_json(input: &str, text: &str) -> Result<Value, MappingError> {
    serde_json::from_str(text)
        .map_err(|e| mapping_error(input, format_args!("not valid JSON: {e}")))
}

fn object_member<'a>(
    input: &str,
    document: &'a Value,
    name: &str,
) -> Result<&'a Map<String, Value>, MappingError> {
    document
        .get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| mapping_error(input, format_args!("`{name}` is not an object")))
}

impl ClaimsMapping {
    /// Parses and checks the three mapping files; returns warnings (an `acr_amr` entry naming
    /// an unknown AMR) to be logged by the caller.
    pub fn new(
        claims_supported: Vec<String>,
        identity_mapping_json: &str,
        amr_acr_mapping_json: &str,
    ) -> Result<(Self, Vec<String>), MappingError> {
        let identity_doc = parse_json(IDENTITY, identity_mapping_json)?;
        let identity = object_member(IDENTITY, &identity_doc, "identity")?;
        let mut identity_parts = Vec::with_capacity(identity.len());
        for (name, entry) in identity {
            let Some(value) = entry.get("value").and_then(Value::as_str) else {
                return Err(mapping_error(
                    IDENTITY,
                    format_args!("`identity.{name}` has no string `value`"),
                ));
            };
            identity_parts.push((name.as_str(), split_parts(value)));
        }

        let amr_acr_doc = parse_json(AMR_ACR, amr_acr_mapping_json)?;
        let amr = object_member(AMR_ACR, &amr_acr_doc, "amr")?;
        let mut amr_factors = Vec::with_capacity(amr.len());
        for (name, factors) in amr {
            let types = factors.as_array().and_then(|list| {
                list.iter()
                    .map(|factor| factor.get("type").and_then(Value::as_str))
                    .map(|t| t.map(str::to_lowercase))
                    .collect::<Option<Vec<_>>>()
            });
            let Some(types) = types else {
                return Err(mapping_error(
                    AMR_ACR,
                    format_args!("`amr.{name}` is not a list of objects with a string `type`"),
                ));
            };
            amr_factors.push((name.as_str(), types));
        }

        let acr_amr = object_member(AMR_ACR, &amr_acr_doc, "acr_amr")?;
        if acr_amr.len() > MAX_ENTRIES {
            return Err(mapping_error(
                AMR_ACR,
                format_args!(
                    "`acr_amr` has {} entries; at most {MAX_ENTRIES} are allowed",
                    acr_amr.len()
                ),
            ));
        }
        let mut warnings = Vec::new();
        let mut acrs = Vec::with_capacity(acr_amr.len());
        for (acr, amr_names) in acr_amr {
            let names = amr_names
                .as_array()
                .and_then(|list| list.iter().map(Value::as_str).collect::<Option<Vec<_>>>());
            let Some(names) = names else {
                return Err(mapping_error(
                    AMR_ACR,
                    format_args!("`acr_amr.{acr}` is not a list of strings"),
                ));
            };
            let mut needed = (!names.is_empty()).then(BTreeSet::new);
            for name in names {
                match amr_factors.iter().find(|(amr, _)| *amr == name) {
                    Some((_, types)) if !types.is_empty() => {
                        if let Some(needed) = needed.as_mut() {
                            needed.extend(types.iter().cloned());
                        }
                    }
                    Some(_) => needed = None,
                    None => {
                        warnings.push(format!(
                            "{AMR_ACR}: `acr_amr.{acr}` names AMR `{name}`, which is not in `amr`; \
                             this ACR value can never be selected"
                        ));
                        needed = None;
                    }
                }
            }
            acrs.push((acr.clone(), needed));
        }

        if claims_supported.len() > MAX_ENTRIES {
            return Err(MappingError(format!(
                "claims_supported has {} entries; at most {MAX_ENTRIES} are allowed",
                claims_supported.len()
            )));
        }
        let mut claims: Vec<(String, Vec<String>)> = Vec::new();
        for claim in claims_supported {
            if claims.iter().any(|(known, _)| *known == claim) {
                continue;
            }
            if let Some((_, parts)) = identity_parts.iter().find(|(name, _)| *name == claim) {
                claims.push((claim, parts.clone()));
            }
        }

        Ok((
            Self {
                claims,
                acrs,
                memo: GrantsMemo::default(),
            },
            warnings,
        ))
    }

    /// The embedded defaults.
    pub fn defaults() -> Result<Self, MappingError> {
        let claims_supported = DEFAULT_CLAIMS_SUPPORTED
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        Self::new(
            claims_supported,
            DEFAULT_IDENTITY_MAPPING,
            DEFAULT_AMR_ACR_MAPPING,
        )
        .map(|(mapping, _warnings)| mapping)
    }

    /// [`ClaimsMapping::grants`] of a shared document, remembered by the document's identity:
    /// a store hands out the same `Arc` for as long as a policy's stored text is unchanged, so
    /// every create under one policy after the first skips the computation (it ran on the
    /// writer's serial path, inside every create's turn).
    pub fn grants_of(&self, policy: &Arc<Value>) -> Result<Grants, GrantsError> {
        let remembered = |entries: &MemoEntries| {
            entries
                .iter()
                .find(|(doc, _)| Arc::ptr_eq(doc, policy))
                .map(|(_, g)| g.clone())
        };
        if let Some(g) = self.memo.0.lock().ok().and_then(|e| remembered(&e)) {
            return g;
        }
        let grants = self.grants(policy);
        if let Ok(mut entries) = self.memo.0.lock() {
            if remembered(&entries).is_none() {
                if entries.len() >= MEMO_SIZE {
                    drop(entries.remove(0));
                }
                entries.push((policy.clone(), grants.clone()));
            }
        }
        grants
    }

    /// Claims, then ACR values, in order: NoClaims, then MandatoryAuth, then NoAcr. `policy`
    /// is the auth policy document; odd shapes are tolerated (a missing array or member counts as
    /// empty), since the document was validated when the policy was created.
    pub fn grants(&self, policy: &Value) -> Result<Grants, GrantsError> {
        let attributes: HashSet<String> = list(policy, "allowedKycAttributes")
            .filter_map(|entry| entry.get("attributeName").and_then(Value::as_str))
            .map(str::to_lowercase)
            .collect();
        let claims: Vec<String> = self
            .claims
            .iter()
            .filter(|(_, parts)| parts.iter().any(|part| attributes.contains(part)))
            .map(|(claim, _)| claim.clone())
            .collect();
        if claims.is_empty() {
            return Err(GrantsError::NoClaims);
        }

        // Only a JSON `true` counts: the schema makes `mandatory` a boolean.
        if list(policy, "allowedAuthTypes")
            .any(|entry| entry.get("mandatory") == Some(&Value::Bool(true)))
        {
            return Err(GrantsError::MandatoryAuth);
        }

        let auth_types: HashSet<String> = list(policy, "allowedAuthTypes")
            .filter_map(|entry| entry.get("authType").and_then(Value::as_str))
            .map(str::to_lowercase)
            .collect();
        let acr_values: Vec<String> = self
            .acrs
            .iter()
            .filter(|(_, needed)| {
                needed
                    .as_ref()
                    .is_some_and(|types| types.iter().all(|t| auth_types.contains(t)))
            })
            .map(|(acr, _)| acr.clone())
            .collect();
        if acr_values.is_empty() {
            return Err(GrantsError::NoAcr);
        }

        Ok(Grants { claims, acr_values })
    }
}

/// The lower-cased, trimmed, non-empty comma-separated parts of an identity `value`. Empty parts
/// are dropped so that `"a,,b"` cannot be matched by an empty attribute name.
fn split_parts(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn list<'a>(policy: &'a Value, member: &str) -> impl Iterator<Item = &'a Value> {
    policy
        .get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    /// MOSIP's sample auth policy.
    fn example_policy() -> Value {
        json!({
          "authTokenType": "policy",
          "allowedAuthTypes": [
            { "authType": "bio", "authSubType": "FINGER", "mandatory": false },
            { "authType": "bio", "authSubType": "IRIS", "mandatory": false },
            { "authType": "bio", "authSubType": "FACE", "mandatory": false },
            { "authType": "otp", "authSubType": "", "mandatory": false },
            { "authType": "otp-request", "authSubType": "", "mandatory": false },
            { "authType": "demo", "authSubType": "", "mandatory": false },
            { "authType": "kyc", "authSubType": "", "mandatory": false },
            { "authType": "kycauth", "authSubType": "", "mandatory": false },
            { "authType": "kycexchange", "authSubType": "", "mandatory": false },
            { "authType": "wla", "authSubType": "", "mandatory": false },
            { "authType": "pwd", "authSubType": "", "mandatory": false }
          ],
          "allowedKycAttributes": [
            { "attributeName": "fullName" }, { "attributeName": "gender" }, { "attributeName": "phone" },
            { "attributeName": "email" }, { "attributeName": "dateOfBirth" }, { "attributeName": "city" },
            { "attributeName": "face" }, { "attributeName": "addressLine1" }
          ]
        })
    }

    fn policy(attributes: &[&str], auth_types: &[&str]) -> Value {
        json!({
            "authTokenType": "policy",
            "allowedKycAttributes": attributes.iter().map(|a| json!({"attributeName": a})).collect::<Vec<_>>(),
            "allowedAuthTypes": auth_types.iter().map(|t| json!({"authType": t, "mandatory": false})).collect::<Vec<_>>(),
        })
    }

    fn defaults() -> ClaimsMapping {
        ClaimsMapping::defaults().unwrap()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn mapping(claims: &[&str], identity: &Value, amr_acr: &Value) -> ClaimsMapping {
        let (mapping, warnings) =
            ClaimsMapping::new(strings(claims), &identity.to_string(), &amr_acr.to_string())
                .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        mapping
    }

    fn error(claims: Vec<String>, identity: &str, amr_acr: &str) -> String {
        ClaimsMapping::new(claims, identity, amr_acr).unwrap_err().0
    }

    #[test]
    fn worked_example() {
        let grants = defaults().grants(&example_policy()).unwrap();
        assert_eq!(
            grants.claims,
            [
                "name",
                "address",
                "gender",
                "birthdate",
                "picture",
                "email",
                "phone_number"
            ]
        );
        assert_eq!(
            grants.acr_values,
            [
                "mosip:idp:acr:password",
                "mosip:idp:acr:generated-code",
                "mosip:idp:acr:linked-wallet",
                "mosip:idp:acr:biometrics"
            ]
        );
    }

    #[test]
    fn further_cases() {
        let mapping = defaults();
        let photo_only = json!({"allowedKycAttributes": [{"attributeName": "photo"}],
                                "allowedAuthTypes": [{"authType": "otp", "mandatory": false}]});
        assert_eq!(mapping.grants(&photo_only), Err(GrantsError::NoClaims));

        let mut mandatory = example_policy();
        mandatory["allowedAuthTypes"][3] = json!({"authType": "otp", "mandatory": true});
        assert_eq!(mapping.grants(&mandatory), Err(GrantsError::MandatoryAuth));

        assert_eq!(
            mapping.grants(&policy(&["fullName"], &["demo", "kyc"])),
            Err(GrantsError::NoAcr)
        );

        let pin = mapping.grants(&policy(&["fullName"], &["pin"])).unwrap();
        assert_eq!(pin.acr_values, ["mosip:idp:acr:static-code"]);
        assert_eq!(pin.claims, ["name"]);
    }

    #[test]
    fn no_claims_takes_precedence_over_mandatory_and_mandatory_over_no_acr() {
        let mapping = defaults();
        let both = json!({"allowedKycAttributes": [{"attributeName": "middleName"}],
                          "allowedAuthTypes": [{"authType": "otp", "mandatory": true}]});
        assert_eq!(mapping.grants(&both), Err(GrantsError::NoClaims));
        let mandatory_no_acr = json!({"allowedKycAttributes": [{"attributeName": "email"}],
                                      "allowedAuthTypes": [{"authType": "demo", "mandatory": true}]});
        assert_eq!(
            mapping.grants(&mandatory_no_acr),
            Err(GrantsError::MandatoryAuth)
        );
    }

    #[test]
    fn grants_of_remembers_by_identity_and_never_answers_for_another_document() {
        let mapping = defaults();
        let example = Arc::new(example_policy());
        let pin = Arc::new(policy(&["fullName"], &["pin"]));
        let mandatory = Arc::new(json!({"allowedKycAttributes": [{"attributeName": "email"}],
                                        "allowedAuthTypes": [{"authType": "otp", "mandatory": true}]}));
        for _ in 0..2 {
            assert_eq!(mapping.grants_of(&example), mapping.grants(&example));
            assert_eq!(mapping.grants_of(&pin), mapping.grants(&pin));
            assert_eq!(
                mapping.grants_of(&mandatory),
                Err(GrantsError::MandatoryAuth)
            );
        }
        // An equal document in another allocation is computed, not looked up, and agrees.
        let copy = Arc::new(example_policy());
        assert_eq!(mapping.grants_of(&copy), mapping.grants(&example));
        // More documents than the memo holds: each answer is still its own document's.
        let docs: Vec<Arc<Value>> = (0..MEMO_SIZE + 3)
            .map(|i| {
                let auth = if i % 2 == 0 { "pin" } else { "otp" };
                Arc::new(policy(&["fullName"], &[auth]))
            })
            .collect();
        for _ in 0..2 {
            for doc in &docs {
                assert_eq!(mapping.grants_of(doc), mapping.grants(doc));
            }
        }
        assert!(mapping.memo.0.lock().unwrap().len() <= MEMO_SIZE);
        assert_eq!(
            mapping.grants_of(&pin).unwrap().acr_values,
            ["mosip:idp:acr:static-code"]
        );
    }

    #[test]
    fn only_boolean_true_is_mandatory() {
        let mapping = defaults();
        for flag in [json!("true"), json!(1), json!(null), json!(false)] {
            let doc = json!({"allowedKycAttributes": [{"attributeName": "email"}],
                             "allowedAuthTypes": [{"authType": "pwd", "mandatory": flag}]});
            assert_eq!(
                mapping.grants(&doc).unwrap().acr_values,
                ["mosip:idp:acr:password"]
            );
        }
    }

    #[test]
    fn default_claim_table() {
        let table: [(&str, &[&str]); 8] = [
            ("name", &["fullName"]),
            (
                "address",
                &[
                    "addressLine1",
                    "addressLine2",
                    "addressLine3",
                    "city",
                    "region",
                    "province",
                    "postalCode",
                ],
            ),
            ("gender", &["gender"]),
            ("birthdate", &["dateOfBirth"]),
            ("picture", &["face"]),
            ("email", &["email"]),
            ("phone_number", &["phone"]),
            ("individual_id", &["individual_id"]),
        ];
        let mapping = defaults();
        for (claim, attributes) in table {
            for attribute in attributes {
                let grants = mapping.grants(&policy(&[attribute], &["pwd"])).unwrap();
                assert_eq!(grants.claims, [claim], "{attribute}");
            }
        }
        for unknown in ["photo", "middleName", "dob", ""] {
            assert_eq!(
                mapping.grants(&policy(&[unknown], &["pwd"])),
                Err(GrantsError::NoClaims)
            );
        }
    }

    #[test]
    fn default_acr_table_and_case_insensitivity() {
        let mapping = defaults();
        let table = [
            ("pwd", "mosip:idp:acr:password"),
            ("PIN", "mosip:idp:acr:static-code"),
            ("Otp", "mosip:idp:acr:generated-code"),
            ("wla", "mosip:idp:acr:linked-wallet"),
            ("BIO", "mosip:idp:acr:biometrics"),
        ];
        for (auth_type, acr) in table {
            let grants = mapping
                .grants(&policy(&["FULLNAME"], &[auth_type]))
                .unwrap();
            assert_eq!(grants.acr_values, [acr]);
            assert_eq!(grants.claims, ["name"]);
        }
        for auth_type in ["otp-request", "demo", "kyc", "kycauth", "kycexchange"] {
            assert_eq!(
                mapping.grants(&policy(&["email"], &[auth_type])),
                Err(GrantsError::NoAcr)
            );
        }
    }

    #[test]
    fn odd_policy_shapes_are_tolerated() {
        let mapping = defaults();
        for doc in [
            json!(null),
            json!([]),
            json!({}),
            json!({"allowedKycAttributes": "email"}),
            json!({"allowedKycAttributes": [1, null, {"attributeName": 7}, {"name": "email"}]}),
        ] {
            assert_eq!(mapping.grants(&doc), Err(GrantsError::NoClaims));
        }
        let doc = json!({"allowedKycAttributes": [{"attributeName": "email"}],
                         "allowedAuthTypes": [3, {"mandatory": false}, {"authType": ["pwd"]}]});
        assert_eq!(mapping.grants(&doc), Err(GrantsError::NoAcr));
        let doc = json!({"allowedKycAttributes": [{"attributeName": "email"}]});
        assert_eq!(mapping.grants(&doc), Err(GrantsError::NoAcr));
    }

    #[test]
    fn claims_follow_claims_supported_order_without_duplicates() {
        let identity = json!({"identity": {
            "a": {"value": "x"}, "b": {"value": " y , z "}, "c": {"value": "x"}}});
        let amr_acr = json!({"amr": {"PWD": [{"type": "PWD"}]}, "acr_amr": {"p": ["PWD"]}});
        let mapping = mapping(&["c", "b", "missing", "a", "c"], &identity, &amr_acr);
        let grants = mapping.grants(&policy(&["Z", "X"], &["pwd"])).unwrap();
        assert_eq!(grants.claims, ["c", "b", "a"]);
    }

    #[test]
    fn two_claims_with_identical_lists_are_both_selected() {
        let identity = json!({"identity": {
            "phone_number": {"value": "phone,mobile"}, "mobile": {"value": "phone, mobile"}}});
        let amr_acr = json!({"amr": {"PWD": [{"type": "PWD"}]}, "acr_amr": {"p": ["PWD"]}});
        let mapping = mapping(&["phone_number", "mobile"], &identity, &amr_acr);
        let grants = mapping.grants(&policy(&["mobile"], &["pwd"])).unwrap();
        assert_eq!(grants.claims, ["phone_number", "mobile"]);
    }

    #[test]
    fn empty_factor_list_or_amr_list_is_never_satisfied() {
        let identity = json!({"identity": {"email": {"value": "email"}}});
        let amr_acr = json!({
            "amr": {"NONE": [], "PWD": [{"type": "PWD"}], "MFA": [{"type": "PWD"}, {"type": "OTP", "count": 1}]},
            "acr_amr": {"empty-amr": ["NONE"], "empty-acr": [], "mixed": ["PWD", "NONE"],
                        "pwd": ["PWD"], "mfa": ["MFA"], "two": ["PWD", "MFA"]}
        });
        let mapping = mapping(&["email"], &identity, &amr_acr);
        let all = policy(&["email"], &["pwd", "otp", "bio", "demo"]);
        assert_eq!(
            mapping.grants(&all).unwrap().acr_values,
            ["pwd", "mfa", "two"]
        );
        let pwd_only = policy(&["email"], &["pwd"]);
        assert_eq!(mapping.grants(&pwd_only).unwrap().acr_values, ["pwd"]);
        let nothing = policy(&["email"], &[]);
        assert_eq!(mapping.grants(&nothing), Err(GrantsError::NoAcr));
    }

    #[test]
    fn unknown_amr_is_a_warning_and_never_selected() {
        let identity = json!({"identity": {"email": {"value": "email"}}});
        let amr_acr = json!({"amr": {"PWD": [{"type": "PWD"}]},
                             "acr_amr": {"ghost": ["PWD", "Knowledge"], "pwd": ["PWD"]}});
        let (mapping, warnings) = ClaimsMapping::new(
            strings(&["email"]),
            &identity.to_string(),
            &amr_acr.to_string(),
        )
        .unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("ghost") && warnings[0].contains("Knowledge"));
        let grants = mapping
            .grants(&policy(&["email"], &["pwd", "kba"]))
            .unwrap();
        assert_eq!(grants.acr_values, ["pwd"]);
    }

    #[test]
    fn defaults_load_without_warnings() {
        let (_, warnings) = ClaimsMapping::new(
            strings(DEFAULT_CLAIMS_SUPPORTED),
            DEFAULT_IDENTITY_MAPPING,
            DEFAULT_AMR_ACR_MAPPING,
        )
        .unwrap();
        assert!(warnings.is_empty());
    }

    #[test]
    fn mapping_errors() {
        let claims = strings(DEFAULT_CLAIMS_SUPPORTED);
        let ok_identity = DEFAULT_IDENTITY_MAPPING;
        let ok_amr = DEFAULT_AMR_ACR_MAPPING;

        let e = error(claims.clone(), "{", ok_amr);
        assert!(e.starts_with("identity mapping: not valid JSON"), "{e}");
        let e = error(claims.clone(), ok_identity, "[1,");
        assert!(e.starts_with("AMR/ACR mapping: not valid JSON"), "{e}");

        for bad in [r#"{}"#, r#"{"identity": []}"#, r#"[]"#] {
            assert_eq!(
                error(claims.clone(), bad, ok_amr),
                "identity mapping: `identity` is not an object"
            );
        }
        for bad in [
            r#"{"identity": {"name": {"value": 1}}}"#,
            r#"{"identity": {"name": {}}}"#,
            r#"{"identity": {"name": "fullName"}}"#,
        ] {
            assert_eq!(
                error(claims.clone(), bad, ok_amr),
                "identity mapping: `identity.name` has no string `value`"
            );
        }

        let acr = r#""acr_amr": {"a": ["PWD"]}"#;
        assert_eq!(
            error(claims.clone(), ok_identity, &format!("{{{acr}}}")),
            "AMR/ACR mapping: `amr` is not an object"
        );
        for bad in [
            r#""PWD""#,
            r#"["PWD"]"#,
            r#"[{"count": 1}]"#,
            r#"[{"type": 1}]"#,
        ] {
            assert_eq!(
                error(
                    claims.clone(),
                    ok_identity,
                    &format!(r#"{{"amr": {{"PWD": {bad}}}, {acr}}}"#)
                ),
                "AMR/ACR mapping: `amr.PWD` is not a list of objects with a string `type`"
            );
        }
        let amr = r#""amr": {"PWD": [{"type": "PWD"}]}"#;
        assert_eq!(
            error(claims.clone(), ok_identity, &format!("{{{amr}}}")),
            "AMR/ACR mapping: `acr_amr` is not an object"
        );
        for bad in [r#""PWD""#, r#"[1]"#, r#"[["PWD"]]"#] {
            assert_eq!(
                error(
                    claims.clone(),
                    ok_identity,
                    &format!(r#"{{{amr}, "acr_amr": {{"a": {bad}}}}}"#)
                ),
                "AMR/ACR mapping: `acr_amr.a` is not a list of strings"
            );
        }

        let many: Vec<String> = (0..31).map(|i| format!(r#""acr{i}": ["PWD"]"#)).collect();
        assert_eq!(
            error(
                claims.clone(),
                ok_identity,
                &format!(r#"{{{amr}, "acr_amr": {{{}}}}}"#, many.join(","))
            ),
            "AMR/ACR mapping: `acr_amr` has 31 entries; at most 30 are allowed"
        );
        let thirty: Vec<String> = (0..30).map(|i| format!(r#""acr{i}": ["PWD"]"#)).collect();
        assert!(ClaimsMapping::new(
            claims.clone(),
            ok_identity,
            &format!(r#"{{{amr}, "acr_amr": {{{}}}}}"#, thirty.join(","))
        )
        .is_ok());

        let too_many: Vec<String> = (0..31).map(|i| format!("claim{i}")).collect();
        assert_eq!(
            error(too_many, ok_identity, ok_amr),
            "claims_supported has 31 entries; at most 30 are allowed"
        );
        let enough: Vec<String> = (0..30).map(|i| format!("claim{i}")).collect();
        assert!(ClaimsMapping::new(enough, ok_identity, ok_amr).is_ok());
    }
}
