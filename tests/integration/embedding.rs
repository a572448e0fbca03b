//! The embedding example (`examples/embed_custom_step.rs`) compiled into the test binary and
//! run: a custom step kind and a custom channel plugged into the engine, as docs/embedding.md
//! walks through.

#[path = "../../examples/embed_custom_step.rs"]
mod embed_example;

use flowstep_engine::{RunStatus, StepStatus};

#[test]
fn the_embedding_example_looks_up_the_order_and_sends_the_reminder() {
    let r = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(embed_example::run_example())
        .unwrap();
    assert_eq!(r.outcome.status, RunStatus::Succeeded);
    let expected = "Hi Asha, order A-1042 (₹1299.50) is waiting for payment.";
    assert_eq!(r.sent["+919000090000"], [expected]);
    assert_eq!(r.outcome.messages[0].text, expected);
    assert_eq!(r.outcome.messages[0].to.as_deref(), Some("+919000090000"));
    assert_eq!(
        r.outcome.messages[0].delivery_id.as_deref(),
        Some("outbox-+919000090000-1")
    );
    assert_eq!(r.outcome.outputs["amount_paise"], 129_950);
    let lookup = r.outcome.step("find_order").unwrap();
    assert_eq!(lookup.kind, "lookup_order");
    assert_eq!(lookup.status, StepStatus::Succeeded);
    assert_eq!(lookup.details["order"]["id"], "A-1042");
    assert_eq!(r.outcome.variables["customer_name"], "Asha");
    let json = r.outcome.to_json().to_string();
    assert!(
        !json.contains("ord_live_5c1b7f0e9a2d4c6b8e3f"),
        "the secret leaked: {json}"
    );
}
