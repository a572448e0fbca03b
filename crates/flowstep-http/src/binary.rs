//! Responses that are not text (an image, a PDF, bytes that are not UTF-8) are never printed:
//! the step holds them as `{"content_type", "bytes", "base64"}`, or, saved with
//! `response.save_to`, as `{"content_type", "bytes", "saved_to"}`.

use base64::Engine as _;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The response's content type, if it gave one.
pub fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get("content-type").and_then(|v| v.to_str().ok())
}

/// Whether a content type names text: `text/*`, JSON, XML, forms, JavaScript (with `+json` and
/// `+xml` suffixes, any parameters).
fn is_text_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/x-www-form-urlencoded"
                | "application/javascript"
                | "application/problem+json"
                | "application/x-ndjson"
        )
}

/// Whether a body is binary: its content type names something that is not text, or it is not
/// UTF-8. An empty body is text.
pub fn is_binary(headers: &HeaderMap, body: &[u8]) -> bool {
    if body.is_empty() {
        return false;
    }
    match content_type(headers) {
        Some(ct) if !is_text_type(ct) => true,
        _ => std::str::from_utf8(body).is_err(),
    }
}

/// What the step holds of a binary body: its type, its size, and its bytes in base64 unless
/// it was saved (then where).
pub fn described(headers: &HeaderMap, body: &[u8], saved_to: Option<&str>) -> Value {
    let mut v = json!({
        "content_type": content_type(headers).unwrap_or("not given"),
        "bytes": body.len(),
    });
    match saved_to {
        Some(path) => v["saved_to"] = json!(path),
        None => v["base64"] = json!(base64::engine::general_purpose::STANDARD.encode(body)),
    }
    v
}

/// One line in place of a binary body: `[1234 bytes of image/png, not shown]`.
pub fn not_shown(headers: &HeaderMap, body: &[u8]) -> String {
    match content_type(headers) {
        Some(ct) => format!("[{} bytes of {ct}, not shown]", body.len()),
        None => format!("[{} bytes that are not text, not shown]", body.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", ct.parse().unwrap());
        h
    }

    #[test]
    fn text_types_and_utf8_are_text_and_the_rest_is_binary() {
        assert!(!is_binary(
            &headers("application/json; charset=utf-8"),
            b"{}"
        ));
        assert!(!is_binary(&headers("application/vnd.api+json"), b"{}"));
        assert!(!is_binary(&headers("text/html"), b"<p>"));
        assert!(is_binary(&headers("image/png"), b"PNG"));
        assert!(is_binary(&headers("application/pdf"), b"%PDF-1.7"));
        assert!(is_binary(&HeaderMap::new(), &[0xff, 0xfe]));
        assert!(is_binary(&headers("text/plain"), &[0xff]));
        assert!(!is_binary(&HeaderMap::new(), b"OK"));
        assert!(!is_binary(&headers("image/png"), b""));
        assert_eq!(
            described(&headers("image/png"), &[0, 1, 2], None),
            json!({"content_type": "image/png", "bytes": 3, "base64": "AAEC"})
        );
        assert_eq!(
            not_shown(&headers("image/png"), &[0, 1, 2]),
            "[3 bytes of image/png, not shown]"
        );
    }
}
