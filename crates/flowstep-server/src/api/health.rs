//! `GET /healthz` (the process is up) and `GET /readyz` (the store answers and flows are
//! loaded), for load balancers and orchestrators; neither needs the token.

use super::AppState;
use super::error::ApiError;
use super::model::{Health, Ready};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up.", body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// The server can take runs: the store answers and flows are loaded.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready.", body = Ready),
        (status = 503, description = "The store cannot be reached.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn readyz(State(app): State<AppState>) -> Result<Json<Ready>, ApiError> {
    if let Err(e) = app.0.store.check_ready().await {
        tracing::error!("readiness: {e}");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the run store cannot be read or written now (the server's log says why)",
        ));
    }
    Ok(Json(Ready {
        status: "ready".into(),
        flows: app.0.plans.current().len(),
    }))
}
