//! The app: every API's routes, each group tagged with the [`Api`] it stands in for,
//! behind the two middlewares every route goes through: reading the request (its id, its
//! body under the one limit, its record) and applying injected faults. What those answer
//! themselves (an oversized body, a `Status` fault) is in the envelope of the route's API.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};

use crate::api::{self, Api, CloseConnection, Delay, RequestId, lock, random_alnum};
use crate::faults::FaultAction;
use crate::state::{AppState, RecordedRequest};
use crate::{admin, pages, razorpay, stripe, whatsapp};

/// The paths do not overlap, so the groups merge into one router; Stripe's router brings
/// the fallback, Razorpay's its own for the paths under its collection.
pub(crate) fn app(state: AppState) -> Router {
    // `Router::layer` wraps each route, the layer added last outermost; the tag goes on
    // last so the two middlewares inside it can read it.
    let tag = |api: Api, routes: Router<AppState>| {
        routes
            .layer(from_fn_with_state(state.clone(), apply_fault))
            .layer(from_fn_with_state(state.clone(), read_request))
            .layer(Extension(api))
    };
    let sandbox = pages::routes().merge(admin::echo_routes());
    Router::new()
        .merge(tag(Api::Admin, admin::routes()))
        .merge(tag(Api::Sandbox, sandbox))
        .merge(tag(Api::Stripe, stripe::routes()))
        .merge(tag(Api::Razorpay, razorpay::routes()))
        .merge(tag(Api::WhatsApp, whatsapp::routes()))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Largest request body read (1 MiB); Stripe's own limit is not documented, and no Checkout
/// request comes near it. axum's `DefaultBodyLimit` carries it to `read_request`.
const MAX_BODY: usize = 1024 * 1024;

/// Gives the request its id (sent back as `Request-Id` on every answer), reads the whole
/// body under the limit, and records the request unless the route is an admin one. An
/// oversized body is recorded empty and answered 413; a client gone mid-body gets no
/// answer, as there is no one to answer.
async fn read_request(
    State(app): State<AppState>,
    Extension(api): Extension<Api>,
    req: Request,
    next: Next,
) -> Response {
    let id = RequestId(format!("req_{}", random_alnum(14)));
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(id.clone());
    let body = match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(body) => Some(body),
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => None,
        Err(_) => return CloseConnection.into_response(),
    };
    if api != Api::Admin {
        let recorded = RecordedRequest::new(&parts, body.as_deref().unwrap_or_default());
        lock(&app.log).push(recorded);
    }
    let mut resp = match body {
        Some(body) => next.run(Request::from_parts(parts, Body::from(body))).await,
        None => {
            // Inference: none of the three APIs documents its wording for an oversized
            // body; each answers in its own envelope.
            let text =
                format!("Request body too large: the sandbox accepts at most {MAX_BODY} bytes.");
            let body = match envelope(api, parts.uri.path()) {
                Api::Razorpay => razorpay::errors::RzpError::bad_request(text).to_json(),
                Api::WhatsApp => whatsapp::errors::GraphError::param(text).to_json(),
                _ => stripe::errors::ApiError::invalid(text).to_json(),
            };
            api::json(413, &body)
        }
    };
    // A `Status` fault has set it already, ahead of any `Request-Id` of its own.
    let id = HeaderValue::from_str(&id.0).expect("letters and digits");
    resp.headers_mut().entry("request-id").or_insert(id);
    resp
}

/// The API whose envelope the middlewares answer in. WhatsApp's route pattern is wider
/// than Graph's paths, and what it matches beyond them is Stripe's (see `whatsapp::route`).
fn envelope(api: Api, path: &str) -> Api {
    match api {
        Api::WhatsApp if whatsapp::route(path).is_none() => Api::Stripe,
        api => api,
    }
}

/// Takes one hit from the first queued fault matching the path (admin routes are never
/// faulted) and applies it.
async fn apply_fault(
    State(app): State<AppState>,
    Extension(api): Extension<Api>,
    mut req: Request,
    next: Next,
) -> Response {
    if api == Api::Admin {
        return next.run(req).await;
    }
    let fault = lock(&app.faults).take(req.uri().path());
    // Stripe's POSTs wait for a delay themselves (see `Delay`); every other request waits
    // here, before it is processed.
    let deferred = api == Api::Stripe && req.method() == Method::POST;
    let delay = match fault {
        Some(FaultAction::Delay { ms }) if deferred => Delay::new(Duration::from_millis(ms)),
        _ => Delay::default(),
    };
    req.extensions_mut().insert(delay.clone());
    match fault {
        None => {}
        Some(FaultAction::Status {
            status,
            body,
            headers,
        }) => {
            let body = body.unwrap_or_else(|| match envelope(api, req.uri().path()) {
                Api::Razorpay => razorpay::errors::default_fault_body(status),
                Api::WhatsApp => whatsapp::errors::default_fault_body(status),
                _ => stripe::errors::default_fault_body(status),
            });
            return fault_answer(&req, status, api::json_bytes(&body), headers);
        }
        Some(FaultAction::Delay { .. }) if deferred => {}
        Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultAction::CloseBeforeProcessing) => return CloseConnection.into_response(),
        Some(FaultAction::DropResponse) => {
            next.run(req).await;
            return CloseConnection.into_response();
        }
    }
    let resp = next.run(req).await;
    // What a Stripe POST did not wait for (an early error) is waited for after it.
    delay.wait().await;
    resp
}

/// A `Status` fault's answer: the request's id, then the fault's headers (one HTTP cannot
/// carry is left out), and JSON unless the fault says otherwise.
fn fault_answer(
    req: &Request,
    status: u16,
    body: Bytes,
    headers: Vec<(String, String)>,
) -> Response {
    let mut resp = api::answer(status, body);
    let id = req.extensions().get::<RequestId>();
    if let Some(id) = id.and_then(|id| HeaderValue::from_str(&id.0).ok()) {
        resp.headers_mut().insert("request-id", id);
    }
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes());
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(&value)) {
            resp.headers_mut().append(name, value);
        }
    }
    if status != 204 && !resp.headers().contains_key(CONTENT_TYPE) {
        let json = HeaderValue::from_static("application/json");
        resp.headers_mut().insert(CONTENT_TYPE, json);
    }
    resp
}
