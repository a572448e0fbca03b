//! The run store in a SQLite file: [`SqliteStore`]. One connection writes (SQLite takes one
//! writer at a time, so writes queue in the process instead of contending for the file's
//! lock), a few read beside it (write-ahead logging lets them), and every statement is in
//! `queries`. See docs/store.md for the schema.

mod deliveries;
mod errors;
mod group_commit;
mod open;
mod options;
mod queries;
mod waits;
mod writer;

pub use options::SqliteOptions;

use crate::RunStore;
use crate::clock::Clock;
use crate::decode::{self, millis, time};
use crate::delivery::DeliveryStatus;
use crate::error::StoreError;
use crate::event::{EventPage, NewEvent, Recorded};
use crate::model::{Claimed, Creation, Cursor, NewRun, Page, RunFilter, RunRecord, Status};
use crate::verified::VerifiedFlows;
use async_trait::async_trait;
use flowstep_engine::{Effect, Outcome, RunState, RunStatus, UsedFlows, WaitEvent};
use group_commit::{Claim, GroupCommit, Write, WriteKind};
use queries::Fence;
use serde::Serialize;

use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A stored flow: its source and the flows it uses (`None`: stored before they were kept).
#[derive(Debug)]
struct FlowSources {
    source: String,
    used: Option<UsedFlows>,
}

/// The most runs one page lists.
const MAX_PAGE: u32 = 1000;

/// A run store in one SQLite file, shared by every worker of a process (it is cheap to clone:
/// the clones share the connections). Several processes may open the same file; their writes
/// take turns on SQLite's lock.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    batch: GroupCommit,
    reader: SqlitePool,
    /// Flow sources read back for claims, by hash (a hash names one source for good).
    sources: Arc<Mutex<HashMap<String, Arc<FlowSources>>>>,
    /// Flows whose hash `create_run` checked.
    verified: Arc<VerifiedFlows>,
    /// SQLite found the file damaged on a read: not ready from then on.
    damaged: Arc<Mutex<Option<StoreError>>>,
    clock: Arc<dyn Clock>,
    location: Arc<str>,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file if it is missing and bringing its schema
    /// up to date. Refused, with the file named: a file that is not a SQLite database or is
    /// another program's ([`StoreError::Corrupt`]), a schema newer than this build knows
    /// ([`StoreError::NewerSchema`]), a file that cannot be read or written
    /// ([`StoreError::Unavailable`]).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// [`SqliteStore::open`] with `options`.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let location: Arc<str> = path.display().to_string().into();
        let pools = open::open(path, &location, &options).await?;
        let batch = match GroupCommit::start(path, location.clone(), &options) {
            Ok(batch) => batch,
            Err(e) => {
                pools.writer.close().await;
                pools.reader.close().await;
                return Err(e);
            }
        };
        tracing::debug!(store = %location, "run store opened");
        Ok(SqliteStore {
            batch,
            sources: Arc::default(),
            verified: Arc::default(),
            damaged: Arc::default(),
            writer: pools.writer,
            reader: pools.reader,
            clock: options.clock,
            location,
        })
    }

    /// The store's file, as errors name it.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The newest schema version this build of the store knows.
    pub fn schema_version() -> i64 {
        open::known_version()
    }

    /// Closes the connections, waiting for the writes under way.
    pub async fn close(&self) {
        self.batch.close().await;
        self.writer.close().await;
        self.reader.close().await;
    }

    fn now(&self) -> i64 {
        millis(self.clock.now())
    }

    fn err(&self, e: sqlx::Error) -> StoreError {
        let e = errors::store_error(&self.location, e);
        if errors::is_damage(&e) {
            *self.damaged.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
        }
        e
    }

    fn to_json(&self, what: &str, value: &impl Serialize) -> Result<String, StoreError> {
        serde_json::to_string(value)
            .map_err(|e| StoreError::Invalid(format!("{what} cannot be written as JSON: {e}")))
    }

    /// A state handed for another run is a worker's mistake, not something to store.
    fn check_state(&self, claimed: &Claimed, state: &RunState) -> Result<(), StoreError> {
        match state.run_id == claimed.run_id {
            true => Ok(()),
            false => Err(StoreError::Invalid(format!(
                "the state of run `{}` was handed to the store for run `{}`",
                state.run_id, claimed.run_id
            ))),
        }
    }

    /// Writes a fenced write of `claimed` in the next group commit.
    async fn write(&self, claimed: &Claimed, now: i64, kind: WriteKind) -> Result<(), StoreError> {
        let write = Write {
            run_id: claimed.run_id.clone(),
            attempt: i64::from(claimed.attempt),
            now,
            kind,
        };
        let rows = self.batch.write(write).await;
        self.fenced_rows(claimed, rows).await
    }

    /// The result of a fenced write: no row changed means the claim is no longer the run's.
    async fn fenced_rows(
        &self,
        claimed: &Claimed,
        rows: Result<u64, StoreError>,
    ) -> Result<(), StoreError> {
        if rows? > 0 {
            return Ok(());
        }
        let reason = match queries::select_holder(&self.writer, &claimed.run_id).await {
            Ok(None) => "it is no longer in the store".to_owned(),
            Ok(Some(h)) if i64::from(claimed.attempt) < h.attempt => format!(
                "worker `{}` claimed it again (attempt {}) after the lease expired; it is {} now",
                h.lease_owner.as_deref().unwrap_or("?"),
                h.attempt,
                h.status
            ),
            Ok(Some(h)) if h.status == "cancelled" => "it was cancelled".to_owned(),
            Ok(Some(h)) => format!("it is {} now", h.status),
            Err(e) => format!("what became of it could not be read: {}", self.err(e)),
        };
        tracing::warn!(run_id = %claimed.run_id, attempt = claimed.attempt, "lease lost: {reason}");
        Err(StoreError::LeaseLost {
            run_id: claimed.run_id.clone(),
            attempt: claimed.attempt,
            reason,
        })
    }

    fn lease_end(&self, now: i64, lease: Duration) -> i64 {
        now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
    }

    /// A claimed row, with its flow's source, decoded; a run that cannot be read back is
    /// marked failed.
    async fn claimed_from(
        &self,
        row: queries::ClaimRow,
        worker_id: &str,
        expires: i64,
    ) -> Result<Claimed, StoreError> {
        let fence = Fence {
            run_id: &row.run_id,
            attempt: row.attempt,
        };
        let loc = &*self.location;
        let id = row.run_id.as_str();
        let sources = match self.flow_sources(&row.flow_hash, id).await {
            Ok(s) => s,
            Err(e @ StoreError::Corrupt { .. }) => {
                return Err(self.fail_unreadable(fence, e).await);
            }
            Err(e) => return Err(e),
        };
        let decoded = (|| {
            Ok::<_, StoreError>((
                decode::json(loc, id, "inputs_json", &row.inputs_json)?,
                row.state_json
                    .as_deref()
                    .map(|t| decode::json::<RunState>(loc, id, "state_json", t))
                    .transpose()?,
                row.pending_json
                    .as_deref()
                    .map(|t| decode::json::<Effect>(loc, id, "pending_json", t))
                    .transpose()?,
                row.event_json
                    .as_deref()
                    .map(|t| decode::json::<WaitEvent>(loc, id, "event_json", t))
                    .transpose()?,
            ))
        })();
        let (inputs, state, pending, event) = match decoded {
            Ok(d) => d,
            Err(e) => return Err(self.fail_unreadable(fence, e).await),
        };
        tracing::debug!(
            run_id = id,
            attempt = row.attempt,
            worker = worker_id,
            "run claimed"
        );
        Ok(Claimed {
            attempt: decode::attempt(row.attempt),
            worker_id: worker_id.to_owned(),
            lease_expires_at: time(expires),
            flow_file: row.flow_file,
            flow_name: row.flow_name,
            flow_hash: row.flow_hash,
            flow_source: sources.source.clone(),
            used_flows: sources.used.clone(),
            inputs,
            recipient: row.recipient,
            state,
            pending,
            event,
            run_id: row.run_id,
        })
    }

    /// The source of the flow stored under `hash` and the flows it uses, read once per process
    /// (for a flow stored with its used flows; one stored before they were kept may have them
    /// filled in later).
    async fn flow_sources(&self, hash: &str, run_id: &str) -> Result<Arc<FlowSources>, StoreError> {
        let lock = || self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = lock().get(hash) {
            return Ok(found.clone());
        }
        let loc = &*self.location;
        let (source, used_json) = match queries::select_flow_source(&self.reader, hash).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(StoreError::Corrupt {
                    location: format!("{loc} (run `{run_id}`)"),
                    reason: format!("its flow source `{hash}` is missing"),
                });
            }
            Err(e) => return Err(self.err(e)),
        };
        let used = used_json
            .as_deref()
            .map(|t| decode::json::<UsedFlows>(loc, run_id, "flows.used_json", t))
            .transpose()?;
        let found = Arc::new(FlowSources { source, used });
        if found.used.is_some() {
            let mut sources = lock();
            // Flows are few; a store that sees more than this reads them again.
            if sources.len() >= 256 {
                sources.clear();
            }
            sources.insert(hash.to_owned(), found.clone());
        }
        Ok(found)
    }

    /// Ends a claimed run that cannot be read back, so that it does not come back to every
    /// worker that claims.
    async fn fail_unreadable(&self, fence: Fence<'_>, error: StoreError) -> StoreError {
        let reason = format!("the store could not read the run back: {error}");
        let now = self.now();
        if let Err(e) =
            queries::finish(&self.writer, fence, "failed", None, Some(&reason), now).await
        {
            tracing::warn!(
                run_id = fence.run_id,
                "could not mark an unreadable run failed: {e}"
            );
        }
        tracing::error!(run_id = fence.run_id, "{reason}; the run was marked failed");
        match error {
            StoreError::Corrupt { location, reason } => StoreError::Corrupt {
                location,
                reason: format!("{reason}; the run was marked failed"),
            },
            other => other,
        }
    }
}

fn fence(claimed: &Claimed) -> Fence<'_> {
    Fence {
        run_id: &claimed.run_id,
        attempt: i64::from(claimed.attempt),
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    /// Sleeps `max`: one process per file, whose own starts wake its worker directly.
    async fn wait_for_work(&self, max: Duration) {
        tokio::time::sleep(max).await;
    }

    /// None: one process per file, whose own limiter is the whole of it.
    fn shared_rate_limiter(&self) -> Option<Arc<dyn flowstep_engine::SharedRateLimiter>> {
        None
    }

    async fn create_run(&self, run: NewRun) -> Result<Creation, StoreError> {
        flowstep_engine::check_run_id(&run.run_id)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let used_json = self.verified.check(&run)?;
        let inputs_json = self.to_json("the run's inputs", &run.inputs)?;
        let write = Write {
            attempt: 0,
            now: self.now(),
            kind: WriteKind::CreateRun {
                flow_file: run.flow_file,
                flow_name: run.flow_name.clone(),
                flow_hash: run.flow_hash,
                flow_source: run.flow_source,
                used_json,
                inputs_json,
                recipient: run.recipient,
            },
            run_id: run.run_id.clone(),
        };
        if self.batch.write(write).await? == 1 {
            tracing::debug!(run_id = %run.run_id, flow = %run.flow_name, "run created");
            return Ok(Creation::Created);
        }
        // The id was taken: the run stored under it (committed, so a reader sees it).
        match queries::select_run(&self.reader, &run.run_id)
            .await
            .map_err(|e| self.err(e))?
        {
            Some(row) => Ok(Creation::Existing(Box::new(decode::run_record(
                &self.location,
                row,
            )?))),
            None => Err(StoreError::Conflict(format!(
                "run `{}` was stored and then removed while it was being started again",
                run.run_id
            ))),
        }
    }

    async fn claim(&self, worker_id: &str, lease: Duration) -> Result<Option<Claimed>, StoreError> {
        Ok(self.claim_many(worker_id, lease, 1).await?.pop())
    }

    async fn claim_many(
        &self,
        worker_id: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        let now = self.now();
        let expires = self.lease_end(now, lease);
        let limit = i64::from(limit.clamp(1, MAX_PAGE));
        let rows = self
            .batch
            .claim(Claim {
                worker_id: worker_id.to_owned(),
                lease_expires_at: expires,
                now,
                limit,
            })
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        let mut unreadable = None;
        for row in rows {
            match self.claimed_from(row, worker_id, expires).await {
                Ok(c) => claimed.push(c),
                // Marked failed already; the others are claimed and must be run.
                Err(e) => unreadable = Some(e),
            }
        }
        match (claimed.is_empty(), unreadable) {
            (true, Some(e)) => Err(e),
            _ => Ok(claimed),
        }
    }

    async fn heartbeat(&self, claimed: &Claimed, lease: Duration) -> Result<(), StoreError> {
        let now = self.now();
        let expires = self.lease_end(now, lease);
        let kind = WriteKind::Heartbeat {
            lease_expires_at: expires,
        };
        self.write(claimed, now, kind).await
    }

    async fn save(&self, claimed: &Claimed, state: &RunState) -> Result<(), StoreError> {
        self.check_state(claimed, state)?;
        let state_json = self.to_json("the run's state", state)?;
        self.write(claimed, self.now(), WriteKind::Save { state_json })
            .await
    }

    async fn record_effect(
        &self,
        claimed: &Claimed,
        state: Option<&RunState>,
        effect: &Effect,
    ) -> Result<(), StoreError> {
        let state_json = match state {
            Some(state) => {
                self.check_state(claimed, state)?;
                Some(self.to_json("the run's state", state)?)
            }
            None => None,
        };
        let effect_json = self.to_json("the effect", effect)?;
        let kind = WriteKind::RecordEffect {
            state_json,
            effect_json,
        };
        self.write(claimed, self.now(), kind).await
    }

    async fn finish(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError> {
        if outcome.run_id != claimed.run_id {
            return Err(StoreError::Invalid(format!(
                "the outcome of run `{}` was handed to the store for run `{}`",
                outcome.run_id, claimed.run_id
            )));
        }
        let status = match outcome.status {
            RunStatus::Succeeded => Status::Succeeded,
            RunStatus::Failed => Status::Failed,
            RunStatus::Waiting => {
                return Err(StoreError::Invalid(format!(
                    "run `{}` is waiting, not ended: park it with register_wait",
                    claimed.run_id
                )));
            }
        };
        let outcome_json = self.to_json("the run's outcome", outcome)?;
        let kind = WriteKind::Finish {
            status: status.as_str(),
            outcome_json: Some(outcome_json),
            error: None,
        };
        self.write(claimed, self.now(), kind).await?;
        tracing::debug!(run_id = %claimed.run_id, %status, "run finished");
        Ok(())
    }

    async fn fail(&self, claimed: &Claimed, reason: &str) -> Result<(), StoreError> {
        let kind = WriteKind::Finish {
            status: Status::Failed.as_str(),
            outcome_json: None,
            error: Some(reason.to_owned()),
        };
        self.write(claimed, self.now(), kind).await?;
        tracing::debug!(run_id = %claimed.run_id, "run failed: {reason}");
        Ok(())
    }

    async fn release(&self, claimed: &Claimed) -> Result<(), StoreError> {
        self.write(claimed, self.now(), WriteKind::Release).await?;
        tracing::debug!(run_id = %claimed.run_id, "run released to the queue");
        Ok(())
    }

    async fn register_wait(&self, claimed: &Claimed, state: &RunState) -> Result<bool, StoreError> {
        self.park(claimed, state).await
    }

    async fn fire_timers(&self, now: SystemTime, limit: u32) -> Result<Vec<String>, StoreError> {
        self.fire(now, i64::from(limit.clamp(1, MAX_PAGE))).await
    }

    async fn prune_events(&self, before: SystemTime) -> Result<u64, StoreError> {
        self.prune(before).await
    }

    async fn cancel(&self, run_id: &str) -> Result<(), StoreError> {
        let now = self.now();
        if queries::cancel(&self.writer, run_id, now)
            .await
            .map_err(|e| self.err(e))?
        {
            // What it waited for goes too (a wait whose run is not waiting wakes nothing).
            queries::delete_waits(&self.writer, run_id)
                .await
                .map_err(|e| self.err(e))?;
            tracing::debug!(%run_id, "run cancelled");
            return Ok(());
        }
        match queries::select_holder(&self.writer, run_id)
            .await
            .map_err(|e| self.err(e))?
        {
            None => Err(StoreError::NotFound(run_id.to_owned())),
            Some(h) => Err(StoreError::Conflict(format!(
                "run `{run_id}` has ended ({}); only a queued, running or waiting run can be cancelled",
                h.status
            ))),
        }
    }

    async fn retry(&self, run_id: &str) -> Result<(), StoreError> {
        let now = self.now();
        if queries::retry(&self.writer, run_id, now)
            .await
            .map_err(|e| self.err(e))?
        {
            tracing::debug!(%run_id, "failed run queued again");
            return Ok(());
        }
        match queries::select_holder(&self.writer, run_id)
            .await
            .map_err(|e| self.err(e))?
        {
            None => Err(StoreError::NotFound(run_id.to_owned())),
            Some(h) if h.status == "failed" => Err(StoreError::Conflict(format!(
                "run `{run_id}` failed before the store kept a failed run's state, so it cannot be resumed where it failed; start it again under another run id"
            ))),
            Some(h) => Err(StoreError::Conflict(format!(
                "run `{run_id}` is {}; only a failed run can be retried",
                h.status
            ))),
        }
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        queries::select_run(&self.reader, run_id)
            .await
            .map_err(|e| self.err(e))?
            .map(|row| decode::run_record(&self.location, row))
            .transpose()
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        if let Some(e) = self.batch.failing() {
            return Err(e);
        }
        // Damage found by a read stays: the file needs a person.
        if let Some(e) = self
            .damaged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(e);
        }
        queries::select_holder(&self.reader, "")
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn count_runs(&self, filter: &RunFilter) -> Result<u64, StoreError> {
        let n = queries::count_runs(
            &self.reader,
            filter.status.map(Status::as_str),
            filter.flow.as_deref(),
        )
        .await
        .map_err(|e| self.err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn record_event(
        &self,
        event: NewEvent,
        shapes: &[(String, Vec<String>)],
    ) -> Result<Recorded, StoreError> {
        self.record(event, shapes).await
    }

    async fn event_woke(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            queries::select_event_delivered_to(&self.reader, provider, event_id)
                .await
                .map_err(|e| self.err(e))?
                .flatten(),
        )
    }

    async fn record_delivery_status(&self, status: &DeliveryStatus) -> Result<bool, StoreError> {
        self.record_status(status).await
    }

    async fn delivery_statuses(
        &self,
        delivery_ids: &[String],
    ) -> Result<Vec<DeliveryStatus>, StoreError> {
        self.statuses(delivery_ids).await
    }

    async fn list_events(
        &self,
        provider: Option<&str>,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<EventPage, StoreError> {
        let before = cursor
            .map(Cursor::event_position)
            .transpose()?
            .unwrap_or(i64::MAX);
        let limit = limit.clamp(1, MAX_PAGE);
        let mut rows = queries::list_events(&self.reader, provider, before, i64::from(limit) + 1)
            .await
            .map_err(|e| self.err(e))?;
        let next = decode::page_of(&mut rows, limit, |r| Cursor::after_event(r.seq));
        let events = rows
            .into_iter()
            .map(|r| decode::event_record(&self.location, r))
            .collect::<Result<_, StoreError>>()?;
        Ok(EventPage { events, next })
    }

    async fn list_runs(
        &self,
        filter: &RunFilter,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page, StoreError> {
        let before = cursor
            .map(Cursor::position)
            .transpose()?
            .unwrap_or(i64::MAX);
        let limit = limit.clamp(1, MAX_PAGE);
        let mut rows = queries::list_runs(
            &self.reader,
            filter.status.map(Status::as_str),
            filter.flow.as_deref(),
            before,
            i64::from(limit) + 1,
        )
        .await
        .map_err(|e| self.err(e))?;
        let next = decode::page_of(&mut rows, limit, |r| Cursor::after(r.seq));
        let runs = rows
            .into_iter()
            .map(|r| decode::summary(&self.location, r))
            .collect::<Result<_, _>>()?;
        Ok(Page { runs, next })
    }
}
