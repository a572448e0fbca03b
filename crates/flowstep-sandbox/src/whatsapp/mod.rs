//! The WhatsApp Cloud API stand-in: `POST /{version}/{phone_number_id}/messages` with a
//! bearer token, text messages only, and the record of every message it accepted.
//!
//! Graph's host is routed to the same port as Stripe's and Razorpay's. A path is the
//! Cloud API's when it has exactly three segments, the first a Graph version (`v21.0`,
//! `v19`) and the last `messages`; Stripe's and Razorpay's routes are matched first, so
//! `/v1/payment_links/...` and `/v1/checkout/...` never land here.
//!
//! Order of checks, as Graph does it: the access token; then the object (the phone number
//! id); then the body's parameters.

pub(crate) mod errors;
pub(crate) mod messages;

use std::sync::Arc;

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::state::State;
use crate::stripe::{ApiRequest, ApiResponse, params, random_alnum};
use errors::GraphError;

/// One text message the WhatsApp stand-in accepted (see
/// [`crate::Sandbox::whatsapp_messages`] and `GET /__sandbox/whatsapp/messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedWhatsApp {
    /// The sender's phone number id, from the URL.
    pub phone_number_id: String,
    /// The recipient exactly as the request's `to` gave it (e.g. `+919000090000`).
    pub to: String,
    /// `text.body` exactly as sent, byte for byte.
    pub text: String,
    /// The `wamid.` id the answer gave the message.
    pub id: String,
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
fn token(req: &ApiRequest<'_>) -> Option<String> {
    let from_header = req
        .headers
        .get(hyper::header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_string())
        });
    let from_query = || {
        req.query
            .map(|q| params::decode_pairs(q.as_bytes()))
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "access_token"))
            .map(|(_, v)| v)
    };
    from_header.or_else(from_query).filter(|t| !t.is_empty())
}

/// The body's parameters: a JSON object when the request says `application/json` and is
/// one, else nothing (so the first check reports `messaging_product` as missing, which
/// is what Graph answers when it cannot read a parameter). Graph also reads form-encoded
/// parameters; the sandbox takes JSON only, which is stricter.
fn json_params(req: &ApiRequest<'_>) -> Map<String, Value> {
    let is_json = req
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
        .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim() == "application/json");
    if !is_json {
        return Map::new();
    }
    match serde_json::from_slice::<Value>(req.body) {
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

/// Handles a request whose path [`route`] matched.
pub(crate) fn handle(state: &Arc<State>, req: &ApiRequest<'_>, route: Route<'_>) -> ApiResponse {
    let mut resp = match handle_inner(state, req, &route) {
        Ok(v) => ApiResponse::json(200, &v),
        Err(e) => e.response(),
    };
    // Graph names the version that served the call.
    resp.headers
        .push(("facebook-api-version".into(), route.version.to_string()));
    resp
}

fn handle_inner(
    state: &Arc<State>,
    req: &ApiRequest<'_>,
    route: &Route<'_>,
) -> Result<Value, GraphError> {
    match token(req) {
        None => return Err(GraphError::no_token()),
        Some(t) if t != crate::SANDBOX_WHATSAPP_TOKEN => return Err(GraphError::bad_token()),
        Some(_) => {}
    }
    if route.phone_number_id != crate::SANDBOX_WHATSAPP_PHONE_NUMBER_ID
        || *req.method != hyper::Method::POST
    {
        // Inference for a GET on the sandbox's own number: Graph's same "Unsupported get
        // request" family.
        return Err(GraphError::no_such_object(
            req.method.as_str(),
            route.phone_number_id,
        ));
    }
    let msg = messages::validate(&json_params(req))?;
    let id = wamid(&msg.wa_id);
    state.record_whatsapp(ReceivedWhatsApp {
        phone_number_id: route.phone_number_id.to_string(),
        to: msg.to.clone(),
        text: msg.body,
        id: id.clone(),
    });
    Ok(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": msg.to, "wa_id": msg.wa_id}],
        "messages": [{"id": id}],
    }))
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
