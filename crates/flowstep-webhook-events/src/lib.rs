//! flowstep-webhook-events: what a verified webhook body from a payment or messaging provider
//! carries, each event with the id it is de-duplicated by, and WhatsApp's subscription check.
//! One module per provider: [`stripe`], [`razorpay`], [`whatsapp`]. `flowstep serve` uses it
//! (as `flowstep_server::webhooks`; its `/webhooks/...` routes are in `api::webhooks`).
//!
//! It parses untrusted input, so it stands alone: JSON in, events or an [`EventError`] out, no
//! I/O, no runtime, so that the fuzz target `webhook_events` builds it without the server.
//! Signing and verifying live in `flowstep-webhook-signature` (re-exported by each provider's
//! module), so that the sandbox signs exactly as the server verifies. Every comparison of a
//! signature is constant-time; no error names the secret or the signature expected (see
//! docs/server.md, "Webhooks").

pub mod razorpay;
pub mod stripe;
pub mod whatsapp;

/// Why a signature was refused (the schemes themselves are in `flowstep-webhook-signature`,
/// shared with the sandbox that signs what it sends).
pub use flowstep_webhook_signature::SignatureError;

/// One event a verified body carries, with the id the store de-duplicates it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The provider's id of the event (see each provider's module for which).
    pub event_id: String,
    /// The provider's name of what happened (`checkout.session.completed`).
    pub event_type: String,
    /// The event as stored.
    pub payload: serde_json::Value,
}

/// The longest event id or type kept (the providers' are far shorter).
pub const MAX_ID_CHARS: usize = 255;

/// A verified body that is not the event the provider sends: what is missing, for the
/// answer (`422 invalid_event`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

/// `value` as an id or type: a string of 1 to [`MAX_ID_CHARS`] characters without control
/// characters.
pub(crate) fn id_text(value: Option<&serde_json::Value>, what: &str) -> Result<String, EventError> {
    match value.and_then(serde_json::Value::as_str) {
        Some(s)
            if !s.is_empty()
                && s.chars().count() <= MAX_ID_CHARS
                && !s.chars().any(char::is_control) =>
        {
            Ok(s.to_owned())
        }
        Some(_) => Err(EventError(format!(
            "{what} must be 1 to {MAX_ID_CHARS} characters without control characters"
        ))),
        None => Err(EventError(format!("{what} is missing or not a string"))),
    }
}
