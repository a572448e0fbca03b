//! When to try a request again, and how long to wait: Stripe's SDK rules, plus "never replay a
//! request that could do the work twice" and "never retry before the server's `Retry-After`".
//!
//! The delay schedule is a small hand loop rather than `backon`: the wait must be at least a
//! server's `Retry-After`, every attempt's outcome must be classified by us anyway (sent or not,
//! key or not), and backon's jitter adds up to a whole extra delay on top (so `max_delay` could
//! be doubled), where Stripe's SDKs scale the delay down by a random factor in [0.5, 1].

use rand::Rng;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one attempt came to, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The connection could not be made: the request never left, so a retry is always safe.
    NotSent,
    /// The request was sent and no complete answer came (timeout, reset, closed).
    NoAnswer,
    /// The API answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// `Stripe-Should-Retry`, when present.
        should_retry: Option<bool>,
        /// `Retry-After`, when present and readable.
        retry_after: Option<Duration>,
    },
}

/// The decision after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again, waiting at least this long (a server's `Retry-After`) on top of backoff.
    Retry {
        /// The server's minimum wait.
        at_least: Option<Duration>,
    },
    /// Stop: the attempt's result is final.
    Stop,
}

/// Decides whether to retry. `replay_safe`: the request carries an idempotency key or its
/// method is idempotent, so doing it twice cannot do the work twice.
pub fn decide(attempt: &Attempt, replay_safe: bool) -> Decision {
    let retry = Decision::Retry { at_least: None };
    match attempt {
        Attempt::NotSent => retry,
        // Sent with no answer: it may have taken effect, so only a replay-safe request is
        // repeated.
        Attempt::NoAnswer if replay_safe => retry,
        Attempt::NoAnswer => Decision::Stop,
        Attempt::Answered { .. } if !replay_safe => Decision::Stop,
        Attempt::Answered {
            status,
            should_retry,
            retry_after,
        } => {
            let at_least = *retry_after;
            match should_retry {
                Some(false) => Decision::Stop,
                Some(true) => Decision::Retry { at_least },
                None if matches!(status, 409 | 429 | 500..=599) => Decision::Retry { at_least },
                None => Decision::Stop,
            }
        }
    }
}

/// How long to wait before the next attempt, given what is left of the step's retry budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait this long, then try again.
    Sleep(Duration),
    /// The server asked for a longer wait than the budget has left: stop at once, since an
    /// earlier retry would be refused again and a later one would break the budget.
    PastBudget {
        /// The server's `Retry-After`.
        asked: Duration,
    },
    /// Nothing is left of the budget.
    Spent,
}

/// The wait before the next attempt: the backoff cut to what is `left` of the budget, but never
/// less than the server's `Retry-After`, which is never cut.
pub fn plan_wait(backoff: Duration, retry_after: Option<Duration>, left: Duration) -> Wait {
    match retry_after {
        Some(asked) if asked > left => Wait::PastBudget { asked },
        _ if left.is_zero() => Wait::Spent,
        asked => Wait::Sleep(backoff.min(left).max(asked.unwrap_or_default())),
    }
}

/// The backoff before retry number `retry` (1 for the first retry): `base * 2^(retry-1)`,
/// at most `max`, scaled by a random factor in [0.5, 1] so that many clients do not retry in
/// step. Integer arithmetic throughout: no duration, however large, can make it panic.
pub fn backoff(retry: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
    let capped = exp.min(max);
    let per_mille: u32 = rand::rng().random_range(500..=1000);
    // At most an hour by the check, so the product is far from saturating; if it ever did,
    // the wait would be shorter, never a panic.
    capped.saturating_mul(per_mille) / 1000
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP date, read against `now`; a date
/// in the past is no wait. A number too large for 64 bits is as good as forever. Other text is
/// unreadable (`None`) and ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = UNIX_EPOCH.checked_add(Duration::from_secs(http_date(value)?))?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Seconds since the Unix epoch of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, the one
/// date format senders must use (RFC 9110 §5.6.7).
fn http_date(text: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = text.split(' ');
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?.strip_suffix(',')?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let number = |s: &str| -> Option<u64> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let day = number(day)?;
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let year = number(year)?;
    let mut hms = time.split(':');
    let (h, m, s) = (
        number(hms.next()?)?,
        number(hms.next()?)?,
        number(hms.next()?)?,
    );
    if hms.next().is_some() || !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || s > 60
    {
        return None;
    }
    // Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil, for years >= 1970).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, should_retry: Option<bool>) -> Attempt {
        Attempt::Answered {
            status,
            should_retry,
            retry_after: None,
        }
    }

    const R: Decision = Decision::Retry { at_least: None };
    const S: Decision = Decision::Stop;

    #[test]
    fn the_retry_table() {
        // (attempt, replay_safe, decision)
        let table = [
            (Attempt::NotSent, false, R),
            (Attempt::NotSent, true, R),
            (Attempt::NoAnswer, true, R),
            (Attempt::NoAnswer, false, S),
            (answered(503, None), true, R),
            (answered(500, None), true, R),
            (answered(409, None), true, R),
            (answered(429, None), true, R),
            (answered(400, None), true, S),
            (answered(401, None), true, S),
            (answered(402, None), true, S),
            (answered(404, None), true, S),
            (answered(200, None), true, S),
            (answered(400, Some(true)), true, R),
            (answered(503, Some(false)), true, S),
            (answered(409, Some(false)), true, S),
            // A POST without a key is never replayed, whatever the server says.
            (answered(503, None), false, S),
            (answered(500, Some(true)), false, S),
            (answered(429, None), false, S),
        ];
        for (attempt, safe, want) in table {
            assert_eq!(decide(&attempt, safe), want, "{attempt:?} safe={safe}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_that_is_never_cut() {
        let a = Attempt::Answered {
            status: 429,
            should_retry: None,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            decide(&a, true),
            Decision::Retry {
                at_least: Some(Duration::from_secs(3600))
            }
        );
        let secs = Duration::from_secs;
        let ms = Duration::from_millis;
        // The backoff is cut to the budget; Retry-After is not, so it ends the retries.
        assert_eq!(
            plan_wait(ms(300), Some(secs(1)), secs(60)),
            Wait::Sleep(secs(1))
        );
        assert_eq!(
            plan_wait(secs(2), Some(secs(1)), secs(60)),
            Wait::Sleep(secs(2))
        );
        assert_eq!(plan_wait(secs(5), None, secs(2)), Wait::Sleep(secs(2)));
        assert_eq!(
            plan_wait(ms(300), Some(secs(120)), secs(60)),
            Wait::PastBudget { asked: secs(120) }
        );
        assert_eq!(
            plan_wait(ms(300), Some(secs(3)), ms(2500)),
            Wait::PastBudget { asked: secs(3) }
        );
        assert_eq!(plan_wait(ms(300), None, Duration::ZERO), Wait::Spent);
        assert_eq!(
            plan_wait(ms(300), Some(Duration::ZERO), Duration::ZERO),
            Wait::Spent
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO),
            "a date in the past is no wait"
        );
        assert_eq!(
            http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(0),
            "the epoch"
        );
        assert_eq!(
            http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        assert_eq!(
            http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_down() {
        let base = Duration::from_millis(500);
        let max = Duration::from_secs(5);
        for _ in 0..50 {
            let d1 = backoff(1, base, max);
            assert!(d1 >= Duration::from_millis(250) && d1 <= base, "{d1:?}");
            let d3 = backoff(3, base, max);
            assert!(
                d3 >= Duration::from_secs(1) && d3 <= Duration::from_secs(2),
                "{d3:?}"
            );
            let d9 = backoff(9, base, max);
            assert!(d9 >= Duration::from_millis(2500) && d9 <= max, "{d9:?}");
        }
    }

    #[test]
    fn backoff_never_panics_on_huge_durations() {
        // `Duration::mul_f64` panics here; the integer form saturates instead.
        let d = backoff(10, Duration::MAX, Duration::MAX);
        assert!(d <= Duration::MAX / 1000 + Duration::from_secs(1), "{d:?}");
        assert!(
            backoff(u32::MAX, Duration::from_secs(1), Duration::from_secs(5))
                <= Duration::from_secs(5)
        );
    }
}
