//! [`SharedRateLimiter`]: a rate limit held in common by every process that sends to the same
//! host (the workers of one `flowstep serve` deployment), supplied by whoever can share it (a
//! run store on Postgres). Each process keeps its own limiter too; this is the seam for the
//! part they must agree on.

use async_trait::async_trait;
use std::time::Duration;

/// A rate limit shared by several processes: a token bucket (GCRA) per key, kept where every
/// process sees it.
///
/// `per_second` and `burst` are the same for every caller of one key (they come from the
/// flow's `rate_limit:`): at most `burst` requests at once, then one every `1/per_second`
/// seconds, so that no one-second window sees more than `per_second + burst` requests.
#[async_trait]
pub trait SharedRateLimiter: Send + Sync + std::fmt::Debug {
    /// Takes one request from `key`'s allowance. `Ok(Duration::ZERO)` when it may go now
    /// (and is counted); `Ok(wait)` when it may not, with how long until it might (nothing is
    /// counted: ask again after `wait`); `Err` with a reason when the limit cannot be read
    /// (the caller falls back to its own limiter and says so).
    async fn try_acquire(&self, key: &str, per_second: f64, burst: u32)
    -> Result<Duration, String>;
}
