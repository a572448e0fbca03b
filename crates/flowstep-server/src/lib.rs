//! flowstep as a service: the runs API ([`api`]), the run loop that claims runs from a
//! [`RunStore`] and resumes them after a crash ([`Worker`]), the flows it serves
//! ([`FlowSet`]), the runs page at `/ui` and `GET /metrics` ([`metrics`]), and the webhook endpoints that record providers' signed events in the
//! store's event inbox ([`webhooks`] checks the signatures).
//!
//! [`Server::start`] binds the API and starts the run loop; the CLI's `flowstep serve` is a
//! thin wrapper around it, and an embedder can run the same server with its own store,
//! engine, secrets and channel. See docs/server.md for the API, the crash semantics and the
//! message-delivery policy.
//!
//! Invariants: **the server never stores a secret** (inputs are checked to be no secret's
//! value before a run is stored, and run state is redacted by the engine); **an accepted run
//! is never lost** (it is in the store before `201` is answered, and a run that a worker
//! drops is claimed again once its lease expires).

pub mod api;
mod flows;
mod listener;
pub mod metrics;
mod plans;
mod secrets;
mod server;
mod shutdown;
mod time;
mod timed_store;
mod token;
mod triggers;
mod ui;
pub mod webhooks;
mod worker;

pub use flows::{FlowSet, LoadError, LoadedFlow};
pub use secrets::{SecretSource, StaticSecrets};
pub use server::{DEFAULT_HEADER_TIMEOUT, Server, ServerConfig, ServerError};
pub use shutdown::Shutdown;
pub use token::{ApiToken, TokenError};
pub use worker::{Worker, WorkerConfig};

pub use flowstep_store::RunStore;
