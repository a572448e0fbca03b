//! [`StoreError`]: why the run store could not do what it was asked, in words an operator can
//! act on. It names the store's file (or, later, its server) and the run, never a value from
//! inside a run.

/// What went wrong in the run store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No run has this id.
    #[error("run `{0}` is not in the store")]
    NotFound(String),
    /// A write after a claim found the run no longer `running` under that claim: another
    /// worker claimed it after the lease expired, or it was cancelled or has ended. The worker
    /// must drop the run; nothing it wrote after losing the lease was kept.
    #[error(
        "run `{run_id}`: the lease of attempt {attempt} was lost ({reason}); this worker must stop running it"
    )]
    LeaseLost {
        /// The run.
        run_id: String,
        /// The attempt the worker held.
        attempt: u32,
        /// What happened to the run since (claimed again, cancelled, ended).
        reason: String,
    },
    /// The write contradicts what is stored: a correlation key another run already awaits,
    /// cancelling a run that has ended, a flow hash stored with another source.
    #[error("{0}")]
    Conflict(String),
    /// The store cannot be reached or written now (an I/O error, a read-only or full disk, a
    /// lock held too long by another process). Retrying later may succeed.
    #[error("the run store {location} is unavailable: {reason}")]
    Unavailable {
        /// The store's file.
        location: String,
        /// What failed.
        reason: String,
    },
    /// The store holds something this build cannot read: a file that is not a SQLite
    /// database or is another program's, a damaged page, a row that does not decode. Refused
    /// rather than guessed at.
    #[error("the run store {location} cannot be used: {reason}")]
    Corrupt {
        /// The store's file (and the run, for one row).
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// The store's schema is newer than this build knows: it was written by a newer flowstep.
    /// Refused, so that an older build never writes rows it does not understand.
    #[error(
        "the run store {location} has schema version {found}, newer than this build of flowstep knows (up to {known}); run a newer flowstep, or point it at another file"
    )]
    NewerSchema {
        /// The store's file.
        location: String,
        /// The schema version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A request the store cannot take: an invalid run id, a page cursor it did not make, a
    /// state that belongs to another run.
    #[error("{0}")]
    Invalid(String),
    /// Anything else the database reported.
    #[error("the run store {location} failed: {reason}")]
    Other {
        /// The store's file.
        location: String,
        /// What the database said.
        reason: String,
    },
}
