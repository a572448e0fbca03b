//! What a waiting run waits for ([`WaitFor`]), what wakes it ([`WaitEvent`]), and the keys both
//! are matched by ([`wait_key`], [`event_keys`]): a wait and an event match when they have the
//! same key, so a store finds the run an event is for with one look-up, whichever came first.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a run at a `wait` step waits for: any of `events` whose fields at the paths of
/// `matches` have those values, until `deadline_ms`. Decided once, when the run reaches the
/// step (a run resumed after a crash waits for the same, until the same time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitFor {
    /// The wait step's id.
    pub step: String,
    /// The event types awaited, as `provider.type` (`stripe.checkout.session.completed`).
    pub events: Vec<String>,
    /// Dotted paths into the event and the text each must have, sorted by path.
    pub matches: Vec<(String, String)>,
    /// When to stop waiting: milliseconds since the Unix epoch.
    pub deadline_ms: u64,
}

impl WaitFor {
    /// The keys an event this wait takes is found under: one per event type awaited.
    pub fn keys(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|event| wait_key(event, &self.matches))
            .collect()
    }

    /// The paths matched on, sorted: the wait's shape, which an event's keys are made for.
    pub fn paths(&self) -> Vec<String> {
        self.matches.iter().map(|(p, _)| p.clone()).collect()
    }
}

/// What ends a wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaitEvent {
    /// An event that matched.
    Event {
        /// `stripe`, `razorpay`, `whatsapp`.
        provider: String,
        /// The provider's type (`checkout.session.completed`).
        event_type: String,
        /// The provider's id of the event.
        event_id: String,
        /// The event as received.
        payload: Value,
    },
    /// The deadline passed first.
    Timeout,
}

impl WaitEvent {
    /// `provider.type`, as a wait's `for:` names it; `None` for a timeout.
    pub fn full_type(&self) -> Option<String> {
        match self {
            WaitEvent::Event {
                provider,
                event_type,
                ..
            } => Some(format!("{provider}.{event_type}")),
            WaitEvent::Timeout => None,
        }
    }
}

/// The key a wait for `event` (`provider.type`) with `matches` (sorted by path) is found
/// under: the event type and each path with its value, as JSON (unambiguous whatever the
/// values hold).
pub fn wait_key(event: &str, matches: &[(String, String)]) -> String {
    serde_json::to_string(&(event, matches)).unwrap_or_default()
}

/// The text of the field at dotted `path` in `payload`, as a wait compares it: a string as it
/// is, a number or a boolean as JSON writes it. `None` when the field is missing, null, a list
/// or an object.
pub fn event_field_text(payload: &Value, path: &str) -> Option<String> {
    let mut at = payload;
    for segment in path.split('.') {
        at = match at {
            Value::Object(m) => m.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match at {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The keys event `payload` of type `event` (`provider.type`) is found under, one for each
/// shape (a sorted list of paths) that waits for it use and the event has every field of.
pub fn event_keys(event: &str, payload: &Value, shapes: &[Vec<String>]) -> Vec<String> {
    let mut keys: Vec<String> = shapes
        .iter()
        .filter_map(|paths| {
            let matches = paths
                .iter()
                .map(|p| Some((p.clone(), event_field_text(payload, p)?)))
                .collect::<Option<Vec<_>>>()?;
            Some(wait_key(event, &matches))
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_wait_and_the_event_it_waits_for_have_a_key_in_common() {
        let wait = WaitFor {
            step: "await_payment".into(),
            events: vec![
                "stripe.checkout.session.completed".into(),
                "stripe.checkout.session.expired".into(),
            ],
            matches: vec![("data.object.id".into(), "cs_test_1".into())],
            deadline_ms: 0,
        };
        let paid = json!({"type": "checkout.session.completed", "data": {"object": {"id": "cs_test_1", "amount_total": 50000}}});
        let other =
            json!({"type": "checkout.session.completed", "data": {"object": {"id": "cs_test_2"}}});
        let shapes = vec![wait.paths(), vec!["data.object.amount_total".into()]];
        let keys = event_keys("stripe.checkout.session.completed", &paid, &shapes);
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&wait.keys()[0]));
        let keys = event_keys("stripe.checkout.session.completed", &other, &shapes);
        assert!(!keys.contains(&wait.keys()[0]));
        // The same fields under another type are another event.
        let keys = event_keys("stripe.checkout.session.expired", &other, &shapes);
        assert!(!keys.contains(&wait.keys()[0]));
    }

    #[test]
    fn field_text_reads_strings_numbers_booleans_and_list_items() {
        let v =
            json!({"a": {"n": 5000, "b": true, "s": "x", "l": [{"id": "m1"}], "o": {}, "z": null}});
        assert_eq!(event_field_text(&v, "a.n").as_deref(), Some("5000"));
        assert_eq!(event_field_text(&v, "a.b").as_deref(), Some("true"));
        assert_eq!(event_field_text(&v, "a.s").as_deref(), Some("x"));
        assert_eq!(event_field_text(&v, "a.l.0.id").as_deref(), Some("m1"));
        for missing in ["a.o", "a.z", "a.q", "a.l.1.id", "a.s.x"] {
            assert_eq!(event_field_text(&v, missing), None, "{missing}");
        }
    }

    #[test]
    fn values_that_look_alike_make_different_keys() {
        let a = wait_key("e", &[("p".into(), "a\",\"b".into())]);
        let b = wait_key(
            "e",
            &[("p".into(), "a".into()), ("b".into(), String::new())],
        );
        assert_ne!(a, b);
    }
}
