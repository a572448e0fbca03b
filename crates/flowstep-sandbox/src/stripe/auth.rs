//! API key authentication, with Stripe's exact error messages, and the [`ApiKey`] extractor
//! that applies it.
//!
//! Stripe takes the key as `Authorization: Bearer KEY` or as HTTP Basic with the key as the
//! user name and an empty password. The sandbox plays test mode only, so it accepts any key
//! shaped like `^(sk|rk)_test_[A-Za-z0-9_]{10,}$`; live keys get Stripe's "Invalid API Key
//! provided" answer followed by the sandbox's own "never takes live keys".

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;

use super::errors::ApiError;
use crate::api::header;

/// A secret key the sandbox accepts (any key matching `^(sk|rk)_test_[A-Za-z0-9_]{10,}$` is
/// accepted; this one is handy for examples and tests).
///
/// Live keys (`sk_live_...`, `rk_live_...`) are refused with "Invalid API Key provided: ...
/// The flowstep sandbox never takes live keys: ...", because the sandbox only plays test mode.
pub const SANDBOX_SECRET_KEY: &str = "sk_test_flowstep_sandbox_4242424242424242";

/// Stripe's exact text when no key is sent (from the facts file).
pub(crate) const NO_KEY_MESSAGE: &str = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/// Stripe's text for a publishable key used on a secret-key endpoint (quoted in many public
/// issue reports; stripe-php reports it with status 403, so the sandbox uses 403).
pub(crate) const PUBLISHABLE_KEY_MESSAGE: &str = "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.";

const KEY_PREFIXES: [&str; 4] = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];

/// Returns the API key of a request, or the error Stripe would answer with.
fn authenticate(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = extract_key(headers)
        .ok_or_else(|| ApiError::new(401, "invalid_request_error", NO_KEY_MESSAGE))?;
    if key.starts_with("pk_") {
        return Err(ApiError::new(
            403,
            "invalid_request_error",
            PUBLISHABLE_KEY_MESSAGE,
        ));
    }
    if is_valid_test_key(&key) {
        Ok(key)
    } else if key.starts_with("sk_live_") || key.starts_with("rk_live_") {
        // The sandbox's own words: Stripe's would say only that the key is invalid.
        Err(ApiError::new(
            401,
            "invalid_request_error",
            format!(
                "Invalid API Key provided: {}. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).",
                mask_key(&key)
            ),
        ))
    } else {
        Err(ApiError::new(
            401,
            "invalid_request_error",
            format!("Invalid API Key provided: {}", mask_key(&key)),
        ))
    }
}

/// The key of an authenticated request. Extracting it checks, in Stripe's order, the key,
/// then `Stripe-Account`, then `Stripe-Version` (see [`super::version`]); the rejection is
/// Stripe's answer.
pub(crate) struct ApiKey(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let key = authenticate(&parts.headers)?;
        if let Some(acct) = header(&parts.headers, "stripe-account") {
            // The sandbox has no connected accounts. Inference: Stripe's wording for an
            // account the key cannot act for.
            return Err(ApiError::new(
                403,
                "invalid_request_error",
                format!(
                    "The provided key '{}' does not have access to account '{acct}' (or that account does not exist). Application access may have been revoked.",
                    mask_key(&key)
                ),
            ));
        }
        // Several headers read as one list, as HTTP joins them (and as Stripe quotes them).
        let versions: Vec<String> = parts
            .headers
            .get_all("stripe-version")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if !versions.is_empty() {
            super::version::check(&versions.join(", "), crate::api::now())?;
        }
        Ok(ApiKey(key))
    }
}

fn extract_key(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, AUTHORIZATION)?;
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        rest.to_string()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8_lossy(&decoded).into_owned();
        // The key is the user name; the password is empty (anything after ':' is ignored).
        decoded.split(':').next().unwrap_or("").to_string()
    } else {
        // Inference: an unknown scheme carries no usable key, so it reads as "no key".
        return None;
    };
    if key.is_empty() { None } else { Some(key) }
}

fn is_valid_test_key(key: &str) -> bool {
    let rest = key
        .strip_prefix("sk_test_")
        .or_else(|| key.strip_prefix("rk_test_"));
    match rest {
        Some(rest) => {
            rest.len() >= 10 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
        None => false,
    }
}

/// Stripe's redaction: the key's type prefix (if any), four stars, then the last four
/// characters, e.g. `sk_test_****1234`.
fn mask_key(key: &str) -> String {
    let (prefix, rest) = KEY_PREFIXES
        .iter()
        .find_map(|p| key.strip_prefix(p).map(|rest| (*p, rest)))
        .unwrap_or(("", key));
    let chars: Vec<char> = rest.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("{prefix}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_stripe() {
        assert_eq!(mask_key("sk_test_abcdef1234"), "sk_test_****1234");
        assert_eq!(mask_key("sk_live_abcdef1234"), "sk_live_****1234");
        assert_eq!(mask_key("garbage-key-9876"), "****9876");
        assert_eq!(mask_key("ab"), "****ab");
        assert_eq!(mask_key("é日本語x"), "****日本語x");
    }

    #[test]
    fn valid_keys() {
        assert!(is_valid_test_key(SANDBOX_SECRET_KEY));
        assert!(is_valid_test_key("rk_test_0123456789"));
        assert!(!is_valid_test_key("sk_test_012345678"));
        assert!(!is_valid_test_key("sk_live_0123456789abc"));
        assert!(!is_valid_test_key("sk_test_0123456789-x"));
    }

    #[test]
    fn basic_auth() {
        let mut h = HeaderMap::new();
        let enc =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", SANDBOX_SECRET_KEY));
        h.insert("authorization", format!("Basic {enc}").parse().unwrap());
        assert_eq!(authenticate(&h).unwrap(), SANDBOX_SECRET_KEY);
    }
}
