//! WhatsApp delivery statuses on a run's messages, through the real `flowstep serve --sandbox
//! --channel whatsapp` on loopback with a real SQLite file: the sandbox's own `sent` and
//! `delivered` webhooks show on the message the run sent; a signed `read` moves it on, a late
//! `delivered` does not move it back, a `failed` with Meta's code 131047 ends it with the
//! error; a status for a message no run sent is kept in the inbox and shows on no run.

use crate::serve_support::{Serve, json_of};
use crate::support::Scratch;
use flowstep_server::webhooks::whatsapp;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const APP_SECRET: &str = "flowstep-test-statuses-app-secret-0123";

const FLOW: &str = "flow: notify
steps:
  - id: hello
    type: message
    text: Your order is confirmed
";

/// Posts one signed WhatsApp status notification for `wamid`; the answer's body.
fn post_status(serve: &Serve, wamid: &str, status: &str, at: u64, errors: Option<Value>) -> Value {
    let mut item = json!({"id": wamid, "status": status, "timestamp": at.to_string(), "recipient_id": "919812345678"});
    if let Some(errors) = errors {
        item["errors"] = errors;
    }
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "PN1"},
        "statuses": [item]}}]}]})
    .to_string();
    let signature = whatsapp::sign(body.as_bytes(), APP_SECRET);
    let (status, answer) = json_of(crate::raw_http::request(
        "POST",
        &format!("{}/webhooks/whatsapp", serve.url),
        &[
            ("Content-Type", "application/json"),
            (whatsapp::HEADER, &signature),
        ],
        body.as_bytes(),
    ));
    assert_eq!(status, 200, "{answer}");
    answer
}

/// `flowstep serve --sandbox --channel whatsapp` serving the flow `yaml` as `name`, with the
/// test's WhatsApp app secret.
fn serve_flow(dir: &Scratch, name: &str, yaml: &str) -> Serve {
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write(&format!("flows/{name}.yaml"), yaml);
    let flows = dir.path().join("flows");
    Serve::start(
        dir.path(),
        &[
            "--sandbox",
            "--channel",
            "whatsapp",
            "--flows",
            flows.to_str().unwrap(),
        ],
        &[("WHATSAPP_APP_SECRET", APP_SECRET)],
    )
}

/// The customer +919812345678 writes to the business through the server's in-process sandbox
/// (`POST /__sandbox/whatsapp/inbound`), which opens WhatsApp's 24-hour window: free-form
/// messages to them are then delivered, not failed with 131047.
fn customer_writes(serve: &Serve) {
    let log = serve.log();
    let sandbox = log
        .split(" go to the built-in sandbox at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no sandbox URL in the log:\n{log}"))
        .to_owned();
    let (status, answer) = json_of(crate::raw_http::request(
        "POST",
        &format!("{sandbox}/__sandbox/whatsapp/inbound"),
        &[("Content-Type", "application/json")],
        br#"{"from": "919812345678", "text": "hi"}"#,
    ));
    assert_eq!(status, 200, "{answer}");
}

/// The run's one message.
fn message(serve: &Serve, run_id: &str) -> Value {
    let run = serve.run(run_id);
    let messages = run["outcome"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{run}");
    messages[0].clone()
}

#[test]
fn serve_statuses_show_on_the_message_furthest_first_and_failures_with_metas_code() {
    let dir = Scratch::new();
    let serve = serve_flow(&dir, "notify", FLOW);
    customer_writes(&serve);
    let (status, body) =
        serve.start_run(&json!({"flow": "notify", "run_id": "order-1", "to": "+919812345678"}));
    assert_eq!(status, 201, "{body}");
    let run = serve.wait_for_end("order-1", Duration::from_secs(30));
    assert_eq!(run["status"], "succeeded", "{run}");
    let wamid = message(&serve, "order-1")["delivery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(wamid.starts_with("wamid."), "{run}");

    // The sandbox accepted the message and posts `sent`, then `delivered`, signed with the
    // same secret: the message shows `delivered`.
    let started = Instant::now();
    let delivered = loop {
        let m = message(&serve, "order-1");
        if m["delivery"]["status"] == "delivered" {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no `delivered` on the message: {m}\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(delivered["delivery"]["error"], Value::Null, "{delivered}");
    assert!(
        delivered["delivery"]["at"].as_str().unwrap().ends_with('Z'),
        "{delivered}"
    );
    assert_eq!(delivered["text"], "Your order is confirmed");

    // Read (Meta's time shown), then a late `delivered` and a `sent`: still read.
    post_status(&serve, &wamid, "read", 1_767_225_660, None);
    let read = json!({"status": "read", "at": "2026-01-01T00:01:00.000Z", "error": null});
    assert_eq!(message(&serve, "order-1")["delivery"], read);
    post_status(&serve, &wamid, "delivered", 1_767_225_630, None);
    post_status(&serve, &wamid, "sent", 1_767_225_601, None);
    assert_eq!(message(&serve, "order-1")["delivery"], read);

    // `failed` with Meta's error ends it, whatever comes after.
    let errors = json!([{"code": 131047, "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]);
    post_status(&serve, &wamid, "failed", 1_767_225_700, Some(errors));
    let failed = json!({"status": "failed", "at": "2026-01-01T00:01:40.000Z",
        "error": {"code": 131047, "title": "Re-engagement message"}});
    assert_eq!(message(&serve, "order-1")["delivery"], failed);
    post_status(&serve, &wamid, "read", 1_767_225_800, None);
    assert_eq!(message(&serve, "order-1")["delivery"], failed);
    // The run's other fields are as they were.
    let after = serve.run("order-1");
    assert_eq!(after["status"], "succeeded");
    assert_eq!(
        after["outcome"]["messages"][0]["delivery_id"],
        wamid.as_str()
    );

    // A status for a message no run sent: stored in the inbox, shown on no run.
    let answer = post_status(&serve, "wamid.NOBODY", "failed", 1_767_225_900, None);
    assert_eq!(answer, json!({"stored": 1, "duplicates": 0}));
    let (_, events) = serve.call("GET", "/v1/events?provider=whatsapp", None);
    let ids: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"wamid.NOBODY:failed"), "{events}");
    assert!(
        ids.contains(&format!("{wamid}:delivered").as_str()),
        "{events}"
    );
    assert_eq!(message(&serve, "order-1")["delivery"], failed);
}

/// Sends a message, then waits for WhatsApp to say it failed (or 1 h without that).
const FAILURE_FLOW: &str = "flow: notify-or-retry
steps:
  - id: send
    type: message
    text: Your order is confirmed
  - id: await_failure
    type: wait
    for: whatsapp.status.failed
    match: { entry.0.changes.0.value.statuses.0.id: <<steps.send.delivery_id>> }
    timeout: 1h
    map: { code: '$.entry[0].changes[0].value.statuses[0].errors[0].code' }
  - id: fallback
    type: set
    values: { note: <<concat \"failed with \" code>> }
outputs:
  note: <<note>>
";

#[test]
fn serve_statuses_a_run_waits_for_the_failure_of_its_own_message() {
    let dir = Scratch::new();
    let serve = serve_flow(&dir, "notify-or-retry", FAILURE_FLOW);
    customer_writes(&serve);
    let (status, body) = serve
        .start_run(&json!({"flow": "notify-or-retry", "run_id": "order-2", "to": "+919812345678"}));
    assert_eq!(status, 201, "{body}");
    let started = Instant::now();
    let run = loop {
        let run = serve.run("order-2");
        if run["status"] == "waiting" {
            break run;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{run}");
        std::thread::sleep(Duration::from_millis(25));
    };
    let wamid = run["outcome"]["messages"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        run["waiting_for"]["match"],
        json!({"entry.0.changes.0.value.statuses.0.id": wamid})
    );
    // The sandbox's own `sent` and `delivered` end nothing; Meta's 131047 ends the wait.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(serve.run("order-2")["status"], "waiting");
    let errors = json!([{"code": 131047, "title": "Re-engagement message"}]);
    post_status(&serve, &wamid, "failed", 1_764_547_200, Some(errors));
    let run = serve.wait_for_end("order-2", Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["outcome"]["outputs"]["note"], "failed with 131047");
}
