//! What a Postgres or sqlx error means to the store's caller: unavailable for now (the server
//! cannot be reached, refuses the login, is shutting down, is out of room), corrupt (refuse), a
//! conflict, or something else; in words that name the server and database (never a password).

use crate::error::StoreError;
use sqlx::migrate::MigrateError;

/// Postgres's SQLSTATE classes and codes the store tells apart
/// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const CONNECTION_EXCEPTION: &str = "08";
const INVALID_AUTHORIZATION: &str = "28";
const INSUFFICIENT_RESOURCES: &str = "53";
const OPERATOR_INTERVENTION: &str = "57";
const INTEGRITY_CONSTRAINT: &str = "23";
const TRANSACTION_ROLLBACK: &str = "40";
const DATA_CORRUPTED: &str = "XX001";
const INDEX_CORRUPTED: &str = "XX002";
const INVALID_CATALOG_NAME: &str = "3D000";
const READ_ONLY_TRANSACTION: &str = "25006";
const INSUFFICIENT_PRIVILEGE: &str = "42501";
const DISK_FULL: &str = "53100";
const TOO_MANY_CONNECTIONS: &str = "53300";

/// `e`, from the store at `location`.
pub(crate) fn store_error(location: &str, e: sqlx::Error) -> StoreError {
    let location = location.to_owned();
    let unavailable = |reason: String| StoreError::Unavailable {
        location: location.clone(),
        reason,
    };
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_owned();
            postgres_error(location, &code, message)
        }
        sqlx::Error::Io(io) => unavailable(format!(
            "cannot reach the Postgres server: {io} (is it running, and listening there?)"
        )),
        sqlx::Error::Tls(tls) => unavailable(format!("the TLS connection failed: {tls}")),
        sqlx::Error::Protocol(p) => unavailable(format!("the server answered out of turn: {p}")),
        sqlx::Error::PoolTimedOut => unavailable(
            "no connection to the database came free in time (the server is slow or unreachable, or every connection is busy)".into(),
        ),
        sqlx::Error::PoolClosed => unavailable("the store was closed".into()),
        sqlx::Error::Configuration(c) => StoreError::Invalid(format!(
            "the run store URL {location} cannot be used: {c}"
        )),
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

/// Postgres's error `code` (SQLSTATE) with its `message`, from the store at `location`.
fn postgres_error(location: String, code: &str, message: String) -> StoreError {
    let unavailable = |why: &str| StoreError::Unavailable {
        location: location.clone(),
        reason: format!("{why} (Postgres {code}: {message})"),
    };
    match code {
        INVALID_CATALOG_NAME => {
            unavailable("the database does not exist; create it (`createdb NAME`) or name another")
        }
        DISK_FULL => unavailable("the database server's disk is full"),
        TOO_MANY_CONNECTIONS => {
            unavailable("the server has no connection to spare (max_connections reached)")
        }
        READ_ONLY_TRANSACTION => {
            unavailable("the database can only be read (a standby, or read-only)")
        }
        INSUFFICIENT_PRIVILEGE => unavailable("the user may not do this in the database"),
        DATA_CORRUPTED | INDEX_CORRUPTED => StoreError::Corrupt {
            location,
            reason: format!("the database reports damage ({message})"),
        },
        _ if code.starts_with(CONNECTION_EXCEPTION) => unavailable("the connection failed"),
        _ if code.starts_with(INVALID_AUTHORIZATION) => {
            unavailable("the server refused the login (check the user and password)")
        }
        _ if code.starts_with(INSUFFICIENT_RESOURCES) => {
            unavailable("the server is out of resources")
        }
        _ if code.starts_with(OPERATOR_INTERVENTION) => {
            unavailable("the server is shutting down or starting up")
        }
        _ if code.starts_with(TRANSACTION_ROLLBACK) => unavailable(
            "the write lost a race with another worker's and was rolled back; it may be retried",
        ),
        _ if code.starts_with(INTEGRITY_CONSTRAINT) => StoreError::Conflict(format!(
            "the run store {location} refused the write: {message}"
        )),
        _ => StoreError::Other {
            location,
            reason: format!("{message} (Postgres {code})"),
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
                "schema version {v} in the database is not the one this build applies (it was changed after it was applied, or another program's migrations are there)"
            ),
        },
        other => StoreError::Corrupt {
            location: location.to_owned(),
            reason: format!("its schema cannot be brought up to date: {other}"),
        },
    }
}

/// `url` as errors and logs show it: no password, no query (`postgres://user@host:port/db`).
pub(crate) fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn a_shown_url_has_no_password_and_no_options() {
        assert_eq!(
            shown_url(
                "postgres://app:s3cr%40t@db.internal:5432/flowstep?sslmode=require&password=x"
            ),
            "postgres://app@db.internal:5432/flowstep"
        );
        assert_eq!(
            shown_url("postgresql://db/flowstep"),
            "postgresql://db/flowstep"
        );
        assert_eq!(shown_url("postgres://u:p@h"), "postgres://u@h");
    }
}
