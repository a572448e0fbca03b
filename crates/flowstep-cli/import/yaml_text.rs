//! Writing values as YAML the flow reader reads back unchanged: plain where that is safe,
//! double-quoted otherwise, and literal `<<` escaped so that no imported text becomes a
//! template expression.

use serde_json::Value;
use std::fmt::Write as _;

/// Literal text as template source: `<<` becomes `\<<`, and backslashes right before a `<<`
/// are doubled, so the template renders exactly `text`.
pub fn template_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("<<") {
        let before = &rest[..at];
        let slashes = before.len() - before.trim_end_matches('\\').len();
        out.push_str(before);
        out.push_str(&"\\".repeat(slashes));
        out.push_str("\\<<");
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether `s` reads back as the same string when written plain: it starts with a letter,
/// digit, `/` or `_`, holds no space or YAML indicator that could end or retype it, and is not
/// a word or number YAML or the flow format gives another type.
fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let lower = s.to_ascii_lowercase();
    let typed = matches!(
        lower.as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
    ) || s.parse::<f64>().is_ok()
        || (first.is_ascii_digit()
            && s.chars()
                .all(|c| c.is_ascii_digit() || "_:.+-eE".contains(c)));
    !typed
        && (first.is_ascii_alphanumeric() || first == '/' || first == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=?&[]$,;()~".contains(c))
        && !s.ends_with(':')
}

/// A string as a YAML scalar.
pub fn string(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_owned()
    } else {
        quoted(s)
    }
}

/// A string double-quoted, with YAML's escapes.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // YAML's printable set leaves out the C0 and C1 controls and DEL.
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string inside a flow collection (`[a, b]`, `{ k: v }`), where `[]{},` end a plain scalar.
pub fn flow_string(s: &str) -> String {
    if s.contains(['[', ']', '{', '}', ',']) {
        quoted(s)
    } else {
        string(s)
    }
}

/// A literal string as a YAML scalar that a template reads back as exactly `s`.
pub fn literal(s: &str) -> String {
    string(&template_literal(s))
}

/// Writes `value` under a key at `indent` spaces, block style: `key: scalar`, or `key:` and a
/// nested block. Every string, and every key, is a literal.
pub fn entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    let pad = " ".repeat(indent);
    let key = literal(key);
    match value {
        Value::Object(m) if !m.is_empty() => {
            let _ = writeln!(out, "{pad}{key}:");
            for (k, v) in m {
                entry(out, indent + 2, k, v);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}{key}:");
            for item in items {
                list_item(out, indent + 2, item);
            }
        }
        v => {
            let _ = writeln!(out, "{pad}{key}: {}", scalar(v));
        }
    }
}

fn list_item(out: &mut String, indent: usize, value: &Value) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(m) if !m.is_empty() => {
            let mut first = true;
            for (k, v) in m {
                let mut one = String::new();
                entry(&mut one, indent + 2, k, v);
                if first {
                    // `- key: ...` on the item's line.
                    let _ = write!(out, "{pad}- {}", &one[indent + 2..]);
                    first = false;
                } else {
                    out.push_str(&one);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}-");
            for item in items {
                list_item(out, indent + 2, item);
            }
        }
        v => {
            let _ = writeln!(out, "{pad}- {}", scalar(v));
        }
    }
}

/// A scalar (or an empty collection) in flow style.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => literal(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_stay_strings() {
        assert_eq!(string("payment"), "payment");
        assert_eq!(
            string("https://api.stripe.com/v1/x?a=1"),
            "https://api.stripe.com/v1/x?a=1"
        );
        assert_eq!(string("line_items[0][quantity]"), "line_items[0][quantity]");
        for typed in [
            "1", "007", "1.5", "true", "No", "null", "~", "", "1e3", "12:30",
        ] {
            assert!(string(typed).starts_with('"'), "{typed}");
        }
        assert_eq!(string("Blue T-shirt"), "\"Blue T-shirt\"");
        assert_eq!(string("a: b # c"), "\"a: b # c\"");
        assert_eq!(
            string("say \"hi\"\\\n\u{7f}"),
            "\"say \\\"hi\\\"\\\\\\n\\u007F\""
        );
        assert_eq!(string("-x"), "\"-x\"");
    }

    #[test]
    fn literal_angle_brackets_are_escaped() {
        assert_eq!(template_literal("a << b"), r"a \<< b");
        assert_eq!(template_literal(r"a \<<x>>"), r"a \\\<<x>>");
        assert_eq!(literal("<<secrets.K>>"), r#""\\<<secrets.K>>""#);
    }

    #[test]
    fn nested_values_in_block_style() {
        let mut out = String::new();
        entry(
            &mut out,
            4,
            "body",
            &json!({"a": [1, {"b": "x y", "c": []}], "d": {}, "e": null}),
        );
        assert_eq!(
            out,
            "    body:\n      a:\n        - 1\n        - b: \"x y\"\n          c: []\n      d: {}\n      e: null\n"
        );
    }
}
