//! The texts that stand for one secret, in canonical form (see `canonical`): the value itself,
//! its UTF-8 mis-read as latin-1, its base64 (standard and URL-safe, alone or inside a longer
//! base64 text such as a Basic auth header), and for a long value its first and its last
//! [`TRUNCATED_MIN_CHARS`] characters, which are where a truncated echo begins or ends.
//!
//! Because the text searched is canonical too, each of these is found in every mix of
//! percent-encoding, JSON, shell and HTML escaping.

use crate::canonical::canonical;
use base64::Engine as _;

/// A secret shorter than this many characters cannot be masked everywhere it occurs without
/// masking unrelated text (`p` is in every `http`), so it is masked only as a whole token.
pub const SHORT_SECRET_CHARS: usize = 8;

/// A secret at least this long is also found cut short (an echo truncated by a server, or the
/// rest of a value whose middle was re-encoded in a way not undone here).
const TRUNCATION_FROM_CHARS: usize = 16;

/// The shortest beginning or end of a long secret that is hidden on its own.
pub const TRUNCATED_MIN_CHARS: usize = 12;

/// Whether `value` is short enough that it is masked only as a whole token.
pub fn is_short(value: &str) -> bool {
    value.chars().count() < SHORT_SECRET_CHARS
}

/// How a value is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A secret: every form, base64 included.
    Secret,
    /// A credential that is itself an encoding (a Basic auth header's base64): as it is.
    Derived,
}

/// What part of the value a pattern is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// All of it, in one form.
    Whole,
    /// Its first characters: a match goes on as far as the text goes on like the value.
    Beginning,
    /// Its last characters: a match goes back as far as the text goes back like the value.
    End,
}

/// The canonical value and the patterns that find it.
#[derive(Debug)]
pub struct Forms {
    /// The value in canonical form, for extending a [`Part::Beginning`] or [`Part::End`].
    pub canonical: Vec<char>,
    /// Each pattern with the part of the value it is.
    pub patterns: Vec<(String, Part)>,
}

/// The forms of `value`.
pub fn forms(value: &str, kind: Kind) -> Forms {
    let text = canonical(value);
    let chars: Vec<char> = text.chars().collect();
    let mut patterns = vec![(text.clone(), Part::Whole)];
    if !value.is_ascii() {
        let latin1: String = value.bytes().map(char::from).collect();
        patterns.push((canonical(&latin1), Part::Whole));
    }
    if chars.len() >= TRUNCATION_FROM_CHARS {
        patterns.push((
            chars[..TRUNCATED_MIN_CHARS].iter().collect(),
            Part::Beginning,
        ));
        patterns.push((
            chars[chars.len() - TRUNCATED_MIN_CHARS..].iter().collect(),
            Part::End,
        ));
    }
    if kind == Kind::Secret {
        for b64 in base64_forms(value.as_bytes(), is_short(value)) {
            patterns.push((canonical(&b64), Part::Whole));
        }
    }
    patterns.sort();
    patterns.dedup();
    Forms {
        canonical: chars,
        patterns,
    }
}

/// The value in base64 as it stands alone (standard and URL-safe alphabets, no padding, which
/// also finds the padded text), and, for a value that is not short, as it appears inside a
/// longer base64 text at each of the three byte offsets (`user:KEY` in a Basic auth header):
/// only the characters that depend on nothing but the value.
fn base64_forms(value: &[u8], short: bool) -> Vec<String> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut forms = vec![STANDARD_NO_PAD.encode(value)];
    if !short {
        for offset in 0..3usize {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value);
            let encoded = STANDARD_NO_PAD.encode(&bytes);
            let first = (offset * 8).div_ceil(6);
            let end = (offset + value.len()) * 8 / 6;
            if end > first {
                forms.push(encoded[first..end].to_owned());
            }
        }
    }
    let url_safe: Vec<String> = forms
        .iter()
        .map(|f| f.replace('+', "-").replace('/', "_"))
        .collect();
    forms.extend(url_safe);
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_secret_has_its_whole_its_ends_and_its_base64() {
        let f = forms("sk_test_SENTINEL0secret0value0ZZZ9", Kind::Secret);
        let parts = |p: Part| -> Vec<&str> {
            f.patterns
                .iter()
                .filter(|(_, q)| *q == p)
                .map(|(s, _)| s.as_str())
                .collect()
        };
        assert_eq!(parts(Part::Beginning), ["sk_test_SENT"]);
        assert_eq!(parts(Part::End), ["t0value0ZZZ9"]);
        let whole = parts(Part::Whole);
        assert!(whole.contains(&"sk_test_SENTINEL0secret0value0ZZZ9"));
        // Alone, and at byte offsets 0, 1 and 2 inside longer base64.
        assert!(whole.contains(&"c2tfdGVzdF9TRU5USU5FTDBzZWNyZXQwdmFsdWUwWlpaOQ"));
        assert!(whole.contains(&"c2tfdGVzdF9TRU5USU5FTDBzZWNyZXQwdmFsdWUwWlpaO"));
        assert_eq!(whole.len(), 5, "{whole:?}");
    }

    #[test]
    fn a_short_secret_has_only_its_whole_and_its_base64() {
        let f = forms("1234", Kind::Secret);
        assert_eq!(
            f.patterns,
            [
                ("1234".to_owned(), Part::Whole),
                ("MTIzNA".to_owned(), Part::Whole)
            ]
        );
        let f = forms("pé", Kind::Derived);
        assert_eq!(
            f.patterns,
            [
                ("pÃ©".to_owned(), Part::Whole),
                ("pé".to_owned(), Part::Whole)
            ]
        );
    }
}
