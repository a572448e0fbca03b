//! The `wait` step through the real `flowstep serve` on loopback with a real SQLite file: a
//! run waits (status `waiting`, what it waits for shown) until the signed Stripe event of its
//! Checkout Session arrives, then goes on once, also when the event is posted five times at
//! once (a refused delivery: bad, stale, wrong-secret, missing or oversized, stores and resumes
//! nothing), came before the wait, or arrives after a `kill -9` and a restart; a deadline fires
//! after a restart that spans it; `check` points at a wait's mistakes.

use crate::serve_support::{Serve, json_of};
use crate::support::{Scratch, run};
use flowstep_server::webhooks::stripe;
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const STRIPE_SECRET: &str = "whsec_test_flowstep_waits_0123456789";

/// Waits for the session's completion or expiry, `ttl` long.
const AWAIT_FLOW: &str = r#"flow: await-payment
inputs:
  session_id: { type: string }
  ttl: { type: string, default: 1h }
steps:
  - id: await_payment
    type: wait
    for: [stripe.checkout.session.completed, stripe.checkout.session.expired]
    match: { data.object.id: <<session_id>> }
    timeout: <<ttl>>
    map: { amount: $.data.object.amount_total }
    on_timeout: too_late
  - id: thanks
    type: message
    text: Payment received, <<amount>> paise (<<steps.await_payment.event.type>>)
    next: done
  - id: too_late
    type: message
    text: The payment link expired
  - id: done
    type: set
    values: { finished: true }
"#;

fn serve(dir: &Scratch) -> Serve {
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write("flows/await.yaml", AWAIT_FLOW);
    let flows = dir.path().join("flows");
    Serve::start(
        dir.path(),
        &["--flows", flows.to_str().unwrap()],
        &[("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)],
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn completed(event_id: &str, session: &str) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now(),
        "type": "checkout.session.completed",
        "data": {"object": {"id": session, "object": "checkout.session", "payment_status": "paid", "amount_total": 50000}},
        "livemode": false,
    })
    .to_string()
}

/// Posts a signed Stripe event: the status.
fn deliver(serve: &Serve, body: &str) -> u16 {
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    let (status, answer) = json_of(crate::raw_http::request(
        "POST",
        &format!("{}/webhooks/stripe", serve.url),
        &[
            ("Content-Type", "application/json"),
            ("Stripe-Signature", &signature),
        ],
        body.as_bytes(),
    ));
    assert!(status == 200 || status >= 400, "{status} {answer}");
    status
}

fn start(serve: &Serve, run_id: &str, session: &str, ttl: &str) {
    let (status, body) = serve.start_run(&json!({
        "flow": "await-payment",
        "run_id": run_id,
        "inputs": {"session_id": session, "ttl": ttl},
    }));
    assert_eq!(status, 201, "{body}");
}

/// Waits (at most 20 s) until the run is `waiting`, and returns it.
fn until_waiting(serve: &Serve, run_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let run = serve.run(run_id);
        if run["status"] == "waiting" {
            return run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "run {run_id} is not waiting: {run}\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn messages(run: &Value) -> Vec<&str> {
    run["outcome"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect()
}

#[test]
fn serve_waits_a_run_waits_for_its_signed_event_and_goes_on_once() {
    let dir = Scratch::new();
    let serve = serve(&dir);
    start(&serve, "order-1", "cs_test_1", "1h");
    let run = until_waiting(&serve, "order-1");
    let waiting = &run["waiting_for"];
    assert_eq!(waiting["step"], "await_payment");
    assert_eq!(
        waiting["events"],
        json!([
            "stripe.checkout.session.completed",
            "stripe.checkout.session.expired"
        ])
    );
    assert_eq!(waiting["match"], json!({"data.object.id": "cs_test_1"}));
    assert!(waiting["deadline"].as_str().unwrap().ends_with('Z'));
    assert_eq!(run["outcome"]["status"], "waiting");

    // Another session's event, and a tampered one, leave it waiting.
    assert_eq!(deliver(&serve, &completed("evt_other", "cs_test_2")), 200);
    let body = completed("evt_tampered", "cs_test_1");
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    let tampered = body.replace("50000", "1");
    let (status, _) = json_of(crate::raw_http::request(
        "POST",
        &format!("{}/webhooks/stripe", serve.url),
        &[("Stripe-Signature", &signature)],
        tampered.as_bytes(),
    ));
    assert_eq!(status, 400);
    // Every refused delivery of its event: nothing stored, nothing resumed.
    let body = completed("evt_refused", "cs_test_1");
    let post = |headers: &[(&str, &str)], body: &[u8]| {
        crate::raw_http::request(
            "POST",
            &format!("{}/webhooks/stripe", serve.url),
            headers,
            body,
        )
        .status
    };
    let stale = stripe::sign(body.as_bytes(), STRIPE_SECRET, now() - 400);
    let wrong = stripe::sign(body.as_bytes(), "whsec_another_secret_entirely_0000", now());
    let garbled = format!("t={},v1={}", now(), "0".repeat(64));
    for (what, signature) in [
        ("stale", &stale),
        ("wrong secret", &wrong),
        ("bad", &garbled),
    ] {
        let status = post(&[("Stripe-Signature", signature)], body.as_bytes());
        assert_eq!(status, 400, "{what}");
    }
    assert_eq!(post(&[], body.as_bytes()), 400, "missing header");
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20));
    let signature = stripe::sign(huge.as_bytes(), STRIPE_SECRET, now());
    assert_eq!(
        post(&[("Stripe-Signature", &signature)], huge.as_bytes()),
        413
    );
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(serve.run("order-1")["status"], "waiting");
    let (_, events) = serve.call("GET", "/v1/events", None);
    let stored: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        stored,
        ["evt_other"],
        "only the other session's event is stored"
    );

    // Its event, posted five times at once, ends the wait once.
    let body = completed("evt_paid_1", "cs_test_1");
    let posts: Vec<_> = (0..5)
        .map(|_| {
            let (url, body) = (serve.url.clone(), body.clone());
            std::thread::spawn(move || {
                let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
                crate::raw_http::request(
                    "POST",
                    &format!("{url}/webhooks/stripe"),
                    &[("Stripe-Signature", &signature)],
                    body.as_bytes(),
                )
                .status
            })
        })
        .collect();
    for p in posts {
        assert_eq!(p.join().unwrap(), 200);
    }
    let run = serve.wait_for_end("order-1", Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        messages(&run),
        ["Payment received, 50000 paise (stripe.checkout.session.completed)"]
    );
    assert_eq!(run["waiting_for"], Value::Null);
}

#[test]
fn serve_waits_an_event_that_came_before_the_wait_is_matched() {
    let dir = Scratch::new();
    // Waits for the refund to be created, then for the session to complete.
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write(
        "flows/two-waits.yaml",
        "flow: two-waits\ninputs:\n  session_id: { type: string }\nsteps:\n  - id: first\n    type: wait\n    for: stripe.refund.created\n    match: { data.object.id: <<session_id>> }\n    timeout: 1h\n  - id: second\n    type: wait\n    for: stripe.checkout.session.completed\n    match: { data.object.id: <<session_id>> }\n    timeout: 1h\n  - id: both\n    type: message\n    text: both came\n",
    );
    let serve = serve(&dir);
    // An event from before the run started is not the run's.
    assert_eq!(deliver(&serve, &completed("evt_before", "cs_fast")), 200);
    let (status, body) = serve.start_run(&json!({
        "flow": "two-waits", "run_id": "order-fast", "inputs": {"session_id": "cs_fast"},
    }));
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        until_waiting(&serve, "order-fast")["waiting_for"]["step"],
        "first"
    );
    // The payment comes while the run waits for something else (a fast payer) ...
    assert_eq!(deliver(&serve, &completed("evt_fast", "cs_fast")), 200);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(serve.run("order-fast")["waiting_for"]["step"], "first");
    // ... and is found when the run reaches its wait.
    let refund =
        completed("evt_refund", "cs_fast").replace("checkout.session.completed", "refund.created");
    assert_eq!(deliver(&serve, &refund), 200);
    let run = serve.wait_for_end("order-fast", Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "{run}");
    let second = &run["outcome"]["steps"][1];
    assert_eq!(second["event"]["id"], "evt_fast", "{run}");
}

#[test]
fn serve_waits_a_wait_survives_kill_9_and_its_event_after_the_restart_ends_it() {
    let dir = Scratch::new();
    let serve = serve(&dir);
    start(&serve, "order-crash", "cs_crash", "1h");
    until_waiting(&serve, "order-crash");
    serve.kill9();
    let serve = self::serve(&dir);
    assert_eq!(serve.run("order-crash")["status"], "waiting");
    assert_eq!(deliver(&serve, &completed("evt_crash", "cs_crash")), 200);
    let run = serve.wait_for_end("order-crash", Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(messages(&run).len(), 1, "{run}");
    assert_eq!(
        run["attempt"], 2,
        "claimed once before the wait and once after"
    );
}

#[test]
fn serve_waits_a_deadline_fires_after_a_restart_that_spans_it() {
    let dir = Scratch::new();
    let serve = serve(&dir);
    start(&serve, "order-late", "cs_late", "2s");
    until_waiting(&serve, "order-late");
    serve.kill9();
    std::thread::sleep(Duration::from_secs(3));
    let serve = self::serve(&dir);
    let run = serve.wait_for_end("order-late", Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "on_timeout leads on: {run}");
    assert_eq!(messages(&run), ["The payment link expired"]);
    let step = &run["outcome"]["steps"][0];
    assert_eq!(step["status"], "failed");
    assert_eq!(step["error"]["kind"], "timeout");
    // Its event, now, wakes nothing.
    assert_eq!(deliver(&serve, &completed("evt_late", "cs_late")), 200);
}

#[test]
fn check_points_at_a_waits_mistakes() {
    let dir = Scratch::new();
    let flow = dir.write(
        "bad.yaml",
        "flow: bad\nsteps:\n  - id: w\n    type: wait\n    for: [stripe.checkout.session.complete, paypal.paid]\n    timeout: 1h\n  - id: v\n    type: wait\n    for: stripe.checkout.session.completed\n    match: { 'data..id': x }\n  - id: u\n    type: wait\n    for: whatsapp.message\n    timeout: 800h\n    on_timeout: nowhere\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    for expected in [
        "error[E010]: `stripe.checkout.session.complete` is not an event type flowstep receives",
        "bad.yaml:5:11",
        "did you mean `stripe.checkout.session.completed`?",
        "`paypal.paid` is not an event type flowstep receives",
        "`on_timeout` names unknown step `nowhere`",
        "`data..id` is not a path into an event",
        "error[E010]: `800h` is longer than the longest duration allowed, 30 days",
        "bad.yaml:14:14",
    ] {
        assert!(out.stderr.contains(expected), "{expected}:\n{}", out.stderr);
    }
}

#[test]
fn a_wait_in_the_cli_says_it_needs_serve() {
    let dir = Scratch::new();
    let flow = dir.write("await.yaml", AWAIT_FLOW);
    let out = run(
        dir.path(),
        &["run", flow.to_str().unwrap(), "--var", "session_id=cs_1"],
    );
    assert_eq!(out.code, 2, "refused before anything is sent: {out:?}");
    assert!(
        out.stderr
            .contains("error: the flow has a `wait` step, which needs `flowstep serve`"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    // A dry run shows what it would wait for, and goes on as if the first type had come.
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--dry-run",
            "--var",
            "session_id=cs_1",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    for expected in [
        "step await_payment (wait)\n  waits for stripe.checkout.session.completed or stripe.checkout.session.expired\n  where data.object.id = cs_1\n",
        "message (not sent): Payment received, <amount: from the event> paise (stripe.checkout.session.completed)",
    ] {
        assert!(out.stdout.contains(expected), "{expected}\n{}", out.stdout);
    }
}
