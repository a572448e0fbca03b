//! [`PostgresOptions`]: how a Postgres store is opened: its clock, how many connections it keeps,
//! and how long it waits for one.

use crate::clock::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// How [`super::PostgresStore::open_with`] opens a store. [`PostgresOptions::default`] suits a
/// server: the system clock, at most 16 connections, 10 s to get one.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Where the store reads the time (leases, timestamps, deadlines).
    pub clock: Arc<dyn Clock>,
    /// The most connections the store holds (besides the one that listens for work).
    pub max_connections: u32,
    /// How long a query waits for a connection (and the first connection for the server)
    /// before failing as [`crate::StoreError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            clock: Arc::new(SystemClock),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl PostgresOptions {
    /// Reads the time from `clock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Holds at most `n` connections (at least 1).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }
}
