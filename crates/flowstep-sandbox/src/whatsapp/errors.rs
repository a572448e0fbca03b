//! The Graph API's error envelope, as the WhatsApp Cloud API answers with it, and the
//! errors the stand-in uses.
//!
//! Envelope: `{"error": {"message", "type", "code", "error_subcode"?, "error_data"?:
//! {"messaging_product", "details"}, "fbtrace_id"}}`. `fbtrace_id` is a fresh random id
//! per answer, like Meta's. OAuth failures also carry a `WWW-Authenticate` header, as
//! Graph sends them.

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::api::{self, random_alnum};

/// A Graph API error: an HTTP status and the error object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) kind: &'static str,
    pub(crate) code: u32,
    pub(crate) subcode: Option<u32>,
    pub(crate) details: Option<String>,
    /// The second field of `WWW-Authenticate: OAuth "Facebook Platform" "<this>" "<msg>"`.
    pub(crate) www_authenticate: Option<&'static str>,
}

impl GraphError {
    /// A 400 `OAuthException` with code 100, the Cloud API's "invalid parameter" family.
    pub(crate) fn param(message: impl Into<String>) -> GraphError {
        GraphError {
            status: 400,
            message: message.into(),
            kind: "OAuthException",
            code: 100,
            subcode: None,
            details: None,
            www_authenticate: None,
        }
    }

    /// `(#100) The parameter X is required.` (Meta's wording, quoted in many reports).
    pub(crate) fn required(param: &str) -> GraphError {
        GraphError::param(format!("(#100) The parameter {param} is required."))
    }

    /// Adds `error_data: {"messaging_product": "whatsapp", "details": ...}`.
    pub(crate) fn details(mut self, details: impl Into<String>) -> GraphError {
        self.details = Some(details.into());
        self
    }

    /// No access token at all: Graph's code 104 (its text, quoted in many reports). The
    /// 401 status is inferred (older Graph versions answered 400).
    pub(crate) fn no_token() -> GraphError {
        let message = "An access token is required to request this resource.";
        let www_authenticate = Some("invalid_request");
        GraphError {
            status: 401,
            code: 104,
            www_authenticate,
            ..GraphError::param(message)
        }
    }

    /// A token Graph does not know: code 190 with Meta's exact text (many reports and
    /// client fixtures, answered with 401).
    pub(crate) fn bad_token() -> GraphError {
        let message = "Invalid OAuth access token - Cannot parse access token";
        let www_authenticate = Some("invalid_token");
        GraphError {
            status: 401,
            code: 190,
            www_authenticate,
            ..GraphError::param(message)
        }
    }

    /// An object id the token cannot reach: Meta's exact text, code 100, subcode 33,
    /// `GraphMethodException`, 400 (many recorded responses).
    pub(crate) fn no_such_object(method: &str, id: &str) -> GraphError {
        let message = format!(
            "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            method.to_ascii_lowercase()
        );
        let (kind, subcode) = ("GraphMethodException", Some(33));
        let www_authenticate = Some("invalid_request");
        GraphError {
            kind,
            subcode,
            www_authenticate,
            ..GraphError::param(message)
        }
    }

    /// A template the account has not approved: code 132001 "Template name does not exist in
    /// the translation" (Meta's error-code table), answered with 404; the details wording is
    /// inferred.
    pub(crate) fn no_template(name: &str, language: &str) -> GraphError {
        GraphError {
            status: 404,
            code: 132001,
            ..GraphError::param("(#132001) Template name does not exist in the translation")
        }
        .details(format!(
            "template name ({name}) does not exist in {language}; the flowstep sandbox knows hello_world, order_payment, payment_reminder, payment_received and those added with --whatsapp-templates"
        ))
    }

    /// Parameters that do not match the template's placeholders: code 132000 "Number of
    /// parameters does not match the expected number of params" (Meta's wording, quoted in
    /// chatwoot/chatwoot issue #13725); the details wording is inferred.
    pub(crate) fn param_count(component: &str, got: usize, want: usize) -> GraphError {
        GraphError {
            code: 132000,
            ..GraphError::param(
                "(#132000) Number of parameters does not match the expected number of params",
            )
        }
        .details(format!(
            "{component}: number of localizable_params ({got}) does not match the expected number of params ({want})"
        ))
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut err = Map::new();
        err.insert("message".into(), json!(self.message));
        err.insert("type".into(), json!(self.kind));
        err.insert("code".into(), json!(self.code));
        if let Some(sub) = self.subcode {
            err.insert("error_subcode".into(), json!(sub));
        }
        if let Some(details) = &self.details {
            err.insert(
                "error_data".into(),
                json!({"messaging_product": "whatsapp", "details": details}),
            );
        }
        err.insert("fbtrace_id".into(), json!(fbtrace_id()));
        json!({ "error": Value::Object(err) })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut resp = api::json(self.status, &self.to_json());
        if let Some(kind) = self.www_authenticate {
            // Header values cannot hold every character a message might; the messages
            // used here are plain ASCII without quotes.
            let value = format!(
                "OAuth \"Facebook Platform\" \"{kind}\" \"{}\"",
                self.message
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                resp.headers_mut().append("www-authenticate", value);
            }
        }
        resp
    }
}

/// Meta's trace ids look like `AbysPB151Ci53nyUmZORrZm`: 23 letters and digits, starting
/// with `A`.
fn fbtrace_id() -> String {
    format!("A{}", random_alnum(22))
}

/// The body a `Status` fault sends on a WhatsApp path when it has none of its own.
///
/// 429: the Cloud API's throughput error, code 130429 "(#130429) Rate limit hit" (Meta's
/// error-code table). Anything else: Graph's transient error, code 2 "An unexpected error
/// has occurred. Please retry your request later." with `is_transient: true` (Meta's
/// wording; the shape is the one Graph uses for transient errors).
pub(crate) fn default_fault_body(status: u16) -> Value {
    if status == 429 {
        json!({"error": {
            "message": "(#130429) Rate limit hit",
            "type": "OAuthException",
            "code": 130429,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Cloud API message throughput has been reached."
            },
            "fbtrace_id": fbtrace_id()
        }})
    } else {
        json!({"error": {
            "message": "An unexpected error has occurred. Please retry your request later.",
            "type": "OAuthException",
            "is_transient": true,
            "code": 2,
            "fbtrace_id": fbtrace_id()
        }})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape() {
        let v = GraphError::no_such_object("POST", "123").to_json();
        assert_eq!(v["error"]["type"], "GraphMethodException");
        assert_eq!(v["error"]["code"], 100);
        assert_eq!(v["error"]["error_subcode"], 33);
        let trace = v["error"]["fbtrace_id"].as_str().unwrap();
        assert!(trace.starts_with('A') && trace.len() == 23, "{trace}");
        let v = GraphError::param("(#100) Invalid parameter")
            .details("Parameter Invalid")
            .to_json();
        assert_eq!(
            v["error"]["error_data"],
            json!({"messaging_product": "whatsapp", "details": "Parameter Invalid"})
        );
        assert!(v["error"].get("error_subcode").is_none());
    }
}
