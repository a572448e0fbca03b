//! [`Journal`]: where a run reports its progress so that it can be continued after a crash.
//! The engine does no I/O; the embedder (the server's run store) supplies the journal.

use crate::run_state::RunState;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Receives a run's state at each point it must survive a crash. Each call returns once what it
/// was given is durable; an error stops the run where it is (nothing more is sent), to be
/// resumed from the last state that was saved.
///
/// - [`Journal::checkpoint`]: when the run starts, after every step, and when it ends.
/// - [`Journal::effect`]: just before a side effect whose outcome must survive a crash (an
///   HTTP request, a message). A run resumed with that effect pending
///   ([`crate::Plan::resume`]) repeats a request that is safe to repeat (same idempotency key)
///   and does not repeat a message (see [`EffectKind::Message`]).
#[async_trait]
pub trait Journal: Send + Sync {
    /// The run's state at a step boundary.
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError>;

    /// A side effect is about to happen in the step at `state`'s cursor. `state` is the one
    /// handed to the last [`Journal::checkpoint`] (a step changes the state only once it is
    /// done), so a journal that saved that one need not save it again.
    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError>;
}

/// The journal of a run that need not survive a crash (the CLI's `run`): keeps nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJournal;

#[async_trait]
impl Journal for NoJournal {
    async fn checkpoint(&self, _: &RunState) -> Result<(), JournalError> {
        Ok(())
    }

    async fn effect(&self, _: &RunState, _: &Effect) -> Result<(), JournalError> {
        Ok(())
    }
}

/// Why a journal could not save (the store is unreachable or full).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the run's progress could not be saved: {0}")]
pub struct JournalError(pub String);

/// A side effect a step is about to cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    /// The step's path: its id, or `outer.inner` for a step of a flow a `flow` step uses.
    pub step: String,
    /// Which attempt of the step (1-based).
    pub attempt: u32,
    /// What it is.
    pub kind: EffectKind,
}

/// What a side effect is. No URL, header or body is kept: they may hold secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EffectKind {
    /// An HTTP request.
    Request {
        /// The method.
        method: String,
        /// The idempotency key sent with it, if any.
        idempotency_key: Option<String>,
        /// Whether sending it again is harmless: an idempotency key, or a method that is
        /// idempotent by definition (GET, HEAD, PUT, DELETE, OPTIONS).
        replay_safe: bool,
    },
    /// A message handed to the channel. The WhatsApp Cloud API takes no idempotency key, so a
    /// message whose hand-over was cut by a crash is **not sent again**: a duplicate payment
    /// link in a customer's chat is worse than one whose delivery is unknown. The run records
    /// it with `delivery_unknown: true`, and the operator can see it.
    Message,
}
