//! Reading the Graph API's error envelope (`{"error": {"message", "type", "code",
//! "error_subcode", "error_data": {"details"}, "is_transient"}}`) into a [`ChannelError`] that
//! says what Meta said and whether trying again later may work.

use flowstep_engine::ChannelError;
use serde_json::Value;

/// The error for a non-2xx answer with status `status` and body `body`.
///
/// Transient: 429 and 5xx (Meta's throughput and server errors), and any answer Graph marks
/// `is_transient: true`. Everything else (a bad token, an unknown number, a bad recipient) will
/// fail the same way again.
pub fn from_response(status: u16, body: &[u8]) -> ChannelError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let text = |key: &str| {
        error.and_then(|e| e.get(key)).and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let marked_transient = error
        .and_then(|e| e.get("is_transient"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let transient = status == 429 || status >= 500 || marked_transient;
    let mut message = match text("message") {
        Some(m) => m,
        None => format!(
            "the answer has no Graph error message: {}",
            excerpt(&String::from_utf8_lossy(body))
        ),
    };
    if let Some(details) = error
        .and_then(|e| e.get("error_data"))
        .and_then(|d| d.get("details"))
        .and_then(Value::as_str)
        .filter(|d| !message.contains(d))
    {
        message = format!("{message} ({details})");
    }
    let code = match (text("code"), text("error_subcode")) {
        (Some(c), Some(s)) => format!(", code {c}, subcode {s}"),
        (Some(c), None) => format!(", code {c}"),
        _ => String::new(),
    };
    ChannelError {
        message: format!("WhatsApp Cloud API answered HTTP {status}{code}: {message}"),
        transient,
    }
}

/// The start of a body, on one line, for an answer that is not Graph's envelope.
fn excerpt(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 200 {
        one_line
    } else {
        let cut: String = one_line.chars().take(200).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_token_is_permanent_and_says_what_meta_said() {
        let e = from_response(
            401,
            br#"{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"Ab"}}"#,
        );
        assert_eq!(
            e.message,
            "WhatsApp Cloud API answered HTTP 401, code 190: Invalid OAuth access token - Cannot parse access token"
        );
        assert!(!e.transient);
    }

    #[test]
    fn details_subcodes_and_transient_answers() {
        let e = from_response(
            400,
            br#"{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"error_data":{"messaging_product":"whatsapp","details":"Parameter Invalid"}}}"#,
        );
        assert_eq!(
            e.message,
            "WhatsApp Cloud API answered HTTP 400, code 100: (#100) Invalid parameter (Parameter Invalid)"
        );
        let e = from_response(
            400,
            br#"{"error":{"message":"Unsupported post request.","code":100,"error_subcode":33}}"#,
        );
        assert!(e.message.contains("code 100, subcode 33"), "{}", e.message);
        assert!(from_response(429, b"{}").transient);
        assert!(from_response(503, b"<html>busy</html>").transient);
        assert!(
            from_response(
                400,
                br#"{"error":{"message":"x","code":2,"is_transient":true}}"#
            )
            .transient
        );
        assert_eq!(
            from_response(502, b"<html>bad   gateway</html>").message,
            "WhatsApp Cloud API answered HTTP 502: the answer has no Graph error message: <html>bad gateway</html>"
        );
    }
}
