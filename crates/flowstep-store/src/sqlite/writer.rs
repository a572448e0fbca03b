//! The store's writer: one SQLite connection, on a thread of its own, that writes each group
//! commit's batch (see `group_commit`) with rusqlite. It runs the same statements as the rest
//! of the store (the files in `queries/`), one after another on its own thread, instead of
//! handing each to sqlx's connection thread and waiting for the answer: a batch of small
//! writes costs a third of the time that way (see docs/design.md, "The store's writer").

use super::errors;
use super::options::SqliteOptions;
use super::queries::ClaimRow;
use crate::error::StoreError;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, Statement};
use std::collections::HashSet;
use std::path::Path;

/// Every connection's page cache, in SQLite's units (negative: KiB): 4 MiB. SQLite walks the
/// whole cache at the end of every write transaction (`pager_end_transaction` truncates it),
/// and a reader drops it whenever another connection has written since its last read, so a
/// large cache costs more than it saves here: at 64 MiB the walk was 12% of the writer's time
/// in `cargo bench -p flowstep-server --bench durable`, at 4 MiB under 3%. The pages a run's
/// write touches (the newest rows, the indexes' edges) fit, and the rest is in the
/// operating system's cache.
pub(crate) const CACHE_SIZE: &str = "-4096";

/// SQLite's names for the statements' parameters, `$1` to `$8`.
const PARAMS: [&str; 8] = ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8"];

/// The connection that writes, with what it learnt while writing.
pub(crate) struct Writer {
    conn: Connection,
    location: String,
    /// Flow hashes whose source is stored (committed): a run of one of them is inserted
    /// without storing and comparing its source again.
    flows: HashSet<String>,
    /// Flow hashes found stored by the batch under way, known once it commits.
    flows_in_batch: Vec<String>,
}

/// What a run's start stores.
pub(crate) struct NewRunRow<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) flow_file: &'a str,
    pub(crate) flow_name: &'a str,
    pub(crate) flow_hash: &'a str,
    pub(crate) flow_source: &'a str,
    /// The files the flow uses (JSON), stored beside its source.
    pub(crate) used_json: &'a str,
    pub(crate) inputs_json: &'a str,
    pub(crate) recipient: Option<&'a str>,
    pub(crate) now: i64,
}

impl Writer {
    /// Opens the writer's connection to the store at `path` (migrated already), with the
    /// settings every connection of the store has.
    pub(crate) fn open(
        path: &Path,
        location: &str,
        options: &SqliteOptions,
    ) -> Result<Self, StoreError> {
        let err = |e| errors::rusqlite_error(location, e);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(options.busy_timeout).map_err(err)?;
        // As open.rs sets them for sqlx's connections: a commit is on disk when it returns,
        // the runs' flows exist, the page cache's size.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = {CACHE_SIZE};"
        ))
        .map_err(err)?;
        if let Some(bytes) = options.max_size_bytes {
            let pages = (bytes / 4096).max(1);
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .map_err(err)?;
        }
        // The query planner's stability guarantee: a statement's plan does not depend on the
        // values bound to it, so a cached statement is not prepared again each time new
        // values are bound (claim.sql was, for its partial index: 8% of the writer's time).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(err)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Writer {
            conn,
            location: location.to_owned(),
            flows: HashSet::new(),
            flows_in_batch: Vec::new(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        errors::rusqlite_error(&self.location, e)
    }

    /// Starts a batch's transaction, taking the write lock first, so that another process
    /// sharing the file cannot slip a write in between a batch's reads and writes.
    pub(crate) fn begin(&mut self) -> Result<(), StoreError> {
        self.flows_in_batch.clear();
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }

    /// Commits the batch; on failure, rolls back what is left of it.
    pub(crate) fn commit(&mut self) -> Result<(), StoreError> {
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => {
                let found = std::mem::take(&mut self.flows_in_batch);
                self.flows.extend(found);
                Ok(())
            }
            Err(e) => {
                let e = self.err(e);
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    /// Runs a statement that returns no rows: how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<u64, StoreError> {
        let run = || -> rusqlite::Result<usize> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            bind(&mut stmt, params)?;
            stmt.raw_execute()
        };
        run().map(|n| n as u64).map_err(|e| self.err(e))
    }

    /// Stores the flow's source (once per hash) and the run: 1 when the run was inserted, 0
    /// when its id was taken.
    pub(crate) fn create_run(&mut self, run: NewRunRow<'_>) -> Result<u64, StoreError> {
        // The caller checked that the hash is the source's, so a source found stored under it
        // once is the same source for every later run.
        let known = self.flows.contains(run.flow_hash)
            || self.flows_in_batch.iter().any(|h| h == run.flow_hash);
        if !known {
            self.execute(
                include_str!("queries/insert_flow.sql"),
                &[&run.flow_hash, &run.flow_source, &run.used_json, &run.now],
            )?;
            let stored: Option<(String, Option<String>)> = self
                .query(
                    include_str!("queries/select_flow_source.sql"),
                    &[&run.flow_hash],
                    |row| Ok((row.get("source")?, row.get("used_json")?)),
                )?
                .pop();
            let same = stored.as_ref().is_some_and(|(source, used)| {
                source == run.flow_source && used.as_deref() == Some(run.used_json)
            });
            if !same {
                return Err(StoreError::Conflict(format!(
                    "the run store {} holds another flow source under hash `{}`",
                    self.location, run.flow_hash
                )));
            }
            self.flows_in_batch.push(run.flow_hash.to_owned());
        }
        let inserted = self.query(
            include_str!("queries/insert_run.sql"),
            &[
                &run.run_id,
                &run.flow_file,
                &run.flow_name,
                &run.flow_hash,
                &run.inputs_json,
                &run.recipient,
                &run.now,
            ],
            |row| row.get::<_, i64>("seq"),
        )?;
        Ok(inserted.len() as u64)
    }

    /// Claims at most `limit` runnable runs, oldest first.
    pub(crate) fn claim(
        &self,
        worker_id: &str,
        lease_expires_at: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        self.query(
            include_str!("queries/claim.sql"),
            &[&worker_id, &lease_expires_at, &now, &limit],
            |r| {
                Ok(ClaimRow {
                    run_id: r.get("run_id")?,
                    attempt: r.get("attempt")?,
                    flow_file: r.get("flow_file")?,
                    flow_name: r.get("flow_name")?,
                    flow_hash: r.get("flow_hash")?,
                    inputs_json: r.get("inputs_json")?,
                    recipient: r.get("recipient")?,
                    state_json: r.get("state_json")?,
                    pending_json: r.get("pending_json")?,
                    event_json: r.get("event_json")?,
                })
            },
        )
    }

    /// Runs a statement and reads every row it returns with `read`.
    fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let run = || -> rusqlite::Result<Vec<T>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            bind(&mut stmt, params)?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(read(row)?);
            }
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }
}

/// Binds `params[i]` to the statement's parameter `$i+1`, wherever it appears.
fn bind(stmt: &mut Statement<'_>, params: &[&dyn ToSql]) -> rusqlite::Result<()> {
    for (name, value) in PARAMS.iter().zip(params) {
        if let Some(index) = stmt.parameter_index(name)? {
            stmt.raw_bind_parameter(index, value)?;
        }
    }
    Ok(())
}
