//! Entry points for the fuzz targets in `fuzz/`: the form encoder and response mapping, which
//! are private to this crate, reached the way a run reaches them. Not a stable API.

use crate::{api_error, form, mapping};
use flowstep_spec::jsonpath::CompiledPath;
use flowstep_spec::{Rendered, Spanned};
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
    map: &[(Spanned<String>, CompiledPath)],
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
    mapping::select_all(map, json.as_ref(), Some("application/json"), status).map_err(|e| e.message)
}
