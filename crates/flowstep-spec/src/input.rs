//! Flow inputs: declarations, and checking the values a run is given against them.

use serde_json::{Number, Value};
use std::fmt;

use crate::source::{Span, Spanned};

/// The type of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// Any text.
    String,
    /// A whole number (amounts in minor units: paise, cents).
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl InputType {
    /// The names the file uses.
    pub const NAMES: &'static [&'static str] = &["string", "integer", "number", "boolean"];

    /// Parses a type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => InputType::String,
            "integer" => InputType::Integer,
            "number" => InputType::Number,
            "boolean" => InputType::Boolean,
            _ => return None,
        })
    }
}

impl fmt::Display for InputType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
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

    /// Converts text from the command line (`--var amount_paise=50000`) to the input's type.
    pub fn parse_text(&self, raw: &str) -> Result<Value, InputError> {
        let value = match self.ty {
            InputType::String => Value::String(raw.to_owned()),
            InputType::Integer => match raw.trim().parse::<i64>() {
                Ok(i) => Value::Number(i.into()),
                Err(_) => return Err(self.error(format!("{raw:?} is not an integer"))),
            },
            InputType::Number => match raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(Number::from_f64)
            {
                Some(n) => {
                    // Keep integers as integers so that `--var n=5` stays `5`, not `5.0`.
                    match raw.trim().parse::<i64>() {
                        Ok(i) => Value::Number(i.into()),
                        Err(_) => Value::Number(n),
                    }
                }
                None => return Err(self.error(format!("{raw:?} is not a number"))),
            },
            InputType::Boolean => match raw.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    return Err(
                        self.error(format!("{raw:?} is not a boolean (write true or false)"))
                    );
                }
            },
        };
        self.check(value)
    }

    /// Checks a typed value (from a vars file, a default or the library API) against the type
    /// and the bounds.
    pub fn check(&self, value: Value) -> Result<Value, InputError> {
        let shown = value.to_string();
        let fits = match (&self.ty, &value) {
            (InputType::String, Value::String(_)) | (InputType::Boolean, Value::Bool(_)) => true,
            (InputType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (InputType::Number, Value::Number(_)) => true,
            _ => false,
        };
        if !fits {
            let article = if self.ty == InputType::Integer {
                "an"
            } else {
                "a"
            };
            return Err(self.error(format!("{shown} is not {article} {}", self.ty)));
        }
        if let Value::Number(n) = &value {
            let v = n.as_f64().unwrap_or_default();
            if let Some(min) = &self.minimum
                && v < min.as_f64().unwrap_or_default()
            {
                return Err(self.error(format!("{shown} is less than the minimum {min}")));
            }
            if let Some(max) = &self.maximum
                && v > max.as_f64().unwrap_or_default()
            {
                return Err(self.error(format!("{shown} is more than the maximum {max}")));
            }
        }
        Ok(value)
    }
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
        assert_eq!(
            decl(InputType::Boolean)
                .parse_text("yes")
                .unwrap_err()
                .message,
            "\"yes\" is not a boolean (write true or false)"
        );
    }
}
