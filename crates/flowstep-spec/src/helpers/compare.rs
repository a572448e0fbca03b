//! Comparisons: `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, each returning a boolean.
//!
//! Numbers compare by exact decimal value, and so do strings that are both decimal text (a
//! `decimal` input is a string: `<<gt amount "100">>` must compare 19.99 with 100, not the
//! text "19.99" with "100"). Other strings compare as text. `and`, `or` and `not` are
//! handlebars' own.

use super::{arg, kind};
use crate::decimal::Decimal;
use crate::shown::shown_value;
use serde_json::Value;
use std::cmp::Ordering;

/// Both values as decimals, when they can be compared as numbers: two numbers, or a number
/// and decimal text, or two decimal texts.
fn as_decimals(a: &Value, b: &Value) -> Option<(Decimal, Decimal)> {
    match (a, b) {
        (Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_), _)
        | (_, Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_)) => None,
        _ => Some((Decimal::from_json(a)?, Decimal::from_json(b)?)),
    }
}

fn equal(args: &[Option<&Value>]) -> Result<bool, String> {
    let (a, b) = (arg(args, 0)?, arg(args, 1)?);
    Ok(match (a, b) {
        // 5 equals 5.0; a number never equals text, though: `"5" == 5` is JavaScript's trap.
        (Value::Number(_), Value::Number(_)) => as_decimals(a, b).map_or(a == b, |(x, y)| x == y),
        _ => a == b,
    })
}

fn order(args: &[Option<&Value>], name: &str) -> Result<Ordering, String> {
    let (a, b) = (arg(args, 0)?, arg(args, 1)?);
    if let Some((x, y)) = as_decimals(a, b) {
        return Ok(x.cmp(&y));
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        _ => Err(format!(
            "{name} cannot compare {} with {} ({} and {})",
            kind(a),
            kind(b),
            shown_value(a),
            shown_value(b)
        )),
    }
}

/// `<<eq status "open">>`.
pub(super) fn eq(args: &[Option<&Value>]) -> Result<Value, String> {
    equal(args).map(Value::Bool)
}

/// `<<ne status "paid">>`.
pub(super) fn ne(args: &[Option<&Value>]) -> Result<Value, String> {
    equal(args).map(|e| Value::Bool(!e))
}

/// `<<gt amount 100>>`.
pub(super) fn gt(args: &[Option<&Value>]) -> Result<Value, String> {
    order(args, "gt").map(|o| Value::Bool(o == Ordering::Greater))
}

/// `<<gte amount 100>>`.
pub(super) fn gte(args: &[Option<&Value>]) -> Result<Value, String> {
    order(args, "gte").map(|o| Value::Bool(o != Ordering::Less))
}

/// `<<lt amount 100>>`.
pub(super) fn lt(args: &[Option<&Value>]) -> Result<Value, String> {
    order(args, "lt").map(|o| Value::Bool(o == Ordering::Less))
}

/// `<<lte amount 100>>`.
pub(super) fn lte(args: &[Option<&Value>]) -> Result<Value, String> {
    order(args, "lte").map(|o| Value::Bool(o != Ordering::Greater))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(
        f: fn(&[Option<&Value>]) -> Result<Value, String>,
        a: Value,
        b: Value,
    ) -> Result<Value, String> {
        f(&[Some(&a), Some(&b)])
    }

    #[test]
    fn equality_is_by_value_for_numbers_and_strict_across_kinds() {
        assert_eq!(call(eq, json!("open"), json!("open")), Ok(json!(true)));
        assert_eq!(call(eq, json!(5), json!(5.0)), Ok(json!(true)));
        assert_eq!(call(eq, json!("5"), json!(5)), Ok(json!(false)));
        assert_eq!(call(ne, json!("open"), json!("paid")), Ok(json!(true)));
        assert_eq!(call(eq, json!(null), json!(null)), Ok(json!(true)));
    }

    #[test]
    fn ordering_is_exact_for_numbers_and_decimal_text() {
        assert_eq!(call(gt, json!("19.99"), json!("5")), Ok(json!(true)));
        assert_eq!(call(gt, json!("19.99"), json!(100)), Ok(json!(false)));
        assert_eq!(call(gte, json!(50), json!(50)), Ok(json!(true)));
        assert_eq!(
            call(lt, json!(0.1), json!("0.10000000000000000001")),
            Ok(json!(true))
        );
        assert_eq!(call(lte, json!(2), json!(1)), Ok(json!(false)));
        assert_eq!(call(lt, json!("apple"), json!("banana")), Ok(json!(true)));
        assert_eq!(
            call(gt, json!("abc"), json!(5)),
            Err("gt cannot compare text with a number (\"abc\" and 5)".to_owned())
        );
        assert!(call(gt, json!(null), json!(1)).is_err());
    }
}
