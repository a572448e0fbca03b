//! Numbers written in a flow file, kept as the text the author wrote.
//!
//! A JSON number in `serde_json` is an `i64`, a `u64` or an `f64`, so `19.90` would come back
//! as `19.9`, `1e3` as `1000.0` and `12345678901234567890123` rounded. A literal number is
//! therefore held as its text: request bodies and text get exactly what was written, and only
//! a value that is stored (a `set` variable, an output) is turned into a JSON value, as a
//! number when the number's JSON text is the written text and as that text otherwise.

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

    /// The number as a JSON number, only when that number's text is exactly the written text
    /// (`50000`, `19.99`, `-3`); `None` for `19.90`, `1e3`, `-0`, or more digits than `i64`,
    /// `u64` or `f64` keep.
    pub fn exact_number(&self) -> Option<Number> {
        let n: Number = serde_json::from_str(&self.0).ok()?;
        (n.to_string() == self.0).then_some(n)
    }

    /// The value a stored literal holds: the JSON number when it keeps the written text,
    /// otherwise the written text as a string (as `decimal` inputs are kept: text is exact).
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
    fn stored_literals_are_numbers_only_when_that_keeps_their_text() {
        let v = |s: &str| LiteralNumber::parse(s).unwrap().to_value();
        assert_eq!(v("50000"), json!(50000));
        assert_eq!(v("-3"), json!(-3));
        assert_eq!(v("19.99"), json!(19.99));
        assert_eq!(v("19.90"), json!("19.90"));
        assert_eq!(v("1e3"), json!("1e3"));
        assert_eq!(v("-0"), json!("-0"));
        assert_eq!(
            v("18446744073709551615"),
            json!(18_446_744_073_709_551_615_u64)
        );
        assert_eq!(
            v("12345678901234567890123"),
            json!("12345678901234567890123")
        );
        assert_eq!(v("0.1"), json!(0.1));
        assert_eq!(v("3.141592653589793238"), json!("3.141592653589793238"));
    }
}
