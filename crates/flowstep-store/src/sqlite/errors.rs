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

/// What a store error says when SQLite found the file damaged.
const DAMAGED: &str = "the file is damaged or not a SQLite database";

/// Whether `e` says SQLite found the file damaged (not one row this build cannot read): the
/// store is not ready from then on.
pub(crate) fn is_damage(e: &StoreError) -> bool {
    matches!(e, StoreError::Corrupt { reason, .. } if reason.starts_with(DAMAGED))
}

/// `e`, from the store at `location`.
pub(crate) fn store_error(location: &str, e: sqlx::Error) -> StoreError {
    let location = location.to_owned();
    match e {
        sqlx::Error::Database(db) => {
            let code = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .unwrap_or_default();
            sqlite_error(location, code, db.message().to_owned())
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

/// SQLite's error `code` (extended or primary) with its `message`, from the store at
/// `location`.
fn sqlite_error(location: String, code: i64, message: String) -> StoreError {
    let unavailable = |why: &str| StoreError::Unavailable {
        location: location.clone(),
        reason: format!("{why} (SQLite: {message})"),
    };
    match code & 0xff {
        SQLITE_FULL => unavailable("the disk is full, or the store reached its size limit"),
        SQLITE_READONLY => unavailable("the file cannot be written (read-only)"),
        SQLITE_PERM => unavailable("permission to write the file was refused"),
        SQLITE_BUSY | SQLITE_LOCKED => {
            unavailable("the file is locked by another process for longer than the busy timeout")
        }
        SQLITE_IOERR => unavailable("the disk reported an I/O error"),
        SQLITE_CANTOPEN => unavailable("the file cannot be opened"),
        SQLITE_NOMEM => unavailable("SQLite ran out of memory"),
        SQLITE_CORRUPT | SQLITE_NOTADB => StoreError::Corrupt {
            location,
            reason: format!("{DAMAGED} ({message})"),
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

/// `e`, from the store's writer (rusqlite) at `location`.
pub(crate) fn rusqlite_error(location: &str, e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => sqlite_error(
            location.to_owned(),
            i64::from(failure.extended_code),
            message.unwrap_or_else(|| failure.to_string()),
        ),
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::InvalidColumnName(_) => StoreError::Corrupt {
            location: location.to_owned(),
            reason: format!("a row does not have the shape this build expects: {e}"),
        },
        other => StoreError::Other {
            location: location.to_owned(),
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
