//! Currencies: which codes Stripe takes, their minor units, minimum charges, formatting.

/// Stripe's presentment currencies, in the order Stripe lists them in its "Invalid
/// currency" error (usd first, then alphabetical; list from Stripe's currencies page as
/// copied into public integrations in 2024).
pub(crate) const CURRENCIES: &[&str] = &[
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

/// Zero-decimal currencies (facts file): the amount is in whole units.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Three-decimal currencies (facts file): the last digit of an amount must be 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

pub(crate) fn is_supported(code: &str) -> bool {
    CURRENCIES.contains(&code)
}

/// How many decimals the minor unit has.
pub(crate) fn decimals(code: &str) -> u32 {
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else {
        2
    }
}

/// Extra divisibility Stripe requires of amounts (facts file): three-decimal currencies
/// need a 0 last digit; ISK and UGX are charged in whole units (two decimals, divisible by
/// 100). UGX is zero-decimal in the API yet listed here too: the facts say it must be
/// divisible by 100, and a stricter sandbox is the safe side.
pub(crate) fn required_divisor(code: &str) -> i128 {
    match code {
        "isk" | "ugx" => 100,
        c if THREE_DECIMAL.contains(&c) => 10,
        _ => 1,
    }
}

/// Stripe's minimum charge amounts in minor units, from Stripe's "minimum and maximum
/// charge amounts" table (USD 0.50, INR 0.50 per the facts file, GBP 0.30, JPY 50, ...).
/// Currencies not listed have a minimum "equivalent to $0.50" that depends on exchange
/// rates; the sandbox does not enforce those (it cannot know today's rate).
pub(crate) fn minimum_amount(code: &str) -> Option<i128> {
    Some(match code {
        "usd" | "aud" | "brl" | "cad" | "chf" | "eur" | "inr" | "nzd" | "sgd" => 50,
        "aed" | "pln" | "ron" => 200,
        "bgn" => 100,
        "czk" => 1500,
        "dkk" => 250,
        "gbp" => 30,
        "hkd" => 400,
        "huf" => 17500,
        "jpy" => 50,
        "mxn" | "thb" => 1000,
        "myr" => 200,
        "nok" | "sek" => 300,
        _ => return None,
    })
}

/// The symbol Stripe puts before an amount in its messages. Inference: Stripe's minimum
/// amount message was observed for USD ("$0.50 usd"), HKD and HUF; the other symbols are
/// the usual ones, and unknown currencies fall back to the upper-case code.
fn symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "usd" => "$",
        "inr" => "₹",
        "eur" => "€",
        "gbp" => "£",
        "jpy" => "¥",
        "aud" => "A$",
        "cad" => "CA$",
        "hkd" => "HK$",
        "nzd" => "NZ$",
        "sgd" => "SGD ",
        "mxn" => "MX$",
        "brl" => "R$",
        _ => return None,
    })
}

/// The amount in major units with the currency's decimals: `50, "inr"` -> `0.50`.
pub(crate) fn major_units(amount: i128, code: &str) -> String {
    let d = decimals(code);
    let neg = amount < 0;
    let a = amount.unsigned_abs();
    let s = if d == 0 {
        group(a)
    } else {
        let p = 10u128.pow(d);
        format!("{}.{:0width$}", group(a / p), a % p, width = d as usize)
    };
    if neg { format!("-{s}") } else { s }
}

fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `₹0.50 inr`, the form used in Stripe's checkout amount messages.
pub(crate) fn stripe_amount(amount: i128, code: &str) -> String {
    let sym = symbol(code)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} ", code.to_uppercase()));
    format!("{sym}{} {code}", major_units(amount, code))
}

/// `₹500.00 INR`, for the checkout page.
pub(crate) fn display_amount(amount: i128, code: &str) -> String {
    let sym = symbol(code).unwrap_or("");
    format!("{sym}{} {}", major_units(amount, code), code.to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(stripe_amount(50, "inr"), "₹0.50 inr");
        assert_eq!(stripe_amount(50, "usd"), "$0.50 usd");
        assert_eq!(stripe_amount(30, "gbp"), "£0.30 gbp");
        assert_eq!(stripe_amount(50, "jpy"), "¥50 jpy");
        assert_eq!(stripe_amount(1500, "czk"), "CZK 15.00 czk");
        assert_eq!(display_amount(5_000_000, "inr"), "₹50,000.00 INR");
        assert_eq!(major_units(1234, "kwd"), "1.234");
        assert_eq!(major_units(99_999_999, "usd"), "999,999.99");
    }

    #[test]
    fn lists_are_consistent() {
        for c in ZERO_DECIMAL.iter().chain(THREE_DECIMAL) {
            assert!(is_supported(c), "{c}");
        }
        assert!(is_supported("inr"));
        assert!(!is_supported("xyz"));
    }
}
