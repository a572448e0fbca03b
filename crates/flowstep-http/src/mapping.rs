//! `response.map`: JSONPaths into the response body, each one a variable for later steps.

use flowstep_engine::StepError;
use flowstep_spec::Spanned;
use flowstep_spec::jsonpath::CompiledPath;
use serde_json::Value;

/// The most top-level keys listed when a path matches nothing.
const KEYS_SHOWN: usize = 12;

/// Selects every mapped value from `body` (`None` when the response was not JSON;
/// `content_type` is then named in the error).
pub fn select_all(
    map: &[(Spanned<String>, CompiledPath)],
    body: Option<&Value>,
    content_type: Option<&str>,
) -> Result<Vec<(String, Value)>, StepError> {
    let mut out = Vec::new();
    for (var, path) in map {
        let Some(json) = body else {
            return Err(StepError::invalid(format!(
                "response.map `{}`: the response is not JSON (content-type {}), so `{}` cannot be read",
                var.value,
                content_type.unwrap_or("not given"),
                path.source()
            )));
        };
        match path.select(json) {
            Some(v) => out.push((var.value.clone(), v)),
            None => {
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
                return Err(StepError::invalid(format!(
                    "response.map `{}`: `{}` matched nothing in the response ({present})",
                    var.value,
                    path.source()
                )));
            }
        }
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
            select_all(&m, Some(&body), Some("application/json")).unwrap(),
            vec![
                (
                    "payment_url".to_owned(),
                    json!("https://checkout.stripe.com/c/pay/cs_1#x")
                ),
                ("session_id".to_owned(), json!("cs_1")),
            ]
        );
        let e = select_all(&map(&[("payment_url", "$.link")]), Some(&body), None).unwrap_err();
        assert_eq!(
            e.message,
            "response.map `payment_url`: `$.link` matched nothing in the response (top-level keys: id, url, object)"
        );
        let e = select_all(&map(&[("payment_url", "$.url")]), None, Some("text/html")).unwrap_err();
        assert_eq!(
            e.message,
            "response.map `payment_url`: the response is not JSON (content-type text/html), so `$.url` cannot be read"
        );
    }
}
