//! Text helpers: `upper`, `lower`, `trim`, `concat`.

use super::{arg, kind};
use crate::value_text::value_to_text;
use serde_json::Value;

fn text<'a>(args: &[Option<&'a Value>], name: &str) -> Result<&'a str, String> {
    match arg(args, 0)? {
        Value::String(s) => Ok(s),
        // Strict on purpose: `upper` of a number or a list is a mistake in the flow, not
        // something to guess at.
        other => Err(format!("{name} takes text, found {}", kind(other))),
    }
}

/// `<<upper currency>>`: `"inr"` becomes `"INR"`.
pub(super) fn upper(args: &[Option<&Value>]) -> Result<Value, String> {
    Ok(Value::String(text(args, "upper")?.to_uppercase()))
}

/// `<<lower code>>`: `"INR"` becomes `"inr"`.
pub(super) fn lower(args: &[Option<&Value>]) -> Result<Value, String> {
    Ok(Value::String(text(args, "lower")?.to_lowercase()))
}

/// `<<trim name>>`: `"  Asha "` becomes `"Asha"`.
pub(super) fn trim(args: &[Option<&Value>]) -> Result<Value, String> {
    Ok(Value::String(text(args, "trim")?.trim().to_owned()))
}

/// `<<concat "order-" order_id>>`: the text of every argument, joined; numbers and booleans
/// as written, null as nothing, lists and mappings as JSON (the same rules as text around
/// `<< >>`).
pub(super) fn concat(args: &[Option<&Value>]) -> Result<Value, String> {
    let mut out = String::new();
    for i in 0..args.len() {
        out.push_str(&value_to_text(arg(args, i)?));
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(
        f: fn(&[Option<&Value>]) -> Result<Value, String>,
        args: &[Value],
    ) -> Result<Value, String> {
        let args: Vec<Option<&Value>> = args.iter().map(Some).collect();
        f(&args)
    }

    #[test]
    fn case_and_trim_take_text_only() {
        assert_eq!(call(upper, &[json!("inr")]), Ok(json!("INR")));
        assert_eq!(call(upper, &[json!("straße")]), Ok(json!("STRASSE")));
        assert_eq!(call(lower, &[json!("INR")]), Ok(json!("inr")));
        assert_eq!(call(trim, &[json!("  Asha \n")]), Ok(json!("Asha")));
        assert_eq!(
            call(upper, &[json!(5)]),
            Err("upper takes text, found a number".to_owned())
        );
        assert_eq!(
            call(trim, &[json!(null)]),
            Err("trim takes text, found null".to_owned())
        );
    }

    #[test]
    fn concat_joins_text_as_written() {
        assert_eq!(
            call(
                concat,
                &[json!("order-"), json!(42), json!("-"), json!(true)]
            ),
            Ok(json!("order-42-true"))
        );
        assert_eq!(
            call(concat, &[json!("a"), json!(null), json!(1.5)]),
            Ok(json!("a1.5"))
        );
        assert_eq!(call(concat, &[json!([1, 2])]), Ok(json!("[1,2]")));
    }
}
