//! WhatsApp (Meta's Cloud API webhooks): the subscription check (`GET` with `hub.mode`,
//! `hub.verify_token`, `hub.challenge`), the `X-Hub-Signature-256` header, and the events a
//! verified notification carries.
//!
//! As Meta documents it (Graph API "Webhooks: Getting started", sections "Verification
//! Requests" and "Validating Payloads",
//! <https://developers.facebook.com/docs/graph-api/webhooks/getting-started>): the
//! subscription check is answered with the challenge when `hub.mode` is `subscribe` and
//! `hub.verify_token` is the token the app was set up with; a notification carries
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed with the app secret>`.
//! There is no signed timestamp; Meta re-delivers for days, so events are de-duplicated.
//!
//! One notification can carry several entries, changes, messages and statuses: each message
//! is an event of its own (type `message`, id its `wamid`), and each status too (type
//! `status.<sent|delivered|read|failed>`, id `<wamid>:<status>`, since one outgoing message
//! gets a status of each kind under the same `wamid`). Each is stored as the notification
//! narrowed to that one item, so it keeps Meta's shape (`entry[0].changes[0].value`).

use super::{EventError, Incoming, id_text};
use flowstep_webhook_signature::same_secret;
pub use flowstep_webhook_signature::whatsapp::{HEADER, sign, verify};
use serde_json::{Value, json};

/// The longest challenge echoed back (Meta's is a number of about ten digits).
const MAX_CHALLENGE_CHARS: usize = 256;

/// Why a subscription check was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// `hub.mode` is not `subscribe`, or `hub.verify_token` is missing or not the token set
    /// (`403`).
    #[error(
        "the subscription check was refused: hub.mode must be `subscribe` and hub.verify_token the server's WHATSAPP_VERIFY_TOKEN"
    )]
    Refused,
    /// The token matched but there is no usable `hub.challenge` to echo (`400`).
    #[error("hub.challenge is missing, or longer than 256 characters or not printable")]
    BadChallenge,
}

/// Answers a subscription check: the challenge to echo back when `mode` is `subscribe` and
/// `token` is `expected` (compared in constant time).
pub fn subscription(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected: &str,
) -> Result<String, SubscriptionError> {
    let token_ok = token.is_some_and(|t| same_secret(t.as_bytes(), expected.as_bytes()));
    if mode != Some("subscribe") || !token_ok {
        return Err(SubscriptionError::Refused);
    }
    match challenge {
        Some(c)
            if !c.is_empty()
                && c.chars().count() <= MAX_CHALLENGE_CHARS
                && c.chars().all(|ch| ch.is_ascii_graphic()) =>
        {
            Ok(c.to_owned())
        }
        _ => Err(SubscriptionError::BadChallenge),
    }
}

/// The events a verified notification carries: each message and each status (see the
/// module's words), in the order they come. None for a notification of another kind (an
/// account update), which is acknowledged and not stored.
pub fn events(payload: &Value) -> Result<Vec<Incoming>, EventError> {
    let object = payload.get("object").and_then(Value::as_str);
    if object != Some("whatsapp_business_account") {
        return Err(EventError(
            "the notification's `object` is not `whatsapp_business_account`".into(),
        ));
    }
    let entries = payload
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| EventError("the notification has no `entry` array".into()))?;
    let mut out = Vec::new();
    for entry in entries {
        let changes = entry.get("changes").and_then(Value::as_array);
        for change in changes.into_iter().flatten() {
            let Some(value) = change.get("value").and_then(Value::as_object) else {
                continue;
            };
            // The change without its items, copied once: copying the whole value for each
            // item would be quadratic in a notification's items.
            let mut base = serde_json::Map::new();
            for (key, item) in value {
                if key != "messages" && key != "statuses" {
                    base.insert(key.clone(), item.clone());
                }
            }
            let narrowed = |key: &str, item: &Value| {
                let mut value = base.clone();
                value.insert(key.to_owned(), json!([item]));
                let mut entry_out = serde_json::Map::new();
                if let Some(id) = entry.get("id") {
                    entry_out.insert("id".into(), id.clone());
                }
                entry_out.insert(
                    "changes".into(),
                    json!([{ "field": change.get("field").cloned().unwrap_or(Value::Null), "value": value }]),
                );
                json!({ "object": "whatsapp_business_account", "entry": [entry_out] })
            };
            let messages = value.get("messages").and_then(Value::as_array);
            for message in messages.into_iter().flatten() {
                out.push(Incoming {
                    event_id: id_text(message.get("id"), "a message's `id`")?,
                    event_type: "message".into(),
                    payload: narrowed("messages", message),
                });
            }
            let statuses = value.get("statuses").and_then(Value::as_array);
            for status in statuses.into_iter().flatten() {
                let id = id_text(status.get("id"), "a status's `id`")?;
                let kind = id_text(status.get("status"), "a status's `status`")?;
                if !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') || kind.len() > 32 {
                    return Err(EventError(
                        "a status's `status` is not a word like `delivered`".into(),
                    ));
                }
                out.push(Incoming {
                    event_id: format!("{id}:{kind}"),
                    event_type: format!("status.{kind}"),
                    payload: narrowed("statuses", status),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subscription_check_echoes_the_challenge_only_for_the_token() {
        let ok = subscription(Some("subscribe"), Some("tok"), Some("1158201444"), "tok");
        assert_eq!(ok, Ok("1158201444".to_owned()));
        for (mode, token) in [
            (Some("subscribe"), Some("other")),
            (Some("subscribe"), Some("to")),
            (Some("subscribe"), None),
            (Some("unsubscribe"), Some("tok")),
            (None, Some("tok")),
        ] {
            assert_eq!(
                subscription(mode, token, Some("1"), "tok"),
                Err(SubscriptionError::Refused)
            );
        }
        let long = "9".repeat(257);
        for challenge in [None, Some(""), Some(long.as_str()), Some("<b>hi</b> there")] {
            assert_eq!(
                subscription(Some("subscribe"), Some("tok"), challenge, "tok"),
                Err(SubscriptionError::BadChallenge)
            );
        }
    }

    /// Each event's payload used to be a copy of its whole change, items and all, cut down:
    /// quadratic in the items, minutes for a 1 MiB body of 20,000 statuses.
    #[test]
    fn a_notification_of_many_statuses_is_read_in_time_linear_in_them() {
        let statuses: Vec<Value> = (0..20_000)
            .map(|i| json!({"id": format!("wamid.{i}"), "status": "read"}))
            .collect();
        let payload = json!({"object": "whatsapp_business_account", "entry": [
            {"id": "WABA1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp", "statuses": statuses}}]}]});
        let started = std::time::Instant::now();
        let events = events(&payload).unwrap();
        assert_eq!(events.len(), 20_000);
        assert_eq!(
            events[19_999].payload["entry"][0]["changes"][0]["value"]["statuses"],
            json!([{"id": "wamid.19999", "status": "read"}])
        );
        // Linear, this is well under a second even in a debug build; quadratic, minutes.
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn every_message_and_status_is_an_event_of_its_own() {
        let payload = json!({"object": "whatsapp_business_account", "entry": [
            {"id": "WABA1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"phone_number_id": "PN1"},
                "contacts": [{"profile": {"name": "Asha"}, "wa_id": "919812345678"}],
                "messages": [
                    {"from": "919812345678", "id": "wamid.IN1", "type": "text", "text": {"body": "buy"}},
                    {"from": "919812345678", "id": "wamid.IN2", "type": "text", "text": {"body": "hi"}}
                ]}}]},
            {"id": "WABA1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "statuses": [
                    {"id": "wamid.OUT1", "status": "delivered", "recipient_id": "919812345678"},
                    {"id": "wamid.OUT1", "status": "failed", "errors": [{"code": 131047}]}
                ]}}]}
        ]});
        let events = events(&payload).unwrap();
        let keys: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.event_id.as_str(), e.event_type.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("wamid.IN1", "message"),
                ("wamid.IN2", "message"),
                ("wamid.OUT1:delivered", "status.delivered"),
                ("wamid.OUT1:failed", "status.failed"),
            ]
        );
        let value = &events[1].payload["entry"][0]["changes"][0]["value"];
        assert_eq!(
            value["messages"],
            json!([{"from": "919812345678", "id": "wamid.IN2", "type": "text", "text": {"body": "hi"}}])
        );
        assert_eq!(value["contacts"][0]["profile"]["name"], "Asha");
        assert_eq!(events[0].payload["entry"][0]["id"], "WABA1");
        let failed = &events[3].payload["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(failed["errors"][0]["code"], 131047);
    }

    #[test]
    fn other_notifications_carry_no_event_and_wrong_shapes_are_named() {
        let update = json!({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{"field": "account_update", "value": {"event": "VERIFIED"}}]}]});
        assert_eq!(events(&update).unwrap(), vec![]);
        assert!(events(&json!({"object": "page", "entry": []})).is_err());
        assert!(events(&json!({"object": "whatsapp_business_account"})).is_err());
        let no_id = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"type": "text"}]}}]}]});
        assert!(events(&no_id).unwrap_err().0.contains("message's `id`"));
    }
}
