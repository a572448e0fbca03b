//! Fuzzes the webhook signature checks (`flowstep_webhook_signature::{stripe, razorpay,
//! whatsapp}::verify`) with an arbitrary header, body, secret and clock, and checks the two
//! promises: a body signed with `sign` always verifies (Stripe: at any time within the
//! tolerance), and a changed byte of the body, another secret or a changed signature digit
//! never does.
//!
//! The input is text-like so that seeds are readable: `header\nsecret\nNUMBERS\nbody`, where
//! NUMBERS are up to four decimal numbers (now, the signing time, the tolerance in seconds,
//! which byte to change); missing parts are empty or zero.
#![no_main]

use flowstep_webhook_signature::{SignatureError, razorpay, stripe, whatsapp};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest `t=` Stripe's check reads (12 digits); later times are not signing times.
const MAX_T: u64 = 999_999_999_999;

fn split(data: &[u8]) -> (&[u8], &[u8], &[u8], &[u8]) {
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let mut next = || parts.next().unwrap_or(&[]);
    (next(), next(), next(), next())
}

fn numbers(line: &[u8]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let text = String::from_utf8_lossy(line);
    for (slot, word) in out.iter_mut().zip(text.split_whitespace()) {
        *slot = word.parse().unwrap_or_else(|_| word.len() as u64);
    }
    out
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// The body with byte `which` (modulo its length) changed; `None` for an empty body.
fn changed(body: &[u8], which: u64) -> Option<Vec<u8>> {
    if body.is_empty() {
        return None;
    }
    let mut out = body.to_vec();
    let i = (which % body.len() as u64) as usize;
    out[i] ^= 1 | (which >> 32) as u8;
    Some(out)
}

/// The hex signature with its digit `which` replaced by another digit of another value.
fn other_digit(hex: &str, which: u64) -> String {
    let i = (which % hex.len() as u64) as usize;
    let mut bytes = hex.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

fn mismatch(result: Result<(), SignatureError>, what: &str) {
    assert!(
        matches!(result, Err(SignatureError::Mismatch { .. })),
        "{what}: {result:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let (header, secret, numbers_line, body) = split(data);
    let header = String::from_utf8_lossy(header);
    let secret = String::from_utf8_lossy(secret);
    let [now, t, tolerance, which] = numbers(numbers_line);
    // Within what `SystemTime` holds everywhere.
    let now = now % (1 << 40);
    let tolerance = Duration::from_secs(tolerance % (1 << 32));

    // Arbitrary headers: an answer, never a panic; an error never shows the secret's text
    // beyond what the fixed words happen to contain.
    for header in [Some(header.as_ref()), None] {
        let results = [
            stripe::verify(header, body, &secret, at(now), tolerance),
            razorpay::verify(header, body, &secret),
            whatsapp::verify(header, body, &secret),
        ];
        for result in results {
            if let Err(e) = result {
                let _ = (e.code(), e.to_string());
            }
        }
    }

    // Signed with `sign`: verifies; a changed body, another secret or a changed digit not.
    let other_secret = format!("{secret}x");
    let signed = razorpay::sign(body, &secret);
    assert_eq!(razorpay::verify(Some(&signed), body, &secret), Ok(()));
    mismatch(
        razorpay::verify(Some(&signed), body, &other_secret),
        "razorpay, other secret",
    );
    mismatch(
        razorpay::verify(Some(&other_digit(&signed, which)), body, &secret),
        "razorpay, changed digit",
    );
    let signed = whatsapp::sign(body, &secret);
    assert_eq!(whatsapp::verify(Some(&signed), body, &secret), Ok(()));
    mismatch(
        whatsapp::verify(Some(&signed), body, &other_secret),
        "whatsapp, other secret",
    );
    let hex = &signed["sha256=".len()..];
    mismatch(
        whatsapp::verify(
            Some(&format!("sha256={}", other_digit(hex, which))),
            body,
            &secret,
        ),
        "whatsapp, changed digit",
    );
    let t = t % (MAX_T + 1);
    let signed = stripe::sign(body, &secret, t);
    // Now is anywhere within the tolerance of t, either side.
    let span = tolerance.as_secs().saturating_mul(2).saturating_add(1);
    let checked_at = (t + now % span).saturating_sub(tolerance.as_secs());
    if checked_at.abs_diff(t) <= tolerance.as_secs() {
        let result = stripe::verify(Some(&signed), body, &secret, at(checked_at), tolerance);
        assert_eq!(result, Ok(()), "stripe, t={t} now={checked_at}");
    }
    mismatch(
        stripe::verify(Some(&signed), body, &other_secret, at(t), tolerance),
        "stripe, other secret",
    );
    let (head, hex) = signed.split_once(",v1=").unwrap();
    mismatch(
        stripe::verify(
            Some(&format!("{head},v1={}", other_digit(hex, which))),
            body,
            &secret,
            at(t),
            tolerance,
        ),
        "stripe, changed digit",
    );
    if let Some(body2) = changed(body, which) {
        mismatch(
            razorpay::verify(Some(&razorpay::sign(body, &secret)), &body2, &secret),
            "razorpay, changed byte",
        );
        mismatch(
            whatsapp::verify(Some(&whatsapp::sign(body, &secret)), &body2, &secret),
            "whatsapp, changed byte",
        );
        mismatch(
            stripe::verify(Some(&signed), &body2, &secret, at(t), tolerance),
            "stripe, changed byte",
        );
    }
});
