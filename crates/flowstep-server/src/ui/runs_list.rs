//! `GET /ui`: the runs, newest first, 50 a page (the store's cursor), filtered by status and
//! flow.

use super::layout::{frame, problem, respond, status_badge};
use crate::api::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowstep_store::{Cursor, RunFilter, Status, StoreError};
use maud::html;

/// Runs a page.
const PAGE: u32 = 50;

/// `value` for a URL's query or path segment.
pub(crate) fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /ui?status=&flow=&cursor=`.
pub(crate) async fn page_of_runs(app: &AppState, query: Option<String>) -> Response {
    let (mut status, mut flow, mut cursor) = (None, None, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "status" if !value.is_empty() => status = Some(value),
            "flow" if !value.is_empty() => flow = Some(value),
            "cursor" if !value.is_empty() => cursor = Some(value),
            _ => {}
        }
    }
    let wanted = match status.as_deref().map(|s| (s, Status::parse(s))) {
        None => None,
        Some((_, Some(s))) => Some(s),
        Some((s, None)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                &format!(
                    "there is no run status `{}`; a run is queued, running, waiting, succeeded, failed or cancelled",
                    crate::api::error::shorten(s)
                ),
            );
        }
    };
    let filter = RunFilter {
        status: wanted,
        flow: flow.clone(),
    };
    let from = cursor.map(Cursor::new);
    let runs = match app.0.store.list_runs(&filter, PAGE, from.as_ref()).await {
        Ok(p) => p,
        Err(StoreError::Invalid(_)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "this page's link was not made by this server; start again from the runs list",
            );
        }
        Err(e) => {
            tracing::warn!("runs page: the runs could not be listed: {e}");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the run store cannot be read now; try again later",
            );
        }
    };
    let flows = app.0.plans.current();
    let mut names: Vec<String> = flows.names().map(str::to_owned).collect();
    if let Some(f) = &flow
        && !names.contains(f)
    {
        names.push(f.clone());
    }
    let next = runs.next.as_ref().map(|c| {
        let mut link = format!("/ui?cursor={}", encoded(c.as_str()));
        if let Some(s) = &status {
            link.push_str(&format!("&status={}", encoded(s)));
        }
        if let Some(f) = &flow {
            link.push_str(&format!("&flow={}", encoded(f)));
        }
        link
    });
    let body = html! {
        h1 { "Runs" }
        form.filters method="get" action="/ui" {
            label { "Status "
                select name="status" id="status" {
                    option value="" selected[wanted.is_none()] { "any" }
                    @for s in Status::ALL {
                        option value=(s.as_str()) selected[wanted == Some(s)] { (s.as_str()) }
                    }
                }
            }
            label { "Flow "
                select name="flow" id="flow" {
                    option value="" selected[flow.is_none()] { "any" }
                    @for name in &names {
                        option value=(name) selected[flow.as_deref() == Some(name.as_str())] { (name) }
                    }
                }
            }
            button type="submit" id="filter" { "Filter" }
        }
        @if runs.runs.is_empty() {
            p #no-runs { "No runs match." }
        } @else {
            table #runs {
                thead { tr { th { "Run" } th { "Flow" } th { "Status" } th { "Attempt" } th { "Started" } th { "Ended" } th { "Error" } } }
                tbody {
                    @for run in &runs.runs {
                        tr data-run-id=(run.run_id) {
                            td { a href={ "/ui/runs/" (encoded(&run.run_id)) } { (run.run_id) } }
                            td { (run.flow_name) }
                            td { (status_badge(run.status.as_str())) }
                            td { (run.attempt) }
                            td { (crate::time::rfc3339(run.created_at)) }
                            td { @if let Some(t) = run.finished_at { (crate::time::rfc3339(t)) } }
                            td { @if let Some(e) = &run.error { (crate::api::error::shorten(e)) } }
                        }
                    }
                }
            }
        }
        @if let Some(link) = &next {
            p { a #older href=(link) { "Older runs →" } }
        }
    };
    respond(StatusCode::OK, frame("Runs", true, body))
}

/// `GET /ui`.
pub(crate) async fn page(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    page_of_runs(&app, query).await
}
