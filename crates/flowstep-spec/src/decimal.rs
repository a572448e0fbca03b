//! Exact decimals for money: parsed from text (`19.99`), compared and scaled without binary
//! floating point.
//!
//! `19.99 * 100` is `1998.9999999999998` in `f64`, so a money amount is kept as its decimal
//! digits. The digits are held as text of any length, so nothing can overflow while parsing or
//! comparing; only [`Decimal::scaled`] turns them into an integer, with a bound.

use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::fmt;

/// A decimal number written as `-?\d+(\.\d+)?`, kept exactly as its digits.
#[derive(Debug, Clone)]
pub struct Decimal {
    negative: bool,
    /// The integer digits, without leading zeros (`"0"` for zero).
    int: String,
    /// The fraction digits as written (`19.90` keeps `90`: for money the scale means something).
    frac: String,
}

impl Decimal {
    /// Parses `^-?\d+(\.\d+)?$` (no exponent, no `+`, no spaces); `None` for anything else.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, f),
            None => (rest, ""),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || (rest.contains('.') && !digits(frac)) {
            return None;
        }
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let mut d = Decimal {
            negative,
            int: int.to_owned(),
            frac: frac.to_owned(),
        };
        // `-0` and `-0.00` are zero, and zero has no sign.
        if d.is_zero() {
            d.negative = false;
        }
        Some(d)
    }

    /// Reads a JSON value as a decimal: a string of decimal text, or a number by its text. A
    /// JSON float is read by its shortest round-trip text (`19.99`, never
    /// `19.989999999999998`), which is exactly what was written for up to 15 significant digits.
    pub fn from_json(value: &Value) -> Option<Decimal> {
        match value {
            Value::String(s) => Decimal::parse(s),
            Value::Number(n) => Decimal::from_number(n),
            _ => None,
        }
    }

    /// A JSON number's decimal text (`serde_json` prints floats by their shortest round-trip
    /// form), or `None` for a number only an exponent can write (`1e300`).
    pub fn from_number(n: &Number) -> Option<Decimal> {
        let text = n.to_string();
        // serde_json writes whole floats as `5.0`; either way it is plain decimal text.
        Decimal::parse(&text)
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.int == "0" && self.frac.bytes().all(|b| b == b'0')
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// How many fraction digits were written (`19.90` has 2).
    pub fn scale(&self) -> usize {
        self.frac.len()
    }

    /// The fraction digits without trailing zeros: the decimals that carry value.
    fn significant_frac(&self) -> &str {
        self.frac.trim_end_matches('0')
    }

    /// How many decimals the value needs (`19.90` needs 1, `5.00` needs 0).
    pub fn significant_scale(&self) -> usize {
        self.significant_frac().len()
    }

    /// Whether the value is a whole number (`5.00` is).
    pub fn is_integer(&self) -> bool {
        self.significant_scale() == 0
    }

    /// The value times `10^decimals` as an integer, when that is whole and at most `limit` in
    /// size; `None` when it has more decimals than that or is too large.
    pub fn scaled(&self, decimals: usize, limit: u128) -> Option<i128> {
        if self.significant_scale() > decimals {
            return None;
        }
        let mut digits = self.int.clone();
        let frac = self.significant_frac();
        digits.push_str(frac);
        digits.extend(std::iter::repeat_n('0', decimals - frac.len()));
        let digits = digits.trim_start_matches('0');
        // More digits than u128 holds is certainly over any limit.
        if digits.len() > 38 {
            return None;
        }
        let magnitude: u128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        if magnitude > limit {
            return None;
        }
        let v = i128::try_from(magnitude).ok()?;
        Some(if self.negative { -v } else { v })
    }
}

impl PartialEq for Decimal {
    /// Equal by value: `19.9` equals `19.90`.
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let magnitude = || {
            // Integer parts have no leading zeros, so the longer one is larger.
            self.int
                .len()
                .cmp(&other.int.len())
                .then_with(|| self.int.cmp(&other.int))
                .then_with(|| {
                    let (a, b) = (self.significant_frac(), other.significant_frac());
                    let width = a.len().max(b.len());
                    format!("{a:0<width$}").cmp(&format!("{b:0<width$}"))
                })
        };
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(),
            (true, true) => magnitude().reverse(),
        }
    }
}

impl fmt::Display for Decimal {
    /// The canonical text: no leading zeros, no sign on zero, the decimals as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(&self.int)?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_only_plain_decimal_text() {
        for bad in [
            "", "-", ".5", "5.", "+5", "1e3", "1,000", " 5", "5 ", "--1", "0x10", "1.2.3",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad:?} must be rejected");
        }
        assert_eq!(d("007.50").to_string(), "7.50");
        assert_eq!(d("-0.00").to_string(), "0.00");
        assert_eq!(d("19.99").to_string(), "19.99");
    }

    #[test]
    fn compares_exactly() {
        assert_eq!(d("19.9"), d("19.90"));
        assert!(d("19.99") < d("20"));
        assert!(d("-1") < d("0.5"));
        assert!(d("-2") < d("-1.5"));
        assert!(d("100") > d("99.999"));
        assert!(d("0.30000000000000000001") > d("0.3"));
        assert_eq!(d("0"), d("-0"));
    }

    #[test]
    fn scales_without_floating_point() {
        assert_eq!(d("19.99").scaled(2, u128::MAX), Some(1999));
        assert_eq!(d("0.1").scaled(2, u128::MAX), Some(10));
        assert_eq!(d("5.00").scaled(0, u128::MAX), Some(5));
        assert_eq!(d("5.001").scaled(2, u128::MAX), None);
        assert_eq!(d("-1.5").scaled(2, u128::MAX), Some(-150));
        assert_eq!(d("999999.99").scaled(2, 99_999_999), Some(99_999_999));
        assert_eq!(d("1000000").scaled(2, 99_999_999), None);
        assert_eq!(d(&"9".repeat(60)).scaled(2, u128::MAX), None);
    }

    #[test]
    fn reads_json_numbers_by_their_shortest_text() {
        assert_eq!(
            Decimal::from_json(&json!(19.99)).unwrap().to_string(),
            "19.99"
        );
        assert_eq!(Decimal::from_json(&json!(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(
            Decimal::from_json(&json!(50000)).unwrap().to_string(),
            "50000"
        );
        assert_eq!(
            Decimal::from_json(&json!("12.30")).unwrap().to_string(),
            "12.30"
        );
        assert!(Decimal::from_json(&json!(true)).is_none());
        assert!(Decimal::from_json(&json!("abc")).is_none());
    }
}
