//! Durable flowstep runs: the [`RunStore`] trait (create a run once, claim it under a lease,
//! checkpoint it, finish it, park it until an event), the inbox of events providers sent
//! ([`RunStore::record_event`]), the delivery statuses of the messages runs sent
//! ([`RunStore::record_delivery_status`]), and its backends: a SQLite file ([`sqlite`]) for one
//! server, a Postgres database ([`postgres`]) for many workers sharing the runs.
//!
//! A run is stored as what the engine hands its [`Journal`](flowstep_engine::Journal): the
//! [`RunState`] (JSON) and the side effect under way, beside the flow's source, the flows it
//! uses and their hash, and the run's inputs. **The store holds no secret**: a `RunState` holds none by construction
//! (variables, step records and messages are redacted before they enter it), and secrets are
//! handed to each resumed run afresh. See docs/store.md for the schema and the lease rules.
//!
//! A worker claims a run, resumes it with a [`StoreJournal`] (so every checkpoint and effect
//! is written to the store, fenced by the claim), and finishes it:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use flowstep_engine::{Engine, RunRequest, RunStatus};
//! use flowstep_store::{NewRun, RunStore, StoreJournal, sqlite::SqliteStore};
//! use std::time::Duration;
//!
//! let dir = std::env::temp_dir().join(format!("flowstep-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = SqliteStore::open(dir.join("runs.db")).await.unwrap();
//!
//! let yaml = "flow: hello\nsteps:\n  - id: greet\n    type: message\n    text: Hello!\n";
//! store.create_run(NewRun::new("order-1", "hello.yaml", "hello", yaml)).await.unwrap();
//!
//! // A worker: claim, compile the stored files (never the files on disk), run with the store
//! // as journal, finish.
//! let claimed = store.claim("worker-1", Duration::from_secs(30)).await.unwrap().unwrap();
//! let sources = claimed.sources().unwrap();
//! let plan = Engine::new().compile_sources(&sources).unwrap();
//! let journal = StoreJournal::new(&store, &claimed);
//! let request = RunRequest::new().run_id(&claimed.run_id);
//! let outcome = plan.run_journaled(request, &journal).await.unwrap();
//! store.finish(&claimed, &outcome).await.unwrap();
//!
//! let run = store.get_run("order-1").await.unwrap().unwrap();
//! assert_eq!(run.outcome.unwrap().status, RunStatus::Succeeded);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # });
//! ```

mod clock;
mod decode;
mod delivery;
mod error;
mod event;
mod journal;
#[cfg(test)]
mod migration_files;
mod model;
pub mod postgres;
mod rows;
pub mod sqlite;
mod verified;

pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::{DeliveryError, DeliveryState, DeliveryStatus};
pub use error::StoreError;
pub use event::{EVENT_RETENTION, EventPage, EventRecord, NewEvent, Recorded};
pub use journal::StoreJournal;
pub use model::{
    Claimed, Creation, Cursor, NewRun, Page, RunFilter, RunRecord, RunSummary, Status, flow_hash,
    sources_hash,
};

use async_trait::async_trait;
use flowstep_engine::{Effect, Outcome, RunState, SharedRateLimiter};
use std::sync::Arc;

use std::time::{Duration, SystemTime};

/// The most delivery ids [`RunStore::delivery_statuses`] looks up at once.
pub const MAX_DELIVERY_IDS: usize = 1000;

/// Where runs are kept between the steps a worker takes. Every method returns once what it
/// wrote is durable.
///
/// Writes a worker makes after [`RunStore::claim`] are **fenced**: they apply only while the run
/// is still `running` under the same attempt. A run claimed again by another worker (its lease
/// expired), cancelled or finished makes them fail with [`StoreError::LeaseLost`], and the
/// worker must drop the run.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Records a new run, `queued`. Run ids are unique: starting a run whose id is already
    /// stored creates nothing and returns the stored run ([`Creation::Existing`]), also when
    /// the two starts race.
    async fn create_run(&self, run: NewRun) -> Result<Creation, StoreError>;

    /// Claims one runnable run (the oldest that is `queued`, or `running` under a lease that
    /// has expired) for `worker_id` until `lease` from now: it becomes `running` and its
    /// attempt is counted up. `None` when no run is runnable.
    async fn claim(&self, worker_id: &str, lease: Duration) -> Result<Option<Claimed>, StoreError>;

    /// Claims up to `limit` runnable runs at once (oldest first), as [`RunStore::claim`]
    /// claims one, in one write: what a worker with several free slots does.
    async fn claim_many(
        &self,
        worker_id: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Extends the claim's lease to `lease` from now (fenced).
    async fn heartbeat(&self, claimed: &Claimed, lease: Duration) -> Result<(), StoreError>;

    /// Saves a checkpoint: the run's state at a step boundary. Clears the effect recorded
    /// before it (fenced).
    async fn save(&self, claimed: &Claimed, state: &RunState) -> Result<(), StoreError>;

    /// Records that `effect` is about to happen, with the state the run is in (fenced).
    /// `state` is `None` when the run's state is the one saved last (no step was taken since),
    /// so that it is not written again.
    async fn record_effect(
        &self,
        claimed: &Claimed,
        state: Option<&RunState>,
        effect: &Effect,
    ) -> Result<(), StoreError>;

    /// Ends the run with its outcome: `succeeded` or `failed`, as the outcome says (fenced).
    async fn finish(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError>;

    /// Ends the run `failed` for a reason no outcome holds: its stored flow no longer
    /// compiles, or its saved state cannot be resumed (fenced). The reason is
    /// [`RunRecord::error`].
    async fn fail(&self, claimed: &Claimed, reason: &str) -> Result<(), StoreError>;

    /// Hands the run back to the queue (`queued`, its state and pending effect kept), so that
    /// the next claim resumes it at once instead of after the lease expires: what a worker
    /// that shuts down does with the runs it could not bring to an end (fenced).
    async fn release(&self, claimed: &Claimed) -> Result<(), StoreError>;

    /// Parks the run at the wait its state is suspended at ([`RunState::waiting`]), in one
    /// write: saves `state`, makes the run `waiting` until its deadline and releases the
    /// lease (fenced). An event recorded earlier (within [`EVENT_RETENTION`], and after the
    /// run was created) that matches and woke no run wakes it at once: the run is `queued` again with the event
    /// ([`Claimed::event`]) and this returns `true`.
    async fn register_wait(&self, claimed: &Claimed, state: &RunState) -> Result<bool, StoreError>;

    /// Waiting runs whose deadline is `now` or earlier (earliest first, at most `limit`) are
    /// woken with [`WaitEvent::Timeout`](flowstep_engine::WaitEvent), in one write; returns
    /// their ids.
    async fn fire_timers(&self, now: SystemTime, limit: u32) -> Result<Vec<String>, StoreError>;

    /// Forgets the events received before `before` (see [`EVENT_RETENTION`]); returns how
    /// many.
    async fn prune_events(&self, before: SystemTime) -> Result<u64, StoreError>;

    /// Cancels a run that has not ended. A worker running it loses its lease at its next
    /// write. [`StoreError::NotFound`] for an unknown run, [`StoreError::Conflict`] for one
    /// that has ended.
    async fn cancel(&self, run_id: &str) -> Result<(), StoreError>;

    /// Queues a `failed` run again under the same run id, to be resumed where it failed: it
    /// keeps the state it failed in (the steps that succeeded stay done; a worker reopens the
    /// failed step with `RunState::reopen` and takes it again, so an `http` step sends the same
    /// idempotency key) and its attempt count, and its outcome, error and end time are
    /// cleared. A run the store failed for a reason (its flow no longer compiled, a secret was
    /// missing) resumes from its last checkpoint, or from its start if it had none.
    /// [`StoreError::NotFound`] for an unknown run, [`StoreError::Conflict`] for a run that is
    /// not `failed` (or that failed with an outcome but no stored state).
    async fn retry(&self, run_id: &str) -> Result<(), StoreError>;

    /// The run with this id, if any.
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// Whether the store can take work: it answers a read, and its last write did not fail
    /// for want of room or permission ([`StoreError::Unavailable`] until a write succeeds
    /// again). What a server's readiness check asks.
    async fn check_ready(&self) -> Result<(), StoreError>;

    /// How many runs match `filter` (for a runs page's totals, metrics and benches).
    async fn count_runs(&self, filter: &RunFilter) -> Result<u64, StoreError>;

    /// Records an event a provider sent (a verified webhook) in the event inbox, once:
    /// events are unique by `(provider, event_id)`, and recording one whose key is stored
    /// writes nothing and returns [`Recorded::Duplicate`], also when the two race. In the
    /// same write, the event wakes the run that has waited longest for it, if one does
    /// ([`Recorded::Inserted`] names it): each event wakes at most one run, once.
    ///
    /// `shapes` are the waits of the flows the caller serves ([`flowstep_engine::Plan::wait_shapes`]):
    /// the event is kept under a key for each, so that a run that reaches its wait later
    /// finds it ([`RunStore::register_wait`]). Returns once the event is durable.
    async fn record_event(
        &self,
        event: NewEvent,
        shapes: &[(String, Vec<String>)],
    ) -> Result<Recorded, StoreError>;

    /// The run event `(provider, event_id)` woke when it was recorded, if it woke one: what a
    /// re-delivered event did the first time.
    async fn event_woke(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Records a delivery status of a sent message, under its delivery id. The furthest
    /// status is kept ([`DeliveryState`]'s order: `sent` < `delivered` < `read` < `failed`):
    /// one that ranks above the stored one replaces it (with its time and error), any other
    /// (a late `delivered` after the `read`, a re-delivery) writes nothing. So statuses may
    /// arrive in any order and more than once. Returns whether it was stored.
    ///
    /// The store does not look for the run that sent the message: a status for a delivery
    /// id no run holds is kept and shows nowhere; a run's view looks its messages' statuses
    /// up ([`RunStore::delivery_statuses`]). Returns once it is durable.
    async fn record_delivery_status(&self, status: &DeliveryStatus) -> Result<bool, StoreError>;

    /// The statuses stored for these delivery ids, in no set order (an id with none is left
    /// out). At most [`MAX_DELIVERY_IDS`] ids at once ([`StoreError::Invalid`] for more).
    async fn delivery_statuses(
        &self,
        delivery_ids: &[String],
    ) -> Result<Vec<DeliveryStatus>, StoreError>;

    /// Events in the inbox, newest first (by when they were first recorded), only those of
    /// `provider` when given, at most `limit` (1 to 1000) per page; pass the page's
    /// [`EventPage::next`] as `cursor` for the next one.
    async fn list_events(
        &self,
        provider: Option<&str>,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<EventPage, StoreError>;

    /// Runs that match `filter`, newest first, at most `limit` (1 to 1000) per page; pass the
    /// page's [`Page::next`] as `cursor` for the next one. Runs created after the first page
    /// was read do not shift later pages.
    async fn list_runs(
        &self,
        filter: &RunFilter,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page, StoreError>;

    /// Returns when a run may have become runnable (a run started, woken by its event or
    /// deadline, or handed back, by this process or another sharing the store), or after `max`
    /// at the latest: what a worker that found nothing to claim waits on. It may return early
    /// with nothing runnable; a worker claims again either way.
    ///
    /// The SQLite store sleeps `max` (a worker then polls every `max`, and is woken sooner
    /// only by its own process); the Postgres store listens for the database's notifications.
    /// (No default, so that a store wrapping another must pass it on.)
    async fn wait_for_work(&self, max: Duration);

    /// Where the steps' per-host rate limits (`rate_limit:`) are held in common by every
    /// process sharing this store, when it can hold them: the Postgres store's database
    /// ([`postgres::PostgresRateLimits`]). `None` (SQLite's: one process per database file)
    /// leaves each process to its own limiter. (No default, so that a store wrapping another
    /// must pass it on.)
    fn shared_rate_limiter(&self) -> Option<Arc<dyn SharedRateLimiter>>;
}
