//! flowstep-webhook-signature: the signature schemes of the providers whose webhooks flowstep
//! takes, signing and verifying in one place, so that what the sandbox sends is exactly what
//! the server accepts. One module per provider: [`stripe`] (`Stripe-Signature`, a signed
//! timestamp), [`razorpay`] (`X-Razorpay-Signature`), [`whatsapp`] (`X-Hub-Signature-256`).
//! Each is HMAC-SHA256 over the raw body ([`hmac_sha256`]). [`razorpay_callback`] is the
//! signature of Razorpay's payment-link redirect (`razorpay_signature`).
//!
//! Every comparison of a signature is constant-time ([`subtle`]); no error names the secret
//! or the signature expected. What a verified body means (its events and their ids) is the
//! receiver's business (flowstep-server's `webhooks` module).

pub mod razorpay;
pub mod razorpay_callback;
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

/// HMAC-SHA256 (RFC 2104) under `key` of `parts` one after another: the primitive every
/// provider here uses.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
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
pub fn hex_matches(given: &str, expected: &[u8; 32]) -> bool {
    let mut decoded = [0u8; 32];
    if given.len() != 64 || hex::decode_to_slice(given, &mut decoded).is_err() {
        return false;
    }
    bool::from(decoded.ct_eq(expected))
}

/// Whether two secrets (a verify token) are equal, in constant time for equal lengths.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
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
