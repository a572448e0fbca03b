//! Request rates as flow authors and the command line write them: `80/s`, `3000/m`, `100/h`
//! (a step's `rate_limit:`, `flowstep batch --rate`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The most requests per second a rate may allow: far above any API's limit, and low enough
/// that the interval between two requests is a whole number of nanoseconds.
pub const MAX_PER_SECOND: u64 = 100_000;

/// A number of requests per unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// How many requests, at least 1.
    pub count: u64,
    /// Per how long: one second, minute or hour.
    pub per: Duration,
}

impl Rate {
    /// The time between two requests at this rate (`80/s` is 12.5 ms).
    pub fn interval(self) -> Duration {
        self.per / u32::try_from(self.count).unwrap_or(u32::MAX)
    }

    /// Requests per second, for messages and arithmetic that needs no exactness.
    pub fn per_second(self) -> f64 {
        self.count as f64 / self.per.as_secs_f64()
    }
}

/// Reads `80/s`, `3000/m` or `100/h`: a whole number of requests, `/`, and `s`, `m` or `h`.
/// The rate must be at least 1 per hour and at most [`MAX_PER_SECOND`] per second.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let text = text.trim();
    let example = "write a whole number of requests per second, minute or hour, like `80/s`, `3000/m` or `100/h`";
    let Some((count, unit)) = text.split_once('/') else {
        return Err(format!("`{text}` is not a rate; {example}"));
    };
    let per = match unit.trim() {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        other => {
            return Err(format!(
                "unknown rate unit `{other}` in `{text}`; use s, m or h, like `80/s`"
            ));
        }
    };
    let count = count.trim();
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a rate; {example}"));
    }
    let rate = match count.parse::<u64>() {
        Ok(0) => {
            return Err(format!(
                "`{text}` allows no request at all; a rate is at least `1/h`"
            ));
        }
        Ok(n) => Rate { count: n, per },
        Err(_) => Rate {
            count: u64::MAX,
            per,
        },
    };
    if rate.per_second() > MAX_PER_SECOND as f64 {
        return Err(format!(
            "`{text}` is more than the highest rate allowed, {MAX_PER_SECOND}/s"
        ));
    }
    Ok(rate)
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rate(s)
    }
}

impl fmt::Display for Rate {
    /// As it would be written: `80/s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            60 => "m",
            3600 => "h",
            _ => "s",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_written() {
        let r = parse_rate("80/s").unwrap();
        assert_eq!((r.count, r.per), (80, Duration::from_secs(1)));
        assert_eq!(r.interval(), Duration::from_micros(12_500));
        assert_eq!(r.to_string(), "80/s");
        assert_eq!(parse_rate(" 3000/m ").unwrap().per_second(), 50.0);
        assert_eq!(parse_rate("100/h").unwrap().to_string(), "100/h");
        assert_eq!(
            parse_rate("1/h").unwrap().interval(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            parse_rate("100000/s").unwrap().interval(),
            Duration::from_micros(10)
        );
    }

    #[test]
    fn bad_rates_say_what_to_write() {
        let e = parse_rate("fast").unwrap_err();
        assert!(
            e.contains("`fast` is not a rate") && e.contains("`80/s`"),
            "{e}"
        );
        let e = parse_rate("0/s").unwrap_err();
        assert!(e.contains("allows no request at all"), "{e}");
        let e = parse_rate("80/sec").unwrap_err();
        assert!(e.contains("unknown rate unit `sec`"), "{e}");
        let e = parse_rate("-5/s").unwrap_err();
        assert!(e.contains("is not a rate"), "{e}");
        let e = parse_rate("1.5/s").unwrap_err();
        assert!(e.contains("is not a rate"), "{e}");
        let e = parse_rate("/s").unwrap_err();
        assert!(e.contains("is not a rate"), "{e}");
        let e = parse_rate("100001/s").unwrap_err();
        assert!(e.contains("highest rate allowed, 100000/s"), "{e}");
        let e = parse_rate("99999999999999999999999/s").unwrap_err();
        assert!(e.contains("highest rate allowed"), "{e}");
    }
}
