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
//! De-duplication is by the event's `id` (`evt_...`).

use crate::{SignatureError, hex_matches, hmac_sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The header's name.
pub const HEADER: &str = "Stripe-Signature";

/// The tolerance of Stripe's SDKs (`DEFAULT_TOLERANCE = 300`).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The longest header read; Stripe's are about 200 bytes (more `v1`s while rolling secrets).
const MAX_HEADER_BYTES: usize = 4096;

/// Checks `header` (the `Stripe-Signature` value, if any) against the raw `body` with the
/// endpoint's `secret`, at `now`, within `tolerance` either side.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing { header: HEADER })?;
    let malformed = |reason| SignatureError::Malformed {
        header: HEADER,
        reason,
    };
    if header.len() > MAX_HEADER_BYTES {
        return Err(malformed("it is longer than 4096 bytes"));
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(malformed("it has more than one t=")),
            "v1" => signatures.push(value),
            // v0 (test-mode legacy) and schemes to come are not checked, as in the SDKs.
            _ => {}
        }
    }
    let t = timestamp.ok_or(malformed("it has no t=<unix seconds>"))?;
    let seconds: u64 = match t.len() {
        1..=12 if t.bytes().all(|b| b.is_ascii_digit()) => t
            .parse()
            .map_err(|_| malformed("t= is not a number of seconds"))?,
        _ => return Err(malformed("t= is not a number of seconds")),
    };
    if signatures.is_empty() {
        return Err(malformed("it has no v1= signature"));
    }
    // One of several may be garbage (a rotated scheme); none that could be a signature is a
    // header in another format, not a wrong signature.
    if !signatures
        .iter()
        .any(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(malformed("no v1= is a signature (64 hex digits)"));
    }
    let expected = hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", body]);
    // Every v1 is compared (no early exit), each in constant time.
    let matched = signatures
        .iter()
        .fold(false, |any, s| hex_matches(s, &expected) | any);
    if !matched {
        return Err(SignatureError::Mismatch { header: HEADER });
    }
    let signed = UNIX_EPOCH + Duration::from_secs(seconds);
    let (distance, direction) = match now.duration_since(signed) {
        Ok(age) => (age, "past"),
        Err(e) => (e.duration(), "future"),
    };
    if distance > tolerance {
        return Err(SignatureError::OutsideTolerance {
            seconds: distance.as_secs(),
            direction,
            tolerance: tolerance.as_secs(),
        });
    }
    Ok(())
}

/// The `Stripe-Signature` value Stripe would send for `body` signed at `t` (unix seconds)
/// with `secret`: for tests, and for a sandbox that sends events.
pub fn sign(body: &[u8], secret: &str, t: u64) -> String {
    let t = t.to_string();
    let mac = hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently of this code with Stripe's documented algorithm
    // (https://docs.stripe.com/webhooks#verify-manually: HMAC-SHA256 over "<t>.<body>" keyed
    // with the whole whsec_ secret), using OpenSSL:
    //   printf '%s' "1733040000.$BODY" | openssl dgst -sha256 -hmac whsec_test_secret
    //   printf '%s' "1733040000.$BODY" | openssl dgst -sha256 -hmac whsec_rotated_secret
    const BODY: &str = r#"{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_1","payment_status":"paid"}}}"#;
    const SECRET: &str = "whsec_test_secret";
    const T: u64 = 1_733_040_000;
    const SIG: &str = "7b533948b0c454e1cd6c4ea11def6800ceefc6f7a7c4e4155bbcd7926b88025f";
    const SIG_ROTATED: &str = "504f6eed2dbcaa79cdd875b3d5b86abb8fb380fe208bfe1a21ca5793031c8635";

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn check(header: &str, body: &str, secret: &str, now: u64) -> Result<(), SignatureError> {
        verify(
            Some(header),
            body.as_bytes(),
            secret,
            at(now),
            DEFAULT_TOLERANCE,
        )
    }

    #[test]
    fn the_documented_vector_is_accepted_and_sign_makes_it() {
        let header = format!("t={T},v1={SIG}");
        assert_eq!(check(&header, BODY, SECRET, T + 10), Ok(()));
        assert_eq!(sign(BODY.as_bytes(), SECRET, T), header);
    }

    #[test]
    fn any_of_several_v1_values_matches_and_v0_is_ignored() {
        let zeros = "0".repeat(64);
        for header in [
            format!("t={T},v1={SIG_ROTATED},v1={SIG}"),
            format!("t={T},v1={SIG},v1={zeros}"),
            format!("v1={zeros}, t={T}, v1={SIG}, v0={zeros}"),
            format!("t={T},v1={},v1={SIG}", "zz"),
        ] {
            assert_eq!(check(&header, BODY, SECRET, T), Ok(()), "{header}");
        }
        // The rotated secret's own signature, under the rotated secret.
        let header = format!("t={T},v1={SIG},v1={SIG_ROTATED}");
        assert_eq!(check(&header, BODY, "whsec_rotated_secret", T), Ok(()));
    }

    #[test]
    fn stale_and_future_timestamps_are_refused_at_the_edge() {
        let header = format!("t={T},v1={SIG}");
        assert_eq!(check(&header, BODY, SECRET, T + 300), Ok(()));
        assert_eq!(check(&header, BODY, SECRET, T - 300), Ok(()));
        let stale = check(&header, BODY, SECRET, T + 301).unwrap_err();
        assert_eq!(stale.code(), "stale_timestamp");
        assert!(stale.to_string().contains("301 s in the past"), "{stale}");
        let future = check(&header, BODY, SECRET, T - 3600).unwrap_err();
        assert_eq!(future.code(), "stale_timestamp");
        assert!(
            future.to_string().contains("3600 s in the future"),
            "{future}"
        );
    }

    #[test]
    fn a_tampered_body_a_wrong_secret_or_a_moved_timestamp_do_not_match() {
        let header = format!("t={T},v1={SIG}");
        let tampered = BODY.replace("paid", "unpaid");
        for (header, body, secret) in [
            (header.clone(), tampered.as_str(), SECRET),
            (header.clone(), BODY, "whsec_other_secret"),
            (header.clone(), &format!("{BODY} "), SECRET),
            (format!("t={},v1={SIG}", T + 1), BODY, SECRET),
        ] {
            let e = check(&header, body, secret, T).unwrap_err();
            assert_eq!(e, SignatureError::Mismatch { header: HEADER }, "{header}");
            assert!(!e.to_string().contains(SIG));
            assert!(!e.to_string().contains(secret));
        }
    }

    #[test]
    fn a_missing_or_garbled_header_is_named() {
        let none = verify(None, BODY.as_bytes(), SECRET, at(T), DEFAULT_TOLERANCE);
        assert_eq!(none.unwrap_err().code(), "missing_signature");
        assert_eq!(
            check("  ", BODY, SECRET, T).unwrap_err().code(),
            "missing_signature"
        );
        for (header, reason) in [
            (format!("v1={SIG}"), "no t="),
            (format!("t=,v1={SIG}"), "not a number"),
            (format!("t=-5,v1={SIG}"), "not a number"),
            (format!("t=17e8,v1={SIG}"), "not a number"),
            (format!("t=99999999999999,v1={SIG}"), "not a number"),
            (format!("t={T}"), "no v1="),
            (format!("t={T},v0={SIG}"), "no v1="),
            (format!("t={T},v1=zz"), "no v1= is a signature"),
            (format!("t={T},v1="), "no v1= is a signature"),
            (format!("t={T},v1={}", &SIG[..63]), "no v1= is a signature"),
            (format!("t={T},t={T},v1={SIG}"), "more than one t="),
            ("garbage".to_owned(), "no t="),
            (format!("t={T},v1={}", "a".repeat(5000)), "longer than 4096"),
        ] {
            let e = check(&header, BODY, SECRET, T).unwrap_err();
            assert_eq!(e.code(), "malformed_signature", "{header}");
            assert!(e.to_string().contains(reason), "{header}: {e}");
        }
    }
}
