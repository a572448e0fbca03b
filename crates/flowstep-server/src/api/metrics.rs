//! `GET /metrics`: every metric in the OpenMetrics text format, behind the API token
//! (Prometheus sends it with `authorization: {credentials: ...}` in its scrape config). The
//! run gauges are counted in the store at each scrape.

use super::AppState;
use crate::metrics::CONTENT_TYPE;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use flowstep_store::{RunFilter, Status};

pub(crate) async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let count = |status| {
        let app = app.clone();
        async move {
            let filter = RunFilter {
                status: Some(status),
                flow: None,
            };
            app.0.store.count_runs(&filter).await
        }
    };
    match (
        count(Status::Queued).await,
        count(Status::Waiting).await,
        count(Status::Running).await,
    ) {
        (Ok(queued), Ok(waiting), Ok(running)) => {
            app.0.metrics.set_run_counts(queued, waiting, running)
        }
        // The counters are still worth scraping; the gauges keep their last values.
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            tracing::warn!("GET /metrics: the run gauges could not be counted: {e}")
        }
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        app.0.metrics.encode(),
    )
}
