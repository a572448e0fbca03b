//! Secret bindings: a secret declared with `hosts:` is only ever sent to those origins (scheme,
//! host and port), whatever the URL template renders to, whatever encoding carries it, and
//! wherever a redirect points.
//!
//! The decision is made on data flow first (which parts of the request read the secret, see
//! [`crate::secret_reads`]), then on value as a backstop: the rendered request is scanned for
//! the secret in every form flowstep puts on the wire.

use crate::request::PreparedRequest;
use crate::secret_reads::SecretRead;
use crate::url::{encodings, origin_of};
use base64::Engine as _;
use flowstep_engine::{BoundSecret, SourcePos, StepError};
use flowstep_spec::{Origin, SourceFile, Span};
use percent_encoding::percent_decode_str;
use reqwest::Url;
use serde_json::Value;
use std::sync::Arc;

/// The forms a value takes on the wire: as is (headers), form- or component-encoded (query,
/// path, form body), JSON-escaped (JSON body).
fn wire_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let [component, path] = encodings(value);
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    for f in [form, component, path, json] {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

/// Whether `text` holds `value` in any wire form, or once percent-decoded (any hex case, `+`
/// as a space).
fn holds(text: &str, value: &str, forms: &[String]) -> bool {
    forms.iter().any(|f| text.contains(f.as_str()))
        || percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .contains(value)
        || percent_decode_str(text).decode_utf8_lossy().contains(value)
}

/// Whether a header value holds `value`, including inside `Basic` credentials.
fn header_holds(header: &str, value: &str, forms: &[String]) -> bool {
    if holds(header, value, forms) {
        return true;
    }
    let Some((scheme, encoded)) = header.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("basic")
        && base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .is_ok_and(|raw| String::from_utf8_lossy(&raw).contains(value))
}

/// Whether a JSON body holds `value` in any string or key, however it is escaped (`\/`,
/// `\u0041`).
fn json_holds(v: &Value, value: &str) -> bool {
    match v {
        Value::String(s) => s.contains(value),
        Value::Array(items) => items.iter().any(|i| json_holds(i, value)),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k.contains(value) || json_holds(v, value)),
        _ => false,
    }
}

/// Where, if anywhere, `value` appears in the URL `url`.
pub fn in_url(url: &Url, value: &str) -> bool {
    !value.is_empty() && holds(url.as_str(), value, &wire_forms(value))
}

/// Where, if anywhere, `value` appears in a body.
pub fn in_body(body: &str, value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    holds(body, value, &wire_forms(value))
        || serde_json::from_str::<Value>(body).is_ok_and(|v| json_holds(&v, value))
}

/// Whether a header value carries `value`.
pub fn in_header(header: &str, value: &str) -> bool {
    !value.is_empty() && header_holds(header, value, &wire_forms(value))
}

/// The part of `req` (sent to `url`) that carries `value`, described for a message.
pub fn carried_in(req: &PreparedRequest, url: &Url, value: &str) -> Option<String> {
    if in_url(url, value) {
        return Some("the URL".to_owned());
    }
    if let Some((name, _)) = req.headers.0.iter().find(|(_, v)| in_header(v, value)) {
        return Some(format!("header `{name}`"));
    }
    if req.body.as_deref().is_some_and(|b| in_body(b, value))
        || req
            .upload
            .as_ref()
            .is_some_and(|u| u.texts.iter().any(|t| in_body(t, value)))
    {
        return Some("the body".to_owned());
    }
    None
}

/// Whether `secret` may be sent to `origin`.
pub fn allowed(secret: &BoundSecret, origin: &Origin) -> bool {
    secret.origins.is_empty() || secret.origins.contains(origin)
}

/// `https://api.stripe.com, http://localhost:8080`.
pub fn list(origins: &[Origin]) -> String {
    origins
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a secret may not go where a request goes: which secret, and where the request carries
/// it.
pub struct Misplaced<'s> {
    /// The secret.
    pub secret: &'s BoundSecret,
    /// `` `auth` reads it ``, `it is in header `X-Note``.
    pub why: String,
    /// The expression that reads it, when data flow found it.
    pub span: Option<Span>,
}

/// A bound secret that `req` would carry to `url` although `url`'s origin is not one of its
/// origins, with where it is carried: by data flow (`reads`) first, then by value.
pub fn misplaced<'s>(
    req: &PreparedRequest,
    url: &Url,
    reads: &[SecretRead],
    secrets: &'s [BoundSecret],
) -> Option<Misplaced<'s>> {
    let origin = origin_of(url);
    let wrong = |s: &&BoundSecret| !allowed(s, &origin);
    let by_flow = reads.iter().find_map(|r| {
        secrets
            .iter()
            .filter(wrong)
            .find(|s| s.name == r.name)
            .map(|secret| Misplaced {
                secret,
                why: format!("{} reads it", r.place),
                span: Some(r.span),
            })
    });
    by_flow.or_else(|| {
        secrets.iter().filter(wrong).find_map(|secret| {
            carried_in(req, url, secret.value.expose()).map(|at| Misplaced {
                secret,
                why: format!("it is in {at}"),
                span: None,
            })
        })
    })
}

/// Fails before sending when a bound secret would go to an origin it is not bound to, placed
/// at the expression that reads it (in `file`) when that is known. `req.url` is the URL as
/// written in the flow (before routing), so a sandbox route changes nothing here.
pub fn check(
    req: &PreparedRequest,
    reads: &[SecretRead],
    secrets: &[BoundSecret],
    file: &Arc<SourceFile>,
) -> Result<(), StepError> {
    let Some(m) = misplaced(req, &req.url, reads, secrets) else {
        return Ok(());
    };
    let e = StepError::invalid(format!(
        "secret `{}` may only be sent to {}; this request goes to {} ({})",
        m.secret.name,
        list(&m.secret.origins),
        origin_of(&req.url),
        m.why
    ));
    Err(match m.span {
        Some(span) => e.located_at(SourcePos::new(file.clone(), span)),
        None => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::{flow, prepare_with, spec};
    use crate::secret_reads::reads;
    use flowstep_engine::{ErrorKind, Redactor, Secret};
    use serde_json::json;

    fn bound(value: &str) -> Vec<BoundSecret> {
        vec![BoundSecret {
            name: "KEY".into(),
            value: Secret::new(value),
            origins: vec![Origin::parse("api.stripe.com").unwrap()],
        }]
    }

    fn check_flow(step: &str, vars: serde_json::Value, value: &str) -> Result<(), StepError> {
        let f = flow(step);
        let req = prepare_with(&f, vars, &Redactor::new()).unwrap();
        check(&req, &reads(spec(&f), &["KEY"]), &bound(value), &f.file)
    }

    #[test]
    fn a_bound_secret_may_not_go_to_another_origin() {
        let step = "    method: POST\n    url: <<v>>/v1/x\n    auth: { type: bearer, token: \"<<secrets.KEY>>\" }\n";
        let vars = |base: &str| json!({"v": base, "n": 1, "secrets": {"KEY": "sk_test_abc"}});
        assert!(check_flow(step, vars("https://api.stripe.com"), "sk_test_abc").is_ok());
        assert!(check_flow(step, vars("https://API.stripe.com:443"), "sk_test_abc").is_ok());
        for (base, origin) in [
            ("https://evil.example.com", "https://evil.example.com"),
            ("http://api.stripe.com", "http://api.stripe.com"),
            ("https://api.stripe.com:8080", "https://api.stripe.com:8080"),
            ("http://api.stripe.com:443", "http://api.stripe.com:443"),
        ] {
            let e = check_flow(step, vars(base), "sk_test_abc").unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert_eq!(
                e.message,
                format!(
                    "secret `KEY` may only be sent to https://api.stripe.com; this request goes \
                     to {origin} (`auth` reads it)"
                )
            );
        }
        // Unbound secrets go anywhere.
        let f = flow(step);
        let req = prepare_with(&f, vars("http://x.example:81"), &Redactor::new()).unwrap();
        let mut any = bound("sk_test_abc");
        any[0].origins.clear();
        assert!(check(&req, &reads(spec(&f), &["KEY"]), &any, &f.file).is_ok());
    }

    #[test]
    fn the_binding_holds_for_every_auth_form_by_data_flow() {
        let secret = json!({"n": 1, "secrets": {"KEY": "sk_test_abc"}});
        for (auth, place) in [
            (
                "auth: { type: basic, username: \"<<secrets.KEY>>\", password: \"\" }",
                "`auth`",
            ),
            (
                "auth: { type: basic, username: api, password: \"x<<secrets.KEY>>\" }",
                "`auth`",
            ),
            (
                "auth: { type: query, name: k, value: \"<<secrets.KEY>>\" }",
                "`auth`",
            ),
            (
                "auth: { type: header, name: X-Key, value: \"<<secrets.KEY>>\" }",
                "`auth`",
            ),
            (
                "headers: { X-Sig: \"v1,<<secrets.KEY>>,t\" }",
                "header `X-Sig`",
            ),
            (
                "headers: { X-Len: \"<<len secrets.KEY>>\" }",
                "header `X-Len`",
            ),
        ] {
            let e = check_flow(
                &format!("    url: http://127.0.0.1:9/ok\n    {auth}\n"),
                secret.clone(),
                "sk_test_abc",
            )
            .unwrap_err();
            assert_eq!(
                e.message,
                format!(
                    "secret `KEY` may only be sent to https://api.stripe.com; this request goes \
                     to http://127.0.0.1:9 ({place} reads it)"
                ),
                "{auth}"
            );
        }
    }

    #[test]
    fn the_value_scan_finds_every_wire_form() {
        let key = "sk_\"t/+ &x=1";
        let vars = json!({"v": key, "n": 1});
        for (step, at) in [
            (
                "    url: https://evil.example/x\n    query: { q: <<v>> }\n",
                "the URL",
            ),
            ("    url: https://evil.example/p/<<v>>\n", "the URL"),
            (
                "    url: https://evil.example/x\n    headers: { X-Note: \"note <<v>>\" }\n",
                "header `X-Note`",
            ),
            (
                "    url: https://evil.example/x\n    auth: { type: basic, username: <<v>>, password: \"\" }\n",
                "header `Authorization`",
            ),
            (
                "    method: POST\n    url: https://evil.example/x\n    body_type: json\n    body: { note: <<v>> }\n",
                "the body",
            ),
            (
                "    method: POST\n    url: https://evil.example/x\n    body_type: form\n    body: { note: <<v>> }\n",
                "the body",
            ),
        ] {
            let e = check_flow(step, vars.clone(), key).unwrap_err();
            assert_eq!(
                e.message,
                format!(
                    "secret `KEY` may only be sent to https://api.stripe.com; this request goes \
                     to https://evil.example (it is in {at})"
                ),
                "{step}"
            );
        }
    }

    #[test]
    fn other_escapings_of_a_value_are_found_too() {
        assert!(in_body(r#"{"note":"a\/b"}"#, "a/b"));
        assert!(in_body(r#"{"note":"\u0061bc"}"#, "abc"));
        assert!(in_body("note=a%2fb", "a/b"));
        assert!(in_body("note=a+b", "a b"));
        assert!(in_header("Basic dTpwdw==", "pw"));
        assert!(in_header("basic   dTpwdw==", "u"));
        assert!(!in_header("Basic dTpwdw==", "x"));
        let url = Url::parse("https://a.example/?k=a%2Bb%2fc").unwrap();
        assert!(in_url(&url, "a+b/c"));
        assert!(!in_url(&url, ""));
    }
}
