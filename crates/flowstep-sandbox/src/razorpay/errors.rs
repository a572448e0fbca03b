//! Razorpay's error envelope and the errors the Payment Links stand-in answers with.
//!
//! Envelope: `{"error": {"code", "description", "source", "step", "reason", "metadata",
//! "field"}}` (Razorpay's "About Errors" page). Two shapes are used, as observed:
//!
//! - authentication failures carry only `code` and `description` (live probes quoted in
//!   public code: `401 {"error":{"code":"BAD_REQUEST_ERROR","description":"Authentication
//!   failed"}}`);
//! - every other error carries the full envelope. The Payment Links reference pages show
//!   `"source": "NA", "step": "NA", "reason": "NA", "metadata": {}` in their failure
//!   samples, so those are used; `field` names the offending parameter when there is one
//!   and is left out otherwise.

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::api;

/// The code every 4xx answer of Razorpay's API carries, 401 included.
const BAD_REQUEST: &str = "BAD_REQUEST_ERROR";

/// Razorpay's answer when no credentials are sent (live probe quoted in public notes).
pub(crate) const NO_KEY_DESCRIPTION: &str =
    "Please provide your api key for authentication purposes";

/// Razorpay's answer for a wrong key id or secret (many live probes quoted publicly).
pub(crate) const AUTH_FAILED_DESCRIPTION: &str = "Authentication failed";

/// The sandbox's own answer to a live key id (`rzp_live_...`): Razorpay's wording for a
/// failed authentication, and why.
pub(crate) const LIVE_KEY_DESCRIPTION: &str = "Authentication failed: the flowstep sandbox never takes live keys; use a test key id (rzp_test_...)";

/// Razorpay's answer for a path or method it does not serve (quoted in SDK issues).
pub(crate) const NOT_FOUND_DESCRIPTION: &str = "The requested URL was not found on the server.";

/// Razorpay's answer for an id it does not know (quoted in many SDK issues).
pub(crate) const NO_SUCH_ID_DESCRIPTION: &str = "The id provided does not exist";

/// A Razorpay API error: an HTTP status and the error object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RzpError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) description: String,
    pub(crate) field: Option<String>,
    /// Authentication errors are answered in the short form (code and description only).
    short: bool,
}

impl RzpError {
    /// A 400 `BAD_REQUEST_ERROR` in the full envelope.
    pub(crate) fn bad_request(description: impl Into<String>) -> RzpError {
        RzpError {
            status: 400,
            code: BAD_REQUEST,
            description: description.into(),
            field: None,
            short: false,
        }
    }

    /// A 400 about one request parameter.
    pub(crate) fn field(description: impl Into<String>, field: &str) -> RzpError {
        let mut e = RzpError::bad_request(description);
        e.field = Some(field.to_string());
        e
    }

    /// A 401 in the short form Razorpay uses for authentication failures.
    pub(crate) fn unauthorized(description: &str) -> RzpError {
        RzpError {
            status: 401,
            short: true,
            ..RzpError::bad_request(description)
        }
    }

    /// Unknown payment link id. Razorpay answers 400 (not 404) for ids it cannot find.
    pub(crate) fn no_such_id() -> RzpError {
        RzpError::bad_request(NO_SUCH_ID_DESCRIPTION)
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut err = Map::new();
        err.insert("code".into(), json!(self.code));
        err.insert("description".into(), json!(self.description));
        if !self.short {
            err.insert("source".into(), json!("NA"));
            err.insert("step".into(), json!("NA"));
            err.insert("reason".into(), json!("NA"));
            err.insert("metadata".into(), json!({}));
            if let Some(field) = &self.field {
                err.insert("field".into(), json!(field));
            }
        }
        json!({ "error": Value::Object(err) })
    }
}

impl IntoResponse for RzpError {
    fn into_response(self) -> Response {
        api::json(self.status, &self.to_json())
    }
}

/// The body a `Status` fault sends on a Razorpay path when it has none of its own.
///
/// 5xx: Razorpay's `SERVER_ERROR` text (quoted in razorpay-node issue #209). 429: "Too many
/// requests" (inferred: Razorpay's rate-limit wording is not documented; this is what
/// public client code matches on). Anything else: a generic `BAD_REQUEST_ERROR`.
pub(crate) fn default_fault_body(status: u16) -> Value {
    let (code, description) = match status {
        429 => (BAD_REQUEST, "Too many requests"),
        500.. => (
            "SERVER_ERROR",
            "The server encountered an error. The incident has been reported to admins.",
        ),
        _ => (BAD_REQUEST, "Bad request"),
    };
    json!({"error": {
        "code": code,
        "description": description,
        "source": "NA",
        "step": "NA",
        "reason": "NA",
        "metadata": {}
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shapes() {
        assert_eq!(
            RzpError::unauthorized(AUTH_FAILED_DESCRIPTION).to_json(),
            json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}})
        );
        assert_eq!(
            RzpError::field("The amount must be an integer.", "amount").to_json(),
            json!({"error": {
                "code": "BAD_REQUEST_ERROR",
                "description": "The amount must be an integer.",
                "source": "NA", "step": "NA", "reason": "NA", "metadata": {},
                "field": "amount"
            }})
        );
        let v = RzpError::no_such_id().to_json();
        assert!(v["error"].get("field").is_none(), "{v}");
    }
}
