//! The HTTP API of `flowstep serve`: routing as data, one file per resource. Handlers are
//! plain async functions over [`AppState`]; every error is a JSON body
//! `{"error": {"code", "message"}}` ([`error::ApiError`]).
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/runs` | start a run (unique by `run_id`) |
//! | `GET /v1/runs` | list runs, newest first, paged |
//! | `GET /v1/runs/{run_id}` | one run with its outcome so far |
//! | `POST /v1/runs/{run_id}/cancel` | cancel a run |
//! | `POST /v1/runs/{run_id}/retry` | queue a failed run again, resumed where it failed |
//! | `GET /v1/flows` | the flows runs can start |
//! | `POST /v1/flows/reload` | read the flows again |
//! | `GET /v1/events` | the events webhooks recorded, newest first, paged |
//! | `POST /webhooks/stripe`, `POST /webhooks/razorpay` | provider events (signed, no token) |
//! | `GET`, `POST /webhooks/whatsapp` | Meta's subscription check; WhatsApp notifications |
//! | `GET /v1/openapi.json` | the OpenAPI 3.1 document (no token needed) |
//! | `GET /healthz`, `GET /readyz` | liveness, readiness (no token needed) |
//! | `GET /metrics` | Prometheus metrics (OpenMetrics text; token needed) |

mod auth;
mod deadline;
pub mod error;
mod events;
mod extract;
mod flows;
mod health;
mod metrics;
pub mod model;
pub mod openapi;
pub(crate) mod runs;
pub(crate) mod statuses;
mod webhooks;

pub(crate) use runs::holds as holds_secret;
pub use webhooks::{RAZORPAY_SECRET, STRIPE_SECRET, WHATSAPP_SECRET, WHATSAPP_VERIFY_TOKEN};

use crate::flows::{FlowSet, LoadError};
use crate::metrics::Metrics;
use crate::plans::Plans;
use crate::secrets::SecretSource;
use crate::token::ApiToken;
use crate::worker::Worker;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use flowstep_engine::Engine;
use flowstep_store::RunStore;
use std::sync::Arc;
use std::time::Duration;
use tower_http::trace::TraceLayer;

/// Reads the flows a server runs (at start, on `SIGHUP` and on `POST /v1/flows/reload`).
pub type FlowLoader = dyn Fn(&Engine) -> Result<FlowSet, LoadError> + Send + Sync;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) store: Arc<dyn RunStore>,
    pub(crate) plans: Arc<Plans>,
    pub(crate) worker: Arc<Worker>,
    pub(crate) secrets: Arc<dyn SecretSource>,
    pub(crate) token: ApiToken,
    pub(crate) load_flows: Arc<FlowLoader>,
    /// Whether the channel needs each run's recipient (`to`) to deliver a message.
    pub(crate) needs_recipient: bool,
    /// Which webhook secrets were found missing (logged once each).
    pub(crate) missing_webhook_secrets: webhooks::MissingSecrets,
    /// What `GET /metrics` shows.
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    /// Reads the flows again and, when every one compiles, serves them to new runs. Runs
    /// already stored keep the flow they started with.
    pub fn reload(&self) -> Result<Arc<FlowSet>, LoadError> {
        let flows = (self.0.load_flows)(self.0.plans.engine())?;
        self.0.plans.replace(flows);
        Ok(self.0.plans.current())
    }
}

/// The API's router: `/v1` behind the bearer token, health, the OpenAPI document and the
/// webhooks (authenticated by their signatures) open, and `pages` (the runs page, which
/// guards itself) beside them, all under the same limits.
pub(crate) fn router(
    state: AppState,
    pages: Router<AppState>,
    max_body_bytes: usize,
    request_timeout: Duration,
) -> Router {
    let v1 = Router::new()
        .route("/v1/runs", post(runs::create).get(runs::list))
        .route("/v1/runs/{run_id}", get(runs::get))
        .route("/v1/runs/{run_id}/cancel", post(runs::cancel))
        .route("/v1/runs/{run_id}/retry", post(runs::retry))
        .route("/v1/flows", get(flows::list))
        .route("/v1/flows/reload", post(flows::reload))
        .route("/v1/events", get(events::list))
        .route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .merge(v1)
        .route("/v1/openapi.json", get(openapi::document))
        .route("/webhooks/stripe", post(webhooks::stripe))
        .route("/webhooks/razorpay", post(webhooks::razorpay))
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp_subscribe).post(webhooks::whatsapp),
        )
        .merge(pages)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::wrong_method)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            max_body_bytes,
            extract::refuse_declared_too_large,
        ))
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            deadline::within,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
