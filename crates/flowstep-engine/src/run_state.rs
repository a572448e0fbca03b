//! [`RunState`]: everything a run has done so far, as one value that is cheap to read while the
//! run goes on and serialisable so that a run can be saved and continued.

use crate::outcome::{MessageRecord, Outcome, RunStatus, StepRecord};
use crate::position::SourcePos;
use crate::wait::{WaitEvent, WaitFor};
use flowstep_spec::{Flow, Scope, SourceFile};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A run in progress (or finished): where it is, what it has read and set, what each step did,
/// the messages sent. It holds no secret: variables, step records and messages are redacted
/// before they enter it, and secrets are handed to each run (or resumed run) afresh.
///
/// The variables live in the template [`Scope`] itself (inputs and set variables at the top,
/// `steps` and `run` beside them), changed in place after each step: reading them costs
/// nothing, and nothing is copied per step.
///
/// Serialised as JSON by [`crate::Journal`]s; the positions in it (`error.at`) are written as
/// file, line and column and found again in the plan's files by [`crate::Plan::resume`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    /// The run id (idempotency keys derive from it).
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// The index of the next step to run.
    pub(crate) cursor: usize,
    /// How many steps have run, counting repeats (bounded by the plan's step limit).
    pub(crate) executed: usize,
    /// How many times each step has run.
    pub(crate) runs_of: Vec<usize>,
    /// Variables, `steps` and `run`.
    #[serde(serialize_with = "scope_out", deserialize_with = "scope_in")]
    pub(crate) scope: Scope,
    /// One record per step that ran or was skipped.
    pub(crate) records: Vec<StepRecord>,
    /// Messages sent, in order.
    pub(crate) messages: Vec<MessageRecord>,
    /// Succeeded so far, or failed.
    pub(crate) status: RunStatus,
    /// Whether the run has ended (every step done, a failure, or the step limit).
    pub(crate) finished: bool,
    /// The run's own failure (the step limit, an output), when no step's error says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// Where that happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_at: Option<Box<SourcePos>>,
    /// The flow's outputs, once it has finished.
    #[serde(default)]
    pub(crate) outputs: Map<String, Value>,
    /// In a dry run: the variables that stand in for what only a live run would know, with
    /// what each depends on ("the response of `create_session`").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) dry_pending: BTreeMap<String, String>,
    /// In a dry run: the steps shown once because their `when:` read such a variable.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub(crate) undecided_shown: BTreeSet<usize>,
    /// At a `wait` step: what the run waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) waiting: Option<WaitFor>,
    /// What ended the wait of the step named first, until that step has taken it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delivered: Option<(String, WaitEvent)>,
}

fn scope_out<S: Serializer>(scope: &Scope, s: S) -> Result<S::Ok, S::Error> {
    scope.value().serialize(s)
}

fn scope_in<'de, D: Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
    Value::deserialize(d).map(Scope::new)
}

impl RunState {
    /// A run of `flow` about to take its first step.
    pub(crate) fn new(flow: &Flow, run_id: String, inputs: Map<String, Value>) -> Self {
        let mut variables = inputs;
        variables.insert("steps".into(), Value::Object(Map::new()));
        variables.insert("run".into(), json!({ "id": run_id }));
        RunState {
            flow: flow.name.value.clone(),
            run_id,
            cursor: 0,
            executed: 0,
            runs_of: vec![0; flow.steps.len()],
            scope: Scope::new(Value::Object(variables)),
            records: Vec::new(),
            messages: Vec::new(),
            status: RunStatus::Succeeded,
            finished: false,
            error: None,
            error_at: None,
            outputs: Map::new(),
            dry_pending: BTreeMap::new(),
            undecided_shown: BTreeSet::new(),
            waiting: None,
            delivered: None,
        }
    }

    /// Whether the run is suspended at a `wait` step: waiting, with nothing delivered yet.
    pub fn is_suspended(&self) -> bool {
        !self.finished && self.waiting.is_some() && self.delivered.is_none()
    }

    /// What the run waits for, when it is suspended at a `wait` step.
    pub fn waiting(&self) -> Option<&WaitFor> {
        self.waiting.as_ref()
    }

    /// Hands the waiting run what ends its wait (an event that matched, or the deadline), so
    /// that resuming it ([`crate::Plan::resume`]) takes the wait step with it. Refused, with
    /// the reason, when the run is not waiting.
    pub fn deliver(&mut self, event: WaitEvent) -> Result<(), String> {
        let Some(wait) = self.waiting.take() else {
            return Err(format!("run `{}` is not waiting for an event", self.run_id));
        };
        self.delivered = Some((wait.step.clone(), event));
        // Kept for the step to say when its deadline was; cleared once the step is taken.
        self.waiting = Some(wait);
        Ok(())
    }

    /// Opens a run that failed at a step again, so that resuming it ([`crate::Plan::resume`])
    /// takes the failed step again: the failed step's record is dropped (and its run is not
    /// counted), and the steps before it stay done. Refused, with the reason, when the run
    /// has not ended failed at a step (it succeeded, is still going, or failed on its own:
    /// the step limit, an output), since taking it again would change nothing.
    ///
    /// The step runs with the same run id, so an `http` step sends the same idempotency key.
    pub fn reopen(&mut self) -> Result<(), String> {
        if !self.finished || self.status != RunStatus::Failed {
            return Err(format!("run `{}` has not failed", self.run_id));
        }
        if let Some(e) = &self.error {
            return Err(format!(
                "run `{}` failed on its own, not at a step ({e}); taking it again would fail the same way",
                self.run_id
            ));
        }
        let failed_here = self.records.last().is_some_and(|r| {
            r.status == crate::outcome::StepStatus::Failed
                && self.runs_of.get(self.cursor).is_some_and(|n| *n > 0)
        });
        if !failed_here {
            return Err(format!(
                "run `{}` did not stop at the step that failed",
                self.run_id
            ));
        }
        self.records.pop();
        self.runs_of[self.cursor] -= 1;
        self.executed = self.executed.saturating_sub(1);
        self.status = RunStatus::Succeeded;
        self.finished = false;
        Ok(())
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// How many steps the run has taken. The state changes only when a step is taken or the
    /// run ends, so a journal can tell by this and [`RunState::is_finished`] whether a state it
    /// is handed is the one it saved last.
    pub fn steps_taken(&self) -> usize {
        self.executed
    }

    /// How the run stands: `succeeded` so far (or in the end), `failed`, or `waiting` at a
    /// `wait` step with nothing delivered yet.
    pub fn status(&self) -> RunStatus {
        match (&self.waiting, &self.delivered, self.finished) {
            (Some(_), None, false) => RunStatus::Waiting,
            _ => self.status,
        }
    }

    /// The id of the step the run will take next in `flow` (the flow it is a run of), if it
    /// has not ended.
    pub fn next_step<'f>(&self, flow: &'f Flow) -> Option<&'f str> {
        if self.finished {
            return None;
        }
        flow.steps.get(self.cursor).map(|s| s.id.value.as_str())
    }

    /// One record per step taken so far.
    pub fn records(&self) -> &[StepRecord] {
        &self.records
    }

    /// Messages sent so far.
    pub fn messages(&self) -> &[MessageRecord] {
        &self.messages
    }

    /// The inputs and every variable set so far.
    pub fn variables(&self) -> Map<String, Value> {
        // Copies only the variables: `steps` holds every step's response, and is the most of
        // the scope.
        match self.scope.value() {
            Value::Object(m) => m
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "steps" | "run"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => Map::new(),
        }
    }

    /// The outcome so far, in the shape of a finished run's (`run --output json`).
    pub fn to_outcome(&self) -> Outcome {
        Outcome {
            flow: self.flow.clone(),
            run_id: self.run_id.clone(),
            status: self.status(),
            outputs: self.outputs.clone(),
            variables: self.variables(),
            messages: self.messages.clone(),
            steps: self.records.clone(),
            error: self.error.clone(),
            error_at: self.error_at.clone(),
        }
    }

    /// The outcome of the run, taking the state apart rather than copying it (what a run
    /// returns when it ends).
    pub fn into_outcome(mut self) -> Outcome {
        let status = self.status();
        let variables = match self.scope.value_mut() {
            Value::Object(m) => {
                m.shift_remove("steps");
                m.shift_remove("run");
                std::mem::take(m)
            }
            _ => Map::new(),
        };
        Outcome {
            flow: self.flow,
            run_id: self.run_id,
            status,
            outputs: self.outputs,
            variables,
            messages: self.messages,
            steps: self.records,
            error: self.error,
            error_at: self.error_at,
        }
    }

    /// Points every position read back from a saved state at the plan's files again.
    pub(crate) fn reattach(&mut self, files: &[Arc<SourceFile>]) {
        let mut positions: Vec<&mut SourcePos> = Vec::new();
        if let Some(at) = &mut self.error_at {
            positions.push(at);
        }
        for r in &mut self.records {
            if let Some(at) = r.error.as_mut().and_then(|e| e.at.as_mut()) {
                positions.push(at);
            }
        }
        for pos in positions {
            if let Some(file) = files.iter().find(|f| f.name() == pos.file.name()) {
                pos.reattach(file);
            }
        }
    }
}
