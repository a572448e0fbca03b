//! Helpers about values themselves: `default` (the one place an undefined variable is
//! allowed), `len` and `json`.

use super::{arg, kind};
use serde_json::Value;

/// `<<default discount 0>>`: VALUE, or FALLBACK when VALUE is undefined or null. An empty
/// string or `0` is a value, and is kept.
pub(super) fn default(args: &[Option<&Value>]) -> Result<Value, String> {
    match args.first().copied().flatten() {
        Some(v) if !v.is_null() => Ok(v.clone()),
        _ => arg(args, 1).cloned(),
    }
}

/// `<<len items>>`: the characters of a string (not bytes: `"₹500"` is 4), the items of a
/// list, the entries of a mapping.
pub(super) fn len(args: &[Option<&Value>]) -> Result<Value, String> {
    let n = match arg(args, 0)? {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        other => {
            return Err(format!(
                "len takes text, a list or a mapping, found {}",
                kind(other)
            ));
        }
    };
    Ok(Value::from(n))
}

/// `<<json cart>>`: the value as compact JSON text (a string), for an API that wants JSON
/// inside a form field or a header.
pub(super) fn json(args: &[Option<&Value>]) -> Result<Value, String> {
    serde_json::to_string(arg(args, 0)?)
        .map(Value::String)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_replaces_only_undefined_and_null() {
        let fallback = json!("none");
        assert_eq!(default(&[None, Some(&fallback)]), Ok(json!("none")));
        assert_eq!(
            default(&[Some(&json!(null)), Some(&fallback)]),
            Ok(json!("none"))
        );
        assert_eq!(default(&[Some(&json!("")), Some(&fallback)]), Ok(json!("")));
        assert_eq!(default(&[Some(&json!(0)), Some(&fallback)]), Ok(json!(0)));
        assert_eq!(
            default(&[Some(&json!({"a": 1})), Some(&fallback)]),
            Ok(json!({"a": 1}))
        );
    }

    #[test]
    fn len_counts_characters_items_and_entries() {
        assert_eq!(len(&[Some(&json!("₹500"))]), Ok(json!(4)));
        assert_eq!(len(&[Some(&json!([1, 2, 3]))]), Ok(json!(3)));
        assert_eq!(len(&[Some(&json!({"a": 1}))]), Ok(json!(1)));
        assert_eq!(
            len(&[Some(&json!(5))]),
            Err("len takes text, a list or a mapping, found a number".to_owned())
        );
    }

    #[test]
    fn json_serialises_compactly() {
        assert_eq!(
            json(&[Some(&json!({"sku": "A1", "qty": 2}))]),
            Ok(json!(r#"{"sku":"A1","qty":2}"#))
        );
        assert_eq!(json(&[Some(&json!("a\"b"))]), Ok(json!(r#""a\"b""#)));
    }
}
