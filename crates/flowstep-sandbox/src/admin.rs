//! Admin routes under `/__sandbox/` for tests in another process and for flow authors:
//! stats, fault injection (into requests, and into the deliveries of events), the request log, the WhatsApp messages received, a customer's
//! inbound WhatsApp message, the events sent and their deliveries, and a generic echo
//! endpoint. Every other path under `/__sandbox/` is an admin 404.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use crate::api::{self, form_pairs, header, lock, refuse};
use crate::events::DeliveryFaults;
use crate::faults::Fault;
use crate::state::AppState;
use crate::whatsapp::inbound;

pub(crate) fn routes() -> Router<AppState> {
    let route = || refuse(unknown);
    Router::new()
        .route("/__sandbox/stats", route().get(stats))
        .route("/__sandbox/faults", route().post(inject))
        .route("/__sandbox/requests", route().get(requests))
        .route("/__sandbox/whatsapp/messages", route().get(whatsapp))
        .route(
            "/__sandbox/whatsapp/inbound",
            route().post(inbound::inbound),
        )
        .route("/__sandbox/events", route().get(events))
        .route(
            "/__sandbox/forward-faults",
            route().get(delivery_faults).post(set_delivery_faults),
        )
        .route("/__sandbox/", route())
        .route("/__sandbox/{*rest}", route())
}

/// The echo route, apart: it stands in for "some API" when trying the http step (retries
/// included), so it is recorded and faulted like one.
pub(crate) fn echo_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/__sandbox/echo", any(echo))
}

fn message(status: u16, text: &str) -> Response {
    let error = json!({"error": {"message": text, "type": "invalid_request_error"}});
    api::json(status, &error)
}

async fn unknown(method: Method, uri: Uri) -> Response {
    message(
        404,
        &format!(
            "Unknown sandbox admin route ({method}: {}). Routes: GET /__sandbox/stats, POST /__sandbox/faults, GET /__sandbox/requests, GET /__sandbox/whatsapp/messages, POST /__sandbox/whatsapp/inbound, GET /__sandbox/events, GET and POST /__sandbox/forward-faults, any /__sandbox/echo.",
            uri.path()
        ),
    )
}

async fn stats(State(app): State<AppState>) -> Response {
    let stats = json!({
        "sessions_created": app.stripe.sessions_created(),
        "requests": lock(&app.log).len(),
        "payment_links_created": app.razorpay.links_created(),
        "whatsapp_messages": lock(&app.whatsapp.messages).len(),
    });
    let mut resp = api::json(200, &stats);
    // How `flowstep run --sandbox` tells a running sandbox from another program on the port.
    resp.headers_mut().insert(
        crate::SANDBOX_HEADER,
        axum::http::HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    resp
}

async fn inject(State(app): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) => {
            lock(&app.faults).push(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        // serde's word for an untagged enum that nothing matched says nothing: say the shape.
        Err(e) => message(
            400,
            &format!(
                "Invalid fault JSON ({e}). Expected {{\"count\": N (at least 1), \"path_prefix\": \"/v1/...\" (optional), \"action\": \"status\" with \"status\": 100-599 (and optional \"body\" and \"headers\": [[name, value]]), or \"delay\" with \"ms\", or \"close_before_processing\", or \"drop_response\"}}; see docs/sandbox.md"
            ),
        ),
    }
}

/// `GET /__sandbox/forward-faults`: the [`DeliveryFaults`] in force.
async fn delivery_faults(State(app): State<AppState>) -> Response {
    api::json(
        200,
        &serde_json::to_value(app.outbox.faults()).unwrap_or(Value::Null),
    )
}

/// `POST /__sandbox/forward-faults` (`{"rate": 0.1, "seed": 7}`): from the next delivery
/// attempt on, that fraction of attempts fail; answers the faults now in force.
async fn set_delivery_faults(State(app): State<AppState>, body: Bytes) -> Response {
    let faults = serde_json::from_slice::<DeliveryFaults>(&body)
        .map_err(|e| {
            format!("Invalid delivery faults JSON ({e}); send {{\"rate\": 0.1, \"seed\": 7}}")
        })
        .and_then(|f| DeliveryFaults::new(f.rate, f.seed));
    match faults {
        Ok(faults) => {
            app.outbox.set_faults(faults);
            tracing::info!(
                rate = faults.rate,
                seed = faults.seed,
                "sandbox delivery faults set"
            );
            api::json(200, &serde_json::to_value(faults).unwrap_or(Value::Null))
        }
        Err(e) => message(400, &e),
    }
}

async fn requests(State(app): State<AppState>) -> Response {
    let log = serde_json::to_value(&*lock(&app.log)).unwrap_or(Value::Null);
    api::json(200, &log)
}

async fn whatsapp(State(app): State<AppState>) -> Response {
    let messages = lock(&app.whatsapp.messages).clone();
    api::json(200, &serde_json::to_value(messages).unwrap_or(Value::Null))
}

/// `GET /__sandbox/events`: every event emitted, in order, with its deliveries.
async fn events(State(app): State<AppState>) -> Response {
    let events = app.outbox.events();
    api::json(200, &serde_json::to_value(events).unwrap_or(Value::Null))
}

/// `/__sandbox/echo`: the request as JSON, so an author can see exactly what the http step
/// sent (headers, the raw body, the decoded form pairs, the parsed JSON).
async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut hmap = Map::new();
    for name in headers.keys() {
        let values = headers.get_all(name).iter();
        let values: Vec<_> = values
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect();
        // Repeated headers are joined as HTTP allows (`a, b`).
        hmap.insert(name.to_string(), Value::String(values.join(", ")));
    }
    let content_type = header(&headers, CONTENT_TYPE).unwrap_or_default();
    let form = content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
        .then(|| form_pairs(&body));
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    api::json(
        200,
        &json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": uri.query(),
            "headers": Value::Object(hmap),
            "body": String::from_utf8_lossy(&body),
            "form": form,
            "json": json_body,
        }),
    )
}
