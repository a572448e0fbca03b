//! Checks that are the same wherever a mistake is written, through the real binary: `{{ }}`
//! templates are flagged, response headers are readable, outputs that cannot be rendered fail
//! the run, vars files are typed like defaults and `--var`, and every file read is bounded.
//! The check-time errors themselves are pinned in the bad-flow corpus (`diagnostics.rs`).

use crate::support::{Scratch, TestSandbox, run, run_with_key, step_record};

#[test]
fn double_braces_are_a_warning_and_the_flow_still_runs() {
    let dir = Scratch::new();
    dir.write(
        "hello.yaml",
        "flow: hello\ninputs:\n  name: { type: string }\nsteps:\n  - id: greet\n    type: message\n    text: \"Hi {{name}}, your code is {{1}}\"\n",
    );
    let out = run(dir.path(), &["check", "hello.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr,
        "warning[W002]: `{{name}}` is sent as written: flowstep templates are written `<< >>`
 --> hello.yaml:7:15
  |
7 |     text: \"Hi {{name}}, your code is {{1}}\"
  |               --------
  |
  = help: write `<<name>>` to read a value; leave the braces if they are meant as literal text

warning: hello.yaml: 1 warning
"
    );
    assert_eq!(out.stdout, "hello.yaml: ok\n");
    let out = run(
        dir.path(),
        &[
            "run",
            "hello.yaml",
            "--var",
            "name=Asha",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.json()["messages"][0]["text"],
        "Hi {{name}}, your code is {{1}}"
    );
}

#[test]
fn response_headers_are_readable_in_any_case() {
    let sandbox = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "headers.yaml",
        r#"flow: headers
secrets: [STRIPE_SECRET_KEY]
steps:
  - id: create
    type: http
    method: POST
    url: https://api.stripe.com/v1/checkout/sessions
    auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
    body_type: form
    body:
      mode: payment
      line_items[0][price_data][currency]: inr
      line_items[0][price_data][product_data][name]: Tea
      line_items[0][price_data][unit_amount]: 5000
      line_items[0][quantity]: 1
      success_url: https://example.com/ok
  - id: tell
    type: message
    text: "<<steps.create.http_status>> <<steps.create.headers.Request-Id>> <<upper steps.create.headers.request-ID>>"
"#,
    );
    let out = run_with_key(
        dir.path(),
        "sk_test_51HheadersHeadersHeaders4242",
        &[
            "run",
            "headers.yaml",
            "--route",
            &sandbox.route(),
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let id = step_record(&v, "create")["response"]["headers"]["request-id"]
        .as_str()
        .expect("the sandbox sends Request-Id")
        .to_owned();
    assert!(id.starts_with("req_"), "{id}");
    assert_eq!(
        v["messages"][0]["text"],
        format!("200 {id} {}", id.to_uppercase())
    );
}

#[test]
fn an_output_that_cannot_be_rendered_fails_the_run_with_the_reason() {
    let dir = Scratch::new();
    dir.write(
        "price.yaml",
        "flow: price\ninputs:\n  amount: { type: decimal }\nsteps:\n  - id: note\n    type: message\n    text: \"Rs <<amount>>\"\noutputs:\n  paise: <<minor_units amount \"inr\">>\n",
    );
    let out = run(dir.path(), &["run", "price.yaml", "--var", "amount=19.999"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.ends_with(
            "error[run]: output `paise` could not be rendered: `<<minor_units amount \"inr\">>` failed: `minor_units`: 19.999 INR has more than 2 decimals; it would have to be rounded
 --> price.yaml:9:10
  |
9 |   paise: <<minor_units amount \"inr\">>
  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |

failed
"
        ),
        "{}",
        out.stdout
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "price.yaml",
            "--var",
            "amount=19.999",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["outputs"], serde_json::json!({}));
    assert_eq!(
        v["error_at"],
        serde_json::json!({"file": "price.yaml", "line": 9, "column": 10})
    );
    // With an amount it can convert, the same flow succeeds with the output.
    let out = run(
        dir.path(),
        &[
            "run",
            "price.yaml",
            "--var",
            "amount=19.99",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["outputs"]["paise"], 1999);
    // A dry run shows the output as written rather than failing on placeholders.
    let out = run(
        dir.path(),
        &[
            "run",
            "price.yaml",
            "--var",
            "amount=19.999",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.json()["outputs"]["paise"],
        "<<minor_units amount \"inr\">>"
    );
}
