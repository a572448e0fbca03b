//! What a SQLite or sqlx error means to the store's caller: unavailable for now (I/O, locked,
//! full, read-only), corrupt (refuse), a conflict, or something else; in words that name the
//! file.

use crate::error::StoreError;
use sqlx::migrate::MigrateError;

// SQLite's primary result codes (https://sqlite.org/rescode.html); an extended code carries
// its primary one in the low byte.
const SQLITE_PERM: i64 = 3;
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_NOMEM: i64 = 7;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_CONSTRAINT: i64 = 19;
const SQLITE_NOTADB: i64 = 26;

/// `e`, from the store at `location`.
pub(crate) fn store_error(location: &str, e: sqlx::Error) -> StoreError {
    let location = location.to_owned();
    match e {
        sqlx::Error::Database(db) => {
            let message = db.message().to_owned();
            let code = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .unwrap_or_default();
            let unavailable = |why: &str| StoreError::Unavailable {
                location: location.clone(),
                reason: format!("{why} (SQLite: {message})"),
            };
            match code & 0xff {
                SQLITE_FULL => unavailable("the disk is full, or the store reached its size limit"),
                SQLITE_READONLY => unavailable("the file cannot be written (read-only)"),
                SQLITE_PERM => unavailable("permission to write the file was refused"),
                SQLITE_BUSY | SQLITE_LOCKED => unavailable(
                    "the file is locked by another process for longer than the busy timeout",
                ),
                SQLITE_IOERR => unavailable("the disk reported an I/O error"),
                SQLITE_CANTOPEN => unavailable("the file cannot be opened"),
                SQLITE_NOMEM => unavailable("SQLite ran out of memory"),
                SQLITE_CORRUPT | SQLITE_NOTADB => StoreError::Corrupt {
                    location,
                    reason: format!("the file is damaged or not a SQLite database ({message})"),
                },
                SQLITE_CONSTRAINT => StoreError::Conflict(format!(
                    "the run store {location} refused the write: {message}"
                )),
                _ => StoreError::Other {
                    location,
                    reason: message,
                },
            }
        }
        sqlx::Error::Io(io) => StoreError::Unavailable {
            location,
            reason: format!("I/O error: {io}"),
        },
        sqlx::Error::PoolTimedOut => StoreError::Unavailable {
            location,
            reason: "no connection to the file came free in time (too many writes queued)".into(),
        },
        sqlx::Error::PoolClosed => StoreError::Unavailable {
            location,
            reason: "the store was closed".into(),
        },
        sqlx::Error::WorkerCrashed => StoreError::Unavailable {
            location,
            reason: "the thread that talks to SQLite stopped".into(),
        },
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt {
            location,
            reason: format!("a row does not have the shape this build expects: {e}"),
        },
        other => StoreError::Other {
            location,
            reason: other.to_string(),
        },
    }
}

/// A migration error, from the store at `location`.
pub(crate) fn migrate_error(location: &str, e: MigrateError) -> StoreError {
    match e {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => store_error(location, e),
        MigrateError::VersionMismatch(v) => StoreError::Corrupt {
            location: location.to_owned(),
            reason: format!(
                "schema version {v} in the file is not the one this build applies (it was changed after it was written)"
            ),
        },
        other => StoreError::Corrupt {
            location: location.to_owned(),
            reason: format!("its schema cannot be brought up to date: {other}"),
        },
    }
}
