//! How a run's outcome reads on a terminal.

use flowstep_engine::{MessageRecord, Outcome, RunStatus, StepRecord, StepStatus};
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The text report: one line per step, then outputs, then the status; under a failed step, its
/// error drawn like a check diagnostic (the line it failed at, what the API said, the hint)
/// and the response body it got, if any.
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flow {} (run {})", outcome.flow, outcome.run_id);
    for step in &outcome.steps {
        let _ = writeln!(out, "{}", step_line(step));
        if let Some(e) = &step.error {
            let drawn = e.render();
            let _ = writeln!(out, "{drawn}");
            // In line with the drawing's own `= note` lines, which the gutter's width (the
            // line number's digits) moves.
            let indent = drawn
                .lines()
                .rev()
                .find_map(|l| {
                    l.trim_start()
                        .starts_with("= ")
                        .then(|| l.len() - l.trim_start().len())
                })
                .unwrap_or(2);
            if let Some(block) = failed_response(&step.details).and_then(|r| body_block(r, indent))
            {
                out.push_str(&block);
            }
            out.push('\n');
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
            RunStatus::Waiting => "waiting",
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
    if let Some(p) = step.details.get("pagination") {
        line.push_str(&pages_note(p));
    }
    if step.attempts > 1 {
        let _ = write!(line, ", {} attempts", step.attempts);
    }
    let _ = write!(line, " [{} ms]", step.duration_ms);
    line
}

/// `, 3 pages, 7 items`, and when `max_pages` stopped a step whose API had more pages,
/// `, stopped at max_pages 10 with more pages left`: a list that was cut short says so.
fn pages_note(p: &Value) -> String {
    let count = |key: &str, one: &str, many: &str| {
        let n = p.get(key).and_then(Value::as_u64).unwrap_or(0);
        format!("{n} {}", if n == 1 { one } else { many })
    };
    let mut note = format!(
        ", {}, {}",
        count("pages", "page", "pages"),
        count("items", "item", "items")
    );
    if p.get("capped") == Some(&Value::Bool(true)) {
        let max = p.get("max_pages").and_then(Value::as_u64).unwrap_or(0);
        let _ = write!(note, ", stopped at max_pages {max} with more pages left");
    }
    note
}

/// The most lines of a response body shown under a failed step.
const BODY_LINES: usize = 20;
/// The most characters of one body line shown.
const BODY_LINE_CHARS: usize = 160;

/// The response a failed step got: its own (`response` in its details), or for a `flow` step
/// the one the failed step inside got, however deep.
fn failed_response(details: &Map<String, Value>) -> Option<&Value> {
    if let Some(r) = details.get("response") {
        return Some(r);
    }
    details
        .get("steps")?
        .as_array()?
        .iter()
        .filter(|s| s.get("status").and_then(Value::as_str) == Some("failed"))
        .find_map(|s| failed_response(s.as_object()?))
}

/// The response body as an indented block under a failed step's drawing, so that nobody has
/// to send the request again to see what the API said: JSON pretty-printed, at most
/// [`BODY_LINES`] lines of at most [`BODY_LINE_CHARS`] characters. Redacted like the whole
/// report. Nothing for an empty body.
fn body_block(response: &Value, indent: usize) -> Option<String> {
    let text = match response.get("body")? {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        json => serde_json::to_string_pretty(json).ok()?,
    };
    if text.trim().is_empty() {
        return None;
    }
    let status = response
        .get("status")
        .and_then(Value::as_u64)
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}= response body{status}:\n");
    let lines: Vec<&str> = text.trim_end().lines().collect();
    for line in lines.iter().take(BODY_LINES) {
        let shown: String = line.chars().take(BODY_LINE_CHARS).collect();
        let cut = if shown.len() < line.len() { "..." } else { "" };
        let _ = writeln!(out, "{pad}  {shown}{cut}");
    }
    if lines.len() > BODY_LINES {
        let _ = writeln!(
            out,
            "{pad}  ... {} more lines ({} bytes in all; `--format json` has the whole body)",
            lines.len() - BODY_LINES,
            text.len()
        );
    }
    Some(out)
}

/// Dry-run report: for each step, what would be sent, with the steps of used flows under
/// their path (`pay.create_session`) and the messages the outcome lists (marked not sent).
pub fn dry_run(outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "dry run of flow {}: nothing was sent", outcome.flow);
    let mut next_message = 0;
    dry_run_steps(
        &mut out,
        &outcome.steps,
        "",
        &outcome.messages,
        &mut next_message,
    );
    if let Some(e) = outcome.render_error() {
        let _ = writeln!(out, "\n{e}");
    }
    out
}

/// The steps of one flow; `prefix` is the path of the `flow` step that used it. Messages are
/// taken in order from `messages[*next..]`, as the run recorded them.
fn dry_run_steps(
    out: &mut String,
    steps: &[StepRecord],
    prefix: &str,
    messages: &[MessageRecord],
    next: &mut usize,
) {
    for step in steps {
        let path = format!("{prefix}{}", step.id);
        let when = step.details.get("when").and_then(Value::as_str);
        let state = match (step.status, when) {
            (StepStatus::Skipped, Some(note)) => {
                format!(": skipped here, its `when:` {note} (shown the first time)")
            }
            (StepStatus::Skipped, None) => ": skipped, its `when:` is false".to_owned(),
            (_, Some(note)) => format!(": runs only if its `when:` holds, which {note}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "\nstep {path} ({}){state}", step.kind);
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
            if let Some(p) = step.details.get("pagination") {
                let _ = writeln!(
                    out,
                    "\n  then follows pages {}, at most {} in all",
                    p.get("by").map(shown).unwrap_or_default(),
                    p.get("max_pages").map(shown).unwrap_or_default()
                );
            }
        }
        if let Some(w) = step.details.get("waits_for") {
            let events: Vec<String> = w["events"]
                .as_array()
                .into_iter()
                .flatten()
                .map(shown)
                .collect();
            let _ = writeln!(out, "  waits for {}", events.join(" or "));
            if let Some(Value::Object(m)) = w.get("match") {
                for (path, value) in m {
                    let _ = writeln!(out, "  where {path} = {}", shown(value));
                }
            }
            let _ = writeln!(out, "  until {}", shown(&w["deadline"]));
        }
        while let Some(m) = messages.get(*next).filter(|m| m.step == path) {
            // A button's line sits under the text, indented like it.
            let shown = m
                .content
                .readable(&m.text)
                .replace('\n', "\n                      ");
            let _ = writeln!(out, "  message (not sent): {shown}");
            *next += 1;
        }
        if let Some(inner) = step
            .details
            .get("steps")
            .and_then(|s| serde_json::from_value::<Vec<StepRecord>>(s.clone()).ok())
        {
            dry_run_steps(out, &inner, &format!("{path}."), messages, next);
        }
        // A used flow's messages that `messages: suppress` keeps from the channel.
        for m in step
            .details
            .get("messages_suppressed")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = m["text"]
                .as_str()
                .unwrap_or_default()
                .replace('\n', "\n                      ");
            let _ = writeln!(
                out,
                "  message (suppressed, from {} > {}): {text}",
                step.id,
                m["step"].as_str().unwrap_or_default()
            );
        }
        if let Some(e) = &step.error {
            let _ = writeln!(out, "\n{}", e.render());
        }
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
