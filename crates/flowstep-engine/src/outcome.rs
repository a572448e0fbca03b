//! The result of a run: status, outputs, variables, messages and one record per step. Every
//! string in it has been redacted.

use crate::error::StepError;
use crate::message_content::MessageContent;
use crate::position::SourcePos;
use flowstep_spec::Diagnostic;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every step succeeded (or was skipped).
    Succeeded,
    /// A step failed.
    Failed,
    /// The run is suspended at a `wait` step until an event or its deadline
    /// ([`crate::RunState::waiting`]): it has not ended.
    Waiting,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// It did what it was asked.
    Succeeded,
    /// It failed; see its `error`.
    Failed,
    /// It did not run.
    Skipped,
}

/// A message a step sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The step that sent it, with the steps of the flows it is inside (`pay.send_link`).
    pub step: String,
    /// The text (for a template message, its name and filled parameters).
    pub text: String,
    /// What it carries besides its text (a link button, reply buttons, a template), left out
    /// for a plain text.
    #[serde(default, skip_serializing_if = "MessageContent::is_plain_text")]
    pub content: MessageContent,
    /// Who it went to, when the run named a recipient ([`crate::RunRequest::to`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The channel's id for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
    /// Whether it was handed to the channel: `false` in a dry run, which shows the message
    /// it would send.
    #[serde(default = "sent_by_default")]
    pub sent: bool,
    /// Whether it is unknown if the message went out: the run stopped (a crash, a kill) while
    /// it was being handed to the channel, and it was not sent again (see docs/server.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delivery_unknown: bool,
}

/// A record written before `sent` existed was of a message that was sent.
fn sent_by_default() -> bool {
    true
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// The step id.
    pub id: String,
    /// The step type.
    #[serde(rename = "type")]
    pub kind: String,
    /// How it ended.
    pub status: StepStatus,
    /// How many attempts it made.
    pub attempts: u32,
    /// How long it took.
    pub duration_ms: u64,
    /// Type-specific details (`request`, `response` for http steps).
    #[serde(flatten)]
    pub details: Map<String, Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

/// Read by hand rather than derived: the type-specific `details` sit beside the fixed fields
/// (`#[serde(flatten)]` when written), and serde's buffering for flattened fields would not
/// carry serde_json's exact numbers (serde-rs/json#505).
impl<'de> Deserialize<'de> for StepRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let mut take = |name: &str| fields.remove(name).unwrap_or(Value::Null);
        fn typed<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            v: Value,
            name: &str,
        ) -> Result<T, E> {
            serde_json::from_value(v).map_err(|e| E::custom(format!("`{name}`: {e}")))
        }
        let id = typed::<_, D::Error>(take("id"), "id")?;
        let kind = typed::<_, D::Error>(take("type"), "type")?;
        let status = typed::<_, D::Error>(take("status"), "status")?;
        let attempts = typed::<_, D::Error>(take("attempts"), "attempts")?;
        let duration_ms = typed::<_, D::Error>(take("duration_ms"), "duration_ms")?;
        let error = typed::<_, D::Error>(take("error"), "error")?;
        Ok(StepRecord {
            id,
            kind,
            status,
            attempts,
            duration_ms,
            error,
            details: fields,
        })
    }
}

/// The result of running a flow. It serialises to the document `flowstep run --output json`
/// prints and reads back from it (positions keep their file name, line and column, not the
/// file's text).
///
/// ```
/// use flowstep_engine::{Outcome, RunStatus};
///
/// let json = r#"{"flow": "pay", "run_id": "order-7", "status": "failed", "outputs": {},
///   "variables": {}, "messages": [{"step": "pay.send_link", "text": "Hi", "sent": false}],
///   "steps": [{"id": "charge", "type": "http", "status": "failed", "attempts": 1,
///     "duration_ms": 3, "request": {"method": "POST"},
///     "error": {"kind": "rejected", "message": "No such price", "http_status": 400,
///       "at": {"file": "pay.yaml", "line": 7, "column": 5}}}]}"#;
/// let outcome: Outcome = serde_json::from_str(json).unwrap();
/// assert_eq!(outcome.status, RunStatus::Failed);
/// let error = outcome.failed_step().unwrap().error.as_ref().unwrap();
/// assert_eq!(error.at.as_ref().unwrap().to_string(), "pay.yaml:7:5");
/// assert_eq!(outcome.steps[0].details["request"]["method"], "POST");
/// assert_eq!(serde_json::from_value::<Outcome>(outcome.to_json()).unwrap(), outcome);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The flow's name.
    pub flow: String,
    /// The run id (idempotency keys derive from it).
    pub run_id: String,
    /// How the run ended.
    pub status: RunStatus,
    /// The flow's `outputs`.
    pub outputs: Map<String, Value>,
    /// Inputs and every mapped variable, secrets redacted.
    pub variables: Map<String, Value>,
    /// Messages sent, in order.
    pub messages: Vec<MessageRecord>,
    /// One record per step that ran or was skipped.
    pub steps: Vec<StepRecord>,
    /// Why the run failed, when no single step's error says it: the step limit, or an
    /// output that could not be rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where that happened: the step that kept repeating, or the output's failing expression.
    /// Serialised as `{"file", "line", "column"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_at: Option<Box<SourcePos>>,
}

impl Outcome {
    /// The record of step `id`.
    pub fn step(&self, id: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The first failed step's record.
    pub fn failed_step(&self) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }

    /// The run's own failure (see [`Outcome::error`]) drawn like a check diagnostic,
    /// `error[run]: ...` with the line it points at, when there is one.
    pub fn render_error(&self) -> Option<String> {
        let message = self.error.as_ref()?;
        Some(match &self.error_at {
            Some(at) => Diagnostic::error("run", message, at.span).render(&at.file),
            None => format!("error[run]: {message}"),
        })
    }

    /// The outcome as one JSON object.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
