//! Delivery statuses on a run's messages: the `sent`, `delivered`, `read` and `failed`
//! statuses WhatsApp posts to `POST /webhooks/whatsapp` are kept by message id (the store's
//! [`RunStore::record_delivery_status`](flowstep_store::RunStore::record_delivery_status),
//! the furthest one per message), and a run's view shows each message's under `delivery`,
//! looked up by the message's `delivery_id` (the `wamid` the Cloud API answered the send with).
//!
//! Nothing ties a status to a run when it arrives: the run is found by the reader, so a
//! status that comes before the run saved the message's id still shows once it has, and one
//! for a message no run sent shows nowhere (the event inbox keeps it, as every event).

use super::AppState;
use super::error::ApiError;
use super::model::RunView;
use crate::time::rfc3339;
use crate::webhooks::Incoming;
use flowstep_store::{DeliveryError, DeliveryState, DeliveryStatus, MAX_DELIVERY_IDS, RunRecord};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest error title kept (Meta's are a few words).
const MAX_TITLE_CHARS: usize = 256;

/// The latest unix second RFC 3339 shows with four digits of year (9999-12-31T23:59:59Z).
const LAST_SHOWN_SECOND: u64 = 253_402_300_799;

/// Records the delivery status each event of a verified WhatsApp notification carries
/// (events of other types, and statuses that are not `sent`, `delivered`, `read` or
/// `failed`, are left to the inbox alone). Each write is idempotent, so a re-delivered
/// notification records nothing new; a failed write is a `503`, and WhatsApp delivers again.
pub(crate) async fn record(app: &AppState, events: &[Incoming]) -> Result<(), ApiError> {
    let received_at = SystemTime::now();
    for status in events.iter().filter_map(|e| status_of(e, received_at)) {
        app.0.store.record_delivery_status(&status).await?;
    }
    Ok(())
}

/// The delivery status a WhatsApp event carries: `status.<state>`, its payload narrowed to
/// one status (`entry[0].changes[0].value.statuses[0]`, as `webhooks::whatsapp` stores it).
fn status_of(event: &Incoming, received_at: SystemTime) -> Option<DeliveryStatus> {
    let state = DeliveryState::parse(event.event_type.strip_prefix("status.")?)?;
    let status = event
        .payload
        .pointer("/entry/0/changes/0/value/statuses/0")?;
    let delivery_id = status.get("id")?.as_str()?.to_owned();
    // Meta's `timestamp` is unix seconds as text; without a usable one, when it came.
    let at = status
        .get("timestamp")
        .and_then(|t| match t {
            Value::String(s) => s.parse::<u64>().ok(),
            other => other.as_u64(),
        })
        .filter(|s| *s <= LAST_SHOWN_SECOND)
        .map_or(received_at, |s| UNIX_EPOCH + Duration::from_secs(s));
    let error = status
        .pointer("/errors/0")
        .filter(|_| state == DeliveryState::Failed)
        .and_then(|e| {
            let code = e.get("code")?.as_i64()?;
            let title = ["title", "message"]
                .iter()
                .find_map(|k| e.get(*k).and_then(Value::as_str))
                .unwrap_or_default()
                .chars()
                .take(MAX_TITLE_CHARS)
                .collect();
            Some(DeliveryError { code, title })
        });
    Some(DeliveryStatus {
        delivery_id,
        state,
        at,
        error,
    })
}

/// A message's delivery status, as a run's view shows it under `delivery`.
#[derive(Debug, Serialize)]
struct DeliveryView {
    /// `sent`, `delivered`, `read` or `failed`: the furthest reported.
    status: &'static str,
    /// When the provider says it got there (RFC 3339, UTC).
    at: String,
    /// Why it failed, when the provider said.
    error: Option<DeliveryErrorView>,
}

/// Why a message failed.
#[derive(Debug, Serialize)]
struct DeliveryErrorView {
    /// The provider's code (WhatsApp's `131047`: outside the 24-hour window).
    code: i64,
    /// Its title.
    title: String,
}

impl From<DeliveryStatus> for DeliveryView {
    fn from(s: DeliveryStatus) -> Self {
        DeliveryView {
            status: s.state.as_str(),
            at: rfc3339(s.at),
            error: s.error.map(|e| DeliveryErrorView {
                code: e.code,
                title: e.title,
            }),
        }
    }
}

/// Run `record` as the API shows it: each of its outcome's messages that the channel gave an
/// id (`delivery_id`) gains `delivery`, its delivery status (`null` while none is known). A
/// message without one (recorded only, a dry run) has none to track and is shown as
/// `flowstep run` prints it.
pub(crate) async fn run_view(app: &AppState, record: RunRecord) -> Result<RunView, ApiError> {
    let mut view = RunView::from(record);
    let Some(messages) = view
        .outcome
        .as_mut()
        .and_then(|o| o.get_mut("messages"))
        .and_then(Value::as_array_mut)
    else {
        return Ok(view);
    };
    let ids: Vec<String> = messages
        .iter()
        .filter_map(|m| m.get("delivery_id").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let mut found = HashMap::new();
    for chunk in ids.chunks(MAX_DELIVERY_IDS) {
        for status in app.0.store.delivery_statuses(chunk).await? {
            found.insert(status.delivery_id.clone(), status);
        }
    }
    for message in messages.iter_mut().filter_map(Value::as_object_mut) {
        let Some(id) = message.get("delivery_id").and_then(Value::as_str) else {
            continue;
        };
        let shown = found.remove(id).map(DeliveryView::from);
        message.insert(
            "delivery".into(),
            serde_json::to_value(shown).unwrap_or(Value::Null),
        );
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, status: Value) -> Incoming {
        Incoming {
            event_id: format!("wamid.X:{kind}"),
            event_type: format!("status.{kind}"),
            payload: json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [status]}}]}]}),
        }
    }

    #[test]
    fn a_status_event_is_read_with_its_time_and_error() {
        let received = UNIX_EPOCH + Duration::from_secs(5);
        let failed = event(
            "failed",
            json!({"id": "wamid.X", "status": "failed", "timestamp": "1767225600",
                   "errors": [{"code": 131047, "title": "Re-engagement message", "message": "more"}]}),
        );
        assert_eq!(
            status_of(&failed, received),
            Some(DeliveryStatus {
                delivery_id: "wamid.X".into(),
                state: DeliveryState::Failed,
                at: UNIX_EPOCH + Duration::from_secs(1_767_225_600),
                error: Some(DeliveryError {
                    code: 131047,
                    title: "Re-engagement message".into()
                }),
            })
        );
        // No timestamp (or one past year 9999): when it came. Errors count only on `failed`.
        for timestamp in [Value::Null, json!("99999999999999"), json!("soon")] {
            let read = event(
                "read",
                json!({"id": "wamid.X", "status": "read", "timestamp": timestamp, "errors": [{"code": 1}]}),
            );
            let read = status_of(&read, received).unwrap();
            assert_eq!((read.at, read.error), (received, None));
        }
        // A title falls back to the message; an error without a code is no error.
        let titled = event(
            "failed",
            json!({"id": "wamid.X", "status": "failed", "errors": [{"code": 131026, "message": "Undeliverable"}]}),
        );
        assert_eq!(
            status_of(&titled, received).unwrap().error.unwrap().title,
            "Undeliverable"
        );
        let uncoded = event(
            "failed",
            json!({"id": "wamid.X", "status": "failed", "errors": [{"title": "?"}]}),
        );
        assert_eq!(status_of(&uncoded, received).unwrap().error, None);
    }

    #[test]
    fn other_events_and_statuses_carry_none() {
        let t = UNIX_EPOCH;
        let deleted = event("deleted", json!({"id": "wamid.X", "status": "deleted"}));
        assert_eq!(status_of(&deleted, t), None);
        let message = Incoming {
            event_type: "message".into(),
            ..event("sent", json!({"id": "wamid.X", "status": "sent"}))
        };
        assert_eq!(status_of(&message, t), None);
        let no_id = event("sent", json!({"status": "sent"}));
        assert_eq!(status_of(&no_id, t), None);
    }
}
