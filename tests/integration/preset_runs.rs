//! Every bundled preset run through the CLI against the sandbox, as a flow author would run it,
//! and the status flow telling open, paid and expired sessions apart by the message it sends.

use crate::raw_http;
use crate::support::{Run, Scratch, TestSandbox, flowstep, run};
use flowstep_sandbox::{
    SANDBOX_RAZORPAY_KEY_ID, SANDBOX_RAZORPAY_KEY_SECRET, SANDBOX_SECRET_KEY,
    SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN,
};
use serde_json::Value;

/// The record of step `id` in a JSON outcome.
fn step<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {v}"))
}

/// Runs `args` with the given environment variables set.
fn run_env(dir: &Scratch, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = flowstep(dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap().into()
}

#[test]
fn stripe_checkout_sends_the_optional_fields_and_states_the_real_expiry() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "product_name=Blue T-shirt",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--var",
            "client_reference_id=conv-77",
            "--var",
            "customer_email=asha@example.com",
            "--var",
            "order_id=A-1042",
            "--var",
            "expires_in_minutes=45",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let url = v["outputs"]["payment_url"].as_str().unwrap();
    assert_eq!(
        v["messages"][0]["text"],
        format!("Please complete your payment here: {url}. This link expires in 45 minutes.")
    );
    assert_eq!(step(&v, "requested_expiry")["status"], "succeeded");
    let created = step(&v, "create_session");
    let body = created["request"]["body"].as_str().unwrap();
    for field in [
        "client_reference_id=conv-77",
        "customer_email=asha%40example.com",
        "metadata%5Border_id%5D=A-1042",
        "expires_at=",
    ] {
        assert!(body.contains(field), "{field} missing from {body}");
    }
    let session = &created["response"]["body"];
    assert_eq!(session["client_reference_id"], "conv-77");
    assert_eq!(session["customer_email"], "asha@example.com");
    assert_eq!(session["metadata"]["order_id"], "A-1042");
    let expires_at = session["expires_at"].as_i64().unwrap();
    // `from_now` reads the clock when the request is built and the sandbox when it creates the
    // session: a second boundary may fall between the two.
    let ahead = expires_at - session["created"].as_i64().unwrap();
    assert!(
        (45 * 60 - 2..=45 * 60).contains(&ahead),
        "expires {ahead} s after creation"
    );
    assert_eq!(v["outputs"]["expires_at"], expires_at);
}

#[test]
fn stripe_checkout_leaves_out_optional_fields_that_are_not_given() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
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
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let body = step(&v, "create_session")["request"]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    for absent in [
        "client_reference_id",
        "customer_email",
        "metadata",
        "expires_at",
    ] {
        assert!(!body.contains(absent), "{absent} was sent: {body}");
    }
    assert!(
        v["messages"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("This link expires in 24 hours.")
    );
}

#[test]
fn stripe_checkout_refuses_an_expiry_stripe_would_refuse_before_sending() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--var",
            "expires_in_minutes=10",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("error: invalid input expires_in_minutes: 10 is less than the minimum 30"),
        "{}",
        out.stderr
    );
}

#[test]
fn razorpay_payment_link_runs_in_the_sandbox_and_sends_the_short_url() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "razorpay-payment-link",
            "--sandbox",
            "--var",
            "amount_paise=50000",
            "--var",
            "description=Order #1042",
            "--var",
            "customer_name=Asha Rao",
            "--var",
            "customer_contact=+919000090000",
            "--var",
            "reference_id=order-1042",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("note: RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET are not set, so the sandbox's test key id and test key secret are used"),
        "{}",
        out.stderr
    );
    let v = out.json();
    let url = v["outputs"]["payment_url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/rzp/i/"),
        "{url}"
    );
    assert!(
        v["outputs"]["payment_link_id"]
            .as_str()
            .unwrap()
            .starts_with("plink_")
    );
    assert_eq!(
        v["messages"][0]["text"],
        format!(
            "Please complete your payment for Order #1042 here: {url}. This link expires in 24 hours."
        )
    );
    let link = &step(&v, "create_link")["response"]["body"];
    assert_eq!(link["amount"], 50000);
    assert_eq!(link["currency"], "INR");
    assert_eq!(link["reference_id"], "order-1042");
    assert_eq!(link["customer"]["name"], "Asha Rao");
    assert_eq!(link["customer"]["contact"], "+919000090000");
    assert_eq!(link["notify"]["sms"], false);
    // Optional inputs not given are left out of the JSON body, not sent as null.
    let sent: serde_json::Value =
        serde_json::from_str(step(&v, "create_link")["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        sent["customer"],
        serde_json::json!({"name": "Asha Rao", "contact": "+919000090000"})
    );
    assert!(sent.get("callback_url").is_none(), "{sent}");
    let headers = step(&v, "create_link")["request"]["headers"]
        .as_object()
        .unwrap()
        .clone();
    let auth = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no Authorization in {headers:?}"));
    assert_eq!(auth, "Basic [redacted]");
    for secret in [SANDBOX_RAZORPAY_KEY_ID, SANDBOX_RAZORPAY_KEY_SECRET] {
        assert!(!out.all_output().contains(secret), "{secret} leaked");
    }
}

#[test]
fn razorpay_refuses_a_second_link_for_the_same_run_with_a_hint() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let env = [
        ("RAZORPAY_KEY_ID", SANDBOX_RAZORPAY_KEY_ID),
        ("RAZORPAY_KEY_SECRET", SANDBOX_RAZORPAY_KEY_SECRET),
    ];
    let route = format!("https://api.razorpay.com={}", sb.url());
    let args = [
        "run",
        "razorpay-payment-link",
        "--route",
        &route,
        "--run-id",
        "chat-5511",
        "--var",
        "amount_paise=25000",
        "--var",
        "description=Masala chai x10",
    ];
    let first = run_env(&dir, &env, &args);
    assert_eq!(first.code, 0, "{first:?}");
    let second = run_env(&dir, &env, &args);
    assert_eq!(second.code, 1, "{second:?}");
    assert!(
        second.stdout.contains(
            "error[rejected]: payment link creation with reference ID already attempted\n"
        ),
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("  = note: cause: A link with this reference_id was already created;"),
        "{}",
        second.stdout
    );
    assert_eq!(sb.sandbox.payment_links_created(), 1, "one link, not two");
}

#[test]
fn razorpay_wrong_secret_fails_with_razorpays_message_and_a_hint() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let wrong = "notTheRightSecretAtAll99";
    let out = run_env(
        &dir,
        &[
            ("RAZORPAY_KEY_ID", SANDBOX_RAZORPAY_KEY_ID),
            ("RAZORPAY_KEY_SECRET", wrong),
        ],
        &[
            "run",
            "razorpay-payment-link",
            "--route",
            &format!("https://api.razorpay.com={}", sb.url()),
            "--var",
            "amount_paise=25000",
            "--var",
            "description=Tea",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("error[rejected]: Authentication failed\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  = help: Set RAZORPAY_KEY_ID"),
        "{}",
        out.stdout
    );
    assert!(!out.all_output().contains(wrong), "the secret leaked");
}

#[test]
fn whatsapp_send_text_runs_in_the_sandbox() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "whatsapp-send-text",
            "--sandbox",
            "--var",
            &format!("phone_number_id={SANDBOX_WHATSAPP_PHONE_NUMBER_ID}"),
            "--var",
            "to=+919000090000",
            "--var",
            "text=Hello from flowstep",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("note: WHATSAPP_TOKEN is not set, so the sandbox's access token is used"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("  message_id: wamid."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  wa_id: 919000090000"),
        "{}",
        out.stdout
    );
    assert!(!out.all_output().contains(SANDBOX_WHATSAPP_TOKEN));
}

#[test]
fn whatsapp_send_text_delivers_the_text_byte_for_byte_and_maps_the_id() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let text = "नमस्ते Asha 🙏\nPay ₹500 here: https://checkout.stripe.com/c/pay/cs_test_a1b2#fidkdWxOYHwnPyd1 & \"thanks\"";
    let out = run_env(
        &dir,
        &[("WHATSAPP_TOKEN", SANDBOX_WHATSAPP_TOKEN)],
        &[
            "run",
            "whatsapp-send-text",
            "--route",
            &format!("https://graph.facebook.com={}", sb.url()),
            "--var",
            &format!("phone_number_id={SANDBOX_WHATSAPP_PHONE_NUMBER_ID}"),
            "--var",
            "to=+919000090000",
            "--var",
            &format!("text={text}"),
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let received = sb.sandbox.whatsapp_messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].text, text);
    assert_eq!(received[0].to, "+919000090000");
    assert_eq!(out.json()["outputs"]["message_id"], received[0].id.as_str());
}

#[test]
fn whatsapp_send_text_with_a_bad_token_says_what_meta_said() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_env(
        &dir,
        &[("WHATSAPP_TOKEN", "EAAwrongwrongwrongwrong1234")],
        &[
            "run",
            "whatsapp-send-text",
            "--route",
            &format!("https://graph.facebook.com={}", sb.url()),
            "--var",
            &format!("phone_number_id={SANDBOX_WHATSAPP_PHONE_NUMBER_ID}"),
            "--var",
            "to=+919000090000",
            "--var",
            "text=hi",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("error[rejected]: Invalid OAuth access token - Cannot parse access token\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  = note: code: 190\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("^ HTTP 401\n"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("  = note: cause: Meta did not accept the access token"),
        "{}",
        out.stdout
    );
    assert!(sb.sandbox.whatsapp_messages().is_empty());
}

/// Creates a session on `sb` with the Stripe preset and returns its id.
fn create_session(sb: &TestSandbox, dir: &Scratch) -> String {
    let out = run_env(
        dir,
        &[("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)],
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
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["outputs"]["session_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs the status preset for `session_id` on `sb`.
fn status(sb: &TestSandbox, dir: &Scratch, session_id: &str) -> Value {
    let out = run_env(
        dir,
        &[("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)],
        &[
            "run",
            "stripe-checkout-status",
            "--route",
            &sb.route(),
            "--var",
            &format!("session_id={session_id}"),
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.json()
}

/// The texts of the messages an outcome sent.
fn texts(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn status_flow_tells_open_paid_and_expired_apart() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();

    // Open: the link again, the same URL the customer was first sent.
    let open = create_session(&sb, &dir);
    let v = status(&sb, &dir, &open);
    assert_eq!(v["outputs"]["status"], "open");
    assert_eq!(v["outputs"]["payment_status"], "unpaid");
    assert_eq!(v["outputs"]["amount_total"], 50000);
    let url = v["variables"]["url"].as_str().unwrap();
    assert!(url.contains(&format!("/c/pay/{open}#")), "{url}");
    assert_eq!(
        texts(&v),
        [format!(
            "Your payment is not complete yet; here is your link again: {url}"
        )]
    );

    // Paid: the customer pays on the sandbox's checkout page.
    let paid = raw_http::send("POST", url, None);
    assert_eq!(paid.status, 200, "{}", paid.body);
    let v = status(&sb, &dir, &open);
    assert_eq!(v["outputs"]["status"], "complete");
    assert_eq!(v["outputs"]["payment_status"], "paid");
    assert_eq!(
        texts(&v),
        ["Thank you: payment received. We are preparing your order."]
    );

    // Expired: the merchant expires another session through the API.
    let other = create_session(&sb, &dir);
    let expired = raw_http::send(
        "POST",
        &format!("{}/v1/checkout/sessions/{other}/expire", sb.url()),
        Some(SANDBOX_SECRET_KEY),
    );
    assert_eq!(expired.status, 200, "{}", expired.body);
    let v = status(&sb, &dir, &other);
    assert_eq!(v["outputs"]["status"], "expired");
    assert_eq!(v["variables"]["url"], Value::Null);
    assert_eq!(
        texts(&v),
        ["Your payment link expired; we will send you a new one."]
    );
    for s in ["paid", "processing", "still_open"] {
        assert_eq!(step(&v, s)["status"], "skipped", "{s}");
    }
}

#[test]
fn status_flow_for_an_unknown_session_says_so_with_a_hint() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_env(
        &dir,
        &[("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)],
        &[
            "run",
            "stripe-checkout-status",
            "--route",
            &sb.route(),
            "--var",
            "session_id=cs_test_doesNotExist123",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("No such checkout.session"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  = note: cause: No Checkout Session has this id for this key"),
        "{}",
        out.stdout
    );
}

/// The JSON body of the sandbox's recorded request number `i`.
fn body_of(sb: &TestSandbox, i: usize) -> Value {
    serde_json::from_str(&sb.sandbox.requests()[i].body).unwrap()
}

/// Razorpay's reference: callback_method goes with callback_url ("If callback_url parameter is
/// passed, callback_method must be passed with the value get"); without a callback_url the
/// preset sends neither.
#[test]
fn razorpay_sends_callback_method_only_with_a_callback_url() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let env = [
        ("RAZORPAY_KEY_ID", SANDBOX_RAZORPAY_KEY_ID),
        ("RAZORPAY_KEY_SECRET", SANDBOX_RAZORPAY_KEY_SECRET),
    ];
    let route = format!("https://api.razorpay.com={}", sb.url());
    let base = [
        "run",
        "razorpay-payment-link",
        "--route",
        &route,
        "--var",
        "amount_paise=25000",
        "--var",
        "description=Tea",
    ];
    let out = run_env(
        &dir,
        &env,
        &[&base[..], &["--var", "reference_id=a1"]].concat(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let body = body_of(&sb, 0);
    assert!(body.get("callback_method").is_none(), "{body}");
    assert!(body.get("callback_url").is_none(), "{body}");
    let with_url = [
        &base[..],
        &[
            "--var",
            "reference_id=a2",
            "--var",
            "callback_url=https://shop.example/paid",
        ],
    ]
    .concat();
    let out = run_env(&dir, &env, &with_url);
    assert_eq!(out.code, 0, "{out:?}");
    let body = body_of(&sb, 1);
    assert_eq!(body["callback_url"], "https://shop.example/paid", "{body}");
    assert_eq!(body["callback_method"], "get", "{body}");
}

/// Above Rs 5,00,000 (Razorpay's default per-payment limit) the sandbox answers Razorpay's
/// "amount exceeds maximum amount allowed." and the preset explains it.
#[test]
fn razorpay_amount_above_the_ceiling_gets_a_hint() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "razorpay-payment-link",
            "--sandbox",
            "--var",
            "amount_paise=50000001",
            "--var",
            "description=Gold",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("error[rejected]: amount exceeds maximum amount allowed.\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Rs 5,00,000 by default"),
        "{}",
        out.stdout
    );
}

/// razorpay-payment-link-status finds the link by reference id (GET /v1/payment_links?
/// reference_id=) and says open, cancelled, or that there is none.
#[test]
fn razorpay_status_tells_open_cancelled_and_missing_links_apart() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let env = [
        ("RAZORPAY_KEY_ID", SANDBOX_RAZORPAY_KEY_ID),
        ("RAZORPAY_KEY_SECRET", SANDBOX_RAZORPAY_KEY_SECRET),
    ];
    let route = format!("https://api.razorpay.com={}", sb.url());
    let made = run_env(
        &dir,
        &env,
        &[
            "run",
            "razorpay-payment-link",
            "--route",
            &route,
            "--var",
            "amount_paise=25000",
            "--var",
            "description=Tea",
            "--var",
            "reference_id=order-77",
            "--output",
            "json",
        ],
    );
    assert_eq!(made.code, 0, "{made:?}");
    let made = made.json();
    let id = made["outputs"]["payment_link_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = made["outputs"]["payment_url"].as_str().unwrap().to_owned();
    let status = |reference: &str| {
        run_env(
            &dir,
            &env,
            &[
                "run",
                "razorpay-payment-link-status",
                "--route",
                &route,
                "--var",
                &format!("reference_id={reference}"),
            ],
        )
    };
    let open = status("order-77");
    assert_eq!(open.code, 0, "{open:?}");
    assert!(
        open.stdout.contains(&format!(
            "Your payment is not complete yet; here is your link again: {url}"
        )),
        "{}",
        open.stdout
    );
    let query = &sb.sandbox.requests()[1];
    assert_eq!(
        (
            query.method.as_str(),
            query.path.as_str(),
            query.query.as_deref()
        ),
        ("GET", "/v1/payment_links", Some("reference_id=order-77"))
    );
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{SANDBOX_RAZORPAY_KEY_ID}:{SANDBOX_RAZORPAY_KEY_SECRET}")
        )
    );
    let cancelled = raw_http::request(
        "POST",
        &format!("{}/v1/payment_links/{id}/cancel", sb.url()),
        &[("Authorization", basic.as_str())],
        b"",
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let out = status("order-77");
    assert!(
        out.stdout.contains("This payment link was cancelled;"),
        "{}",
        out.stdout
    );
    let none = status("order-none");
    assert_eq!(none.code, 0, "{none:?}");
    assert!(
        none.stdout
            .contains("We could not find a payment link for your order;"),
        "{}",
        none.stdout
    );
}
