//! A rendered value tree that still knows which numbers were written in the file, so that a
//! request body is encoded with each literal number exactly as written (`19.90`, `1e3`).

use crate::literal_number::LiteralNumber;
use serde_json::{Map, Value};

/// What a [`crate::ValueTemplate`] renders to.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    /// A value: what an expression read, or a literal null, boolean or text.
    Value(Value),
    /// A number written in the file, as written.
    Number(LiteralNumber),
    /// A list written in the file.
    List(Vec<Rendered>),
    /// A mapping written in the file, keys rendered, in file order (no key twice).
    Map(Vec<(String, Rendered)>),
}

impl Rendered {
    /// The tree as a JSON value for storing: a literal number becomes a JSON number when that
    /// keeps its text, else its text (see [`LiteralNumber::to_value`]).
    pub fn into_value(self) -> Value {
        match self {
            Rendered::Value(v) => v,
            Rendered::Number(n) => n.to_value(),
            Rendered::List(items) => {
                Value::Array(items.into_iter().map(Self::into_value).collect())
            }
            Rendered::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// The tree as compact JSON text, literal numbers as written.
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Rendered::Value(v) => out.push_str(&v.to_string()),
            Rendered::Number(n) => out.push_str(n.text()),
            Rendered::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Rendered::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Rendered::Value(Value::Null))
    }

    /// A word for the kind of value, for errors ("it rendered to a list").
    pub fn kind_name(&self) -> &'static str {
        match self {
            Rendered::Value(Value::Null) => "null",
            Rendered::Value(Value::Bool(_)) => "a boolean",
            Rendered::Value(Value::Number(_)) | Rendered::Number(_) => "a number",
            Rendered::Value(Value::String(_)) => "a string",
            Rendered::Value(Value::Array(_)) | Rendered::List(_) => "a list",
            Rendered::Value(Value::Object(_)) | Rendered::Map(_) => "a mapping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_numbers_are_written_as_written_and_stored_exactly() {
        let n = |s: &str| Rendered::Number(LiteralNumber::parse(s).unwrap());
        let tree = Rendered::Map(vec![
            ("price".into(), n("19.90")),
            ("big".into(), n("12345678901234567890123")),
            ("e".into(), n("1e3")),
            ("n".into(), n("50000")),
            (
                "from an expression".into(),
                Rendered::Value(json!({"a": [1.5, "x\"y"]})),
            ),
            (
                "list".into(),
                Rendered::List(vec![n("0.10"), Rendered::Value(json!(null))]),
            ),
        ]);
        assert_eq!(
            tree.to_json_text(),
            r#"{"price":19.90,"big":12345678901234567890123,"e":1e3,"n":50000,"from an expression":{"a":[1.5,"x\"y"]},"list":[0.10,null]}"#
        );
        assert_eq!(
            tree.into_value(),
            serde_json::from_str::<Value>(
                r#"{"price": 19.90, "big": 12345678901234567890123, "e": "1e3", "n": 50000, "from an expression": {"a": [1.5, "x\"y"]}, "list": [0.10, null]}"#
            )
            .unwrap()
        );
    }
}
