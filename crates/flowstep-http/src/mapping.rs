//! `response.map`: JSONPaths into the response body, each one a variable for later steps.

use flowstep_engine::StepError;
use flowstep_spec::Spanned;
use flowstep_spec::jsonpath::{CompiledPath, MAX_SELECTED, MAX_SELECTED_BYTES, SelectError};
use serde_json::Value;

/// The most top-level keys listed when a path matches nothing.
const KEYS_SHOWN: usize = 12;

/// Selects every mapped value from `body` (`None` when the response was not JSON;
/// `content_type` is then named in the error). `status` is the response's (2xx) status: a
/// mapping that fails says that the request itself succeeded.
pub fn select_all(
    map: &[(Spanned<String>, CompiledPath)],
    body: Option<&Value>,
    content_type: Option<&str>,
    status: u16,
) -> Result<Vec<(String, Value)>, StepError> {
    let succeeded = format!(
        "the request succeeded (HTTP {status}) and took effect; only reading its response failed"
    );
    let mut out = Vec::new();
    for (var, path) in map {
        let Some(json) = body else {
            return Err(StepError::invalid(format!(
                "response.map `{}`: the response is not JSON (content-type {}), so `{}` cannot be read; {succeeded}",
                var.value,
                content_type.unwrap_or("not given"),
                path.source()
            )));
        };
        let problem = match path.select(json) {
            Ok(v) => {
                out.push((var.value.clone(), v));
                continue;
            }
            Err(SelectError::NoMatch) => {
                let present = match json {
                    Value::Object(m) if m.is_empty() => {
                        "the response is an empty object".to_owned()
                    }
                    Value::Object(m) => {
                        let mut keys: Vec<&str> =
                            m.keys().take(KEYS_SHOWN).map(String::as_str).collect();
                        if m.len() > KEYS_SHOWN {
                            keys.push("...");
                        }
                        format!("top-level keys: {}", keys.join(", "))
                    }
                    Value::Array(a) => format!("the response is a list of {} items", a.len()),
                    _ => "the response is a single value".to_owned(),
                };
                format!(
                    "`{}` matched nothing in the response ({present})",
                    path.source()
                )
            }
            Err(SelectError::TooMany { matched }) => format!(
                "`{}` selects {matched} values, more than the {MAX_SELECTED} a mapped variable may hold",
                path.source()
            ),
            Err(SelectError::TooLarge) => format!(
                "`{}` selects more than {} MiB of JSON, the most a mapped variable may hold",
                path.source(),
                MAX_SELECTED_BYTES / (1024 * 1024)
            ),
        };
        return Err(StepError::invalid(format!(
            "response.map `{}`: {problem}; {succeeded}",
            var.value
        )));
    }
    Ok(out)
}

/// What a mapped variable holds in a dry run, so later steps still render:
/// `<payment_url: $.url from create_session>`.
pub fn placeholder(var: &str, path: &CompiledPath, step_id: &str) -> Value {
    Value::String(format!("<{var}: {} from {step_id}>", path.source()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_spec::Span;
    use serde_json::json;

    fn map(entries: &[(&str, &str)]) -> Vec<(Spanned<String>, CompiledPath)> {
        entries
            .iter()
            .map(|(v, p)| {
                (
                    Spanned::new((*v).to_owned(), Span::new(0, 0)),
                    CompiledPath::compile(p, Span::new(0, 0)).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn values_are_selected_and_misses_list_the_keys_present() {
        let body = json!({"id": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1#x", "object": "checkout.session"});
        let m = map(&[("payment_url", "$.url"), ("session_id", "$.id")]);
        assert_eq!(
            select_all(&m, Some(&body), Some("application/json"), 200).unwrap(),
            vec![
                (
                    "payment_url".to_owned(),
                    json!("https://checkout.stripe.com/c/pay/cs_1#x")
                ),
                ("session_id".to_owned(), json!("cs_1")),
            ]
        );
        let e = select_all(&map(&[("payment_url", "$.link")]), Some(&body), None, 201).unwrap_err();
        assert_eq!(
            e.message,
            "response.map `payment_url`: `$.link` matched nothing in the response (top-level keys: id, url, object); the request succeeded (HTTP 201) and took effect; only reading its response failed"
        );
        let e = select_all(
            &map(&[("payment_url", "$.url")]),
            None,
            Some("text/html"),
            200,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "response.map `payment_url`: the response is not JSON (content-type text/html), so `$.url` cannot be read; the request succeeded (HTTP 200) and took effect; only reading its response failed"
        );
    }

    #[test]
    fn lists_of_any_length_and_the_bounds() {
        let body = json!({"items": []});
        assert_eq!(
            select_all(&map(&[("skus", "$.items[*].sku")]), Some(&body), None, 200).unwrap(),
            vec![("skus".to_owned(), json!([]))]
        );
        let many = Value::Array((0..=MAX_SELECTED).map(|i| json!({"id": i})).collect());
        let e = select_all(&map(&[("ids", "$..id")]), Some(&many), None, 200).unwrap_err();
        assert_eq!(
            e.message,
            "response.map `ids`: `$..id` selects 10001 values, more than the 10000 a mapped variable may hold; the request succeeded (HTTP 200) and took effect; only reading its response failed"
        );
    }
}
