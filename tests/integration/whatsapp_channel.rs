//! `flowstep run --channel whatsapp --to PHONE`: every message a flow sends reaches the
//! sandbox's WhatsApp Cloud API byte for byte, the outcome records Meta's message ids, and
//! Meta's errors and missing settings read clearly.

use crate::support::{Run, Scratch, TestSandbox, flowstep, run};
use flowstep_sandbox::{
    SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN,
};

/// A flow that makes a Checkout Session with the preset and then greets the customer in Hindi
/// with the link: text that must survive the trip untouched.
const ORDER_FLOW: &str = r#"flow: hindi-order
inputs:
  name: { type: string }
steps:
  - id: pay
    type: flow
    use: stripe-checkout
    with:
      product_name: "कुर्ता (नीला)"
      amount_paise: 129900
      success_url: https://shop.example/thanks
  - id: greet
    type: message
    text: "नमस्ते <<name>> 🙏 आपका ऑर्डर तैयार है।\nभुगतान करें: <<steps.pay.outputs.payment_url>>\n\"धन्यवाद\" & 😀"
"#;

/// Runs `args` in `dir` with the WhatsApp settings pointed at `sb` (unless `token` is `None`)
/// and Stripe routed there too.
fn run_whatsapp(sb: &TestSandbox, dir: &Scratch, token: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = flowstep(dir.path());
    cmd.env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .env("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID)
        .env_remove("WHATSAPP_TOKEN");
    if let Some(t) = token {
        cmd.env("WHATSAPP_TOKEN", t);
    }
    cmd.args(args)
        .args([
            "--route",
            &sb.route(),
            "--route",
            &format!("https://graph.facebook.com={}", sb.url()),
        ])
        .output()
        .unwrap()
        .into()
}

#[test]
fn messages_reach_whatsapp_byte_for_byte_with_their_ids_in_the_outcome() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let path = dir.write("order.yaml", ORDER_FLOW);
    let out = run_whatsapp(
        &sb,
        &dir,
        Some(SANDBOX_WHATSAPP_TOKEN),
        &[
            "run",
            path.to_str().unwrap(),
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--var",
            "name=आशा",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let received = sb.sandbox.whatsapp_messages();
    let sent = v["messages"].as_array().unwrap();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(sent.len(), 2);
    for (got, rec) in received.iter().zip(sent) {
        assert_eq!(got.text, rec["text"].as_str().unwrap());
        assert_eq!(got.to, "+919000090000");
        assert_eq!(got.phone_number_id, SANDBOX_WHATSAPP_PHONE_NUMBER_ID);
        assert_eq!(rec["delivery_id"], got.id.as_str());
        assert!(got.id.starts_with("wamid."), "{}", got.id);
    }
    let url = v["steps"][0]["outputs"]["payment_url"].as_str().unwrap();
    assert!(
        url.contains("/c/pay/cs_test_") && url.contains('#'),
        "{url}"
    );
    assert_eq!(
        received[1].text,
        format!("नमस्ते आशा 🙏 आपका ऑर्डर तैयार है।\nभुगतान करें: {url}\n\"धन्यवाद\" & 😀")
    );
    assert_eq!(
        received[0].text,
        format!("Please complete your payment here: {url}. This link expires in 24 hours.")
    );
    assert!(!out.all_output().contains(SANDBOX_WHATSAPP_TOKEN));
}

#[test]
fn the_text_report_says_where_each_message_went() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_whatsapp(
        &sb,
        &dir,
        Some(SANDBOX_WHATSAPP_TOKEN),
        &[
            "run",
            "stripe-checkout",
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let id = &sb.sandbox.whatsapp_messages()[0].id;
    assert!(
        out.stdout.contains(&format!(
            "message from send_link (sent on WhatsApp to +919000090000, {id}):"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(&format!(
            "note: messages go to WhatsApp +919000090000 through {}",
            sb.url()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_bad_token_fails_the_run_with_the_cloud_apis_error() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_whatsapp(
        &sb,
        &dir,
        Some("wrong"),
        &[
            "run",
            "stripe-checkout",
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("  FAIL send_link (message)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "error[rejected]: message not delivered: WhatsApp Cloud API answered HTTP 401, code 190: Invalid OAuth access token - Cannot parse access token\n"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.trim_end().ends_with("failed"), "{}", out.stdout);
    assert!(sb.sandbox.whatsapp_messages().is_empty());
    assert_eq!(sb.sandbox.sessions_created(), 1);
}

#[test]
fn the_sandbox_supplies_the_whatsapp_settings() {
    let dir = Scratch::new();
    let out: Run = flowstep(dir.path())
        .env_remove("WHATSAPP_TOKEN")
        .env_remove("WHATSAPP_PHONE_NUMBER_ID")
        .args([
            "run",
            "stripe-checkout",
            "--sandbox",
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    let note = "note: WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are not set, so the sandbox's access token and phone number id are used for the WhatsApp channel";
    assert!(out.stderr.contains(note), "{}", out.stderr);
    let id = out.json()["messages"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("wamid."), "{id}");
}

#[test]
fn whatsapp_without_to_is_exit_2_and_nothing_is_sent() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--channel",
            "whatsapp",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: --channel whatsapp needs --to PHONE: the customer's WhatsApp number with country code, e.g. --to +919000090000\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_to_that_is_not_a_phone_number_is_exit_2_before_any_session_is_created() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    for to in ["abc", "+0000", "+91 98123 4567x", "+1234567890123456"] {
        let out: Run = flowstep(dir.path())
            .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
            .args([
                "run",
                "stripe-checkout",
                "--route",
                &sb.route(),
                "--channel",
                "whatsapp",
                "--to",
                to,
                "--var",
                "product_name=Tea",
                "--var",
                "amount_paise=50000",
                "--var",
                "success_url=https://shop.example/thanks",
            ])
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 2, "{to}: {out:?}");
        assert!(
            out.stderr
                .starts_with(&format!("error: --to {to:?} is not a phone number: give the customer's WhatsApp number with country code")),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        sb.sandbox.sessions_created(),
        0,
        "no Checkout Session was created"
    );
}

#[test]
fn whatsapp_without_a_token_is_exit_2_naming_the_variable() {
    let dir = Scratch::new();
    let out: Run = flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .env_remove("WHATSAPP_TOKEN")
        .env("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID)
        .args([
            "run",
            "stripe-checkout",
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "error: --channel whatsapp needs WHATSAPP_TOKEN: set the environment variable WHATSAPP_TOKEN (or add WHATSAPP_TOKEN=... to {}, which does not exist); add --sandbox to try it without a token",
            dir.path().join(".env").display()
        )),
        "{}",
        out.stderr
    );
}
