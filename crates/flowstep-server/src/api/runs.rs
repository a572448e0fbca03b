//! `POST /v1/runs`, `GET /v1/runs`, `GET /v1/runs/{run_id}`, `POST /v1/runs/{run_id}/cancel`,
//! `POST /v1/runs/{run_id}/retry`.

use super::AppState;
use super::error::{ApiError, shorten};
use super::extract::{Body, QueryParams, RunIdPath};
use super::model::{CreateRun, ListParams, RunPage, RunView};
use super::statuses;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowstep_engine::redact::SHORT_SECRET_CHARS;
use flowstep_engine::{InputValue, check_run_id, new_run_id, resolve_inputs};
use flowstep_spec::did_you_mean;
use flowstep_store::{Creation, Cursor, NewRun, RunFilter, Status, StoreError};
use serde_json::Value;

/// The most input problems one answer lists; the rest are counted.
const SHOWN_PROBLEMS: usize = 50;

/// Starts a run of a flow. The run is stored before the answer (`201`), and runs as soon as
/// a worker is free. A second start with the same `run_id` starts nothing and answers `200`
/// with the first run; with another flow or other inputs it is `409 run_id_in_use`.
#[utoipa::path(post, path = "/v1/runs", operation_id = "start_run", tag = "runs", security(("bearer" = [])),
    request_body = CreateRun,
    responses(
        (status = 201, description = "The run was stored, `queued`.", body = RunView, links(
            ("GetRun" = (operation_id = "get_run", parameters(("run_id" = "$response.body#/run_id")))),
            ("CancelRun" = (operation_id = "cancel_run", parameters(("run_id" = "$response.body#/run_id")))),
        )),
        (status = 200, description = "A run with this id was started before: this is it.", body = RunView, links(
            ("GetRun" = (operation_id = "get_run", parameters(("run_id" = "$response.body#/run_id")))),
            ("CancelRun" = (operation_id = "cancel_run", parameters(("run_id" = "$response.body#/run_id")))),
        )),
        (status = 400, description = "The body is not JSON.", body = super::model::ErrorBody),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
        (status = 409, description = "The run id is taken by a run of another flow or with other inputs.", body = super::model::ErrorBody),
        (status = 413, description = "The body is too large.", body = super::model::ErrorBody),
        (status = 415, description = "The body is not sent as JSON.", body = super::model::ErrorBody),
        (status = 422, description = "Unknown flow, bad inputs or run id, a secret the server lacks, or a secret's value in the inputs.", body = super::model::ErrorBody),
        (status = 503, description = "The store cannot be written; nothing was stored.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn create(
    State(app): State<AppState>,
    Body(body): Body<CreateRun>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let flows = app.0.plans.current();
    let Some(flow) = flows.get(&body.flow) else {
        let names: Vec<&str> = flows.names().collect();
        let hint = match did_you_mean(&body.flow, names.iter().copied()) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => format!("; flows are: {}", names.join(", ")),
        };
        return Err(ApiError::unprocessable(
            "unknown_flow",
            format!("there is no flow named `{}`{hint}", shorten(&body.flow)),
        ));
    };
    let run_id = match body.run_id {
        Some(id) => {
            check_run_id(&id)
                .map_err(|e| ApiError::unprocessable("invalid_run_id", format!("run_id: {e}")))?;
            id
        }
        None => new_run_id(),
    };
    if let Some(to) = &body.to
        && (to.is_empty() || to.chars().count() > 64 || to.chars().any(char::is_control))
    {
        return Err(ApiError::unprocessable(
            "invalid_recipient",
            "to: a recipient is 1 to 64 characters without control characters, like +919000090000",
        ));
    }
    if body.to.is_none() && app.0.needs_recipient && may_send_messages(flow.plan.flow()) {
        return Err(ApiError::unprocessable(
            "invalid_recipient",
            format!(
                "to: the flow `{}` sends messages and this server delivers them on WhatsApp, so a run needs a recipient: add \"to\": \"+919000090000\" (the customer's number with country code)",
                flow.name
            ),
        ));
    }
    let given = body
        .inputs
        .into_iter()
        .map(|(name, value)| (name, InputValue::Typed(value)))
        .collect();
    let inputs = resolve_inputs(flow.plan.flow(), given).map_err(|problems| {
        let mut problems: Vec<String> = problems
            .into_problems()
            .iter()
            .map(|p| p.to_string())
            .collect();
        // A body of thousands of unknown inputs gets an answer of bounded size.
        if problems.len() > SHOWN_PROBLEMS {
            let more = problems.len() - SHOWN_PROBLEMS;
            problems.truncate(SHOWN_PROBLEMS);
            problems.push(format!("and {more} more problems with the inputs"));
        }
        let mut error = ApiError::unprocessable("invalid_inputs", problems.join("\n"));
        error.problems = problems;
        error
    })?;
    let mut secrets = Vec::new();
    let mut missing = Vec::new();
    for name in flow.plan.required_secrets() {
        match app.0.secrets.secret(name) {
            Some(value) => secrets.push((name, value)),
            None => missing.push(format!(
                "missing secret {name}: {}",
                app.0.secrets.how_to_set(name)
            )),
        }
    }
    if !missing.is_empty() {
        let mut error = ApiError::unprocessable(
            "missing_secrets",
            format!(
                "the server cannot run `{}`: {}",
                flow.name,
                missing.join("; ")
            ),
        );
        error.problems = missing;
        return Err(error);
    }
    // The store never holds a secret: a run whose inputs or recipient carry the value of one
    // of its flow's secrets is refused (the client knows the value; the store must not).
    let leaks: Vec<String> = inputs
        .iter()
        .map(|(name, value)| (format!("input `{name}`"), value.clone()))
        .chain(body.to.iter().map(|to| ("to".to_owned(), Value::String(to.clone()))))
        .filter_map(|(place, value)| {
            secrets
                .iter()
                .find(|(_, secret)| holds(&value, secret.expose()))
                .map(|(name, _)| {
                    format!("{place} holds the value of the secret {name}; a server reads its secrets from its own environment, never from a run's inputs")
                })
        })
        .collect();
    if !leaks.is_empty() {
        let mut error = ApiError::unprocessable("secret_in_inputs", leaks.join("\n"));
        error.problems = leaks;
        return Err(error);
    }
    // The flow's file and every flow it uses are stored with the run, which is resumed from
    // them alone.
    let mut new =
        NewRun::of_hashed_sources(&run_id, &flow.name, flow.sources(), &flow.hash).inputs(inputs);
    new.recipient = body.to;
    let wanted = new.clone();
    match app.0.store.create_run(new).await? {
        Creation::Created => {
            app.0.worker.wake();
            app.0.metrics.run_started(&wanted.flow_name);
            let record = app
                .0
                .store
                .get_run(&run_id)
                .await?
                .ok_or_else(|| StoreError::NotFound(run_id.clone()))?;
            Ok((StatusCode::CREATED, Json(record.into())))
        }
        Creation::Existing(record) => {
            if record.flow_name != wanted.flow_name
                || record.inputs != wanted.inputs
                || record.recipient != wanted.recipient
            {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "run_id_in_use",
                    format!(
                        "run `{run_id}` was started before with {}; a run id names one run, so start this one with another run_id",
                        if record.flow_name != wanted.flow_name {
                            format!("the flow `{}`", record.flow_name)
                        } else {
                            "other inputs or another recipient".to_owned()
                        }
                    ),
                ));
            }
            Ok((
                StatusCode::OK,
                Json(statuses::run_view(&app, *record).await?),
            ))
        }
    }
}

/// Lists runs, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/runs", operation_id = "list_runs", tag = "runs", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of runs.", body = RunPage),
        (status = 400, description = "A bad filter, limit or cursor.", body = super::model::ErrorBody),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn list(
    State(app): State<AppState>,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<RunPage>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to 1000, not {limit}"
        )));
    }
    let filter = RunFilter {
        status: params.status.map(Status::from),
        flow: params.flow,
    };
    let cursor = params.cursor.map(Cursor::new);
    let limit = u32::try_from(limit).unwrap_or(1000);
    let page = match app.0.store.list_runs(&filter, limit, cursor.as_ref()).await {
        Ok(page) => page,
        // The store's words name its own API; the client passes `next_cursor`.
        Err(StoreError::Invalid(_)) if cursor.is_some() => {
            let given = cursor.as_ref().map(Cursor::as_str).unwrap_or_default();
            return Err(ApiError::bad_request(format!(
                "the page cursor `{}` was not made by this server; pass the `next_cursor` of the page before, as it was given",
                shorten(given)
            )));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(RunPage {
        runs: page.runs.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}

/// One run: where it is, and its outcome so far.
#[utoipa::path(get, path = "/v1/runs/{run_id}", operation_id = "get_run", tag = "runs", security(("bearer" = [])),
    params(("run_id" = String, Path, description = "The run id.", example = "order-42")),
    responses(
        (status = 200, description = "The run.", body = RunView),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
        (status = 404, description = "No run has this id.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn get(
    State(app): State<AppState>,
    RunIdPath(run_id): RunIdPath,
) -> Result<Json<RunView>, ApiError> {
    if check_run_id(&run_id).is_err() {
        return Err(ApiError::run_not_found(&run_id));
    }
    match app.0.store.get_run(&run_id).await? {
        Some(record) => Ok(Json(statuses::run_view(&app, record).await?)),
        None => Err(ApiError::run_not_found(&run_id)),
    }
}

/// Cancels a run that has not ended. A step under way finishes, and nothing after it runs.
#[utoipa::path(post, path = "/v1/runs/{run_id}/cancel", operation_id = "cancel_run", tag = "runs", security(("bearer" = [])),
    params(("run_id" = String, Path, description = "The run id.", example = "order-42")),
    responses(
        (status = 200, description = "The run, cancelled.", body = RunView),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
        (status = 404, description = "No run has this id.", body = super::model::ErrorBody),
        (status = 409, description = "The run has ended.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn cancel(
    State(app): State<AppState>,
    RunIdPath(run_id): RunIdPath,
) -> Result<Json<RunView>, ApiError> {
    cancel_run(&app, &run_id).await.map(Json)
}

/// Retries a failed run under the same run id: it is queued again and resumed where it
/// failed. The steps that succeeded stay done (their requests are not sent again, their
/// messages not repeated); the failed step runs again, an `http` step with the same
/// idempotency key. A run the server failed before a step (a missing secret, a flow that no
/// longer compiles) resumes from its last checkpoint.
#[utoipa::path(post, path = "/v1/runs/{run_id}/retry", operation_id = "retry_run", tag = "runs", security(("bearer" = [])),
    params(("run_id" = String, Path, description = "The run id.", example = "order-42")),
    responses(
        (status = 200, description = "The run, `queued` again.", body = RunView),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
        (status = 404, description = "No run has this id.", body = super::model::ErrorBody),
        (status = 409, description = "The run is not `failed` (or failed before the server kept a failed run's state).", body = super::model::ErrorBody),
    ))]
pub(crate) async fn retry(
    State(app): State<AppState>,
    RunIdPath(run_id): RunIdPath,
) -> Result<Json<RunView>, ApiError> {
    retry_run(&app, &run_id).await.map(Json)
}

/// Queues failed run `run_id` again and wakes the run loop: the retry the API and the runs
/// page share.
pub(crate) async fn retry_run(app: &AppState, run_id: &str) -> Result<RunView, ApiError> {
    if check_run_id(run_id).is_err() {
        return Err(ApiError::run_not_found(run_id));
    }
    match app.0.store.retry(run_id).await {
        Ok(()) => app.0.worker.wake(),
        Err(StoreError::Conflict(m)) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "run_not_failed", m));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(%run_id, "run retried: queued again where it failed");
    match app.0.store.get_run(run_id).await? {
        Some(record) => Ok(statuses::run_view(app, record).await?),
        None => Err(ApiError::run_not_found(run_id)),
    }
}

/// Cancels run `run_id` (the API's cancel and the runs page's share it).
pub(crate) async fn cancel_run(app: &AppState, run_id: &str) -> Result<RunView, ApiError> {
    if check_run_id(run_id).is_err() {
        return Err(ApiError::run_not_found(run_id));
    }
    match app.0.store.cancel(run_id).await {
        Ok(()) => {}
        Err(StoreError::Conflict(m)) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "run_ended", m));
        }
        Err(e) => return Err(e.into()),
    }
    match app.0.store.get_run(run_id).await? {
        Some(record) => {
            app.0.metrics.run_finished(&record.flow_name, "cancelled");
            Ok(statuses::run_view(app, record).await?)
        }
        None => Err(ApiError::run_not_found(run_id)),
    }
}

/// Whether `value` holds `secret`: a string that contains it (or, for a short secret, that is
/// it), anywhere in arrays and objects.
pub(crate) fn holds(value: &Value, secret: &str) -> bool {
    match value {
        Value::String(text) if secret.chars().count() < SHORT_SECRET_CHARS => text == secret,
        Value::String(text) => !secret.is_empty() && text.contains(secret),
        Value::Array(items) => items.iter().any(|v| holds(v, secret)),
        Value::Object(map) => map.values().any(|v| holds(v, secret)),
        _ => false,
    }
}

/// Whether a run of `flow` may send a message: it has a `message` step, or a `flow` step
/// (whose flow may have one).
fn may_send_messages(flow: &flowstep_spec::Flow) -> bool {
    flow.steps
        .iter()
        .any(|s| matches!(s.kind.value.as_str(), "message" | "flow"))
}
