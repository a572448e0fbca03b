//! A `flow` step's `messages:`: the used flow's messages are sent (the default), suppressed,
//! or handed to the using flow as `<<steps.ID.messages>>`; labelled with their step path.

use crate::support::{Run, Scratch, TestSandbox, flowstep, run};
use serde_json::Value;

/// A flow that uses stripe-checkout with `messages: POLICY` and then sends `text` itself.
fn parent(policy: &str, text: &str) -> String {
    format!(
        "flow: parent
steps:
  - id: pay
    type: flow
    use: stripe-checkout
    with: {{ product_name: Tea, amount_paise: 5000, success_url: https://shop.example/thanks }}
{policy}
  - id: send_link
    type: message
    text: \"{text}\"
"
    )
}

fn run_parent(sb: &TestSandbox, dir: &Scratch, args: &[&str]) -> Run {
    flowstep(dir.path())
        .args(["run", "parent.yaml", "--route", &sb.route()])
        .args(args)
        .env("STRIPE_SECRET_KEY", flowstep_sandbox::SANDBOX_SECRET_KEY)
        .output()
        .unwrap()
        .into()
}

#[test]
fn by_default_the_used_flows_messages_are_sent_labelled_with_their_path() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "parent.yaml",
        &parent("", "Sent: <<steps.pay.outputs.session_id>>"),
    );
    let out = run_parent(&sb, &dir, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("message from pay > send_link:\n  │ Please complete your payment here: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("\nmessage from send_link:\n  │ Sent: cs_test_"),
        "{}",
        out.stdout
    );
}

#[test]
fn suppressed_messages_are_not_sent_and_the_step_record_lists_them() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "parent.yaml",
        &parent(
            "    messages: suppress",
            "Pay here: <<steps.pay.outputs.payment_url>>",
        ),
    );
    let text = run_parent(&sb, &dir, &[]);
    assert_eq!(text.code, 0, "{text:?}");
    assert_eq!(
        text.stdout.matches("message from").count(),
        1,
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .starts_with("message from send_link:\n  │ Pay here: "),
        "{}",
        text.stdout
    );
    let out = run_parent(&sb, &dir, &["--output", "json"]);
    let v = out.json();
    let messages = v["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{v}");
    assert_eq!(messages[0]["step"], "send_link");
    let suppressed = v["steps"][0]["messages_suppressed"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", v["steps"][0]));
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["step"], "send_link");
    // A dry run shows them as suppressed.
    let dry = run_parent(&sb, &dir, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains(
            "\n  message (suppressed, from pay > send_link): Please complete your payment here: "
        ),
        "{}",
        dry.stdout
    );
    let url = v["steps"][0]["outputs"]["payment_url"].as_str().unwrap();
    assert!(
        suppressed[0]["text"]
            .as_str()
            .unwrap()
            .ends_with(&format!("[Pay now] {url}")),
        "{suppressed:?}"
    );
}

#[test]
fn output_hands_the_messages_to_the_using_flow() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "parent.yaml",
        &parent(
            "    messages: output",
            "<<steps.pay.messages.0.content.title>>: <<steps.pay.messages.0.content.url>> (from <<steps.pay.messages.0.step>>)",
        ),
    );
    let out = run_parent(&sb, &dir, &["--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let url = v["steps"][0]["outputs"]["payment_url"].as_str().unwrap();
    let messages = v["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{v}");
    assert_eq!(
        messages[0]["text"],
        Value::String(format!("Pay now: {url} (from send_link)"))
    );
}

#[test]
fn messages_is_read_only_when_output_and_a_bad_policy_is_refused_where_it_stands() {
    let dir = Scratch::new();
    dir.write("parent.yaml", &parent("", "<<steps.pay.messages.0.text>>"));
    let out = run(dir.path(), &["check", "parent.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(
            "error[E005]: flow step `pay` has no field `messages`\n  --> parent.yaml:10:12\n"
        ),
        "{}",
        out.stderr
    );
    dir.write("bad.yaml", &parent("    messages: drop", "hi"));
    let out = run(dir.path(), &["check", "bad.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .starts_with("error[E010]: unknown `messages` policy `drop`\n --> bad.yaml:7:15\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: write send (deliver the used flow's messages), suppress (drop them) or output (read them as <<steps.ID.messages>>)"),
        "{}",
        out.stderr
    );
}
