//! End-to-end tests of the events the sandbox sends: a receiver the test starts on loopback
//! (a tiny axum server that records every request and answers what the test tells it)
//! gets each event, signed so that the verifiers of `flowstep-webhook-signature` (the ones
//! `flowstep serve` uses) accept it, again after failures, and in order where it matters.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use flowstep_sandbox::{
    DeliveryState, Forwarding, RetrySchedule, SANDBOX_RAZORPAY_KEY_ID, SANDBOX_RAZORPAY_KEY_SECRET,
    SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN, Sandbox,
    WebhookSecrets,
};
use flowstep_webhook_signature::{razorpay, stripe, whatsapp};
use serde_json::{Value, json};

/// Secrets of the test's own, so that a signature made with the sandbox's defaults fails.
fn secrets() -> WebhookSecrets {
    WebhookSecrets {
        stripe: "whsec_test_events_0123456789".into(),
        razorpay: "razorpay_test_events_secret".into(),
        whatsapp: "meta_test_events_app_secret".into(),
    }
}

/// Fast retries, for tests.
fn fast() -> RetrySchedule {
    RetrySchedule {
        attempts: 5,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Checks the signature as `flowstep serve` does, with the test's secrets.
    fn verified(&self) -> bool {
        let s = secrets();
        let ok = match self.path.as_str() {
            "/hooks/webhooks/stripe" => stripe::verify(
                self.header(stripe::HEADER),
                &self.body,
                &s.stripe,
                SystemTime::now(),
                stripe::DEFAULT_TOLERANCE,
            ),
            "/hooks/webhooks/razorpay" => {
                razorpay::verify(self.header(razorpay::HEADER), &self.body, &s.razorpay)
            }
            "/hooks/webhooks/whatsapp" => {
                whatsapp::verify(self.header(whatsapp::HEADER), &self.body, &s.whatsapp)
            }
            other => panic!("a request to {other}"),
        };
        ok.is_ok()
    }
}

#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; 200 once it is empty.
    answers: Mutex<VecDeque<u16>>,
}

async fn record(
    State(r): State<Arc<Receiver>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    r.got.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// Serves a receiver on `listener`; its base URL is `http://ADDR/hooks`.
fn serve(listener: tokio::net::TcpListener, receiver: Arc<Receiver>) {
    let app = Router::new()
        .route("/hooks/webhooks/{provider}", post(record))
        .with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await });
}

async fn receiver() -> (Arc<Receiver>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let r = Arc::new(Receiver::default());
    serve(listener, r.clone());
    (r, url)
}

async fn sandbox(forward_to: Option<&str>) -> (Sandbox, reqwest::Client) {
    let sb = Sandbox::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    if let Some(url) = forward_to {
        sb.forward_to(Some(Forwarding {
            base_url: url.to_owned(),
            secrets: secrets(),
            retry: fast(),
            faults: Default::default(),
        }));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (sb, client)
}

/// Waits (at most 10 s) until the receiver got `n` requests; returns them.
async fn wait_for(r: &Receiver, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = r.got.lock().unwrap().clone();
        if got.len() >= n || Instant::now() > deadline {
            assert_eq!(got.len(), n, "requests received: {got:#?}");
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every event the sandbox lists has its delivery over; returns them.
async fn settled(sb: &Sandbox) -> Vec<flowstep_sandbox::SentEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = sb.events();
        if events.iter().all(|e| e.delivery != DeliveryState::Pending) || Instant::now() > deadline
        {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const SESSION: &str = "mode=payment\
&line_items[0][price_data][currency]=inr\
&line_items[0][price_data][product_data][name]=Blue%20T-shirt\
&line_items[0][price_data][unit_amount]=50000\
&line_items[0][quantity]=1\
&success_url=https://example.com/ok";

async fn create_session(client: &reqwest::Client, sb: &Sandbox) -> Value {
    let resp = client
        .post(format!("{}/v1/checkout/sessions", sb.base_url()))
        .bearer_auth(SANDBOX_SECRET_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(SESSION)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn status_of(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn paying_a_session_sends_a_signed_checkout_session_completed() {
    let (r, url) = receiver().await;
    let (sb, client) = sandbox(Some(&url)).await;
    let session = create_session(&client, &sb).await;
    let id = session["id"].as_str().unwrap();
    let page = format!("{}/c/pay/{id}", sb.base_url());
    assert_eq!(status_of(client.post(&page)).await, 200);
    // Paying again changes nothing and sends nothing.
    assert_eq!(status_of(client.post(&page)).await, 200);

    let got = wait_for(&r, 1).await;
    let hook = &got[0];
    assert_eq!(hook.path, "/hooks/webhooks/stripe");
    assert!(hook.verified(), "the server's verifier accepts it");
    assert_eq!(
        hook.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let event = hook.json();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"), "{event}");
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["livemode"], false);
    assert!(event["created"].as_i64().unwrap() > 1_700_000_000);
    assert!(event["api_version"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(
        event["request"],
        json!({"id": null, "idempotency_key": null})
    );
    let object = &event["data"]["object"];
    assert_eq!(object["id"], id);
    assert_eq!(object["payment_status"], "paid");
    assert_eq!(object["status"], "complete");
    assert_eq!(object["amount_total"], 50000);
    // `data.object` is the session as stored: what a retrieve answers now.
    let stored: Value = client
        .get(format!("{}/v1/checkout/sessions/{id}", sb.base_url()))
        .bearer_auth(SANDBOX_SECRET_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(object, &stored);

    // The listing says what was sent and how.
    let listed: Value = client
        .get(format!("{}/__sandbox/events", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], event["id"]);
    assert_eq!(listed[0]["provider"], "stripe");
    assert_eq!(listed[0]["type"], "checkout.session.completed");
    assert_eq!(listed[0]["delivery"], "delivered");
    assert_eq!(listed[0]["url"], format!("{url}/webhooks/stripe"));
    assert_eq!(listed[0]["attempts"][0]["status"], 200);
}

#[tokio::test]
async fn expiring_a_session_sends_checkout_session_expired_once() {
    let (r, url) = receiver().await;
    let (sb, client) = sandbox(Some(&url)).await;
    let session = create_session(&client, &sb).await;
    let id = session["id"].as_str().unwrap();
    let expire = || {
        client
            .post(format!(
                "{}/v1/checkout/sessions/{id}/expire",
                sb.base_url()
            ))
            .bearer_auth(SANDBOX_SECRET_KEY)
            .header("Idempotency-Key", "expire-1")
    };
    assert_eq!(status_of(expire()).await, 200);
    // A replay of the same request sends nothing more.
    assert_eq!(status_of(expire()).await, 200);
    let got = wait_for(&r, 1).await;
    assert!(got[0].verified());
    let event = got[0].json();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], id);
    assert_eq!(event["data"]["object"]["status"], "expired");
    assert_eq!(event["data"]["object"]["url"], Value::Null);
    assert_eq!(event["request"]["idempotency_key"], "expire-1");
    assert!(event["request"]["id"].as_str().unwrap().starts_with("req_"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn paying_a_razorpay_link_sends_a_signed_payment_link_paid() {
    let (r, url) = receiver().await;
    let (sb, client) = sandbox(Some(&url)).await;
    let link: Value = client
        .post(format!("{}/v1/payment_links", sb.base_url()))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .json(&json!({"amount": 50000, "currency": "INR", "reference_id": "order-42"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let short_url = link["short_url"].as_str().unwrap();
    assert_eq!(status_of(client.post(short_url)).await, 200);

    let got = wait_for(&r, 1).await;
    let hook = &got[0];
    assert_eq!(hook.path, "/hooks/webhooks/razorpay");
    assert!(hook.verified());
    let event_id = hook.header(razorpay::EVENT_ID_HEADER).unwrap();
    assert!(!event_id.is_empty());
    let event = hook.json();
    assert_eq!(event["entity"], "event");
    assert_eq!(event["event"], "payment_link.paid");
    assert_eq!(
        event["contains"],
        json!(["payment_link", "order", "payment"])
    );
    let paid = &event["payload"]["payment_link"]["entity"];
    assert_eq!(paid["id"], link["id"]);
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_paid"], 50000);
    assert_eq!(paid["reference_id"], "order-42");
    let payment = &event["payload"]["payment"]["entity"];
    assert_eq!(payment["status"], "captured");
    assert_eq!(payment["id"], paid["payments"][0]["payment_id"]);
    assert_eq!(
        payment["order_id"],
        event["payload"]["order"]["entity"]["id"]
    );
    assert_eq!(sb.events()[0].id, event_id);
}

#[tokio::test]
async fn whatsapp_messages_get_sent_then_delivered_and_inbound_messages_are_forwarded() {
    let (r, url) = receiver().await;
    let (sb, client) = sandbox(Some(&url)).await;
    // The customer wrote a minute ago: free-form messages are inside the 24-hour window.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    sb.set_last_inbound("919812345678", now - 60);
    let mut wamids = Vec::new();
    for text in ["first", "second"] {
        let answer: Value = client
            .post(format!(
                "{}/v21.0/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages",
                sb.base_url()
            ))
            .bearer_auth(SANDBOX_WHATSAPP_TOKEN)
            .json(&json!({"messaging_product": "whatsapp", "to": "+919812345678", "type": "text", "text": {"body": text}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        wamids.push(answer["messages"][0]["id"].as_str().unwrap().to_owned());
    }
    let got = wait_for(&r, 4).await;
    let statuses: Vec<(String, String)> = got
        .iter()
        .map(|h| {
            assert_eq!(h.path, "/hooks/webhooks/whatsapp");
            assert!(h.verified());
            let value = &h.json()["entry"][0]["changes"][0]["value"];
            assert_eq!(
                value["metadata"]["phone_number_id"],
                SANDBOX_WHATSAPP_PHONE_NUMBER_ID
            );
            let s = &value["statuses"][0];
            assert_eq!(s["recipient_id"], "919812345678");
            assert!(s["timestamp"].as_str().unwrap().parse::<i64>().is_ok());
            (
                s["id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // One customer's events arrive in the order they happened.
    let expected: Vec<(String, String)> = wamids
        .iter()
        .flat_map(|w| [(w.clone(), "sent".into()), (w.clone(), "delivered".into())])
        .collect();
    assert_eq!(statuses, expected);

    let inbound = client
        .post(format!("{}/__sandbox/whatsapp/inbound", sb.base_url()))
        .json(&json!({"from": "919812345678", "name": "Asha", "text": "buy Blue T-shirt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(inbound.status(), 200);
    let inbound: Value = inbound.json().await.unwrap();
    let id = inbound["id"].as_str().unwrap();
    assert!(id.starts_with("wamid."), "{inbound}");
    assert_eq!(inbound["forwarded"], true);
    let got = wait_for(&r, 5).await;
    assert!(got[4].verified());
    let notification = got[4].json();
    assert_eq!(notification["object"], "whatsapp_business_account");
    let value = &notification["entry"][0]["changes"][0]["value"];
    assert_eq!(notification["entry"][0]["changes"][0]["field"], "messages");
    assert_eq!(
        value["contacts"],
        json!([{"profile": {"name": "Asha"}, "wa_id": "919812345678"}])
    );
    let message = &value["messages"][0];
    assert_eq!(message["from"], "919812345678");
    assert_eq!(message["id"], id);
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"], json!({"body": "buy Blue T-shirt"}));
    assert_eq!(message["timestamp"], inbound["timestamp"]);
    assert!(sb.last_inbound_at("919812345678").is_some());

    // A bad body is a 400 that says what is wrong, and sends nothing.
    let bad = client
        .post(format!("{}/__sandbox/whatsapp/inbound", sb.base_url()))
        .json(&json!({"from": "12", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("7 to 15 digits"),
        "{bad}"
    );
    assert_eq!(sb.events().len(), 5);
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_same_event_on_the_third_attempt() {
    let (r, url) = receiver().await;
    r.answers.lock().unwrap().extend([500, 503]);
    let (sb, client) = sandbox(Some(&url)).await;
    let session = create_session(&client, &sb).await;
    let page = format!(
        "{}/c/pay/{}",
        sb.base_url(),
        session["id"].as_str().unwrap()
    );
    // The page answers at once, whatever the receiver does.
    let started = Instant::now();
    assert_eq!(status_of(client.post(&page)).await, 200);
    assert!(started.elapsed() < Duration::from_secs(2));

    let got = wait_for(&r, 3).await;
    let ids: Vec<Value> = got.iter().map(|h| h.json()["id"].clone()).collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert!(
        got.iter().all(|h| h.body == got[0].body),
        "the same body each time"
    );
    assert!(
        got.iter().all(Received::verified),
        "each attempt signed afresh"
    );
    let events = settled(&sb).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].delivery, DeliveryState::Delivered);
    let statuses: Vec<Option<u16>> = events[0].attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_event_once_it_is_up() {
    // A port with nobody listening, then a receiver on it.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let url = format!("http://{addr}/hooks");
    let (sb, client) = sandbox(Some(&url)).await;
    let session = create_session(&client, &sb).await;
    let page = format!(
        "{}/c/pay/{}",
        sb.base_url(),
        session["id"].as_str().unwrap()
    );
    assert_eq!(status_of(client.post(&page)).await, 200);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let events = sb.events();
    assert_eq!(events[0].delivery, DeliveryState::Pending);
    assert!(events[0].attempts[0].error.is_some(), "{events:?}");

    let r = Arc::new(Receiver::default());
    serve(
        tokio::net::TcpListener::bind(addr).await.unwrap(),
        r.clone(),
    );
    let got = wait_for(&r, 1).await;
    assert!(got[0].verified());
    assert_eq!(got[0].json()["type"], "checkout.session.completed");
    let events = settled(&sb).await;
    assert_eq!(events[0].delivery, DeliveryState::Delivered);
    assert!(events[0].attempts.len() >= 2);
}

#[tokio::test]
async fn a_receiver_that_never_answers_2xx_is_given_up_on_after_the_schedule() {
    let (r, url) = receiver().await;
    r.answers.lock().unwrap().extend([400; 10]);
    let (sb, client) = sandbox(Some(&url)).await;
    let session = create_session(&client, &sb).await;
    let page = format!(
        "{}/c/pay/{}",
        sb.base_url(),
        session["id"].as_str().unwrap()
    );
    assert_eq!(status_of(client.post(&page)).await, 200);
    let events = settled(&sb).await;
    assert_eq!(events[0].delivery, DeliveryState::Failed);
    assert_eq!(events[0].attempts.len(), fast().attempts as usize);
    assert_eq!(r.got.lock().unwrap().len(), fast().attempts as usize);
}

#[tokio::test]
async fn without_a_receiver_events_are_listed_and_not_sent() {
    let (sb, client) = sandbox(None).await;
    let session = create_session(&client, &sb).await;
    let page = format!(
        "{}/c/pay/{}",
        sb.base_url(),
        session["id"].as_str().unwrap()
    );
    assert_eq!(status_of(client.post(&page)).await, 200);
    let inbound: Value = client
        .post(format!("{}/__sandbox/whatsapp/inbound", sb.base_url()))
        .json(&json!({"from": "+919812345678", "text": "hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbound["forwarded"], false);
    assert_eq!(inbound["name"], flowstep_sandbox::DEFAULT_CUSTOMER_NAME);
    let events = sb.events();
    let kinds: Vec<(&str, DeliveryState)> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.delivery))
        .collect();
    assert_eq!(
        kinds,
        [
            ("checkout.session.completed", DeliveryState::NotForwarded),
            ("message", DeliveryState::NotForwarded)
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.attempts.is_empty() && e.url.is_none())
    );
}

/// The id of the WhatsApp message a notification carries.
fn message_id(notification: &Value) -> String {
    notification["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn forward_faults_fail_attempts_as_seeded_and_every_event_still_arrives() {
    let (r, url) = receiver().await;
    let sb = Sandbox::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // Enough quick attempts that half failing never exhausts them.
    sb.forward_to(Some(Forwarding {
        retry: RetrySchedule {
            attempts: 30,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
        },
        secrets: secrets(),
        ..Forwarding::new(&url)
    }));
    let client = reqwest::Client::new();
    let admin = format!("{}/__sandbox/forward-faults", sb.base_url());
    for bad in [r#"{"rate": 1.5}"#, r#"{"rate": 0.1, "sed": 1}"#, "rate"] {
        let resp = client.post(&admin).body(bad).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let error: Value = resp.json().await.unwrap();
        assert!(
            error["error"]["message"].as_str().unwrap().contains("rate"),
            "{error}"
        );
    }
    let set = client
        .post(&admin)
        .body(r#"{"rate": 0.5, "seed": 11}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let now: Value = client
        .get(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now, json!({"rate": 0.5, "seed": 11}));

    // 24 customer messages from 6 customers (6 lanes delivered at once).
    let mut ids = Vec::new();
    for i in 0..24 {
        let answer: Value = client
            .post(format!("{}/__sandbox/whatsapp/inbound", sb.base_url()))
            .json(&json!({"from": format!("91981234567{}", i % 6), "text": format!("message {i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(answer["id"].as_str().unwrap().to_owned());
    }
    let events = settled(&sb).await;
    assert_eq!(events.len(), 24);
    let got = r.got.lock().unwrap().clone();
    let faults = flowstep_sandbox::DeliveryFaults {
        rate: 0.5,
        seed: 11,
    };
    let (mut dropped, mut lost) = (0, 0);
    for event in &events {
        assert_eq!(event.delivery, DeliveryState::Delivered, "{event:#?}");
        let (last, failed) = event.attempts.split_last().unwrap();
        assert_eq!(
            (last.status, &last.error, last.fault),
            (Some(200), &None, None)
        );
        for (n, attempt) in event.attempts.iter().enumerate() {
            // Which attempts failed is the seed's choice, whatever order lanes ran in.
            assert_eq!(
                attempt.fault,
                faults.decide(&event.id, n as u32 + 1),
                "{event:#?}"
            );
        }
        for attempt in failed {
            match attempt.fault {
                Some(flowstep_sandbox::InjectedFault::DropRequest) => {
                    dropped += 1;
                    assert_eq!(attempt.status, None);
                    assert!(
                        attempt
                            .error
                            .as_ref()
                            .unwrap()
                            .contains("connection dropped")
                    );
                }
                Some(flowstep_sandbox::InjectedFault::LoseResponse) => {
                    lost += 1;
                    assert_eq!(attempt.status, Some(200));
                    assert!(attempt.error.as_ref().unwrap().contains("was lost"));
                }
                None => panic!("an attempt failed without a fault: {event:#?}"),
            }
        }
        // The receiver saw the event once per attempt that was sent: at least once.
        let sent = event
            .attempts
            .iter()
            .filter(|a| a.fault != Some(flowstep_sandbox::InjectedFault::DropRequest))
            .count();
        let seen = got
            .iter()
            .filter(|g| g.verified() && message_id(&g.json()) == event.id)
            .count();
        assert_eq!(seen, sent, "{event:#?}");
    }
    assert!(dropped > 0 && lost > 0, "dropped {dropped}, lost {lost}");
    let mut listed: Vec<_> = events.iter().map(|e| e.id.clone()).collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);

    // Rate 0 stops the faults from the next attempt on.
    let off = client
        .post(&admin)
        .body(r#"{"rate": 0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    let before = r.got.lock().unwrap().len();
    client
        .post(format!("{}/__sandbox/whatsapp/inbound", sb.base_url()))
        .json(&json!({"from": "919812345670", "text": "again"}))
        .send()
        .await
        .unwrap();
    wait_for(&r, before + 1).await;
    let last = settled(&sb).await.pop().unwrap();
    assert_eq!(last.attempts.len(), 1);
}
