//! How a run's outcome reads on a terminal.

use flowstep_engine::{Outcome, RunStatus, StepRecord, StepStatus};
use serde_json::Value;
use std::fmt::Write as _;

/// The text report: one line per step, then outputs, then the status; under a failed step, its
/// error drawn like a check diagnostic (the line it failed at, what the API said, the hint).
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flow {} (run {})", outcome.flow, outcome.run_id);
    for step in &outcome.steps {
        let _ = writeln!(out, "{}", step_line(step));
        if let Some(e) = &step.error {
            let _ = writeln!(out, "{}\n", e.render());
        }
    }
    // The run's own failure (the step limit, an output that could not be rendered), drawn
    // like a step's: text that said only `failed` would leave the reader guessing.
    if let Some(e) = outcome.render_error() {
        let _ = writeln!(out, "{e}\n");
    }
    if !outcome.outputs.is_empty() {
        let _ = writeln!(out, "outputs:");
        for (k, v) in &outcome.outputs {
            let _ = writeln!(out, "  {k}: {}", shown(v));
        }
    }
    let _ = writeln!(
        out,
        "{}",
        match outcome.status {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    );
    out
}

fn step_line(step: &StepRecord) -> String {
    let mark = match step.status {
        StepStatus::Succeeded => "ok  ",
        StepStatus::Failed => "FAIL",
        StepStatus::Skipped => "skip",
    };
    let mut line = format!("  {mark} {} ({})", step.id, step.kind);
    if let Some(req) = step.details.get("request") {
        let method = req.get("method").and_then(Value::as_str).unwrap_or("");
        let url = req.get("url").and_then(Value::as_str).unwrap_or("");
        let _ = write!(line, " {method} {url}");
        if let Some(status) = step
            .details
            .get("response")
            .and_then(|r| r.get("status"))
            .and_then(Value::as_u64)
        {
            let _ = write!(line, " -> {status}");
        }
    }
    if step.attempts > 1 {
        let _ = write!(line, ", {} attempts", step.attempts);
    }
    let _ = write!(line, " [{} ms]", step.duration_ms);
    line
}

/// Dry-run report: for each step, what would be sent.
pub fn dry_run(outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "dry run of flow {}: nothing was sent", outcome.flow);
    for step in &outcome.steps {
        let _ = writeln!(out, "\nstep {} ({})", step.id, step.kind);
        if let Some(req) = step.details.get("request") {
            let method = req.get("method").and_then(Value::as_str).unwrap_or("");
            let url = req.get("url").and_then(Value::as_str).unwrap_or("");
            let _ = writeln!(out, "  {method} {url}");
            if let Some(Value::Object(h)) = req.get("headers") {
                for (k, v) in h {
                    let _ = writeln!(out, "  {k}: {}", shown(v));
                }
            }
            if let Some(Value::String(body)) = req.get("body") {
                let _ = writeln!(out, "\n  {body}");
            }
            if let Some(Value::String(curl)) = step.details.get("curl") {
                let _ = writeln!(out, "\n  {curl}");
            }
        }
        if let Some(m) = step
            .details
            .get("message")
            .and_then(|m| m.get("text"))
            .and_then(Value::as_str)
        {
            let _ = writeln!(out, "  message: {m}");
        }
        if let Some(e) = &step.error {
            let _ = writeln!(out, "\n{}", e.render());
        }
    }
    if let Some(e) = outcome.render_error() {
        let _ = writeln!(out, "\n{e}");
    }
    out
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
