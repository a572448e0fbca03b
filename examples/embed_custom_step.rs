//! Embedding flowstep in a chat backend: a custom `type: lookup_order` step with typed keys
//! that reads an order from the backend's own store, a custom channel that keeps each
//! customer's messages, and a flow that uses both, compiled, run with inputs, a secret and a
//! recipient, and read back from its `Outcome`.
//!
//! Run it with `cargo run --example embed_custom_step`. `tests/integration/embedding.rs`
//! includes this file and checks what [`run_example`] returns.

use flowstep_embed::prelude::*;
use flowstep_embed::serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::sync::{Arc, Mutex};

/// The flow a platform engineer's users would write: look the order up, then message the
/// customer. `lookup_order` is not built in; this program registers it.
pub const FLOW: &str = r#"flow: order-reminder
description: Remind a customer of an unpaid order.
inputs:
  order_id: { type: string }
secrets: [ORDERS_API_KEY]
steps:
  - id: find_order
    type: lookup_order
    order: <<order_id>>
  - id: remind
    type: message
    text: "Hi <<customer_name>>, order <<order_id>> (₹<<amount_rupees>>) is waiting for payment."
outputs:
  amount_paise: <<amount_paise>>
"#;

/// One order in the backend's store.
#[derive(Debug, Clone)]
pub struct Order {
    /// Who ordered.
    pub customer_name: String,
    /// The amount in paise, as the backend keeps it.
    pub amount_paise: i64,
}

/// The keys a `lookup_order` step takes: `order:`, templated. A key not declared here (a
/// misspelt `ordr:`) is an error with its position when the flow is compiled.
#[derive(Debug, serde::Deserialize)]
struct LookupKeys {
    order: String,
}

/// `type: lookup_order`: finds the order its `order:` names, and sets `customer_name`,
/// `amount_paise` and `amount_rupees` for later steps.
pub struct LookupOrder {
    orders: Arc<HashMap<String, Order>>,
}

#[async_trait]
impl Step for LookupOrder {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        // A real step would call the backend with this key; the engine hands it over only
        // because the flow declared it, and redacts it everywhere.
        if !cx.secrets().iter().any(|s| s.name == "ORDERS_API_KEY") {
            return Err(StepError::invalid("ORDERS_API_KEY is not declared"));
        }
        let keys: LookupKeys = cx.keys()?; // `order: <<order_id>>`, rendered
        let Some(order) = self.orders.get(&keys.order) else {
            let message = format!("no order {}", keys.order);
            return Err(StepError::new(ErrorKind::Rejected, message));
        };
        cx.record("order", json!({ "id": keys.order }));
        cx.set_var("customer_name", order.customer_name.as_str())?;
        cx.set_var("amount_paise", order.amount_paise)?;
        let (rupees, paise) = (order.amount_paise / 100, order.amount_paise % 100);
        cx.set_var("amount_rupees", format!("{rupees}.{paise:02}"))
    }

    /// Declared so that `<<customer_name>>` in a later step passes the compile-time check.
    fn defines(&self) -> Vec<String> {
        ["customer_name", "amount_paise", "amount_rupees"]
            .map(String::from)
            .into()
    }
}

/// A channel that keeps every customer's messages, as an outbox that a worker drains.
#[derive(Debug, Default)]
pub struct Outbox {
    sent: Mutex<BTreeMap<String, Vec<String>>>,
}

#[async_trait]
impl Channel for Outbox {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        let Some(to) = &message.to else {
            let message = format!("no recipient for `{}`", message.step);
            return Err(ChannelError {
                message,
                transient: false,
            });
        };
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let queue = sent.entry(to.clone()).or_default();
        queue.push(message.text.clone());
        Ok(Delivery {
            id: Some(format!("outbox-{to}-{}", queue.len())),
        })
    }
}

/// What the example produced.
#[derive(Debug)]
pub struct ExampleResult {
    /// The run's outcome.
    pub outcome: Outcome,
    /// What the channel received, by recipient.
    pub sent: BTreeMap<String, Vec<String>>,
}

/// Builds the engine, compiles [`FLOW`], runs it for order `A-1042`, and returns the outcome.
pub async fn run_example() -> Result<ExampleResult, Box<dyn Error + Send + Sync>> {
    let orders = Arc::new(HashMap::from([(
        "A-1042".to_owned(),
        Order {
            customer_name: "Asha".into(),
            amount_paise: 129_950,
        },
    )]));

    // 1. An engine with the standard steps (the http step refuses private networks: our
    //    users' flows must not reach our internal services) and our own kind, whose binder
    //    checks the step's keys against `LookupKeys`.
    let mut engine = Engine::standard();
    engine.register("lookup_order", move |decl, _flow| {
        check_keys::<LookupKeys>(decl)?;
        Ok(Box::new(LookupOrder {
            orders: orders.clone(),
        }))
    });

    // 2. Compile: every problem in the file at once, drawn with positions when displayed.
    let plan = engine.compile_text("order-reminder.yaml", FLOW)?;

    // 3. Run with inputs (checked against the flow's declarations), a secret (wrapped at
    //    once, redacted everywhere), a stable run id, the customer, and our channel.
    let outbox = Outbox::default();
    let request = RunRequest::new()
        .input("order_id", "A-1042")
        .secret("ORDERS_API_KEY", "ord_live_5c1b7f0e9a2d4c6b8e3f")
        .run_id("order-A-1042")
        .to("+919000090000")
        .channel(&outbox);
    let outcome = plan.run(request).await?;
    let sent = outbox.sent.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(ExampleResult { outcome, sent })
}

// Included by an integration test, which has its own entry point.
#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let r = run_example().await?;
    // 4. Read the outcome: status, outputs, messages with their recipients and delivery ids.
    println!("status: {:?}", r.outcome.status);
    for m in &r.outcome.messages {
        let to = m.to.as_deref().unwrap_or("-");
        println!("{} -> {to} ({:?}): {}", m.step, m.delivery_id, m.text);
    }
    println!(
        "outputs: {}",
        flowstep_embed::serde_json::Value::Object(r.outcome.outputs)
    );
    Ok(())
}
