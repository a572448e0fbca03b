//! Control flow as a flow author uses it: a failure path that apologises, `when` skips, the
//! step limit, a preset used as a step, and the checks that catch jumps and cycles.

use crate::support::{Run, Scratch, TestSandbox, flowstep, run};
use flowstep_sandbox::SANDBOX_SECRET_KEY;

/// A payment flow whose failure path sends an apology that says what went wrong.
const WITH_FAILURE_PATH: &str = r#"flow: order-payment
inputs:
  product_name: { type: string }
  amount_paise: { type: integer }
secrets: [STRIPE_SECRET_KEY]
steps:
  - id: create_session
    type: http
    method: POST
    url: https://api.stripe.com/v1/checkout/sessions
    auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
    body_type: form
    body:
      mode: payment
      line_items[0][price_data][currency]: inr
      line_items[0][price_data][product_data][name]: <<product_name>>
      line_items[0][price_data][unit_amount]: <<amount_paise>>
      line_items[0][quantity]: 1
      success_url: https://example.com/success
    response:
      map:
        payment_url: $.url
    on_error: apologise
  - id: send_link
    type: message
    text: "Pay here: <<payment_url>>"
    next: done
  - id: apologise
    type: message
    text: "Sorry, we could not create your payment link (<<steps.create_session.error.kind>>: <<steps.create_session.error.message>>)."
  - id: done
    type: set
    values:
      finished: true
"#;

fn run_with_key(dir: &Scratch, sb: &TestSandbox, flow: &str, key: &str, vars: &[&str]) -> Run {
    let path = dir.write("flow.yaml", flow);
    let route = sb.route();
    let mut args = vec![
        "run",
        path.to_str().unwrap(),
        "--route",
        &route,
        "--output",
        "json",
    ];
    for v in vars {
        args.extend(["--var", v]);
    }
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", key)
        .args(&args)
        .output()
        .unwrap()
        .into()
}

#[test]
fn a_failing_payment_step_jumps_to_an_apology() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_with_key(
        &dir,
        &sb,
        WITH_FAILURE_PATH,
        "sk_live_wrongKeyForTheSandbox1234",
        &["product_name=Tea", "amount_paise=50000"],
    );
    assert_eq!(
        out.code, 0,
        "a handled failure is not a failed run: {out:?}"
    );
    let v = out.json();
    assert_eq!(v["status"], "succeeded");
    let texts: Vec<&str> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Sorry, we could not create your payment link (rejected: Invalid API Key provided: sk_live_****1234. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...).)."
        ]
    );
    let statuses: Vec<(&str, &str)> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("create_session", "failed"),
            ("apologise", "succeeded"),
            ("done", "succeeded")
        ]
    );
    assert_eq!(v["variables"]["finished"], true);

    // The same flow with a good key takes the happy path and jumps over the apology.
    let out = run_with_key(
        &dir,
        &sb,
        WITH_FAILURE_PATH,
        SANDBOX_SECRET_KEY,
        &["product_name=Tea", "amount_paise=50000"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let ids: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["create_session", "send_link", "done"]);
    assert!(
        v["messages"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Pay here: http://127.0.0.1:")
    );
}

#[test]
fn when_skips_a_step_and_records_it_as_skipped() {
    let dir = Scratch::new();
    let flow = r#"flow: greet
inputs:
  vip: { type: boolean }
  name: { type: string }
steps:
  - id: vip_greeting
    type: message
    when: <<vip>>
    text: "Welcome back, <<name>>! Your VIP discount is applied."
  - id: greeting
    type: message
    when: <<not vip>>
    text: "Hello <<name>>."
"#;
    let path = dir.write("greet.yaml", flow);
    let out = run(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--var",
            "vip=false",
            "--var",
            "name=Asha",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["steps"][0]["status"], "skipped");
    assert_eq!(v["steps"][1]["status"], "succeeded");
    assert_eq!(v["messages"][0]["text"], "Hello Asha.");
    assert_eq!(v["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn a_loop_is_stopped_by_the_step_limit_and_the_text_report_says_why() {
    let dir = Scratch::new();
    // The loop has a way out (`when:` can be false), so it passes check; this run never takes it.
    let flow = "flow: forever\ninputs:\n  stop: { type: boolean, default: false }\nsteps:\n  - id: again\n    type: set\n    when: <<not stop>>\n    values: { tick: 1 }\n    next: again\n";
    let path = dir.write("forever.yaml", flow);
    let out = run(
        dir.path(),
        &["run", path.to_str().unwrap(), "--output", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(
        v["error"],
        "the run was stopped at the limit of 1000 steps: step `again` ran 1000 times, so its `next:` or `on_error:` jumps keep coming back to it; make sure a `when:` in the loop turns false"
    );
    assert_eq!(
        v["error_at"],
        serde_json::json!({"file": path.to_str().unwrap(), "line": 5, "column": 9})
    );
    assert_eq!(v["steps"].as_array().unwrap().len(), 1000);

    let out = run(dir.path(), &["run", "forever.yaml"]);
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.stdout.find("error[run]").map(|at| &out.stdout[at..]);
    assert_eq!(
        report.unwrap_or(&out.stdout),
        "error[run]: the run was stopped at the limit of 1000 steps: step `again` ran 1000 times, so its `next:` or `on_error:` jumps keep coming back to it; make sure a `when:` in the loop turns false
 --> forever.yaml:5:9
  |
5 |   - id: again
  |         ^^^^^
  |

failed
"
    );
}

#[test]
fn a_loop_with_no_way_out_is_a_check_error() {
    let dir = Scratch::new();
    dir.write(
        "self.yaml",
        "flow: forever\nsteps:\n  - id: again\n    type: message\n    text: tick\n    next: again\n",
    );
    let out = run(dir.path(), &["check", "self.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error[E014]: `next: again` makes step `again` repeat forever
 --> self.yaml:6:11
  |
6 |     next: again
  |           ^^^^^ the run can never leave this loop
  |
  = note: the loop: again -> again
  = help: give a step in the loop a `when:` that can be false, or an `on_error:` that leads out of it; as written, the run would repeat it until the 1000-step limit

error: could not compile self.yaml: 1 error
"
    );
    // Two steps in a loop; a `when:` inside the loop that skips to a step still in the loop is
    // no way out, and neither is an `on_error:` that jumps back into it.
    dir.write(
        "two.yaml",
        "flow: forever\ninputs:\n  go: { type: boolean }\nsteps:\n  - id: a\n    type: message\n    when: <<go>>\n    text: tick\n  - id: b\n    type: message\n    text: tock\n    on_error: a\n    next: a\n",
    );
    let out = run(dir.path(), &["check", "two.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(
            "error[E014]: `next: a` closes a loop of 2 steps with no way out\n  --> two.yaml:13:11\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("= note: the loop: a -> b -> a\n"),
        "{}",
        out.stderr
    );
    // The same loop with an `on_error:` that leads out of it passes.
    dir.write(
        "out.yaml",
        "flow: polls\ninputs:\n  go: { type: boolean }\nsteps:\n  - id: a\n    type: message\n    when: <<go>>\n    text: tick\n  - id: b\n    type: message\n    text: tock\n    on_error: done\n    next: a\n  - id: done\n    type: message\n    text: bye\n",
    );
    let out = run(dir.path(), &["check", "out.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_preset_used_as_a_step_feeds_its_outputs_to_a_message() {
    let dir = Scratch::new();
    let flow = r#"flow: order
inputs:
  order_id: { type: string }
steps:
  - id: pay
    type: flow
    use: stripe-checkout
    with:
      product_name: "Order <<order_id>>"
      amount_paise: 125000
      success_url: https://shop.example/thanks
  - id: confirm
    type: message
    text: "Order <<order_id>>: pay at <<steps.pay.outputs.payment_url>>"
outputs:
  session_id: <<steps.pay.outputs.session_id>>
"#;
    let path = dir.write("order.yaml", flow);
    let out = run(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--sandbox",
            "--var",
            "order_id=A-17",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let url = v["steps"][0]["outputs"]["payment_url"].as_str().unwrap();
    assert_eq!(v["messages"][0]["step"], "pay.send_link");
    assert_eq!(
        v["messages"][0]["text"],
        format!("Please complete your payment here: {url}. This link expires in 24 hours.")
    );
    assert_eq!(v["messages"][1]["step"], "confirm");
    assert_eq!(
        v["messages"][1]["text"],
        format!("Order A-17: pay at {url}")
    );
    assert!(
        v["outputs"]["session_id"]
            .as_str()
            .unwrap()
            .starts_with("cs_test_")
    );
    let inner = crate::support::step_record(&v["steps"][0], "create_session");
    assert_eq!(inner["id"], "create_session");
    assert_eq!(inner["response"]["body"]["amount_total"], 125000);
    assert_eq!(
        inner["response"]["body"]["line_items"],
        serde_json::Value::Null
    );
    assert!(!out.all_output().contains(SANDBOX_SECRET_KEY));
}

#[test]
fn flows_that_use_each_other_are_a_check_time_error() {
    let dir = Scratch::new();
    dir.write(
        "a.yaml",
        "flow: a\nsteps:\n  - id: to_b\n    type: flow\n    use: ./b.yaml\n",
    );
    dir.write(
        "b.yaml",
        "flow: b\nsteps:\n  - id: to_a\n    type: flow\n    use: ./a.yaml\n",
    );
    let out = run(dir.path(), &["check", "a.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("error[E013]: flow `./b.yaml` used here has errors: flow `./a.yaml` uses itself: a.yaml -> b.yaml -> a.yaml (at b.yaml:5:10)"), "{}", out.stderr);
}

#[test]
fn an_unreachable_step_is_a_warning_not_an_error() {
    let dir = Scratch::new();
    dir.write("u.yaml", "flow: u\nsteps:\n  - id: a\n    type: message\n    text: hi\n    next: c\n  - id: b\n    type: message\n    text: never\n  - id: c\n    type: message\n    text: bye\n");
    let out = run(dir.path(), &["check", "u.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("warning[W001]: step `b` is never reached"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("u.yaml: ok"));
}
