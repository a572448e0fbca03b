//! The `Stripe-Version` request header: which API versions the sandbox accepts, and Stripe's
//! 400 for any other.
//!
//! Stripe names versions by release date, `YYYY-MM-DD`, and since 2024-09-30 adds the name of
//! the release train: `2024-09-30.acacia`, `2025-03-31.basil`, `2025-09-30.clover`,
//! `2026-03-25.dahlia` (<https://docs.stripe.com/api/versioning> and
//! <https://docs.stripe.com/upgrades>). An unknown version is answered 400
//! `invalid_request_error`, no code, "Invalid Stripe API version: VERSION", the header as sent (the
//! message and shape as real responses quote them: stripe-java #682 for `2019-2-19`,
//! stripity-stripe #613 for two values joined by `, `).
//!
//! Stripe accepts only its release dates; the sandbox cannot know every one, so it accepts any
//! real calendar date from 2011-01-01 (Stripe's first version) up to today, without a name
//! before 2024-09-30 and with its train's name after. After the last train the sandbox knows,
//! any lowercase name is accepted, so that a version Stripe releases later is not refused
//! here. What is refused is what Stripe refuses for certain: a malformed date (`2019-2-19`),
//! a date that does not exist or is in the future, a missing or wrong train name
//! (`2025-09-30.acacia`), and several values.

use super::errors::ApiError;

/// The version the stripe-checkout preset pins (Stripe's version names look like this one, see
/// the facts file); the tests use it as "a version Stripe documents".
pub const PINNED_STRIPE_VERSION: &str = "2026-03-25.dahlia";

/// Release trains, each from its first day (<https://docs.stripe.com/upgrades>).
const TRAINS: &[(Date, &str)] = &[
    ((2024, 9, 30), "acacia"),
    ((2025, 3, 31), "basil"),
    ((2025, 9, 30), "clover"),
    ((2026, 3, 25), "dahlia"),
];

/// Stripe's first API version.
const FIRST: Date = (2011, 1, 1);

type Date = (i64, u32, u32);

/// Checks a `Stripe-Version` header as sent; `now` is the current time in Unix seconds.
pub(crate) fn check(version: &str, now: i64) -> Result<(), ApiError> {
    if is_known(version, now) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid Stripe API version: {version}"
        )))
    }
}

fn is_known(version: &str, now: i64) -> bool {
    let (date, name) = match version.split_once('.') {
        Some((d, n)) => (d, Some(n)),
        None => (version, None),
    };
    let Some(date) = parse_date(date) else {
        return false;
    };
    if date < FIRST || days(date) > now.div_euclid(86_400) {
        return false;
    }
    let train = TRAINS.iter().rev().find(|(start, _)| *start <= date);
    match (train, name) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some((start, train)), Some(name)) => {
            let is_last = Some(start) == TRAINS.last().map(|(s, _)| s);
            name == *train
                || (is_last
                    && date > *start
                    && !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_lowercase()))
        }
    }
}

/// `YYYY-MM-DD` with exactly these digits, naming a day that exists.
fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year: i64 = text[0..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=month_days)
        .contains(&day)
        .then_some((year, month, day))
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days((y, m, d): Date) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T00:00:00Z.
    const NOW: i64 = 1_796_083_200;

    #[test]
    fn dates_count_from_the_epoch() {
        assert_eq!(days((1970, 1, 1)), 0);
        assert_eq!(days((2026, 12, 1)) * 86_400, NOW);
    }

    #[test]
    fn documented_versions_pass() {
        for v in [
            PINNED_STRIPE_VERSION,
            "2024-09-30.acacia",
            "2025-03-31.basil",
            "2025-09-30.clover",
            "2023-10-16",
            "2020-08-27",
            "2019-02-19",
        ] {
            assert!(check(v, NOW).is_ok(), "{v}");
        }
    }

    #[test]
    fn stripes_refusals() {
        for v in [
            "2019-2-19",
            "2019-12-03, 2019-12-03",
            "2025-09-30.acacia",
            "2024-10-28",
            "2023-10-16.acacia",
            "2019-02-30",
            "2027-01-01",
            "2010-12-31",
            "latest",
            "",
            "2026-03-25.",
        ] {
            let e = check(v, NOW).unwrap_err();
            assert_eq!(e.message, format!("Invalid Stripe API version: {v}"));
            assert_eq!(
                (e.status, e.kind, e.code),
                (400, "invalid_request_error", None)
            );
        }
    }
}
