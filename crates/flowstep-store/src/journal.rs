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
pub struct StoreJournal<'a> {
    store: &'a dyn RunStore,
    claimed: &'a Claimed,
    last_error: Mutex<Option<StoreError>>,
}

impl<'a> StoreJournal<'a> {
    /// The journal of `claimed`, kept in `store`.
    pub fn new(store: &'a dyn RunStore, claimed: &'a Claimed) -> Self {
        StoreJournal {
            store,
            claimed,
            last_error: Mutex::new(None),
        }
    }

    /// The store error that stopped the run, if one did.
    pub fn last_error(&self) -> Option<StoreError> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn failed(&self, e: StoreError) -> JournalError {
        let message = e.to_string();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        JournalError(message)
    }
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
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError> {
        self.store
            .save(self.claimed, state)
            .await
            .map_err(|e| self.failed(e))
    }

    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError> {
        self.store
            .record_effect(self.claimed, state, effect)
            .await
            .map_err(|e| self.failed(e))
    }
}
