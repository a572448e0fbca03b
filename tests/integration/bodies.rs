//! What arrives at the server is exactly what the author wrote: form values with characters
//! that mean something in a form, no field injection through a name, typed JSON.

use crate::support::{Scratch, TestSandbox, run, run_with_key};
use flowstep_sandbox::SANDBOX_SECRET_KEY;
use serde_json::json;

const TRICKY: &str = "A & B = C + 100% ? x\nline two \"quoted\" 'single' हिन्दी 😀 {{not}} \\n";

#[test]
fn form_values_arrive_exactly_as_written() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            "stripe-checkout",
            "--route",
            &sb.route(),
            "--var",
            &format!("product_name={TRICKY}"),
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = sb.sandbox.requests();
    let form = reqs.last().unwrap().form.clone().expect("a form body");
    let name = form
        .iter()
        .find(|(k, _)| k == "line_items[0][price_data][product_data][name]")
        .map(|(_, v)| v.as_str());
    assert_eq!(name, Some(TRICKY));
    let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "mode",
            "line_items[0][price_data][currency]",
            "line_items[0][price_data][product_data][name]",
            "line_items[0][price_data][unit_amount]",
            "line_items[0][quantity]",
            "success_url"
        ],
        "an optional input left out (cancel_url) is not sent"
    );
}

#[test]
fn a_field_name_cannot_inject_another_field() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = format!(
        "flow: inject\nsteps:\n  - id: post\n    type: http\n    method: POST\n    url: {}/__sandbox/echo\n    body_type: form\n    body:\n      \"x&mode=subscription\": 1\n      note: \"a=b&c=d\"\n",
        sb.url()
    );
    let path = dir.write("inject.yaml", &flow);
    let out = run(
        dir.path(),
        &["run", path.to_str().unwrap(), "--output", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let echoed = &out.json()["steps"][0]["response"]["body"];
    assert_eq!(
        echoed["form"],
        json!([["x&mode=subscription", "1"], ["note", "a=b&c=d"]])
    );
}

#[test]
fn json_bodies_keep_types_when_a_value_is_exactly_one_variable() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = format!(
        r#"flow: typed
inputs:
  amount: {{ type: integer }}
  paid: {{ type: boolean }}
  ratio: {{ type: number }}
  name: {{ type: string }}
steps:
  - id: post
    type: http
    method: POST
    url: {}/__sandbox/echo
    body_type: json
    body:
      amount: <<amount>>
      paid: <<paid>>
      ratio: <<ratio>>
      label: "Rs <<amount>>"
      nested: {{ name: <<name>>, items: [<<amount>>, 2, true, null] }}
      literal: 007
"#,
        sb.url()
    );
    let path = dir.write("typed.yaml", &flow);
    let out = run(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--var",
            "amount=50000",
            "--var",
            "paid=true",
            "--var",
            "ratio=0.5",
            "--var",
            "name=\"Asha\" & co",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let echoed = &out.json()["steps"][0]["response"]["body"];
    assert_eq!(
        echoed["json"],
        json!({"amount": 50000, "paid": true, "ratio": 0.5, "label": "Rs 50000", "nested": {"name": "\"Asha\" & co", "items": [50000, 2, true, null]}, "literal": "007"})
    );
    assert_eq!(echoed["headers"]["content-type"], "application/json");
}
