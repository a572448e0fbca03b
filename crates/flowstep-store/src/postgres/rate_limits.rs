//! [`PostgresRateLimits`]: the steps' per-host rate limits held in the database, so that every
//! worker sending to one host shares one allowance (GCRA on the database's clock, one
//! statement a request; see docs/store.md, "Shared rate limits").

use super::queries;
use async_trait::async_trait;
use flowstep_engine::SharedRateLimiter;
use sqlx::PgPool;
use std::time::Duration;

/// Shared rate limits in the store's database ([`super::PostgresStore::rate_limits`]).
#[derive(Debug, Clone)]
pub struct PostgresRateLimits {
    pub(super) pool: PgPool,
}

#[async_trait]
impl SharedRateLimiter for PostgresRateLimits {
    async fn try_acquire(
        &self,
        key: &str,
        per_second: f64,
        burst: u32,
    ) -> Result<Duration, String> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return Err(format!("{per_second} requests a second is not a rate"));
        }
        let interval_us = ((1e6 / per_second).round() as i64).max(1);
        let tolerance_us = interval_us.saturating_mul(i64::from(burst.max(1)) - 1);
        let wait_us = queries::take_rate_turn(&self.pool, key, interval_us, tolerance_us)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Duration::from_micros(wait_us.max(0) as u64))
    }
}
