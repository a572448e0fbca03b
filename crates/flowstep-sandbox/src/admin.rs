//! Admin routes under `/__sandbox/` for tests in another process and for flow authors:
//! stats, fault injection, the request log, the WhatsApp messages received, and a generic
//! echo endpoint.

use std::sync::Arc;

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::state::State;
use crate::stripe::ApiResponse;
use crate::stripe::params::decode_pairs;

/// The echo route: recorded and subject to faults like an API route, since it stands in
/// for "some API" when trying the http step (retries included).
pub(crate) const ECHO_PATH: &str = "/__sandbox/echo";

/// Is this an admin route (not recorded, never faulted)? The echo route is not one.
pub(crate) fn is_admin(path: &str) -> bool {
    path.starts_with("/__sandbox/") && path != ECHO_PATH
}

fn message(status: u16, text: &str) -> ApiResponse {
    ApiResponse::json(
        status,
        &json!({"error": {"message": text, "type": "invalid_request_error"}}),
    )
}

/// `/__sandbox/stats`, `/__sandbox/faults`, `/__sandbox/requests`,
/// `/__sandbox/whatsapp/messages`.
pub(crate) fn handle(state: &Arc<State>, method: &Method, path: &str, body: &Bytes) -> ApiResponse {
    match (method, path) {
        (&Method::GET, "/__sandbox/stats") => ApiResponse::json(
            200,
            &json!({
                "sessions_created": state.sessions_created(),
                "requests": state.request_count(),
                "payment_links_created": state.payment_links_created(),
                "whatsapp_messages": state.whatsapp_count(),
            }),
        ),
        (&Method::GET, "/__sandbox/whatsapp/messages") => ApiResponse::json(
            200,
            &serde_json::to_value(state.whatsapp_messages()).unwrap_or(Value::Null),
        ),
        (&Method::POST, "/__sandbox/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(fault) => {
                state.inject(fault);
                ApiResponse {
                    status: 204,
                    body: Bytes::new(),
                    headers: Vec::new(),
                }
            }
            Err(e) => message(400, &format!("Invalid fault JSON: {e}")),
        },
        (&Method::GET, "/__sandbox/requests") => ApiResponse::json(
            200,
            &serde_json::to_value(state.requests()).unwrap_or(Value::Null),
        ),
        _ => message(
            404,
            &format!(
                "Unknown sandbox admin route ({method}: {path}). Routes: GET /__sandbox/stats, POST /__sandbox/faults, GET /__sandbox/requests, GET /__sandbox/whatsapp/messages, any /__sandbox/echo."
            ),
        ),
    }
}

/// `/__sandbox/echo`: the request as JSON, so an author can see exactly what the http step
/// sent (headers, the raw body, the decoded form pairs, the parsed JSON).
pub(crate) fn echo(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResponse {
    let mut hmap = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        // Repeated headers are joined as HTTP allows (`a, b`).
        match hmap.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                hmap.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    let content_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
        .unwrap_or_default();
    let form = content_type
        .starts_with("application/x-www-form-urlencoded")
        .then(|| decode_pairs(body));
    let json_body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    ApiResponse::json(
        200,
        &json!({
            "method": method.as_str(),
            "path": path,
            "query": query,
            "headers": Value::Object(hmap),
            "body": String::from_utf8_lossy(body),
            "form": form,
            "json": json_body,
        }),
    )
}
