//! The whole conversation offline, through the real binaries on loopback with a real SQLite
//! file and the sandbox playing Stripe, WhatsApp and the customer: "buy Blue T-shirt" starts
//! the conversation preset, which sends a payment link and waits; paying on the sandbox's page
//! sends the signed webhook, and the customer's chat gets "Payment received", each message
//! once and in order. Also across a `kill -9` of the server while the run waits (the customer
//! pays while it is down; the sandbox retries), a re-delivered inbound message (one run), 200
//! customers at once with one webhook delivery in ten failing (each gets one link and one
//! "Payment received", one session each), and triggers' positioned errors.

use crate::raw_http;
use crate::sandbox_events::{sandbox_url, start_sandbox};
use crate::serve_support::{Serve, json_of};
use crate::support::{Scratch, run};
use flowstep_server::webhooks::whatsapp;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const EXAMPLE: &str = include_str!("../../flows/examples/whatsapp-order-conversation.yaml");

/// A flows directory holding the conversation preset.
fn flows(dir: &Scratch) -> String {
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write("flows/whatsapp-order-conversation.yaml", EXAMPLE);
    dir.path().join("flows").to_str().unwrap().to_owned()
}

/// What the sandbox's WhatsApp inbox holds for `to`, in order.
fn inbox(sandbox: &str, to: &str) -> Vec<String> {
    let answer = raw_http::send(
        "GET",
        &format!("{sandbox}/__sandbox/whatsapp/messages"),
        None,
    );
    let all: Value = serde_json::from_str(&answer.body).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"] == to)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits (at most 20 s) until `to`'s inbox has `n` messages.
fn inbox_of(sandbox: &str, to: &str, n: usize, log: impl Fn() -> String) -> Vec<String> {
    let start = Instant::now();
    loop {
        let messages = inbox(sandbox, to);
        if messages.len() >= n {
            return messages;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{to} has {messages:?}, waiting for {n}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The customer writes `text` (through the sandbox, which signs and forwards it).
fn say(sandbox: &str, from: &str, text: &str) -> String {
    let body = json!({"from": from, "name": "Asha", "text": text}).to_string();
    let (status, answer) = json_of(raw_http::request(
        "POST",
        &format!("{sandbox}/__sandbox/whatsapp/inbound"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    ));
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().unwrap().to_owned()
}

/// Pays the Checkout Session the link in `message` opens.
fn pay(sandbox: &str, message: &str) {
    let id = message
        .split("/c/pay/")
        .nth(1)
        .and_then(|rest| rest.split(['#', '.', ' ']).next())
        .unwrap_or_else(|| panic!("no payment link in {message:?}"));
    let paid = raw_http::send("POST", &format!("{sandbox}/c/pay/{id}"), None);
    assert_eq!(paid.status, 200, "{}", paid.body);
}

/// The conversation runs, newest first.
fn runs(serve: &Serve) -> Vec<Value> {
    let (status, body) = serve.call("GET", "/v1/runs?flow=whatsapp-order-conversation", None);
    assert_eq!(status, 200, "{body}");
    body["runs"].as_array().unwrap().clone()
}

fn until_status(serve: &Serve, run_id: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let run = serve.run(run_id);
        if run["status"] == status {
            return run;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "run {run_id} is not {status}: {run}\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn conversation_buy_pay_and_payment_received_offline() {
    let dir = Scratch::new();
    let flows = flows(&dir);
    let serve = Serve::start(dir.path(), &["--sandbox", "--flows", &flows], &[]);
    let sandbox = sandbox_url(&serve);
    let customer = "919812345678";
    say(&sandbox, customer, "buy Blue T-shirt");
    let link = inbox_of(&sandbox, customer, 1, || serve.log());
    assert!(
        link[0].starts_with("Please complete your payment here: "),
        "{link:?}"
    );
    let started = runs(&serve);
    assert_eq!(started.len(), 1, "{started:?}");
    let run_id = started[0]["run_id"].as_str().unwrap().to_owned();
    assert!(run_id.starts_with("wa_"), "{run_id}");
    let run = until_status(&serve, &run_id, "waiting");
    assert_eq!(run["to"], customer);
    assert_eq!(run["inputs"]["product_name"], "Blue T-shirt");
    assert_eq!(run["inputs"]["customer_name"], "Asha");
    assert_eq!(run["waiting_for"]["step"], "await_payment");

    pay(&sandbox, &link[0]);
    let run = serve.wait_for_end(&run_id, Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "{run}");
    let chat = inbox_of(&sandbox, customer, 2, || serve.log());
    assert_eq!(chat.len(), 2, "each message once: {chat:?}");
    assert_eq!(chat[0], link[0]);
    assert_eq!(
        chat[1],
        "Payment received: Rs 500 for Blue T-shirt. Thank you, Asha! Your order ships tomorrow."
    );
    // A message that matches no trigger starts nothing.
    say(&sandbox, customer, "hello");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(runs(&serve).len(), 1);
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn conversation_survives_kill_9_in_the_wait_and_a_payment_made_while_the_server_is_down() {
    let dir = Scratch::new();
    let flows = flows(&dir);
    let env = [
        (
            "STRIPE_WEBHOOK_SECRET",
            "whsec_flowstep_test_crash_in_wait_0123",
        ),
        ("WHATSAPP_APP_SECRET", "meta_app_secret_crash_in_wait_test"),
        ("STRIPE_SECRET_KEY", flowstep_sandbox::SANDBOX_SECRET_KEY),
        ("WHATSAPP_TOKEN", flowstep_sandbox::SANDBOX_WHATSAPP_TOKEN),
        (
            "WHATSAPP_PHONE_NUMBER_ID",
            flowstep_sandbox::SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
        ),
    ];
    let addr = format!("127.0.0.1:{}", free_port());
    let (mut sandbox_process, sandbox) =
        start_sandbox(&dir, &["--forward-to", &format!("http://{addr}")], &env);
    let stripe = format!("https://api.stripe.com={sandbox}");
    let graph = format!("https://graph.facebook.com={sandbox}");
    let args = [
        "--addr",
        &addr,
        "--flows",
        &flows,
        "--channel",
        "whatsapp",
        "--route",
        &stripe,
        "--route",
        &graph,
    ];
    let serve = Serve::start(dir.path(), &args, &env);
    let customer = "919800000001";
    say(&sandbox, customer, "BUY Green Mug");
    let link = inbox_of(&sandbox, customer, 1, || serve.log());
    let run_id = runs(&serve)[0]["run_id"].as_str().unwrap().to_owned();
    until_status(&serve, &run_id, "waiting");

    serve.kill9();
    // The customer pays while the server is down: the sandbox's delivery fails and is retried.
    pay(&sandbox, &link[0]);
    std::thread::sleep(Duration::from_millis(1500));
    let serve = Serve::start(dir.path(), &args, &env);
    let run = serve.wait_for_end(&run_id, Duration::from_secs(60));
    assert_eq!(run["status"], "succeeded", "{run}");
    let chat = inbox_of(&sandbox, customer, 2, || serve.log());
    assert_eq!(chat.len(), 2, "each message once: {chat:?}");
    assert!(
        chat[1].starts_with("Payment received: Rs 500 for Green Mug."),
        "{chat:?}"
    );
    // One session was created for the conversation.
    let auth = format!("Bearer {}", flowstep_sandbox::SANDBOX_SECRET_KEY);
    let (_, sessions) = json_of(raw_http::request(
        "GET",
        &format!("{sandbox}/v1/checkout/sessions?limit=100"),
        &[("Authorization", &auth)],
        b"",
    ));
    assert_eq!(sessions["data"].as_array().unwrap().len(), 1, "{sessions}");
    let _ = sandbox_process.kill();
    let _ = sandbox_process.wait();
}

#[test]
fn conversation_a_redelivered_inbound_message_starts_one_run() {
    let dir = Scratch::new();
    let flows = flows(&dir);
    let secret = "meta_app_secret_redelivery_test_0001";
    let serve = Serve::start(
        dir.path(),
        &["--flows", &flows],
        &[
            ("WHATSAPP_APP_SECRET", secret),
            ("STRIPE_SECRET_KEY", flowstep_sandbox::SANDBOX_SECRET_KEY),
        ],
    );
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "100000000000002", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000001", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "Ravi"}, "wa_id": "919811111111"}],
        "messages": [{"from": "919811111111", "id": "wamid.redelivered1", "timestamp": "1764547200", "type": "text", "text": {"body": "buy  Red Cap "}}]
    }}]}]})
    .to_string();
    let signature = whatsapp::sign(body.as_bytes(), secret);
    let posts: Vec<_> = (0..5)
        .map(|_| {
            let (url, body, signature) = (serve.url.clone(), body.clone(), signature.clone());
            std::thread::spawn(move || {
                raw_http::request(
                    "POST",
                    &format!("{url}/webhooks/whatsapp"),
                    &[("X-Hub-Signature-256", &signature)],
                    body.as_bytes(),
                )
                .status
            })
        })
        .collect();
    for p in posts {
        assert_eq!(p.join().unwrap(), 200);
    }
    let all = runs(&serve);
    assert_eq!(all.len(), 1, "{all:?}");
    let run = serve.run(all[0]["run_id"].as_str().unwrap());
    assert_eq!(run["inputs"]["product_name"], "Red Cap");
    assert_eq!(run["inputs"]["customer_name"], "Ravi");
    assert_eq!(run["to"], "919811111111");
}

#[test]
fn check_points_at_a_triggers_mistakes() {
    let dir = Scratch::new();
    let flow = dir.write(
        "bad.yaml",
        "flow: bad\ntriggers:\n  - whatsapp: { text: '^buy (?P<item>.+' }\n  - whatsapp: { text: '^buy (?P<item>.+)$' }\n  - sms: { text: x }\ninputs:\n  product: { type: string }\nsteps:\n  - id: m\n    type: message\n    text: hi\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    for expected in [
        "error[E010]: `text` is not a regular expression",
        "bad.yaml:3:23",
        "is not a regular expression: unclosed group",
        "error[E010]: the capture `item` fills no input",
        "error[E010]: input `product` has no default, and this trigger does not fill it",
        "bad.yaml:4:23",
        "unknown key `sms`",
    ] {
        assert!(out.stderr.contains(expected), "{expected}:\n{}", out.stderr);
    }
    // The sender's number and name come from WhatsApp, never from the message's text.
    let flow = dir.write(
        "spoof.yaml",
        "flow: spoof\ntriggers:\n  - whatsapp: { text: '^track (?P<customer_phone>\\d+)$' }\ninputs:\n  customer_phone: { type: string }\nsteps:\n  - id: m\n    type: message\n    text: hi\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    for expected in [
        "error[E010]: the capture `customer_phone` would let the message's text stand in for the sender",
        "spoof.yaml:3:23",
    ] {
        assert!(out.stderr.contains(expected), "{expected}:\n{}", out.stderr);
    }
}

/// Every message in the sandbox's WhatsApp inbox, by customer.
fn inboxes(sandbox: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let answer = raw_http::send(
        "GET",
        &format!("{sandbox}/__sandbox/whatsapp/messages"),
        None,
    );
    let all: Value = serde_json::from_str(&answer.body).unwrap();
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in all.as_array().unwrap() {
        by.entry(m["to"].as_str().unwrap().to_owned())
            .or_default()
            .push(m["text"].as_str().unwrap().to_owned());
    }
    by
}

/// Waits (at most `limit`) until `done` holds for the inboxes.
fn until_inboxes(
    sandbox: &str,
    limit: Duration,
    done: impl Fn(&std::collections::BTreeMap<String, Vec<String>>) -> bool,
    log: impl Fn() -> String,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let start = Instant::now();
    loop {
        let by = inboxes(sandbox);
        if done(&by) {
            return by;
        }
        assert!(
            start.elapsed() < limit,
            "not done after {limit:?}: {} customers, {} messages\n{}",
            by.len(),
            by.values().map(Vec::len).sum::<usize>(),
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn conversation_200_customers_at_once_with_10_percent_delivery_faults_each_get_one_link_and_one_payment_received()
 {
    const N: usize = 200;
    let dir = Scratch::new();
    let flows = flows(&dir);
    // One webhook delivery in ten fails (half never sent, half sent and its answer lost, so
    // the server sees it twice); the sandbox retries as the providers do.
    let serve = Serve::start(
        dir.path(),
        &["--sandbox", "--forward-faults", "0.1", "--flows", &flows],
        &[],
    );
    let sandbox = sandbox_url(&serve);
    let customers: Vec<String> = (0..N).map(|i| format!("9198{i:08}")).collect();
    // Everyone writes at once (from 8 threads).
    let chunks: Vec<Vec<String>> = customers.chunks(N / 8).map(<[String]>::to_vec).collect();
    let writers: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let sandbox = sandbox.clone();
            std::thread::spawn(move || {
                for c in chunk {
                    say(&sandbox, &c, "buy Blue T-shirt");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let links = until_inboxes(
        &sandbox,
        Duration::from_secs(120),
        |by| by.len() == N && by.values().all(|m| !m.is_empty()),
        || serve.log(),
    );
    // Everyone pays at once.
    let payers: Vec<_> = links
        .values()
        .cloned()
        .collect::<Vec<_>>()
        .chunks(N / 8)
        .map(<[Vec<String>]>::to_vec)
        .map(|chunk| {
            let sandbox = sandbox.clone();
            std::thread::spawn(move || {
                for messages in chunk {
                    pay(&sandbox, &messages[0]);
                }
            })
        })
        .collect();
    for p in payers {
        p.join().unwrap();
    }
    let chats = until_inboxes(
        &sandbox,
        Duration::from_secs(180),
        |by| by.values().filter(|m| m.len() >= 2).count() == N,
        || serve.log(),
    );
    for (customer, messages) in &chats {
        assert_eq!(messages.len(), 2, "{customer}: {messages:?}");
        assert!(
            messages[0].starts_with("Please complete your payment here: "),
            "{customer}: {messages:?}"
        );
        assert!(
            messages[1].starts_with("Payment received: Rs 500"),
            "{customer}: {messages:?}"
        );
    }
    // One session per conversation, every run succeeded.
    let auth = format!("Bearer {}", flowstep_sandbox::SANDBOX_SECRET_KEY);
    let mut sessions = 0;
    let mut after: Option<String> = None;
    loop {
        let page = after
            .as_ref()
            .map(|a| format!("&starting_after={a}"))
            .unwrap_or_default();
        let (_, body) = json_of(raw_http::request(
            "GET",
            &format!("{sandbox}/v1/checkout/sessions?limit=100{page}"),
            &[("Authorization", &auth)],
            b"",
        ));
        let data = body["data"].as_array().unwrap();
        sessions += data.len();
        if body["has_more"] != true || data.is_empty() {
            break;
        }
        after = data.last().unwrap()["id"].as_str().map(str::to_owned);
    }
    assert_eq!(sessions, N);
    let (_, body) = serve.call(
        "GET",
        "/v1/runs?flow=whatsapp-order-conversation&status=succeeded&limit=1000",
        None,
    );
    assert_eq!(body["runs"].as_array().unwrap().len(), N);
    // The faults happened, and were retried.
    let events = raw_http::send("GET", &format!("{sandbox}/__sandbox/events"), None);
    let events: Value = serde_json::from_str(&events.body).unwrap();
    let faulted = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["attempts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|t| !t["fault"].is_null()))
        })
        .count();
    assert!(faulted > 20, "only {faulted} events met a fault");
}
