//! [`StoreJournal`]: the engine's [`Journal`] for a claimed run, writing each checkpoint and
//! effect to the run store under the claim, so that a worker hands it to `Plan::run_journaled`
//! or `Plan::resume`.

use crate::RunStore;
use crate::error::StoreError;
use crate::model::Claimed;
use async_trait::async_trait;
use flowstep_engine::{Effect, Journal, JournalError, RunState};
use std::sync::Mutex;

/// Saves a claimed run's checkpoints ([`RunStore::save`]) and effects
/// ([`RunStore::record_effect`]). A store error stops the run before the effect (the engine's
/// rule: nothing is sent that could not be recorded); [`StoreJournal::last_error`] says which,
/// so that the worker drops a run whose lease was lost and retries one whose store was
/// unavailable.
///
/// **A run's progress is written when something depends on it: with each side effect, and at
/// the end.** A checkpoint is not written when the engine hands it over; the next effect
/// ([`RunStore::record_effect`]) writes the state with the effect, in one write, and the
/// worker's [`RunStore::finish`] writes the outcome, which holds all of it. So before any
/// request or message leaves, everything the run did before it is durable; a crash loses at
/// most the steps since the last effect that caused none (they are taken again, causing none)
/// and the result of the last effect (which is then pending: a request is sent again with its
/// idempotency key, a message is not sent again), exactly as a crash inside that effect would.
/// Each write is a commit that waits for the disk, so this halves a run's writes.
/// [`StoreJournal::save_now`] writes a checkpoint at once (a worker stopping a run there).
pub struct StoreJournal<'a> {
    store: &'a dyn RunStore,
    claimed: &'a Claimed,
    /// Which state the store holds: its steps taken and whether it had ended; `None` when it
    /// holds none.
    saved: Mutex<Option<(usize, bool)>>,
    last_error: Mutex<Option<StoreError>>,
    /// Set when the run was parked at a wait, with whether an event woke it at once.
    parked: Mutex<Option<bool>>,
}

impl<'a> StoreJournal<'a> {
    /// The journal of `claimed`, kept in `store`.
    pub fn new(store: &'a dyn RunStore, claimed: &'a Claimed) -> Self {
        StoreJournal {
            store,
            claimed,
            saved: Mutex::new(claimed.state.as_ref().map(version)),
            last_error: Mutex::new(None),
            parked: Mutex::new(None),
        }
    }

    /// Whether the run was parked at a `wait` step ([`RunStore::register_wait`]): `Some(true)`
    /// when an event that came first woke it at once (it is queued again), `Some(false)` when
    /// it waits, `None` when it did not reach a wait.
    pub fn parked(&self) -> Option<bool> {
        *lock(&self.parked)
    }

    /// Writes `state` now (unless it is the state stored): what a worker that stops the run
    /// at this checkpoint does, so that it resumes from here.
    pub async fn save_now(&self, state: &RunState) -> Result<(), JournalError> {
        let version = version(state);
        if *lock(&self.saved) == Some(version) {
            return Ok(());
        }
        self.store
            .save(self.claimed, state)
            .await
            .map_err(|e| self.failed(e))?;
        *lock(&self.saved) = Some(version);
        Ok(())
    }

    /// The store error that stopped the run, if one did.
    pub fn last_error(&self) -> Option<StoreError> {
        lock(&self.last_error).clone()
    }

    fn failed(&self, e: StoreError) -> JournalError {
        let message = e.to_string();
        *lock(&self.last_error) = Some(e);
        JournalError(message)
    }
}

/// Which state `state` is: a step changes it only once done, and the end ends it.
fn version(state: &RunState) -> (usize, bool) {
    (state.steps_taken(), state.is_finished())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for StoreJournal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreJournal")
            .field("run_id", &self.claimed.run_id)
            .field("attempt", &self.claimed.attempt)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Journal for StoreJournal<'_> {
    /// Writes nothing, except at a `wait` step, where the run is parked
    /// ([`RunStore::register_wait`]): the next effect, or the run's end, writes what the run
    /// did since the last write (see [`StoreJournal`]).
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError> {
        if !state.is_suspended() {
            return Ok(());
        }
        let woke = self
            .store
            .register_wait(self.claimed, state)
            .await
            .map_err(|e| self.failed(e))?;
        *lock(&self.saved) = Some(version(state));
        *lock(&self.parked) = Some(woke);
        Ok(())
    }

    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError> {
        let version = version(state);
        let unchanged = *lock(&self.saved) == Some(version);
        self.store
            .record_effect(self.claimed, (!unchanged).then_some(state), effect)
            .await
            .map_err(|e| self.failed(e))?;
        *lock(&self.saved) = Some(version);
        Ok(())
    }
}
