//! Durations as flow authors write them: `30s`, `500ms`, `2m`, `1h`.

use std::time::Duration;

/// Parses `500ms`, `30s`, `2m`, `1h` (a whole number and a unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        format!(
            "`{text}` is not a duration; write a whole number and a unit, like `30s` or `500ms`"
        )
    })?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}`; use ms, s, m or h"
            ));
        }
    };
    Ok(d)
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
}
