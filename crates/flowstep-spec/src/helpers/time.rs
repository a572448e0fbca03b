//! Time helpers: `now`, `from_now` and `format_time`, in Unix seconds (what payment APIs take
//! for `expires_at`), formatted as relative text for people or as RFC 3339 UTC for machines.
//!
//! The clock is the only thing the spec crate reads from its surroundings; the arithmetic and
//! the formatting are pure functions of a timestamp and "now", tested without the clock.

use super::{arg, kind};
use crate::shown::{shown_quoted, shown_value};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// The formats `format_time` knows.
const FORMATS: &[&str] = &["human", "iso"];

fn clock() -> i64 {
    // A clock before 1970 is a broken machine; reading it as 0 beats failing every flow.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `<<now>>`: the Unix time in seconds.
pub(super) fn now(_: &[Option<&Value>]) -> Result<Value, String> {
    Ok(Value::from(clock()))
}

/// Parses how far ahead `from_now` looks: a whole number and a unit, `90s`, `30m`, `24h`, `1d`.
pub fn parse_ahead(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let bad = || {
        format!(
            "{} is not a duration; write a whole number and a unit: 90s, 30m, 24h, 1d",
            shown_quoted(text)
        )
    };
    let unit_secs: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    // Digits too many for 64 bits are as far past the limit as any other large number.
    digits
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .filter(|s| *s <= 100 * 365 * 86_400)
        .ok_or_else(|| format!("{} is more than 100 years ahead", shown_quoted(text)))
}

/// `from_now` against a given "now", for checks and tests.
pub(super) fn from_now_value(duration: &Value, now: i64) -> Result<i64, String> {
    match duration {
        // `now` comes from the clock, which a broken machine may set anywhere.
        Value::String(s) => now
            .checked_add(parse_ahead(s)?)
            .ok_or_else(|| format!("{s:?} from now is past the largest time there is")),
        other => Err(format!(
            "from_now takes a duration like \"30m\", found {}",
            kind(other)
        )),
    }
}

/// `<<from_now "24h">>`: Unix seconds that far ahead.
pub(super) fn from_now(args: &[Option<&Value>]) -> Result<Value, String> {
    from_now_value(arg(args, 0)?, clock()).map(Value::from)
}

/// A format argument `format_time` knows, or why not.
pub(super) fn check_format(format: &Value) -> Result<&'static str, String> {
    match format {
        Value::String(s) => FORMATS
            .iter()
            .find(|f| **f == s.as_str())
            .copied()
            .ok_or_else(|| {
                format!(
                    "unknown time format {}; use \"human\" or \"iso\"",
                    shown_quoted(s)
                )
            }),
        other => Err(format!(
            "the format must be \"human\" or \"iso\", found {}",
            kind(other)
        )),
    }
}

/// A timestamp argument: an integer, or integer text (some APIs send times as strings).
fn timestamp(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("format_time takes Unix seconds, found {}", shown_value(v)))
}

/// `<<format_time expires_at "human">>` ("in 24 hours") or `"iso"` (`2026-11-27T14:46:00Z`).
pub(super) fn format_time(args: &[Option<&Value>]) -> Result<Value, String> {
    let ts = timestamp(arg(args, 0)?)?;
    let text = match check_format(arg(args, 1)?)? {
        "iso" => format_iso(ts)?,
        _ => format_human(ts, clock()),
    };
    Ok(Value::String(text))
}

/// RFC 3339 in UTC, to the second: `2026-11-27T14:46:00Z`, for years 0 to 9999.
///
/// Hand-written (Howard Hinnant's `civil_from_days`) rather than a date-time crate: UTC needs
/// no time zone data, and this is the only date the spec ever formats.
pub fn format_iso(ts: i64) -> Result<String, String> {
    const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN..=MAX).contains(&ts) {
        return Err(format!("{ts} is outside the years 0 to 9999"));
    }
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Days since 1970-01-01 to a civil date, in 400-year eras starting on 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

/// Relative text for people: "in 24 hours", "in 30 minutes", "2 hours ago", "now".
///
/// Each unit is rounded to the nearest, so a link made with `from_now "24h"` a moment ago still
/// reads "in 24 hours", not "in 23 hours". Hours are used up to two days, then days.
pub fn format_human(ts: i64, now: i64) -> String {
    let delta = ts.saturating_sub(now);
    let s = delta.unsigned_abs();
    let (n, unit) = if s == 0 {
        return "now".to_owned();
    } else if s < 60 {
        (s, "second")
    } else if (s + 30) / 60 < 60 {
        ((s + 30) / 60, "minute")
    } else if (s + 1800) / 3600 < 48 {
        ((s + 1800) / 3600, "hour")
    } else {
        ((s + 43_200) / 86_400, "day")
    };
    let plural = if n == 1 { "" } else { "s" };
    if delta > 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iso_is_rfc3339_utc() {
        assert_eq!(format_iso(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso(1_795_790_760).unwrap(), "2026-11-27T14:46:00Z");
        assert_eq!(format_iso(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(format_iso(-1).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(format_iso(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
        assert!(format_iso(253_402_300_800).is_err());
    }

    #[test]
    fn human_text_rounds_to_the_nearest_unit() {
        let now = 1_000_000;
        assert_eq!(format_human(now + 86_400, now), "in 24 hours");
        assert_eq!(format_human(now + 86_399, now), "in 24 hours");
        assert_eq!(format_human(now + 1800, now), "in 30 minutes");
        assert_eq!(format_human(now + 1799, now), "in 30 minutes");
        assert_eq!(format_human(now + 3570, now), "in 1 hour");
        assert_eq!(format_human(now - 7200, now), "2 hours ago");
        assert_eq!(format_human(now - 60, now), "1 minute ago");
        assert_eq!(format_human(now + 5, now), "in 5 seconds");
        assert_eq!(format_human(now, now), "now");
        assert_eq!(format_human(now + 3 * 86_400, now), "in 3 days");
    }

    #[test]
    fn durations_are_whole_numbers_with_a_unit() {
        assert_eq!(parse_ahead("90s"), Ok(90));
        assert_eq!(parse_ahead("30m"), Ok(1800));
        assert_eq!(parse_ahead("24h"), Ok(86_400));
        assert_eq!(parse_ahead("1d"), Ok(86_400));
        for bad in ["", "30", "1.5h", "5 min", "-1h", "h"] {
            assert!(parse_ahead(bad).is_err(), "{bad:?}");
        }
        assert!(
            parse_ahead("99999999999d")
                .unwrap_err()
                .contains("100 years")
        );
        assert_eq!(
            parse_ahead("99999999999999999999999s"),
            Err("\"99999999999999999999999s\" is more than 100 years ahead".into())
        );
    }

    #[test]
    fn from_now_never_overflows_whatever_the_clock_says() {
        assert_eq!(from_now_value(&json!("1h"), 0), Ok(3600));
        assert_eq!(
            from_now_value(&json!("1h"), i64::MAX),
            Err("\"1h\" from now is past the largest time there is".into())
        );
    }

    #[test]
    fn now_and_from_now_read_the_clock() {
        let before = clock();
        let now = now(&[]).unwrap().as_i64().unwrap();
        let ahead = from_now(&[Some(&json!("30m"))]).unwrap().as_i64().unwrap();
        let after = clock();
        assert!(before <= now && now <= after);
        // Within the second or two the test may straddle.
        assert!((ahead - now - 1800).abs() <= 2, "{ahead} - {now}");
        assert_eq!(
            format_time(&[Some(&json!(1_795_790_760)), Some(&json!("iso"))]),
            Ok(json!("2026-11-27T14:46:00Z"))
        );
        let in_a_day = json!(clock() + 86_400);
        assert_eq!(
            format_time(&[Some(&in_a_day), Some(&json!("human"))]),
            Ok(json!("in 24 hours"))
        );
        assert!(format_time(&[Some(&json!(1)), Some(&json!("rfc"))]).is_err());
    }
}
