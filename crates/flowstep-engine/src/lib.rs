//! Runs compiled flowstep flows: variables, the [`Step`] plugin trait and its registry
//! ([`Engine`]), message [`Channel`]s, redaction, and the [`Outcome`] of a run.
//!
//! The engine knows no HTTP, prints nothing, and reads no files or environment: the embedder
//! registers step kinds (the `http` step lives in `flowstep-http`), supplies a channel, inputs
//! and secrets, and reads the outcome.
//!
//! ```
//! # tokio_test();
//! # fn tokio_test() { tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use flowstep_engine::{Engine, RecordingChannel, Redactor, RunMode, RunRequest, resolve_inputs, InputValue};
//! use flowstep_spec::{SourceFile, read_flow};
//! use std::sync::Arc;
//!
//! let yaml = "flow: hello\ninputs:\n  name: { type: string }\nsteps:\n  - id: greet\n    type: message\n    text: Hello, <<name>>!\n";
//! let flow = read_flow(SourceFile::new("hello.yaml", yaml)).unwrap();
//! let inputs = resolve_inputs(&flow, vec![("name".into(), InputValue::Text("Asha".into()))]).unwrap();
//! let plan = Engine::new().compile(flow).unwrap();
//! let channel = RecordingChannel::new();
//! let outcome = plan.run(RunRequest {
//!     inputs, secrets: Default::default(), run_id: None, mode: RunMode::Live,
//!     channel: &channel, redactor: Arc::new(Redactor::new()),
//! }).await.unwrap();
//! assert_eq!(outcome.messages[0].text, "Hello, Asha!");
//! # }); }
//! ```

mod canonical;
mod channel;
mod engine;
mod error;
mod flow_step;
mod inputs;
mod journal;
mod loader;
mod message_step;
mod outcome;
mod plan;
mod position;
pub mod redact;
mod run;
mod run_id;
mod run_state;
mod secret;
mod secret_forms;
mod set_step;
mod step;
mod step_diagnostic;

pub use channel::{Channel, ChannelError, Delivery, OutgoingMessage, RecordingChannel};
pub use engine::Engine;
pub use error::{ErrorKind, HintNote, StepError};
pub use inputs::{InputProblem, InputValue, resolve_inputs};
pub use journal::{Effect, EffectKind, Journal, JournalError, NoJournal};
pub use loader::FlowLoader;
pub use outcome::{MessageRecord, Outcome, RunStatus, StepRecord, StepStatus};
pub use plan::{DEFAULT_MAX_STEPS, Plan};
pub use position::SourcePos;
pub use redact::Redactor;
pub use run::{ResumeRequest, RunError, RunRequest, new_run_id};
pub use run_id::{MAX_RUN_ID_LEN, RunIdError, check_run_id};
pub use run_state::RunState;
pub use secret::Secret;
pub use step::{BoundSecret, RunMode, Step, StepContext, StepKind};
