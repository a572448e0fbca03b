//! Razorpay's payment-link callback: the `razorpay_*` query parameters of the browser redirect
//! to a link's `callback_url`, and their `razorpay_signature`.
//!
//! After a payment, Razorpay redirects the customer to `callback_url` with
//! `razorpay_payment_id`, `razorpay_payment_link_id`, `razorpay_payment_link_reference_id`,
//! `razorpay_payment_link_status` and `razorpay_signature`, the hex HMAC-SHA256 keyed with the
//! API key secret (not a webhook secret) of
//! `"<payment_link_id>|<reference_id>|<status>|<payment_id>"` (facts file; razorpay-python
//! `Utility.verify_payment_link_signature`). A query string is forgeable, so a shop verifies it
//! before it believes the status.

use crate::{SignatureError, hex_matches, hmac_sha256};

/// The parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "razorpay_signature";

/// The signed parameters, in the order Razorpay signs them.
pub const SIGNED_PARAMS: [&str; 4] = [
    "razorpay_payment_link_id",
    "razorpay_payment_link_reference_id",
    "razorpay_payment_link_status",
    "razorpay_payment_id",
];

/// The callback's parameters as a shop receives them (decoded query pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// `razorpay_payment_link_id` (`plink_...`).
    pub payment_link_id: String,
    /// `razorpay_payment_link_reference_id` (empty when the link has none).
    pub reference_id: String,
    /// `razorpay_payment_link_status` (`paid`, ...).
    pub status: String,
    /// `razorpay_payment_id` (`pay_...`).
    pub payment_id: String,
}

impl Callback {
    /// The message Razorpay signs.
    fn message(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.payment_link_id, self.reference_id, self.status, self.payment_id
        )
    }

    /// The `razorpay_signature` Razorpay sends for these parameters with `key_secret`.
    pub fn sign(&self, key_secret: &str) -> String {
        hex::encode(hmac_sha256(
            key_secret.as_bytes(),
            &[self.message().as_bytes()],
        ))
    }

    /// The query pairs of the redirect, signature last, as Razorpay sends them.
    pub fn query_pairs(&self, key_secret: &str) -> Vec<(&'static str, String)> {
        vec![
            ("razorpay_payment_id", self.payment_id.clone()),
            ("razorpay_payment_link_id", self.payment_link_id.clone()),
            (
                "razorpay_payment_link_reference_id",
                self.reference_id.clone(),
            ),
            ("razorpay_payment_link_status", self.status.clone()),
            (SIGNATURE_PARAM, self.sign(key_secret)),
        ]
    }
}

/// Checks the callback's decoded query `pairs` with the API `key_secret`; on success, the
/// verified parameters. A missing signed parameter or signature is `Missing`, a signature that
/// is not 64 hex digits `Malformed`, any other difference `Mismatch`.
pub fn verify(pairs: &[(String, String)], key_secret: &str) -> Result<Callback, SignatureError> {
    let get = |name: &'static str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or(SignatureError::Missing { header: name })
    };
    let signature = get(SIGNATURE_PARAM)?;
    let callback = Callback {
        payment_link_id: get(SIGNED_PARAMS[0])?,
        reference_id: get(SIGNED_PARAMS[1])?,
        status: get(SIGNED_PARAMS[2])?,
        payment_id: get(SIGNED_PARAMS[3])?,
    };
    let signature = signature.trim();
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SignatureError::Malformed {
            header: SIGNATURE_PARAM,
            reason: "it is not 64 hex digits",
        });
    }
    let expected = hmac_sha256(key_secret.as_bytes(), &[callback.message().as_bytes()]);
    if hex_matches(signature, &expected) {
        Ok(callback)
    } else {
        Err(SignatureError::Mismatch {
            header: SIGNATURE_PARAM,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently with Razorpay's documented algorithm, using OpenSSL:
    //   printf '%s' 'plink_Ex1|order-1042|paid|pay_Ex1' \
    //     | openssl dgst -sha256 -hmac flowstepSandboxSecret024
    const SIG: &str = "8b03b06d41858bbf9acf3a9538252f9a860205f4c4d833195b0cbe138fd36013";
    const SECRET: &str = "flowstepSandboxSecret024";

    fn pairs(sig: &str) -> Vec<(String, String)> {
        [
            ("razorpay_payment_id", "pay_Ex1"),
            ("razorpay_payment_link_id", "plink_Ex1"),
            ("razorpay_payment_link_reference_id", "order-1042"),
            ("razorpay_payment_link_status", "paid"),
            ("razorpay_signature", sig),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    }

    #[test]
    fn the_documented_vector_verifies_and_sign_makes_it() {
        let cb = verify(&pairs(SIG), SECRET).unwrap();
        assert_eq!(cb.status, "paid");
        assert_eq!(cb.sign(SECRET), SIG);
        assert_eq!(
            cb.query_pairs(SECRET)[4],
            ("razorpay_signature", SIG.to_owned())
        );
    }

    #[test]
    fn a_forged_status_or_another_secret_is_refused() {
        let mut forged = pairs(SIG);
        forged[3].1 = "partially_paid".into();
        assert_eq!(
            verify(&forged, SECRET),
            Err(SignatureError::Mismatch {
                header: SIGNATURE_PARAM
            })
        );
        assert!(verify(&pairs(SIG), "another_secret").is_err());
        assert!(matches!(
            verify(&pairs("abc"), SECRET),
            Err(SignatureError::Malformed { .. })
        ));
        let mut missing = pairs(SIG);
        missing.remove(0);
        assert!(matches!(
            verify(&missing, SECRET),
            Err(SignatureError::Missing { .. })
        ));
    }
}
