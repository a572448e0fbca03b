//! Flows started by an inbound WhatsApp message (`triggers: - whatsapp: {text: ...}`): the
//! first flow, by name, whose pattern matches the message's text starts a run whose id comes
//! from the message id (a re-delivered webhook starts nothing new), whose inputs are the
//! pattern's named captures (and the sender's number and name, when declared), and whose
//! messages go to the sender.

use crate::api::AppState;
use crate::flows::LoadedFlow;
use flowstep_engine::{InputValue, resolve_inputs};
use flowstep_spec::trigger::SENDER_INPUTS;
use flowstep_store::{Creation, NewRun};
use serde_json::Value;
use std::sync::Arc;

/// An inbound text message, as a WhatsApp notification narrowed to one message carries it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inbound {
    /// The message id (`wamid....`).
    pub id: String,
    /// The sender's number (`wa_id`, digits with the country code).
    pub from: String,
    /// The sender's profile name, if the notification has it.
    pub name: Option<String>,
    /// The text.
    pub text: String,
}

impl Inbound {
    /// The text message in `payload` (one narrowed notification), if it is one.
    pub(crate) fn from_payload(payload: &Value) -> Option<Inbound> {
        let value = payload.pointer("/entry/0/changes/0/value")?;
        let message = value.pointer("/messages/0")?;
        if message.get("type").and_then(Value::as_str) != Some("text") {
            return None;
        }
        let text = message.pointer("/text/body")?.as_str()?.to_owned();
        let from = message.get("from")?.as_str()?.to_owned();
        let name = value
            .get("contacts")
            .and_then(Value::as_array)
            .and_then(|contacts| {
                contacts
                    .iter()
                    .find(|c| c.get("wa_id").and_then(Value::as_str) == Some(from.as_str()))
                    .or(contacts.first())
            })
            .and_then(|c| c.pointer("/profile/name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(Inbound {
            id: message.get("id")?.as_str()?.to_owned(),
            from,
            name,
            text,
        })
    }
}

/// The run id a message starts: `wa_` and 32 hex digits of the message id's SHA-256 (message
/// ids hold characters a run id may not).
pub(crate) fn run_id(message_id: &str) -> String {
    let hash = flowstep_store::flow_hash(message_id);
    let hex = hash.strip_prefix("sha256:").unwrap_or(&hash);
    format!("wa_{}", &hex[..32])
}

/// The inputs a trigger fills, by name.
type Given = Vec<(String, InputValue)>;

/// The first flow (by name) whose trigger matches `text`, with the inputs it fills.
pub(crate) fn matching(
    flows: &[Arc<LoadedFlow>],
    inbound: &Inbound,
) -> Option<(Arc<LoadedFlow>, Given)> {
    let mut sorted: Vec<&Arc<LoadedFlow>> = flows
        .iter()
        .filter(|f| !f.plan.flow().triggers.is_empty())
        .collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for flow in sorted {
        for trigger in &flow.plan.flow().triggers {
            let Some(caps) = trigger.regex.captures(&inbound.text) else {
                continue;
            };
            let mut given: Vec<(String, InputValue)> = trigger
                .captures
                .iter()
                .filter_map(|name| {
                    let value = caps.name(name)?.as_str().trim().to_owned();
                    Some((name.clone(), InputValue::Text(value)))
                })
                .collect();
            let declared = |n: &str| flow.plan.flow().input(n).is_some();
            let [phone, name] = SENDER_INPUTS else {
                unreachable!("two sender inputs")
            };
            if declared(phone) && !given.iter().any(|(n, _)| n == phone) {
                given.push(((*phone).to_owned(), InputValue::Text(inbound.from.clone())));
            }
            if let Some(profile) = &inbound.name
                && declared(name)
                && !given.iter().any(|(n, _)| n == name)
            {
                given.push(((*name).to_owned(), InputValue::Text(profile.clone())));
            }
            return Some((flow.clone(), given));
        }
    }
    None
}

/// Starts the run `inbound` triggers, if a flow's trigger matches it; its id when one was
/// started now or before. Problems are logged: the webhook was answered for the event, which
/// is stored whatever happens here.
pub(crate) async fn start(app: &AppState, inbound: &Inbound) -> Option<String> {
    let flows = app.0.plans.current();
    let all: Vec<Arc<LoadedFlow>> = flows.iter().cloned().collect();
    let (flow, given) = matching(&all, inbound)?;
    let run_id = run_id(&inbound.id);
    let inputs = match resolve_inputs(flow.plan.flow(), given) {
        Ok(inputs) => inputs,
        Err(problems) => {
            tracing::warn!(flow = %flow.name, message_id = %inbound.id, "the message matches flow `{}`'s trigger, but its inputs do not fit, so no run was started: {problems}", flow.name);
            return None;
        }
    };
    for name in flow.plan.required_secrets() {
        match app.0.secrets.secret(name) {
            Some(secret) => {
                let leak = inputs
                    .values()
                    .any(|v| crate::api::holds_secret(v, secret.expose()));
                if leak {
                    tracing::warn!(flow = %flow.name, "an inbound message holds the value of the secret {name}: no run was started");
                    return None;
                }
            }
            None => {
                tracing::warn!(flow = %flow.name, "the message matches flow `{}`'s trigger, but the server lacks secret {name} ({}), so no run was started", flow.name, app.0.secrets.how_to_set(name));
                return None;
            }
        }
    }
    let mut new =
        NewRun::of_hashed_sources(&run_id, &flow.name, flow.sources(), &flow.hash).inputs(inputs);
    new.recipient = Some(inbound.from.clone());
    match app.0.store.create_run(new).await {
        Ok(Creation::Created) => {
            tracing::info!(flow = %flow.name, %run_id, message_id = %inbound.id, "run started by an inbound WhatsApp message");
            app.0.worker.wake();
            Some(run_id)
        }
        Ok(Creation::Existing(_)) => Some(run_id),
        Err(e) => {
            tracing::warn!(flow = %flow.name, %run_id, "the run an inbound message starts could not be stored: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_inbound_text_is_read_from_a_narrowed_notification() {
        let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "contacts": [{"profile": {"name": "Asha"}, "wa_id": "919812345678"}],
            "messages": [{"from": "919812345678", "id": "wamid.HBg=", "timestamp": "1733040000", "type": "text", "text": {"body": "buy Blue T-shirt"}}]
        }}]}]});
        let inbound = Inbound::from_payload(&payload).unwrap();
        assert_eq!(inbound.text, "buy Blue T-shirt");
        assert_eq!(inbound.from, "919812345678");
        assert_eq!(inbound.name.as_deref(), Some("Asha"));
        assert_eq!(inbound.id, "wamid.HBg=");
        let id = run_id(&inbound.id);
        assert!(flowstep_engine::check_run_id(&id).is_ok(), "{id}");
        assert_eq!(id, run_id("wamid.HBg="), "stable");
        assert_ne!(id, run_id("wamid.HBh="));
        // Not a text message: an image, a status.
        let mut image = payload.clone();
        image["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = json!("image");
        assert!(Inbound::from_payload(&image).is_none());
    }
}
