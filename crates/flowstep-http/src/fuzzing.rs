//! Entry points for the fuzz targets in `fuzz/`: the form encoder, response mapping, the `Link`
//! header and a token endpoint's answer, which are private to this crate, reached the way a
//! run reaches them. Not a stable API.

use crate::{api_error, form, mapping, paginate, send, token_request};
use flowstep_spec::Rendered;
use flowstep_spec::response_map::ResponseMapping;
use serde_json::Value;

/// A form body as the http step sends it: the pairs, and the encoded body.
pub fn form_body(body: &Rendered) -> (Vec<(String, String)>, String) {
    let pairs = form::flatten(body);
    let encoded = form::encode(&pairs);
    (pairs, encoded)
}

/// A response body as the http step reads it: parsed as JSON when it is, its error envelope
/// read (for a non-2xx status), and each mapping selected; the step's error message on failure.
pub fn map_response(
    map: &[ResponseMapping],
    body: &[u8],
    status: u16,
) -> Result<Vec<(String, Value)>, String> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let api = json.as_ref().map(api_error::parse).unwrap_or_default();
        let text = String::from_utf8_lossy(body);
        let excerpt = api_error::excerpt(&text, 300);
        return Err(api.message.unwrap_or(excerpt));
    }
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    let response = mapping::Response {
        status,
        headers: &headers,
        body,
        json: json.as_ref(),
    };
    mapping::select_all(map, &response).map_err(|e| e.message)
}

/// The target of the `Link` header entry whose `rel` holds `rel` (RFC 8288), as pagination
/// reads a page's header.
pub fn link_target(header: &str, rel: &str) -> Option<String> {
    paginate::link_with_rel(header, rel)
}

/// A token endpoint's answer (`status`, JSON or not) as the OAuth2 auth reads it: the access
/// token, or the step's error message.
pub fn token_answer(status: u16, body: &[u8]) -> Result<String, String> {
    let received = send::Received {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body: body.to_vec(),
    };
    let redactor = flowstep_engine::Redactor::new();
    token_request::read(
        Ok(received),
        1,
        "https://auth.example/token",
        std::time::Duration::from_secs(10),
        &redactor,
    )
    .map(|t| t.value.expose().to_owned())
    .map_err(|e| e.message)
}
