//! The built-in `wait` step: suspends the run until a matching event or the deadline, then maps
//! the event into variables (or fails with `timeout`, for `on_timeout:` or `on_error:`).

use crate::error::{ErrorKind, StepError};
use crate::step::{RunMode, Step, StepContext};
use crate::wait::{WaitEvent, WaitFor};
use async_trait::async_trait;
use flowstep_spec::steps::wait::MAX_WAIT;
use flowstep_spec::steps::{Deadline, StepDecl, StepSpec, WaitSpec};
use flowstep_spec::{Diagnostic, Fields, Flow};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `type: wait`.
pub struct WaitStep {
    spec: WaitSpec,
}

/// Binds a `type: wait` declaration.
pub fn bind(step: &StepDecl, _flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> {
    match &step.spec {
        StepSpec::Wait(w) => Ok(Box::new(WaitStep {
            spec: (**w).clone(),
        })),
        _ => Err(vec![Diagnostic::error(
            "E008",
            "`wait` steps are built in; this step is not one",
            step.kind.span,
        )]),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl WaitStep {
    /// What the run waits for, decided now: the match values and the deadline rendered.
    fn decide(&self, cx: &StepContext<'_>) -> Result<WaitFor, StepError> {
        let mut matches = Vec::with_capacity(self.spec.matches.len());
        for (path, template) in &self.spec.matches {
            matches.push((path.value.clone(), cx.render_text(template)?));
        }
        matches.sort();
        let now = now_ms();
        let max = u64::try_from(MAX_WAIT.as_millis()).unwrap_or(u64::MAX);
        let days = MAX_WAIT.as_secs() / 86_400;
        let deadline_ms = match &self.spec.deadline {
            Deadline::After(d) => now + u64::try_from(d.as_millis()).unwrap_or(max),
            Deadline::AfterRendered(t) => {
                let text = cx.render_text(t)?;
                let d = match text.trim().parse::<u64>() {
                    Ok(seconds) => Duration::from_secs(seconds),
                    Err(_) => flowstep_spec::duration::parse_wait_duration(text.trim()).map_err(|e| {
                        StepError::invalid(format!(
                            "`timeout` rendered `{text}`, which is not a duration nor a number of seconds: {e}"
                        ))
                    })?,
                };
                if d > MAX_WAIT {
                    return Err(StepError::invalid(format!(
                        "`timeout` rendered {} s, more than the longest wait, {days} days",
                        d.as_secs()
                    )));
                }
                now + u64::try_from(d.as_millis()).unwrap_or(max)
            }
            Deadline::At(t) => {
                let value = cx.render(t)?;
                let seconds = match &value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    StepError::invalid(format!(
                        "`until` rendered `{}`, which is not a Unix time in seconds",
                        flowstep_spec::template::value_to_text(&value)
                    ))
                })?;
                let at = seconds.saturating_mul(1000);
                if at > now + max {
                    return Err(StepError::invalid(format!(
                        "`until` is {} s from now, more than the longest wait, {days} days",
                        (at - now) / 1000
                    )));
                }
                // A deadline already past ends the wait at once (as a timeout), unless a
                // matching event is already there.
                at.max(now)
            }
        };
        Ok(WaitFor {
            step: cx.path.clone(),
            events: self.spec.events.iter().map(|e| e.value.clone()).collect(),
            matches,
            deadline_ms,
        })
    }

    /// A dry run: records what the step would wait for (a value that depends on what only a
    /// live run would know says so), stands in for what it would map, and goes on as if the
    /// first event type awaited had come.
    fn dry_run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let mut matches = serde_json::Map::new();
        for (path, template) in &self.spec.matches {
            let value = match cx.depends_on(template) {
                Some(source) => format!("<depends on {source}>"),
                None => cx.render_text(template)?,
            };
            matches.insert(path.value.clone(), Value::String(value));
        }
        let deadline = match &self.spec.deadline {
            Deadline::After(d) => json!(format!("{} s after the step is reached", d.as_secs())),
            Deadline::AfterRendered(t) | Deadline::At(t) => match cx.depends_on(t) {
                Some(source) => json!(format!("<depends on {source}>")),
                // A value a dry run stands in for (a used flow's output) cannot be a time.
                None => match self.decide(cx) {
                    Ok(w) => json!(w.deadline_ms),
                    Err(e) => json!(format!("<decided in a live run: {}>", e.message)),
                },
            },
        };
        let events: Vec<&str> = self.spec.events.iter().map(|e| e.value.as_str()).collect();
        cx.record(
            "waits_for",
            json!({"events": events, "match": matches, "deadline": deadline}),
        );
        let step = cx.decl.id.value.clone();
        cx.expose(
            "event",
            json!({"type": events.first(), "id": format!("<the event step `{step}` waits for>")}),
        );
        let source = format!("the event step `{step}` waits for");
        for (name, _) in &self.spec.map {
            let shown = format!("<{}: from the event>", name.value);
            cx.set_pending(name.value.clone(), shown, source.clone())?;
        }
        Ok(())
    }

    /// Sets the variables of `map:` from the event.
    fn map_event(&self, cx: &mut StepContext<'_>, payload: &Value) -> Result<(), StepError> {
        for (name, path) in &self.spec.map {
            let value = path.select(payload).ok().ok_or_else(|| {
                StepError::invalid(format!(
                    "the event has nothing at `{}` for `map.{}`",
                    path.source(),
                    name.value
                ))
            })?;
            cx.set_var(name.value.clone(), value)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Step for WaitStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        if cx.mode == RunMode::DryRun {
            return self.dry_run(cx);
        }
        let delivered = cx
            .state
            .delivered
            .as_ref()
            .filter(|(step, _)| *step == cx.path)
            .map(|(_, e)| e.clone());
        match delivered {
            Some(WaitEvent::Event {
                provider,
                event_type,
                event_id,
                payload,
            }) => {
                let event = json!({"type": format!("{provider}.{event_type}"), "id": event_id});
                cx.record("event", event.clone());
                cx.expose("event", event);
                self.map_event(cx, &payload)
            }
            Some(WaitEvent::Timeout) => {
                let deadline = cx.state.waiting.as_ref().map(|w| w.deadline_ms);
                cx.record("timed_out", json!(true));
                cx.expose("event", Value::Null);
                Err(StepError::new(
                    ErrorKind::Timeout,
                    format!(
                        "no {} event matched before the deadline{}",
                        self.spec
                            .events
                            .iter()
                            .map(|e| format!("`{}`", e.value))
                            .collect::<Vec<_>>()
                            .join(" or "),
                        deadline
                            .and_then(|ms| i64::try_from(ms / 1000).ok())
                            .and_then(|secs| flowstep_spec::helpers::format_iso(secs).ok())
                            .map_or(String::new(), |at| format!(", {at}"))
                    ),
                ))
            }
            None => {
                // A run resumed while it waits waits for the same, until the same time.
                let wait = match cx.state.waiting.as_ref().filter(|w| w.step == cx.path) {
                    Some(w) => w.clone(),
                    None => self.decide(cx)?,
                };
                cx.suspend = Some(wait);
                Ok(())
            }
        }
    }

    fn defines(&self) -> Vec<String> {
        self.spec.map.iter().map(|(n, _)| n.value.clone()).collect()
    }

    fn fields(&self) -> Fields {
        Fields::named([(
            "event",
            Fields::named([("type", Fields::leaf()), ("id", Fields::leaf())]),
        )])
    }
}
