//! Razorpay: the `X-Razorpay-Signature` header and the event a verified body is.
//!
//! The scheme, as Razorpay documents it ("Validate webhooks",
//! <https://razorpay.com/docs/webhooks/validate-test/>) and its SDK implements it
//! (razorpay-python `razorpay/utility/utility.py`, `verify_webhook_signature`): the header is
//! the hex HMAC-SHA256 of the raw body keyed with the webhook secret. There is no signed
//! timestamp, so a replay is caught only by de-duplication: by the `x-razorpay-event-id`
//! header, which Razorpay sends with every delivery of the same event.

use crate::{SignatureError, hex_matches, hmac_sha256};

/// The signature header's name.
pub const HEADER: &str = "X-Razorpay-Signature";

/// The header that carries the event's id (the de-duplication key).
pub const EVENT_ID_HEADER: &str = "x-razorpay-event-id";

/// Checks `header` against the raw `body` with the webhook `secret`.
pub fn verify(header: Option<&str>, body: &[u8], secret: &str) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing { header: HEADER })?;
    if header.len() != 64 || !header.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SignatureError::Malformed {
            header: HEADER,
            reason: "it is not 64 hex digits",
        });
    }
    let expected = hmac_sha256(secret.as_bytes(), &[body]);
    match hex_matches(header, &expected) {
        true => Ok(()),
        false => Err(SignatureError::Mismatch { header: HEADER }),
    }
}

/// The `X-Razorpay-Signature` value Razorpay would send for `body` with `secret`.
pub fn sign(body: &[u8], secret: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently of this code with Razorpay's documented algorithm (hex
    // HMAC-SHA256 of the raw body with the webhook secret), using OpenSSL:
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac razorpay_webhook_secret
    const BODY: &str = r#"{"entity":"event","account_id":"acc_test","event":"payment_link.paid","contains":["payment_link"],"payload":{},"created_at":1733040000}"#;
    const SECRET: &str = "razorpay_webhook_secret";
    const SIG: &str = "0c2eef5a48e906d9cdb02390444e1b7e03511f6875290cf50b985a885a3bb353";

    #[test]
    fn the_documented_vector_is_accepted_and_sign_makes_it() {
        assert_eq!(verify(Some(SIG), BODY.as_bytes(), SECRET), Ok(()));
        assert_eq!(
            verify(Some(&SIG.to_uppercase()), BODY.as_bytes(), SECRET),
            Ok(())
        );
        assert_eq!(sign(BODY.as_bytes(), SECRET), SIG);
    }

    #[test]
    fn a_tampered_body_or_a_wrong_secret_do_not_match() {
        let tampered = BODY.replace("paid", "expired");
        for (body, secret) in [(tampered.as_str(), SECRET), (BODY, "another_secret")] {
            let e = verify(Some(SIG), body.as_bytes(), secret).unwrap_err();
            assert_eq!(e.code(), "bad_signature");
        }
    }

    #[test]
    fn a_missing_or_garbled_header_is_named() {
        assert_eq!(
            verify(None, BODY.as_bytes(), SECRET).unwrap_err().code(),
            "missing_signature"
        );
        for header in [
            &SIG[..63],
            &format!("{SIG}0"),
            "sha256=abc",
            &SIG.replace('c', "x"),
        ] {
            let e = verify(Some(header), BODY.as_bytes(), SECRET).unwrap_err();
            assert_eq!(e.code(), "malformed_signature", "{header}");
        }
    }
}
