//! Delivery faults: a fraction of the attempts to deliver an event fail on purpose, so that a
//! receiver's handling of re-deliveries (and the sandbox's retries) is exercised. Which
//! attempts fail is decided by a hash of the seed, the event's id and the attempt's number:
//! the same seed fails the same attempts of the same events whatever order the deliveries run
//! in, and each retry of an event is drawn afresh.

use serde::{Deserialize, Serialize};

/// Which attempts fail (none by default): each attempt fails with probability `rate`
/// (0 to 1), drawn from a hash of `seed`, the event's id and the attempt's number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFaults {
    /// The fraction of attempts that fail, from 0 (none) to 1 (every one: nothing is ever
    /// delivered).
    pub rate: f64,
    /// Picks which attempts fail; the same seed fails the same attempts.
    #[serde(default)]
    pub seed: u64,
}

/// How an attempt fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedFault {
    /// As if the connection dropped before the request went out: the receiver sees nothing.
    DropRequest,
    /// The request is sent and the receiver answers, but the answer is lost, as if the
    /// connection dropped on the way back: the receiver sees the event again at the retry,
    /// and must de-duplicate it.
    LoseResponse,
}

impl DeliveryFaults {
    /// Checks `rate` (a number from 0 to 1).
    pub fn new(rate: f64, seed: u64) -> Result<DeliveryFaults, String> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!(
                "the delivery fault rate is {rate}; give a fraction of attempts from 0 to 1, like 0.1"
            ));
        }
        Ok(DeliveryFaults { rate, seed })
    }

    /// Whether attempt `attempt` (1, 2, ...) of event `event_id` fails, and how: half of the
    /// failures drop the request, half lose the answer.
    pub fn decide(&self, event_id: &str, attempt: u32) -> Option<InjectedFault> {
        if self.rate <= 0.0 {
            return None;
        }
        let h = draw(self.seed, event_id, attempt);
        // The top 53 bits as a fraction in [0, 1).
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        if u >= self.rate {
            return None;
        }
        Some(match h & 1 {
            0 => InjectedFault::DropRequest,
            _ => InjectedFault::LoseResponse,
        })
    }
}

/// FNV-1a over the seed, the id and the attempt, then SplitMix64's finaliser: stable across
/// platforms and Rust versions (std's hashers promise neither).
fn draw(seed: u64, event_id: &str, attempt: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed
        .to_le_bytes()
        .iter()
        .chain(event_id.as_bytes())
        .chain(&attempt.to_le_bytes())
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(f: &DeliveryFaults, n: usize) -> Vec<Option<InjectedFault>> {
        (0..n).map(|i| f.decide(&format!("evt_{i}"), 1)).collect()
    }

    #[test]
    fn about_the_rate_of_attempts_fail_both_ways_and_the_same_seed_fails_the_same() {
        let f = DeliveryFaults::new(0.1, 7).unwrap();
        let drawn = failures(&f, 10_000);
        let failed = drawn.iter().flatten().count();
        assert!((900..=1100).contains(&failed), "{failed} of 10000");
        let dropped = drawn
            .iter()
            .filter(|d| **d == Some(InjectedFault::DropRequest))
            .count();
        assert!((350..=650).contains(&dropped), "{dropped} of {failed}");
        assert_eq!(drawn, failures(&f, 10_000));
        assert_ne!(
            drawn,
            failures(&DeliveryFaults::new(0.1, 8).unwrap(), 10_000)
        );
        // A retry is drawn afresh: an event that failed once is not failed forever.
        let retried = (0..10_000)
            .filter(|i| f.decide(&format!("evt_{i}"), 1).is_some())
            .filter(|i| f.decide(&format!("evt_{i}"), 2).is_some())
            .count();
        assert!(retried < 250, "{retried}");
    }

    #[test]
    fn rates_of_zero_and_one_and_out_of_range() {
        assert!(
            failures(&DeliveryFaults::default(), 1000)
                .iter()
                .all(Option::is_none)
        );
        let all = DeliveryFaults::new(1.0, 0).unwrap();
        assert!(failures(&all, 1000).iter().all(Option::is_some));
        for bad in [-0.1, 1.5, f64::NAN] {
            let e = DeliveryFaults::new(bad, 0).unwrap_err();
            assert!(e.contains("from 0 to 1"), "{e}");
        }
        let json: Result<DeliveryFaults, _> = serde_json::from_str(r#"{"rate": 0.1, "sed": 1}"#);
        assert!(json.is_err());
    }
}
