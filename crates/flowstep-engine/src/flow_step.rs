//! The built-in `flow` step: runs another flow (a preset or a file) as one step. Its outputs
//! are readable as `<<steps.ID.outputs.NAME>>`, and its messages go to the same channel, or
//! are suppressed, or are readable as `<<steps.ID.messages>>` (`messages:`).

use crate::error::StepError;
use crate::inputs::{InputValue, resolve_inputs};
use crate::journal::{Effect, Journal, JournalError};
use crate::outcome::MessageRecord;
use crate::outcome::{RunStatus, StepStatus};
use crate::plan::Plan;
use crate::run::{Nesting, RunError, RunRequest};
use crate::run_state::RunState;
use crate::step::{Step, StepContext};
use async_trait::async_trait;
use flowstep_spec::steps::flow_use::MessagePolicy;
use flowstep_spec::{Fields, ValueTemplate};
use serde_json::{Value, json};
use std::sync::Arc;

/// `type: flow`, bound to the compiled sub-flow.
pub struct FlowStep {
    pub(crate) plan: Arc<Plan>,
    pub(crate) with: Vec<(String, ValueTemplate)>,
    pub(crate) messages: MessagePolicy,
}

#[async_trait]
impl Step for FlowStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let sub = self.plan.flow();
        let mut given = Vec::new();
        for (name, value) in &self.with {
            // A number written here is handed on as its text, for the input's type to read
            // (`19.90` stays `19.90` for a `decimal`), as `--var` does.
            let given_value = match value {
                ValueTemplate::Number(n) => InputValue::Text(n.text().to_owned()),
                other => InputValue::Typed(cx.render_value(other)?),
            };
            given.push((name.clone(), given_value));
        }
        let inputs = resolve_inputs(sub, given).map_err(|problems| {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            StepError::invalid(format!(
                "inputs of flow `{}`: {}",
                sub.name.value,
                list.join("; ")
            ))
        })?;
        let request = RunRequest {
            inputs,
            secrets: cx.all_secrets.clone(),
            // Stable per parent run and step, so idempotency keys inside survive a re-run.
            run_id: Some(format!("{}.{}", cx.run_id(), cx.decl().id.value)),
            mode: cx.mode(),
            channel: cx.channel,
            // The used flow is part of this run: its secrets and the credentials its steps
            // derive are hidden in this run's redactor, for as long as this run lasts.
            redactor: cx.redactor().clone(),
            recipient: cx.recipient.map(str::to_owned),
        };
        // The used flow's steps are part of this step: their side effects are announced to the
        // run's journal under `step.inner`, and a resumed run takes this whole step again
        // (its requests with the same idempotency keys, since the nested run id is stable).
        // Its messages are labelled with their path too: `pay.send_link`. Messages kept from
        // the channel here stay kept inside any flow it uses in turn.
        let journal = Nested {
            parent: cx.journal,
            state: cx.state,
        };
        let pending = cx.pending_effect.take();
        let outcome = self
            .plan
            .run_in(
                request,
                &journal,
                Nesting {
                    path_prefix: format!("{}.", cx.path),
                    withhold_messages: cx.withhold_messages || self.messages != MessagePolicy::Send,
                },
                pending,
            )
            .await;
        if let Err(RunError::Journal(e)) = &outcome {
            cx.journal_error = Some(e.clone());
        }
        let outcome = outcome.map_err(|e| match e {
            RunError::MissingSecrets(names) => StepError::invalid(format!(
                "flow `{}` needs secret{} {}",
                sub.name.value,
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            )),
            // `run_in` takes the id and the inputs as they are; kept so that a new refusal is
            // not lost.
            other => StepError::invalid(other.to_string()),
        })?;
        match self.messages {
            MessagePolicy::Send => cx.messages.extend(outcome.messages.iter().cloned()),
            MessagePolicy::Suppress => {
                let shown: Vec<Value> = outcome
                    .messages
                    .iter()
                    .map(|m| readable(m, &cx.path))
                    .collect();
                cx.record("messages_suppressed", Value::Array(shown));
            }
            MessagePolicy::Output => {
                let list: Vec<Value> = outcome
                    .messages
                    .iter()
                    .map(|m| output(m, &cx.path))
                    .collect();
                cx.expose("messages", Value::Array(list));
            }
        }
        let outputs = Value::Object(outcome.outputs.clone());
        cx.record("flow", json!(sub.name.value));
        cx.record("outputs", outputs.clone());
        cx.record(
            "steps",
            serde_json::to_value(&outcome.steps).unwrap_or(Value::Null),
        );
        cx.expose("outputs", outputs);
        cx.set_attempts(1);
        if outcome.status == RunStatus::Succeeded {
            return Ok(());
        }
        let failed = outcome
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Failed);
        let mut error = failed.and_then(|s| s.error.clone()).unwrap_or_else(|| {
            StepError::invalid(
                outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| "the flow failed".into()),
            )
        });
        if let Some(step) = failed {
            error.message = format!(
                "step `{}` of flow `{}`: {}",
                step.id, sub.name.value, error.message
            );
        }
        Err(error)
    }

    fn fields(&self) -> Fields {
        let outputs = self
            .plan
            .flow()
            .outputs
            .iter()
            .map(|(name, _)| (name.value.as_str(), Fields::Any));
        let outputs = ("outputs", Fields::named(outputs));
        match self.messages {
            MessagePolicy::Output => Fields::named([outputs, ("messages", Fields::Any)]),
            _ => Fields::named([outputs]),
        }
    }
}

/// The path of a message's step inside the used flow: `send_link` for `pay.send_link`.
fn inner_step<'m>(m: &'m MessageRecord, path: &str) -> &'m str {
    m.step
        .strip_prefix(path)
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(&m.step)
}

/// A suppressed message as the step record lists it: where it came from and what it said.
fn readable(m: &MessageRecord, path: &str) -> Value {
    json!({ "step": inner_step(m, path), "text": m.content.readable(&m.text) })
}

/// A message as `<<steps.ID.messages>>` holds it: `step` (its path inside the used flow),
/// `text`, `readable` (the text with a button as `[Pay now] https://...`), and `content`
/// (its kind and what it carries: `{"type": "link_button", "title", "url"}` and so on).
fn output(m: &MessageRecord, path: &str) -> Value {
    json!({
        "step": inner_step(m, path),
        "text": m.text,
        "readable": m.content.readable(&m.text),
        "content": serde_json::to_value(&m.content).unwrap_or(Value::Null),
    })
}

/// The journal a used flow's run reports to: its side effects go to the using run's journal,
/// with the using run's state; its own step boundaries are not saved (the `flow` step is one
/// step of the using run).
struct Nested<'a> {
    parent: &'a dyn Journal,
    state: &'a RunState,
}

#[async_trait]
impl Journal for Nested<'_> {
    async fn checkpoint(&self, _: &RunState) -> Result<(), JournalError> {
        Ok(())
    }

    async fn effect(&self, _: &RunState, effect: &Effect) -> Result<(), JournalError> {
        self.parent.effect(self.state, effect).await
    }
}
