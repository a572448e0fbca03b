//! The paper cuts an embedder hit trying the CLI, each through the real binary: the help under
//! an input error points at the flow file (not at a preset that does not exist), a dry run
//! needs no secret and says what it shows instead, a dry run shows what only a response would
//! give the same way everywhere (text, JSON, `when:`), and messages from a used flow are
//! labelled with their path.

use crate::support::{Scratch, TestSandbox, flowstep, preset, run, run_with_key, step_record};

/// The Stripe preset as a file of the user's own, under another name.
fn product_search(dir: &Scratch) {
    let text = preset().replace("flow: stripe-checkout", "flow: product-search");
    dir.write("product-search.yaml", &text);
}

#[test]
fn an_input_error_in_a_flow_file_points_at_the_file_not_at_a_preset() {
    let dir = Scratch::new();
    product_search(&dir);
    let out = run(
        dir.path(),
        &["run", "product-search.yaml", "--var", "amount_paise=x"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: invalid input amount_paise: \"x\" is not an integer
error: missing required input `product_name` (Name of what is being paid for)
error: missing required input `success_url` (Your page the customer lands on after paying (https://...; may hold {CHECKOUT_SESSION_ID}))
help: set inputs with --var NAME=VALUE; product-search.yaml declares them under `inputs:` (from line 27)
"
    );
    let line_27 = std::fs::read_to_string(dir.path().join("product-search.yaml"))
        .unwrap()
        .lines()
        .nth(26)
        .unwrap()
        .to_owned();
    assert!(line_27.starts_with("  product_name:"), "{line_27}");
    // A preset is still pointed at with `presets show`, which lists its inputs.
    let out = run(dir.path(), &["run", "stripe-checkout"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.ends_with(
            "help: set inputs with --var NAME=VALUE; `flowstep presets show stripe-checkout` lists them\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dry_run_needs_no_secret_and_says_what_it_shows_instead() {
    let dir = Scratch::new();
    let args = [
        "run",
        "stripe-checkout",
        "--dry-run",
        "--var",
        "product_name=Tea",
        "--var",
        "amount_paise=5000",
        "--var",
        "success_url=https://shop.example/thanks",
    ];
    let out = run(dir.path(), &args);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.starts_with(
            "note: secret STRIPE_SECRET_KEY is not set; this dry run shows <STRIPE_SECRET_KEY> where it would go (a live run needs it: set the environment variable STRIPE_SECRET_KEY"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("\n  Authorization: Bearer <STRIPE_SECRET_KEY>\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("-H 'Authorization: Bearer <STRIPE_SECRET_KEY>'"),
        "the curl line shows it too: {}",
        out.stdout
    );
    // A live run still refuses to start without it, and sends nothing.
    let live_args = [
        "run",
        "stripe-checkout",
        "--var",
        "product_name=Tea",
        "--var",
        "amount_paise=5000",
        "--var",
        "success_url=https://shop.example/thanks",
    ];
    let live = run(dir.path(), &live_args);
    assert_eq!(live.code, 2, "{live:?}");
    assert!(
        live.stderr
            .starts_with("error: missing secret STRIPE_SECRET_KEY"),
        "{}",
        live.stderr
    );
    // With the key set, the dry run shows it masked, as before, and never whole.
    let key = "sk_test_51HdryRunKeyabcdefghijk7890";
    let with_key = run_with_key(dir.path(), key, &args);
    assert_eq!(with_key.code, 0, "{with_key:?}");
    assert!(
        with_key
            .stdout
            .contains("Authorization: Bearer sk_test_...7890"),
        "{}",
        with_key.stdout
    );
    assert!(!with_key.all_output().contains(key));
    assert!(!with_key.all_output().contains("<STRIPE_SECRET_KEY>"));
}

#[test]
fn a_dry_run_shows_what_only_a_response_would_give_the_same_way_in_text_and_json() {
    let dir = Scratch::new();
    let args = [
        "run",
        "stripe-checkout",
        "--dry-run",
        "--var",
        "product_name=Tea",
        "--var",
        "amount_paise=5000",
        "--var",
        "success_url=https://shop.example/thanks",
    ];
    let text = run(dir.path(), &args);
    assert_eq!(text.code, 0, "{text:?}");
    let message = "Please complete your payment here: <payment_url: $.url from create_session>. This link expires <format_time expires_at \"human\": depends on the response of create_session>.";
    assert!(
        text.stdout.contains(&format!(
            "step send_link (message)\n  message (not sent): {message}\n                      [Pay now] <payment_url: $.url from create_session>\n"
        )),
        "{}",
        text.stdout
    );
    assert!(
        !text.stdout.contains("<<"),
        "no expression is left raw: {}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("step requested_expiry (set): skipped, its `when:` is false\n"),
        "{}",
        text.stdout
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let json = run(dir.path(), &json_args).json();
    assert_eq!(
        json["messages"],
        serde_json::json!([{ "step": "send_link", "text": message, "sent": false,
            "content": {"type": "link_button", "title": "Pay now", "url": "<payment_url: $.url from create_session>"} }])
    );
}

#[test]
fn a_when_on_a_mapped_value_is_shown_as_depending_on_the_response() {
    let dir = Scratch::new();
    let args = [
        "run",
        "stripe-checkout-status",
        "--dry-run",
        "--var",
        "session_id=cs_test_a1",
    ];
    let out = run(dir.path(), &args);
    assert_eq!(out.code, 0, "{out:?}");
    for (step, message) in [
        (
            "paid",
            "Thank you: payment received. We are preparing your order.",
        ),
        (
            "no_payment_required",
            "Thank you: your order is confirmed; there was nothing to pay.",
        ),
        (
            "still_open",
            "Your payment is not complete yet; here is your link again: <url: $.url from get_session>",
        ),
        (
            "expired",
            "Your payment link expired; we will send you a new one.",
        ),
    ] {
        let block = format!(
            "step {step} (message): runs only if its `when:` holds, which depends on the response of get_session\n  message (not sent): {message}\n"
        );
        assert!(out.stdout.contains(&block), "{block}\n---\n{}", out.stdout);
    }
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let json = run(dir.path(), &json_args).json();
    assert_eq!(
        step_record(&json, "paid")["when"],
        "depends on the response of get_session"
    );
    assert_eq!(json["messages"].as_array().unwrap().len(), 5);
}

/// A `when:` that waits on a response in a loop is shown once, not repeated to the step limit.
#[test]
fn a_loop_that_waits_on_a_response_is_shown_once_in_a_dry_run() {
    let dir = Scratch::new();
    dir.write(
        "poll.yaml",
        "flow: poll
steps:
  - id: check
    type: http
    method: GET
    url: https://api.example.test/orders/1
    response:
      map:
        state: $.state
  - id: wait
    type: message
    when: <<ne state \"paid\">>
    text: still waiting
    next: check
  - id: done
    type: message
    text: paid
",
    );
    let out = run(dir.path(), &["run", "poll.yaml", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout
            .matches("message (not sent): still waiting")
            .count(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "step wait (message): skipped here, its `when:` depends on the response of check (shown the first time)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("message (not sent): paid"),
        "{}",
        out.stdout
    );
}

#[test]
fn messages_from_a_used_flow_are_labelled_with_their_path() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "parent.yaml",
        "flow: parent
steps:
  - id: pay
    type: flow
    use: stripe-checkout
    with: { product_name: Tea, amount_paise: 5000, success_url: https://shop.example/thanks }
  - id: send_link
    type: message
    text: \"Sent: <<steps.pay.outputs.session_id>>\"
",
    );
    let out = flowstep(dir.path())
        .args(["run", "parent.yaml", "--route", &sb.route()])
        .env("STRIPE_SECRET_KEY", flowstep_sandbox::SANDBOX_SECRET_KEY)
        .output()
        .unwrap();
    let out: crate::support::Run = out.into();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("message from pay > send_link:\n  │ Please complete your payment here: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("\nmessage from send_link:\n  │ Sent: cs_test_"),
        "{}",
        out.stdout
    );
    let dry = run(
        dir.path(),
        &["run", "parent.yaml", "--dry-run", "--output", "json"],
    );
    let steps: Vec<String> = dry.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps, ["pay.send_link", "send_link"]);
    let text = run(dir.path(), &["run", "parent.yaml", "--dry-run"]);
    assert!(
        text.stdout.contains("\nstep pay.create_session (http)\n"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_route_with_a_password_in_it_is_refused_without_showing_it() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=5000",
            "--route",
            "https://api.stripe.com=http://user:hunter2@127.0.0.1:18432",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: --route: route TO `http://127.0.0.1:18432` has a user name or password in it (`USER:PASSWORD@`); a route only says where requests go: give their credentials in the step's `auth:`\n"
    );
    assert!(!out.all_output().contains("hunter2"));
}
