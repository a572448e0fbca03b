//! Numbers written in a flow file, kept as the text the author wrote.
//!
//! flowstep builds `serde_json` with `arbitrary_precision`, so a JSON number holds its text:
//! `19.90`, `1e3` and `12345678901234567890123` stay exactly as written when stored, sent in a
//! body or read from a response (no trip through `f64`). A literal is still held as its text
//! here, so that text destinations (forms, queries, messages) get the written form directly.

use serde_json::{Number, Value};

/// A number as written in the file, in JSON's number grammar (`-?(0|[1-9][0-9]*)(\.[0-9]+)?
/// ([eE][+-]?[0-9]+)?`), which is what makes it a number rather than text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralNumber(String);

impl LiteralNumber {
    /// The literal, if `text` is a JSON number.
    pub fn parse(text: &str) -> Option<Self> {
        is_json_number(text).then(|| LiteralNumber(text.to_owned()))
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The number as a JSON number, when that number's text is exactly the written text:
    /// every digit is kept (`50000`, `19.90`, `-0`, `12345678901234567890123`), but
    /// `serde_json` spells an exponent one way (`1e3` would become `1e+3`), so a literal with
    /// an exponent gives `None` and is stored as its text.
    pub fn exact_number(&self) -> Option<Number> {
        let n: Number = serde_json::from_str(&self.0).ok()?;
        (n.to_string() == self.0).then_some(n)
    }

    /// The value a stored literal holds: the JSON number when it keeps the written text,
    /// otherwise (an exponent) the written text as a string, so that it reads back as written.
    pub fn to_value(&self) -> Value {
        self.exact_number()
            .map_or_else(|| Value::String(self.0.clone()), Value::Number)
    }
}

/// Whether `s` is a number in JSON's grammar (RFC 8259 §6): no `+`, no leading zeros, no bare
/// `.5` or `5.`, no `_`, hex, octal, `inf` or `nan`.
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_numbers_and_only_those() {
        for yes in [
            "0", "-0", "5", "-12", "19.99", "19.90", "0.5", "1e3", "1E+3", "2.5e-7", "0e0",
        ] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in [
            "",
            "-",
            "+5",
            "+919000090000",
            "007",
            "-01",
            ".5",
            "5.",
            "1_000",
            "0x1F",
            "0o17",
            ".inf",
            ".nan",
            "1e",
            "1e+",
            "1.2.3",
            "12:30",
            "5 ",
            " 5",
            "1-2",
            "e3",
        ] {
            assert!(!is_json_number(no), "{no}");
        }
    }

    #[test]
    fn stored_literals_are_numbers_with_every_written_digit() {
        let text = |s: &str| {
            let v = LiteralNumber::parse(s).unwrap().to_value();
            assert!(v.is_number(), "{s} is stored as a number");
            v.to_string()
        };
        let value = |s: &str| LiteralNumber::parse(s).unwrap().to_value();
        for kept in [
            "50000",
            "-3",
            "19.99",
            "19.90",
            "-0",
            "0.1",
            "18446744073709551615",
            "12345678901234567890123",
            "3.141592653589793238",
        ] {
            assert_eq!(text(kept), kept);
        }
        // An exponent would be respelled (`1e+3`), so it is kept as the text written.
        assert_eq!(value("1e3"), json!("1e3"));
        assert_eq!(value("2.50E1"), json!("2.50E1"));
        assert_eq!(v_f64("19.90"), Some(19.9));
    }

    fn v_f64(s: &str) -> Option<f64> {
        LiteralNumber::parse(s).unwrap().to_value().as_f64()
    }
}
