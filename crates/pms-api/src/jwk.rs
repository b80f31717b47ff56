//! PEM → JWK, for `pms jwk --from-pem FILE` and the portal's PEM upload: turns a PEM key (public
//! or private; SPKI, PKCS#1, PKCS#8 or SEC1) into the public JWK an OIDC client create expects, so
//! relying parties need no extra tooling. Only the public half is ever returned.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use pms_domain::client_key::{ClientPublicKey, KeyPolicy};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

/// Why a PEM text gives no usable key, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwkError(pub String);

type Result<T> = std::result::Result<T, JwkError>;

macro_rules! bail {
    ($($t:tt)*) => { return Err(JwkError(format!($($t)*))) };
}

/// `anyhow`-style context for the conversions below.
trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| JwkError(format!("{what}: {e}")))
    }
}

/// The first PEM block of `text`: its label and the whole block (BEGIN..END lines).
fn first_key_block(text: &str) -> Option<(&str, &str)> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after.find("-----")?;
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = rest[start..].find(&end_marker)? + start + end_marker.len();
        // openssl writes `EC PARAMETERS` before a SEC1 key; it holds no key.
        if label != "EC PARAMETERS" {
            return Some((label, &rest[start..end]));
        }
        rest = &rest[end..];
    }
    None
}

fn rsa_jwk(key: &rsa::RsaPublicKey) -> Value {
    json!({
        "kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

fn ec_jwk(key: &p256::PublicKey) -> Result<Value> {
    serde_json::from_str(&key.to_jwk_string()).context("cannot encode the EC key as a JWK")
}

/// The public JWK of the key in `pem`.
pub fn public_jwk(pem: &str) -> Result<Value> {
    let Some((label, block)) = first_key_block(pem) else {
        bail!("no PEM key block found");
    };
    let jwk = match label {
        "PUBLIC KEY" => match p256::PublicKey::from_public_key_pem(block) {
            Ok(k) => ec_jwk(&k)?,
            Err(_) => rsa_jwk(
                &rsa::RsaPublicKey::from_public_key_pem(block)
                    .context("not an RSA or EC P-256 public key")?,
            ),
        },
        "RSA PUBLIC KEY" => rsa_jwk(
            &rsa::RsaPublicKey::from_pkcs1_pem(block).context("not a PKCS#1 RSA public key")?,
        ),
        "PRIVATE KEY" => match p256::SecretKey::from_pkcs8_pem(block) {
            Ok(k) => ec_jwk(&k.public_key())?,
            Err(_) => rsa_jwk(
                &rsa::RsaPrivateKey::from_pkcs8_pem(block)
                    .context("not an RSA or EC P-256 private key")?
                    .to_public_key(),
            ),
        },
        "RSA PRIVATE KEY" => rsa_jwk(
            &rsa::RsaPrivateKey::from_pkcs1_pem(block)
                .context("not a PKCS#1 RSA private key")?
                .to_public_key(),
        ),
        "EC PRIVATE KEY" => ec_jwk(
            &p256::SecretKey::from_sec1_pem(block)
                .context("not an EC P-256 private key")?
                .public_key(),
        )?,
        other => bail!("unsupported PEM block {other:?}"),
    };
    Ok(jwk)
}

/// The JWK with `kid`, `use: sig` and the key type's default `alg`, checked against pms's key
/// policy, and the client id it will get.
pub fn for_client(pem: &str, kid: Option<&str>, policy: &KeyPolicy) -> Result<(Value, String)> {
    let mut jwk = public_jwk(pem)?;
    if let Some(obj) = jwk.as_object_mut() {
        if let Some(kid) = kid {
            obj.insert("kid".into(), json!(kid));
        }
        obj.insert("use".into(), json!("sig"));
        let alg = if obj.get("kty") == Some(&json!("RSA")) {
            "RS256"
        } else {
            "ES256"
        };
        obj.insert("alg".into(), json!(alg));
    }
    let key = ClientPublicKey::parse(&jwk, policy)
        .map_err(|e| JwkError(format!("pms would reject this key: {e}")))?;
    Ok((key.to_value(), key.client_id().to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    #[test]
    fn every_ec_encoding_gives_the_same_public_jwk() {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let expected = ec_jwk(&secret.public_key()).unwrap();
        let pkcs8 = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        let sec1 = secret.to_sec1_pem(LineEnding::LF).unwrap();
        let spki = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            sec1.as_str()
        );
        for pem in [pkcs8.as_str(), sec1.as_str(), spki.as_str(), &with_params] {
            let jwk = public_jwk(pem).unwrap();
            assert_eq!(jwk, expected);
            assert!(jwk.get("d").is_none());
        }
    }

    /// The RSA key of client-id.md §4.1 as an SPKI PEM gives the spec's client id.
    #[test]
    fn rsa_spki_gives_the_spec_vector_id() {
        let b64 = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwXGQA574CU+WTWPILd4S3/1sJf0Yof0kwMeNctXc1thQo70Ljfn9f4igpRe7f8qNs/W6dLuLWemFhGJBQBQ7vvickECKNJfo/EzSD/yyPCg7k/AGbTWTkuoObHrpilwJGyKVSkOIujH/FqHIVkwkVXjWc25Lsb8Gq4nAHNQEqqgaYPLEi5evCR6S0FzcXTPuRh9zH+cM0Onjv4orrfYpEr61HcRp5MXL55b7yBoIYlXD8NfalcgdrWzp4VZHvQ8yT9G5eaf27XUn6ZBeBf7VnELcKFTyw1pK2wqoOxRBc8Y1wO6rEy8PlCU6wD+mbIzcjG1wUfnbgvJOM4A5G41quQIDAQAB";
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        );
        let (jwk, id) = for_client(&pem, Some("k1"), &KeyPolicy::default()).unwrap();
        assert_eq!(id, "PcdI1nGbDbhvVj_h86tQGtoF52brbA8RqqYJ7o1oRVI");
        assert_eq!(jwk["kid"], "k1");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["e"], "AQAB");
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(public_jwk("hello").is_err());
        let err = public_jwk("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap_err();
        assert!(err.to_string().contains("CERTIFICATE"), "{err}");
    }
}
