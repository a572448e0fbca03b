//! When to try a request again, and how long to wait: Stripe's SDK rules, plus "never replay a
//! POST or PATCH that carries no idempotency key".
//!
//! The delay schedule is a small hand loop rather than `backon`: the wait must be at least a
//! server's `Retry-After`, every attempt's outcome must be classified by us anyway (sent or not,
//! key or not), and backon's jitter adds up to a whole extra delay on top (so `max_delay` could
//! be doubled), where Stripe's SDKs scale the delay down by a random factor in [0.5, 1].

use rand::Rng;
use std::time::Duration;

/// The longest `Retry-After` honoured: a server asking for more is treated as asking to stop
/// retrying soon, not to hold a chat conversation for minutes.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

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
        /// `Retry-After`, when present and in seconds.
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
            let at_least = retry_after.map(|d| d.min(MAX_RETRY_AFTER));
            match should_retry {
                Some(false) => Decision::Stop,
                Some(true) => Decision::Retry { at_least },
                None if matches!(status, 409 | 429 | 500..=599) => Decision::Retry { at_least },
                None => Decision::Stop,
            }
        }
    }
}

/// The backoff before retry number `retry` (1 for the first retry): `base * 2^(retry-1)`,
/// at most `max`, scaled by a random factor in [0.5, 1] so that many clients do not retry in
/// step.
pub fn backoff(retry: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
    let capped = exp.min(max);
    capped.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// `Retry-After` in seconds (HTTP dates are rare from APIs and ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
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
    fn retry_after_is_a_floor_capped_at_a_minute() {
        let a = Attempt::Answered {
            status: 429,
            should_retry: None,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            decide(&a, true),
            Decision::Retry {
                at_least: Some(Duration::from_secs(3))
            }
        );
        let a = Attempt::Answered {
            status: 503,
            should_retry: None,
            retry_after: parse_retry_after(" 3600 "),
        };
        assert_eq!(
            decide(&a, true),
            Decision::Retry {
                at_least: Some(MAX_RETRY_AFTER)
            }
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
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
}
