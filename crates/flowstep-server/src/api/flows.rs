//! `GET /v1/flows` and `POST /v1/flows/reload`.

use super::AppState;
use super::error::ApiError;
use super::model::{FlowList, FlowView};
use crate::flows::FlowSet;
use axum::Json;
use axum::extract::State;

fn list_of(flows: &FlowSet) -> FlowList {
    FlowList {
        flows: flows
            .iter()
            .map(|f| FlowView {
                name: f.name.clone(),
                file: f.file.clone(),
                hash: f.hash.clone(),
                preset: f.preset,
                inputs: f
                    .plan
                    .flow()
                    .inputs
                    .iter()
                    .map(|i| i.name.value.clone())
                    .collect(),
                secrets: f.plan.required_secrets().to_vec(),
            })
            .collect(),
    }
}

/// The flows runs can start.
#[utoipa::path(get, path = "/v1/flows", operation_id = "list_flows", tag = "flows", security(("bearer" = [])),
    responses(
        (status = 200, description = "The flows.", body = FlowList),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn list(State(app): State<AppState>) -> Json<FlowList> {
    Json(list_of(&app.0.plans.current()))
}

/// Reads the flows again (presets and `--flows` directories). When one fails its check,
/// nothing changes and the answer draws every problem. Runs already started keep the flow
/// they started with.
#[utoipa::path(post, path = "/v1/flows/reload", operation_id = "reload_flows", tag = "flows", security(("bearer" = [])),
    responses(
        (status = 200, description = "The flows now served.", body = FlowList),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
        (status = 422, description = "A flow failed its check; the old flows stay.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn reload(State(app): State<AppState>) -> Result<Json<FlowList>, ApiError> {
    match app.reload() {
        Ok(flows) => {
            tracing::info!(
                "flows reloaded: {}",
                flows.names().collect::<Vec<_>>().join(", ")
            );
            Ok(Json(list_of(&flows)))
        }
        Err(e) => {
            tracing::warn!("flows not reloaded:\n{e}");
            let mut error = ApiError::unprocessable(
                "invalid_flows",
                "a flow failed its check; the flows served are unchanged",
            );
            error.problems = e.problems;
            Err(error)
        }
    }
}
