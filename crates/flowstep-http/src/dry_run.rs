//! Dry runs: the request as an equivalent `curl` command, for a person to read or paste.

use crate::request::PreparedRequest;

pub use crate::shell::shell_quote;

/// `curl -X POST 'URL' -H 'Name: value' --data-raw '...'` for `req` sent to `url` (the routed
/// URL, what would really be contacted).
pub fn curl(req: &PreparedRequest, url: &str) -> String {
    let mut parts = vec!["curl".to_owned()];
    match req.method.as_str() {
        "GET" => {}
        // `-X HEAD` makes curl wait for a body that never comes.
        "HEAD" => parts.push("--head".to_owned()),
        m => {
            parts.push("-X".to_owned());
            parts.push(m.to_owned());
        }
    }
    parts.push(shell_quote(url));
    // curl writes a multipart body's Content-Type itself, with its own boundary.
    let multipart = req.upload.is_some()
        && req
            .headers
            .get("Content-Type")
            .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    for (k, v) in &req.headers.0 {
        if multipart && k.eq_ignore_ascii_case("Content-Type") {
            continue;
        }
        parts.push("-H".to_owned());
        parts.push(shell_quote(&format!("{k}: {v}")));
    }
    if let Some(body) = &req.body {
        parts.push("--data-raw".to_owned());
        parts.push(shell_quote(body));
    }
    if let Some(upload) = &req.upload {
        parts.extend(upload.curl.iter().cloned());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::{flow, prepare_with};
    use flowstep_engine::Redactor;
    use serde_json::json;

    #[test]
    fn quoting_survives_quotes_and_dollars() {
        assert_eq!(shell_quote("it's $HOME `x`"), r"'it'\''s $HOME `x`'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn a_form_post_as_curl() {
        let f = flow(
            "    method: POST\n    url: https://api.stripe.com/v1/x\n    body_type: form\n    body:\n      name: <<v>>\n",
        );
        let req = prepare_with(&f, json!({"v": "O'Brien", "n": 1}), &Redactor::new()).unwrap();
        assert_eq!(
            curl(&req, "https://api.stripe.com/v1/x"),
            "curl -X POST 'https://api.stripe.com/v1/x' -H 'User-Agent: flowstep/test' \
             -H 'Accept: application/json' -H 'Content-Type: application/x-www-form-urlencoded' \
             --data-raw 'name=O%27Brien'"
        );
    }
}
