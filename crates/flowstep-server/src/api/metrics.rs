//! `GET /metrics`: every metric in the OpenMetrics text format, behind the API token
//! (Prometheus sends it with `authorization: {credentials: ...}` in its scrape config). The
//! run gauges are counted in the store at each scrape.

use super::AppState;
use crate::metrics::CONTENT_TYPE;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use flowstep_store::{RunFilter, Status};
use std::time::Duration;

/// How long a scrape waits for the store to count the runs (Prometheus's default scrape
/// timeout is 10 s).
const GAUGE_BUDGET: Duration = Duration::from_secs(2);

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
    // A store that cannot answer (a database down) must not cost the scrape: the counts get
    // GAUGE_BUDGET together, and the counters are served either way.
    let counts = tokio::time::timeout(GAUGE_BUDGET, async {
        tokio::try_join!(
            count(Status::Queued),
            count(Status::Waiting),
            count(Status::Running)
        )
    })
    .await;
    match counts {
        Ok(Ok((queued, waiting, running))) => {
            app.0.metrics.set_run_counts(queued, waiting, running)
        }
        // The counters are still worth scraping; the gauges keep their last values.
        Ok(Err(e)) => tracing::warn!("GET /metrics: the run gauges could not be counted: {e}"),
        Err(_) => tracing::warn!(
            "GET /metrics: the store did not count the runs within {} s; the run gauges keep their last values",
            GAUGE_BUDGET.as_secs()
        ),
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        app.0.metrics.encode(),
    )
}
