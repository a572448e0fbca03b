//! The example flows in `flows/examples/`, which compose the presets the way a chat backend
//! would, run end to end against one sandbox: what reaches the customer on WhatsApp is checked.

use crate::raw_http;
use crate::support::{Run, Scratch, TestSandbox, flowstep};
use flowstep_sandbox::{
    SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN,
};
use std::path::Path;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("flows/examples")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// Runs `args` with Stripe and Graph routed to `sb` and the given Stripe key.
fn run_on(sb: &TestSandbox, dir: &Scratch, stripe_key: &str, args: &[&str]) -> Run {
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", stripe_key)
        .env("WHATSAPP_TOKEN", SANDBOX_WHATSAPP_TOKEN)
        .env("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID)
        .args(args)
        .args([
            "--route",
            &sb.route(),
            "--route",
            &format!("https://graph.facebook.com={}", sb.url()),
            "--output",
            "json",
        ])
        .output()
        .unwrap()
        .into()
}

fn order(sb: &TestSandbox, dir: &Scratch, stripe_key: &str) -> Run {
    order_with(sb, dir, stripe_key, &[])
}

/// [`order`] with `extra` arguments.
fn order_with(sb: &TestSandbox, dir: &Scratch, stripe_key: &str, extra: &[&str]) -> Run {
    let file = example("order-payment-link-whatsapp.yaml");
    let phone_number_id = format!("phone_number_id={SANDBOX_WHATSAPP_PHONE_NUMBER_ID}");
    let mut args = vec![
        "run",
        &file,
        "--var",
        "order_id=A-1042",
        "--var",
        "product_name=Blue kurta",
        "--var",
        "amount_rupees=1299.50",
        "--var",
        "customer_phone=+919000090000",
        "--var",
        &phone_number_id,
        "--var",
        "success_url=https://shop.example/thanks",
    ];
    args.extend(extra);
    run_on(sb, dir, stripe_key, &args)
}

/// On the WhatsApp channel too, the customer gets one message with the link: the preset's
/// own message is suppressed, not sent beside the example's.
#[test]
fn an_order_on_the_whatsapp_channel_sends_exactly_one_link_message() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = order_with(
        &sb,
        &dir,
        SANDBOX_SECRET_KEY,
        &["--channel", "whatsapp", "--to", "+919000090000"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let url = v["steps"][0]["outputs"]["payment_url"].as_str().unwrap();
    let received = sb.sandbox.whatsapp_messages();
    let with_link: Vec<_> = received.iter().filter(|m| m.text.contains(url)).collect();
    assert_eq!(with_link.len(), 1, "{received:?}");
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(v["messages"], serde_json::json!([]));
    assert_eq!(v["steps"][0]["messages_suppressed"][0]["step"], "send_link");
}

#[test]
fn an_order_gets_its_payment_link_on_whatsapp() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = order(&sb, &dir, SANDBOX_SECRET_KEY);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["outputs"]["link_sent"], true);
    let url = v["steps"][0]["outputs"]["payment_url"].as_str().unwrap();
    let session =
        &crate::support::step_record(&v["steps"][0], "create_session")["response"]["body"];
    assert_eq!(session["amount_total"], 129950, "minor_units made paise");
    assert_eq!(session["client_reference_id"], "A-1042");
    assert_eq!(session["metadata"]["order_id"], "A-1042");
    let received = sb.sandbox.whatsapp_messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, "+919000090000");
    assert_eq!(
        received[0].text,
        format!(
            "Thank you for your order A-1042 (Blue kurta). Please pay ₹1299.50 here: {url}\nThe link expires in 24 hours."
        )
    );
}

#[test]
fn an_order_whose_link_cannot_be_made_gets_an_apology_instead() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = order(&sb, &dir, "sk_live_thisKeyIsNotValidAnywhere42");
    assert_eq!(out.code, 0, "a handled failure: {out:?}");
    let v = out.json();
    assert_eq!(v["outputs"]["link_sent"], false);
    assert_eq!(v["steps"][0]["status"], "failed");
    assert_eq!(
        v["steps"][0]["error"]["message"],
        "step `create_session` of flow `stripe-checkout`: Invalid API Key provided: sk_live_****re42. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...)."
    );
    let received = sb.sandbox.whatsapp_messages();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].text,
        "Sorry, we could not create your payment link for order A-1042. We are looking into it and will message you shortly."
    );
    assert_eq!(sb.sandbox.sessions_created(), 0);
}

/// Creates a session with the preset and returns (id, url).
fn session(sb: &TestSandbox, dir: &Scratch) -> (String, String) {
    let out = run_on(
        sb,
        dir,
        SANDBOX_SECRET_KEY,
        &[
            "run",
            "stripe-checkout",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    (
        v["outputs"]["session_id"].as_str().unwrap().to_owned(),
        v["outputs"]["payment_url"].as_str().unwrap().to_owned(),
    )
}

/// Runs the follow-up for `id` and returns its outcome and the text WhatsApp received.
fn follow_up(sb: &TestSandbox, dir: &Scratch, id: &str) -> (serde_json::Value, String) {
    let before = sb.sandbox.whatsapp_messages().len();
    let out = run_on(
        sb,
        dir,
        SANDBOX_SECRET_KEY,
        &[
            "run",
            &example("payment-status-follow-up.yaml"),
            "--var",
            &format!("session_id={id}"),
            "--var",
            "product_name=Tea",
            "--var",
            "customer_phone=+919000090000",
            "--var",
            &format!("phone_number_id={SANDBOX_WHATSAPP_PHONE_NUMBER_ID}"),
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let received = sb.sandbox.whatsapp_messages();
    assert_eq!(received.len(), before + 1, "exactly one answer");
    (out.json(), received[before].text.clone())
}

#[test]
fn the_follow_up_answers_open_paid_and_expired_sessions_differently() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let (id, url) = session(&sb, &dir);

    let (v, text) = follow_up(&sb, &dir, &id);
    assert_eq!(v["outputs"]["status"], "open");
    assert_eq!(
        text,
        format!("Your payment is not complete yet; here is your link again: {url}")
    );

    assert_eq!(raw_http::send("POST", &url, None).status, 200);
    let (v, text) = follow_up(&sb, &dir, &id);
    assert_eq!(v["outputs"]["status"], "complete");
    assert_eq!(
        text,
        "Payment received, thank you! We are preparing your order."
    );

    let (other, _) = session(&sb, &dir);
    let expire = raw_http::send(
        "POST",
        &format!("{}/v1/checkout/sessions/{other}/expire", sb.url()),
        Some(SANDBOX_SECRET_KEY),
    );
    assert_eq!(expire.status, 200, "{}", expire.body);
    let created = sb.sandbox.sessions_created();
    let (v, text) = follow_up(&sb, &dir, &other);
    assert_eq!(v["outputs"]["status"], "expired");
    assert_eq!(sb.sandbox.sessions_created(), created + 1, "a new session");
    let renewed = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "renew")
        .unwrap();
    let new_url = renewed["outputs"]["payment_url"].as_str().unwrap();
    assert_ne!(new_url, url);
    assert_eq!(
        crate::support::step_record(renewed, "create_session")["response"]["body"]["amount_total"],
        50000,
        "the same amount"
    );
    assert_eq!(
        text,
        format!("Your payment link expired, so here is a new one: {new_url}")
    );
}
