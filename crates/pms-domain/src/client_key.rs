//! OIDC client public keys: which JSON Web Keys pms accepts, the client id
//! derived from a key (as MOSIP derives it) and the normalised JSON text that is stored and sent
//! to eSignet (`docs/compatibility.md`, "Client ids").
//!
//! The id must match the one MOSIP PMS 1.2.2 derives, so the SPKI DER is produced by the `rsa` and
//! `p256` crates (the same encoding as Java's `PublicKey.getEncoded()`), never assembled by hand.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
// `rsa` and `p256` implement the same `pkcs8` trait, so one import serves both key types.
use rsa::pkcs8::EncodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Private-key members, in the order check 2 looks for them (the first one found is named).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// eSignet keeps the key in a 1024-character column (check 14).
const MAX_STORED_CHARS: usize = 1024;

/// The largest public exponent the `rsa` crate accepts (2^33 - 1). Java would take a larger one,
/// but a key the `rsa` crate refuses cannot be encoded here, so it is treated like an even one.
const RSA_MAX_EXPONENT: u64 = (1 << 33) - 1;

const EXPONENT_INVALID: &str = "RSA public exponent is invalid";

/// Not one of MOSIP's 14 key reasons: an even modulus passes every listed check but
/// cannot be an RSA modulus, and the `rsa` crate refuses to build a key from it.
const MODULUS_INVALID: &str = "RSA modulus is invalid";

const NOT_ON_CURVE: &str = "EC point is not on curve P-256";

/// The size limits on RSA moduli (config `oidc_client.rsa_min_bits` / `rsa_max_bits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    pub rsa_min_bits: usize,
    /// eSignet's 1024-character key column is why the default stops at 4096.
    pub rsa_max_bits: usize,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            rsa_min_bits: 2048,
            rsa_max_bits: 4096,
        }
    }
}

/// A JWK accepted under the key policy, normalised, with its derived client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPublicKey {
    client_id: String,
    normalized_json: String,
}

/// The reason text of a refused key (e.g. "private key member d is not accepted").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyRejection(pub String);

fn reject(reason: impl Into<String>) -> KeyRejection {
    KeyRejection(reason.into())
}

impl ClientPublicKey {
    /// Runs the 14 key checks in order; the first failure is returned.
    pub fn parse(jwk: &Value, policy: &KeyPolicy) -> Result<Self, KeyRejection> {
        let (spki_der, normalized_json) = accept(jwk, policy)?;
        Ok(Self {
            client_id: client_id_of_spki(&spki_der),
            normalized_json,
        })
    }

    /// The 43-character base64url client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The compact JSON text, members in a fixed order: `kty`, the key's own members (`n`, `e`
    /// or `crv`, `x`, `y`), then `kid`, `use`, `alg` where present; other members dropped.
    pub fn normalized_json(&self) -> &str {
        &self.normalized_json
    }

    /// The normalised key as a JSON value, member order kept. (The text is always JSON, as
    /// `parse` wrote it; the fallback only avoids a panic path.)
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.normalized_json)
            .unwrap_or_else(|_| Value::String(self.normalized_json.clone()))
    }
}

/// Checks 1–14; on success returns the SPKI DER and the normalised JSON text.
fn accept(jwk: &Value, policy: &KeyPolicy) -> Result<(Vec<u8>, String), KeyRejection> {
    // A non-object has no `kty`, so it fails check 1 like `{}` would.
    let empty = Map::new();
    let members = jwk.as_object().unwrap_or(&empty);

    let Some(Value::String(kty)) = members.get("kty") else {
        return Err(reject("kty is missing"));
    };
    if let Some(name) = PRIVATE_MEMBERS.iter().find(|m| members.contains_key(**m)) {
        return Err(reject(format!("private key member {name} is not accepted")));
    }
    let (spki_der, mut normalized, allowed_algs) = match kty.as_str() {
        "RSA" => {
            let (der, normalized) = rsa_key(members, policy)?;
            (der, normalized, &["RS256", "PS256"][..])
        }
        "EC" => {
            let (der, normalized) = ec_key(members)?;
            (der, normalized, &["ES256"][..])
        }
        other => {
            return Err(reject(format!(
                "unsupported key type {other}; only RSA and EC P-256 are accepted"
            )))
        }
    };

    if let Some(kid) = members.get("kid") {
        if !kid.is_string() {
            return Err(reject("kid must be a string"));
        }
        normalized.insert("kid".to_owned(), kid.clone());
    }
    if let Some(key_use) = members.get("use") {
        if key_use.as_str() != Some("sig") {
            return Err(reject("use must be sig"));
        }
        normalized.insert("use".to_owned(), key_use.clone());
    }
    if let Some(alg) = members.get("alg") {
        match alg.as_str() {
            Some(name) if allowed_algs.contains(&name) => {}
            // A non-string `alg` is shown as its JSON text so the reason still names it.
            Some(name) => return Err(reject(format!("alg {name} is not allowed for kty {kty}"))),
            None => return Err(reject(format!("alg {alg} is not allowed for kty {kty}"))),
        }
        normalized.insert("alg".to_owned(), alg.clone());
    }

    let text = Value::Object(normalized).to_string();
    // eSignet's column counts characters, not bytes (a `kid` may be non-ASCII).
    if text.chars().count() > MAX_STORED_CHARS {
        return Err(reject("key is too large"));
    }
    Ok((spki_der, text))
}

/// The client id: SHA-256 over the ASCII of the padded standard Base64 of the DER (not over
/// the DER itself, as MOSIP does), then base64url without padding.
fn client_id_of_spki(spki_der: &[u8]) -> String {
    let spki_base64 = STANDARD.encode(spki_der);
    URL_SAFE_NO_PAD.encode(Sha256::digest(spki_base64.as_bytes()))
}

/// Check 4 for one member. The URL-safe no-padding engine rejects `=`, `+`, `/`, whitespace and
/// non-zero trailing bits, so only the canonical encoding of a byte string is accepted.
fn base64url_member(members: &Map<String, Value>, name: &str) -> Result<Vec<u8>, KeyRejection> {
    members
        .get(name)
        .and_then(Value::as_str)
        .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
        .ok_or_else(|| reject(format!("member {name} is missing or not base64url")))
}

/// Big-endian unsigned integers may carry leading zero octets; they change
/// neither the length check nor the id.
fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_length(minimal_be: &[u8]) -> usize {
    match minimal_be.first() {
        None => 0,
        Some(top) => minimal_be.len() * 8 - top.leading_zeros() as usize,
    }
}

/// Checks 4–7 for `kty` `RSA`.
fn rsa_key(
    members: &Map<String, Value>,
    policy: &KeyPolicy,
) -> Result<(Vec<u8>, Map<String, Value>), KeyRejection> {
    let n_raw = base64url_member(members, "n")?;
    let e_raw = base64url_member(members, "e")?;
    let n = strip_leading_zeros(&n_raw);
    let e = strip_leading_zeros(&e_raw);

    let bits = bit_length(n);
    if bits < policy.rsa_min_bits {
        return Err(reject(format!(
            "RSA modulus has {bits} bits; at least {} are required",
            policy.rsa_min_bits
        )));
    }
    if bits > policy.rsa_max_bits {
        return Err(reject(format!(
            "RSA modulus has {bits} bits; at most {} are accepted",
            policy.rsa_max_bits
        )));
    }

    let modulus = BigUint::from_bytes_be(n);
    let exponent = BigUint::from_bytes_be(e);
    // Beyond the spec's "odd and at least 3", an exponent the `rsa` crate refuses (above 2^33 - 1,
    // or not below the modulus, which only a policy allowing tiny moduli lets through) gets the
    // same reason, since without the crate the SPKI (and so the id) cannot be produced.
    let odd = e.last().is_some_and(|low| low % 2 == 1);
    if !odd
        || exponent < BigUint::from(3u8)
        || exponent > BigUint::from(RSA_MAX_EXPONENT)
        || exponent >= modulus
    {
        return Err(reject(EXPONENT_INVALID));
    }
    if n.last().is_some_and(|low| low % 2 == 0) {
        return Err(reject(MODULUS_INVALID));
    }
    // The checks above cover every condition the `rsa` crate tests, so this does not fail in
    // practice; if it ever did, the modulus is the remaining suspect.
    let key = RsaPublicKey::new_with_max_size(modulus, exponent, policy.rsa_max_bits)
        .map_err(|_| reject(MODULUS_INVALID))?;
    let der = key
        .to_public_key_der()
        .map_err(|_| reject(MODULUS_INVALID))?
        .into_vec();

    let mut normalized = Map::new();
    normalized.insert("kty".to_owned(), Value::from("RSA"));
    normalized.insert(
        "n".to_owned(),
        Value::from(URL_SAFE_NO_PAD.encode(key.n().to_bytes_be())),
    );
    normalized.insert(
        "e".to_owned(),
        Value::from(URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())),
    );
    Ok((der, normalized))
}

/// Checks 4 and 8–10 for `kty` `EC`.
fn ec_key(members: &Map<String, Value>) -> Result<(Vec<u8>, Map<String, Value>), KeyRejection> {
    // `crv` is a name, not base64url, so for it check 4 only means "missing or not a string";
    // the reason keeps the table's single wording for every required member.
    let Some(Value::String(crv)) = members.get("crv") else {
        return Err(reject("member crv is missing or not base64url"));
    };
    let x = base64url_member(members, "x")?;
    let y = base64url_member(members, "y")?;
    if crv != "P-256" {
        return Err(reject(format!(
            "unsupported curve {crv}; only P-256 is accepted"
        )));
    }
    if x.len() != 32 {
        return Err(reject("EC coordinate x must be 32 bytes"));
    }
    if y.len() != 32 {
        return Err(reject("EC coordinate y must be 32 bytes"));
    }

    // The uncompressed SEC1 form; `from_sec1_bytes` rejects coordinates that are not field
    // elements and points that do not satisfy the curve equation.
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    let point = p256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| reject(NOT_ON_CURVE))?;
    let der = point
        .to_public_key_der()
        .map_err(|_| reject(NOT_ON_CURVE))?
        .into_vec();

    let mut normalized = Map::new();
    normalized.insert("kty".to_owned(), Value::from("EC"));
    normalized.insert("crv".to_owned(), Value::from("P-256"));
    normalized.insert("x".to_owned(), Value::from(URL_SAFE_NO_PAD.encode(&x)));
    normalized.insert("y".to_owned(), Value::from(URL_SAFE_NO_PAD.encode(&y)));
    Ok((der, normalized))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
