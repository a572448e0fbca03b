//! Razorpay: the `X-Razorpay-Signature` header and the event a verified body is.
//!
//! The scheme, as Razorpay documents it ("Validate webhooks",
//! <https://razorpay.com/docs/webhooks/validate-test/>) and its SDK implements it
//! (razorpay-python `razorpay/utility/utility.py`, `verify_webhook_signature`): the header is
//! the hex HMAC-SHA256 of the raw body keyed with the webhook secret. There is no signed
//! timestamp, so a replay is caught only by de-duplication: by the `x-razorpay-event-id`
//! header, which Razorpay sends with every delivery of the same event.

use super::{EventError, Incoming, id_text};
pub use flowstep_webhook_signature::razorpay::{EVENT_ID_HEADER, HEADER, sign, verify};

/// The event a verified body is: its id from the `x-razorpay-event-id` header (`event_id`),
/// its type from the body's `event`.
pub fn event(event_id: Option<&str>, payload: serde_json::Value) -> Result<Incoming, EventError> {
    let id = event_id.map(|s| serde_json::Value::String(s.trim().to_owned()));
    let event_id = id_text(id.as_ref(), "the x-razorpay-event-id header")?;
    let event_type = id_text(payload.get("event"), "the event's `event`")?;
    Ok(Incoming {
        event_id,
        event_type,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"entity":"event","account_id":"acc_test","event":"payment_link.paid","contains":["payment_link"],"payload":{},"created_at":1733040000}"#;

    #[test]
    fn the_event_id_comes_from_the_header() {
        let payload: serde_json::Value = serde_json::from_str(BODY).unwrap();
        let e = event(Some("evt_rzp_1"), payload.clone()).unwrap();
        assert_eq!(
            (e.event_id.as_str(), e.event_type.as_str()),
            ("evt_rzp_1", "payment_link.paid")
        );
        let missing = event(None, payload.clone()).unwrap_err();
        assert!(missing.0.contains("x-razorpay-event-id"), "{missing}");
        assert!(event(Some(""), payload).is_err());
    }
}
