//! The WhatsApp Cloud API stand-in: its state, `POST /{version}/{phone_number_id}/messages`
//! with a bearer token (text, interactive `cta_url` and `button`, and template messages of the
//! approved templates it knows), the 24-hour customer service window, and the record of every
//! message it accepted.
//!
//! The window, as WhatsApp enforces it (facts file `webhooks-and-messaging-facts.md`): a
//! free-form message (text or interactive) to a customer who has not written in the last 24
//! hours (`POST /__sandbox/whatsapp/inbound`) is accepted with 200, then reported `failed` with
//! error 131047 in a status webhook; a template message is `sent` then `delivered` whenever.
//!
//! Graph's host is routed to the same port as Stripe's and Razorpay's. A path is the
//! Cloud API's when it has exactly three segments, the first a Graph version (`v21.0`,
//! `v19`) and the last `messages` ([`route`]); the router's pattern is wider, and what it
//! matches beyond that stays Stripe's (`/v1/checkout/messages` is Stripe's unknown URL).
//!
//! Order of checks, as Graph does it: the access token; then the object (the phone number
//! id); then the body's parameters.

pub(crate) mod errors;
pub(crate) mod inbound;
pub(crate) mod messages;
pub(crate) mod templates;
pub(crate) mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::api::{self, form_pairs, has_media_type, header, lock, now, random_alnum};
use crate::events::Outbox;
use crate::stripe;
use errors::GraphError;

/// The WhatsApp Cloud API access token the sandbox accepts (`Authorization: Bearer ...`).
/// Any other token gets Graph's code 190 answer.
pub const SANDBOX_WHATSAPP_TOKEN: &str = "EAAflowstepSandboxToken0000000000";

/// The only WhatsApp business phone number id the sandbox knows; messages are sent with
/// `POST /{version}/{this}/messages`. Any other id gets Graph's "Object with ID ... does
/// not exist" answer.
pub const SANDBOX_WHATSAPP_PHONE_NUMBER_ID: &str = "100000000000001";

/// One message the WhatsApp stand-in accepted (see `Sandbox::whatsapp_messages` and
/// `GET /__sandbox/whatsapp/messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedWhatsApp {
    /// The sender's phone number id, from the URL.
    pub phone_number_id: String,
    /// The recipient exactly as the request's `to` gave it (e.g. `+919000090000`).
    pub to: String,
    /// What the customer reads, byte for byte: `text.body`, an interactive message's
    /// `body.text`, or a template's body with its parameters filled in.
    pub text: String,
    /// The `wamid.` id the answer gave the message.
    pub id: String,
    /// The message type: `text`, `interactive` or `template`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request body exactly as received.
    pub body: String,
    /// What became of it: `delivered`, or `failed` (a free-form message outside the 24-hour
    /// window).
    pub status: String,
    /// The error code of a `failed` message (131047).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
}

/// The 24-hour customer service window, in seconds.
pub const CUSTOMER_SERVICE_WINDOW_SECS: i64 = 24 * 60 * 60;

/// WhatsApp's side of the sandbox: every message accepted, in arrival order, when each
/// customer last wrote (`POST /__sandbox/whatsapp/inbound`), in Unix seconds, by WhatsApp id,
/// and the approved templates.
#[derive(Debug)]
pub(crate) struct WhatsAppState {
    pub(crate) messages: Mutex<Vec<ReceivedWhatsApp>>,
    pub(crate) last_inbound: Mutex<HashMap<String, i64>>,
    pub(crate) templates: Mutex<Vec<templates::SandboxTemplate>>,
}

impl Default for WhatsAppState {
    fn default() -> Self {
        WhatsAppState {
            messages: Mutex::default(),
            last_inbound: Mutex::default(),
            templates: Mutex::new(templates::builtin_templates()),
        }
    }
}

/// The Cloud API's route; every method reaches the handler, which answers those Graph does
/// not serve on a phone number.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<WhatsAppState>: FromRef<S>,
    Arc<Outbox>: FromRef<S>,
{
    Router::new().route("/{version}/{phone_number_id}/messages", any(send))
}

/// A Cloud API messages path: the Graph version and the phone number id.
pub(crate) struct Route<'a> {
    version: &'a str,
    phone_number_id: &'a str,
}

/// `v21.0`, `v19`: `v`, digits, optionally `.` and digits.
fn is_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

/// Matches `/{version}/{phone_number_id}/messages`. A dotless version (`v1`) also needs a
/// numeric id (Graph ids are numbers), so that a Stripe-shaped path such as
/// `/v1/checkout/messages` keeps Stripe's "Unrecognized request URL" answer.
pub(crate) fn route(path: &str) -> Option<Route<'_>> {
    let mut parts = path.strip_prefix('/')?.split('/');
    let (version, id, last) = (parts.next()?, parts.next()?, parts.next()?);
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none()
        && last == "messages"
        && is_version(version)
        && !id.is_empty()
        && (version.contains('.') || numeric))
        .then_some(Route {
            version,
            phone_number_id: id,
        })
}

/// The token from `Authorization: Bearer ...` or, as Graph also allows, the
/// `access_token` query parameter.
fn token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let from_header = header(headers, AUTHORIZATION)
        .map(|v| v.trim().to_string())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_string())
        });
    let from_query = || {
        query
            .map(|q| form_pairs(q.as_bytes()))
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "access_token"))
            .map(|(_, v)| v)
    };
    from_header.or_else(from_query).filter(|t| !t.is_empty())
}

/// The body's parameters: a JSON object when the request says `application/json` and is
/// one, else nothing (so the first check reports `messaging_product` as missing, which
/// is what Graph answers when it cannot read a parameter). Graph also reads form-encoded
/// parameters; the sandbox takes JSON only, which is stricter.
fn json_params(headers: &HeaderMap, body: &Bytes) -> Map<String, Value> {
    if !has_media_type(headers, "application/json") {
        return Map::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A message id in the shape Meta's have: `wamid.` and base64 of an opaque id that
/// carries the recipient (real ones are protobuf-like; the content is not specified).
fn wamid(wa_id: &str) -> String {
    let raw = format!(
        "{wa_id}\u{15}\u{2}\u{0}\u{11}\u{18}\u{12}{}",
        random_alnum(18)
    );
    format!(
        "wamid.{}",
        base64::engine::general_purpose::STANDARD.encode(raw.to_ascii_uppercase())
    )
}

/// `POST /{version}/{phone_number_id}/messages`. An accepted message gets a `sent` then a
/// `delivered` status webhook, or, when it is free-form and the customer has not written in
/// the last 24 hours, one `failed` status with error 131047.
async fn send(
    State(wa): State<Arc<WhatsAppState>>,
    State(outbox): State<Arc<Outbox>>,
    req: Parts,
    body: Bytes,
) -> Response {
    let (method, uri, headers) = (&req.method, &req.uri, &req.headers);
    let Some(route) = route(uri.path()) else {
        return stripe::not_found(method, uri, headers);
    };
    let accept = || {
        match token(headers, uri.query()) {
            None => return Err(GraphError::no_token()),
            Some(t) if t != SANDBOX_WHATSAPP_TOKEN => return Err(GraphError::bad_token()),
            Some(_) => {}
        }
        let id = route.phone_number_id;
        if id != SANDBOX_WHATSAPP_PHONE_NUMBER_ID || method != Method::POST {
            // Inference for a GET on the sandbox's own number: Graph's same "Unsupported
            // get request" family.
            return Err(GraphError::no_such_object(method.as_str(), id));
        }
        let templates = lock(&wa.templates).clone();
        let msg = messages::validate(&json_params(headers, &body), &templates)?;
        let wamid = wamid(&msg.wa_id);
        let now = now();
        let last = lock(&wa.last_inbound).get(&msg.wa_id).copied();
        let in_window = last.is_some_and(|t| now - t < CUSTOMER_SERVICE_WINDOW_SECS);
        let delivered = in_window || !msg.is_free_form();
        lock(&wa.messages).push(ReceivedWhatsApp {
            phone_number_id: id.to_string(),
            to: msg.to.clone(),
            text: msg.body.clone(),
            id: wamid.clone(),
            kind: msg.kind.to_owned(),
            body: String::from_utf8_lossy(&body).into_owned(),
            status: if delivered { "delivered" } else { "failed" }.to_owned(),
            error_code: (!delivered).then_some(webhooks::RE_ENGAGEMENT_CODE),
        });
        if delivered {
            for status in ["sent", "delivered"] {
                outbox.emit(webhooks::status(&wamid, &msg.wa_id, status, now));
            }
        } else {
            outbox.emit(webhooks::re_engagement_failed(&wamid, &msg.wa_id, now));
        }
        Ok(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": msg.to, "wa_id": msg.wa_id}],
            "messages": [{"id": wamid}],
        }))
    };
    let mut resp = accept().map_or_else(IntoResponse::into_response, |v| api::json(200, &v));
    // Graph names the version that served the call.
    if let Ok(version) = HeaderValue::from_str(route.version) {
        resp.headers_mut().append("facebook-api-version", version);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route("/v21.0/100000000000001/messages").unwrap();
        assert_eq!((r.version, r.phone_number_id), ("v21.0", "100000000000001"));
        assert!(route("/v19/1/messages").is_some());
        assert!(route("/v21.0/not-a-number/messages").is_some());
        for p in [
            "/v1/payment_links/messages/x",
            "/21.0/1/messages",
            "/v21.0//messages",
            "/v21.0/1/messages/",
            "/v21.x/1/messages",
            "/v21.0/1/media",
            "/v1/checkout/messages",
        ] {
            assert!(route(p).is_none(), "{p}");
        }
    }

    #[test]
    fn wamid_shape() {
        let id = wamid("919000090000");
        let b64 = id.strip_prefix("wamid.").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert!(raw.starts_with(b"919000090000"));
    }
}
