//! Arithmetic: `add`, `sub`, `mul`, `div`, `round` and `sum`, exact like `minor_units`: amounts
//! are read from their decimal text (a `decimal` input, `"19.99"`, or a JSON number by its
//! shortest text), never through binary floating point, and nothing is rounded unless asked.
//!
//! - Results are JSON integers when every amount given was a JSON integer and the result is
//!   whole; otherwise decimal text (a string, as a `decimal` input is), which `minor_units`,
//!   the comparisons and these helpers read exactly.
//! - `mul` keeps the larger scale of its arguments when the extra decimals are zeros
//!   (`19.99 × 3` is `59.97`), and every decimal the product needs otherwise.
//! - `div A B` is the exact quotient (with at least the dividend's decimals), and an error when
//!   it has no exact decimal value (`10 / 3`): `div A B DECIMALS` then rounds it. Division by
//!   zero is an error.
//! - `round X DECIMALS` and `div A B DECIMALS` round half away from zero (`2.345` → `2.35`,
//!   `-2.345` → `-2.35`) to exactly DECIMALS decimals (0 to 30); `round X 0` is an integer.
//! - Amounts have at most 38 significant digits and 30 decimals; a result that would need
//!   more is an error, never a rounded value.

use super::{arg, kind};
use crate::decimal::Decimal;
use crate::shown::{shown_quoted, shown_text, shown_value};
use serde_json::Value;
use std::fmt;

/// The most decimals an amount or a result may have.
pub const MAX_DECIMALS: u32 = 30;

/// An exact amount: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exact {
    mantissa: i128,
    scale: u32,
    /// Given as a JSON integer (so that integer arithmetic stays integer).
    integer: bool,
}

const TOO_LARGE: &str = "the result has more than 38 digits, too many to keep exactly";

fn pow10(n: u32) -> Result<i128, String> {
    10i128.checked_pow(n).ok_or_else(|| TOO_LARGE.to_owned())
}

impl Exact {
    /// Reads an amount: a JSON number (an integer, or a float by its shortest text) or
    /// decimal text.
    fn read(helper: &str, v: &Value) -> Result<Exact, String> {
        let integer = matches!(v, Value::Number(n) if n.is_i64() || n.is_u64());
        let d = match v {
            Value::Number(_) | Value::String(_) => Decimal::from_json(v),
            _ => None,
        }
        .ok_or_else(|| match v {
            Value::String(s) => {
                format!(
                    "{helper} takes amounts; {} is not a decimal (write it like \"19.99\")",
                    shown_quoted(s)
                )
            }
            Value::Number(n) => {
                format!(
                    "{helper} cannot read {} exactly; write it as decimal text",
                    shown_text(&n.to_string())
                )
            }
            other => format!("{helper} takes amounts, found {}", kind(other)),
        })?;
        let text = d.to_string();
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let scale = u32::try_from(frac.len()).unwrap_or(u32::MAX);
        if scale > MAX_DECIMALS {
            return Err(format!(
                "{helper}: {} has more than {MAX_DECIMALS} decimals",
                shown_text(&text)
            ));
        }
        let digits = format!("{int}{frac}");
        let mantissa = digits
            .parse::<i128>()
            .map_err(|_| format!("{helper}: {} has more than 38 digits", shown_text(&text)))?;
        Ok(Exact {
            mantissa,
            scale,
            integer,
        })
    }

    fn zero() -> Exact {
        Exact {
            mantissa: 0,
            scale: 0,
            integer: true,
        }
    }

    /// The same value with `scale` decimals (`scale` at least the current one).
    fn widened(self, scale: u32) -> Result<i128, String> {
        self.mantissa
            .checked_mul(pow10(scale - self.scale)?)
            .ok_or_else(|| TOO_LARGE.to_owned())
    }

    fn add(self, other: Exact) -> Result<Exact, String> {
        let scale = self.scale.max(other.scale);
        let mantissa = self
            .widened(scale)?
            .checked_add(other.widened(scale)?)
            .ok_or_else(|| TOO_LARGE.to_owned())?;
        Ok(Exact {
            mantissa,
            scale,
            integer: self.integer && other.integer,
        })
    }

    fn negated(self) -> Exact {
        Exact {
            mantissa: -self.mantissa,
            ..self
        }
    }

    fn mul(self, other: Exact) -> Result<Exact, String> {
        let product = Exact {
            mantissa: self
                .mantissa
                .checked_mul(other.mantissa)
                .ok_or_else(|| TOO_LARGE.to_owned())?,
            scale: self.scale + other.scale,
            integer: self.integer && other.integer,
        };
        product.trimmed_to(self.scale.max(other.scale))
    }

    /// Drops trailing zero decimals down to `keep` decimals, and refuses more than
    /// [`MAX_DECIMALS`] that are not zeros.
    fn trimmed_to(mut self, keep: u32) -> Result<Exact, String> {
        while self.scale > keep && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        if self.scale > MAX_DECIMALS {
            return Err(format!("the result has more than {MAX_DECIMALS} decimals"));
        }
        Ok(self)
    }

    /// `self / other`: exact when `decimals` is `None` (an error if the quotient does not end
    /// within [`MAX_DECIMALS`] decimals), else rounded half away from zero to `decimals`.
    fn div(self, other: Exact, decimals: Option<u32>) -> Result<Exact, String> {
        if other.mantissa == 0 {
            return Err(format!("division by zero ({self} / {other})"));
        }
        let scale = self.scale.max(other.scale);
        let num = self.widened(scale)?;
        let den = other.widened(scale)?;
        let negative = (num < 0) != (den < 0);
        let (num, den) = (num.unsigned_abs(), den.unsigned_abs());
        let mut magnitude = num / den;
        let mut rem = num % den;
        let places = decimals.unwrap_or(MAX_DECIMALS);
        let mut written = 0;
        while written < places && (rem != 0 || decimals.is_some_and(|d| written < d)) {
            rem = rem.checked_mul(10).ok_or_else(|| TOO_LARGE.to_owned())?;
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(rem / den))
                .ok_or_else(|| TOO_LARGE.to_owned())?;
            rem %= den;
            written += 1;
        }
        match decimals {
            None if rem != 0 => {
                return Err(format!(
                    "{self} / {other} has no exact decimal value; give the decimals to round to, like `div A B 2`"
                ));
            }
            // Half away from zero: up when the remainder is at least half the divisor.
            Some(_) if rem.checked_mul(2).is_none_or(|twice| twice >= den) => {
                magnitude = magnitude
                    .checked_add(1)
                    .ok_or_else(|| TOO_LARGE.to_owned())?;
            }
            _ => {}
        }
        let mantissa = i128::try_from(magnitude).map_err(|_| TOO_LARGE.to_owned())?;
        let quotient = Exact {
            mantissa: if negative { -mantissa } else { mantissa },
            scale: written,
            integer: self.integer && other.integer,
        };
        match decimals {
            Some(_) => Ok(quotient),
            // Exact: at least the dividend's decimals (`10.00 / 4` is `2.50`).
            None => quotient.with_scale_at_least(self.scale),
        }
    }

    fn with_scale_at_least(self, scale: u32) -> Result<Exact, String> {
        if self.scale >= scale {
            return Ok(self);
        }
        Ok(Exact {
            mantissa: self.widened(scale)?,
            scale,
            ..self
        })
    }

    /// Rounded half away from zero to exactly `decimals` decimals.
    fn round(self, decimals: u32) -> Result<Exact, String> {
        if self.scale <= decimals {
            return self.with_scale_at_least(decimals);
        }
        let divisor = pow10(self.scale - decimals)?;
        let magnitude = self.mantissa.unsigned_abs();
        let divisor = divisor.unsigned_abs();
        let mut kept = magnitude / divisor;
        if (magnitude % divisor) * 2 >= divisor {
            kept += 1;
        }
        let kept = i128::try_from(kept).map_err(|_| TOO_LARGE.to_owned())?;
        Ok(Exact {
            mantissa: if self.mantissa < 0 { -kept } else { kept },
            scale: decimals,
            integer: self.integer,
        })
    }

    /// The result as JSON: an integer when every amount was a JSON integer and it is whole,
    /// else decimal text.
    fn to_value(self) -> Value {
        if self.integer
            && let Ok(whole) = self.trimmed_to(0)
            && whole.scale == 0
            && let Ok(i) = i64::try_from(whole.mantissa)
        {
            return Value::from(i);
        }
        Value::String(self.to_string())
    }
}

impl fmt::Display for Exact {
    /// Decimal text: `-12.50`, `0.05`, `7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        if self.mantissa < 0 {
            f.write_str("-")?;
        }
        f.write_str(int)?;
        if !frac.is_empty() {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

/// Reads the DECIMALS argument of `round` and `div`: a whole number from 0 to 30.
fn decimals(helper: &str, v: &Value) -> Result<u32, String> {
    v.as_u64()
        .and_then(|d| u32::try_from(d).ok())
        .filter(|d| *d <= MAX_DECIMALS)
        .ok_or_else(|| {
            format!("{helper}: the decimals to round to must be a whole number from 0 to {MAX_DECIMALS}, found {}", shown_value(v))
        })
}

/// `<<add a b ...>>`.
pub(super) fn add(args: &[Option<&Value>]) -> Result<Value, String> {
    let mut total = Exact::read("add", arg(args, 0)?)?;
    for i in 1..args.len() {
        total = total.add(Exact::read("add", arg(args, i)?)?)?;
    }
    Ok(total.to_value())
}

/// `<<sub a b>>`.
pub(super) fn sub(args: &[Option<&Value>]) -> Result<Value, String> {
    let a = Exact::read("sub", arg(args, 0)?)?;
    let b = Exact::read("sub", arg(args, 1)?)?;
    Ok(a.add(b.negated())?.to_value())
}

/// `<<mul a b ...>>`.
pub(super) fn mul(args: &[Option<&Value>]) -> Result<Value, String> {
    let mut product = Exact::read("mul", arg(args, 0)?)?;
    for i in 1..args.len() {
        product = product.mul(Exact::read("mul", arg(args, i)?)?)?;
    }
    Ok(product.to_value())
}

/// `<<div a b>>`, `<<div a b DECIMALS>>`.
pub(super) fn div(args: &[Option<&Value>]) -> Result<Value, String> {
    let a = Exact::read("div", arg(args, 0)?)?;
    let b = Exact::read("div", arg(args, 1)?)?;
    let places = match args.get(2).copied().flatten() {
        Some(d) => Some(decimals("div", d)?),
        None => None,
    };
    let q = a.div(b, places)?;
    Ok(match places {
        // Asked for decimals: decimal text with exactly that many (an integer for 0).
        Some(0) => q.mantissa_value(),
        Some(_) => Value::String(q.to_string()),
        None => q.to_value(),
    })
}

/// `<<round x DECIMALS>>`.
pub(super) fn round(args: &[Option<&Value>]) -> Result<Value, String> {
    let x = Exact::read("round", arg(args, 0)?)?;
    let places = decimals("round", arg(args, 1)?)?;
    let r = x.round(places)?;
    Ok(if places == 0 {
        r.mantissa_value()
    } else {
        Value::String(r.to_string())
    })
}

impl Exact {
    /// A whole amount (scale 0) as a JSON integer, or as text when it is too large for one.
    fn mantissa_value(self) -> Value {
        i64::try_from(self.mantissa).map_or_else(|_| Value::String(self.to_string()), Value::from)
    }
}

/// `<<sum items>>`, `<<sum items "amount">>`: the amounts of a list, or each item's KEY.
pub(super) fn sum(args: &[Option<&Value>]) -> Result<Value, String> {
    let Value::Array(items) = arg(args, 0)? else {
        return Err(format!(
            "sum takes a list of amounts, found {}",
            kind(arg(args, 0)?)
        ));
    };
    let key = match args.get(1).copied().flatten() {
        Some(Value::String(k)) => Some(k.as_str()),
        Some(other) => {
            return Err(format!(
                "sum: the key must be text, found {}",
                shown_value(other)
            ));
        }
        None => None,
    };
    let mut total = Exact::zero();
    for (i, item) in items.iter().enumerate() {
        let amount = match key {
            None => item,
            Some(k) => item
                .get(k)
                .ok_or_else(|| format!("sum: item {i} of the list has no `{}`", shown_text(k)))?,
        };
        total = total.add(Exact::read("sum", amount)?)?;
    }
    Ok(total.to_value())
}

/// Check-time checks of literal arguments: a literal zero divisor, and DECIMALS that are not
/// a whole number from 0 to 30.
pub(super) fn check_literals(name: &str, literals: &[Option<&Value>]) -> Option<String> {
    match name {
        "div" => {
            if let Some(Some(b)) = literals.get(1)
                && Exact::read("div", b).is_ok_and(|b| b.mantissa == 0)
            {
                return Some("division by zero".to_owned());
            }
            literals
                .get(2)
                .copied()
                .flatten()
                .and_then(|d| decimals("div", d).err())
        }
        "round" => literals
            .get(1)
            .copied()
            .flatten()
            .and_then(|d| decimals("round", d).err()),
        _ => None,
    }
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
    fn sums_and_differences_are_exact() {
        assert_eq!(call(add, &[json!(0.1), json!(0.2)]), Ok(json!("0.3")));
        assert_eq!(
            call(add, &[json!("19.99"), json!("0.01")]),
            Ok(json!("20.00"))
        );
        assert_eq!(call(add, &[json!(2), json!(3), json!(4)]), Ok(json!(9)));
        assert_eq!(call(add, &[json!(2), json!("3")]), Ok(json!("5")));
        assert_eq!(
            call(sub, &[json!("5.00"), json!("5.01")]),
            Ok(json!("-0.01"))
        );
        assert_eq!(call(sub, &[json!(50000), json!(1250)]), Ok(json!(48750)));
        assert_eq!(
            call(add, &[json!("abc"), json!(1)]),
            Err("add takes amounts; \"abc\" is not a decimal (write it like \"19.99\")".to_owned())
        );
        assert_eq!(
            call(add, &[json!(true), json!(1)]),
            Err("add takes amounts, found a boolean".to_owned())
        );
    }

    #[test]
    fn products_keep_the_money_scale() {
        assert_eq!(call(mul, &[json!("19.99"), json!(3)]), Ok(json!("59.97")));
        assert_eq!(call(mul, &[json!(1.1), json!(1.1)]), Ok(json!("1.21")));
        assert_eq!(call(mul, &[json!("1.10"), json!("2.0")]), Ok(json!("2.20")));
        assert_eq!(call(mul, &[json!(2), json!(25000)]), Ok(json!(50000)));
        assert_eq!(
            call(
                mul,
                &[json!("99999999999999999999"), json!("99999999999999999999")]
            ),
            Err(TOO_LARGE.to_owned())
        );
    }

    #[test]
    fn quotients_are_exact_or_rounded_when_asked() {
        assert_eq!(call(div, &[json!(10), json!(4)]), Ok(json!("2.5")));
        assert_eq!(call(div, &[json!(10), json!(5)]), Ok(json!(2)));
        assert_eq!(call(div, &[json!("10.00"), json!(4)]), Ok(json!("2.50")));
        assert_eq!(call(div, &[json!(1), json!(8)]), Ok(json!("0.125")));
        assert_eq!(
            call(div, &[json!(10), json!(3)]),
            Err("10 / 3 has no exact decimal value; give the decimals to round to, like `div A B 2`".to_owned())
        );
        assert_eq!(
            call(div, &[json!(10), json!(3), json!(2)]),
            Ok(json!("3.33"))
        );
        assert_eq!(
            call(div, &[json!(20), json!(3), json!(2)]),
            Ok(json!("6.67"))
        );
        assert_eq!(
            call(div, &[json!(-20), json!(3), json!(2)]),
            Ok(json!("-6.67"))
        );
        assert_eq!(call(div, &[json!(10), json!(4), json!(0)]), Ok(json!(3)));
        assert_eq!(
            call(div, &[json!(10), json!(4), json!(3)]),
            Ok(json!("2.500"))
        );
        assert_eq!(
            call(div, &[json!(1), json!("0.00")]),
            Err("division by zero (1 / 0.00)".to_owned())
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_exactly_the_decimals_asked() {
        assert_eq!(call(round, &[json!("2.345"), json!(2)]), Ok(json!("2.35")));
        assert_eq!(
            call(round, &[json!("-2.345"), json!(2)]),
            Ok(json!("-2.35"))
        );
        assert_eq!(call(round, &[json!("2.344"), json!(2)]), Ok(json!("2.34")));
        assert_eq!(call(round, &[json!("19.9"), json!(2)]), Ok(json!("19.90")));
        assert_eq!(call(round, &[json!("2.5"), json!(0)]), Ok(json!(3)));
        assert_eq!(call(round, &[json!(7), json!(0)]), Ok(json!(7)));
        assert_eq!(
            call(round, &[json!("2.5"), json!(-1)]),
            Err(
                "round: the decimals to round to must be a whole number from 0 to 30, found -1"
                    .to_owned()
            )
        );
    }

    #[test]
    fn sums_of_lists_read_each_item_or_each_item_s_key() {
        assert_eq!(call(sum, &[json!([1, 2, 3])]), Ok(json!(6)));
        assert_eq!(call(sum, &[json!([])]), Ok(json!(0)));
        assert_eq!(call(sum, &[json!(["19.99", 0.01])]), Ok(json!("20.00")));
        assert_eq!(
            call(
                sum,
                &[
                    json!([{"price": "9.99"}, {"price": "0.01"}]),
                    json!("price")
                ]
            ),
            Ok(json!("10.00"))
        );
        assert_eq!(
            call(sum, &[json!([{"price": 1}, {}]), json!("price")]),
            Err("sum: item 1 of the list has no `price`".to_owned())
        );
        assert_eq!(
            call(sum, &[json!("12")]),
            Err("sum takes a list of amounts, found text".to_owned())
        );
    }

    #[test]
    fn literal_mistakes_are_found_before_running() {
        assert_eq!(
            check_literals("div", &[None, Some(&json!(0))]),
            Some("division by zero".to_owned())
        );
        assert!(check_literals("round", &[None, Some(&json!("2"))]).is_some());
        assert_eq!(
            check_literals("div", &[None, Some(&json!(4)), Some(&json!(2))]),
            None
        );
    }
}
