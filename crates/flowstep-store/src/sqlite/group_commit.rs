//! Group commit: the writes of many runs (starts, claims, checkpoints, effects, heartbeats,
//! ends) are queued to one task that writes everything waiting in one transaction, so that one
//! `fsync` makes a whole batch durable instead of one write each. Every write is answered only once
//! its transaction has committed, so "returns once durable" still holds for each.
//!
//! SQLite rolls back only the failing statement inside a transaction, so one write's error
//! (or a fenced write that changes no row) does not touch the others in its batch; an error
//! at `COMMIT` fails them all. The batches are written by the store's [`Writer`], on a thread
//! of its own.

use super::options::SqliteOptions;
use super::queries::ClaimRow;
use super::writer::{NewRunRow, Writer};
use crate::error::StoreError;
use std::path::Path;
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
        /// `None`: the state saved last stays.
        state_json: Option<String>,
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
    /// A new run (`run_id` and `now` above; `attempt` unused): its flow's source and the
    /// flows it uses stored once under its hash, then the run unless its id is taken (0 rows: the caller reads the
    /// stored run). Another source under the same hash is a conflict.
    CreateRun {
        flow_file: String,
        flow_name: String,
        flow_hash: String,
        flow_source: String,
        used_json: String,
        inputs_json: String,
        recipient: Option<String>,
    },
}

/// A claim of at most `limit` runnable runs for `worker_id`, leased until `lease_expires_at`.
#[derive(Debug)]
pub(crate) struct Claim {
    pub(crate) worker_id: String,
    pub(crate) lease_expires_at: i64,
    pub(crate) now: i64,
    pub(crate) limit: i64,
}

/// What the writer thread is asked to do.
#[derive(Debug)]
enum Op {
    Write(Write),
    Claim(Claim),
    /// Close the connection and end the thread, once the writes queued before are written.
    Close,
}

/// What it did, once committed.
#[derive(Debug)]
enum Done {
    /// How many rows a write changed (0: the fence did not hold).
    Rows(u64),
    /// The runs a claim took.
    Claimed(Vec<ClaimRow>),
    /// The connection is closed.
    Closed,
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, StoreError>>,
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
    /// Opens the writer's connection to the store at `path` and starts its thread.
    pub(crate) fn start(
        path: &Path,
        location: Arc<str>,
        options: &SqliteOptions,
    ) -> Result<Self, StoreError> {
        let writer = Writer::open(path, &location, options)?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let failing = Arc::new(Mutex::new(None));
        let thread_failing = failing.clone();
        std::thread::Builder::new()
            .name("flowstep-store-writer".into())
            .spawn(move || run(writer, rx, thread_failing))
            .map_err(|e| StoreError::Unavailable {
                location: location.to_string(),
                reason: format!("the writer's thread cannot be started: {e}"),
            })?;
        Ok(GroupCommit {
            tx,
            location,
            failing,
        })
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
        match self.submit(Op::Write(write)).await? {
            Done::Rows(n) => Ok(n),
            _ => unreachable!("a write is answered with rows"),
        }
    }

    /// Claims runs in the next batch (so that a worker taking one run as another ends does
    /// not cost a commit of its own); the runs claimed, once committed.
    pub(crate) async fn claim(&self, claim: Claim) -> Result<Vec<ClaimRow>, StoreError> {
        match self.submit(Op::Claim(claim)).await? {
            Done::Claimed(rows) => Ok(rows),
            _ => unreachable!("a claim is answered with runs"),
        }
    }

    /// Writes what is queued, closes the connection and ends the thread. Writes queued after
    /// fail as the store being closed.
    pub(crate) async fn close(&self) {
        let _ = self.submit(Op::Close).await;
    }

    async fn submit(&self, op: Op) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::Unavailable {
            location: self.location.to_string(),
            reason: "the store was closed".into(),
        };
        self.tx
            .send(Job { op, reply })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn run(mut writer: Writer, mut rx: mpsc::Receiver<Job>, failing: Arc<Mutex<Option<StoreError>>>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let close = jobs.iter().position(|j| matches!(j.op, Op::Close));
        let results = batch(&mut writer, &jobs);
        let unavailable = results.iter().find_map(|r| match r {
            Err(e @ StoreError::Unavailable { .. }) => Some(e.clone()),
            Err(e) if super::errors::is_damage(e) => Some(e.clone()),
            _ => None,
        });
        *failing.lock().unwrap_or_else(|p| p.into_inner()) = unavailable;
        if close.is_some() {
            drop(writer);
            rx.close();
            for (job, result) in jobs.drain(..).zip(results) {
                let _ = job.reply.send(result);
            }
            // What was queued after the close is answered as closed (by dropping its reply).
            while rx.blocking_recv().is_some() {}
            return;
        }
        for (job, result) in jobs.drain(..).zip(results) {
            // A writer that stopped waiting (its run was dropped) needs no answer.
            let _ = job.reply.send(result);
        }
    }
}

/// Writes `jobs` in one transaction: each one's result, or the commit's error for all.
fn batch(writer: &mut Writer, jobs: &[Job]) -> Vec<Result<Done, StoreError>> {
    if jobs.iter().all(|j| matches!(j.op, Op::Close)) {
        return jobs.iter().map(|_| Ok(Done::Closed)).collect();
    }
    if let Err(e) = writer.begin() {
        return jobs.iter().map(|_| Err(e.clone())).collect();
    }
    let results: Vec<_> = jobs
        .iter()
        .map(|job| match &job.op {
            Op::Write(w) => execute(writer, w).map(Done::Rows),
            Op::Claim(c) => writer
                .claim(&c.worker_id, c.lease_expires_at, c.now, c.limit)
                .map(Done::Claimed),
            Op::Close => Ok(Done::Closed),
        })
        .collect();
    match writer.commit() {
        Ok(()) => results,
        Err(e) => jobs.iter().map(|_| Err(e.clone())).collect(),
    }
}

/// One write, inside the batch's transaction.
fn execute(writer: &mut Writer, w: &Write) -> Result<u64, StoreError> {
    let (run_id, attempt, now) = (&w.run_id, &w.attempt, &w.now);
    match &w.kind {
        WriteKind::Save { state_json } => writer.execute(
            include_str!("queries/save.sql"),
            &[run_id, attempt, state_json, now],
        ),
        WriteKind::RecordEffect {
            state_json,
            effect_json,
        } => writer.execute(
            include_str!("queries/record_effect.sql"),
            &[run_id, attempt, state_json, effect_json, now],
        ),
        WriteKind::Heartbeat { lease_expires_at } => writer.execute(
            include_str!("queries/heartbeat.sql"),
            &[run_id, attempt, lease_expires_at, now],
        ),
        WriteKind::Finish {
            status,
            outcome_json,
            error,
        } => writer.execute(
            include_str!("queries/finish.sql"),
            &[run_id, attempt, status, outcome_json, error, now],
        ),
        WriteKind::Release => {
            writer.execute(include_str!("queries/release.sql"), &[run_id, attempt, now])
        }
        WriteKind::CreateRun {
            flow_file,
            flow_name,
            flow_hash,
            flow_source,
            used_json,
            inputs_json,
            recipient,
        } => writer.create_run(NewRunRow {
            run_id,
            flow_file,
            flow_name,
            flow_hash,
            flow_source,
            used_json,
            inputs_json,
            recipient: recipient.as_deref(),
            now: *now,
        }),
    }
}
