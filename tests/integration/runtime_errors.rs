//! Failures at run time are drawn like check diagnostics: `error[KIND]: message`,
//! `--> file:line:col`, the line with a caret, then what the API said, the hint and the
//! response body (from the step that failed inside a used flow, too). Each test
//! pins the whole text report (durations aside), and the JSON report gives the same position
//! as data.

use crate::support::{Run, Scratch, TestSandbox, flowstep, report, run, run_with_key, step_record};
use serde_json::json;

/// A key the sandbox refuses (it takes only test-mode keys), so that Stripe answers 401.
const LIVE_KEY: &str = "sk_live_thisIsNotAValidKeyAtAll9876";

/// A Stripe Checkout Session for Rs 5, created with `STRIPE_SECRET_KEY`, with a hint for 401.
const CREATE_SESSION: &str = r#"  - id: create_session
    type: http
    method: POST
    url: https://api.stripe.com/v1/checkout/sessions
    auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
    body_type: form
    body:
      mode: payment
      success_url: https://example.com/paid
      line_items[0][price_data][currency]: inr
      line_items[0][price_data][unit_amount]: 500
      line_items[0][price_data][product_data][name]: Tea
      line_items[0][quantity]: 1
    hints:
      - status: 401
        cause: Stripe did not accept the secret key
        fix: set STRIPE_SECRET_KEY to a test-mode key (sk_test_...)
"#;

#[test]
fn a_helper_that_fails_at_run_time_is_drawn_under_its_expression() {
    let dir = Scratch::new();
    dir.write(
        "bill.yaml",
        "flow: bill\ninputs:\n  amount: { type: string }\nsteps:\n  - id: tell\n    type: message\n    text: \"You owe <<minor_units amount \\\"inr\\\">> paise\"\n",
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "bill.yaml",
            "--run-id",
            "r1",
            "--var",
            "amount=12,50",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow bill (run r1)
  FAIL tell (message) [_ ms]
error[invalid]: `<<minor_units amount "inr">>` failed: `minor_units`: "12,50" is not a decimal amount (write it like "19.99")
 --> bill.yaml:7:20
  |
7 |     text: "You owe <<minor_units amount \"inr\">> paise"
  |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |

failed
"#
    );
}

#[test]
fn a_lookup_that_finds_nothing_says_so_in_words() {
    let dir = Scratch::new();
    dir.write(
        "lk.yaml",
        "flow: lk\ninputs:\n  t: { type: string, default: abc }\nsteps:\n  - id: s\n    type: set\n    values:\n      x: <<lookup t \"x\">>\n",
    );
    let out = run(dir.path(), &["run", "lk.yaml", "--run-id", "r1"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow lk (run r1)
  FAIL s (set) [_ ms]
error[invalid]: `<<lookup t "x">>` failed: it found no value (`lookup` takes a key of an object or an index of a list, and the value given has no such key)
 --> lk.yaml:8:10
  |
8 |       x: <<lookup t "x">>
  |          ^^^^^^^^^^^^^^^^
  |

failed
"#
    );
}

#[test]
fn a_response_field_that_is_not_there_is_drawn_under_the_expression_that_reads_it() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "link.yaml",
        &format!(
            "flow: link\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n{CREATE_SESSION}  - id: tell\n    type: message\n    text: \"Pay here: <<steps.create_session.body.payment_url>>\"\n"
        ),
    );
    let out = run_with_key(
        dir.path(),
        "sk_test_runtimeErrors0001",
        &["run", "link.yaml", "--run-id", "r2", "--route", &sb.route()],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow link (run r2)
  ok   create_session (http) POST https://api.stripe.com/v1/checkout/sessions -> 200 [_ ms]
  FAIL tell (message) [_ ms]
error[invalid]: undefined variable `steps.create_session.body.payment_url` in `<<steps.create_session.body.payment_url>>`
  --> link.yaml:23:22
   |
23 |     text: "Pay here: <<steps.create_session.body.payment_url>>"
   |                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |

failed
"#
    );
}

#[test]
fn an_api_refusal_is_drawn_at_the_step_with_its_status_and_hint_and_no_key() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "pay.yaml",
        &format!("flow: pay\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n{CREATE_SESSION}"),
    );
    let out = run_with_key(
        dir.path(),
        LIVE_KEY,
        &["run", "pay.yaml", "--run-id", "r3", "--route", &sb.route()],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow pay (run r3)
  FAIL create_session (http) POST https://api.stripe.com/v1/checkout/sessions -> 401 [_ ms]
error[rejected]: Invalid API Key provided: sk_live_****9876. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).
 --> pay.yaml:4:5
  |
4 |   - id: create_session
  |     ^^^^^^^^^^^^^^^^^^ HTTP 401
  |
  = note: cause: Stripe did not accept the secret key
  = help: set STRIPE_SECRET_KEY to a test-mode key (sk_test_...)
  = response body (HTTP 401):
    {
      "error": {
        "message": "Invalid API Key provided: sk_live_****9876. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).",
        "type": "invalid_request_error"
      }
    }

failed
"#
    );
    assert!(!out.all_output().contains(LIVE_KEY), "the key leaked");
    assert_eq!(sb.sandbox.sessions_created(), 0);
}

#[test]
fn a_failure_inside_a_used_flow_is_drawn_in_that_flows_file() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    dir.write(
        "lib/pay.yaml",
        &format!("flow: pay\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n{CREATE_SESSION}"),
    );
    dir.write(
        "order.yaml",
        "flow: order\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n  - id: checkout\n    type: flow\n    use: ./lib/pay.yaml\n",
    );
    let out = run_with_key(
        dir.path(),
        LIVE_KEY,
        &[
            "run",
            "order.yaml",
            "--run-id",
            "r4",
            "--route",
            &sb.route(),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run r4)
  FAIL checkout (flow) [_ ms]
error[rejected]: step `create_session` of flow `pay`: Invalid API Key provided: sk_live_****9876. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).
 --> lib/pay.yaml:4:5
  |
4 |   - id: create_session
  |     ^^^^^^^^^^^^^^^^^^ HTTP 401
  |
  = note: cause: Stripe did not accept the secret key
  = help: set STRIPE_SECRET_KEY to a test-mode key (sk_test_...)
  = response body (HTTP 401):
    {
      "error": {
        "message": "Invalid API Key provided: sk_live_****9876. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).",
        "type": "invalid_request_error"
      }
    }

failed
"#
    );
    assert!(!out.all_output().contains(LIVE_KEY), "the key leaked");
}

#[test]
fn a_step_that_fails_before_sending_is_drawn_at_the_step() {
    let dir = Scratch::new();
    dir.write(
        "order.yaml",
        "flow: order\ninputs:\n  qty: { type: string }\nsteps:\n  - id: lines\n    type: flow\n    use: ./lines.yaml\n    with:\n      qty: <<qty>>\n",
    );
    dir.write(
        "lines.yaml",
        "flow: lines\ninputs:\n  qty: { type: integer }\nsteps:\n  - id: say\n    type: message\n    text: <<qty>> cups\n",
    );
    let out = run(
        dir.path(),
        &["run", "order.yaml", "--run-id", "r5", "--var", "qty=two"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run r5)
  FAIL lines (flow) [_ ms]
error[invalid]: inputs of flow `lines`: invalid input qty: "two" is not an integer
 --> order.yaml:5:5
  |
5 |   - id: lines
  |     ^^^^^^^^^
  |

failed
"#
    );
}

#[test]
fn a_dry_run_draws_the_step_it_could_not_build() {
    let dir = Scratch::new();
    dir.write(
        "bill.yaml",
        "flow: bill\ninputs:\n  amount: { type: string }\nsteps:\n  - id: charge\n    type: http\n    method: POST\n    url: https://api.example.test/charges\n    body_type: json\n    body:\n      amount: <<minor_units amount \"usd\">>\n",
    );
    let out = run(
        dir.path(),
        &["run", "bill.yaml", "--dry-run", "--var", "amount=ten"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stdout,
        r#"dry run of flow bill: nothing was sent

step charge (http)

error[invalid]: `<<minor_units amount "usd">>` failed: `minor_units`: "ten" is not a decimal amount (write it like "19.99")
  --> bill.yaml:11:15
   |
11 |       amount: <<minor_units amount "usd">>
   |               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
"#
    );
}

#[test]
fn the_json_report_gives_where_a_step_failed_as_data() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    dir.write(
        "lib/pay.yaml",
        &format!("flow: pay\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n{CREATE_SESSION}"),
    );
    dir.write(
        "order.yaml",
        "flow: order\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n  - id: checkout\n    type: flow\n    use: ./lib/pay.yaml\n    on_error: continue\n  - id: sorry\n    type: message\n    text: \"Sorry (<<steps.checkout.error.kind>>)\"\n",
    );
    let out: Run = flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", LIVE_KEY)
        .args(["run", "order.yaml", "--output", "json", "--route"])
        .arg(sb.route())
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "the failure is handled: {out:?}");
    let outcome = out.json();
    let checkout = step_record(&outcome, "checkout");
    assert_eq!(
        checkout["error"],
        json!({
            "kind": "rejected",
            "message": "step `create_session` of flow `pay`: Invalid API Key provided: sk_live_****9876. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).",
            "http_status": 401,
            "type": "invalid_request_error",
            "hint": {
                "cause": "Stripe did not accept the secret key",
                "fix": "set STRIPE_SECRET_KEY to a test-mode key (sk_test_...)"
            },
            "at": {"file": "lib/pay.yaml", "line": 4, "column": 5}
        })
    );
    assert_eq!(
        step_record(checkout, "create_session")["error"]["at"],
        json!({"file": "lib/pay.yaml", "line": 4, "column": 5})
    );
    assert_eq!(outcome["messages"][0]["text"], "Sorry (rejected)");
}

#[test]
fn a_secret_written_into_the_flow_file_is_hidden_in_the_drawn_line() {
    let dir = Scratch::new();
    let key = "sk_test_literal1234567890";
    dir.write(
        "leak.yaml",
        &format!("flow: leak\ninputs:\n  amount: {{ type: string }}\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n  - id: tell\n    type: message\n    text: \"Paid with {key}: <<minor_units amount \\\"inr\\\">>\"\n"),
    );
    let out = run_with_key(dir.path(), key, &["run", "leak.yaml", "--var", "amount=x"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("8 |     text: \"Paid with sk_test_...7890: <<minor_units"),
        "{}",
        out.stdout
    );
    assert!(!out.all_output().contains(key), "the key leaked");
}
