//! `POST /webhooks/stripe`, `POST /webhooks/razorpay`, `GET` and `POST /webhooks/whatsapp`:
//! events from providers, authenticated by each provider's signature over the raw body (not
//! by the API token), recorded in the store's event inbox once per event id, and answered
//! `200` only once they are durable.
//!
//! Each endpoint reads its secret from the server's [`SecretSource`](crate::SecretSource)
//! (`STRIPE_WEBHOOK_SECRET`, `RAZORPAY_WEBHOOK_SECRET`, `WHATSAPP_APP_SECRET`,
//! `WHATSAPP_VERIFY_TOKEN`); an endpoint whose secret is not set answers `404
//! webhook_not_configured` and says why in the log, once. Every refusal is a `4xx` with the
//! usual error body, stores nothing, and logs a line that names the provider and the reason,
//! never a secret or a signature.

use super::AppState;
use super::error::ApiError;
use crate::triggers::{self, Inbound};
use crate::webhooks::{EventError, Incoming, SignatureError, razorpay, stripe, whatsapp};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flowstep_engine::Secret;
use flowstep_store::{NewEvent, Recorded};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::SystemTime;

/// The environment variables (secret names) the endpoints read.
pub const STRIPE_SECRET: &str = "STRIPE_WEBHOOK_SECRET";
/// See [`STRIPE_SECRET`].
pub const RAZORPAY_SECRET: &str = "RAZORPAY_WEBHOOK_SECRET";
/// See [`STRIPE_SECRET`].
pub const WHATSAPP_SECRET: &str = "WHATSAPP_APP_SECRET";
/// See [`STRIPE_SECRET`].
pub const WHATSAPP_VERIFY_TOKEN: &str = "WHATSAPP_VERIFY_TOKEN";

/// Which secrets' absence has been logged (each once per server).
#[derive(Debug, Default)]
pub(crate) struct MissingSecrets(Mutex<BTreeSet<&'static str>>);

impl MissingSecrets {
    fn note(&self, name: &'static str, endpoint: &str) {
        let mut said = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if said.insert(name) {
            tracing::warn!(
                "{endpoint} answers 404: {name} is not set in the server's environment (set it to {} and restart to take these webhooks); said once",
                if name == WHATSAPP_VERIFY_TOKEN {
                    "a token you choose, the one you type as the verify token in Meta's webhook setup"
                } else {
                    "the provider's signing secret"
                }
            );
        }
    }
}

/// What a webhook endpoint answers once the events are durable.
#[derive(Debug, Serialize)]
pub(crate) struct Received {
    /// Events stored by this delivery.
    stored: usize,
    /// Events this delivery carried that were stored before (a re-delivery).
    duplicates: usize,
}

/// The secret `name`, or the `404` that says it is not set (logged once).
fn secret(app: &AppState, name: &'static str, endpoint: &str) -> Result<Secret, ApiError> {
    match app
        .0
        .secrets
        .secret(name)
        .filter(|s| !s.expose().is_empty())
    {
        Some(s) => Ok(s),
        None => {
            app.0.missing_webhook_secrets.note(name, endpoint);
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "webhook_not_configured",
                format!(
                    "{endpoint} is not configured on this server: {name} is not set in its environment"
                ),
            ))
        }
    }
}

/// A refusal: logged (provider and reason, never a secret) and answered.
fn refuse(provider: &str, error: ApiError) -> ApiError {
    tracing::warn!(
        provider,
        status = error.status.as_u16(),
        code = error.code,
        "webhook refused, nothing stored: {}",
        error.message
    );
    error
}

fn signature_error(provider: &str, e: SignatureError) -> ApiError {
    refuse(
        provider,
        ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
    )
}

fn event_error(provider: &str, e: EventError) -> ApiError {
    refuse(
        provider,
        ApiError::unprocessable(
            "invalid_event",
            format!("the event cannot be recorded: {e}"),
        ),
    )
}

/// The raw body, or the refusal of a body that could not be read (too large: `413`).
fn raw_body(provider: &str, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let error = match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is larger than the server takes (serve --max-body-bytes)",
            ),
            _ => ApiError::bad_request(format!("the body could not be read: {}", e.body_text())),
        };
        refuse(provider, error)
    })
}

/// The verified body as JSON (`400 invalid_json` otherwise).
fn json(provider: &str, body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        refuse(
            provider,
            ApiError::bad_request(format!("the body is not JSON: {e}")).with_code("invalid_json"),
        )
    })
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Records each event, in order; `200` once every one is durable.
async fn record(
    app: &AppState,
    provider: &str,
    events: Vec<Incoming>,
) -> Result<Json<Received>, ApiError> {
    let received_at = SystemTime::now();
    let shapes = app.0.plans.wait_shapes();
    let mut answer = Received {
        stored: 0,
        duplicates: 0,
    };
    for e in events {
        let event_id = e.event_id.clone();
        let inbound = match (provider, e.event_type.as_str()) {
            ("whatsapp", "message") => Inbound::from_payload(&e.payload),
            _ => None,
        };
        let outcome = app
            .0
            .store
            .record_event(
                NewEvent {
                    provider: provider.to_owned(),
                    event_id: e.event_id,
                    event_type: e.event_type.clone(),
                    payload: e.payload,
                    received_at,
                },
                &shapes,
            )
            .await?;
        let duplicate = outcome == Recorded::Duplicate;
        // An inbound message that ended no wait may start a flow (a re-delivery starts the
        // same run, or nothing when the first delivery ended a wait).
        if let Some(inbound) = inbound {
            let woke = match &outcome {
                Recorded::Inserted { woke } => woke.clone(),
                Recorded::Duplicate => app.0.store.event_woke(provider, &event_id).await?,
            };
            if woke.is_none() {
                triggers::start(app, &inbound).await;
            }
        }
        match outcome {
            Recorded::Inserted { woke: Some(run_id) } => {
                answer.stored += 1;
                tracing::info!(provider, %event_id, %run_id, "event ends the wait of run {run_id}");
                app.0.worker.wake();
            }
            Recorded::Inserted { woke: None } => answer.stored += 1,
            Recorded::Duplicate => answer.duplicates += 1,
        }
        tracing::info!(provider, %event_id, event_type = %e.event_type, duplicate, "webhook event recorded");
    }
    Ok(Json(answer))
}

/// `POST /webhooks/stripe`.
pub(crate) async fn stripe(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Received>, ApiError> {
    let answer = receive_stripe(&app, headers, body).await;
    counted(&app, "stripe", answer)
}

async fn receive_stripe(
    app: &AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Received>, ApiError> {
    let secret = secret(app, STRIPE_SECRET, "POST /webhooks/stripe")?;
    let body = raw_body("stripe", body)?;
    stripe::verify(
        header_text(&headers, stripe::HEADER),
        &body,
        secret.expose(),
        SystemTime::now(),
        stripe::DEFAULT_TOLERANCE,
    )
    .map_err(|e| signature_error("stripe", e))?;
    let event = stripe::event(json("stripe", &body)?).map_err(|e| event_error("stripe", e))?;
    record(app, "stripe", vec![event]).await
}

/// `POST /webhooks/razorpay`.
pub(crate) async fn razorpay(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Received>, ApiError> {
    let answer = receive_razorpay(&app, headers, body).await;
    counted(&app, "razorpay", answer)
}

async fn receive_razorpay(
    app: &AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Received>, ApiError> {
    let secret = secret(app, RAZORPAY_SECRET, "POST /webhooks/razorpay")?;
    let body = raw_body("razorpay", body)?;
    razorpay::verify(
        header_text(&headers, razorpay::HEADER),
        &body,
        secret.expose(),
    )
    .map_err(|e| signature_error("razorpay", e))?;
    let payload = json("razorpay", &body)?;
    // A header that is there but not text (bytes outside ASCII) is not "missing".
    if headers
        .get(razorpay::EVENT_ID_HEADER)
        .is_some_and(|v| v.to_str().is_err())
    {
        return Err(refuse(
            "razorpay",
            ApiError::unprocessable(
                "invalid_event",
                format!(
                    "the {} header is not ASCII text; Razorpay's event ids are",
                    razorpay::EVENT_ID_HEADER
                ),
            ),
        ));
    }
    let event = razorpay::event(header_text(&headers, razorpay::EVENT_ID_HEADER), payload)
        .map_err(|e| event_error("razorpay", e))?;
    record(app, "razorpay", vec![event]).await
}

/// `POST /webhooks/whatsapp`.
pub(crate) async fn whatsapp(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Received>, ApiError> {
    let answer = receive_whatsapp(&app, headers, body).await;
    counted(&app, "whatsapp", answer)
}

async fn receive_whatsapp(
    app: &AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Received>, ApiError> {
    let secret = secret(app, WHATSAPP_SECRET, "POST /webhooks/whatsapp")?;
    let body = raw_body("whatsapp", body)?;
    whatsapp::verify(
        header_text(&headers, whatsapp::HEADER),
        &body,
        secret.expose(),
    )
    .map_err(|e| signature_error("whatsapp", e))?;
    let payload = json("whatsapp", &body)?;
    let events = whatsapp::events(&payload).map_err(|e| event_error("whatsapp", e))?;
    super::statuses::record(app, &events).await?;
    record(app, "whatsapp", events).await
}

/// Counts a delivery's answer in the metrics: received, or rejected with its error code.
fn counted(
    app: &AppState,
    provider: &str,
    answer: Result<Json<Received>, ApiError>,
) -> Result<Json<Received>, ApiError> {
    match &answer {
        Ok(_) => app.0.metrics.webhook_received(provider),
        Err(e) => app.0.metrics.webhook_rejected(provider, e.code),
    }
    answer
}

/// `GET /webhooks/whatsapp`: Meta's subscription check. The challenge as plain text when
/// `hub.mode=subscribe` and `hub.verify_token` is `WHATSAPP_VERIFY_TOKEN`; `403` otherwise.
pub(crate) async fn whatsapp_subscribe(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let token = secret(&app, WHATSAPP_VERIFY_TOKEN, "GET /webhooks/whatsapp")?;
    let (mut mode, mut given, mut challenge) = (None, None, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let slot = match key.as_ref() {
            "hub.mode" => &mut mode,
            "hub.verify_token" => &mut given,
            "hub.challenge" => &mut challenge,
            _ => continue,
        };
        slot.get_or_insert(value.into_owned());
    }
    match whatsapp::subscription(
        mode.as_deref(),
        given.as_deref(),
        challenge.as_deref(),
        token.expose(),
    ) {
        Ok(challenge) => {
            tracing::info!("WhatsApp webhook subscription verified");
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                challenge,
            )
                .into_response())
        }
        Err(e @ whatsapp::SubscriptionError::Refused) => Err(refuse(
            "whatsapp",
            ApiError::new(StatusCode::FORBIDDEN, "verification_failed", e.to_string()),
        )),
        Err(e @ whatsapp::SubscriptionError::BadChallenge) => Err(refuse(
            "whatsapp",
            ApiError::bad_request(e.to_string()).with_code("invalid_challenge"),
        )),
    }
}
