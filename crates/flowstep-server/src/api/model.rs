//! The API's request and response bodies, with their OpenAPI schemas.

use crate::time::rfc3339;
use flowstep_store::{EventRecord, RunRecord, RunSummary, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `POST /v1/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"flow": "stripe-checkout", "inputs": {"product_name": "Blue T-shirt", "amount_paise": 50000, "success_url": "https://shop.example/thanks"}, "run_id": "order-42"}))]
#[serde(deny_unknown_fields)]
pub struct CreateRun {
    /// The flow's name (`GET /v1/flows` lists them).
    pub flow: String,
    /// Input values by name, of the types the flow declares; defaults fill the rest.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
    /// The run id: 1 to 128 ASCII letters, digits, `-`, `_` and `.`, starting with a letter or
    /// digit. Idempotency keys derive from it, and a second start with the same id returns the
    /// first run. A fresh one when absent.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Who the run's messages go to (a WhatsApp number with country code, `+919000090000`).
    #[serde(default)]
    pub to: Option<String>,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatusView {
    /// Waiting for a worker.
    Queued,
    /// A worker is running it.
    Running,
    /// Parked until an event or a deadline.
    Waiting,
    /// Every step succeeded or was skipped.
    Succeeded,
    /// A step failed, or the run could not be run.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl From<Status> for RunStatusView {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => RunStatusView::Queued,
            Status::Running => RunStatusView::Running,
            Status::Waiting => RunStatusView::Waiting,
            Status::Succeeded => RunStatusView::Succeeded,
            Status::Failed => RunStatusView::Failed,
            Status::Cancelled => RunStatusView::Cancelled,
        }
    }
}

impl From<RunStatusView> for Status {
    fn from(s: RunStatusView) -> Self {
        match s {
            RunStatusView::Queued => Status::Queued,
            RunStatusView::Running => Status::Running,
            RunStatusView::Waiting => Status::Waiting,
            RunStatusView::Succeeded => Status::Succeeded,
            RunStatusView::Failed => Status::Failed,
            RunStatusView::Cancelled => Status::Cancelled,
        }
    }
}

/// A run, whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    /// The run id.
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// `sha256:` and the hash of the flow's source the run started with.
    pub flow_hash: String,
    /// Where the run is.
    pub status: RunStatusView,
    /// How many times a worker has claimed it (more than 1 after a crash or restart).
    pub attempt: u32,
    /// The inputs it started with.
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
    /// Who its messages go to.
    pub to: Option<String>,
    /// The outcome so far, in the shape `flowstep run --output json` prints, and each message
    /// the channel gave a `delivery_id` with its `delivery`: the furthest delivery status
    /// reported (`{"status": "sent" | "delivered" | "read" | "failed", "at", "error":
    /// {"code", "title"} | null}`), `null` while none is known; `null` before the run's first
    /// step.
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
    /// Why the run failed when no outcome says (its flow no longer compiles, a secret the
    /// server does not have).
    pub error: Option<String>,
    /// While `waiting`: what the run waits for; `null` otherwise.
    pub waiting_for: Option<WaitView>,
    /// When it was started (RFC 3339, UTC).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

impl From<RunRecord> for RunView {
    fn from(r: RunRecord) -> Self {
        let outcome = match (&r.outcome, &r.state) {
            (Some(o), _) => Some(o.to_json()),
            (None, Some(state)) => Some(state.to_outcome().to_json()),
            (None, None) => None,
        };
        RunView {
            run_id: r.run_id,
            flow: r.flow_name,
            flow_hash: r.flow_hash,
            status: r.status.into(),
            attempt: r.attempt,
            inputs: r.inputs,
            to: r.recipient,
            outcome,
            error: r.error,
            waiting_for: r.wait.map(|w| WaitView {
                step: w.step,
                events: w.events,
                r#match: w.matches.into_iter().collect(),
                deadline: rfc3339(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(w.deadline_ms),
                ),
            }),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            finished_at: r.finished_at.map(rfc3339),
        }
    }
}

/// What a waiting run waits for.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitView {
    /// The `wait` step.
    pub step: String,
    /// The event types awaited (`stripe.checkout.session.completed`).
    pub events: Vec<String>,
    /// The event's fields (dotted paths) and the value each must have.
    #[serde(rename = "match")]
    #[schema(value_type = Object)]
    pub r#match: std::collections::BTreeMap<String, String>,
    /// When it stops waiting (RFC 3339, UTC): the step then fails with `timeout` (or goes to
    /// its `on_timeout:` step).
    pub deadline: String,
}

/// A run, in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunSummaryView {
    /// The run id.
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// Where the run is.
    pub status: RunStatusView,
    /// How many times a worker has claimed it.
    pub attempt: u32,
    /// Why the run failed when no outcome says.
    pub error: Option<String>,
    /// When it was started (RFC 3339, UTC).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

impl From<RunSummary> for RunSummaryView {
    fn from(r: RunSummary) -> Self {
        RunSummaryView {
            run_id: r.run_id,
            flow: r.flow_name,
            status: r.status.into(),
            attempt: r.attempt,
            error: r.error,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            finished_at: r.finished_at.map(rfc3339),
        }
    }
}

/// `GET /v1/runs` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only runs with this status.
    pub status: Option<RunStatusView>,
    /// Only runs of this flow.
    pub flow: Option<String>,
    /// At most this many runs (1 to 1000; default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Where the page starts: the `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// A page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    /// The runs.
    pub runs: Vec<RunSummaryView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A provider whose webhooks the server takes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderView {
    /// `POST /webhooks/stripe`.
    Stripe,
    /// `POST /webhooks/razorpay`.
    Razorpay,
    /// `POST /webhooks/whatsapp`.
    Whatsapp,
}

impl ProviderView {
    /// The name events are stored under.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderView::Stripe => "stripe",
            ProviderView::Razorpay => "razorpay",
            ProviderView::Whatsapp => "whatsapp",
        }
    }
}

/// `GET /v1/events` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListParams {
    /// Only events from this provider.
    pub provider: Option<ProviderView>,
    /// At most this many events (1 to 1000; default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Where the page starts: the `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// An event a provider sent, as recorded (once per provider and event id).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// `stripe`, `razorpay` or `whatsapp`.
    pub provider: String,
    /// The provider's id of the event, the de-duplication key: a Stripe `evt_...`, the
    /// `x-razorpay-event-id` header, a WhatsApp message's `wamid` or a status's
    /// `wamid:status`.
    pub event_id: String,
    /// What happened: `checkout.session.completed`, `payment_link.paid`, `message`,
    /// `status.delivered`, ...
    pub event_type: String,
    /// When the first delivery was received (RFC 3339, UTC).
    pub received_at: String,
    /// The event as received (for WhatsApp, the notification narrowed to this one message or
    /// status).
    #[schema(value_type = Object)]
    pub payload: Value,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        EventView {
            provider: e.provider,
            event_id: e.event_id,
            event_type: e.event_type,
            received_at: rfc3339(e.received_at),
            payload: e.payload,
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPageView {
    /// The events.
    pub events: Vec<EventView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A flow runs can start.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowView {
    /// Its name, for `POST /v1/runs`.
    pub name: String,
    /// The file it was read from.
    pub file: String,
    /// `sha256:` and the hash of its source.
    pub hash: String,
    /// Whether it is a bundled preset.
    pub preset: bool,
    /// The inputs it declares.
    pub inputs: Vec<String>,
    /// The secrets it reads from the server's environment.
    pub secrets: Vec<String>,
}

/// The flows runs can start.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowList {
    /// Every flow, by name.
    pub flows: Vec<FlowView>,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: String,
    /// How many flows are loaded.
    pub flows: usize,
}

/// Every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable name: `bad_request`, `unauthorized`, `invalid_inputs`, `unknown_flow`,
    /// `invalid_run_id`, `run_id_in_use`, `missing_secrets`, `secret_in_inputs`,
    /// `run_not_found`, `run_ended`, `run_not_failed`, `invalid_flows`, `body_too_large`, `store_unavailable`;
    /// from the webhook endpoints `webhook_not_configured`, `missing_signature`,
    /// `malformed_signature`, `bad_signature`, `stale_timestamp`, `invalid_json`,
    /// `invalid_event`, `verification_failed`, ...
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// Each problem, when there are several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
}
