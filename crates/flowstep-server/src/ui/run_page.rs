//! `GET /ui/runs/{run_id}`: one run as the API's run view has it (`GET /v1/runs/{run_id}`:
//! redacted by the engine before it was stored, with its messages' delivery statuses): each
//! step with its status, duration, attempts, request and response; the messages; what a
//! waiting run waits for and until when. And its actions: `POST .../cancel` (a run that has
//! not ended) and `POST .../retry` (a failed run), which answer with the run's page again.

use super::layout::{frame, pretty, problem, respond, status_badge};
use super::runs_list::encoded;
use super::session::see_other;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::model::RunView;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowstep_engine::check_run_id;
use maud::{Markup, html};
use serde_json::{Map, Value};

/// A step record's fields shown in its row; the rest (`request`, `response`, ...) are its
/// details.
const STEP_FIELDS: [&str; 6] = ["id", "type", "status", "attempts", "duration_ms", "error"];

/// `GET /ui/runs/{run_id}`.
pub(crate) async fn page(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(run_id)) = path else {
        return unreadable_id();
    };
    let record = match find(&app, &run_id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let view = match crate::api::statuses::run_view(&app, record).await {
        Ok(v) => v,
        Err(e) => return api_problem(e),
    };
    let done = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned());
    // Only the server's own words, never the query's.
    let notice = match done.as_deref() {
        Some("cancelled") => Some("The run was cancelled."),
        Some("retried") => {
            Some("The run was queued again: it resumes where it failed, with the same run id.")
        }
        _ => None,
    };
    respond(
        StatusCode::OK,
        frame(&format!("Run {}", view.run_id), true, run(&view, notice)),
    )
}

/// The page for a run id that is not UTF-8 once its %-escapes are decoded (`/ui/runs/%FF`):
/// it names no run, as in the API.
fn unreadable_id() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "no run has the id in this path: it is not UTF-8 once its %-escapes are decoded",
    )
}

/// The run stored under `run_id`, or the page that says there is none.
async fn find(app: &AppState, run_id: &str) -> Result<flowstep_store::RunRecord, Response> {
    let missing = || {
        problem(
            StatusCode::NOT_FOUND,
            &format!("no run has the id `{}`", crate::api::error::shorten(run_id)),
        )
    };
    if check_run_id(run_id).is_err() {
        return Err(missing());
    }
    match app.0.store.get_run(run_id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(missing()),
        Err(e) => Err(api_problem(e.into())),
    }
}

fn api_problem(e: ApiError) -> Response {
    problem(e.status, &e.message)
}

fn run(view: &RunView, notice: Option<&str>) -> Markup {
    let status = serde_json::to_value(view.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let outcome = view.outcome.as_ref();
    let list = |key: &str| {
        outcome
            .and_then(|o| o.get(key))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let steps = list("steps");
    let messages = list("messages");
    let action = |what: &str| format!("/ui/runs/{}/{what}", encoded(&view.run_id));
    html! {
        p { a href="/ui" { "← Runs" } }
        h1 { "Run " span #run-id { (view.run_id) } " " span #run-status { (status_badge(&status)) } }
        @if let Some(n) = notice { p.notice #notice { (n) } }
        div.actions {
            @if matches!(status.as_str(), "queued" | "running" | "waiting") {
                form method="post" action=(action("cancel")) {
                    button type="submit" id="cancel" { "Cancel run" }
                }
            }
            @if status == "failed" {
                form method="post" action=(action("retry")) {
                    button type="submit" id="retry" { "Retry from the failed step" }
                }
            }
        }
        dl {
            dt { "Flow" } dd { (view.flow) " " small { (view.flow_hash) } }
            dt { "Attempt" } dd { (view.attempt) }
            dt { "To" } dd { @if let Some(to) = &view.to { (to) } @else { "—" } }
            dt { "Started" } dd { (view.created_at) }
            dt { "Changed" } dd { (view.updated_at) }
            dt { "Ended" } dd { @if let Some(t) = &view.finished_at { (t) } @else { "—" } }
        }
        @if let Some(e) = &view.error { h2 { "Error" } pre.problem #run-error { (e) } }
        @if let Some(e) = outcome.and_then(|o| o.get("error")).and_then(Value::as_str) {
            h2 { "Error" } pre.problem { (e) }
        }
        @if let Some(wait) = &view.waiting_for {
            h2 { "Waiting" }
            dl #waiting {
                dt { "Step" } dd { (wait.step) }
                dt { "For" } dd { (wait.events.join(", ")) }
                dt { "Matching" } dd {
                    @for (field, value) in &wait.r#match { code { (field) " = " (value) } " " }
                }
                dt { "Until" } dd #deadline { (wait.deadline) }
            }
        }
        h2 { "Inputs" }
        pre #inputs { (pretty(&Value::Object(view.inputs.clone()))) }
        h2 { "Steps" }
        @if steps.is_empty() {
            p { "No step has run yet." }
        } @else {
            table #steps {
                thead { tr { th { "Step" } th { "Type" } th { "Status" } th { "Attempts" } th { "Duration" } th { "Error" } } }
                tbody {
                    @for step in &steps { (step_row(step)) }
                }
            }
        }
        h2 { "Messages" }
        @if messages.is_empty() {
            p { "No message was sent." }
        } @else {
            table #messages {
                thead { tr { th { "Step" } th { "To" } th { "Text" } th { "Delivery" } } }
                tbody {
                    @for m in &messages { (message_row(m)) }
                }
            }
        }
        @if let Some(outputs) = outcome.and_then(|o| o.get("outputs")).filter(|o| o.as_object().is_some_and(|m| !m.is_empty())) {
            h2 { "Outputs" }
            pre #outputs { (pretty(outputs)) }
        }
        @if let Some(variables) = outcome.and_then(|o| o.get("variables")) {
            h2 { "Variables" }
            pre #variables { (pretty(variables)) }
        }
    }
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn step_row(step: &Value) -> Markup {
    let details: Map<String, Value> = step
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !STEP_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let error = step.get("error").filter(|e| !e.is_null());
    html! {
        tr.step data-step-id=(text(step, "id")) {
            td { (text(step, "id")) }
            td { (text(step, "type")) }
            td { (status_badge(text(step, "status"))) }
            td { (step.get("attempts").and_then(Value::as_u64).unwrap_or(0)) }
            td { (step.get("duration_ms").and_then(Value::as_u64).unwrap_or(0)) " ms" }
            td { @if let Some(e) = error { (text(e, "kind")) ": " (text(e, "message")) } }
        }
        @if !details.is_empty() {
            tr.step-details {
                td colspan="6" {
                    details open {
                        summary { "Request and response of " (text(step, "id")) }
                        @for (name, value) in &details {
                            div { strong { (name) } pre { (pretty(value)) } }
                        }
                    }
                }
            }
        }
    }
}

fn message_row(m: &Value) -> Markup {
    let delivery = m.get("delivery").filter(|d| !d.is_null());
    html! {
        tr.message {
            td { (text(m, "step")) }
            td { (text(m, "to")) }
            td { (text(m, "text")) }
            td {
                @match delivery {
                    Some(d) => {
                        (status_badge(text(d, "status"))) " " (text(d, "at"))
                        @if let Some(e) = d.get("error").filter(|e| !e.is_null()) {
                            " " (e.get("code").map(Value::to_string).unwrap_or_default()) " " (text(e, "title"))
                        }
                    }
                    None if m.get("delivery_unknown").and_then(Value::as_bool) == Some(true) => {
                        "unknown: the run stopped while it was being sent"
                    }
                    None if m.get("sent").and_then(Value::as_bool) == Some(false) => { "not sent" }
                    None if m.get("delivery_id").is_some() => { "sent, no status yet" }
                    None => { "recorded" }
                }
            }
        }
    }
}

/// What an action did: back to the run's page, saying so; or the page that says why not.
async fn act(
    app: &AppState,
    run_id: &str,
    done: &str,
    result: Result<RunView, ApiError>,
) -> Response {
    match result {
        Ok(_) => {
            tracing::info!(%run_id, "runs page: run {done}");
            see_other(&format!("/ui/runs/{}?done={done}", encoded(run_id)))
        }
        Err(e) => {
            let _ = app;
            api_problem(e)
        }
    }
}

/// `POST /ui/runs/{run_id}/cancel`.
pub(crate) async fn cancel(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(run_id)) = path else {
        return unreadable_id();
    };
    let result = crate::api::runs::cancel_run(&app, &run_id).await;
    act(&app, &run_id, "cancelled", result).await
}

/// `POST /ui/runs/{run_id}/retry`.
pub(crate) async fn retry(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(run_id)) = path else {
        return unreadable_id();
    };
    let result = crate::api::runs::retry_run(&app, &run_id).await;
    act(&app, &run_id, "retried", result).await
}
