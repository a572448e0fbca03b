//! A run keeps the version of every file its flow uses: `outer.yaml` uses the Stripe preset
//! and `./inner.yaml` through `flow` steps; `inner.yaml` is edited while a run is under way
//! (the server killed with `kill -9` and restarted, or the flows reloaded while the run waits
//! in the queue), and the run still sends the old text, while a run started afterwards sends
//! the new one.

use super::far_end::{SESSIONS, delay, order_of, requests_to, serve, wait_until};
use crate::support::{Scratch, TestSandbox};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the session request of the first run is held at the sandbox.
const HOLD: Duration = Duration::from_millis(1500);

/// How long a run has to end.
const END: Duration = Duration::from_secs(30);

const OUTER: &str = "flow: outer
inputs:
  product_name: { type: string }
  amount_paise: { type: integer }
  client_reference_id: { type: string }
steps:
  - id: pay
    type: flow
    use: stripe-checkout
    with:
      product_name: <<product_name>>
      amount_paise: <<amount_paise>>
      success_url: https://shop.example/thanks
      client_reference_id: <<client_reference_id>>
  - id: thanks
    type: flow
    use: ./inner.yaml
";

fn inner(text: &str) -> String {
    format!("flow: inner\nsteps:\n  - id: say\n    type: message\n    text: {text}\n")
}

const OLD: &str = "Thank you, your order is in (inner v1)";
const NEW: &str = "Thanks! We got your order (inner v2)";

/// `DIR/flows` with `outer.yaml` and `inner.yaml` saying [`OLD`].
fn flows(dir: &Path) -> PathBuf {
    let flows = dir.join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("outer.yaml"), OUTER).unwrap();
    std::fs::write(flows.join("inner.yaml"), inner(OLD)).unwrap();
    flows
}

/// The texts of a run's messages, in order.
fn texts(run: &Value) -> Vec<String> {
    assert_eq!(run["status"], "succeeded", "{run}");
    run["outcome"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages in {run}"))
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// What the run's `thanks` step said (its second message; the first is the payment link).
fn thanks(run: &Value) -> String {
    let texts = texts(run);
    assert_eq!(texts.len(), 2, "{run}");
    assert!(texts[0].contains("Please complete your payment"), "{run}");
    texts[1].clone()
}

/// How many WhatsApp messages the sandbox took with exactly `text`.
fn delivered(sandbox: &TestSandbox, text: &str) -> usize {
    sandbox
        .sandbox
        .whatsapp_messages()
        .iter()
        .filter(|m| m.text == text)
        .count()
}

/// `GET /v1/flows`' hash of `name`.
fn served_hash(server: &crate::serve_support::Serve, name: &str) -> String {
    let (status, list) = server.call("GET", "/v1/flows", None);
    assert_eq!(status, 200, "{list}");
    list["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no flow {name} in {list}"))["hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_run_resumed_after_kill_9_uses_the_used_flow_it_started_with() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    let flows = flows(dir.path());
    let args = ["--flows", flows.to_str().unwrap()];
    delay(&sandbox, SESSIONS, 1, HOLD.as_millis() as u64);
    let server = serve(dir.path(), &sandbox, &args);
    let v1 = served_hash(&server, "outer");
    let (status, body) = server.start_run(&order_of("outer", "pinned-a"));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["flow_hash"], v1.as_str(), "{body}");
    // Killed while the run's session request is held at the sandbox.
    wait_until(Duration::from_secs(10), "the session request", || {
        requests_to(&sandbox, "POST", SESSIONS) == 1
    });
    let arrived = Instant::now();
    assert_eq!(server.run("pinned-a")["status"], "running");
    server.kill9();
    // The used file changes while the server is down.
    std::fs::write(flows.join("inner.yaml"), inner(NEW)).unwrap();
    std::thread::sleep(
        (arrived + HOLD + Duration::from_millis(300)).saturating_duration_since(Instant::now()),
    );

    let server = serve(dir.path(), &sandbox, &args);
    // The outer file did not change, but what it uses did: a new hash.
    let v2 = served_hash(&server, "outer");
    assert_ne!(v2, v1, "the hash covers the used files");
    let run = server.wait_for_end("pinned-a", END);
    assert_eq!(run["attempt"], 2, "{run}");
    assert_eq!(run["flow_hash"], v1.as_str(), "{run}");
    assert_eq!(
        thanks(&run),
        OLD,
        "the resumed run keeps the old inner.yaml"
    );
    assert_eq!(sandbox.sandbox.sessions_created(), 1);

    // A run started now uses the file as it is.
    assert_eq!(server.start_run(&order_of("outer", "pinned-a2")).0, 201);
    let after = server.wait_for_end("pinned-a2", END);
    assert_eq!(after["flow_hash"], v2.as_str(), "{after}");
    assert_eq!(thanks(&after), NEW);
    assert_eq!(delivered(&sandbox, OLD), 1);
    assert_eq!(delivered(&sandbox, NEW), 1);
    eprintln!(
        "kill -9, inner.yaml edited, restart: resumed run said {OLD:?} (hash {v1}), a new run said {NEW:?} (hash {v2})"
    );
}

#[test]
fn a_queued_run_keeps_the_used_flow_it_was_started_with_across_a_reload() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    let flows = flows(dir.path());
    // One run at a time: the first, held at the sandbox, keeps the second in the queue.
    delay(&sandbox, SESSIONS, 1, 2500);
    let server = serve(
        dir.path(),
        &sandbox,
        &[
            "--flows",
            flows.to_str().unwrap(),
            "--max-concurrent-runs",
            "1",
        ],
    );
    let v1 = served_hash(&server, "outer");
    assert_eq!(server.start_run(&order_of("outer", "held")).0, 201);
    wait_until(Duration::from_secs(10), "the first session request", || {
        requests_to(&sandbox, "POST", SESSIONS) == 1
    });
    let (status, body) = server.start_run(&order_of("outer", "queued"));
    assert_eq!(status, 201, "{body}");
    assert_eq!(server.run("queued")["status"], "queued");

    std::fs::write(flows.join("inner.yaml"), inner(NEW)).unwrap();
    let (status, list) = server.call("POST", "/v1/flows/reload", None);
    assert_eq!(status, 200, "{list}");
    let v2 = served_hash(&server, "outer");
    assert_ne!(v2, v1, "the reload saw the new inner.yaml");
    assert_eq!(
        server.run("queued")["status"],
        "queued",
        "still queued at the reload"
    );
    assert_eq!(server.start_run(&order_of("outer", "after-reload")).0, 201);

    let held = server.wait_for_end("held", END);
    let queued = server.wait_for_end("queued", END);
    let after = server.wait_for_end("after-reload", END);
    assert_eq!(thanks(&held), OLD);
    assert_eq!(queued["flow_hash"], v1.as_str(), "{queued}");
    assert_eq!(
        thanks(&queued),
        OLD,
        "claimed after the reload, it keeps the version it was started with"
    );
    assert_eq!(after["flow_hash"], v2.as_str(), "{after}");
    assert_eq!(thanks(&after), NEW);
    assert_eq!(delivered(&sandbox, OLD), 2);
    assert_eq!(delivered(&sandbox, NEW), 1);
    eprintln!(
        "reload while queued: held and queued runs said {OLD:?}, the run started after the reload said {NEW:?}"
    );
}
