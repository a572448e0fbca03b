//! Group commit: the fenced writes of many runs (checkpoints, effects, heartbeats, ends) are
//! queued to one task that writes everything waiting in one transaction, so that one `fsync`
//! makes a whole batch durable instead of one write each. Every write is answered only once
//! its transaction has committed, so "returns once durable" still holds for each.
//!
//! SQLite rolls back only the failing statement inside a transaction, so one write's error
//! (or a fenced write that changes no row) does not touch the others in its batch; an error
//! at `COMMIT` fails them all.

use super::errors;
use super::queries::{self, Fence};
use crate::error::StoreError;
use sqlx::SqlitePool;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// The most writes one transaction takes (a bound on how long one batch holds the lock).
const MAX_BATCH: usize = 256;

/// How many writes may wait for the batch task before a writer waits for room.
const QUEUE: usize = 4096;

/// One fenced write: `run_id` under `attempt`.
#[derive(Debug)]
pub(crate) struct Write {
    pub(crate) run_id: String,
    pub(crate) attempt: i64,
    pub(crate) now: i64,
    pub(crate) kind: WriteKind,
}

/// What a [`Write`] does.
#[derive(Debug)]
pub(crate) enum WriteKind {
    Save {
        state_json: String,
    },
    RecordEffect {
        state_json: String,
        effect_json: String,
    },
    Heartbeat {
        lease_expires_at: i64,
    },
    Finish {
        status: &'static str,
        outcome_json: Option<String>,
        error: Option<String>,
    },
    Release,
    /// A new run (`run_id` and `now` above; `attempt` unused): its flow's source stored once
    /// under its hash, then the run unless its id is taken (0 rows: the caller reads the
    /// stored run). Another source under the same hash is a conflict.
    CreateRun {
        flow_file: String,
        flow_name: String,
        flow_hash: String,
        flow_source: String,
        inputs_json: String,
        recipient: Option<String>,
    },
}

struct Job {
    write: Write,
    /// How many rows the write changed (0: the fence did not hold), once committed.
    reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// The handle writers queue to; the task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    tx: mpsc::Sender<Job>,
    location: Arc<str>,
    /// Why the last batch could not be written (a full disk, a read-only file), until a batch
    /// is written again.
    failing: Arc<Mutex<Option<StoreError>>>,
}

impl GroupCommit {
    /// Starts the batch task on the current tokio runtime, writing through `writer`.
    pub(crate) fn start(writer: SqlitePool, location: Arc<str>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let failing = Arc::new(Mutex::new(None));
        tokio::spawn(run(writer, location.clone(), rx, failing.clone()));
        GroupCommit {
            tx,
            location,
            failing,
        }
    }

    /// Why writes fail now, if the last batch could not be written.
    pub(crate) fn failing(&self) -> Option<StoreError> {
        self.failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Writes `write` in the next batch; the rows it changed, once committed.
    pub(crate) async fn write(&self, write: Write) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::Unavailable {
            location: self.location.to_string(),
            reason: "the store was closed".into(),
        };
        self.tx
            .send(Job { write, reply })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn run(
    writer: SqlitePool,
    location: Arc<str>,
    mut rx: mpsc::Receiver<Job>,
    failing: Arc<Mutex<Option<StoreError>>>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let results = batch(&writer, &location, &jobs).await;
        let unavailable = results.iter().find_map(|r| match r {
            Err(e @ StoreError::Unavailable { .. }) => Some(e.clone()),
            _ => None,
        });
        *failing.lock().unwrap_or_else(|p| p.into_inner()) = unavailable;
        for (job, result) in jobs.drain(..).zip(results) {
            // A writer that stopped waiting (its run was dropped) needs no answer.
            let _ = job.reply.send(result);
        }
    }
}

/// Writes `jobs` in one transaction: each one's result, or the commit's error for all.
async fn batch(writer: &SqlitePool, location: &str, jobs: &[Job]) -> Vec<Result<u64, StoreError>> {
    let err = |e: sqlx::Error| errors::store_error(location, e);
    // IMMEDIATE takes the write lock first, so another process sharing the file cannot slip
    // a write in between a batch's reads and writes.
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let e = err(e);
            return jobs.iter().map(|_| Err(e.clone())).collect();
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(execute(&mut tx, location, &job.write).await);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => {
            let e = err(e);
            jobs.iter().map(|_| Err(e.clone())).collect()
        }
    }
}

/// One write, inside the batch's transaction.
async fn execute(
    tx: &mut sqlx::SqliteConnection,
    location: &str,
    w: &Write,
) -> Result<u64, StoreError> {
    let fence = Fence {
        run_id: &w.run_id,
        attempt: w.attempt,
    };
    let done = match &w.kind {
        WriteKind::Save { state_json } => queries::save(&mut *tx, fence, state_json, w.now).await,
        WriteKind::RecordEffect {
            state_json,
            effect_json,
        } => queries::record_effect(&mut *tx, fence, state_json, effect_json, w.now).await,
        WriteKind::Heartbeat { lease_expires_at } => {
            queries::heartbeat(&mut *tx, fence, *lease_expires_at, w.now).await
        }
        WriteKind::Finish {
            status,
            outcome_json,
            error,
        } => {
            queries::finish(
                &mut *tx,
                fence,
                status,
                outcome_json.as_deref(),
                error.as_deref(),
                w.now,
            )
            .await
        }
        WriteKind::Release => queries::release(&mut *tx, fence, w.now).await,
        WriteKind::CreateRun {
            flow_file,
            flow_name,
            flow_hash,
            flow_source,
            inputs_json,
            recipient,
        } => {
            let run = queries::InsertRun {
                run_id: &w.run_id,
                flow_file,
                flow_name,
                flow_hash,
                inputs_json,
                recipient: recipient.as_deref(),
                now: w.now,
            };
            return create_run(tx, location, run, flow_source).await;
        }
    };
    done.map(|r| r.rows_affected())
        .map_err(|e| errors::store_error(location, e))
}

/// Stores the flow's source (once per hash) and the run: 1 when the run was inserted, 0 when
/// its id was taken.
async fn create_run(
    tx: &mut sqlx::SqliteConnection,
    location: &str,
    run: queries::InsertRun<'_>,
    flow_source: &str,
) -> Result<u64, StoreError> {
    let err = |e: sqlx::Error| errors::store_error(location, e);
    queries::insert_flow(&mut *tx, run.flow_hash, flow_source, run.now)
        .await
        .map_err(err)?;
    let stored = queries::select_flow_source(&mut *tx, run.flow_hash)
        .await
        .map_err(err)?;
    if stored.as_deref() != Some(flow_source) {
        return Err(StoreError::Conflict(format!(
            "the run store {location} holds another flow source under hash `{}`",
            run.flow_hash
        )));
    }
    let inserted = queries::insert_run(&mut *tx, run).await.map_err(err)?;
    Ok(u64::from(inserted.is_some()))
}
