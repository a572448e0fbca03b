//! Retries without duplicate charges, and requests that cannot go wrong silently: each retry
//! rule, idempotency across retries and re-runs, and the checks that fail a step before
//! anything is sent. Faults are injected into the sandbox.

use crate::support::{Run, Scratch, TestSandbox, flowstep, preset, preset_with, run_with_key};
use flowstep_sandbox::{Fault, FaultAction, SANDBOX_SECRET_KEY};
use serde_json::Value;
use std::time::{Duration, Instant};

const SESSIONS: &str = "/v1/checkout/sessions";

fn fault(count: usize, action: FaultAction) -> Fault {
    Fault {
        path_prefix: Some(SESSIONS.to_owned()),
        count,
        action,
    }
}

fn status(status: u16, headers: &[(&str, &str)]) -> FaultAction {
    FaultAction::Status {
        status,
        body: None,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Runs a flow (the preset unless `flow` is given) against the sandbox with fast retries.
fn checkout(sb: &TestSandbox, dir: &Scratch, flow: Option<&str>, extra: &[&str]) -> Run {
    let source = flow.map_or_else(|| fast_retries(&preset()), str::to_owned);
    let path = dir.write("flow.yaml", &source);
    let route = sb.route();
    let mut args = vec![
        "run",
        path.to_str().unwrap(),
        "--route",
        &route,
        "--var",
        "product_name=Tea",
        "--var",
        "amount_paise=50000",
        "--var",
        "success_url=https://shop.example/thanks",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .args(&args)
        .output()
        .unwrap()
        .into()
}

/// The preset with short retry delays, so that tests do not wait out Stripe's backoff.
fn fast_retries(source: &str) -> String {
    source.replace("    idempotency: auto\n", "    idempotency: auto\n    retry: { max_attempts: 3, base_delay: 10ms, max_delay: 50ms }\n")
}

fn step(out: &Run) -> Value {
    crate::support::step_record(&out.json(), "create_session").clone()
}

#[test]
fn a_503_then_success_creates_one_session() {
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(1, status(503, &[])));
    let dir = Scratch::new();
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(step(&out)["attempts"], 2);
    assert_eq!(sb.sandbox.sessions_created(), 1);
}

#[test]
fn a_lost_response_then_a_retry_creates_exactly_one_session() {
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(1, FaultAction::DropResponse));
    let dir = Scratch::new();
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let s = step(&out);
    assert_eq!(s["attempts"], 2);
    assert_eq!(s["response"]["headers"]["idempotent-replayed"], "true");
    assert_eq!(
        sb.sandbox.sessions_created(),
        1,
        "the retry must replay, not create a second session"
    );
    let keys: Vec<String> = sb
        .sandbox
        .requests()
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("idempotency-key"))
                .map(|(_, v)| v.clone())
                .expect("a key on every attempt")
        })
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the same key on every attempt");
}

#[test]
fn the_same_run_id_twice_creates_one_session() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let first = checkout(&sb, &dir, None, &["--run-id", "order-1042"]);
    let second = checkout(&sb, &dir, None, &["--run-id", "order-1042"]);
    assert_eq!((first.code, second.code), (0, 0), "{first:?}\n{second:?}");
    assert_eq!(
        first.json()["outputs"]["session_id"],
        second.json()["outputs"]["session_id"]
    );
    assert_eq!(
        step(&second)["response"]["headers"]["idempotent-replayed"],
        "true"
    );
    assert_eq!(sb.sandbox.sessions_created(), 1);
    let third = checkout(&sb, &dir, None, &["--run-id", "order-1043"]);
    assert_eq!(third.code, 0);
    assert_eq!(
        sb.sandbox.sessions_created(),
        2,
        "another run id is another session"
    );
}

#[test]
fn a_post_without_an_idempotency_key_is_never_retried() {
    let no_key = fast_retries(&preset()).replace("    idempotency: auto\n", "");
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(1, status(503, &[])));
    let dir = Scratch::new();
    let out = checkout(&sb, &dir, Some(&no_key), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let s = step(&out);
    assert_eq!(s["attempts"], 1);
    assert_eq!(s["error"]["kind"], "transient");
    assert_eq!(sb.sandbox.requests().len(), 1);

    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(1, FaultAction::DropResponse));
    let out = checkout(&sb, &dir, Some(&no_key), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let s = step(&out);
    assert_eq!(s["attempts"], 1);
    assert_eq!(s["error"]["kind"], "unknown");
    assert!(
        s["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may have taken effect"),
        "{}",
        s["error"]["message"]
    );
    assert_eq!(
        sb.sandbox.sessions_created(),
        1,
        "the session exists although no answer came"
    );
}

#[test]
fn stripe_should_retry_false_stops_retries_and_true_allows_them() {
    let sb = TestSandbox::start();
    sb.sandbox
        .inject(fault(1, status(503, &[("Stripe-Should-Retry", "false")])));
    let dir = Scratch::new();
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(step(&out)["attempts"], 1);

    let sb = TestSandbox::start();
    sb.sandbox
        .inject(fault(1, status(400, &[("Stripe-Should-Retry", "true")])));
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(step(&out)["attempts"], 2);
}

#[test]
fn conflicts_and_rate_limits_are_retried_honouring_retry_after() {
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(1, status(409, &[])));
    let dir = Scratch::new();
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(
        (out.code, step(&out)["attempts"].clone()),
        (0, 2.into()),
        "{out:?}"
    );

    let sb = TestSandbox::start();
    sb.sandbox
        .inject(fault(1, status(429, &[("Retry-After", "1")])));
    let started = Instant::now();
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(
        (out.code, step(&out)["attempts"].clone()),
        (0, 2.into()),
        "{out:?}"
    );
    // Only a lower bound: the retry waited at least Retry-After, whatever the machine's load.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

#[test]
fn other_4xx_are_not_retried_and_exhausted_5xx_are_transient() {
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(1, status(402, &[])));
    let dir = Scratch::new();
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(out.code, 1);
    assert_eq!(step(&out)["attempts"], 1);
    assert_eq!(step(&out)["error"]["kind"], "rejected");

    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(5, status(500, &[])));
    let out = checkout(&sb, &dir, None, &[]);
    assert_eq!(out.code, 1);
    assert_eq!(step(&out)["attempts"], 3);
    assert_eq!(step(&out)["error"]["kind"], "transient");
    assert_eq!(sb.sandbox.sessions_created(), 0);
}

#[test]
fn crlf_in_a_header_value_fails_before_sending() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = preset_with(
        "      Stripe-Version: <<stripe_version>>\n",
        "      Stripe-Version: <<stripe_version>>\n      X-Order: <<product_name>>\n",
    );
    let path = dir.write("crlf.yaml", &flow);
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            path.to_str().unwrap(),
            "--route",
            &sb.route(),
            "--var",
            "product_name=Tea\r\nX-Evil: 1",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(step(&out)["error"]["kind"], "invalid");
    assert!(
        step(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Order"),
        "{}",
        step(&out)["error"]
    );
    assert!(
        sb.sandbox.requests().is_empty(),
        "nothing may reach the server"
    );
}

#[test]
fn a_path_template_cannot_change_the_path() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = "flow: retrieve\ninputs:\n  session_id: { type: string }\nsecrets: [STRIPE_SECRET_KEY]\nsteps:\n  - id: get\n    type: http\n    url: https://api.stripe.com/v1/checkout/sessions/<<session_id>>\n    auth: { type: bearer, token: \"<<secrets.STRIPE_SECRET_KEY>>\" }\n";
    let path = dir.write("retrieve.yaml", flow);
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            path.to_str().unwrap(),
            "--route",
            &sb.route(),
            "--var",
            "session_id=../../__sandbox/stats?x=1",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let reqs = sb.sandbox.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path,
        "/v1/checkout/sessions/..%2F..%2F__sandbox%2Fstats%3Fx=1"
    );
    assert_eq!(reqs[0].query, None);
    assert_eq!(
        crate::support::step_record(&out.json(), "get")["error"]["http_status"],
        404
    );
}

#[test]
fn a_bound_secret_is_never_sent_to_another_host() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = preset_with(
        "url: https://api.stripe.com/v1/checkout/sessions",
        "url: https://api.stripe.evil.example/v1/checkout/sessions",
    );
    let path = dir.write("evil.yaml", &flow);
    let route = format!("https://api.stripe.evil.example={}", sb.url());
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            path.to_str().unwrap(),
            "--route",
            &route,
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(step(&out)["error"]["kind"], "invalid");
    let message = step(&out)["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("STRIPE_SECRET_KEY") && message.contains("api.stripe.com"),
        "{message}"
    );
    assert!(
        sb.sandbox.requests().is_empty(),
        "nothing may reach the server"
    );
}

#[test]
fn a_sentinel_secret_appears_in_no_output_of_a_failing_run_at_trace_verbosity() {
    const SENTINEL: &str = "sk_test_SENTINEL0secret0value0ZZZ9";
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(10, status(500, &[])));
    let dir = Scratch::new();
    let path = dir.write("flow.yaml", &fast_retries(&preset()));
    for output in ["text", "json"] {
        let out: Run = flowstep(dir.path())
            .env("STRIPE_SECRET_KEY", SENTINEL)
            .env("RUST_LOG", "trace")
            .args([
                "-vvv",
                "run",
                path.to_str().unwrap(),
                "--route",
                &sb.route(),
                "--var",
                "product_name=Tea",
                "--var",
                "amount_paise=50000",
                "--var",
                "success_url=https://shop.example/thanks",
                "--output",
                output,
            ])
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 1, "{out:?}");
        let all = out.all_output();
        assert!(
            all.contains("TRACE") || all.contains("DEBUG"),
            "trace logs were on"
        );
        assert!(
            !all.contains("SENTINEL0secret"),
            "the secret leaked in {output} output:\n{all}"
        );
        assert!(all.contains("sk_test_...ZZZ9"), "redacted form shown");
    }
    // The server did receive the real key.
    let auth = sb.sandbox.requests()[0]
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .unwrap()
        .1
        .clone();
    assert_eq!(auth, format!("Bearer {SENTINEL}"));
}

#[test]
fn dry_run_prints_the_request_and_a_curl_command_and_sends_nothing() {
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
            "product_name=Blue T-shirt",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("POST https://api.stripe.com/v1/checkout/sessions"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Bearer sk_test_...4242"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("mode=payment&line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=inr&line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Blue+T-shirt"), "{}", out.stdout);
    assert!(out.stdout.contains("curl -X POST"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("message (not sent): Please complete your payment here: <payment_url"),
        "{}",
        out.stdout
    );
    assert!(!out.all_output().contains(SANDBOX_SECRET_KEY));
    assert!(sb.sandbox.requests().is_empty(), "a dry run sends nothing");
}
