//! Stripe's error envelope and the errors the sandbox answers with.
//!
//! Envelope: `{"error": {"code", "doc_url", "message", "param", "type"}}`. Like Stripe, a
//! field that does not apply is left out rather than sent as `null` (e.g. the "no API key"
//! error has only `message` and `type`). `request_log_url` is left out: it would point at
//! Stripe's dashboard, where a sandbox request does not exist.

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::api;

/// An API error: an HTTP status and a Stripe error object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) kind: &'static str,
    pub(crate) code: Option<&'static str>,
    pub(crate) message: String,
    pub(crate) param: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            code: None,
            message: message.into(),
            param: None,
        }
    }

    /// A 400 `invalid_request_error`.
    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "invalid_request_error", message)
    }

    pub(crate) fn code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    pub(crate) fn param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    /// "Missing required param: X." (the final period is Stripe's).
    pub(crate) fn missing(param: &str) -> ApiError {
        ApiError::invalid(format!("Missing required param: {param}."))
            .code("parameter_missing")
            .param(param)
    }

    pub(crate) fn unknown(param: &str) -> ApiError {
        ApiError::invalid(format!("Received unknown parameter: {param}"))
            .code("parameter_unknown")
            .param(param)
    }

    /// "Received unknown parameter: X. Did you mean Y?" when `key` (the last part of `param`)
    /// is close to one of `known` (see [`super::suggest`]), else [`ApiError::unknown`].
    pub(crate) fn unknown_among(param: &str, key: &str, known: &[&str]) -> ApiError {
        let mut err = ApiError::unknown(param);
        if let Some(name) = super::suggest::closest(key, known) {
            err.message = format!("{}. Did you mean {name}?", err.message);
        }
        err
    }

    /// Stripe's answer when an integer parameter does not parse.
    pub(crate) fn invalid_integer(param: &str, value: &str) -> ApiError {
        ApiError::invalid(format!("Invalid integer: {value}"))
            .code("parameter_invalid_integer")
            .param(param)
    }

    /// Stripe's answer for a non-list where a list is expected. Inference: Stripe's message
    /// for a list whose indices are not 0, 1, 2, ... is not documented; the sandbox answers
    /// with the same "Invalid array" it gives for a non-list (observed in public reports
    /// with `param` set to the list's name).
    pub(crate) fn invalid_array(param: &str) -> ApiError {
        ApiError::invalid("Invalid array").param(param)
    }

    /// Stripe's answer for a non-hash where a hash is expected (by analogy with "Invalid
    /// array").
    pub(crate) fn invalid_hash(param: &str) -> ApiError {
        ApiError::invalid("Invalid hash").param(param)
    }

    pub(crate) fn resource_missing(status: u16, message: String, param: &str) -> ApiError {
        ApiError::new(status, "invalid_request_error", message)
            .code("resource_missing")
            .param(param)
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut err = Map::new();
        if let Some(code) = self.code {
            err.insert("code".into(), json!(code));
            err.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        err.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            err.insert("param".into(), json!(param));
        }
        err.insert("type".into(), json!(self.kind));
        json!({ "error": Value::Object(err) })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        api::json(self.status, &self.to_json())
    }
}

/// The body a `Status` fault sends when it has none of its own: what Stripe sends for that
/// kind of status. 429 gets Stripe's rate-limit error; everything else Stripe's generic
/// `api_error`.
pub(crate) fn default_fault_body(status: u16) -> Value {
    if status == 429 {
        ApiError::invalid(
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        )
        .code("rate_limit")
        .to_json()
    } else {
        ApiError::new(status, "api_error", "An unknown error occurred").to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape() {
        let v = ApiError::missing("line_items[0][quantity]").to_json();
        assert_eq!(
            v,
            json!({"error": {
                "code": "parameter_missing",
                "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
                "message": "Missing required param: line_items[0][quantity].",
                "param": "line_items[0][quantity]",
                "type": "invalid_request_error"
            }})
        );
        let v = ApiError::invalid("x").to_json();
        assert_eq!(
            v,
            json!({"error": {"message": "x", "type": "invalid_request_error"}})
        );
    }
}
