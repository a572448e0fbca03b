//! Stripe: the `Stripe-Signature` header and the event a verified body is.
//!
//! The scheme, as Stripe documents it ("Verify webhook signatures manually",
//! <https://docs.stripe.com/webhooks#verify-manually>) and its SDKs implement it
//! (stripe-python `stripe/_webhook.py`, `WebhookSignature.verify_header`):
//! `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`; the signed payload
//! is `"<t>.<raw body>"`; each `v1` is the lower-case hex HMAC-SHA256 of it keyed with the
//! endpoint's whole signing secret (`whsec_...`, as UTF-8 bytes). The body is accepted when
//! **any** `v1` matches (Stripe sends several while a secret is being rolled) and `t` is within
//! the tolerance, 300 s by default as in the SDKs. The SDKs check only the past; this check
//! also refuses a `t` more than the tolerance in the future (a documented, stricter choice).
//! De-duplication is by the event's `id` (`evt_...`). The scheme's code (sign and verify) is
//! `flowstep-webhook-signature`'s, re-exported here.

use super::{EventError, Incoming, id_text};
pub use flowstep_webhook_signature::stripe::{DEFAULT_TOLERANCE, HEADER, sign, verify};

/// The event a verified body is: its `id` (the de-duplication key) and `type`.
pub fn event(payload: serde_json::Value) -> Result<Incoming, EventError> {
    let event_id = id_text(payload.get("id"), "the event's `id`")?;
    let event_type = id_text(payload.get("type"), "the event's `type`")?;
    Ok(Incoming {
        event_id,
        event_type,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_1","payment_status":"paid"}}}"#;

    #[test]
    fn the_event_is_its_id_and_type() {
        let payload: serde_json::Value = serde_json::from_str(BODY).unwrap();
        let e = event(payload).unwrap();
        assert_eq!(e.event_id, "evt_test_webhook");
        assert_eq!(e.event_type, "checkout.session.completed");
        let no_id = event(serde_json::json!({"type": "x"})).unwrap_err();
        assert!(no_id.0.contains("`id`"), "{no_id}");
        let numeric = event(serde_json::json!({"id": 5, "type": "x"})).unwrap_err();
        assert!(numeric.0.contains("not a string"), "{numeric}");
    }
}
