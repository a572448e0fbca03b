//! Reading an API's error envelope (Stripe, WhatsApp Cloud API, Razorpay, and the common
//! `{"message"}` / `{"error": "text"}` shapes) so that a failed step says what the API said.

use serde_json::Value;

/// What an error response said, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    /// The API's own message.
    pub message: Option<String>,
    /// Its error code (`parameter_missing`, `BAD_REQUEST_ERROR`, `190`).
    pub code: Option<String>,
    /// Its error type (`invalid_request_error`, `OAuthException`).
    pub api_type: Option<String>,
    /// The parameter it complained about.
    pub param: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads the envelope of a JSON error body; all fields `None` when it has none.
pub fn parse(body: &Value) -> ApiError {
    match body.get("error") {
        // Stripe `{"error": {"type", "code", "message", "param"}}`, WhatsApp
        // `{"error": {"message", "type", "code"}}`, Razorpay
        // `{"error": {"code", "description", "field"}}`.
        Some(e @ Value::Object(_)) => ApiError {
            message: text(e.get("message")).or_else(|| text(e.get("description"))),
            code: text(e.get("code")),
            api_type: text(e.get("type")),
            param: text(e.get("param")).or_else(|| text(e.get("field"))),
        },
        Some(Value::String(s)) if !s.is_empty() => ApiError {
            message: text(body.get("message"))
                .or_else(|| text(body.get("error_description")))
                .or_else(|| Some(s.clone())),
            code: text(body.get("code")),
            ..ApiError::default()
        },
        _ => ApiError {
            message: text(body.get("message")),
            code: text(body.get("code")),
            ..ApiError::default()
        },
    }
}

/// The start of a body for a message, on one line.
pub fn excerpt(body: &str, max_chars: usize) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max_chars {
        one_line
    } else {
        let cut: String = one_line.chars().take(max_chars).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stripe_errors() {
        let e = parse(&json!({"error": {
            "type": "invalid_request_error", "code": "parameter_missing",
            "message": "Missing required param: line_items[0][price_data][currency].",
            "param": "line_items[0][price_data][currency]",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-missing"
        }}));
        assert_eq!(
            e,
            ApiError {
                message: Some(
                    "Missing required param: line_items[0][price_data][currency].".into()
                ),
                code: Some("parameter_missing".into()),
                api_type: Some("invalid_request_error".into()),
                param: Some("line_items[0][price_data][currency]".into()),
            }
        );
    }

    #[test]
    fn whatsapp_razorpay_and_generic_errors() {
        let e = parse(
            &json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "x"}}),
        );
        assert_eq!(e.message.as_deref(), Some("Invalid OAuth access token."));
        assert_eq!(e.code.as_deref(), Some("190"));
        assert_eq!(e.api_type.as_deref(), Some("OAuthException"));
        let e = parse(
            &json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "The amount must be atleast INR 1.00", "field": "amount"}}),
        );
        assert_eq!(
            e.message.as_deref(),
            Some("The amount must be atleast INR 1.00")
        );
        assert_eq!(e.code.as_deref(), Some("BAD_REQUEST_ERROR"));
        assert_eq!(e.param.as_deref(), Some("amount"));
        let e = parse(&json!({"message": "Not Found"}));
        assert_eq!(e.message.as_deref(), Some("Not Found"));
        let e = parse(&json!({"error": "invalid_token"}));
        assert_eq!(e.message.as_deref(), Some("invalid_token"));
        let e = parse(&json!({"error": "invalid_grant", "error_description": "Code expired"}));
        assert_eq!(e.message.as_deref(), Some("Code expired"));
        assert_eq!(parse(&json!({"data": 1})), ApiError::default());
        assert_eq!(parse(&json!([1])), ApiError::default());
    }

    #[test]
    fn excerpts_are_short_and_one_line() {
        assert_eq!(
            excerpt("<html>\n  <b>502</b>\n</html>", 100),
            "<html> <b>502</b> </html>"
        );
        assert_eq!(excerpt("abcdef", 3), "abc...");
    }
}
