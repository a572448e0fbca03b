//! [`Worker`]: the run loop. It claims runnable runs from the store (at most
//! `max_concurrent_runs` at once), runs or resumes each with the store as its journal, keeps
//! its lease alive while it runs, and finishes it. On shutdown it stops claiming, lets each
//! run reach its next checkpoint, and hands back to the queue what it could not finish.

use crate::metrics::Metrics;
use crate::plans::Plans;
use crate::secrets::SecretSource;
use crate::shutdown::Shutdown;
use async_trait::async_trait;
use flowstep_engine::{
    Channel, Effect, Journal, JournalError, Redactor, ResumeRequest, RunError, RunMode, RunRequest,
    RunState, RunStatus,
};
use flowstep_store::{Claimed, RunStore, StoreError, StoreJournal};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

/// How often the run loop looks for waits whose deadline has passed: a deadline fires within
/// this of its time.
pub const TIMER_TICK: Duration = Duration::from_millis(250);

/// How often events past retention are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// How the run loop behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The name this worker claims runs under (shown in a run's `lease_owner`).
    pub worker_id: String,
    /// How many runs at once (1 or more); more runnable runs wait in the store.
    pub max_concurrent_runs: usize,
    /// How long a claim lasts without a heartbeat (renewed every third of it). A run held by a
    /// worker that died is claimed again by another once this passes.
    pub lease: Duration,
    /// How often to look for runnable runs when nothing wakes the loop (an expired lease; a
    /// run started by another process sharing a store that does not announce it: SQLite).
    pub poll_interval: Duration,
    /// How long a shutdown waits for runs to reach a checkpoint before it stops them where
    /// they are (they resume at the next start).
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            worker_id: default_worker_id(),
            max_concurrent_runs: 64,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// `HOST-PID-RANDOM`: unique per process, and says which machine and process held a run.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!(
        "{host}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

/// The run loop. Cheap to share: the API wakes it when a run is started.
pub struct Worker {
    store: Arc<dyn RunStore>,
    plans: Arc<Plans>,
    secrets: Arc<dyn SecretSource>,
    channel: Arc<dyn Channel>,
    redactor: Arc<Redactor>,
    config: WorkerConfig,
    wake: Notify,
    metrics: Arc<Metrics>,
}

impl Worker {
    pub(crate) fn new(
        store: Arc<dyn RunStore>,
        plans: Arc<Plans>,
        secrets: Arc<dyn SecretSource>,
        channel: Arc<dyn Channel>,
        redactor: Arc<Redactor>,
        mut config: WorkerConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        config.max_concurrent_runs = config.max_concurrent_runs.max(1);
        config.lease = config.lease.max(Duration::from_millis(300));
        Worker {
            store,
            plans,
            secrets,
            channel,
            redactor,
            config,
            wake: Notify::new(),
            metrics,
        }
    }

    /// Tells the loop a run may be runnable now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs the loop until `shutdown`, then brings the runs it holds to a checkpoint (at most
    /// `shutdown_grace`), hands back the rest, and returns.
    pub async fn run(self: Arc<Self>, shutdown: Shutdown) {
        let permits = Arc::new(Semaphore::new(self.config.max_concurrent_runs));
        let mut tasks = JoinSet::new();
        let timers = tokio::spawn(self.clone().fire_timers(shutdown.clone()));
        // Stops the runs still going when the grace period is over.
        let hard_stop = Shutdown::new();
        loop {
            // Reap finished runs so the set does not grow.
            while tasks.try_join_next().is_some() {}
            let first = tokio::select! {
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = shutdown.wait() => break,
            };
            // Every free slot is filled by one claim (one write to the store).
            let mut slots = vec![first];
            while let Ok(p) = permits.clone().try_acquire_owned() {
                slots.push(p);
            }
            let limit = u32::try_from(slots.len()).unwrap_or(u32::MAX);
            match self
                .store
                .claim_many(&self.config.worker_id, self.config.lease, limit)
                .await
            {
                Ok(claimed) if !claimed.is_empty() => {
                    let full = claimed.len() == slots.len();
                    for (claimed, permit) in claimed.into_iter().zip(slots.drain(..)) {
                        let worker = self.clone();
                        let (stop, hard) = (shutdown.clone(), hard_stop.clone());
                        // Every line logged about the run (the engine's, its steps') carries
                        // its id.
                        let span = tracing::info_span!("run", run_id = %claimed.run_id, flow = %claimed.flow_name);
                        tasks.spawn(
                            async move {
                                worker.run_claimed(claimed, permit, stop, hard).await;
                            }
                            .instrument(span),
                        );
                    }
                    // Slots left over are freed; a full claim may have left more runnable runs.
                    drop(slots);
                    if full {
                        continue;
                    }
                }
                Ok(_) => drop(slots),
                Err(e) => {
                    drop(slots);
                    tracing::warn!("cannot claim runs: {e}");
                }
            }
            // Nothing to claim: wait for this process's wake-up, the store's (a run made
            // runnable by another process sharing it: Postgres's NOTIFY) or the poll interval
            // (which also finds leases that expired).
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = self.store.wait_for_work(self.config.poll_interval) => {}
                _ = shutdown.wait() => break,
            }
        }
        let _ = timers.await;
        let in_flight = tasks.len();
        if in_flight > 0 {
            tracing::info!(
                "shutting down: waiting up to {:?} for {in_flight} run(s) to reach a checkpoint",
                self.config.shutdown_grace
            );
        }
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "shutdown grace over: stopping {} run(s) where they are; they resume at the next start",
                tasks.len()
            );
            hard_stop.trigger();
            while tasks.join_next().await.is_some() {}
        }
    }

    /// Wakes the runs whose wait's deadline has passed (checked every [`TIMER_TICK`]), and
    /// forgets events past retention (every [`PRUNE_EVERY`]), until `shutdown`.
    async fn fire_timers(self: Arc<Self>, shutdown: Shutdown) {
        let mut last_prune: Option<std::time::Instant> = None;
        loop {
            let now = std::time::SystemTime::now();
            match self.store.fire_timers(now, 256).await {
                Ok(woken) if !woken.is_empty() => {
                    for run_id in &woken {
                        tracing::info!(%run_id, "wait deadline passed; the run goes on");
                    }
                    self.wake();
                    // More may be due: look again at once.
                    if woken.len() == 256 {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot fire wait deadlines: {e}"),
            }
            if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(std::time::Instant::now());
                match self
                    .store
                    .prune_events(now - flowstep_store::EVENT_RETENTION)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("forgot {n} event(s) received more than 7 days ago"),
                    Err(e) => tracing::warn!("cannot forget old events: {e}"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(TIMER_TICK) => {}
                _ = shutdown.wait() => return,
            }
        }
    }

    /// Runs one claimed run to its end, a checkpoint at shutdown, or the loss of its lease,
    /// in the slot `permit` holds.
    async fn run_claimed(
        &self,
        claimed: Claimed,
        permit: OwnedSemaphorePermit,
        stop: Shutdown,
        hard_stop: Shutdown,
    ) {
        let run_id = claimed.run_id.clone();
        tracing::info!(
            %run_id,
            attempt = claimed.attempt,
            resumed = claimed.state.is_some(),
            "run claimed"
        );
        let journal = ServerJournal {
            inner: StoreJournal::new(&*self.store, &claimed),
            stop: stop.clone(),
            run_id: &claimed.run_id,
            failed: Mutex::new(None),
        };
        // The steps recorded before this claim were counted by the claim that took them (a
        // retried run's failed step is taken again, its record replaced).
        let steps_before = claimed.state.as_ref().map_or(0, |s| match s.is_finished() {
            true => s.records().len().saturating_sub(1),
            false => s.records().len(),
        });
        let result = tokio::select! {
            r = self.execute(&claimed, &journal) => Some(r),
            lost = self.keep_lease(&claimed) => {
                tracing::warn!(%run_id, "run dropped: {lost}");
                return;
            }
            _ = hard_stop.wait() => None,
        };
        // The run does nothing more but have its end written: its slot is free for the next
        // run, whose claim then shares a commit with this write.
        drop(permit);
        if let Some(Ok(Ended::Finished(outcome))) = &result {
            self.metrics
                .steps_taken(outcome.steps.get(steps_before..).unwrap_or_default());
        }
        let store = &*self.store;
        let written = match result {
            None => store.release(&claimed).await,
            // Parked at a wait by the journal; an event that came first queued it again.
            Some(Ok(Ended::Finished(outcome))) if outcome.status == RunStatus::Waiting => {
                match journal.inner.parked() {
                    Some(true) => {
                        self.wake();
                        Ok(())
                    }
                    Some(false) => Ok(()),
                    None => store.release(&claimed).await,
                }
            }
            Some(Ok(Ended::Finished(outcome))) => {
                // A failed run keeps the state it failed in, for a retry to resume from
                // (`RunStore::retry`).
                let failed_state = journal
                    .failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                let saved = match failed_state {
                    Some(state) if outcome.status == RunStatus::Failed => {
                        store.save(&claimed, &state).await
                    }
                    _ => Ok(()),
                };
                let written = match saved {
                    Ok(()) => store.finish(&claimed, &outcome).await,
                    Err(e) => Err(e),
                };
                if written.is_ok() {
                    let status = match outcome.status {
                        RunStatus::Succeeded => "succeeded",
                        _ => "failed",
                    };
                    self.metrics.run_finished(&claimed.flow_name, status);
                }
                written
            }
            Some(Ok(Ended::Refused(reason))) => {
                tracing::warn!(%run_id, "run failed: {reason}");
                self.fail(&claimed, &reason).await
            }
            Some(Err(RunError::Journal(e))) => match journal.inner.last_error() {
                Some(StoreError::LeaseLost { reason, .. }) => {
                    tracing::info!(%run_id, "run dropped: {reason}");
                    Ok(())
                }
                // The store could not be written: the run stays claimed until its lease
                // expires, and is then resumed from its last checkpoint.
                Some(other) => {
                    tracing::warn!(%run_id, "run paused, the store failed: {other}");
                    Ok(())
                }
                // The server is shutting down and the run reached a checkpoint.
                None => {
                    tracing::debug!(%run_id, "{e}");
                    store.release(&claimed).await
                }
            },
            Some(Err(e)) => {
                let reason = e.to_string();
                tracing::warn!(%run_id, "run failed: {reason}");
                self.fail(&claimed, &reason).await
            }
        };
        if let Err(e) = written {
            tracing::warn!(%run_id, "the run's end could not be stored: {e}");
        }
    }

    /// Ends the run `failed` for `reason`, counted.
    async fn fail(&self, claimed: &Claimed, reason: &str) -> Result<(), StoreError> {
        let written = self.store.fail(claimed, reason).await;
        if written.is_ok() {
            self.metrics.run_finished(&claimed.flow_name, "failed");
        }
        written
    }

    /// Runs or resumes the claimed run.
    async fn execute(&self, claimed: &Claimed, journal: &dyn Journal) -> Result<Ended, RunError> {
        let plan = match self.plans.for_run(claimed) {
            Ok(plan) => plan,
            Err(e) => {
                return Ok(Ended::Refused(format!(
                    "the run's flow ({}) no longer compiles:\n{e}",
                    claimed.flow_file
                )));
            }
        };
        let mut secrets = BTreeMap::new();
        let mut missing = Vec::new();
        for name in plan.required_secrets() {
            match self.secrets.secret(name) {
                Some(value) => {
                    secrets.insert(name.clone(), value);
                }
                None => missing.push(format!(
                    "missing secret {name}: {}",
                    self.secrets.how_to_set(name)
                )),
            }
        }
        if !missing.is_empty() {
            return Ok(Ended::Refused(missing.join("\n")));
        }
        let outcome = match &claimed.state {
            None => {
                let request = RunRequest {
                    inputs: claimed.inputs.clone(),
                    secrets,
                    run_id: Some(claimed.run_id.clone()),
                    mode: RunMode::Live,
                    channel: &*self.channel,
                    recipient: claimed.recipient.clone(),
                    redactor: self.redactor.clone(),
                };
                plan.run_journaled(request, journal).await?
            }
            Some(state) => {
                let mut state = state.clone();
                // A failed run that was retried: its failed step is taken again.
                if state.is_finished()
                    && let Err(e) = state.reopen()
                {
                    return Ok(Ended::Refused(e));
                }
                if let Some(event) = &claimed.event
                    && let Err(e) = state.deliver(event.clone())
                {
                    tracing::warn!(run_id = %claimed.run_id, "the event that woke the run is not for it: {e}");
                }
                let request = ResumeRequest {
                    state,
                    pending: claimed.pending.clone(),
                    secrets,
                    mode: RunMode::Live,
                    channel: &*self.channel,
                    recipient: claimed.recipient.clone(),
                    redactor: self.redactor.clone(),
                };
                plan.resume(request, journal).await?
            }
        };
        Ok(Ended::Finished(Box::new(outcome)))
    }

    /// Renews the lease every third of it; returns when it is lost (the run was cancelled or
    /// claimed by another worker), which ends the run here.
    async fn keep_lease(&self, claimed: &Claimed) -> String {
        let every = self.config.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            match self.store.heartbeat(claimed, self.config.lease).await {
                Ok(()) => {}
                Err(StoreError::LeaseLost { reason, .. }) => return reason,
                Err(e) => tracing::warn!(run_id = %claimed.run_id, "cannot renew the lease: {e}"),
            }
        }
    }
}

/// How a run the worker held ended.
enum Ended {
    /// With an outcome (succeeded or failed).
    Finished(Box<flowstep_engine::Outcome>),
    /// Before it could run: its flow does not compile, a secret is missing.
    Refused(String),
}

/// The store's journal, which also stops a run at its next checkpoint once the server is
/// shutting down (a run that has ended is let through, so its outcome is kept).
struct ServerJournal<'a> {
    inner: StoreJournal<'a>,
    stop: Shutdown,
    /// The run's id.
    run_id: &'a str,
    /// The run's state when it failed (saved with its end, for a retry).
    failed: Mutex<Option<RunState>>,
}

#[async_trait]
impl Journal for ServerJournal<'_> {
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError> {
        // The run's own state, not a nested flow's (those have their own run ids).
        if state.is_finished() && state.status() == RunStatus::Failed && state.run_id == self.run_id
        {
            *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(state.clone());
        }
        // A run at its wait is parked, shutting down or not.
        if self.stop.is_triggered() && !state.is_finished() && !state.is_suspended() {
            // Stopped here, the run resumes from here.
            self.inner.save_now(state).await?;
            return Err(JournalError("the server is shutting down".into()));
        }
        self.inner.checkpoint(state).await
    }

    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError> {
        // Nothing is sent once the server is stopping: the run resumes from its last
        // checkpoint at the next start.
        if self.stop.is_triggered() {
            return Err(JournalError("the server is shutting down".into()));
        }
        self.inner.effect(state, effect).await
    }
}
