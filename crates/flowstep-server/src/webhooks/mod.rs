//! Webhooks from payment and messaging providers: each provider's signature scheme, checked
//! over the raw body before anything is parsed, and the events a verified body carries, each
//! with the id it is de-duplicated by. One file per provider: [`stripe`], [`razorpay`],
//! [`whatsapp`]. The HTTP side (the `/webhooks/...` routes) is in `api::webhooks`.
//!
//! Every comparison of a signature is constant-time ([`subtle`]); no error names the secret
//! or the signature expected (see docs/server.md, "Webhooks").

pub mod razorpay;
pub mod stripe;
pub mod whatsapp;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a signature was refused. The words are safe to log and to answer: they name neither
/// the secret nor the signature expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature header is absent (or empty).
    #[error("the request has no {header} header")]
    Missing {
        /// The header's name.
        header: &'static str,
    },
    /// The header is there but not in the provider's format.
    #[error("the {header} header is not in the provider's format: {reason}")]
    Malformed {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No signature in the header matches the body with the configured secret: a tampered
    /// body, another secret, or not the provider.
    #[error(
        "the {header} signature does not match the body with the configured secret (a changed body, another secret, or not the provider)"
    )]
    Mismatch {
        /// The header's name.
        header: &'static str,
    },
    /// The signed timestamp is outside the tolerance (a replay of an old delivery, or a
    /// clock far off).
    #[error(
        "the signed timestamp is {seconds} s in the {direction}, beyond the {tolerance} s tolerance (a replayed delivery, or a clock far off)"
    )]
    OutsideTolerance {
        /// How far from now, in seconds.
        seconds: u64,
        /// `past` or `future`.
        direction: &'static str,
        /// The tolerance, in seconds.
        tolerance: u64,
    },
}

impl SignatureError {
    /// A stable, machine-readable name for the error body: `missing_signature`,
    /// `malformed_signature`, `bad_signature`, `stale_timestamp`.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::Missing { .. } => "missing_signature",
            SignatureError::Malformed { .. } => "malformed_signature",
            SignatureError::Mismatch { .. } => "bad_signature",
            SignatureError::OutsideTolerance { .. } => "stale_timestamp",
        }
    }
}

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

/// HMAC-SHA256 (RFC 2104) under `key` of `parts` one after another: the primitive every
/// provider here uses.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `given` (hex text, any case) is `expected`, compared in constant time once
/// decoded. Text that is not 64 hex digits matches nothing.
pub(crate) fn hex_matches(given: &str, expected: &[u8; 32]) -> bool {
    let mut decoded = [0u8; 32];
    if given.len() != 64 || hex::decode_to_slice(given, &mut decoded).is_err() {
        return false;
    }
    bool::from(decoded.ct_eq(expected))
}

/// Whether two secrets (a verify token) are equal, in constant time for equal lengths.
pub(crate) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    bool::from(given.ct_eq(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hex_matches_only_the_whole_digest_in_either_case() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"]);
        let text = hex::encode(mac);
        assert!(hex_matches(&text, &mac));
        assert!(hex_matches(&text.to_uppercase(), &mac));
        assert!(!hex_matches(&text[..62], &mac));
        assert!(!hex_matches(&format!("{text}00"), &mac));
        assert!(!hex_matches(&text.replace('5', "g"), &mac));
        assert!(!hex_matches("", &mac));
    }
}
