//! `kill -9` at each checkpoint boundary of the Stripe preset's run (after the run is created,
//! during the session request, between the request and the message, during the message),
//! a restart on the same database, and the far end's counts: one session per run, the same
//! idempotency key on every attempt, and at most one message, per the documented policy.

use super::far_end::{
    SESSIONS, delay, distinct, messages_path, messages_with, order, order_of, requests_to, serve,
    session_keys, wait_until,
};
use crate::support::{Scratch, TestSandbox, preset_with, step_record};
use flowstep_sandbox::{Fault, FaultAction, SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_TOKEN};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a delayed request is held at the sandbox: the kill lands inside it.
const HOLD: Duration = Duration::from_millis(1500);

/// How long a restarted server has to finish the runs.
const END: Duration = Duration::from_secs(30);

/// Waits until the request held by the sandbox since `arrived` has been processed (or
/// dropped), so that the resumed attempt does not meet it still holding its key.
fn outlast_hold(arrived: Instant) {
    let until = arrived + HOLD + Duration::from_millis(300);
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
}

fn assert_succeeded(run: &Value) -> &Value {
    assert_eq!(run["status"], "succeeded", "{run}");
    &run["outcome"]
}

/// The one message of a run that was not cut mid-send: sent once, delivery known.
fn assert_sent_once(sandbox: &TestSandbox, outcome: &Value) {
    let messages = outcome["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{outcome}");
    assert!(messages[0].get("delivery_unknown").is_none(), "{outcome}");
    assert!(
        messages[0]["delivery_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("wamid.")),
        "{outcome}"
    );
    let url = outcome["outputs"]["payment_url"].as_str().unwrap();
    assert_eq!(messages_with(sandbox, url), 1, "{outcome}");
}

#[test]
fn kill_after_the_run_is_created_runs_it_once_after_restart() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    // One run at a time: a first run held at the sandbox keeps the second queued.
    delay(&sandbox, SESSIONS, 1, HOLD.as_millis() as u64);
    let server = serve(dir.path(), &sandbox, &["--max-concurrent-runs", "1"]);
    assert_eq!(server.start_run(&order("crash-a-first")).0, 201);
    wait_until(Duration::from_secs(10), "the first run's request", || {
        requests_to(&sandbox, "POST", SESSIONS) == 1
    });
    let arrived = Instant::now();
    let (status, body) = server.start_run(&order("crash-a"));
    assert_eq!(status, 201, "{body}");
    let before = server.run("crash-a");
    assert_eq!(before["status"], "queued", "{before}");
    assert_eq!(before["attempt"], 0, "{before}");
    server.kill9();
    outlast_hold(arrived);

    let server = serve(dir.path(), &sandbox, &["--max-concurrent-runs", "1"]);
    let run = server.wait_for_end("crash-a", END);
    let outcome = assert_succeeded(&run);
    // Never claimed before the kill: the restarted server's claim is its first.
    assert_eq!(run["attempt"], 1, "{run}");
    let first = server.wait_for_end("crash-a-first", END);
    assert_succeeded(&first);
    assert_eq!(first["attempt"], 2, "{first}");

    let keys = session_keys(&sandbox);
    assert_eq!(keys["crash-a"].len(), 1, "{keys:?}");
    assert_eq!(keys["crash-a-first"].len(), 2, "{keys:?}");
    assert_eq!(distinct(&keys["crash-a-first"]).len(), 1, "{keys:?}");
    assert_eq!(sandbox.sandbox.sessions_created(), 2);
    assert_sent_once(&sandbox, outcome);
    assert_sent_once(&sandbox, &first["outcome"]);
    assert_eq!(sandbox.sandbox.whatsapp_messages().len(), 2);
    eprintln!(
        "kill after create: sessions_created=2 (one per run), crash-a posts=1 attempt=1, held run posts=2 attempt=2, messages=2"
    );
}

#[test]
fn kill_during_the_http_step_sends_it_again_with_the_same_key() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    delay(&sandbox, SESSIONS, 1, HOLD.as_millis() as u64);
    let server = serve(dir.path(), &sandbox, &[]);
    assert_eq!(server.start_run(&order("crash-b")).0, 201);
    wait_until(Duration::from_secs(10), "the session request", || {
        requests_to(&sandbox, "POST", SESSIONS) == 1
    });
    let arrived = Instant::now();
    let during = server.run("crash-b");
    assert_eq!(during["status"], "running", "{during}");
    server.kill9();
    outlast_hold(arrived);
    let created_while_down = sandbox.sandbox.sessions_created();

    let server = serve(dir.path(), &sandbox, &[]);
    let run = server.wait_for_end("crash-b", END);
    let outcome = assert_succeeded(&run);
    assert_eq!(run["attempt"], 2, "{run}");
    let keys = &session_keys(&sandbox)["crash-b"];
    assert_eq!(keys.len(), 2, "one request per attempt: {keys:?}");
    assert_eq!(distinct(keys).len(), 1, "the same key on both: {keys:?}");
    assert_eq!(sandbox.sandbox.sessions_created(), 1);
    let step = step_record(outcome, "create_session");
    assert!(
        step["resumed"]
            .as_str()
            .is_some_and(|s| s.contains("same idempotency key")),
        "{step}"
    );
    assert_sent_once(&sandbox, outcome);
    eprintln!(
        "kill during http: sessions_created=1 (created while the server was down: {created_while_down}), posts=2 with one key, attempt=2, messages=1"
    );
}

#[test]
fn kill_after_the_far_end_created_the_session_replays_it() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    // The session is created and its answer lost; the kill lands in the backoff before the
    // retry, so the server never learns the session exists.
    sandbox.sandbox.inject(Fault {
        path_prefix: Some(SESSIONS.into()),
        count: 1,
        action: FaultAction::DropResponse,
    });
    let server = serve(dir.path(), &sandbox, &[]);
    assert_eq!(server.start_run(&order("crash-b2")).0, 201);
    wait_until(Duration::from_secs(10), "the session", || {
        sandbox.sandbox.sessions_created() == 1
    });
    server.kill9();
    assert_eq!(
        requests_to(&sandbox, "POST", SESSIONS),
        1,
        "killed before the retry"
    );

    let server = serve(dir.path(), &sandbox, &[]);
    let run = server.wait_for_end("crash-b2", END);
    let outcome = assert_succeeded(&run);
    assert_eq!(run["attempt"], 2, "{run}");
    let keys = &session_keys(&sandbox)["crash-b2"];
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(distinct(keys).len(), 1, "{keys:?}");
    // The retry got the first session back: still one.
    assert_eq!(sandbox.sandbox.sessions_created(), 1);
    assert_sent_once(&sandbox, outcome);
    eprintln!(
        "kill after the session was created, answer lost: sessions_created=1, posts=2 with one key, attempt=2, messages=1"
    );
}

#[test]
fn kill_twice_during_the_http_step_still_one_session_and_no_secret_stored() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    delay(&sandbox, SESSIONS, 2, HOLD.as_millis() as u64);
    let mut server = serve(dir.path(), &sandbox, &[]);
    assert_eq!(server.start_run(&order("crash-twice")).0, 201);
    // Killed during the first attempt, then during the resumed one.
    for sent in 1..=2 {
        wait_until(END, "the session request", || {
            requests_to(&sandbox, "POST", SESSIONS) == sent
        });
        let arrived = Instant::now();
        server.kill9();
        outlast_hold(arrived);
        server = serve(dir.path(), &sandbox, &[]);
    }
    let run = server.wait_for_end("crash-twice", END);
    let outcome = assert_succeeded(&run);
    assert_eq!(run["attempt"], 3, "{run}");
    let keys = &session_keys(&sandbox)["crash-twice"];
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(distinct(keys).len(), 1, "{keys:?}");
    assert_eq!(sandbox.sandbox.sessions_created(), 1);
    assert_sent_once(&sandbox, outcome);
    drop(server);
    // What the crashes left in the store (the database and its write-ahead log) holds no
    // secret: the states saved mid-request show the key redacted.
    let mut stored = String::new();
    for file in ["runs.db", "runs.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        stored.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(
        stored.contains("Bearer sk_test_...4242"),
        "the saved request is read"
    );
    for secret in [SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_TOKEN] {
        assert!(!stored.contains(secret), "the store holds a secret");
    }
    eprintln!(
        "kill twice during http: sessions_created=1, posts=3 with one key, attempt=3, messages=1, no secret in the store"
    );
}

/// The preset with a step between the session and the message: it reads the session back,
/// and the kill lands there, after the session's checkpoint and before the message.
fn checked_flow() -> String {
    let check = "  - id: check_session\n    type: http\n    method: GET\n    url: https://api.stripe.com/v1/checkout/sessions/<<session_id>>\n    auth: { type: bearer, token: \"<<secrets.STRIPE_SECRET_KEY>>\" }\n    response:\n      map:\n        session_status: $.status\n  - id: send_link\n";
    preset_with("flow: stripe-checkout\n", "flow: checkout-checked\n")
        .replace("  - id: send_link\n", check)
}

#[test]
fn kill_between_the_http_step_and_the_message_runs_neither_twice() {
    let dir = Scratch::new();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    std::fs::write(flows.join("checked.yaml"), checked_flow()).unwrap();
    let flows = flows.to_str().unwrap().to_owned();
    let sandbox = TestSandbox::start();
    let retrieve = format!("{SESSIONS}/");
    delay(&sandbox, &retrieve, 1, HOLD.as_millis() as u64);
    let server = serve(dir.path(), &sandbox, &["--flows", &flows]);
    let (status, body) = server.start_run(&order_of("checkout-checked", "crash-c"));
    assert_eq!(status, 201, "{body}");
    wait_until(Duration::from_secs(10), "the session read back", || {
        requests_to(&sandbox, "GET", &retrieve) == 1
    });
    let arrived = Instant::now();
    let during = server.run("crash-c");
    assert_eq!(
        during["outcome"]["steps"][1]["id"], "create_session",
        "{during}"
    );
    server.kill9();
    outlast_hold(arrived);

    let server = serve(dir.path(), &sandbox, &["--flows", &flows]);
    let run = server.wait_for_end("crash-c", END);
    let outcome = assert_succeeded(&run);
    assert_eq!(run["attempt"], 2, "{run}");
    // The session step had reached its checkpoint: it is not taken again.
    assert_eq!(session_keys(&sandbox)["crash-c"].len(), 1);
    assert_eq!(step_record(outcome, "create_session")["attempts"], 1);
    assert_eq!(sandbox.sandbox.sessions_created(), 1);
    assert_eq!(requests_to(&sandbox, "GET", &retrieve), 2);
    assert_eq!(outcome["variables"]["session_status"], "open", "{outcome}");
    // The message had not started: it is sent, once.
    assert_sent_once(&sandbox, outcome);
    eprintln!(
        "kill between http and message: sessions_created=1, posts=1, reads=2, attempt=2, messages=1"
    );
}

#[test]
fn kill_during_the_message_does_not_send_it_again() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    delay(&sandbox, &messages_path(), 1, HOLD.as_millis() as u64);
    let server = serve(dir.path(), &sandbox, &[]);
    assert_eq!(server.start_run(&order("crash-d")).0, 201);
    wait_until(Duration::from_secs(10), "the message request", || {
        requests_to(&sandbox, "POST", &messages_path()) == 1
    });
    let arrived = Instant::now();
    server.kill9();
    outlast_hold(arrived);
    let delivered = sandbox.sandbox.whatsapp_messages().len();

    let server = serve(dir.path(), &sandbox, &[]);
    let run = server.wait_for_end("crash-d", END);
    let outcome = assert_succeeded(&run);
    assert_eq!(run["attempt"], 2, "{run}");
    assert_eq!(session_keys(&sandbox)["crash-d"].len(), 1);
    assert_eq!(sandbox.sandbox.sessions_created(), 1);
    // Cut mid-send: not sent again, and the run says its delivery is unknown.
    assert_eq!(requests_to(&sandbox, "POST", &messages_path()), 1);
    assert!(sandbox.sandbox.whatsapp_messages().len() <= 1);
    assert_eq!(sandbox.sandbox.whatsapp_messages().len(), delivered);
    let messages = outcome["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{outcome}");
    assert_eq!(messages[0]["delivery_unknown"], true, "{outcome}");
    assert!(messages[0].get("delivery_id").is_none(), "{outcome}");
    let step = step_record(outcome, "send_link");
    assert!(
        step["resumed"]
            .as_str()
            .is_some_and(|s| s.contains("not sent again")),
        "{step}"
    );
    eprintln!(
        "kill during message: sessions_created=1, message requests=1, delivered={delivered}, delivery_unknown=true, attempt=2"
    );
}
