//! Runs compiled flowstep flows: variables, the [`Step`] plugin trait and its registry
//! ([`Engine`]), message [`Channel`]s, redaction, and the [`Outcome`] of a run.
//!
//! The engine knows no HTTP, prints nothing, and reads no files or environment: the embedder
//! registers step kinds (the `http` step lives in `flowstep-http`), supplies a channel, inputs
//! and secrets, and reads the outcome. Most programs depend on `flowstep-embed`, whose
//! `Engine::standard()` adds the http step and the bundled presets in one call.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use flowstep_engine::{Engine, RecordingChannel, RunRequest};
//!
//! let yaml = "flow: hello\ninputs:\n  name: { type: string }\nsteps:\n  - id: greet\n    type: message\n    text: Hello, <<name>>!\n";
//! let plan = Engine::new().compile_text("hello.yaml", yaml).unwrap();
//! let channel = RecordingChannel::new();
//! let outcome = plan.run(RunRequest::new().input("name", "Asha").channel(&channel)).await.unwrap();
//! assert_eq!(outcome.messages[0].text, "Hello, Asha!");
//! assert_eq!(channel.sent()[0].text, "Hello, Asha!");
//! # });
//! ```
//!
//! Every error type here implements [`std::error::Error`] (and is `Send + Sync + 'static`),
//! so `?` works in a `main` that returns `Box<dyn Error>` or `anyhow::Result`; those that
//! carry diagnostics ([`CompileError`], [`InputProblems`]) display them drawn with file, line
//! and caret.

mod canonical;
mod channel;
mod compile_error;
mod engine;
mod error;
mod flow_sources;
mod flow_step;
mod inputs;
mod journal;
mod loader;
mod message_content;
mod message_step;
mod outcome;
mod plan;
mod plugin_keys;
mod position;
pub mod redact;
mod run;
mod run_id;
mod run_state;
mod searcher_cache;
mod secret;
mod secret_forms;
mod set_step;
mod shared_rate_limiter;
mod step;
mod step_diagnostic;
mod step_fn;
mod wait;
mod wait_step;

pub use channel::{
    Channel, ChannelError, Delivery, DiscardChannel, OutgoingMessage, RecordingChannel,
};
pub use compile_error::CompileError;
pub use engine::Engine;
pub use error::{ErrorKind, HintNote, StepError};
pub use flow_sources::{FlowSources, FlowText, FlowUse, UsedFlows};
pub use inputs::{InputProblem, InputProblems, InputValue, resolve_inputs};
pub use journal::{Effect, EffectKind, Journal, JournalError, NoJournal};
pub use loader::FlowLoader;
pub use message_content::{MessageContent, ReplyButton};
pub use outcome::{MessageRecord, Outcome, RunStatus, StepRecord, StepStatus};
pub use plan::{DEFAULT_MAX_STEPS, Plan};
pub use plugin_keys::check_keys;
pub use position::SourcePos;
pub use redact::Redactor;
pub use run::{ResumeRequest, RunError, RunRequest, new_run_id};
pub use run_id::{MAX_RUN_ID_LEN, RunIdError, check_run_id};
pub use run_state::RunState;
pub use secret::Secret;
pub use shared_rate_limiter::SharedRateLimiter;
pub use step::{BoundSecret, RunMode, Step, StepContext, StepKind};
pub use step_fn::{StepFn, step_fn};
pub use wait::{WaitEvent, WaitFor, event_field_text, event_keys, wait_key};
