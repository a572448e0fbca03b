//! Opening a Postgres store: one connection first (so that an unreachable server, a refused
//! login or a missing database is reported at once, naming the server), the database checked
//! (empty or flowstep's, with a schema no newer than this build knows) and migrated on it, then
//! the pool the store runs on.

use super::errors::{migrate_error, store_error};
use super::options::PostgresOptions;
use super::queries;
use crate::error::StoreError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, SqlSafeStr};
use std::str::FromStr;
use std::sync::LazyLock;

/// The schema migrations in `migrations/`, applied in order of their version (listed by hand,
/// as the SQLite store's are: see docs/design.md); a test checks that every file is listed.
/// sqlx's migrator takes an advisory lock while it applies them, so workers starting at once
/// on a new database do not race.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "runs", include_str!("migrations/0001_runs.sql")),
    (2, "events", include_str!("migrations/0002_events.sql")),
    (
        3,
        "message statuses",
        include_str!("migrations/0003_message_statuses.sql"),
    ),
    (
        4,
        "work notify",
        include_str!("migrations/0004_work_notify.sql"),
    ),
    (
        5,
        "rate limits",
        include_str!("migrations/0005_rate_limits.sql"),
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

/// The newest schema version this build knows.
pub(crate) fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Opens the store at `url`, shown as `location` in errors: its pool.
pub(crate) async fn open(
    url: &str,
    location: &str,
    options: &PostgresOptions,
) -> Result<PgPool, StoreError> {
    let connect = PgConnectOptions::from_str(url)
        .map_err(|e| store_error(location, e))?
        .application_name("flowstep");
    let first = tokio::time::timeout(
        options.acquire_timeout,
        PgConnection::connect_with(&connect),
    )
    .await
    .map_err(|_| StoreError::Unavailable {
        location: location.to_owned(),
        reason: format!(
            "the Postgres server did not answer within {:?}",
            options.acquire_timeout
        ),
    })?;
    let mut conn = first.map_err(|e| store_error(location, e))?;
    let prepared = async {
        check_schema(&mut conn, location).await?;
        MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| migrate_error(location, e))
    }
    .await;
    let _ = conn.close().await;
    prepared?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_lazy_with(connect))
}

/// Refuses a database with tables of its own and no run store, and a schema newer than this
/// build knows.
async fn check_schema(conn: &mut PgConnection, location: &str) -> Result<(), StoreError> {
    let err = |e| store_error(location, e);
    let tables = queries::table_names(&mut *conn).await.map_err(err)?;
    let has_migrations = tables.iter().any(|t| t == "_sqlx_migrations");
    if !tables.is_empty() && !has_migrations {
        let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        return Err(StoreError::Corrupt {
            location: location.to_owned(),
            reason: format!(
                "the database has tables of its own ({}) and no flowstep run store; flowstep refuses to write into it (give it a database of its own)",
                shown.join(", ")
            ),
        });
    }
    if has_migrations {
        let found = queries::schema_version(&mut *conn).await.map_err(err)?;
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
    /// name gives (`0001_runs.sql`), in order.
    #[test]
    fn every_migration_file_is_listed() {
        let files = crate::migration_files::read("src/postgres/migrations");
        assert_eq!(crate::migration_files::listed(MIGRATIONS), files);
    }
}
