//! Opening a SQLite store: the file is checked before anything is written to it (a SQLite
//! database, flowstep's or new, with a schema no newer than this build knows), then made
//! write-ahead logged and migrated, and two pools are made: one connection that writes, a few
//! that read.

use super::errors::{migrate_error, store_error};
use super::options::SqliteOptions;
use super::queries;
use crate::error::StoreError;
use sqlx::SqlitePool;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;

/// The schema migrations in `migrations/`, applied in order of their version. Listed by hand
/// rather than found by `sqlx::migrate!`, which would build sqlx's proc-macro crates and a
/// second copy of sqlx-core and sqlx-sqlite (see docs/design.md); a test checks that every
/// file is listed.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "runs", include_str!("migrations/0001_runs.sql")),
    (2, "indexes", include_str!("migrations/0002_indexes.sql")),
    (
        3,
        "used flows",
        include_str!("migrations/0003_used_flows.sql"),
    ),
    (4, "events", include_str!("migrations/0004_events.sql")),
    (5, "waits", include_str!("migrations/0005_waits.sql")),
    (
        6,
        "message statuses",
        include_str!("migrations/0006_message_statuses.sql"),
    ),
];

static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
});

/// `flst`: what the first migration writes in the file's header, so another program's
/// database is told apart from a flowstep store.
pub(crate) const APPLICATION_ID: i64 = 0x666C_7374;

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The newest schema version this build knows.
pub(crate) fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The pools of an opened store.
pub(crate) struct Pools {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
}

/// Opens (creating it if missing) the store at `path`, shown as `location` in errors.
pub(crate) async fn open(
    path: &Path,
    location: &str,
    options: &SqliteOptions,
) -> Result<Pools, StoreError> {
    check_header(path, location)?;
    let mut connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .busy_timeout(options.busy_timeout)
        // A commit returns once it is on disk: a journal's write must survive a power cut
        // before the effect it announces happens.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .pragma("cache_size", super::writer::CACHE_SIZE);
    if let Some(bytes) = options.max_size_bytes {
        // The default page size is 4096 bytes; at least one page.
        connect = connect.pragma("max_page_count", (bytes / 4096).max(1).to_string());
    }
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(connect.clone())
        .await
        .map_err(|e| store_error(location, e))?;
    let result = async {
        check_schema(&writer, location).await?;
        let mode = queries::use_wal(&writer)
            .await
            .map_err(|e| store_error(location, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(store = location, journal_mode = %mode, "the store could not use write-ahead logging");
        }
        if let Err(first) = MIGRATOR.run(&writer).await {
            // Two processes creating the same new file race to apply the first migration; the
            // loser finds it applied when it looks again.
            tracing::debug!(store = location, "migrating again after: {first}");
            MIGRATOR
                .run(&writer)
                .await
                .map_err(|e| migrate_error(location, e))?;
        }
        // A file SQLite could open only for reading (its permissions, an immutable file, a
        // read-only mount) would take no run: find out now, with a write that changes nothing,
        // rather than at the first run.
        sqlx::query(include_str!("queries/write_probe.sql"))
            .execute(&writer)
            .await
            .map_err(|e| store_error(location, e))?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        writer.close().await;
        return Err(e);
    }
    let reader = SqlitePoolOptions::new()
        .max_connections(options.readers.max(1))
        .connect_with(connect.read_only(true))
        .await
        .map_err(|e| store_error(location, e))?;
    Ok(Pools { writer, reader })
}

/// Refuses a file that is not a SQLite database before SQLite touches it. A missing or empty
/// file is a new store.
fn check_header(path: &Path, location: &str) -> Result<(), StoreError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Unavailable {
                location: location.to_owned(),
                reason: format!("the file cannot be read: {e}"),
            });
        }
    };
    let not_a_store = |reason: String| StoreError::Corrupt {
        location: location.to_owned(),
        reason,
    };
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(not_a_store(
            "it is a directory; give the path of a file (it is created if missing)".into(),
        ));
    }
    let mut header = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut header)
        .map_err(|e| StoreError::Unavailable {
            location: location.to_owned(),
            reason: format!("the file cannot be read: {e}"),
        })?;
    if header.is_empty() || header == SQLITE_HEADER {
        return Ok(());
    }
    Err(not_a_store(
        "it is not a SQLite database (its first bytes are not SQLite's header); flowstep refuses to write into it".into(),
    ))
}

/// Refuses another program's database and a schema newer than this build knows.
async fn check_schema(writer: &SqlitePool, location: &str) -> Result<(), StoreError> {
    let err = |e| store_error(location, e);
    let application_id = queries::application_id(writer).await.map_err(err)?;
    let tables = queries::table_names(writer).await.map_err(err)?;
    let refuse = |reason: String| StoreError::Corrupt {
        location: location.to_owned(),
        reason,
    };
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(refuse(format!(
            "it is another program's SQLite database (application id {application_id:#x}); flowstep refuses to write into it"
        )));
    }
    let has_migrations = tables.iter().any(|t| t == "_sqlx_migrations");
    if application_id == 0 && !tables.is_empty() && !has_migrations {
        let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        return Err(refuse(format!(
            "it is a SQLite database with tables of its own ({}) and no flowstep run store; flowstep refuses to write into it",
            shown.join(", ")
        )));
    }
    if has_migrations {
        let found = queries::schema_version(writer).await.map_err(err)?;
        let known = known_version();
        if let Some(found) = found.filter(|v| *v > known) {
            return Err(StoreError::NewerSchema {
                location: location.to_owned(),
                found,
                known,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// `MIGRATIONS` lists every file in `migrations/`, under the version and description its
    /// name gives (`0001_runs.sql`), in order: what `sqlx::migrate!` would have found.
    #[test]
    fn every_migration_file_is_listed() {
        let files = crate::migration_files::read("src/sqlite/migrations");
        assert_eq!(crate::migration_files::listed(MIGRATIONS), files);
    }
}
