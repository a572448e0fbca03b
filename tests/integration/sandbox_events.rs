//! The sandbox sends its events to `flowstep serve`, through the real binaries on loopback:
//! `serve --sandbox` forwards its in-process sandbox to itself (paying a session on the
//! sandbox's page puts a verified `checkout.session.completed` in `GET /v1/events`; a
//! customer's message from `flowstep sandbox say` puts a `message` there), with the secrets
//! serve verifies with, set or not; `flowstep sandbox --forward-to` does the same for a server
//! in another process; `sandbox say`, `--forward-to` and `--forward-faults` refuse bad
//! arguments (exit 2) and say when the sandbox cannot be reached (exit 1).

use crate::raw_http;
use crate::serve_support::{Serve, json_of};
use crate::support::{Scratch, flowstep};
use flowstep_sandbox::SANDBOX_SECRET_KEY;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The sandbox URL `serve --sandbox` printed.
pub(crate) fn sandbox_url(serve: &Serve) -> String {
    let log = serve.log();
    let line = log
        .lines()
        .find(|l| l.contains(" go to the built-in sandbox at "))
        .unwrap_or_else(|| panic!("no sandbox note in:\n{log}"));
    let rest = line.split("sandbox at ").nth(1).unwrap();
    rest.split_whitespace().next().unwrap().to_owned()
}

/// Creates a Checkout Session on the sandbox and pays it on its page; returns its id.
fn pay_a_session(sandbox: &str) -> String {
    let body = "mode=payment&line_items[0][price_data][currency]=inr&line_items[0][price_data][product_data][name]=Blue%20T-shirt&line_items[0][price_data][unit_amount]=50000&line_items[0][quantity]=1&success_url=https://example.com/ok";
    let auth = format!("Bearer {SANDBOX_SECRET_KEY}");
    let (status, session) = json_of(raw_http::request(
        "POST",
        &format!("{sandbox}/v1/checkout/sessions"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    ));
    assert_eq!(status, 200, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    let paid = raw_http::send("POST", &format!("{sandbox}/c/pay/{id}"), None);
    assert_eq!(paid.status, 200, "{}", paid.body);
    id
}

/// Waits (at most 15 s) for the event of `provider` for which `found` holds in serve's inbox.
fn wait_for_event(serve: &Serve, provider: &str, found: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (status, body) = serve.call("GET", &format!("/v1/events?provider={provider}"), None);
        assert_eq!(status, 200, "{body}");
        if let Some(e) = body["events"].as_array().unwrap().iter().find(|e| found(e)) {
            return e.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no such {provider} event in {body}\nserver log:\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `flowstep sandbox say` with `args`: (exit code, stdout, stderr).
fn say(dir: &Scratch, args: &[&str]) -> (i32, String, String) {
    let out = flowstep(dir.path())
        .args(["sandbox", "say"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_sandbox_records_a_paid_session_and_a_customer_message_from_its_own_sandbox() {
    let dir = Scratch::new();
    // Stripe's secret set (the sandbox must sign with it), WhatsApp's not (both use the
    // sandbox's default).
    let secret = "whsec_flowstep_test_serve_sandbox_0123";
    let serve = Serve::start(
        dir.path(),
        &["-v", "--sandbox"],
        &[("STRIPE_WEBHOOK_SECRET", secret)],
    );
    let sandbox = sandbox_url(&serve);
    assert!(
        serve
            .log()
            .contains("note: the sandbox sends its events to this server"),
        "{}",
        serve.log()
    );
    let session = pay_a_session(&sandbox);
    let event = wait_for_event(&serve, "stripe", |e| {
        e["payload"]["data"]["object"]["id"] == session.as_str()
    });
    assert_eq!(event["event_type"], "checkout.session.completed");
    assert!(event["event_id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["payload"]["data"]["object"]["payment_status"], "paid");
    assert_eq!(event["payload"]["data"]["object"]["status"], "complete");

    let (code, stdout, stderr) = say(
        &dir,
        &[
            "--to",
            &sandbox,
            "--from",
            "919812345678",
            "--name",
            "Asha",
            "buy Blue T-shirt",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let wamid = stdout.trim();
    assert!(wamid.starts_with("wamid."), "{stdout}");
    assert!(
        !stderr.contains("forwards its events to nobody"),
        "{stderr}"
    );
    let message = wait_for_event(&serve, "whatsapp", |e| e["event_id"] == wamid);
    assert_eq!(message["event_type"], "message");
    let value = &message["payload"]["entry"][0]["changes"][0]["value"];
    assert_eq!(value["messages"][0]["text"]["body"], "buy Blue T-shirt");
    assert_eq!(value["messages"][0]["from"], "919812345678");
    assert_eq!(value["contacts"][0]["profile"]["name"], "Asha");

    // The sandbox lists both as delivered on the first attempt; no secret is in the log. The
    // server has the event before the sandbox has its answer, so the list may lag a moment.
    let listed = || -> Vec<(String, String)> {
        let events = raw_http::send("GET", &format!("{sandbox}/__sandbox/events"), None);
        let events: Value = serde_json::from_str(&events.body).unwrap();
        events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let field = |k: &str| e[k].as_str().unwrap().to_owned();
                (field("type"), field("delivery"))
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut delivered = listed();
    while delivered.iter().any(|(_, d)| d == "pending") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        delivered = listed();
    }
    let delivered: Vec<(&str, &str)> = delivered
        .iter()
        .map(|(t, d)| (t.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        delivered,
        [
            ("checkout.session.completed", "delivered"),
            ("message", "delivered")
        ]
    );
    assert!(!serve.log().contains(secret));
    assert!(
        !serve
            .log()
            .contains(flowstep_sandbox::SANDBOX_WHATSAPP_APP_SECRET)
    );
}

/// `flowstep sandbox --addr 127.0.0.1:0 ARGS` with `env`, and its base URL once it listens.
pub(crate) fn start_sandbox(dir: &Scratch, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = flowstep(dir.path());
    cmd.args(["sandbox", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    (child, url)
}

#[test]
fn a_standalone_sandbox_forwards_to_a_server_with_the_same_secrets() {
    let dir = Scratch::new();
    let env = [
        (
            "STRIPE_WEBHOOK_SECRET",
            "whsec_flowstep_test_standalone_0123",
        ),
        ("WHATSAPP_APP_SECRET", "meta_app_secret_standalone_test"),
    ];
    let serve = Serve::start(dir.path(), &["-v"], &env);
    let (mut sandbox, url) =
        start_sandbox(&dir, &["--forward-to", &format!("{}/", serve.url)], &env);
    let session = pay_a_session(&url);
    let (code, stdout, stderr) = say(&dir, &["--to", &url, "--from", "+919812345678", "hi"]);
    assert_eq!(code, 0, "{stderr}");
    let event = wait_for_event(&serve, "stripe", |e| {
        e["payload"]["data"]["object"]["id"] == session.as_str()
    });
    assert_eq!(event["event_type"], "checkout.session.completed");
    let message = wait_for_event(&serve, "whatsapp", |e| e["event_id"] == stdout.trim());
    let value = &message["payload"]["entry"][0]["changes"][0]["value"];
    assert_eq!(
        value["contacts"][0]["profile"]["name"],
        flowstep_sandbox::DEFAULT_CUSTOMER_NAME
    );
    let _ = sandbox.kill();
    let _ = sandbox.wait();
}

#[test]
fn a_sandbox_without_a_receiver_says_so_and_say_reports_bad_arguments_and_no_sandbox() {
    let dir = Scratch::new();
    let (mut sandbox, url) = start_sandbox(&dir, &[], &[]);
    let (code, stdout, stderr) = say(&dir, &["--to", &url, "--from", "919812345678", "hi"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.trim().starts_with("wamid."), "{stdout}");
    assert!(stderr.contains("forwards its events to nobody"), "{stderr}");
    let _ = sandbox.kill();
    let _ = sandbox.wait();

    for (args, says) in [
        (
            vec!["--to", &url, "--from", "98-12", "hi"],
            "--from \"98-12\": give the customer's WhatsApp number",
        ),
        (
            vec!["--to", &url, "--from", "919812345678", "  "],
            "the message text is empty",
        ),
        (
            vec!["--to", "127.0.0.1:1", "--from", "919812345678", "hi"],
            "--to: \"127.0.0.1:1\" is not",
        ),
        (vec!["--to", &url, "hi"], "--from"),
    ] {
        let (code, _, stderr) = say(&dir, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }

    // The sandbox is gone: nothing listens at its address any more.
    let (code, _, stderr) = say(&dir, &["--to", &url, "--from", "919812345678", "hi"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("error: cannot reach the sandbox at {url}")),
        "{stderr}"
    );

    let out = flowstep(dir.path())
        .args([
            "sandbox",
            "--addr",
            "127.0.0.1:0",
            "--forward-to",
            "ftp://x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: --forward-to: \"ftp://x\" is not an http(s) URL"),
        "{stderr}"
    );
    // --forward-faults takes a fraction, and only where events are forwarded.
    for (args, says) in [
        (
            &[
                "sandbox",
                "--forward-to",
                "http://127.0.0.1:9",
                "--forward-faults",
                "1.5",
            ][..],
            "from 0 to 1",
        ),
        (
            &[
                "sandbox",
                "--forward-to",
                "http://127.0.0.1:9",
                "--forward-faults",
                "ten",
            ][..],
            "is not a number",
        ),
        (&["sandbox", "--forward-faults", "0.1"][..], "--forward-to"),
        (&["serve", "--forward-faults", "0.1"][..], "--sandbox"),
    ] {
        let out = flowstep(dir.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
