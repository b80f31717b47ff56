//! Names that identify things — policy groups, policies, partners' organisations, OIDC clients and
//! the values of a client's name map — in the one form they are compared and stored in: Unicode
//! NFC, without leading or trailing white space.
//!
//! Without it, `café` typed with a combining accent, a trailing space, or a zero-width or
//! right-to-left-override character hidden in it is a second name that looks like the first, and
//! the stores' uniqueness checks (which compare stored text, byte for byte) let it in next to it.
//! Invisible format characters (general category Cf: zero-width space and joiners, bidirectional
//! embeddings and overrides, the byte-order mark, …) and control characters (Cc) are refused
//! rather than removed: a name whose every character the caller cannot see is not one to store on
//! their behalf, and removing them would silently change what was sent.
//!
//! Names a request only refers to (a policy's group, a mapping's policy) are looked up in the
//! same form through [`normalise`], so a look-alike spelling finds the stored name.

use std::fmt;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// A name in NFC, trimmed, free of format (Cf) and control (Cc) characters.
///
/// Whether it may be empty and how long it may be are the rules of the field it came from
/// (each has its own reason texts); the default value is the empty name a field reader returns
/// once it has recorded that field's failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Name(String);

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("contains the invisible or control character U+{:04X}", u32::from(*.0))]
    Hidden(char),
}

/// A format (Cf) or control (Cc) character.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// The form names are compared in: NFC, then trimmed of white space at both ends.
pub fn normalise(raw: &str) -> String {
    let nfc: String = raw.nfc().collect();
    match nfc.trim() {
        trimmed if trimmed.len() == nfc.len() => nfc,
        trimmed => trimmed.to_owned(),
    }
}

impl Name {
    /// `raw` normalised; refused if a hidden character remains once the ends are trimmed.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = normalise(raw);
        match name.chars().find(|c| is_hidden(*c)) {
            Some(c) => Err(NameError::Hidden(c)),
            None => Ok(Name(name)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in characters (Unicode scalar values), as the field limits count it.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl From<Name> for String {
    fn from(name: Name) -> Self {
        name.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CAFE_NFC: &str = "caf\u{e9}";

    #[test]
    fn look_alikes_parse_to_one_name() {
        for raw in [
            CAFE_NFC,
            "cafe\u{301}",
            "caf\u{e9} ",
            " cafe\u{301}",
            "\tcaf\u{e9}\n",
            "caf\u{e9}\u{3000}",
            "caf\u{e9}\u{a0}",
        ] {
            assert_eq!(Name::parse(raw).unwrap(), *CAFE_NFC, "{raw:?}");
        }
        // NFC composes what it can, and keeps inner spaces and case
        assert_eq!(
            Name::parse("A\u{30a} Soci\u{e9}te\u{301}").unwrap(),
            *"\u{c5} Soci\u{e9}t\u{e9}"
        );
        assert_ne!(Name::parse("Caf\u{e9}").unwrap(), *CAFE_NFC);
        assert_ne!(Name::parse("caf\u{e9}  x").unwrap(), *"caf\u{e9} x");
        // a composition exclusion stays decomposed, whatever it was sent as
        assert_eq!(
            Name::parse("\u{958}").unwrap(),
            Name::parse("\u{915}\u{93c}").unwrap()
        );
        assert_eq!(Name::parse("\u{958}").unwrap().chars(), 2);
    }

    #[test]
    fn hidden_characters_are_refused() {
        for (raw, c) in [
            ("caf\u{e9}\u{200b}", '\u{200b}'),
            ("\u{202e}caf\u{e9}", '\u{202e}'),
            ("caf\u{200d}\u{e9}", '\u{200d}'),
            ("caf\u{200c}\u{e9}", '\u{200c}'),
            ("\u{feff}caf\u{e9}", '\u{feff}'),
            ("caf\u{ad}\u{e9}", '\u{ad}'),
            ("\u{2066}caf\u{e9}\u{2069}", '\u{2066}'),
            ("caf\u{e9}\u{e0001}", '\u{e0001}'),
            ("caf\u{7}\u{e9}", '\u{7}'),
            ("caf\te", '\t'),
            ("a\nb", '\n'),
            ("a\u{85}b", '\u{85}'),
            ("a\u{7f}b", '\u{7f}'),
            ("\u{200b}", '\u{200b}'),
        ] {
            assert_eq!(Name::parse(raw), Err(NameError::Hidden(c)), "{raw:?}");
        }
        assert_eq!(
            NameError::Hidden('\u{202e}').to_string(),
            "contains the invisible or control character U+202E"
        );
    }

    #[test]
    fn blank_names_parse_empty() {
        for raw in ["", " ", "\t\n", "\u{3000}"] {
            assert!(Name::parse(raw).unwrap().is_empty(), "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent_and_leaves_no_hidden_character(s in "\\PC{0,40}") {
            if let Ok(name) = Name::parse(&s) {
                prop_assert_eq!(Name::parse(name.as_str()), Ok(name.clone()));
                prop_assert_eq!(normalise(name.as_str()), name.as_str());
                prop_assert!(!name.as_str().chars().any(is_hidden));
                prop_assert_eq!(name.as_str().trim(), name.as_str());
            }
        }

        #[test]
        fn nfc_and_nfd_spellings_parse_alike(s in "\\PC{0,40}") {
            let nfd: String = s.nfd().collect();
            prop_assert_eq!(Name::parse(&s), Name::parse(&nfd));
        }
    }
}
