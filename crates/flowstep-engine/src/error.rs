//! Why a step failed, in terms a flow can act on.

use crate::position::SourcePos;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a step failure. A flow branches on it (`<<steps.ID.error.kind>>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The API answered with a 4xx: the request was refused and nothing happened.
    Rejected,
    /// A 5xx or no connection, after every retry: nothing is known to have happened; safe to
    /// try again later (with the same idempotency key).
    Transient,
    /// The request was sent and no answer came: it may have taken effect.
    Unknown,
    /// The request could not be built (bad header, secret for the wrong host, mapping failed).
    Invalid,
    /// The step ran out of time.
    Timeout,
}

impl ErrorKind {
    /// The kind as written in flows and reports (`rejected`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Rejected => "rejected",
            ErrorKind::Transient => "transient",
            ErrorKind::Unknown => "unknown",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Timeout => "timeout",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed step: the kind, a message, what the API said where it said something, and where in
/// which flow file it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What went wrong, for a person.
    pub message: String,
    /// The HTTP status, when there was a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The API's error code (Stripe: `parameter_missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The API's error type (Stripe: `invalid_request_error`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub api_type: Option<String>,
    /// The parameter the API complained about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The matching hint from the step's `hints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Box<HintNote>>,
    /// Where it failed: the failing template expression, else the failing step. The run fills
    /// it in for a step that did not; the message never repeats it. Boxed, like `hint`, so that
    /// a `StepError` stays small as the error of a `Result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Box<SourcePos>>,
}

/// A hint that matched a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HintNote {
    /// The likely cause.
    pub cause: String,
    /// What to do.
    pub fix: String,
}

impl StepError {
    /// A failure of `kind` with a message. What the message quotes between backticks (an
    /// expression, a name) is cut to its start and size past 60 characters, as a diagnostic's
    /// is (see [`flowstep_spec::shown::shown_code_spans`]).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = match flowstep_spec::shown::shown_code_spans(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(cut) => cut,
        };
        StepError {
            kind,
            message,
            http_status: None,
            code: None,
            api_type: None,
            param: None,
            hint: None,
            at: None,
        }
    }

    /// An `invalid` failure: the step could not even be attempted.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    /// The same failure, placed at `at`.
    pub fn located_at(mut self, at: SourcePos) -> Self {
        self.at = Some(Box::new(at));
        self
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for StepError {}
