//! Durations as flow authors write them: `30s`, `500ms`, `2m`, `1h`, at most [`MAX_DURATION`].

use crate::shown::shown_code;
use std::time::Duration;

/// The longest duration a flow may write (`timeout`, `connect_timeout`, retry delays and the
/// retry budget): one hour. A step that waits longer holds a conversation for longer than any
/// customer waits, and a bound keeps every deadline computed from it far from overflowing.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// The longest a `wait` step waits: 30 days.
pub const MAX_WAIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// Parses `500ms`, `30s`, `2m`, `1h` (a whole number and a unit), at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    parse(text, false, MAX_DURATION, "1h")
}

/// Parses a `wait` step's `timeout`: what [`parse_duration`] reads, and days (`2d`), at most
/// [`MAX_WAIT`].
pub fn parse_wait_duration(text: &str) -> Result<Duration, String> {
    parse(text, true, MAX_WAIT, "30 days")
}

fn parse(text: &str, days: bool, max: Duration, max_shown: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    // The text is the author's, as long as they made it: an error shows its start.
    let shown = shown_code(text);
    if digits.is_empty() {
        return Err(format!(
            "{shown} is not a duration; write a whole number and a unit, like `30s` or `500ms`"
        ));
    }
    let millis_per_unit: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" if days => 86_400_000,
        "" => {
            return Err(format!(
                "{shown} has no unit; write one after the number, like `{digits}s` or `{digits}m`"
            ));
        }
        other => {
            return Err(format!(
                "unknown duration unit {} in {shown}; use ms, s, m{}",
                shown_code(other),
                if days { ", h or d" } else { " or h" }
            ));
        }
    };
    // Digits too many for 64 bits are as much "too long" as any other number past the maximum.
    let millis = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per_unit))
        .map(Duration::from_millis)
        .filter(|d| *d <= max);
    millis
        .ok_or_else(|| format!("{shown} is longer than the longest duration allowed, {max_shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_nonsense() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(
            parse_duration("1.5s")
                .unwrap_err()
                .contains("unknown duration unit `.5s`")
        );
        assert!(parse_duration("s").unwrap_err().contains("not a duration"));
        assert!(
            parse_duration("10 days")
                .unwrap_err()
                .contains("unknown duration unit")
        );
    }

    #[test]
    fn durations_are_at_most_an_hour_and_never_overflow() {
        assert_eq!(parse_duration("1h"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("60m"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("3600000ms"), Ok(MAX_DURATION));
        for long in [
            "3601s",
            "2h",
            "3000000000000000h",
            "1000000h",
            // u64::MAX minutes: the multiplication would overflow.
            "18446744073709551615m",
            // More digits than 64 bits hold.
            "99999999999999999999999s",
        ] {
            assert_eq!(
                parse_duration(long),
                Err(format!(
                    "`{long}` is longer than the longest duration allowed, 1h"
                )),
            );
        }
    }
}
