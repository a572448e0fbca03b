//! Stripe's events for Checkout Sessions, in the shape Stripe sends them (facts file
//! `webhooks-and-messaging-facts.md`, "Stripe events"): `{"id": "evt_...", "object": "event",
//! "api_version", "created", "data": {"object": <the session as stored>}, "livemode": false,
//! "pending_webhooks", "request": {"id", "idempotency_key"}, "type"}`.

use serde_json::json;

use super::checkout::Session;
use crate::api::random_alnum;
use crate::events::{Emitted, Provider};

/// The API version the events are rendered in (the sandbox's sessions follow Stripe's
/// current shape; the name is in Stripe's `YYYY-MM-DD.name` form, from the facts file).
pub(crate) const API_VERSION: &str = "2026-03-25.dahlia";

/// The API request that caused an event: its `Request-Id` and `Idempotency-Key`. `None` for
/// what the customer or the clock did (paying on the hosted page, a session lapsing), for
/// which Stripe sends `null`s.
pub(crate) struct Cause<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) idempotency_key: Option<&'a str>,
}

/// `checkout.session.<what>` for `session` as it is now (`data.object` is a copy of the
/// stored session).
pub(crate) fn session_event(
    what: &str,
    session: &mut Session,
    now: i64,
    cause: Option<Cause<'_>>,
) -> Emitted {
    let object = session.snapshot(now);
    let lane = format!("stripe:{}", session.id());
    let event_type = format!("checkout.session.{what}");
    let id = format!("evt_1{}", random_alnum(23));
    let request = match cause {
        Some(c) => json!({"id": c.request_id, "idempotency_key": c.idempotency_key}),
        None => json!({"id": null, "idempotency_key": null}),
    };
    let payload = json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": now,
        "data": {"object": object},
        "livemode": false,
        // One endpoint listens: the receiver the sandbox forwards to.
        "pending_webhooks": 1,
        "request": request,
        "type": event_type,
    });
    Emitted {
        provider: Provider::Stripe,
        id,
        event_type,
        payload,
        lane,
    }
}

/// The `data.object` of a Stripe event (for tests).
#[cfg(test)]
pub(crate) fn object(event: &Emitted) -> &serde_json::Value {
    &event.payload["data"]["object"]
}
