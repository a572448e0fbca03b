//! `minor_units AMOUNT CURRENCY`: a decimal amount to the integer minor units payment APIs take
//! (`"19.99" "inr"` is 1999 paise), with exact decimal arithmetic and Stripe's currency rules.
//!
//! The rules are Stripe's (`shared/reference/stripe-api-facts.md`): most currencies have 2
//! decimals; the zero-decimal ones have none; the three-decimal ones have 3 with a last digit of
//! 0; ISK and UGX are charged in whole units written with two decimals (5 ISK is 500). An
//! amount is never rounded: one with more decimals than the currency has is refused.

use crate::decimal::Decimal;
use crate::shown::{shown_quoted, shown_text, shown_value};
use serde_json::Value;

/// The largest amount Stripe takes: 8 digits of minor units.
pub const MAX_MINOR_UNITS: i128 = 99_999_999;

/// Stripe's presentment currencies (the same list as the sandbox's `stripe/currency.rs`; the
/// spec crate cannot depend on the sandbox, so it is written out here too).
const CURRENCIES: &[&str] = &[
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
    "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad",
    "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp",
    "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl",
    "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf",
    "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd",
    "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
    "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
    "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
    "thb", "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// Zero-decimal currencies: the amount is in whole units (`500` JPY is 500).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
    "xof", "xpf",
];

/// Three-decimal currencies: the last of the three digits must be 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Charged in whole units written with two decimals: 5 ISK is 500. (UGX is also on Stripe's
/// zero-decimal list, but charges take it this way, like ISK.)
const WHOLE_UNITS_TIMES_100: &[&str] = &["isk", "ugx"];

/// A currency as the helper reads it: a known code, in lower case.
fn currency(v: &Value) -> Result<String, String> {
    let Value::String(s) = v else {
        return Err(format!(
            "the currency must be a code like \"inr\", found {}",
            shown_value(v)
        ));
    };
    let code = s.trim().to_ascii_lowercase();
    if CURRENCIES.contains(&code.as_str()) {
        Ok(code)
    } else {
        Err(format!(
            "unknown currency {}; write an ISO code Stripe takes, like \"inr\", \"usd\" or \"eur\"",
            shown_quoted(s)
        ))
    }
}

/// The amount as an exact decimal: decimal text, or a JSON number by its shortest text.
fn amount(v: &Value) -> Result<Decimal, String> {
    let d = Decimal::from_json(v).ok_or_else(|| match v {
        Value::String(_) => format!(
            "{} is not a decimal amount (write it like \"19.99\")",
            shown_value(v)
        ),
        _ => format!(
            "the amount must be a decimal like \"19.99\", found {}",
            shown_value(v)
        ),
    })?;
    if d.is_negative() {
        return Err(format!(
            "the amount {} is negative",
            shown_text(&d.to_string())
        ));
    }
    Ok(d)
}

/// Converts `amount` in `currency` (any case) to minor units, or says why it cannot.
pub fn minor_units(amount_value: &Value, currency_value: &Value) -> Result<i64, String> {
    let code = currency(currency_value)?;
    let d = amount(amount_value)?;
    let upper = code.to_ascii_uppercase();
    let whole_units = WHOLE_UNITS_TIMES_100.contains(&code.as_str());
    let decimals = if whole_units || ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    };
    if d.significant_scale() > decimals {
        return Err(match decimals {
            0 if whole_units => {
                format!("{d} {upper} has decimals; Stripe charges {upper} in whole units")
            }
            0 => format!("{d} {upper} has decimals; {upper} has no minor unit"),
            n => format!("{d} {upper} has more than {n} decimals; it would have to be rounded"),
        });
    }
    let too_large = || {
        format!(
            "{d} {upper} is more than {MAX_MINOR_UNITS} minor units (Stripe takes at most 8 digits)"
        )
    };
    let units = d
        .scaled(decimals, u128::from(MAX_MINOR_UNITS.unsigned_abs() as u64))
        .ok_or_else(too_large)?;
    let minor = if whole_units { units * 100 } else { units };
    if minor > MAX_MINOR_UNITS {
        return Err(too_large());
    }
    if decimals == 3 && minor % 10 != 0 {
        // Shown with two decimals, the precision Stripe actually charges these currencies at.
        let show = |x: i128| format!("{}.{:02}", x / 1000, (x % 1000) / 10);
        let down = minor / 10 * 10;
        return Err(format!(
            "{d} {upper}: Stripe needs the third decimal of {upper} to be 0 (round to {} or {})",
            show(down),
            show(down + 10),
        ));
    }
    i64::try_from(minor).map_err(|_| too_large())
}

/// The helper: `<<minor_units amount "inr">>`.
pub(super) fn minor_units_helper(args: &[Option<&Value>]) -> Result<Value, String> {
    let n = minor_units(super::arg(args, 0)?, super::arg(args, 1)?)?;
    Ok(Value::from(n))
}

/// Check-time checks of literal arguments: a literal currency must be known, and with a
/// literal amount too, the whole conversion must work.
pub(super) fn check_literals(amount: Option<&Value>, code: Option<&Value>) -> Option<String> {
    let code = code?;
    if let Err(e) = currency(code) {
        return Some(e);
    }
    minor_units(amount?, code).err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The table: amount, currency, minor units or (part of) the refusal.
    #[test]
    fn minor_units_table() {
        let ok: &[(Value, &str, i64)] = &[
            // Two decimals (INR: paise; USD: cents).
            (json!("19.99"), "inr", 1999),
            (json!("500"), "INR", 50000),
            (json!("0.5"), "inr", 50),
            (json!("0.50"), "inr", 50),
            (json!("499.5"), "inr", 49950),
            (json!(19.99), "inr", 1999), // a JSON float by its text, not 1998.9999...
            (json!(0.1), "usd", 10),
            (json!(1.15), "usd", 115), // 1.15 * 100 is 114.99999999999999 in f64
            (json!(500), "usd", 50000),
            (json!("999999.99"), "usd", 99_999_999),
            (json!("0"), "usd", 0),
            (json!("5.00"), "usd", 500),
            // Zero-decimal.
            (json!("500"), "jpy", 500),
            (json!("500.00"), "JPY", 500),
            (json!(99_999_999), "jpy", 99_999_999),
            (json!("1200"), "krw", 1200),
            // Three-decimal: the last digit must be 0.
            (json!("1.5"), "kwd", 1500),
            (json!("12.34"), "kwd", 12340),
            (json!("12.340"), "KWD", 12340),
            (json!("99999.99"), "bhd", 99_999_990),
            // Whole units written with two decimals.
            (json!("5"), "isk", 500),
            (json!("5.00"), "isk", 500),
            (json!("1000"), "ugx", 100_000),
            (json!("999999"), "isk", 99_999_900),
        ];
        for (amount, code, want) in ok {
            assert_eq!(
                minor_units(amount, &json!(code)),
                Ok(*want),
                "{amount} {code}"
            );
        }
        let refused: &[(Value, &str, &str)] = &[
            (
                json!("19.999"),
                "inr",
                "19.999 INR has more than 2 decimals; it would have to be rounded",
            ),
            (json!(0.001), "usd", "0.001 USD has more than 2 decimals"),
            (
                json!("500.5"),
                "jpy",
                "500.5 JPY has decimals; JPY has no minor unit",
            ),
            (
                json!("5.5"),
                "isk",
                "5.5 ISK has decimals; Stripe charges ISK in whole units",
            ),
            (
                json!("0.01"),
                "ugx",
                "0.01 UGX has decimals; Stripe charges UGX in whole units",
            ),
            (
                json!("12.345"),
                "kwd",
                "12.345 KWD: Stripe needs the third decimal of KWD to be 0 (round to 12.34 or 12.35)",
            ),
            (
                json!("1.0001"),
                "kwd",
                "1.0001 KWD has more than 3 decimals",
            ),
            (json!("-5"), "inr", "the amount -5 is negative"),
            (
                json!("abc"),
                "inr",
                "\"abc\" is not a decimal amount (write it like \"19.99\")",
            ),
            (json!("1e3"), "inr", "\"1e3\" is not a decimal amount"),
            (
                json!(true),
                "inr",
                "the amount must be a decimal like \"19.99\", found true",
            ),
            (
                json!("1000000"),
                "inr",
                "1000000 INR is more than 99999999 minor units (Stripe takes at most 8 digits)",
            ),
            (
                json!("100000000"),
                "jpy",
                "is more than 99999999 minor units",
            ),
            (json!("1000000"), "isk", "is more than 99999999 minor units"),
            (
                json!("1".repeat(50)),
                "usd",
                "is more than 99999999 minor units",
            ),
            (json!("5"), "usdd", "unknown currency \"usdd\""),
            (json!("5"), "", "unknown currency \"\""),
        ];
        for (amount, code, want) in refused {
            let e = minor_units(amount, &json!(code)).unwrap_err();
            assert!(e.contains(want), "{amount} {code}: {e}");
        }
        assert!(
            minor_units(&json!("5"), &json!(5))
                .unwrap_err()
                .contains("the currency must be a code like \"inr\", found 5")
        );
    }

    #[test]
    fn literal_arguments_are_checked_when_the_flow_is_read() {
        assert_eq!(check_literals(None, None), None);
        assert!(check_literals(None, Some(&json!("usdd"))).is_some());
        assert_eq!(check_literals(None, Some(&json!("inr"))), None);
        assert!(check_literals(Some(&json!("1.999")), Some(&json!("inr"))).is_some());
    }
}
