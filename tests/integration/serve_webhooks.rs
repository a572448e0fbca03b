//! Webhooks into `flowstep serve`, through the real binary on loopback with a real SQLite
//! file: signed Stripe, Razorpay and WhatsApp events are stored once (also when one delivery
//! is posted five times at once) and listed by `GET /v1/events`; every refused delivery (bad,
//! missing or garbled signature, wrong secret, tampered body, stale or future timestamp,
//! oversized body, not JSON) has its status and error code and stores nothing; an event
//! answered 200 is there after `kill -9` and a restart; an endpoint
//! whose secret is not set answers 404 and says why in the log, once.
//!
//! Signatures are made with `flowstep_server::webhooks::*::sign`, which the server's unit
//! tests pin to vectors computed with OpenSSL by the providers' documented algorithms; one
//! test signs with the `openssl` command exactly as docs/server.md shows.

use crate::raw_http::{self, Answer};
use crate::serve_support::{Serve, json_of};
use crate::support::Scratch;
use flowstep_server::webhooks::{razorpay, stripe, whatsapp};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

const STRIPE_SECRET: &str = "whsec_test_flowstep_webhooks_0123456789";
const RAZORPAY_SECRET: &str = "rzp_webhook_secret_flowstep_test";
const WHATSAPP_SECRET: &str = "meta_app_secret_flowstep_test_abcdef";
const VERIFY_TOKEN: &str = "verify-token-flowstep-test";

/// `flowstep -v serve` with every webhook secret set and a 4 KiB body limit.
fn serve_with_secrets(dir: &Scratch) -> Serve {
    Serve::start(
        dir.path(),
        &["-v", "--max-body-bytes", "4096"],
        &[
            ("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
            ("RAZORPAY_WEBHOOK_SECRET", RAZORPAY_SECRET),
            ("WHATSAPP_APP_SECRET", WHATSAPP_SECRET),
            ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
        ],
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn stripe_event(id: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now(),
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_test_a1", "object": "checkout.session", "payment_status": "paid", "amount_total": 50000}},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
    })
    .to_string()
}

/// `POST path` with `headers` and `body`, and no API token.
fn post(serve: &Serve, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    json_of(raw_http::request(
        "POST",
        &format!("{}{path}", serve.url),
        &all,
        body,
    ))
}

fn post_stripe(serve: &Serve, body: &str, signature: &str) -> (u16, Value) {
    post(
        serve,
        "/webhooks/stripe",
        &[("Stripe-Signature", signature)],
        body.as_bytes(),
    )
}

/// Every stored event of `provider` (`None`: all), newest first.
fn events(serve: &Serve, provider: Option<&str>) -> Vec<Value> {
    let query = provider
        .map(|p| format!("?provider={p}"))
        .unwrap_or_default();
    let (status, body) = serve.call("GET", &format!("/v1/events{query}"), None);
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn ids(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect()
}

#[test]
fn serve_webhooks_a_signed_stripe_event_is_stored_once_also_when_posted_five_times_at_once() {
    let dir = Scratch::new();
    let serve = serve_with_secrets(&dir);
    let body = stripe_event("evt_test_once");
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    // No API token: the signature is the authentication.
    let (status, answer) = post_stripe(&serve, &body, &signature);
    assert_eq!(
        (status, &answer),
        (200, &json!({"stored": 1, "duplicates": 0}))
    );
    let stored = events(&serve, Some("stripe"));
    assert_eq!(ids(&stored), ["evt_test_once"]);
    assert_eq!(stored[0]["provider"], "stripe");
    assert_eq!(stored[0]["event_type"], "checkout.session.completed");
    assert_eq!(
        stored[0]["payload"],
        serde_json::from_str::<Value>(&body).unwrap()
    );
    assert!(stored[0]["received_at"].as_str().unwrap().ends_with('Z'));

    // Another event, delivered five times at once (Stripe retries; a proxy duplicates).
    let body = stripe_event("evt_test_race");
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let posts: Vec<_> = (0..5)
            .map(|_| s.spawn(|| post_stripe(&serve, &body, &signature)))
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let stored_count: u64 = answers
        .iter()
        .map(|(_, b)| b["stored"].as_u64().unwrap())
        .sum();
    let duplicates: u64 = answers
        .iter()
        .map(|(_, b)| b["duplicates"].as_u64().unwrap())
        .sum();
    assert_eq!((stored_count, duplicates), (1, 4), "{answers:?}");
    assert_eq!(
        ids(&events(&serve, None)),
        ["evt_test_race", "evt_test_once"]
    );
    // The inbox is for operators: behind the token.
    let answer = raw_http::send("GET", &format!("{}/v1/events", serve.url), None);
    assert_eq!(answer.status, 401);
    let log = serve.log();
    assert!(log.contains("webhook event recorded"), "{log}");
    assert!(!log.contains(STRIPE_SECRET), "{log}");
}

#[test]
fn serve_webhooks_refused_deliveries_have_a_status_and_a_code_and_store_nothing() {
    let dir = Scratch::new();
    let serve = serve_with_secrets(&dir);
    let body = stripe_event("evt_test_refused");
    let t = now();
    let good = stripe::sign(body.as_bytes(), STRIPE_SECRET, t);
    let tampered = body.replace("\"paid\"", "\"unpaid\"");
    let zeros = format!("t={t},v1={}", "0".repeat(64));
    let wrong_secret = stripe::sign(body.as_bytes(), "whsec_someone_else", t);
    let stale = stripe::sign(body.as_bytes(), STRIPE_SECRET, t - 600);
    let future = stripe::sign(body.as_bytes(), STRIPE_SECRET, t + 600);
    let big = format!(
        r#"{{"id":"evt_big","type":"x","pad":"{}"}}"#,
        "x".repeat(5000)
    );
    let big_signature = stripe::sign(big.as_bytes(), STRIPE_SECRET, t);
    let not_json = "id=evt_form";
    let not_json_signature = stripe::sign(not_json.as_bytes(), STRIPE_SECRET, t);
    let no_id = r#"{"object":"event","type":"checkout.session.completed"}"#;
    let no_id_signature = stripe::sign(no_id.as_bytes(), STRIPE_SECRET, t);
    let cases: Vec<(&str, &str, Option<&str>, u16, &str)> = vec![
        ("bad signature", &body, Some(&zeros), 400, "bad_signature"),
        (
            "wrong secret",
            &body,
            Some(&wrong_secret),
            400,
            "bad_signature",
        ),
        (
            "tampered body",
            &tampered,
            Some(&good),
            400,
            "bad_signature",
        ),
        (
            "stale timestamp",
            &body,
            Some(&stale),
            400,
            "stale_timestamp",
        ),
        (
            "future timestamp",
            &body,
            Some(&future),
            400,
            "stale_timestamp",
        ),
        ("missing header", &body, None, 400, "missing_signature"),
        (
            "garbled header",
            &body,
            Some("v1=abc"),
            400,
            "malformed_signature",
        ),
        (
            "oversized body",
            &big,
            Some(&big_signature),
            413,
            "body_too_large",
        ),
        (
            "not JSON",
            not_json,
            Some(&not_json_signature),
            400,
            "invalid_json",
        ),
        (
            "no event id",
            no_id,
            Some(&no_id_signature),
            422,
            "invalid_event",
        ),
    ];
    for (what, body, signature, status, code) in cases {
        let headers: Vec<(&str, &str)> = signature
            .map(|s| vec![("Stripe-Signature", s)])
            .unwrap_or_default();
        let (got, answer) = post(&serve, "/webhooks/stripe", &headers, body.as_bytes());
        assert_eq!(got, status, "{what}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{what}: {answer}");
    }
    // The other providers' signatures, refused the same way.
    let rzp = r#"{"entity":"event","event":"payment_link.paid","payload":{}}"#;
    let rzp_wrong = razorpay::sign(rzp.as_bytes(), "not_the_secret");
    let (status, answer) = post(
        &serve,
        "/webhooks/razorpay",
        &[
            ("X-Razorpay-Signature", &rzp_wrong),
            ("x-razorpay-event-id", "evt_rzp_refused"),
        ],
        rzp.as_bytes(),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("bad_signature"))
    );
    let (status, answer) = post(
        &serve,
        "/webhooks/razorpay",
        &[("x-razorpay-event-id", "evt_rzp_refused")],
        rzp.as_bytes(),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("missing_signature"))
    );
    let wa = r#"{"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.REFUSED","type":"text","text":{"body":"hi"}}]}}]}]}"#;
    let wa_signature = whatsapp::sign(wa.as_bytes(), WHATSAPP_SECRET);
    let wa_tampered = wa.replace("hi", "buy");
    let (status, answer) = post(
        &serve,
        "/webhooks/whatsapp",
        &[("X-Hub-Signature-256", &wa_signature)],
        wa_tampered.as_bytes(),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("bad_signature"))
    );
    let (status, answer) = post(
        &serve,
        "/webhooks/whatsapp",
        &[("X-Hub-Signature-256", &wa_signature[7..])],
        wa.as_bytes(),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("malformed_signature"))
    );

    assert_eq!(events(&serve, None), Vec::<Value>::new(), "nothing stored");
    let log = serve.log();
    assert!(log.contains("webhook refused, nothing stored"), "{log}");
    for code in [
        "stale_timestamp",
        "bad_signature",
        "missing_signature",
        "body_too_large",
    ] {
        assert!(log.contains(code), "no log line for {code}:\n{log}");
    }
    for secret in [
        STRIPE_SECRET,
        RAZORPAY_SECRET,
        WHATSAPP_SECRET,
        VERIFY_TOKEN,
    ] {
        assert!(!log.contains(secret), "the log holds a secret:\n{log}");
    }
    // The valid delivery is still accepted after all that.
    let (status, _) = post_stripe(&serve, &body, &good);
    assert_eq!(status, 200);
    assert_eq!(ids(&events(&serve, None)), ["evt_test_refused"]);
}

#[test]
fn serve_webhooks_razorpay_and_whatsapp_events_are_stored_once_and_the_challenge_answered() {
    let dir = Scratch::new();
    let serve = serve_with_secrets(&dir);
    // Razorpay: de-duplicated by the x-razorpay-event-id header.
    let rzp = json!({
        "entity": "event", "account_id": "acc_test", "event": "payment_link.paid",
        "contains": ["payment_link", "order", "payment"],
        "payload": {"payment_link": {"entity": {"id": "plink_1", "status": "paid"}}},
        "created_at": now(),
    })
    .to_string();
    let signature = razorpay::sign(rzp.as_bytes(), RAZORPAY_SECRET);
    let headers = [
        ("X-Razorpay-Signature", signature.as_str()),
        ("x-razorpay-event-id", "evt_rzp_1"),
    ];
    for expected in [
        json!({"stored": 1, "duplicates": 0}),
        json!({"stored": 0, "duplicates": 1}),
    ] {
        let (status, answer) = post(&serve, "/webhooks/razorpay", &headers, rzp.as_bytes());
        assert_eq!((status, answer), (200, expected));
    }
    let (status, answer) = post(
        &serve,
        "/webhooks/razorpay",
        &[("X-Razorpay-Signature", signature.as_str())],
        rzp.as_bytes(),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("invalid_event"))
    );
    let stored = events(&serve, Some("razorpay"));
    assert_eq!(ids(&stored), ["evt_rzp_1"]);
    assert_eq!(stored[0]["event_type"], "payment_link.paid");

    // WhatsApp: one notification, two messages and two statuses of one outgoing message.
    let wa = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PN1"},
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": "919812345678"}],
        "messages": [
            {"from": "919812345678", "id": "wamid.IN1", "timestamp": "1733040000", "type": "text", "text": {"body": "buy Blue T-shirt"}},
            {"from": "919812345678", "id": "wamid.IN2", "timestamp": "1733040001", "type": "text", "text": {"body": "thanks"}}
        ],
        "statuses": [
            {"id": "wamid.OUT1", "status": "sent", "timestamp": "1733040002", "recipient_id": "919812345678"},
            {"id": "wamid.OUT1", "status": "delivered", "timestamp": "1733040003", "recipient_id": "919812345678"}
        ]
    }}]}]})
    .to_string();
    let signature = whatsapp::sign(wa.as_bytes(), WHATSAPP_SECRET);
    let headers = [("X-Hub-Signature-256", signature.as_str())];
    for expected in [
        json!({"stored": 4, "duplicates": 0}),
        json!({"stored": 0, "duplicates": 4}),
    ] {
        let (status, answer) = post(&serve, "/webhooks/whatsapp", &headers, wa.as_bytes());
        assert_eq!((status, answer), (200, expected));
    }
    let stored = events(&serve, Some("whatsapp"));
    assert_eq!(
        ids(&stored),
        [
            "wamid.OUT1:delivered",
            "wamid.OUT1:sent",
            "wamid.IN2",
            "wamid.IN1"
        ]
    );
    let first = &stored[3];
    assert_eq!(first["event_type"], "message");
    let value = &first["payload"]["entry"][0]["changes"][0]["value"];
    assert_eq!(value["messages"][0]["text"]["body"], "buy Blue T-shirt");
    assert_eq!(value["contacts"][0]["profile"]["name"], "Asha");
    assert_eq!(value["messages"].as_array().unwrap().len(), 1);
    assert_eq!(stored[0]["event_type"], "status.delivered");

    // Meta's subscription check.
    let url = |token: &str| {
        format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444",
            serve.url
        )
    };
    let answer: Answer = raw_http::send("GET", &url(VERIFY_TOKEN), None);
    assert_eq!((answer.status, answer.body.as_str()), (200, "1158201444"));
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let (status, answer) = json_of(raw_http::send("GET", &url("wrong-token"), None));
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (403, Some("verification_failed"))
    );
    let (status, _) = json_of(raw_http::send(
        "GET",
        &format!(
            "{}/webhooks/whatsapp?hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1",
            serve.url
        ),
        None,
    ));
    assert_eq!(status, 403);
    // Pages of the inbox.
    let (status, page) = serve.call("GET", "/v1/events?limit=2", None);
    assert_eq!(status, 200);
    assert_eq!(
        ids(page["events"].as_array().unwrap()),
        ["wamid.OUT1:delivered", "wamid.OUT1:sent"]
    );
    let next = page["next_cursor"].as_str().unwrap();
    let (_, page) = serve.call("GET", &format!("/v1/events?limit=2&cursor={next}"), None);
    assert_eq!(
        ids(page["events"].as_array().unwrap()),
        ["wamid.IN2", "wamid.IN1"]
    );
    for bad in ["?provider=paypal", "?limit=0", "?cursor=r1", "?colour=red"] {
        let (status, body) = serve.call("GET", &format!("/v1/events{bad}"), None);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}"
        );
    }
}

#[test]
fn serve_webhooks_unconfigured_endpoints_answer_404_and_say_why_once() {
    let dir = Scratch::new();
    let serve = Serve::start(dir.path(), &["-v"], &[]);
    let body = stripe_event("evt_unconfigured");
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    for _ in 0..2 {
        let (status, answer) = post_stripe(&serve, &body, &signature);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (404, Some("webhook_not_configured")),
            "{answer}"
        );
        assert_eq!(
            answer["error"]["message"],
            "POST /webhooks/stripe is not configured on this server: STRIPE_WEBHOOK_SECRET is not set in its environment"
        );
    }
    let (status, answer) = post(&serve, "/webhooks/razorpay", &[], b"{}");
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("webhook_not_configured"))
    );
    let (status, answer) = post(&serve, "/webhooks/whatsapp", &[], b"{}");
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("webhook_not_configured"))
    );
    let (status, answer) = json_of(raw_http::send(
        "GET",
        &format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1",
            serve.url
        ),
        None,
    ));
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("webhook_not_configured"))
    );
    assert_eq!(events(&serve, None), Vec::<Value>::new());
    // The server's stderr reaches the test through a reader thread: wait (5 s at most) until
    // every warning written has arrived, then count them.
    let names = [
        "STRIPE_WEBHOOK_SECRET",
        "RAZORPAY_WEBHOOK_SECRET",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
    ];
    let since = std::time::Instant::now();
    while !names
        .iter()
        .all(|n| serve.log().contains(&format!("{n} is not set")))
        && since.elapsed() < std::time::Duration::from_secs(5)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = serve.log();
    assert_eq!(
        log.matches("STRIPE_WEBHOOK_SECRET is not set").count(),
        1,
        "{log}"
    );
    for name in [
        "RAZORPAY_WEBHOOK_SECRET",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
    ] {
        assert_eq!(
            log.matches(&format!("{name} is not set")).count(),
            1,
            "{name}: {log}"
        );
    }
}

/// The recipe in docs/server.md: the signature made with the `openssl` command is accepted.
#[test]
fn serve_webhooks_a_stripe_signature_made_with_openssl_as_documented_is_accepted() {
    let dir = Scratch::new();
    let serve = serve_with_secrets(&dir);
    let body = stripe_event("evt_openssl");
    let t = now().to_string();
    let mut openssl = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", STRIPE_SECRET])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the openssl command runs");
    use std::io::Write;
    openssl
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{t}.{body}").as_bytes())
        .unwrap();
    let out = openssl.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // `SHA2-256(stdin)= <hex>` (or `(stdin)= <hex>` on older OpenSSL).
    let hex = text.rsplit(' ').next().unwrap().trim();
    let (status, answer) = post_stripe(&serve, &body, &format!("t={t},v1={hex}"));
    assert_eq!(
        (status, answer),
        (200, json!({"stored": 1, "duplicates": 0}))
    );
}

/// `200` means durable: an event answered `200` is there after `kill -9` and a restart, and
/// its re-delivery to the new process is a duplicate.
#[test]
fn serve_webhooks_an_accepted_event_survives_kill_9_and_its_redelivery_is_a_duplicate() {
    let dir = Scratch::new();
    let serve = serve_with_secrets(&dir);
    let body = stripe_event("evt_durable");
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    let (status, _) = post_stripe(&serve, &body, &signature);
    assert_eq!(status, 200);
    serve.kill9();
    let serve = serve_with_secrets(&dir);
    assert_eq!(ids(&events(&serve, None)), ["evt_durable"]);
    let (status, answer) = post_stripe(&serve, &body, &signature);
    assert_eq!(
        (status, answer),
        (200, json!({"stored": 0, "duplicates": 1}))
    );
    assert_eq!(ids(&events(&serve, None)), ["evt_durable"]);
}
