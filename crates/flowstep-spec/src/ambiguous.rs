//! Plain scalars whose type a reader cannot tell at a glance: text that other YAML readers (and
//! YAML 1.1 tools such as PyYAML) would take as a number, a boolean or null. They get warning
//! W002 where the type matters. (A number is always kept as written, `19.90` and `1e3`
//! included, so numbers need no warning.)

use crate::diagnostic::Diagnostic;
use crate::literal_number::{LiteralNumber, is_json_number};
use crate::source::Span;

/// What another YAML reader would make of a plain scalar that flowstep keeps as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherReading {
    /// A number (shown as they would read it: `+919000090000` is `919000090000`).
    Number(String),
    /// A boolean (`yes`, `True`, `off`).
    Boolean(bool),
    /// Null (`Null`, `NULL`).
    Null,
}

/// What other YAML readers would read `text` as, when flowstep reads it as text.
pub fn other_reading(text: &str) -> Option<OtherReading> {
    match text {
        "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Some(OtherReading::Boolean(true));
        }
        "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Some(OtherReading::Boolean(false));
        }
        "Null" | "NULL" => return Some(OtherReading::Null),
        _ => {}
    }
    let (sign, body) = match text.as_bytes().first() {
        Some(b'+') => ("", &text[1..]),
        Some(b'-') => ("-", &text[1..]),
        _ => ("", text),
    };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(OtherReading::Number(format!("{sign}infinity"))),
        ".nan" | ".NaN" | ".NAN" if sign.is_empty() && body.len() == text.len() => {
            return Some(OtherReading::Number("not-a-number".to_owned()));
        }
        _ => {}
    }
    let radix = |prefix: &str, radix: u32| {
        body.strip_prefix(prefix)
            .filter(|d| !d.is_empty())
            .and_then(|d| u128::from_str_radix(&d.replace('_', ""), radix).ok())
            .map(|n| OtherReading::Number(format!("{sign}{n}")))
    };
    if let Some(r) = radix("0x", 16).or_else(|| radix("0o", 8)) {
        return Some(r);
    }
    // Decimal-looking text JSON does not write: `+5`, `007`, `.5`, `5.`, `1_000`, `+1e3`.
    if is_json_number(text) {
        return None;
    }
    let cleaned = if body.starts_with(|c: char| c.is_ascii_digit()) {
        body.replace('_', "")
    } else {
        body.to_owned()
    };
    let (mantissa, exp) = cleaned.split_at(cleaned.find(['e', 'E']).unwrap_or(cleaned.len()));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = exp.is_empty() || {
        let e = &exp[1..];
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let numeric = exp_ok
        && all_digits(int)
        && frac.is_none_or(all_digits)
        && int.len() + frac.map_or(0, str::len) > 0;
    if !numeric {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = match frac {
        Some("") => ".0".to_owned(),
        Some(f) => format!(".{f}"),
        None => String::new(),
    };
    Some(OtherReading::Number(format!("{sign}{int}{frac}{exp}")))
}

/// W002 for a plain scalar kept as text that other readers would type, or `None`.
pub fn text_warning(text: &str, span: Span) -> Option<Diagnostic> {
    let reading = other_reading(text)?;
    let (as_what, instead) = match &reading {
        OtherReading::Number(n) => (
            format!("the number {n}"),
            if LiteralNumber::parse(n).is_some() {
                format!("; write `{n}` for a number")
            } else {
                String::new()
            },
        ),
        OtherReading::Boolean(b) => (
            format!("the boolean {b}"),
            format!("; write `{b}` for a boolean"),
        ),
        OtherReading::Null => ("null".to_owned(), "; write `null` for null".to_owned()),
    };
    Some(
        Diagnostic::warning(
            "W002",
            format!("`{text}` is the text \"{text}\" here"),
            span,
        )
        .with_label(format!("other YAML readers take this as {as_what}"))
        .with_help(format!(
            "quote it (`\"{text}\"`) to say it is text{instead}"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(s: &str) -> Option<OtherReading> {
        Some(OtherReading::Number(s.to_owned()))
    }

    #[test]
    fn other_readers_type_these_and_flowstep_keeps_them_as_text() {
        assert_eq!(other_reading("+919000090000"), number("919000090000"));
        assert_eq!(other_reading("007"), number("7"));
        assert_eq!(other_reading("-01"), number("-1"));
        assert_eq!(other_reading(".5"), number("0.5"));
        assert_eq!(other_reading("5."), number("5.0"));
        assert_eq!(other_reading("1_000"), number("1000"));
        assert_eq!(other_reading("0x1F"), number("31"));
        assert_eq!(other_reading("0o17"), number("15"));
        assert_eq!(other_reading("+1e3"), number("1e3"));
        assert_eq!(other_reading(".inf"), number("infinity"));
        assert_eq!(other_reading("-.inf"), number("-infinity"));
        assert_eq!(other_reading(".nan"), number("not-a-number"));
        assert_eq!(other_reading("yes"), Some(OtherReading::Boolean(true)));
        assert_eq!(other_reading("Off"), Some(OtherReading::Boolean(false)));
        assert_eq!(other_reading("NULL"), Some(OtherReading::Null));
    }

    #[test]
    fn plain_text_is_not_ambiguous() {
        for text in [
            "hello", "A-1042", "1-2", "12:30", "e3", "_1", "+", "-", ".", "+abc", "v1.2", "1.2.3",
            "19.99.", "in", "y", "n", "1e3x", "1e3",
        ] {
            assert_eq!(other_reading(text), None, "{text}");
        }
    }

    #[test]
    fn the_warning_says_how_it_is_read_and_how_to_say_so() {
        let d = text_warning("+919000090000", Span::new(0, 13)).unwrap();
        assert_eq!(
            d.message,
            "`+919000090000` is the text \"+919000090000\" here"
        );
        assert_eq!(
            d.label.as_deref(),
            Some("other YAML readers take this as the number 919000090000")
        );
        assert_eq!(
            d.help.as_deref(),
            Some(
                "quote it (`\"+919000090000\"`) to say it is text; write `919000090000` for a number"
            )
        );
    }
}
