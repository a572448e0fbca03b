//! [`SqliteOptions`]: how a SQLite store is opened: its clock, how long a write waits for a
//! lock, how many readers it keeps, and an optional cap on the file's size.

use crate::clock::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// How [`super::SqliteStore::open_with`] opens a store. [`SqliteOptions::default`] suits a
/// server: the system clock, a 5 s busy timeout, 4 readers, no size cap.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Where the store reads the time (leases, timestamps).
    pub clock: Arc<dyn Clock>,
    /// How long a write waits for another process's lock before failing as
    /// [`crate::StoreError::Unavailable`].
    pub busy_timeout: Duration,
    /// How many connections read (`get_run`, `list_runs`) beside the one that writes.
    pub readers: u32,
    /// The most the file may grow to, in bytes; a write past it fails as a full disk does
    /// ([`crate::StoreError::Unavailable`]). `None`: as large as the disk allows.
    pub max_size_bytes: Option<u64>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            clock: Arc::new(SystemClock),
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            max_size_bytes: None,
        }
    }
}

impl SqliteOptions {
    /// Reads the time from `clock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Caps the file at `bytes`.
    pub fn max_size_bytes(mut self, bytes: u64) -> Self {
        self.max_size_bytes = Some(bytes);
        self
    }
}
