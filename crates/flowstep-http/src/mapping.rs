//! `response.map`: each variable's value read from the response (a JSONPath into the body, a
//! header, the status, or a regex over the body text), or its default when it is absent.

use flowstep_engine::StepError;
use flowstep_spec::jsonpath::{MAX_SELECTED, MAX_SELECTED_BYTES, SelectError};
use flowstep_spec::response_map::{ResponseMapping, ResponseSource};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The most top-level keys (or header names) listed when a mapping finds nothing.
const KEYS_SHOWN: usize = 12;

/// A 2xx response as the mappings read it.
#[derive(Debug, Clone, Copy)]
pub struct Response<'r> {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: &'r HeaderMap,
    /// The body bytes.
    pub body: &'r [u8],
    /// The body as JSON, when it parses.
    pub json: Option<&'r Value>,
}

/// Why a mapping found no value.
enum Miss {
    /// Absent: the default is used when there is one.
    Absent(String),
    /// Present but unusable (too many values, too large): always fails.
    Unusable(String),
}

/// Selects every mapped value from the response. A mapping that fails says that the request
/// itself succeeded.
pub fn select_all(
    map: &[ResponseMapping],
    response: &Response<'_>,
) -> Result<Vec<(String, Value)>, StepError> {
    let mut out = Vec::new();
    for m in map {
        let problem = match select(&m.source, response) {
            Ok(v) => {
                out.push((m.var.value.clone(), v));
                continue;
            }
            Err(Miss::Absent(_)) if m.default.is_some() => {
                out.push((m.var.value.clone(), m.default.clone().unwrap_or_default()));
                continue;
            }
            Err(Miss::Absent(why) | Miss::Unusable(why)) => why,
        };
        return Err(StepError::invalid(format!(
            "response.map `{}`: {problem}; the request succeeded (HTTP {}) and took effect; only \
             reading its response failed",
            m.var.value, response.status
        )));
    }
    Ok(out)
}

fn select(source: &ResponseSource, r: &Response<'_>) -> Result<Value, Miss> {
    match source {
        ResponseSource::Status(_) => Ok(Value::from(r.status)),
        ResponseSource::Header(name) => {
            let values: Vec<String> = r
                .headers
                .get_all(name.value.as_str())
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            if values.is_empty() {
                let mut names: Vec<&str> = r.headers.keys().map(|k| k.as_str()).collect();
                names.dedup();
                let shown = listed(&names);
                return Err(Miss::Absent(format!(
                    "the response has no `{}` header (headers: {shown})",
                    name.value
                )));
            }
            text_value(values.join(", "), &source.describe())
        }
        ResponseSource::Regex(regex) => {
            let text = String::from_utf8_lossy(r.body);
            match regex.capture(&text) {
                Some(found) => text_value(found.to_owned(), &source.describe()),
                None => Err(Miss::Absent(format!(
                    "`{}` matched nothing in the response body ({})",
                    regex.source(),
                    body_size(r.body)
                ))),
            }
        }
        ResponseSource::Body(path) => {
            let Some(json) = r.json else {
                if path.source() == "$" {
                    return text_value(String::from_utf8_lossy(r.body).into_owned(), path.source());
                }
                let what = if r.body.is_empty() {
                    "the response body is empty".to_owned()
                } else {
                    format!(
                        "the response is not JSON (content-type {}), so `{}` cannot be read; \
                         `$` is its whole text and `regex:` reads a part of it",
                        r.headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("not given"),
                        path.source()
                    )
                };
                return Err(Miss::Absent(what));
            };
            match path.select(json) {
                Ok(v) => Ok(v),
                Err(SelectError::NoMatch) => {
                    let present = match json {
                        Value::Object(m) if m.is_empty() => {
                            "the response is an empty object".to_owned()
                        }
                        Value::Object(m) => {
                            let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                            format!("top-level keys: {}", listed(&keys))
                        }
                        Value::Array(a) => format!("the response is a list of {} items", a.len()),
                        _ => "the response is a single value".to_owned(),
                    };
                    Err(Miss::Absent(format!(
                        "`{}` matched nothing in the response ({present})",
                        path.source()
                    )))
                }
                Err(SelectError::TooMany { matched }) => Err(Miss::Unusable(format!(
                    "`{}` selects {matched} values, more than the {MAX_SELECTED} a mapped variable may hold",
                    path.source()
                ))),
                Err(SelectError::TooLarge) => {
                    Err(Miss::Unusable(too_large(path.source(), "of JSON")))
                }
            }
        }
    }
}

/// Text as a mapped value, held to the same size bound as a JSON selection.
fn text_value(text: String, source: &str) -> Result<Value, Miss> {
    if text.len() > MAX_SELECTED_BYTES {
        return Err(Miss::Unusable(too_large(source, "of text")));
    }
    Ok(Value::String(text))
}

fn too_large(source: &str, of: &str) -> String {
    format!(
        "`{source}` selects more than {} MiB {of}, the most a mapped variable may hold",
        MAX_SELECTED_BYTES / (1024 * 1024)
    )
}

/// `a, b, c` for at most [`KEYS_SHOWN`] names, then `...`; `none` for none.
fn listed(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let mut shown: Vec<&str> = names.iter().take(KEYS_SHOWN).copied().collect();
    if names.len() > KEYS_SHOWN {
        shown.push("...");
    }
    shown.join(", ")
}

fn body_size(body: &[u8]) -> String {
    match body.len() {
        0 => "the body is empty".to_owned(),
        1 => "1 byte".to_owned(),
        n => format!("{n} bytes"),
    }
}

/// What a mapped variable holds in a dry run, so later steps still render:
/// `<payment_url: $.url from create_session>`.
pub fn placeholder(var: &str, source: &ResponseSource, step_id: &str) -> Value {
    Value::String(format!("<{var}: {} from {step_id}>", source.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_spec::{Diagnostics, SourceFile};
    use serde_json::json;

    /// Reads a `map:` written as YAML.
    fn map(yaml: &str) -> Vec<ResponseMapping> {
        let file = SourceFile::new("t.yaml", yaml);
        let node = flowstep_spec::yaml::parse(&file).unwrap();
        let mut diags = Diagnostics::new();
        let out = flowstep_spec::response_map::read_map(&node, &mut diags);
        assert!(diags.is_empty(), "{:?}", diags.sorted());
        out
    }

    fn select_json(m: &str, body: &Value, status: u16) -> Result<Vec<(String, Value)>, String> {
        let bytes = serde_json::to_vec(body).unwrap();
        let headers = HeaderMap::new();
        let r = Response {
            status,
            headers: &headers,
            body: &bytes,
            json: Some(body),
        };
        select_all(&map(m), &r).map_err(|e| e.message)
    }

    #[test]
    fn values_are_selected_and_misses_list_the_keys_present() {
        let body = json!({"id": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1#x", "object": "checkout.session"});
        assert_eq!(
            select_json("payment_url: $.url\nsession_id: $.id\n", &body, 200).unwrap(),
            vec![
                (
                    "payment_url".to_owned(),
                    json!("https://checkout.stripe.com/c/pay/cs_1#x")
                ),
                ("session_id".to_owned(), json!("cs_1")),
            ]
        );
        assert_eq!(
            select_json("payment_url: $.link", &body, 201).unwrap_err(),
            "response.map `payment_url`: `$.link` matched nothing in the response (top-level keys: id, url, object); the request succeeded (HTTP 201) and took effect; only reading its response failed"
        );
    }

    #[test]
    fn a_default_stands_in_for_what_is_absent_but_not_for_what_is_too_large() {
        let body = json!({"id": "cs_1", "discount": {}});
        assert_eq!(
            select_json(
                "coupon: {path: $.discount.coupon, default: null}\nid: {path: $.id, default: x}",
                &body,
                200
            )
            .unwrap(),
            vec![
                ("coupon".to_owned(), Value::Null),
                ("id".to_owned(), json!("cs_1"))
            ]
        );
        let many = Value::Array((0..=MAX_SELECTED).map(|i| json!({"id": i})).collect());
        assert_eq!(
            select_json("ids: {path: $..id, default: []}", &many, 200).unwrap_err(),
            "response.map `ids`: `$..id` selects 10001 values, more than the 10000 a mapped variable may hold; the request succeeded (HTTP 200) and took effect; only reading its response failed"
        );
    }

    #[test]
    fn headers_status_text_and_regexes() {
        let mut headers = HeaderMap::new();
        headers.insert("request-id", "req_123".parse().unwrap());
        headers.append("link", "<a>".parse().unwrap());
        headers.append("link", "<b>".parse().unwrap());
        headers.insert("content-type", "text/html".parse().unwrap());
        let body = b"<html><title>Order A-1 paid</title></html>";
        let r = Response {
            status: 202,
            headers: &headers,
            body,
            json: None,
        };
        let m = map(
            "rid: header:Request-Id\nlinks: header:LINK\ncode: status\nall: $\ntitle: 'regex:<title>(.*?)</title>'\norder: 'regex:A-[0-9]+'\n",
        );
        let got: Vec<Value> = select_all(&m, &r)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            got,
            [
                json!("req_123"),
                json!("<a>, <b>"),
                json!(202),
                json!("<html><title>Order A-1 paid</title></html>"),
                json!("Order A-1 paid"),
                json!("A-1"),
            ]
        );
        let miss = |m: &str| select_all(&map(m), &r).unwrap_err().message;
        assert_eq!(
            miss("loc: header:Location"),
            "response.map `loc`: the response has no `Location` header (headers: request-id, link, content-type); the request succeeded (HTTP 202) and took effect; only reading its response failed"
        );
        assert_eq!(
            miss("t: 'regex:<h1>(.*)</h1>'"),
            "response.map `t`: `<h1>(.*)</h1>` matched nothing in the response body (42 bytes); the request succeeded (HTTP 202) and took effect; only reading its response failed"
        );
        assert_eq!(
            miss("u: $.url"),
            "response.map `u`: the response is not JSON (content-type text/html), so `$.url` cannot be read; `$` is its whole text and `regex:` reads a part of it; the request succeeded (HTTP 202) and took effect; only reading its response failed"
        );
        assert_eq!(
            select_all(&map("u: {path: $.url, default: none}"), &r).unwrap(),
            [("u".to_owned(), json!("none"))]
        );
    }

    #[test]
    fn lists_of_any_length() {
        let body = json!({"items": []});
        assert_eq!(
            select_json("skus: $.items[*].sku", &body, 200).unwrap(),
            vec![("skus".to_owned(), json!([]))]
        );
    }
}
