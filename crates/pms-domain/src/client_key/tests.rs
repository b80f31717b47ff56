//! The key policy's test vectors and property tests.
use super::*;
use proptest::prelude::*;
use serde_json::json;

const RSA_N: &str = "wXGQA574CU-WTWPILd4S3_1sJf0Yof0kwMeNctXc1thQo70Ljfn9f4igpRe7f8qNs_W6dLuLWemFhGJBQBQ7vvickECKNJfo_EzSD_yyPCg7k_AGbTWTkuoObHrpilwJGyKVSkOIujH_FqHIVkwkVXjWc25Lsb8Gq4nAHNQEqqgaYPLEi5evCR6S0FzcXTPuRh9zH-cM0Onjv4orrfYpEr61HcRp5MXL55b7yBoIYlXD8NfalcgdrWzp4VZHvQ8yT9G5eaf27XUn6ZBeBf7VnELcKFTyw1pK2wqoOxRBc8Y1wO6rEy8PlCU6wD-mbIzcjG1wUfnbgvJOM4A5G41quQ";
const RSA_ID: &str = "PcdI1nGbDbhvVj_h86tQGtoF52brbA8RqqYJ7o1oRVI";
const EC_X: &str = "D_d95uQX3nhDefU4NSsrQT87O65aC73U71zesD4bkvk";
const EC_Y: &str = "6nSPXQO83XJBWzRWkZdcH3Qtpojc6qTffzV0N3S-atk";
const EC_ID: &str = "BgUSSeaEb9jpXBRVCC4uRJ5QOzy3EbAPSLO0nO0VV3w";

/// A real 1024-bit modulus (from `openssl genrsa 1024`), with the id openssl's own SPKI gives.
const RSA_1024_N: &str = "sUog7wcptauLwhUxSKhkG-KL7bGHxqK3rlmolLrK4CaPgBDbWr9NVDC3gXWeyXxm8qKXVcYcT4rJjbReI3DrAnLFr3R4X-gX4Ap8c3zz597lwCwE0rFCUudp5yLEv2riNp3DIEbA4-lzvvH7xIwICPuVuvXohszQH8xjvACFBv0";
const RSA_1024_SPKI: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCxSiDvBym1q4vCFTFIqGQb4ovtsYfGoreuWaiUusrgJo+AENtav01UMLeBdZ7JfGbyopdVxhxPismNtF4jcOsCcsWvdHhf6BfgCnxzfPPn3uXALATSsUJS52nnIsS/auI2ncMgRsDj6XO+8fvEjAgI+5W69eiGzNAfzGO8AIUG/QIDAQAB";
const RSA_1024_ID: &str = "ZB5NMwrE7D8tMg0mHv2S6nYbKL8iBSLuW1HO5PPwMvA";

fn rsa_41() -> Value {
    json!({"kty":"RSA","e":"AQAB","use":"sig","kid":"1bbdc9de-c24f-4801-b6b3-691ac07641af","alg":"RS256","n":RSA_N})
}

fn ec_42() -> Value {
    json!({"kty":"EC","crv":"P-256","x":EC_X,"y":EC_Y})
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk.as_object_mut()
        .unwrap()
        .insert(member.to_owned(), value);
    jwk
}

fn without(mut jwk: Value, member: &str) -> Value {
    jwk.as_object_mut().unwrap().shift_remove(member);
    jwk
}

fn parse(jwk: &Value) -> Result<ClientPublicKey, KeyRejection> {
    ClientPublicKey::parse(jwk, &KeyPolicy::default())
}

fn reason(jwk: &Value) -> String {
    parse(jwk).expect_err("the key must be rejected").0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64url_of_len(len: usize, fill: u8) -> String {
    URL_SAFE_NO_PAD.encode(vec![fill; len])
}

#[test]
fn vector_4_1_rsa_every_step() {
    let (der, _) = accept(&rsa_41(), &KeyPolicy::default()).unwrap();
    assert_eq!(der.len(), 294);
    assert_eq!(
        hex(&der[..24]),
        "30820122300d06092a864886f70d0101010500038201 0f00".replace(' ', "")
    );
    let spki_base64 = STANDARD.encode(&der);
    assert_eq!(spki_base64.len(), 392);
    assert_eq!(spki_base64, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwXGQA574CU+WTWPILd4S3/1sJf0Yof0kwMeNctXc1thQo70Ljfn9f4igpRe7f8qNs/W6dLuLWemFhGJBQBQ7vvickECKNJfo/EzSD/yyPCg7k/AGbTWTkuoObHrpilwJGyKVSkOIujH/FqHIVkwkVXjWc25Lsb8Gq4nAHNQEqqgaYPLEi5evCR6S0FzcXTPuRh9zH+cM0Onjv4orrfYpEr61HcRp5MXL55b7yBoIYlXD8NfalcgdrWzp4VZHvQ8yT9G5eaf27XUn6ZBeBf7VnELcKFTyw1pK2wqoOxRBc8Y1wO6rEy8PlCU6wD+mbIzcjG1wUfnbgvJOM4A5G41quQIDAQAB");
    assert_eq!(
        hex(&Sha256::digest(spki_base64.as_bytes())),
        "3dc748d6719b0db86f563fe1f3ab501ada05e766eb6c0f11aaa609ee8d684552"
    );
    let key = parse(&rsa_41()).unwrap();
    assert_eq!(key.client_id(), RSA_ID);
    assert_eq!(key.client_id().len(), 43);
}

#[test]
fn vector_4_2_ec_every_step() {
    let (der, _) = accept(&ec_42(), &KeyPolicy::default()).unwrap();
    assert_eq!(der.len(), 91);
    assert_eq!(
        hex(&der[..27]),
        "3059301306072a8648ce3d020106082a8648ce3d030107034200 04".replace(' ', "")
    );
    let spki_base64 = STANDARD.encode(&der);
    assert_eq!(spki_base64.len(), 124);
    assert_eq!(spki_base64, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAED/d95uQX3nhDefU4NSsrQT87O65aC73U71zesD4bkvnqdI9dA7zdckFbNFaRl1wfdC2miNzqpN9/NXQ3dL5q2Q==");
    assert_eq!(
        hex(&Sha256::digest(spki_base64.as_bytes())),
        "06051249e6846fd8e95c1455082e2e449e503b3cb711b00f48b3b49ced15577c"
    );
    assert_eq!(parse(&ec_42()).unwrap().client_id(), EC_ID);
}

#[test]
fn rsa_1024_matches_openssl_when_the_policy_allows_it() {
    let jwk = json!({"kty":"RSA","n":RSA_1024_N,"e":"AQAB"});
    let policy = KeyPolicy {
        rsa_min_bits: 1024,
        rsa_max_bits: 4096,
    };
    let (der, _) = accept(&jwk, &policy).unwrap();
    assert_eq!(STANDARD.encode(der), RSA_1024_SPKI);
    assert_eq!(
        ClientPublicKey::parse(&jwk, &policy).unwrap().client_id(),
        RSA_1024_ID
    );
}

#[test]
fn vector_4_3_invariance() {
    let bare = without(without(without(rsa_41(), "kid"), "use"), "alg");
    assert_eq!(parse(&bare).unwrap().client_id(), RSA_ID);

    let reordered = json!({"n":RSA_N,"alg":"RS256","kid":"1bbdc9de-c24f-4801-b6b3-691ac07641af","e":"AQAB","use":"sig","kty":"RSA"});
    assert_eq!(parse(&reordered).unwrap().client_id(), RSA_ID);

    let mut padded_n = vec![0u8];
    padded_n.extend(URL_SAFE_NO_PAD.decode(RSA_N).unwrap());
    let padded_n = URL_SAFE_NO_PAD.encode(padded_n);
    assert!(padded_n.starts_with("AMFxkAOe-AlP"));
    let key = parse(&with(rsa_41(), "n", json!(padded_n))).unwrap();
    assert_eq!(key.client_id(), RSA_ID);
    assert_eq!(key.to_value()["n"], json!(RSA_N), "n is stored minimal");

    let key = parse(&with(rsa_41(), "e", json!("AAEAAQ"))).unwrap();
    assert_eq!(key.client_id(), RSA_ID);
    assert_eq!(key.to_value()["e"], json!("AQAB"), "e is stored minimal");

    let ec = with(
        with(with(ec_42(), "kid", json!("ec-key-1")), "use", json!("sig")),
        "alg",
        json!("ES256"),
    );
    assert_eq!(parse(&ec).unwrap().client_id(), EC_ID);
}

#[test]
fn vector_4_4_rejections() {
    assert_eq!(
        reason(&with(rsa_41(), "d", json!("AQAB"))),
        "private key member d is not accepted"
    );
    assert_eq!(
        reason(
            &json!({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
        ),
        "unsupported key type OKP; only RSA and EC P-256 are accepted"
    );
    assert_eq!(
        reason(&json!({"kty":"RSA","n":RSA_1024_N,"e":"AQAB"})),
        "RSA modulus has 1024 bits; at least 2048 are required"
    );
    assert_eq!(
        reason(&with(ec_42(), "crv", json!("P-384"))),
        "unsupported curve P-384; only P-256 is accepted"
    );
    assert_eq!(
        reason(&with(rsa_41(), "alg", json!("ES256"))),
        "alg ES256 is not allowed for kty RSA"
    );
}

#[test]
fn normalised_form_orders_members_and_drops_others() {
    let jwk = json!({"x5c":["MII"],"alg":"RS256","n":RSA_N,"key_ops":["verify"],"use":"sig","e":"AQAB","kid":"k1","kty":"RSA","ext":true});
    let key = parse(&jwk).unwrap();
    let expected =
        format!(r#"{{"kty":"RSA","n":"{RSA_N}","e":"AQAB","kid":"k1","use":"sig","alg":"RS256"}}"#);
    assert_eq!(key.normalized_json(), expected);
    let members: Vec<_> = key
        .to_value()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(members, ["kty", "n", "e", "kid", "use", "alg"]);

    let jwk =
        json!({"alg":"ES256","y":EC_Y,"x5t":"abc","x":EC_X,"kid":"e","crv":"P-256","kty":"EC"});
    let key = parse(&jwk).unwrap();
    let expected = format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_Y}","kid":"e","alg":"ES256"}}"#
    );
    assert_eq!(key.normalized_json(), expected);
}

#[test]
fn check_1_kty_missing_or_not_a_string() {
    assert_eq!(reason(&without(rsa_41(), "kty")), "kty is missing");
    assert_eq!(reason(&with(rsa_41(), "kty", json!(1))), "kty is missing");
    assert_eq!(reason(&json!({})), "kty is missing");
    assert_eq!(reason(&json!(["RSA"])), "kty is missing");
    assert_eq!(reason(&json!("RSA")), "kty is missing");
    // check 1 comes before check 2
    assert_eq!(reason(&json!({"d":"AQAB"})), "kty is missing");
}

#[test]
fn check_2_names_the_first_private_member_in_list_order() {
    for name in PRIVATE_MEMBERS {
        assert_eq!(
            reason(&with(rsa_41(), name, json!("AQAB"))),
            format!("private key member {name} is not accepted")
        );
    }
    let jwk = with(with(rsa_41(), "k", json!("x")), "qi", json!("x"));
    assert_eq!(reason(&jwk), "private key member qi is not accepted");
    // check 2 comes before check 3
    assert_eq!(
        reason(&json!({"kty":"oct","k":"AQAB"})),
        "private key member k is not accepted"
    );
}

#[test]
fn check_3_unsupported_key_type() {
    assert_eq!(
        reason(&json!({"kty":"oct"})),
        "unsupported key type oct; only RSA and EC P-256 are accepted"
    );
    assert_eq!(
        reason(&with(rsa_41(), "kty", json!("rsa"))),
        "unsupported key type rsa; only RSA and EC P-256 are accepted"
    );
}

#[test]
fn check_4_required_members() {
    let cases = [
        (without(rsa_41(), "n"), "n"),
        (with(rsa_41(), "n", json!(5)), "n"),
        (with(rsa_41(), "n", json!(format!("{RSA_N}="))), "n"),
        (without(rsa_41(), "e"), "e"),
        (with(rsa_41(), "e", json!("AQAB=")), "e"),
        (with(rsa_41(), "e", json!("AQ+B")), "e"),
        (with(rsa_41(), "e", json!("AQ/B")), "e"),
        (with(rsa_41(), "e", json!("AQ AB")), "e"),
        // non-zero trailing bits: not the canonical encoding of any byte string
        (with(rsa_41(), "e", json!("AQB")), "e"),
        (with(rsa_41(), "e", json!("AQABA")), "e"),
        (without(ec_42(), "crv"), "crv"),
        (with(ec_42(), "crv", json!(256)), "crv"),
        (without(ec_42(), "x"), "x"),
        (with(ec_42(), "x", json!(format!("{EC_X}="))), "x"),
        (without(ec_42(), "y"), "y"),
        (with(ec_42(), "y", json!([EC_Y])), "y"),
    ];
    for (jwk, member) in cases {
        assert_eq!(
            reason(&jwk),
            format!("member {member} is missing or not base64url"),
            "{jwk}"
        );
    }
    // n is checked before e, crv before x before y
    assert_eq!(
        reason(&json!({"kty":"RSA"})),
        "member n is missing or not base64url"
    );
    assert_eq!(
        reason(&json!({"kty":"EC"})),
        "member crv is missing or not base64url"
    );
    assert_eq!(
        reason(&json!({"kty":"EC","crv":"P-384"})),
        "member x is missing or not base64url"
    );
}

#[test]
fn checks_5_and_6_modulus_length() {
    assert_eq!(
        reason(&json!({"kty":"RSA","n":b64url_of_len(255, 0xff),"e":"AQAB"})),
        "RSA modulus has 2040 bits; at least 2048 are required"
    );
    assert_eq!(
        reason(&json!({"kty":"RSA","n":"","e":"AQAB"})),
        "RSA modulus has 0 bits; at least 2048 are required"
    );
    // leading zero octets do not count
    let mut padded = vec![0u8; 3];
    padded.extend(URL_SAFE_NO_PAD.decode(RSA_1024_N).unwrap());
    assert_eq!(
        reason(&json!({"kty":"RSA","n":URL_SAFE_NO_PAD.encode(padded),"e":"AQAB"})),
        "RSA modulus has 1024 bits; at least 2048 are required"
    );
    // a top octet of 0x01 makes 4097 bits
    let mut long = vec![0x01u8];
    long.extend(vec![0xffu8; 512]);
    assert_eq!(
        reason(&json!({"kty":"RSA","n":URL_SAFE_NO_PAD.encode(long),"e":"AQAB"})),
        "RSA modulus has 4097 bits; at most 4096 are accepted"
    );
    let policy = KeyPolicy {
        rsa_min_bits: 1024,
        rsa_max_bits: 2000,
    };
    assert_eq!(
        ClientPublicKey::parse(&rsa_41(), &policy).unwrap_err().0,
        "RSA modulus has 2048 bits; at most 2000 are accepted"
    );
}

#[test]
fn check_7_exponent() {
    for e in ["AQAA", "Ag", "AQ", "AA", "", "Aw=="] {
        let jwk = with(rsa_41(), "e", json!(e));
        let expected = if e.ends_with('=') {
            "member e is missing or not base64url"
        } else {
            EXPONENT_INVALID
        };
        assert_eq!(reason(&jwk), expected, "e = {e:?}");
    }
    // 3 is the smallest exponent accepted
    assert!(parse(&with(rsa_41(), "e", json!("Aw"))).is_ok());
    // the `rsa` crate's upper bound (2^33 - 1) is accepted, one step beyond is not
    let max = URL_SAFE_NO_PAD.encode(RSA_MAX_EXPONENT.to_be_bytes());
    assert!(parse(&with(rsa_41(), "e", json!(max))).is_ok());
    let beyond = URL_SAFE_NO_PAD.encode((RSA_MAX_EXPONENT + 2).to_be_bytes());
    assert_eq!(
        reason(&with(rsa_41(), "e", json!(beyond))),
        EXPONENT_INVALID
    );
    // exponent checks come before the modulus-parity check
    let mut even_n = URL_SAFE_NO_PAD.decode(RSA_N).unwrap();
    *even_n.last_mut().unwrap() &= 0xfe;
    let jwk = json!({"kty":"RSA","n":URL_SAFE_NO_PAD.encode(&even_n),"e":"AQAA"});
    assert_eq!(reason(&jwk), EXPONENT_INVALID);
}

#[test]
fn even_modulus_is_refused() {
    let mut even_n = URL_SAFE_NO_PAD.decode(RSA_N).unwrap();
    *even_n.last_mut().unwrap() &= 0xfe;
    let jwk = json!({"kty":"RSA","n":URL_SAFE_NO_PAD.encode(even_n),"e":"AQAB"});
    assert_eq!(reason(&jwk), MODULUS_INVALID);
}

#[test]
fn exponent_not_below_modulus_is_refused() {
    let policy = KeyPolicy {
        rsa_min_bits: 0,
        rsa_max_bits: 4096,
    };
    let jwk = json!({"kty":"RSA","n":"Aw","e":"Aw"});
    assert_eq!(
        ClientPublicKey::parse(&jwk, &policy).unwrap_err().0,
        EXPONENT_INVALID
    );
}

#[test]
fn check_8_curve() {
    assert_eq!(
        reason(&with(ec_42(), "crv", json!("secp256k1"))),
        "unsupported curve secp256k1; only P-256 is accepted"
    );
    // check 8 comes before check 9
    let jwk = json!({"kty":"EC","crv":"P-521","x":b64url_of_len(66, 1),"y":b64url_of_len(66, 1)});
    assert_eq!(
        reason(&jwk),
        "unsupported curve P-521; only P-256 is accepted"
    );
}

#[test]
fn check_9_coordinate_length() {
    assert_eq!(
        reason(&with(ec_42(), "x", json!(b64url_of_len(31, 1)))),
        "EC coordinate x must be 32 bytes"
    );
    let mut padded_x = vec![0u8];
    padded_x.extend(URL_SAFE_NO_PAD.decode(EC_X).unwrap());
    assert_eq!(
        reason(&with(ec_42(), "x", json!(URL_SAFE_NO_PAD.encode(padded_x)))),
        "EC coordinate x must be 32 bytes"
    );
    assert_eq!(
        reason(&with(ec_42(), "y", json!(b64url_of_len(33, 1)))),
        "EC coordinate y must be 32 bytes"
    );
    assert_eq!(
        reason(&with(
            with(ec_42(), "x", json!("")),
            "y",
            json!(b64url_of_len(33, 1))
        )),
        "EC coordinate x must be 32 bytes"
    );
}

#[test]
fn check_10_point_on_curve() {
    let mut y = URL_SAFE_NO_PAD.decode(EC_Y).unwrap();
    y[31] ^= 1;
    assert_eq!(
        reason(&with(ec_42(), "y", json!(URL_SAFE_NO_PAD.encode(y)))),
        NOT_ON_CURVE
    );
    // coordinates at or above the field prime are not field elements
    let ff = b64url_of_len(32, 0xff);
    assert_eq!(
        reason(&with(with(ec_42(), "x", json!(ff.clone())), "y", json!(ff))),
        NOT_ON_CURVE
    );
    let zero = b64url_of_len(32, 0);
    assert_eq!(
        reason(&with(
            with(ec_42(), "x", json!(zero.clone())),
            "y",
            json!(zero)
        )),
        NOT_ON_CURVE
    );
}

#[test]
fn check_11_kid() {
    assert_eq!(
        reason(&with(rsa_41(), "kid", json!(7))),
        "kid must be a string"
    );
    assert_eq!(
        reason(&with(ec_42(), "kid", json!(null))),
        "kid must be a string"
    );
    // checks 11-13 run after the key material checks
    let jwk = with(with(rsa_41(), "kid", json!(7)), "e", json!("AQAA"));
    assert_eq!(reason(&jwk), EXPONENT_INVALID);
}

#[test]
fn check_12_use() {
    assert_eq!(
        reason(&with(rsa_41(), "use", json!("enc"))),
        "use must be sig"
    );
    assert_eq!(
        reason(&with(rsa_41(), "use", json!("SIG"))),
        "use must be sig"
    );
    assert_eq!(
        reason(&with(ec_42(), "use", json!(true))),
        "use must be sig"
    );
    // check 11 before 12, 12 before 13
    let jwk = with(with(rsa_41(), "kid", json!(1)), "use", json!("enc"));
    assert_eq!(reason(&jwk), "kid must be a string");
    let jwk = with(with(rsa_41(), "use", json!("enc")), "alg", json!("none"));
    assert_eq!(reason(&jwk), "use must be sig");
}

#[test]
fn check_13_alg() {
    assert!(parse(&with(rsa_41(), "alg", json!("PS256"))).is_ok());
    assert_eq!(
        reason(&with(rsa_41(), "alg", json!("RS512"))),
        "alg RS512 is not allowed for kty RSA"
    );
    assert_eq!(
        reason(&with(ec_42(), "alg", json!("RS256"))),
        "alg RS256 is not allowed for kty EC"
    );
    assert_eq!(
        reason(&with(ec_42(), "alg", json!(256))),
        "alg 256 is not allowed for kty EC"
    );
}

#[test]
fn check_14_stored_form_length() {
    // the normalised 4.1 key without a kid, measured once, sets the kid that just fits
    let bare = parse(&without(rsa_41(), "kid")).unwrap();
    let room = MAX_STORED_CHARS - bare.normalized_json().len() - r#","kid":"""#.len();
    let fits = with(rsa_41(), "kid", json!("k".repeat(room)));
    assert_eq!(
        parse(&fits).unwrap().normalized_json().chars().count(),
        1024
    );
    let too_long = with(rsa_41(), "kid", json!("k".repeat(room + 1)));
    assert_eq!(reason(&too_long), "key is too large");
    // characters are counted, not bytes
    let multibyte = with(rsa_41(), "kid", json!("é".repeat(room)));
    assert!(parse(&multibyte).is_ok());
    // a dropped member does not count
    let dropped = with(rsa_41(), "x5u", json!("u".repeat(2000)));
    assert_eq!(parse(&dropped).unwrap().client_id(), RSA_ID);
}

#[test]
fn a_4096_bit_key_fits_the_column() {
    let mut n = vec![0xffu8; 512];
    n[511] = 0xfb;
    let jwk = json!({"kty":"RSA","n":URL_SAFE_NO_PAD.encode(n),"e":"AQAB","kid":"k","use":"sig","alg":"PS256"});
    let key = parse(&jwk).unwrap();
    assert!(key.normalized_json().len() <= MAX_STORED_CHARS);
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("RSA".to_owned()),
            Just("EC".to_owned()),
            Just("P-256".to_owned()),
            Just("sig".to_owned()),
            Just("RS256".to_owned()),
            Just("ES256".to_owned()),
            Just("AQAB".to_owned()),
            Just(RSA_N.to_owned()),
            Just(EC_X.to_owned()),
            Just(EC_Y.to_owned()),
            "[A-Za-z0-9_=+/ -]{0,48}",
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
        ]
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "kty", "n", "e", "crv", "x", "y", "kid", "use", "alg", "d", "k", "oth", "x5c",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,4}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_objects_never_panic(
        members in proptest::collection::vec((member_name(), json_value()), 0..9),
        min_bits in 0usize..3000,
    ) {
        let jwk = Value::Object(members.into_iter().collect());
        for policy in [KeyPolicy::default(), KeyPolicy { rsa_min_bits: min_bits, rsa_max_bits: 4096 }] {
            if let Ok(key) = ClientPublicKey::parse(&jwk, &policy) {
                prop_assert_eq!(key.client_id().len(), 43);
                prop_assert!(key.normalized_json().chars().count() <= MAX_STORED_CHARS);
                prop_assert_eq!(key.to_value().to_string(), key.normalized_json());
            }
        }
    }

    #[test]
    fn arbitrary_values_never_panic(jwk in json_value()) {
        let _ = ClientPublicKey::parse(&jwk, &KeyPolicy::default());
    }

    #[test]
    fn kid_never_changes_the_id(kid in "\\PC{0,40}") {
        let key = parse(&with(rsa_41(), "kid", json!(kid))).unwrap();
        prop_assert_eq!(key.client_id(), RSA_ID);
    }
}
