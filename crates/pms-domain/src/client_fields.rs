//! OIDC client field rules (`docs/compatibility.md`) that are pure functions of the value: logo and redirect
//! URI syntax, the column-size limits eSignet imposes on the redirect list and the name map, and
//! the default language-code list.
//!
//! URIs are checked by a small hand-written parser rather than a URL crate: the accepted grammar
//! is deliberately narrower than RFC 3986 (no user-info, restricted hosts, Ant-style wildcards in
//! the path only), and a general parser would normalise away exactly what must be rejected.
//!
//! On top of that grammar, [`BlockedSchemes`] refuses redirect URIs whose scheme makes a browser
//! run script or read local data (`javascript://rp.example/%0aalert(1)` passes the redirect-URI grammar).

use std::net::Ipv6Addr;

use serde_json::{Map, Value};

/// eSignet keeps the redirect list in a 2048-character column, and each URI has the same limit.
const MAX_REDIRECT_CHARS: usize = 2048;

/// eSignet keeps the name map, `@none` included, in a 600-character column.
const MAX_NAME_MAP_CHARS: usize = 600;

/// The parts of `scheme "://" authority path ["?" query] ["#" fragment]`.
struct UriParts<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

/// Splits at the first `://`; every URI these rules accept has an authority, so a URI without
/// one (`com.example.app:/cb`, `https//`) is rejected here.
fn split_uri(uri: &str) -> Option<UriParts<'_>> {
    let (scheme, rest) = uri.split_once("://")?;
    let (rest, fragment) = match rest.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (rest, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Some(UriParts {
        scheme,
        authority,
        path,
        query,
        fragment,
    })
}

/// RFC 3986 `scheme`: `[A-Za-z][A-Za-z0-9+.-]*`.
pub fn is_valid_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// Redirect-URI rule 4: `host [":" port]`, no user-info.
fn is_valid_authority(authority: &str) -> bool {
    if authority.contains('@') {
        return false;
    }
    let (host_ok, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (address.parse::<Ipv6Addr>().is_ok(), port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (is_valid_host_name(host), Some(port)),
            None => (is_valid_host_name(authority), None),
        }
    };
    host_ok && port.is_none_or(is_valid_port)
}

/// A DNS name or a dotted-quad IPv4 address. A name whose last label is all digits is taken as
/// an IPv4 address (no top-level domain is numeric), so `256.1.1.1` or `1.2.3` is rejected
/// rather than accepted as a DNS name.
fn is_valid_host_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let numeric = labels
        .last()
        .is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()));
    if numeric {
        labels.len() == 4 && labels.iter().all(|part| is_ipv4_part(part))
    } else {
        labels.iter().all(|label| is_dns_label(label))
    }
}

fn is_ipv4_part(part: &str) -> bool {
    (1..=3).contains(&part.len())
        && part.bytes().all(|b| b.is_ascii_digit())
        && part.parse::<u16>().is_ok_and(|value| value <= 255)
}

/// `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?`
fn is_dns_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

fn is_valid_port(port: &str) -> bool {
    !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && port
            .parse::<u32>()
            .is_ok_and(|value| (1..=65535).contains(&value))
}

/// RFC 3986 `unreserved / sub-delims / ":" / "@"` plus the extra ASCII characters `extra`,
/// with `%` allowed only as the start of a percent-encoding.
fn has_only_uri_chars(text: &str, extra: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let encoded = bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
            if !encoded {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed =
            b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) || extra.contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    true
}

/// The logo URI: an absolute `http`/`https` URL (scheme in any case) with a host, optional port, path,
/// query and fragment. Blank values and the length limit are checked by the caller.
pub fn is_valid_logo_uri(s: &str) -> bool {
    let Some(parts) = split_uri(s) else {
        return false;
    };
    (parts.scheme.eq_ignore_ascii_case("http") || parts.scheme.eq_ignore_ascii_case("https"))
        && is_valid_authority(parts.authority)
        && has_only_uri_chars(parts.path, b"/")
        && parts.query.is_none_or(|q| has_only_uri_chars(q, b"/?"))
        && parts.fragment.is_none_or(|f| has_only_uri_chars(f, b"/?"))
}

/// Redirect-URI rules 1–7 (the grammar; [`is_allowed_redirect_uri`] adds the blocked schemes). Wildcards (`*`) are RFC 3986 sub-delimiters, so they pass in path segments
/// (and the query) and fail in the scheme, host and port, whose grammars exclude them.
pub fn is_valid_redirect_uri(s: &str) -> bool {
    if s.chars().count() > MAX_REDIRECT_CHARS
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
    {
        return false;
    }
    let Some(parts) = split_uri(s) else {
        return false;
    };
    is_valid_scheme(parts.scheme)
        && is_valid_authority(parts.authority)
        && is_valid_redirect_path(parts.path)
        && parts.query.is_none_or(|q| has_only_uri_chars(q, b"/?"))
}

/// Redirect-URI rule 5; the path is empty or starts with `/` by construction of `split_uri`.
fn is_valid_redirect_path(path: &str) -> bool {
    has_only_uri_chars(path, b"/")
        && !path.contains("//")
        && path
            .split('/')
            .all(|segment| segment != "." && segment != "..")
}

/// The default of config `oidc_client.blocked_redirect_schemes`: the schemes with which a browser
/// runs script (`javascript`, `vbscript`), renders data carried in the URI itself (`data`,
/// `blob`) or opens local or internal documents (`file`, `about`), none of which a relying party
/// can legitimately receive an authorization code on.
pub const DEFAULT_BLOCKED_REDIRECT_SCHEMES: &[&str] =
    &["javascript", "vbscript", "data", "file", "blob", "about"];

/// Redirect-URI schemes refused although the redirect-URI grammar accepts them, compared ignoring ASCII
/// case (schemes are case-insensitive, RFC 3986 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockedSchemes(Vec<String>);

/// A configured entry that is not a scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockedSchemeError {
    #[error("an entry is empty")]
    Empty,
    #[error("{0:?} is not a URI scheme ([A-Za-z][A-Za-z0-9+.-]*, without \":\")")]
    Malformed(String),
}

impl BlockedSchemes {
    /// The configured entries, each a bare scheme (`javascript`, not `javascript:`).
    pub fn parse<S: AsRef<str>>(
        entries: impl IntoIterator<Item = S>,
    ) -> Result<Self, BlockedSchemeError> {
        entries
            .into_iter()
            .map(|entry| {
                let entry = entry.as_ref();
                if entry.is_empty() {
                    Err(BlockedSchemeError::Empty)
                } else if is_valid_scheme(entry) {
                    Ok(entry.to_ascii_lowercase())
                } else {
                    Err(BlockedSchemeError::Malformed(entry.to_owned()))
                }
            })
            .collect::<Result<_, _>>()
            .map(BlockedSchemes)
    }

    /// Whether `uri`'s scheme is one of these. The scheme is read the way a browser reads it
    /// (WHATWG URL): leading and trailing C0 controls and spaces are dropped and tabs and line
    /// breaks removed anywhere, and the scheme is what precedes the first `:`, with or without
    /// `//` after it. Redirect-URI rule 1 already refuses every such character; reading the scheme like
    /// this keeps the check sound on its own.
    pub fn blocks(&self, uri: &str) -> bool {
        let trimmed = uri.trim_matches(|c: char| c <= ' ');
        let cleaned: String = trimmed
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        let Some((scheme, _)) = cleaned.split_once(':') else {
            return false;
        };
        self.0.iter().any(|b| b.eq_ignore_ascii_case(scheme))
    }
}

/// Redirect-URI rules 1–7, and a scheme not in `blocked`.
pub fn is_allowed_redirect_uri(s: &str, blocked: &BlockedSchemes) -> bool {
    is_valid_redirect_uri(s) && !blocked.blocks(s)
}

/// The redirect-URI list, written as a JSON array with every `/` escaped as `\/` (as eSignet stores it),
/// fits in 2048 characters.
pub fn redirect_list_fits(uris: &[String]) -> bool {
    let json = Value::Array(uris.iter().map(|u| Value::from(u.as_str())).collect()).to_string();
    // Each `/` gains one backslash when escaped.
    let length = json.chars().count() + json.matches('/').count();
    length <= MAX_REDIRECT_CHARS
}

/// eSignet's limit on the client name map: the map plus `"@none": name` (appended last), as compact JSON, has at most 600
/// characters. Characters, not bytes, are counted because eSignet's column limit is in characters
/// and names are often non-ASCII.
pub fn name_map_fits(map: &Map<String, Value>, name: &str) -> bool {
    let mut with_none: Map<String, Value> = map
        .iter()
        .filter(|(key, _)| key.as_str() != "@none")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    with_none.insert("@none".to_owned(), Value::from(name));
    Value::Object(with_none).to_string().chars().count() <= MAX_NAME_MAP_CHARS
}

/// The ISO 639-2/T language codes accepted as `clientNameLangMap` keys: every three-letter code of the ISO 639-2 registry,
/// the terminology code where bibliographic and terminology codes differ (`deu`, not `ger`),
/// without the local-use range `qaa`–`qtz` and the special codes `mis`, `mul`, `und`, `zxx`.
/// Sorted, so callers may binary-search it.
#[rustfmt::skip]
pub const ISO_639_2T: &[&str] = &[
    "aar", "abk", "ace", "ach", "ada", "ady", "afa", "afh", "afr", "ain", "aka", "akk", "ale",
    "alg", "alt", "amh", "ang", "anp", "apa", "ara", "arc", "arg", "arn", "arp", "art", "arw",
    "asm", "ast", "ath", "aus", "ava", "ave", "awa", "aym", "aze", "bad", "bai", "bak", "bal",
    "bam", "ban", "bas", "bat", "bej", "bel", "bem", "ben", "ber", "bho", "bih", "bik", "bin",
    "bis", "bla", "bnt", "bod", "bos", "bra", "bre", "btk", "bua", "bug", "bul", "byn", "cad",
    "cai", "car", "cat", "cau", "ceb", "cel", "ces", "cha", "chb", "che", "chg", "chk", "chm",
    "chn", "cho", "chp", "chr", "chu", "chv", "chy", "cmc", "cnr", "cop", "cor", "cos", "cpe",
    "cpf", "cpp", "cre", "crh", "crp", "csb", "cus", "cym", "dak", "dan", "dar", "day", "del",
    "den", "deu", "dgr", "din", "div", "doi", "dra", "dsb", "dua", "dum", "dyu", "dzo", "efi",
    "egy", "eka", "ell", "elx", "eng", "enm", "epo", "est", "eus", "ewe", "ewo", "fan", "fao",
    "fas", "fat", "fij", "fil", "fin", "fiu", "fon", "fra", "frm", "fro", "frr", "frs", "fry",
    "ful", "fur", "gaa", "gay", "gba", "gem", "gez", "gil", "gla", "gle", "glg", "glv", "gmh",
    "goh", "gon", "gor", "got", "grb", "grc", "grn", "gsw", "guj", "gwi", "hai", "hat", "hau",
    "haw", "heb", "her", "hil", "him", "hin", "hit", "hmn", "hmo", "hrv", "hsb", "hun", "hup",
    "hye", "iba", "ibo", "ido", "iii", "ijo", "iku", "ile", "ilo", "ina", "inc", "ind", "ine",
    "inh", "ipk", "ira", "iro", "isl", "ita", "jav", "jbo", "jpn", "jpr", "jrb", "kaa", "kab",
    "kac", "kal", "kam", "kan", "kar", "kas", "kat", "kau", "kaw", "kaz", "kbd", "kha", "khi",
    "khm", "kho", "kik", "kin", "kir", "kmb", "kok", "kom", "kon", "kor", "kos", "kpe", "krc",
    "krl", "kro", "kru", "kua", "kum", "kur", "kut", "lad", "lah", "lam", "lao", "lat", "lav",
    "lez", "lim", "lin", "lit", "lol", "loz", "ltz", "lua", "lub", "lug", "lui", "lun", "luo",
    "lus", "mad", "mag", "mah", "mai", "mak", "mal", "man", "map", "mar", "mas", "mdf", "mdr",
    "men", "mga", "mic", "min", "mkd", "mkh", "mlg", "mlt", "mnc", "mni", "mno", "moh", "mon",
    "mos", "mri", "msa", "mun", "mus", "mwl", "mwr", "mya", "myn", "myv", "nah", "nai", "nap",
    "nau", "nav", "nbl", "nde", "ndo", "nds", "nep", "new", "nia", "nic", "niu", "nld", "nno",
    "nob", "nog", "non", "nor", "nqo", "nso", "nub", "nwc", "nya", "nym", "nyn", "nyo", "nzi",
    "oci", "oji", "ori", "orm", "osa", "oss", "ota", "oto", "paa", "pag", "pal", "pam", "pan",
    "pap", "pau", "peo", "phi", "phn", "pli", "pol", "pon", "por", "pra", "pro", "pus", "que",
    "raj", "rap", "rar", "roa", "roh", "rom", "ron", "run", "rup", "rus", "sad", "sag", "sah",
    "sai", "sal", "sam", "san", "sas", "sat", "scn", "sco", "sel", "sem", "sga", "sgn", "shn",
    "sid", "sin", "sio", "sit", "sla", "slk", "slv", "sma", "sme", "smi", "smj", "smn", "smo",
    "sms", "sna", "snd", "snk", "sog", "som", "son", "sot", "spa", "sqi", "srd", "srn", "srp",
    "srr", "ssa", "ssw", "suk", "sun", "sus", "sux", "swa", "swe", "syc", "syr", "tah", "tai",
    "tam", "tat", "tel", "tem", "ter", "tet", "tgk", "tgl", "tha", "tig", "tir", "tiv", "tkl",
    "tlh", "tli", "tmh", "tog", "ton", "tpi", "tsi", "tsn", "tso", "tuk", "tum", "tup", "tur",
    "tut", "tvl", "twi", "tyv", "udm", "uga", "uig", "ukr", "umb", "urd", "uzb", "vai", "ven",
    "vie", "vol", "vot", "wak", "wal", "war", "was", "wen", "wln", "wol", "xal", "xho", "yao",
    "yap", "yid", "yor", "ypk", "zap", "zbl", "zen", "zgh", "zha", "zho", "znd", "zul", "zun",
    "zza",
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn redirect_uri_table_of_section_3_4() {
        let table = [
            ("https://health-services.com/userprofile", true),
            ("http://localhost:5000/**", true),
            ("io.mosip.residentapp://oauth", true),
            ("https://rp.example.com/cb?tenant=1", true),
            ("https://rp.example.com/callback/*", true),
            ("$abcdefg", false),
            ("https://rp.example.com/cb#top", false),
            ("com.example.app:/oauth2redirect", false),
            ("https://*.example.com/cb", false),
            ("https://user@rp.example.com/cb", false),
            ("https://rp.example.com//cb", false),
        ];
        for (uri, valid) in table {
            assert_eq!(is_valid_redirect_uri(uri), valid, "{uri}");
        }
    }

    #[test]
    fn redirect_uri_more_cases() {
        let valid = [
            "https://rp.example.com",
            "https://rp.example.com/",
            "https://rp.example.com?x=1",
            "HTTPS://RP.Example.COM/Cb",
            "http://127.0.0.1:8080/cb",
            "http://0.0.0.0/cb",
            "http://255.255.255.255/cb",
            "http://[::1]/cb",
            "http://[::1]:3000/cb",
            "http://[2001:db8::7]/cb",
            "https://rp.example.com:1/cb",
            "https://rp.example.com:65535/cb",
            "https://rp.example.com/a%20b/%2F",
            "https://rp.example.com/a/*.html",
            "https://rp.example.com/**/cb",
            "https://rp.example.com/a-b_c~d!$&'()+,;=:@e",
            "https://rp.example.com/cb?a=1&b=/x?y:z@w",
            "https://rp.example.com/cb/",
            "https://rp.example.com/.well-known/cb",
            "https://rp.example.com/a..b/c.",
            "https://123.example.com/cb",
            "https://xn--bcher-kva.example/cb",
            "a+b.c-d://host",
        ];
        for uri in valid {
            assert!(is_valid_redirect_uri(uri), "{uri} should be valid");
        }
        let invalid = [
            "",
            "https://",
            "https:///cb",
            "https//rp.example.com/cb",
            "https:rp.example.com",
            "1https://rp.example.com",
            "ht*tps://rp.example.com",
            "://rp.example.com",
            "https://rp.example.com/a b",
            "https://rp.example.com/a\tb",
            " https://rp.example.com/cb",
            "https://rp.example.com/cb\u{7f}",
            "https://rp.example.com/%zz",
            "https://rp.example.com/%2",
            "https://rp.example.com/a/./b",
            "https://rp.example.com/a/../b",
            "https://rp.example.com/..",
            "https://rp.example.com/.",
            "https://rp.example.com/a//",
            "https://rp.example.com:*/cb",
            "https://rp.example.com:0/cb",
            "https://rp.example.com:65536/cb",
            "https://rp.example.com:/cb",
            "https://rp.example.com:80:80/cb",
            "https://rp.example.com:8a/cb",
            "https://rp.example.com:-1/cb",
            "http://256.1.1.1/cb",
            "http://1.2.3/cb",
            "http://1.2.3.4.5/cb",
            "http://123/cb",
            "http://[::1/cb",
            "http://[::g]/cb",
            "http://[::1]x/cb",
            "http://::1/cb",
            "http://[fe80::1%25eth0]/cb",
            "https://-rp.example.com/cb",
            "https://rp-.example.com/cb",
            "https://rp..example.com/cb",
            "https://rp.example.com./cb",
            "https://rp_x.example.com/cb",
            "https://rp.exämple.com/cb",
            "https://rp.example.com/cb/é",
            "https://rp.example.com/cb?q=a b",
            "https://rp.example.com/cb?q=a|b",
            "https://rp.example.com/cb?q=%g0",
            "https://:pw@rp.example.com/cb",
            "https://rp.example.com/[x]",
        ];
        for uri in invalid {
            assert!(!is_valid_redirect_uri(uri), "{uri:?} should be invalid");
        }
    }

    fn default_blocked() -> BlockedSchemes {
        BlockedSchemes::parse(DEFAULT_BLOCKED_REDIRECT_SCHEMES).unwrap()
    }

    #[test]
    fn blocked_schemes_are_refused_in_any_case_with_or_without_slashes() {
        let blocked = default_blocked();
        for scheme in DEFAULT_BLOCKED_REDIRECT_SCHEMES {
            let upper = scheme.to_ascii_uppercase();
            for uri in [
                format!("{scheme}://rp.example/cb"),
                format!("{upper}://rp.example/cb"),
                format!("{scheme}:rp.example/cb"),
                format!("{scheme}:alert(1)"),
            ] {
                assert!(blocked.blocks(&uri), "{uri} is blocked");
                assert!(!is_allowed_redirect_uri(&uri, &blocked), "{uri} is refused");
            }
            // the grammar alone accepts the `//` form: the block is what refuses it
            assert!(is_valid_redirect_uri(&format!("{scheme}://rp.example/cb")));
        }
        for uri in [
            "javascript://rp.example/%0aalert(document.cookie)",
            "JaVaScRiPt://rp.example/cb",
            "JaVaScRiPt:alert(1)",
            "vbscript://rp.example/msgbox",
            "data://rp.example/text/html;base64,PHNjcmlwdD4",
            "file://localhost/etc/passwd",
            "blob://rp.example/0f2c",
            "about://blank",
        ] {
            assert!(!is_allowed_redirect_uri(uri, &blocked), "{uri}");
        }
    }

    #[test]
    fn blocked_schemes_are_read_as_a_browser_reads_them() {
        let blocked = default_blocked();
        for uri in [
            " javascript://rp.example/cb",
            "\u{0}javascript://rp.example/cb",
            "\u{1f}javascript://rp.example/cb",
            "\tjavascript://rp.example/cb",
            "java\tscript://rp.example/cb",
            "java\nscript:alert(1)",
            "jav\rascript://rp.example/cb",
            "javascript\t://rp.example/cb",
        ] {
            assert!(blocked.blocks(uri), "{uri:?} is blocked");
            assert!(!is_allowed_redirect_uri(uri, &blocked), "{uri:?}");
        }
        // not a blocked scheme, only one that starts or ends like it
        for uri in [
            "javascripts://rp.example/cb",
            "x-javascript://rp.example/cb",
            "data.example://cb",
            "https://rp.example/javascript:alert(1)",
            "https://rp.example/cb?next=data:x",
        ] {
            assert!(!blocked.blocks(uri), "{uri} is not blocked");
        }
    }

    #[test]
    fn allowed_redirect_uris_stay_allowed() {
        let blocked = default_blocked();
        for uri in [
            "https://health-services.com/userprofile",
            "http://localhost:5000/**",
            "http://127.0.0.1:8080/cb",
            "io.mosip.residentapp://oauth",
            "HTTPS://RP.Example.COM/Cb",
            "javascripts://rp.example/cb",
            "a+b.c-d://host",
        ] {
            assert!(is_allowed_redirect_uri(uri, &blocked), "{uri}");
        }
        // with no scheme blocked, the grammar alone decides
        let none = BlockedSchemes::parse(Vec::<String>::new()).unwrap();
        assert!(is_allowed_redirect_uri("javascript://rp.example/cb", &none));
        assert!(!is_allowed_redirect_uri("javascript:alert(1)", &none));
        // a configured scheme is compared ignoring case too
        let custom = BlockedSchemes::parse(["IO.Mosip.ResidentApp"]).unwrap();
        assert!(!is_allowed_redirect_uri(
            "io.mosip.residentapp://oauth",
            &custom
        ));
        assert!(is_allowed_redirect_uri("data://rp.example/cb", &custom));
    }

    #[test]
    fn blocked_scheme_entries_must_be_schemes() {
        assert_eq!(
            BlockedSchemes::parse(["javascript", ""]),
            Err(BlockedSchemeError::Empty)
        );
        for bad in ["javascript:", " data", "1abc", "java script", "ftp://", "*"] {
            assert_eq!(
                BlockedSchemes::parse([bad]),
                Err(BlockedSchemeError::Malformed(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            BlockedSchemes::parse(["JavaScript", "x-app+v1.2"]),
            Ok(BlockedSchemes(vec![
                "javascript".into(),
                "x-app+v1.2".into()
            ]))
        );
    }

    #[test]
    fn redirect_uri_length_limit() {
        let base = "https://rp.example.com/";
        let fits = format!("{base}{}", "a".repeat(MAX_REDIRECT_CHARS - base.len()));
        assert!(is_valid_redirect_uri(&fits));
        let too_long = format!("{fits}a");
        assert!(!is_valid_redirect_uri(&too_long));
    }

    #[test]
    fn logo_uri() {
        let valid = [
            "https://example.org/logo.png",
            "HTTPS://Example.org/logo.png",
            "hTtP://example.org",
            "http://example.org:8080/a/b.png?size=2#top",
            "https://health-services.com/logo//x/../a.png",
            "http://[::1]/logo.png",
            "http://10.0.0.1/logo.png",
            "https://example.org/a%20b.png",
        ];
        for uri in valid {
            assert!(is_valid_logo_uri(uri), "{uri} should be valid");
        }
        let invalid = [
            "https//",
            "https://",
            "ftp://x.org/a.png",
            "file:///tmp/a.png",
            "io.mosip.residentapp://logo",
            "example.org/logo.png",
            "https://user@example.org/logo.png",
            "https://*.example.org/logo.png",
            "https://example.org:0/logo.png",
            "https://example.org:65536/logo.png",
            "http://256.0.0.1/logo.png",
            "https://example.org/a b.png",
            "https://example.org/%zz.png",
            "https://example.org/a.png#a b",
            "https://example.org/a.png#x#y",
            "data:image/png;base64,AAAA",
        ];
        for uri in invalid {
            assert!(!is_valid_logo_uri(uri), "{uri:?} should be invalid");
        }
    }

    #[test]
    fn redirect_list_counts_escaped_slashes() {
        // `["` + uri + `"]` is 4 characters, and each `/` costs 2.
        let uri_of = |slashes: usize, len: usize| {
            let mut uri = "/".repeat(slashes);
            uri.push_str(&"a".repeat(len - slashes));
            uri
        };
        assert!(redirect_list_fits(&[uri_of(0, 2044)]));
        assert!(!redirect_list_fits(&[uri_of(0, 2045)]));
        assert!(redirect_list_fits(&[uri_of(10, 2034)]));
        assert!(!redirect_list_fits(&[uri_of(10, 2035)]));
        // two elements: `["a","b"]` adds `","`
        assert!(redirect_list_fits(&["a".repeat(1000), "b".repeat(1041)]));
        assert!(!redirect_list_fits(&["a".repeat(1000), "b".repeat(1042)]));
        let five: Vec<String> = (0..5)
            .map(|i| format!("https://rp{i}.example.com/callback"))
            .collect();
        assert!(redirect_list_fits(&five));
        assert!(redirect_list_fits(&[]));
    }

    #[test]
    fn name_map_counts_characters_with_none_appended() {
        let name = "Health Portal";
        // {"eng":"<v>","@none":"Health Portal"} is 33 characters plus the value
        let overhead = r#"{"eng":"","@none":"Health Portal"}"#.chars().count();
        let map_with = |value: String| {
            let mut map = Map::new();
            map.insert("eng".to_owned(), Value::from(value));
            map
        };
        assert!(name_map_fits(&map_with("a".repeat(600 - overhead)), name));
        assert!(!name_map_fits(&map_with("a".repeat(601 - overhead)), name));
        // non-ASCII counts one per character
        assert!(name_map_fits(&map_with("é".repeat(600 - overhead)), name));
        // an escaped quote counts as the two characters eSignet stores
        assert!(!name_map_fits(&map_with("\"".repeat(600 - overhead)), name));

        let many: Map<String, Value> = ISO_639_2T
            .iter()
            .take(12)
            .map(|code| ((*code).to_owned(), json!("x".repeat(50))))
            .collect();
        assert!(!name_map_fits(&many, name));
        let few: Map<String, Value> = ISO_639_2T
            .iter()
            .take(3)
            .map(|code| ((*code).to_owned(), json!("x".repeat(50))))
            .collect();
        assert!(name_map_fits(&few, name));
    }

    #[test]
    fn iso_639_2t_list() {
        for code in [
            "deu", "fra", "zho", "nld", "ces", "eng", "ara", "sqi", "hye", "eus", "mya", "cym",
            "ell", "kat", "isl", "mkd", "mri", "msa", "fas", "ron", "slk", "bod", "cnr", "zgh",
            "zza", "aar",
        ] {
            assert!(ISO_639_2T.binary_search(&code).is_ok(), "{code} missing");
        }
        for code in [
            "ger", "fre", "chi", "dut", "cze", "alb", "arm", "baq", "bur", "wel", "gre", "geo",
            "ice", "mac", "mao", "may", "per", "rum", "slo", "tib", "qaa", "qtz", "mis", "mul",
            "und", "zxx", "ENG", "en", "abc", "@none", "mol",
        ] {
            assert!(!ISO_639_2T.contains(&code), "{code} must not be listed");
        }
        assert!(
            ISO_639_2T.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, no duplicates"
        );
        assert!(ISO_639_2T
            .iter()
            .all(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase())));
        assert!(!ISO_639_2T.iter().any(|code| ("qaa"..="qtz").contains(code)));
        assert_eq!(ISO_639_2T.len(), 482);
    }

    proptest! {
        #[test]
        fn uri_checks_never_panic(s in "\\PC{0,60}") {
            let _ = is_valid_redirect_uri(&s);
            let _ = is_valid_logo_uri(&s);
        }

        #[test]
        fn uri_like_strings_never_panic(
            scheme in "[a-zA-Z*]{0,5}",
            authority in "[a-z0-9.:\\[\\]@*%-]{0,20}",
            rest in "[a-z/.%?#*0-9]{0,20}",
        ) {
            let uri = format!("{scheme}://{authority}{rest}");
            let _ = is_valid_redirect_uri(&uri);
            let _ = is_valid_logo_uri(&uri);
        }

        #[test]
        fn blocked_check_never_panics(s in "\\PC{0,60}") {
            let _ = is_allowed_redirect_uri(&s, &BlockedSchemes::parse(DEFAULT_BLOCKED_REDIRECT_SCHEMES).unwrap());
        }

        #[test]
        fn generated_https_redirects_are_valid(s in "https://[a-z]{1,10}\\.com(/[a-z*]{1,5}){0,3}") {
            prop_assert!(is_valid_redirect_uri(&s));
        }
    }
}
