//! WhatsApp message types through the `flowstep` binary and the sandbox: a text with
//! `preview_url`, a "Pay now" link button, reply buttons and an approved template each reach
//! the Cloud API stand-in as the exact body Meta documents; the 24-hour window (a text to a
//! customer who has not written fails later with 131047, a template is delivered); limits
//! refused before sending, at the value; the Graph API version as a setting.

use crate::support::{Run, Scratch, TestSandbox, flowstep, run};
use flowstep_sandbox::{SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN};

/// One message of each kind, all to the run's `--to`.
const KINDS_FLOW: &str = r#"flow: kinds
inputs:
  url: { type: string, default: "https://pay.example/c/pay/cs_test_1#frag" }
steps:
  - id: plain
    type: message
    text: "Order 17 is packed 📦"
    preview_url: false
  - id: pay
    type: message
    text: "Your order of ₹500.00 is ready"
    button: { title: Pay now, url: "<<url>>" }
  - id: ask
    type: message
    text: "Keep the gift wrap?"
    buttons:
      - { id: wrap_yes, title: "Yes" }
      - { id: wrap_no, title: "No" }
  - id: remind
    type: message
    template:
      name: order_payment
      language: en_US
      body: ["Asha", "₹500.00"]
      url_button: cs_test_1
"#;

/// Runs `args` with the run's messages sent to the sandbox's WhatsApp.
fn run_wa(sb: &TestSandbox, dir: &Scratch, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = flowstep(dir.path());
    cmd.env("WHATSAPP_TOKEN", SANDBOX_WHATSAPP_TOKEN)
        .env("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID)
        .env_remove("WHATSAPP_GRAPH_VERSION");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args)
        .args([
            "--route",
            &format!("https://graph.facebook.com={}", sb.url()),
        ])
        .output()
        .unwrap()
        .into()
}

/// `flowstep run FLOW --channel whatsapp --to +919000090000` against the sandbox.
fn send_to_customer(sb: &TestSandbox, dir: &Scratch, flow: &str) -> Run {
    run_wa(
        sb,
        dir,
        &[],
        &[
            "run",
            flow,
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
        ],
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn each_message_kind_reaches_whatsapp_as_metas_documented_body() {
    let sb = TestSandbox::start();
    // The customer wrote a minute ago: free-form messages are inside the 24-hour window.
    sb.sandbox.set_last_inbound("919000090000", now() - 60);
    let dir = Scratch::new();
    let path = dir.write("kinds.yaml", KINDS_FLOW);
    let args = [
        "run",
        path.to_str().unwrap(),
        "--channel",
        "whatsapp",
        "--to",
        "+919000090000",
    ];
    let out = run_wa(&sb, &dir, &[], &args);
    assert_eq!(out.code, 0, "{out:?}");
    let got = sb.sandbox.whatsapp_messages();
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    let head =
        r#"{"messaging_product":"whatsapp","recipient_type":"individual","to":"+919000090000","#;
    assert_eq!(
        bodies,
        [
            format!(
                r#"{head}"type":"text","text":{{"preview_url":false,"body":"Order 17 is packed 📦"}}}}"#
            ),
            format!(
                r#"{head}"type":"interactive","interactive":{{"type":"cta_url","body":{{"text":"Your order of ₹500.00 is ready"}},"action":{{"name":"cta_url","parameters":{{"display_text":"Pay now","url":"https://pay.example/c/pay/cs_test_1#frag"}}}}}}}}"#
            ),
            format!(
                r#"{head}"type":"interactive","interactive":{{"type":"button","body":{{"text":"Keep the gift wrap?"}},"action":{{"buttons":[{{"type":"reply","reply":{{"id":"wrap_yes","title":"Yes"}}}},{{"type":"reply","reply":{{"id":"wrap_no","title":"No"}}}}]}}}}}}"#
            ),
            format!(
                r#"{head}"type":"template","template":{{"name":"order_payment","language":{{"code":"en_US"}},"components":[{{"type":"body","parameters":[{{"type":"text","text":"Asha"}},{{"type":"text","text":"₹500.00"}}]}},{{"type":"button","sub_type":"url","index":"0","parameters":[{{"type":"text","text":"cs_test_1"}}]}}]}}}}"#
            ),
        ]
    );
    let kinds: Vec<(&str, &str)> = got
        .iter()
        .map(|m| (m.kind.as_str(), m.status.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("text", "delivered"),
            ("interactive", "delivered"),
            ("interactive", "delivered"),
            ("template", "delivered")
        ]
    );
    // The sandbox fills the approved template in: what the customer reads.
    assert_eq!(
        got[3].text,
        "Hi Asha, your order of ₹500.00 is ready. Tap Pay now to complete your payment."
    );
    // The terminal shows each readably, with its message id.
    for shown in [
        "  │ Your order of ₹500.00 is ready\n  │ [Pay now] https://pay.example/c/pay/cs_test_1#frag\n",
        "  │ Keep the gift wrap?\n  │ [Yes] [No]\n",
        "  │ template order_payment (en_US): {{1}} = Asha, {{2}} = ₹500.00, URL button = cs_test_1\n",
    ] {
        assert!(out.stdout.contains(shown), "{shown}\n{}", out.stdout);
    }
    // The default Graph version is in every path.
    let paths: Vec<String> = sb.sandbox.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .all(|p| p == &format!("/v26.0/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages")),
        "{paths:?}"
    );
}

#[test]
fn outside_the_24_hour_window_a_text_fails_with_131047_and_a_template_is_delivered() {
    let sb = TestSandbox::start();
    // This customer last wrote 25 hours ago.
    sb.sandbox
        .set_last_inbound("919000090000", now() - 25 * 3600);
    let dir = Scratch::new();
    let path = dir.write(
        "cold.yaml",
        "flow: cold\nsteps:\n  - id: nudge\n    type: message\n    text: Still want the kurta?\n  - id: remind\n    type: message\n    template: { name: payment_received, language: en_US, body: [Asha, \"₹500.00\"] }\n",
    );
    let args = [
        "run",
        path.to_str().unwrap(),
        "--channel",
        "whatsapp",
        "--to",
        "+919000090000",
        "--output",
        "json",
    ];
    let out = run_wa(&sb, &dir, &[], &args);
    // Both are accepted (200): WhatsApp reports the failure later, as a status.
    assert_eq!(out.code, 0, "{out:?}");
    let got = sb.sandbox.whatsapp_messages();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].status.as_str(), got[0].error_code),
        ("failed", Some(131047))
    );
    assert_eq!(
        (got[1].status.as_str(), got[1].error_code),
        ("delivered", None)
    );
    let v = out.json();
    assert_eq!(v["messages"][0]["delivery_id"], got[0].id.as_str());
    assert_eq!(
        v["messages"][1]["text"],
        "template payment_received (en_US): {{1}} = Asha, {{2}} = ₹500.00"
    );
    assert_eq!(
        v["messages"][1]["content"],
        serde_json::json!({"type": "template", "name": "payment_received", "language": "en_US", "body": ["Asha", "₹500.00"]})
    );
    // The status webhooks: `failed` with Meta's 131047 for the text; sent, delivered for the
    // template.
    let events = sb.sandbox.events();
    let statuses: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.id.clone(), e.event_type.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (format!("{}:failed", got[0].id), "status.failed".to_owned()),
            (format!("{}:sent", got[1].id), "status.sent".to_owned()),
            (
                format!("{}:delivered", got[1].id),
                "status.delivered".to_owned()
            ),
        ]
    );
    let failed = &events[0].payload["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["errors"][0]["code"], 131047);
    assert_eq!(failed["errors"][0]["title"], "Re-engagement message");
    // A number that never wrote is just as cold.
    let never = [
        "run",
        path.to_str().unwrap(),
        "--channel",
        "whatsapp",
        "--to",
        "+919811111111",
    ];
    assert_eq!(run_wa(&sb, &dir, &[], &never).code, 0);
    assert_eq!(sb.sandbox.whatsapp_messages()[2].status, "failed");
}

#[test]
fn the_sandbox_refuses_unknown_templates_and_wrong_parameter_counts_like_meta() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = |name: &str, body: &str| {
        format!(
            "flow: t\nsteps:\n  - id: remind\n    type: message\n    template: {{ name: {name}, language: en_US, body: [{body}] }}\n"
        )
    };
    let path = dir.write("unknown.yaml", &flow("order_shipped", "Asha"));
    let out = send_to_customer(&sb, &dir, path.to_str().unwrap());
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("WhatsApp Cloud API answered HTTP 404, code 132001: (#132001) Template name does not exist in the translation (template name (order_shipped) does not exist in en_US"),
        "{}",
        out.stdout
    );
    let path = dir.write("count.yaml", &flow("order_payment", "Asha"));
    let out = send_to_customer(&sb, &dir, path.to_str().unwrap());
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("code 132000: (#132000) Number of parameters does not match the expected number of params (body: number of localizable_params (1) does not match the expected number of params (2))"),
        "{}",
        out.stdout
    );
    assert!(sb.sandbox.whatsapp_messages().is_empty());
}

#[test]
fn limits_are_refused_before_sending_at_the_value() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    // Literal: `check` (and `run`) point at the value.
    let path = dir.write(
        "literal.yaml",
        "flow: lit\nsteps:\n  - id: pay\n    type: message\n    text: Your order\n    button: { title: Complete your payment, url: \"https://pay.example/1\" }\n",
    );
    let out = run(dir.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.all_output().contains("literal.yaml:6:22\n")
            && out.all_output().contains("error[E015]: the button title `Complete your payment` is 21 characters long; WhatsApp takes at most 20\n --> "),
        "{}",
        out.all_output()
    );
    // Templated: the rendered value is checked before anything is sent.
    let path = dir.write(
        "rendered.yaml",
        "flow: ren\ninputs:\n  label: { type: string }\nsteps:\n  - id: pay\n    type: message\n    text: Your order\n    buttons:\n      - { id: pay, title: \"<<label>>\" }\n",
    );
    let out = run_wa(
        &sb,
        &dir,
        &[],
        &[
            "run",
            path.to_str().unwrap(),
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--var",
            "label=Pay for everything now",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("message not sent: the button title `Pay for everything now` is 22 characters long; WhatsApp takes at most 20"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("rendered.yaml:9:"), "{}", out.stdout);
    let long = "x".repeat(4097);
    let path = dir.write(
        "long.yaml",
        "flow: long\ninputs:\n  t: { type: string }\nsteps:\n  - id: say\n    type: message\n    text: \"<<t>>\"\n",
    );
    let out = run(
        dir.path(),
        &["run", path.to_str().unwrap(), "--var", &format!("t={long}")],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("is 4097 characters long; WhatsApp takes at most 4096"),
        "{}",
        out.stdout
    );
    assert!(sb.sandbox.whatsapp_messages().is_empty());
}

#[test]
fn the_graph_version_is_a_flag_an_environment_variable_and_a_preset_input() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let path = dir.write(
        "hi.yaml",
        "flow: hi\nsteps:\n  - id: hi\n    type: message\n    text: Hi\n",
    );
    let base = [
        "run",
        path.to_str().unwrap(),
        "--channel",
        "whatsapp",
        "--to",
        "+919000090000",
    ];
    let mut flag = base.to_vec();
    flag.extend(["--whatsapp-graph-version", "v25.0"]);
    assert_eq!(run_wa(&sb, &dir, &[], &flag).code, 0);
    assert_eq!(
        run_wa(&sb, &dir, &[("WHATSAPP_GRAPH_VERSION", "v99.9")], &base).code,
        0
    );
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
            "text=hi",
            "--var",
            "graph_version=v23.0",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let url = crate::support::step_record(&out.json(), "send_text")["request"]["url"].clone();
    assert_eq!(
        url,
        format!("https://graph.facebook.com/v23.0/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages")
    );
    let paths: Vec<String> = sb.sandbox.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            format!("/v25.0/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages"),
            format!("/v99.9/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages"),
        ]
    );
    let mut bad = base.to_vec();
    bad.extend(["--whatsapp-graph-version", "21.0"]);
    let out = run_wa(&sb, &dir, &[], &bad);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("`21.0` is not a Graph API version: write it as Meta does in URLs, `v` then major.minor, like v26.0"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_whatsapp_send_template_preset_delivers_to_a_cold_number() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = run_wa(
        &sb,
        &dir,
        &[],
        &[
            "run",
            "whatsapp-send-template",
            "--var",
            &format!("phone_number_id={SANDBOX_WHATSAPP_PHONE_NUMBER_ID}"),
            "--var",
            "to=+919000090000",
            "--var",
            "customer_name=Asha",
            "--var",
            "amount=₹500.00",
            "--var",
            "url_suffix=cs_test_a1",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let got = sb.sandbox.whatsapp_messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].kind.as_str(), got[0].status.as_str()),
        ("template", "delivered")
    );
    assert_eq!(
        got[0].text,
        "Hi Asha, your order of ₹500.00 is ready. Tap Pay now to complete your payment."
    );
    assert_eq!(out.json()["outputs"]["message_id"], got[0].id.as_str());
}
