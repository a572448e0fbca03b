//! WhatsApp's webhook notifications, in the Cloud API's shape (facts file
//! `webhooks-and-messaging-facts.md`, "WhatsApp Cloud API"): `{"object":
//! "whatsapp_business_account", "entry": [{"id": <WABA id>, "changes": [{"field": "messages",
//! "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number",
//! "phone_number_id"}, ...}}]}]}`, the value carrying either `statuses` (what became of a
//! message the business sent) or `contacts` and `messages` (what a customer wrote).
//!
//! Meta also sends `conversation` and `pricing` with `sent` and `delivered` statuses; the
//! sandbox leaves them out (they describe billing, which it does not model).

use serde_json::{Value, json};

use super::SANDBOX_WHATSAPP_PHONE_NUMBER_ID;
use crate::events::{Emitted, Provider};

/// The WhatsApp Business Account id the sandbox's notifications name (`entry[].id`).
pub const SANDBOX_WHATSAPP_BUSINESS_ACCOUNT_ID: &str = "100000000000002";

/// The business phone number as customers see it (`metadata.display_phone_number`).
pub const SANDBOX_WHATSAPP_DISPLAY_PHONE_NUMBER: &str = "15550000001";

/// Each customer's events share a lane, so a customer's messages and the statuses of what
/// was sent to them arrive in the order they happened.
fn lane(wa_id: &str) -> String {
    format!("whatsapp:{wa_id}")
}

/// The notification envelope around one change `value` (without `metadata`, added here).
fn notification(mut value: serde_json::Map<String, Value>) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("messaging_product".into(), json!("whatsapp"));
    out.insert(
        "metadata".into(),
        json!({
            "display_phone_number": SANDBOX_WHATSAPP_DISPLAY_PHONE_NUMBER,
            "phone_number_id": SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
        }),
    );
    out.append(&mut value);
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": SANDBOX_WHATSAPP_BUSINESS_ACCOUNT_ID,
            "changes": [{"field": "messages", "value": out}],
        }],
    })
}

/// A status of message `wamid` sent to `wa_id`: `sent`, `delivered`, ... Its id is
/// `<wamid>:<status>`, as `flowstep serve` de-duplicates statuses.
pub(crate) fn status(wamid: &str, wa_id: &str, status: &str, now: i64) -> Emitted {
    status_with(wamid, wa_id, status, now, None)
}

/// The `failed` status WhatsApp reports for a free-form message sent outside the 24-hour
/// customer service window: error 131047 "Re-engagement message" (facts file; the details
/// text is Meta's as quoted in public reports).
pub(crate) fn re_engagement_failed(wamid: &str, wa_id: &str, now: i64) -> Emitted {
    let errors = json!([{
        "code": RE_ENGAGEMENT_CODE,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
    }]);
    status_with(wamid, wa_id, "failed", now, Some(errors))
}

/// WhatsApp's error code for a free-form message outside the 24-hour window.
pub const RE_ENGAGEMENT_CODE: u32 = 131047;

fn status_with(wamid: &str, wa_id: &str, status: &str, now: i64, errors: Option<Value>) -> Emitted {
    let mut entry = json!({
        "id": wamid,
        "status": status,
        "timestamp": now.to_string(),
        "recipient_id": wa_id,
    });
    if let Some(errors) = errors {
        entry["errors"] = errors;
    }
    let mut value = serde_json::Map::new();
    value.insert("statuses".into(), json!([entry]));
    Emitted {
        provider: Provider::WhatsApp,
        id: format!("{wamid}:{status}"),
        event_type: format!("status.{status}"),
        payload: notification(value),
        lane: lane(wa_id),
    }
}

/// A text message customer `from` (named `name` in their profile) wrote, with id `wamid`.
pub(crate) fn inbound_text(wamid: &str, from: &str, name: &str, text: &str, now: i64) -> Emitted {
    let mut value = serde_json::Map::new();
    value.insert(
        "contacts".into(),
        json!([{"profile": {"name": name}, "wa_id": from}]),
    );
    value.insert(
        "messages".into(),
        json!([{
            "from": from,
            "id": wamid,
            "timestamp": now.to_string(),
            "type": "text",
            "text": {"body": text},
        }]),
    );
    Emitted {
        provider: Provider::WhatsApp,
        id: wamid.to_owned(),
        event_type: "message".to_owned(),
        payload: notification(value),
        lane: lane(from),
    }
}
