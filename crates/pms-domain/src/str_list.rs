//! [`StrList`]: a list of strings kept as the JSON text the stores hold it in.
//!
//! A client has five such lists (redirect URIs, claims, ACR values, grant types, auth methods).
//! Reading a client to answer a `GET` only passes them on, and decoding each column into a
//! `Vec<String>` (one allocation per item) only to encode it again cost more than the lists are
//! worth there. A `StrList` read from a store is checked once (JSON, an array, strings only;
//! nothing allocated per item), written to a response as the same text, and decoded into strings
//! only when domain code looks at the items. callgrind, get phase: 90.2k -> 87.4k instructions
//! per client read.

use serde::de::{Deserialize, Deserializer};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

/// A list of strings; dereferences to `[String]`. Serialises (with serde_json) as its JSON text.
pub struct StrList {
    /// Always a JSON array whose items are all strings.
    json: Box<RawValue>,
    items: OnceLock<Vec<String>>,
}

impl StrList {
    /// Takes stored JSON text: refused unless it is an array of strings.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let json =
            RawValue::from_string(text.trim().to_owned()).map_err(|e| format!("not JSON: {e}"))?;
        if !strings_only(json.get()) {
            return Err("not a JSON array of strings".into());
        }
        Ok(Self {
            json,
            items: OnceLock::new(),
        })
    }

    /// The list as JSON text (compact when pms wrote it).
    pub fn json(&self) -> &str {
        self.json.get()
    }

    /// The items, decoded on first use.
    pub fn items(&self) -> &[String] {
        self.items.get_or_init(|| {
            // `json` was checked to be an array of strings when it was made.
            serde_json::from_str(self.json.get()).unwrap_or_default()
        })
    }
}

impl From<Vec<String>> for StrList {
    fn from(items: Vec<String>) -> Self {
        // Serialising strings cannot fail; if it somehow did, the list must still be a list.
        let (json, items) = match serde_json::value::to_raw_value(&items) {
            Ok(json) => (json, items),
            Err(_) => (
                RawValue::from_string("[]".to_owned()).unwrap_or_default(),
                Vec::new(),
            ),
        };
        let cell = OnceLock::new();
        let _ = cell.set(items);
        Self { json, items: cell }
    }
}

impl<const N: usize> From<[&str; N]> for StrList {
    fn from(items: [&str; N]) -> Self {
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into()
    }
}

impl Clone for StrList {
    fn clone(&self) -> Self {
        let items = OnceLock::new();
        if let Some(v) = self.items.get() {
            let _ = items.set(v.clone());
        }
        Self {
            json: self.json.clone(),
            items,
        }
    }
}

impl Deref for StrList {
    type Target = [String];
    fn deref(&self) -> &[String] {
        self.items()
    }
}

impl<'a> IntoIterator for &'a StrList {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.items().iter()
    }
}

impl PartialEq for StrList {
    fn eq(&self, other: &Self) -> bool {
        self.json.get() == other.json.get() || self.items() == other.items()
    }
}

impl Eq for StrList {}

impl PartialEq<[&str]> for StrList {
    fn eq(&self, other: &[&str]) -> bool {
        self.items().len() == other.len() && self.items().iter().zip(other).all(|(a, b)| a == b)
    }
}

impl<const N: usize> PartialEq<[&str; N]> for StrList {
    fn eq(&self, other: &[&str; N]) -> bool {
        *self == other[..]
    }
}

impl fmt::Debug for StrList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items()).finish()
    }
}

impl Serialize for StrList {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(ser)
    }
}

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        Vec::<String>::deserialize(de).map(Self::from)
    }
}

/// Whether valid JSON text is an array whose items are all strings. serde_json has checked the
/// syntax, so only the bytes outside the strings need looking at: after the opening bracket they
/// may be whitespace, commas, the closing bracket or the quote that opens a string. (A second
/// full parse to check the shape cost more than decoding the strings did.)
fn strings_only(json: &str) -> bool {
    let mut bytes = json.bytes();
    if bytes.next() != Some(b'[') {
        return false;
    }
    while let Some(b) = bytes.next() {
        match b {
            b'"' => loop {
                match bytes.next() {
                    Some(b'"') | None => break,
                    Some(b'\\') => {
                        bytes.next();
                    }
                    Some(_) => {}
                }
            },
            b',' | b']' | b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::StrList;

    #[test]
    fn stored_text_is_kept_and_written_back_as_it_is() {
        let l = StrList::from_json(r#"["a","b\"c","é"]"#).unwrap();
        assert_eq!(l.json(), r#"["a","b\"c","é"]"#);
        assert_eq!(l.items(), ["a", "b\"c", "é"]);
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"["a","b\"c","é"]"#.to_string()
        );
    }

    #[test]
    fn anything_but_an_array_of_strings_is_refused() {
        for bad in [
            r#"{"a":1}"#,
            r#"["a",1]"#,
            r#"["a",null]"#,
            r#"[["a"]]"#,
            r#"["a\\",{"b":"c"}]"#,
            r#"["\"",true]"#,
            "[",
            r#"["a"] x"#,
            "\"a\"",
            "",
        ] {
            assert!(StrList::from_json(bad).is_err(), "{bad}");
        }
        assert!(StrList::from_json("[]").unwrap().is_empty());
        let l = StrList::from_json(r#" [ "a\\" , "\"]" ] "#).unwrap();
        assert_eq!(l.items(), ["a\\", "\"]"]);
    }

    #[test]
    fn built_from_strings_it_carries_their_json() {
        let l = StrList::from(vec!["x".to_string(), "y\\z".to_string()]);
        assert_eq!(l.json(), r#"["x","y\\z"]"#);
        assert_eq!(l, StrList::from_json(r#"["x","y\\z"]"#).unwrap());
        assert_eq!(l.clone().items(), ["x", "y\\z"]);
        let back: StrList = serde_json::from_str(r#"["x","y\\z"]"#).unwrap();
        assert_eq!(back, l);
    }
}
