//! The run store in a Postgres database: [`PostgresStore`], shared by many worker processes.
//! Every statement is in `queries`; claims take runnable runs with `FOR UPDATE SKIP LOCKED`
//! under a lease with expiry and attempt fencing, as the SQLite store's do; events and waits
//! meet under advisory locks (`waits`); workers wake on LISTEN/NOTIFY (`listen`). See
//! docs/store.md for the schema and docs/server.md for running many workers on one database.

mod deliveries;
mod errors;
mod listen;
mod open;
mod options;
mod queries;
mod rate_limits;
mod waits;

pub use options::PostgresOptions;
pub use rate_limits::PostgresRateLimits;

use crate::RunStore;
use crate::clock::Clock;
use crate::decode::{self, millis, time};
use crate::delivery::DeliveryStatus;
use crate::error::StoreError;
use crate::event::{EventPage, NewEvent, Recorded};
use crate::model::{Claimed, Creation, Cursor, NewRun, Page, RunFilter, RunRecord, Status};
use crate::rows::ClaimRow;
use crate::verified::VerifiedFlows;
use async_trait::async_trait;
use flowstep_engine::{Effect, Outcome, RunState, RunStatus, UsedFlows, WaitEvent};
use listen::WorkListener;
use queries::{Fence, NewRunRow};
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgQueryResult;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The most runs one page lists.
const MAX_PAGE: u32 = 1000;

/// More flows than this in a cache and it starts again (flows edited many times).
const MAX_FLOWS: usize = 256;

/// A stored flow: its source and the flows it uses.
#[derive(Debug)]
struct FlowSources {
    source: String,
    used: Option<UsedFlows>,
}

/// A run store in a Postgres database, shared by every worker of a process (cheap to clone:
/// the clones share the pool) and by every process given the same database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Flow sources read back for claims, by hash (a hash names one source for good).
    sources: Arc<Mutex<HashMap<String, Arc<FlowSources>>>>,
    /// Flows whose hash `create_run` checked.
    verified: Arc<VerifiedFlows>,
    /// Flow hashes known to be stored (with the same files): a run of one is inserted without
    /// storing its flow again.
    stored_flows: Arc<Mutex<HashSet<String>>>,
    /// The LISTEN connection, started by the first `wait_for_work`.
    listener: Arc<tokio::sync::Mutex<Option<WorkListener>>>,
    clock: Arc<dyn Clock>,
    location: Arc<str>,
}

impl PostgresStore {
    /// Opens the store in the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`,
    /// with libpq's options such as `?sslmode=require`), bringing its schema up to date. Refused,
    /// with the server and database named (never the password): a server that cannot be
    /// reached or refuses the login, a missing database ([`StoreError::Unavailable`]), a database
    /// with tables of another program ([`StoreError::Corrupt`]), a schema newer than this build
    /// knows ([`StoreError::NewerSchema`]).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PostgresOptions::default()).await
    }

    /// [`PostgresStore::open`] with `options`.
    pub async fn open_with(url: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let location: Arc<str> = errors::shown_url(url).into();
        let pool = open::open(url, &location, &options).await?;
        tracing::debug!(store = %location, "run store opened");
        Ok(PostgresStore {
            pool,
            sources: Arc::default(),
            verified: Arc::default(),
            stored_flows: Arc::default(),
            listener: Arc::default(),
            clock: options.clock,
            location,
        })
    }

    /// The store's database, as errors name it (`postgres://USER@HOST:PORT/DB`, no password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The steps' per-host rate limits, held in this database for every worker sharing it.
    pub fn rate_limits(&self) -> PostgresRateLimits {
        PostgresRateLimits {
            pool: self.pool.clone(),
        }
    }

    /// The newest schema version this build of the store knows.
    pub fn schema_version() -> i64 {
        open::known_version()
    }

    /// Stops listening and closes the connections, waiting for the queries under way.
    pub async fn close(&self) {
        self.listener.lock().await.take();
        self.pool.close().await;
    }

    fn now(&self) -> i64 {
        millis(self.clock.now())
    }

    fn err(&self, e: sqlx::Error) -> StoreError {
        errors::store_error(&self.location, e)
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

    /// The result of a fenced write: no row changed means the claim is no longer the run's.
    async fn fenced_rows(
        &self,
        claimed: &Claimed,
        rows: Result<u64, StoreError>,
    ) -> Result<(), StoreError> {
        if rows? > 0 {
            return Ok(());
        }
        let reason = match queries::select_holder(&self.pool, &claimed.run_id).await {
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

    /// A fenced write's result, as [`PostgresStore::fenced_rows`] reads it.
    async fn fenced(
        &self,
        claimed: &Claimed,
        result: sqlx::Result<PgQueryResult>,
    ) -> Result<(), StoreError> {
        let rows = result.map(|r| r.rows_affected()).map_err(|e| self.err(e));
        self.fenced_rows(claimed, rows).await
    }

    fn lease_end(&self, now: i64, lease: Duration) -> i64 {
        now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
    }

    /// A claimed row, with its flow's source, decoded; a run that cannot be read back is
    /// marked failed.
    async fn claimed_from(
        &self,
        row: ClaimRow,
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

    /// The source of the flow stored under `hash` and the flows it uses, read once per process.
    async fn flow_sources(&self, hash: &str, run_id: &str) -> Result<Arc<FlowSources>, StoreError> {
        let lock = || self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = lock().get(hash) {
            return Ok(found.clone());
        }
        let loc = &*self.location;
        let (source, used_json) = match queries::select_flow_source(&self.pool, hash).await {
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
        let mut sources = lock();
        if sources.len() >= MAX_FLOWS {
            sources.clear();
        }
        sources.insert(hash.to_owned(), found.clone());
        Ok(found)
    }

    /// Ends a claimed run that cannot be read back, so that it does not come back to every
    /// worker that claims.
    async fn fail_unreadable(&self, fence: Fence<'_>, error: StoreError) -> StoreError {
        let reason = format!("the store could not read the run back: {error}");
        let now = self.now();
        if let Err(e) = queries::finish(&self.pool, fence, "failed", None, Some(&reason), now).await
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

    /// Stores the run's flow (once per hash) and the run, in one transaction: whether the run
    /// was inserted (`false`: its id is taken).
    async fn insert(
        &self,
        run: &NewRun,
        used_json: &str,
        inputs_json: &str,
    ) -> Result<bool, StoreError> {
        let sql = |e| self.err(e);
        let now = self.now();
        let row = NewRunRow {
            run_id: &run.run_id,
            flow_file: &run.flow_file,
            flow_name: &run.flow_name,
            flow_hash: &run.flow_hash,
            inputs_json,
            recipient: run.recipient.as_deref(),
            now,
        };
        let known = self
            .stored_flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&run.flow_hash);
        if known {
            return queries::insert_run(&self.pool, row).await.map_err(sql);
        }
        let mut tx = self.pool.begin().await.map_err(sql)?;
        queries::insert_flow(&mut *tx, &run.flow_hash, &run.flow_source, used_json, now)
            .await
            .map_err(sql)?;
        let stored = queries::select_flow_source(&mut *tx, &run.flow_hash)
            .await
            .map_err(sql)?;
        let same = stored.as_ref().is_some_and(|(source, used)| {
            *source == run.flow_source && used.as_deref() == Some(used_json)
        });
        if !same {
            return Err(StoreError::Conflict(format!(
                "the run store {} holds another flow source under hash `{}`",
                self.location, run.flow_hash
            )));
        }
        let inserted = queries::insert_run(&mut *tx, row).await.map_err(sql)?;
        tx.commit().await.map_err(sql)?;
        let mut flows = self.stored_flows.lock().unwrap_or_else(|p| p.into_inner());
        if flows.len() >= MAX_FLOWS {
            flows.clear();
        }
        flows.insert(run.flow_hash.clone());
        Ok(inserted)
    }
}

fn fence(claimed: &Claimed) -> Fence<'_> {
    Fence {
        run_id: &claimed.run_id,
        attempt: i64::from(claimed.attempt),
    }
}

#[async_trait]
impl RunStore for PostgresStore {
    fn shared_rate_limiter(&self) -> Option<Arc<dyn flowstep_engine::SharedRateLimiter>> {
        Some(Arc::new(self.rate_limits()))
    }

    async fn create_run(&self, run: NewRun) -> Result<Creation, StoreError> {
        flowstep_engine::check_run_id(&run.run_id)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let used_json = self.verified.check(&run)?;
        let inputs_json = self.to_json("the run's inputs", &run.inputs)?;
        if self.insert(&run, &used_json, &inputs_json).await? {
            tracing::debug!(run_id = %run.run_id, flow = %run.flow_name, "run created");
            return Ok(Creation::Created);
        }
        // The id was taken: the run stored under it (committed: an insert that met it waited
        // for its transaction).
        match queries::select_run(&self.pool, &run.run_id)
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
        let rows = queries::claim(&self.pool, worker_id, expires, now, limit)
            .await
            .map_err(|e| self.err(e))?;
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
        let result = queries::heartbeat(&self.pool, fence(claimed), expires, now).await;
        self.fenced(claimed, result).await
    }

    async fn save(&self, claimed: &Claimed, state: &RunState) -> Result<(), StoreError> {
        self.check_state(claimed, state)?;
        let state_json = self.to_json("the run's state", state)?;
        let result = queries::save(&self.pool, fence(claimed), &state_json, self.now()).await;
        self.fenced(claimed, result).await
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
        let result = queries::record_effect(
            &self.pool,
            fence(claimed),
            state_json.as_deref(),
            &effect_json,
            self.now(),
        )
        .await;
        self.fenced(claimed, result).await
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
        let result = queries::finish(
            &self.pool,
            fence(claimed),
            status.as_str(),
            Some(&outcome_json),
            None,
            self.now(),
        )
        .await;
        self.fenced(claimed, result).await?;
        tracing::debug!(run_id = %claimed.run_id, %status, "run finished");
        Ok(())
    }

    async fn fail(&self, claimed: &Claimed, reason: &str) -> Result<(), StoreError> {
        let result = queries::finish(
            &self.pool,
            fence(claimed),
            Status::Failed.as_str(),
            None,
            Some(reason),
            self.now(),
        )
        .await;
        self.fenced(claimed, result).await?;
        tracing::debug!(run_id = %claimed.run_id, "run failed: {reason}");
        Ok(())
    }

    async fn release(&self, claimed: &Claimed) -> Result<(), StoreError> {
        let result = queries::release(&self.pool, fence(claimed), self.now()).await;
        self.fenced(claimed, result).await?;
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
        let sql = |e| self.err(e);
        let now = self.now();
        let mut tx = self.pool.begin().await.map_err(sql)?;
        if queries::cancel(&mut *tx, run_id, now).await.map_err(sql)? {
            // What it waited for goes too (a wait whose run is not waiting wakes nothing).
            queries::delete_waits(&mut *tx, run_id).await.map_err(sql)?;
            tx.commit().await.map_err(sql)?;
            tracing::debug!(%run_id, "run cancelled");
            return Ok(());
        }
        drop(tx);
        match queries::select_holder(&self.pool, run_id)
            .await
            .map_err(sql)?
        {
            None => Err(StoreError::NotFound(run_id.to_owned())),
            Some(h) => Err(StoreError::Conflict(format!(
                "run `{run_id}` has ended ({}); only a queued, running or waiting run can be cancelled",
                h.status
            ))),
        }
    }

    async fn retry(&self, run_id: &str) -> Result<(), StoreError> {
        let sql = |e| self.err(e);
        if queries::retry(&self.pool, run_id, self.now())
            .await
            .map_err(sql)?
        {
            tracing::debug!(%run_id, "failed run queued again");
            return Ok(());
        }
        match queries::select_holder(&self.pool, run_id)
            .await
            .map_err(sql)?
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
        queries::select_run(&self.pool, run_id)
            .await
            .map_err(|e| self.err(e))?
            .map(|row| decode::run_record(&self.location, row))
            .transpose()
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        queries::check_ready(&self.pool)
            .await
            .map_err(|e| self.err(e))
    }

    async fn count_runs(&self, filter: &RunFilter) -> Result<u64, StoreError> {
        let n = queries::count_runs(
            &self.pool,
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
            queries::select_event_delivered_to(&self.pool, provider, event_id)
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
        let mut rows = queries::list_events(&self.pool, provider, before, i64::from(limit) + 1)
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
            &self.pool,
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

    /// Waits on the `flowstep_work` channel (LISTEN, on a connection of its own started by the
    /// first call) for a run to become runnable, at most `max`.
    async fn wait_for_work(&self, max: Duration) {
        let work = {
            let mut listener = self.listener.lock().await;
            if listener.is_none() {
                match WorkListener::start(&self.pool, &self.location).await {
                    Ok(l) => *listener = Some(l),
                    Err(e) => tracing::warn!("cannot listen for work, polling instead: {e}"),
                }
            }
            listener.as_ref().map(|l| l.work.clone())
        };
        match work {
            Some(work) => {
                let _ = tokio::time::timeout(max, work.notified()).await;
            }
            None => tokio::time::sleep(max).await,
        }
    }
}
