//! The sandbox's state: each API's own state, the fault queue and the request log,
//! composed. Handlers take only their API's part (`FromRef`), so no API knows this type.

use std::sync::{Arc, Mutex};

use axum::extract::FromRef;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::Serialize;

use crate::api::{form_pairs, header};
use crate::events::Outbox;
use crate::faults::FaultQueue;
use crate::razorpay::RazorpayState;
use crate::stripe::StripeState;
use crate::whatsapp::WhatsAppState;

#[derive(Clone, FromRef)]
pub(crate) struct AppState {
    pub(crate) stripe: Arc<StripeState>,
    pub(crate) razorpay: Arc<RazorpayState>,
    pub(crate) whatsapp: Arc<WhatsAppState>,
    /// The events the APIs emit, and their delivery.
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) faults: Arc<Mutex<FaultQueue>>,
    /// Every request that reached an API route, in arrival order.
    pub(crate) log: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl AppState {
    /// `base_url` is the sandbox's, for the URLs of the hosted pages; event deliveries stop
    /// when `shutdown`'s sender is dropped.
    pub(crate) fn new(base_url: &str, shutdown: tokio::sync::watch::Receiver<()>) -> AppState {
        AppState {
            stripe: Arc::new(StripeState {
                base_url: base_url.to_string(),
                ..StripeState::default()
            }),
            razorpay: Arc::new(RazorpayState {
                base_url: base_url.to_string(),
                ..RazorpayState::default()
            }),
            whatsapp: Arc::default(),
            outbox: Arc::new(Outbox::new(shutdown)),
            faults: Arc::default(),
            log: Arc::default(),
        }
    }
}

/// One request as it arrived at the sandbox (see `Sandbox::requests`).
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path without the query, e.g. `/v1/checkout/sessions`.
    pub path: String,
    /// The raw query string (without `?`), if there was one.
    pub query: Option<String>,
    /// Every header in arrival order, names lowercased, values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The body, decoded lossily as UTF-8.
    pub body: String,
    /// The decoded form pairs when the body is `application/x-www-form-urlencoded`.
    pub form: Option<Vec<(String, String)>>,
    /// When it arrived, in milliseconds since the Unix epoch (for counting requests per
    /// second against a rate limit).
    pub received_at_ms: u64,
}

impl RecordedRequest {
    pub(crate) fn new(parts: &Parts, body: &[u8]) -> RecordedRequest {
        let content_type = header(&parts.headers, CONTENT_TYPE).unwrap_or_default();
        let form = content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
            .then(|| form_pairs(body));
        let headers = parts.headers.iter().map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_string(), v)
        });
        RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers: headers.collect(),
            body: String::from_utf8_lossy(body).into_owned(),
            form,
            received_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}
