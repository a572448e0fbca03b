//! `POST /__sandbox/whatsapp/inbound`: a person or a test plays the customer. The body
//! `{"from": "919812345678", "name": "Asha", "text": "buy Blue T-shirt"}` becomes the
//! notification Meta would send for that text message (a new `wamid`), emitted like every
//! sandbox event; the answer names the message id. The sender is marked as having written
//! now (the start of WhatsApp's 24-hour customer service window).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::messages::{MAX_BODY, wa_id};
use super::webhooks::inbound_text;
use super::{WhatsAppState, wamid};
use crate::api::{self, lock, now};
use crate::events::{DeliveryState, Outbox};

/// The profile name used when the body gives none.
pub const DEFAULT_CUSTOMER_NAME: &str = "Sandbox customer";

/// The longest profile name taken (Meta's profile names are short; the bound is ours).
const MAX_NAME_CHARS: usize = 256;

/// A message the inbound route takes.
#[derive(Debug, PartialEq)]
struct Inbound {
    from: String,
    name: String,
    text: String,
}

fn refuse(text: String) -> Response {
    let error = json!({"error": {"message": text, "type": "invalid_request_error"}});
    api::json(400, &error)
}

/// Reads the body; the error says what is wrong, in words for a person.
fn read(body: &[u8]) -> Result<Inbound, String> {
    const SHAPE: &str = r#"{"from": "919812345678", "name": "Asha", "text": "buy Blue T-shirt"}"#;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(format!("the body must be a JSON object like {SHAPE}"));
    };
    if let Some(k) = map
        .keys()
        .find(|k| !["from", "name", "text"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field `{k}`: the fields are `from`, `name` (optional) and `text`"
        ));
    }
    let from = match map.get("from") {
        Some(Value::String(s)) => wa_id(s).ok_or_else(|| {
            format!(
                "`from` must be the customer's WhatsApp number: 7 to 15 digits with the country code, optionally after a `+` (got {s:?})"
            )
        })?,
        Some(_) => return Err("`from` must be a string of digits, like \"919812345678\"".into()),
        None => return Err(format!("`from` is missing: send {SHAPE}")),
    };
    let text = match map.get("text") {
        Some(Value::String(s)) if s.is_empty() => return Err("`text` is empty".into()),
        Some(Value::String(s)) if s.encode_utf16().count() > MAX_BODY => {
            return Err(format!("`text` is longer than {MAX_BODY} characters"));
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`text` must be a string".into()),
        None => return Err(format!("`text` is missing: send {SHAPE}")),
    };
    let name = match map.get("name") {
        None | Some(Value::Null) => DEFAULT_CUSTOMER_NAME.to_owned(),
        Some(Value::String(s))
            if !s.trim().is_empty()
                && s.chars().count() <= MAX_NAME_CHARS
                && !s.chars().any(char::is_control) =>
        {
            s.clone()
        }
        Some(_) => {
            return Err(format!(
                "`name` must be 1 to {MAX_NAME_CHARS} characters without control characters"
            ));
        }
    };
    Ok(Inbound { from, name, text })
}

/// `POST /__sandbox/whatsapp/inbound`: `200 {"id": "wamid....", "from", "name", "text",
/// "timestamp", "forwarded"}`, or `400` with the reason.
pub(crate) async fn inbound(
    State(wa): State<Arc<WhatsAppState>>,
    State(outbox): State<Arc<Outbox>>,
    body: Bytes,
) -> Response {
    let message = match read(&body) {
        Ok(m) => m,
        Err(e) => return refuse(e),
    };
    let now = now();
    let id = wamid(&message.from);
    lock(&wa.last_inbound).insert(message.from.clone(), now);
    let event = outbox.emit(inbound_text(
        &id,
        &message.from,
        &message.name,
        &message.text,
        now,
    ));
    api::json(
        200,
        &json!({
            "id": id,
            "from": message.from,
            "name": message.name,
            "text": message.text,
            "timestamp": now.to_string(),
            "forwarded": event.delivery != DeliveryState::NotForwarded,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_body_and_names_what_is_wrong() {
        let ok = read(br#"{"from": "+919812345678", "text": "buy Blue T-shirt"}"#).unwrap();
        assert_eq!(
            ok,
            Inbound {
                from: "919812345678".into(),
                name: DEFAULT_CUSTOMER_NAME.into(),
                text: "buy Blue T-shirt".into()
            }
        );
        for (body, says) in [
            (&b"[]"[..], "JSON object"),
            (br#"{"from": "91 98", "text": "x"}"#, "7 to 15 digits"),
            (
                br#"{"from": 919812345678, "text": "x"}"#,
                "string of digits",
            ),
            (br#"{"text": "x"}"#, "`from` is missing"),
            (br#"{"from": "919812345678"}"#, "`text` is missing"),
            (
                br#"{"from": "919812345678", "text": ""}"#,
                "`text` is empty",
            ),
            (
                br#"{"from": "919812345678", "text": "x", "nmae": "A"}"#,
                "unknown field `nmae`",
            ),
            (
                br#"{"from": "919812345678", "text": "x", "name": ""}"#,
                "`name`",
            ),
        ] {
            let e = read(body).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
