//! Flow inputs: declarations, and checking the values a run is given against them.

use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::fmt;

use crate::decimal::Decimal;
use crate::literal_number::is_json_number;
use crate::shown::{shown_quoted, shown_text, shown_value};
use crate::source::{Span, Spanned};
use crate::value_text::value_to_text;
use crate::yaml::{Node, NodeKind};

/// The type of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// Any text.
    String,
    /// A whole number (amounts in minor units: paise, cents).
    Integer,
    /// Any number.
    Number,
    /// An exact decimal for money (`19.99`), kept as its canonical text in a JSON string so
    /// that no binary floating point ever touches it.
    Decimal,
    /// `true` or `false`.
    Boolean,
}

impl InputType {
    /// The names the file uses.
    pub const NAMES: &'static [&'static str] =
        &["string", "integer", "number", "decimal", "boolean"];

    /// Parses a type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => InputType::String,
            "integer" => InputType::Integer,
            "number" => InputType::Number,
            "decimal" => InputType::Decimal,
            "boolean" => InputType::Boolean,
            _ => return None,
        })
    }
}

impl InputType {
    /// Converts text to this type, without checking any rule: the one typing rule for
    /// `--var`, vars files, defaults and `enum` values. Text around a number or a boolean is
    /// trimmed; a string is kept exactly as given.
    ///
    /// Empty text, `~` and `null` (spaces around them ignored) are null for every type but
    /// `string`, so that an optional input can be left unset from the command line
    /// (`--var n=`); a string input keeps even that text as given.
    pub fn value_from_text(self, raw: &str) -> Result<Value, String> {
        let trimmed = raw.trim();
        if self != InputType::String && matches!(trimmed, "" | "~" | "null") {
            return Ok(Value::Null);
        }
        Ok(match self {
            InputType::String => Value::String(raw.to_owned()),
            InputType::Integer => match trimmed.parse::<i64>() {
                Ok(i) => Value::Number(i.into()),
                Err(_) => {
                    return Err(match integer_overflow(trimmed) {
                        Some(way) => overflow_message(&shown_quoted(raw), way),
                        None => format!("{} is not an integer", shown_quoted(raw)),
                    });
                }
            },
            // A number in JSON's grammar keeps every digit (`19.90`, `1e400`, any number of
            // digits; an exponent is spelled `e+3`); other spellings of a decimal number
            // (`+5`, `.5`, `5.`, `007`) are respelled in JSON's grammar, keeping their value
            // and gaining no digits: `5`, `0.5`, `5`, `7`.
            InputType::Number => {
                let json = if is_json_number(trimmed) {
                    Some(std::borrow::Cow::Borrowed(trimmed))
                } else {
                    json_number_spelling(trimmed).map(std::borrow::Cow::Owned)
                };
                match json.and_then(|t| serde_json::from_str::<Number>(&t).ok()) {
                    Some(n) => Value::Number(n),
                    None => return Err(format!("{} is not a number", shown_quoted(raw))),
                }
            }
            InputType::Decimal => match Decimal::parse(trimmed) {
                Some(d) => Value::String(d.to_string()),
                None => {
                    return Err(format!(
                        "{} is not a decimal (write digits with an optional point, like 19.99)",
                        shown_quoted(raw)
                    ));
                }
            },
            // YAML's core schema spells booleans three ways; all of them are read here too.
            InputType::Boolean => match trimmed {
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                _ => {
                    return Err(format!(
                        "{} is not a boolean (write true or false)",
                        shown_quoted(raw)
                    ));
                }
            },
        })
    }

    /// "an integer", "a string".
    pub fn with_article(self) -> String {
        let article = if self == InputType::Integer {
            "an"
        } else {
            "a"
        };
        format!("{article} {self}")
    }
}

/// A decimal number written as people write one (an optional sign, digits with an optional
/// point, an optional exponent: `+5`, `.5`, `5.`, `007`, `-.5e3`) in JSON's grammar (`5`,
/// `0.5`, `5`, `7`, `-0.5e3`), or `None` when it is not one.
fn json_number_spelling(text: &str) -> Option<String> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => ("", &text[1..]),
        b'-' => ("-", &text[1..]),
        _ => ("", text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let mut out = format!("{sign}{}", if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if let Some(e) = exponent {
        let e_digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e_digits.is_empty() || !digits(e_digits) {
            return None;
        }
        out.push('e');
        out.push_str(e);
    }
    Some(out)
}

impl fmt::Display for InputType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
            InputType::Decimal => "decimal",
            InputType::Boolean => "boolean",
        })
    }
}

/// One declared input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputDecl {
    /// Its name, as `<<name>>` reads it.
    pub name: Spanned<String>,
    /// Its type.
    pub ty: InputType,
    /// The value used when none is given; an input without one is required.
    pub default: Option<Value>,
    /// What it is, for `presets show` and docs.
    pub description: Option<String>,
    /// The smallest allowed value (numbers).
    pub minimum: Option<Number>,
    /// The largest allowed value (numbers).
    pub maximum: Option<Number>,
    /// `enum:` the only allowed values, when set.
    pub enum_values: Option<Vec<Value>>,
    /// `pattern:` a regular expression the whole string must match.
    pub pattern: Option<InputPattern>,
    /// `min_length:` the fewest characters a string may have.
    pub min_length: Option<u64>,
    /// `max_length:` the most characters a string may have.
    pub max_length: Option<u64>,
    /// The whole declaration.
    pub span: Span,
}

/// Why a value does not fit an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct InputError {
    /// The input.
    pub name: String,
    /// What is wrong with the value, naming the value and the rule.
    pub message: String,
}

impl InputDecl {
    fn error(&self, message: String) -> InputError {
        InputError {
            name: self.name.value.clone(),
            message,
        }
    }

    /// Converts text (`--var amount_paise=50000`, a scalar in a vars file or a default, a
    /// string handed to [`InputDecl::check`]) to the input's type, then checks every rule.
    pub fn parse_text(&self, raw: &str) -> Result<Value, InputError> {
        let value = self
            .ty
            .value_from_text(raw)
            .map_err(|m| self.bound_error(raw, m))?;
        self.check_given(value, raw.trim().is_empty())
    }

    /// Reads a value written in YAML (a default, an entry of a vars file) by the one typing
    /// rule: a scalar is read from its text, whether it was quoted or not (`2`, `"2"` and
    /// `--var n=2` are the same value; `+919000090000` and `007` stay as written for a string
    /// input); an empty or `null` scalar is null, for an optional input; a list or mapping is
    /// not an input value.
    pub fn read_node(&self, node: &Node) -> Result<Value, InputError> {
        match &node.kind {
            NodeKind::Scalar(..) if node.is_null() => self.check(Value::Null),
            NodeKind::Scalar(text, _) => self.parse_text(text),
            NodeKind::Seq(_) | NodeKind::Map(_) => Err(self.error(format!(
                "{} is not {}",
                node.kind_name(),
                self.ty.with_article()
            ))),
        }
    }

    /// The error for text that did not convert: an integer beyond 64 bits is reported against
    /// the input's own bound when it has one (`99999999999999999999999 is more than the
    /// maximum 99999999`), which is the rule the author wrote, rather than against `i64`.
    fn bound_error(&self, raw: &str, message: String) -> InputError {
        if self.ty == InputType::Integer {
            let shown = shown_text(raw.trim());
            match (integer_overflow(raw.trim()), &self.maximum, &self.minimum) {
                (Some(Ordering::Greater), Some(max), _) => {
                    return self.error(format!("{shown} is more than the maximum {max}"));
                }
                (Some(Ordering::Less), _, Some(min)) => {
                    return self.error(format!("{shown} is less than the minimum {min}"));
                }
                _ => {}
            }
        }
        self.error(message)
    }

    fn not_a_decimal(&self, shown: &str) -> InputError {
        self.error(format!(
            "{shown} is not a decimal (write digits with an optional point, like 19.99)"
        ))
    }

    /// Checks a typed value (from the library API, a `flow` step's `with:`) against the type
    /// and every rule (`enum`, `pattern`, lengths, bounds). Text given for an `integer`,
    /// `number` or `boolean` input is converted by its text, as `--var` is. A decimal comes
    /// back as its canonical text in a JSON string, whether it was given as a string or a
    /// number.
    pub fn check(&self, value: Value) -> Result<Value, InputError> {
        let empty = matches!(&value, Value::String(t) if t.trim().is_empty());
        self.check_given(value, empty)
    }

    /// [`InputDecl::check`], where `empty` says the value was given as empty text
    /// (`--var amount_paise=`, an empty CSV cell), which an error says in those words.
    fn check_given(&self, value: Value, empty: bool) -> Result<Value, InputError> {
        let value = match (&value, self.ty) {
            (
                Value::String(text),
                InputType::Integer | InputType::Number | InputType::Boolean | InputType::Decimal,
            ) => self
                .ty
                .value_from_text(text)
                .map_err(|m| self.bound_error(text, m))?,
            _ => value,
        };
        // An optional input (`default: null`) may be given as null: "not set".
        if value.is_null() {
            if self.default == Some(Value::Null) {
                return Ok(value);
            }
            if empty {
                return Err(self.error(format!(
                    "an empty value is not {}; give one, or make the input optional (`default: null`)",
                    self.ty.with_article()
                )));
            }
            return Err(self.error(format!(
                "null is not {}; only an optional input (`default: null`) takes null",
                self.ty.with_article()
            )));
        }
        let mut value = value;
        // Rules below name a decimal by its text, unquoted, as the author wrote it.
        let decimal = self.ty == InputType::Decimal;
        if decimal {
            let Some(d) = Decimal::from_json(&value) else {
                return Err(self.not_a_decimal(&shown_value(&value)));
            };
            value = Value::String(shown_text(&d.to_string()));
        }
        // Echoed in errors (a 90,000-item list shows as its start and its size), and so
        // made only for an error: a run checks every input it is given.
        let shown = |value: &Value| match value {
            Value::String(text) if decimal => text.clone(),
            _ => shown_value(value),
        };
        let fits = match (&self.ty, &value) {
            (InputType::String, Value::String(_))
            | (InputType::Boolean, Value::Bool(_))
            | (InputType::Decimal, Value::String(_)) => true,
            (InputType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (InputType::Number, Value::Number(_)) => true,
            _ => false,
        };
        // A JSON integer with more digits than 64 bits hold is an integer too large, as the
        // same digits given as text (`--var`, a CSV cell) are: said the same way.
        if let (InputType::Integer, Value::Number(n), false) = (self.ty, &value, fits) {
            let text = n.to_string();
            if let Some(way) = integer_overflow(&text) {
                return Err(self.bound_error(&text, overflow_message(&shown(&value), way)));
            }
        }
        if !fits {
            return Err(self.error(format!(
                "{} is not {}",
                shown(&value),
                self.ty.with_article()
            )));
        }
        self.check_rules(&value, &|| shown(&value))?;
        Ok(value)
    }

    /// `enum`, `pattern`, `min_length`/`max_length` and `minimum`/`maximum`, for a value that
    /// already has the declared type.
    fn check_rules(&self, value: &Value, shown: &dyn Fn() -> String) -> Result<(), InputError> {
        if let Some(allowed) = &self.enum_values
            && !allowed.iter().any(|a| self.same_value(a, value))
        {
            let list: Vec<String> = allowed.iter().map(value_to_text).collect();
            return Err(self.error(format!(
                "{} is not one of {}",
                shown(),
                shown_text(&list.join(", "))
            )));
        }
        if let Value::String(s) = value
            && self.ty == InputType::String
        {
            if let Some(p) = &self.pattern
                && !p.is_match(s)
            {
                return Err(self.error(format!(
                    "{} does not match the pattern {}",
                    shown(),
                    p.as_str()
                )));
            }
            // Lengths count characters, not bytes: "₹500" is 4 long.
            let len = s.chars().count() as u64;
            let chars = if len == 1 { "character" } else { "characters" };
            if let Some(min) = self.min_length
                && len < min
            {
                return Err(self.error(format!(
                    "{} is shorter than the minimum length {min} ({len} {chars})",
                    shown()
                )));
            }
            if let Some(max) = self.max_length
                && len > max
            {
                return Err(self.error(format!(
                    "{} is longer than the maximum length {max} ({len} {chars})",
                    shown()
                )));
            }
        }
        if let Some(min) = &self.minimum
            && compare_number(value, min) == Some(Ordering::Less)
        {
            return Err(self.error(format!("{} is less than the minimum {min}", shown())));
        }
        if let Some(max) = &self.maximum
            && compare_number(value, max) == Some(Ordering::Greater)
        {
            return Err(self.error(format!("{} is more than the maximum {max}", shown())));
        }
        Ok(())
    }

    /// Whether a value equals an `enum` entry; decimals compare by value (`19.9` is `19.90`).
    fn same_value(&self, allowed: &Value, value: &Value) -> bool {
        match self.ty {
            InputType::Decimal | InputType::Number | InputType::Integer => {
                match (Decimal::from_json(allowed), Decimal::from_json(value)) {
                    (Some(a), Some(b)) => a == b,
                    _ => allowed == value,
                }
            }
            _ => allowed == value,
        }
    }
}

/// Compares a number or decimal value with a bound exactly, by decimal digits; `f64` only for a
/// bound that needs an exponent to be written (`1e300`).
fn compare_number(value: &Value, bound: &Number) -> Option<Ordering> {
    match (Decimal::from_json(value), Decimal::from_number(bound)) {
        (Some(v), Some(b)) => Some(v.cmp(&b)),
        _ => value.as_f64()?.partial_cmp(&bound.as_f64()?),
    }
}

/// An input's `pattern`: the regular expression as written, compiled to match the whole value.
#[derive(Debug, Clone)]
pub struct InputPattern {
    source: String,
    regex: regex::Regex,
}

impl InputPattern {
    /// Compiles `source` anchored at both ends (`\A(?:source)\z`), so that `[0-9]{6}` means
    /// "exactly six digits", not "six digits somewhere".
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(InputPattern {
            source: source.to_owned(),
            regex: regex::Regex::new(&format!(r"\A(?:{source})\z"))?,
        })
    }

    /// The pattern as the author wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for InputPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// What is said of an integer (`shown` as the message quotes it) that overflows 64 bits `way`
/// (from [`integer_overflow`]).
fn overflow_message(shown: &str, way: Ordering) -> String {
    match way {
        Ordering::Greater => {
            format!(
                "{shown} is too large for an integer (the largest is {})",
                i64::MAX
            )
        }
        _ => format!(
            "{shown} is too small for an integer (the smallest is {})",
            i64::MIN
        ),
    }
}

/// For text that is an integer too large (`Greater`) or too small (`Less`) for 64 bits: which
/// way it overflows; `None` for text that is not an integer at all.
fn integer_overflow(text: &str) -> Option<Ordering> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // It is an integer that `i64` refused, so it overflows.
    Some(if negative {
        Ordering::Less
    } else {
        Ordering::Greater
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(ty: InputType) -> InputDecl {
        InputDecl {
            name: Spanned::new("amount_paise".into(), Span::default()),
            ty,
            default: None,
            description: None,
            minimum: Some(50.into()),
            maximum: Some(99_999_999.into()),
            enum_values: None,
            pattern: None,
            min_length: None,
            max_length: None,
            span: Span::default(),
        }
    }

    #[test]
    fn text_is_converted_to_the_declared_type_and_checked() {
        let d = decl(InputType::Integer);
        assert_eq!(d.parse_text("50000"), Ok(json!(50000)));
        assert_eq!(
            d.parse_text("500.5").unwrap_err().to_string(),
            "amount_paise: \"500.5\" is not an integer"
        );
        assert_eq!(
            d.parse_text("10").unwrap_err().to_string(),
            "amount_paise: 10 is less than the minimum 50"
        );
        assert_eq!(
            d.check(json!(500.5)).unwrap_err().to_string(),
            "amount_paise: 500.5 is not an integer"
        );
        // A JSON integer past 64 bits is said as its text is (`--var`, a CSV cell).
        let huge: Value = serde_json::from_str("99999999999999999999999").unwrap();
        assert_eq!(
            d.check(huge.clone()).unwrap_err().to_string(),
            d.parse_text("99999999999999999999999")
                .unwrap_err()
                .to_string()
        );
        assert_eq!(
            d.check(huge).unwrap_err().to_string(),
            "amount_paise: 99999999999999999999999 is more than the maximum 99999999"
        );
        let mut unbounded = decl(InputType::Integer);
        (unbounded.minimum, unbounded.maximum) = (None, None);
        assert_eq!(
            unbounded
                .check(serde_json::from_str("-99999999999999999999999").unwrap())
                .unwrap_err()
                .to_string(),
            "amount_paise: -99999999999999999999999 is too small for an integer (the smallest is -9223372036854775808)"
        );
        assert_eq!(
            decl(InputType::Boolean)
                .parse_text("yes")
                .unwrap_err()
                .message,
            "\"yes\" is not a boolean (write true or false)"
        );
    }

    #[test]
    fn null_text_is_null_except_for_a_string_input() {
        for ty in [
            InputType::Integer,
            InputType::Number,
            InputType::Decimal,
            InputType::Boolean,
        ] {
            for text in ["", " ", "~", "null"] {
                assert_eq!(ty.value_from_text(text), Ok(Value::Null), "{ty} {text:?}");
            }
            let mut d = decl(ty);
            d.minimum = None;
            assert_eq!(
                d.parse_text("").unwrap_err().message,
                format!(
                    "an empty value is not {}; give one, or make the input optional (`default: null`)",
                    ty.with_article()
                )
            );
            assert_eq!(
                d.parse_text("null").unwrap_err().message,
                format!(
                    "null is not {}; only an optional input (`default: null`) takes null",
                    ty.with_article()
                )
            );
            d.default = Some(Value::Null);
            assert_eq!(d.parse_text("~"), Ok(Value::Null));
        }
        for text in ["", "~", "null"] {
            assert_eq!(InputType::String.value_from_text(text), Ok(json!(text)));
        }
    }

    #[test]
    fn numbers_from_text_keep_their_value_and_gain_no_digits() {
        let n = InputType::Number;
        for (text, json) in [
            ("+5", "5"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("5.", "5"),
            ("007", "7"),
            ("+1.50e3", "1.50e3"),
            ("19.90", "19.90"),
        ] {
            let v = n.value_from_text(text).unwrap();
            assert_eq!(
                v.to_string(),
                serde_json::from_str::<Value>(json).unwrap().to_string(),
                "{text}"
            );
        }
        for bad in [".", "+", "1e", "1.2.3", "inf", "NaN", "0x1F", "1_000"] {
            assert!(n.value_from_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_integer_beyond_64_bits_is_reported_against_the_bound_the_author_wrote() {
        let mut d = decl(InputType::Integer);
        d.maximum = Some(99_999_999.into());
        assert_eq!(
            d.parse_text("99999999999999999999999")
                .unwrap_err()
                .to_string(),
            "amount_paise: 99999999999999999999999 is more than the maximum 99999999"
        );
        assert_eq!(
            d.check(json!("-99999999999999999999999"))
                .unwrap_err()
                .to_string(),
            "amount_paise: -99999999999999999999999 is less than the minimum 50"
        );
        d.maximum = None;
        assert_eq!(
            d.parse_text("+99999999999999999999999")
                .unwrap_err()
                .message,
            "\"+99999999999999999999999\" is too large for an integer (the largest is 9223372036854775807)"
        );
        d.minimum = None;
        assert_eq!(
            d.parse_text("-99999999999999999999999")
                .unwrap_err()
                .message,
            "\"-99999999999999999999999\" is too small for an integer (the smallest is -9223372036854775808)"
        );
        assert_eq!(
            d.parse_text(&format!("{}x", "9".repeat(20)))
                .unwrap_err()
                .message,
            "\"99999999999999999999x\" is not an integer"
        );
    }

    #[test]
    fn decimals_are_exact_text_from_text_strings_and_numbers() {
        let mut d = decl(InputType::Decimal);
        d.name.value = "price".into();
        d.minimum = Some(serde_json::Number::from_f64(0.5).unwrap());
        assert_eq!(d.parse_text(" 19.99 "), Ok(json!("19.99")));
        assert_eq!(d.parse_text("19.90"), Ok(json!("19.90")));
        assert_eq!(d.check(json!(19.99)), Ok(json!("19.99")));
        assert_eq!(d.check(json!("0019.5")), Ok(json!("19.5")));
        assert_eq!(
            d.parse_text("1e3").unwrap_err().to_string(),
            "price: \"1e3\" is not a decimal (write digits with an optional point, like 19.99)"
        );
        assert_eq!(
            d.check(json!(true)).unwrap_err().message,
            "true is not a decimal (write digits with an optional point, like 19.99)"
        );
        assert_eq!(
            d.parse_text("0.49").unwrap_err().to_string(),
            "price: 0.49 is less than the minimum 0.5"
        );
        // Exact at the bound: 99999999.99 is not more than 99999999.99.
        d.maximum = Some(99_999_999.into());
        assert!(d.parse_text("99999999.00").is_ok());
        assert_eq!(
            d.parse_text("99999999.01").unwrap_err().message,
            "99999999.01 is more than the maximum 99999999"
        );
    }

    #[test]
    fn enum_pattern_and_lengths_name_the_value_and_the_rule() {
        let mut d = decl(InputType::String);
        d.name.value = "currency".into();
        d.minimum = None;
        d.maximum = None;
        d.enum_values = Some(vec![json!("inr"), json!("usd"), json!("eur")]);
        assert_eq!(d.parse_text("usd"), Ok(json!("usd")));
        assert_eq!(
            d.parse_text("usdd").unwrap_err().to_string(),
            "currency: \"usdd\" is not one of inr, usd, eur"
        );
        d.enum_values = None;
        d.name.value = "phone".into();
        d.pattern = Some(InputPattern::new(r"^\+?[0-9]{7,15}$").unwrap());
        assert!(d.parse_text("+919876543210").is_ok());
        assert_eq!(
            d.parse_text("12ab").unwrap_err().to_string(),
            r#"phone: "12ab" does not match the pattern ^\+?[0-9]{7,15}$"#
        );
        // Anchored: a match somewhere inside is not enough.
        let p = InputPattern::new("[0-9]{6}").unwrap();
        assert!(p.is_match("560001"));
        assert!(!p.is_match("PIN 560001"));
        d.pattern = None;
        d.min_length = Some(2);
        d.max_length = Some(3);
        assert!(d.parse_text("₹50").is_ok(), "lengths count characters");
        assert_eq!(
            d.parse_text("x").unwrap_err().message,
            "\"x\" is shorter than the minimum length 2 (1 character)"
        );
        assert_eq!(
            d.parse_text("abcd").unwrap_err().message,
            "\"abcd\" is longer than the maximum length 3 (4 characters)"
        );
    }

    #[test]
    fn yaml_values_are_read_from_their_text_by_the_declared_type() {
        let node = |yaml: &str| {
            let file = crate::SourceFile::new("v.yaml", format!("v: {yaml}\n"));
            let root = crate::yaml::parse(&file).unwrap();
            root.as_map().unwrap()[0].1.clone()
        };
        let mut d = decl(InputType::Integer);
        d.minimum = None;
        assert_eq!(d.read_node(&node("2")), Ok(json!(2)));
        assert_eq!(d.read_node(&node("\"2\"")), Ok(json!(2)));
        assert_eq!(
            d.read_node(&node("2.5")).unwrap_err().message,
            "\"2.5\" is not an integer"
        );
        assert_eq!(
            d.read_node(&node("[1]")).unwrap_err().message,
            "a list is not an integer"
        );
        let mut s = decl(InputType::String);
        s.minimum = None;
        s.maximum = None;
        assert_eq!(
            s.read_node(&node("+919000090000")),
            Ok(json!("+919000090000"))
        );
        assert_eq!(s.read_node(&node("007")), Ok(json!("007")));
        assert_eq!(s.read_node(&node("560001")), Ok(json!("560001")));
        let b = decl(InputType::Boolean);
        assert_eq!(b.read_node(&node("\"true\"")), Ok(json!(true)));
        assert_eq!(b.read_node(&node("False")), Ok(json!(false)));
        let mut m = decl(InputType::Decimal);
        m.minimum = None;
        assert_eq!(m.read_node(&node("19.90")), Ok(json!("19.90")));
        // Text handed to `check` (the library API, `with:`) is read the same way.
        assert_eq!(d.check(json!(" 7 ")), Ok(json!(7)));
        assert_eq!(b.check(json!("false")), Ok(json!(false)));
    }

    #[test]
    fn decimal_enums_compare_by_value() {
        let mut d = decl(InputType::Decimal);
        d.minimum = None;
        d.enum_values = Some(vec![json!("9.99"), json!("19.90")]);
        assert_eq!(d.parse_text("19.9"), Ok(json!("19.9")));
        assert!(d.parse_text("19.91").is_err());
    }
}
