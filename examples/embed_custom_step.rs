//! Embedding flowstep in a chat backend: a custom `type: lookup_order` step that reads an
//! order from the backend's own store, a custom channel that collects messages, and a flow that
//! uses both, compiled, run with inputs and a secret, and read back from its `Outcome`.
//!
//! Run it with `cargo run --example embed_custom_step`. `tests/integration/embedding.rs`
//! includes this file and checks what [`run_example`] returns.

use async_trait::async_trait;
use flowstep_engine::{
    Channel, ChannelError, Delivery, Engine, ErrorKind, InputValue, Outcome, OutgoingMessage,
    Redactor, RunMode, RunRequest, Secret, Step, StepContext, StepError, resolve_inputs,
};
use flowstep_spec::steps::{StepDecl, StepSpec};
use flowstep_spec::{Diagnostic, Flow, SourceFile};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
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

/// `type: lookup_order`: reads `order:` (templated), finds it, and sets `customer_name`,
/// `amount_paise` and `amount_rupees` for later steps.
pub struct LookupOrder {
    orders: Arc<HashMap<String, Order>>,
    order: flowstep_spec::ValueTemplate,
}

#[async_trait]
impl Step for LookupOrder {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        // A real step would call the backend with this key; the engine hands it over only
        // because the flow declared it, and redacts it everywhere.
        if !cx.secrets().iter().any(|s| s.name == "ORDERS_API_KEY") {
            return Err(StepError::new(
                ErrorKind::Invalid,
                "ORDERS_API_KEY is not declared",
            ));
        }
        let id = match cx.render_value(&self.order)? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let Some(order) = self.orders.get(&id) else {
            return Err(StepError::new(
                ErrorKind::Rejected,
                format!("no order {id}"),
            ));
        };
        cx.record("order", json!({ "id": id }));
        cx.set_var("customer_name", json!(order.customer_name));
        cx.set_var("amount_paise", json!(order.amount_paise));
        cx.set_var(
            "amount_rupees",
            json!(format!(
                "{}.{:02}",
                order.amount_paise / 100,
                order.amount_paise % 100
            )),
        );
        Ok(())
    }

    /// Declared so that `<<customer_name>>` in a later step passes the compile-time check.
    fn defines(&self) -> Vec<String> {
        vec![
            "customer_name".into(),
            "amount_paise".into(),
            "amount_rupees".into(),
        ]
    }
}

/// Binds `type: lookup_order` declarations: checks the step has `order:` and builds the step.
fn lookup_order_kind(
    orders: Arc<HashMap<String, Order>>,
) -> impl Fn(&StepDecl, &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> + Send + Sync {
    move |decl: &StepDecl, _flow: &Flow| {
        let StepSpec::Plugin(spec) = &decl.spec else {
            unreachable!("the engine hands plugin kinds their own steps");
        };
        let order = spec.params.entry("order").cloned();
        match order {
            Some(order) => Ok(Box::new(LookupOrder {
                orders: orders.clone(),
                order,
            }) as Box<dyn Step>),
            None => Err(vec![Diagnostic::error(
                "E003",
                "`lookup_order` needs `order: <<order id>>`",
                decl.kind.span,
            )]),
        }
    }
}

/// A channel that keeps every message, as a test recorder or an outbox that a worker drains.
#[derive(Debug, Default)]
pub struct Outbox {
    sent: Mutex<Vec<String>>,
}

#[async_trait]
impl Channel for Outbox {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.push(message.text.clone());
        Ok(Delivery {
            id: Some(format!("outbox-{}", sent.len())),
        })
    }
}

/// What the example produced.
#[derive(Debug)]
pub struct ExampleResult {
    /// The run's outcome.
    pub outcome: Outcome,
    /// What the channel received.
    pub sent: Vec<String>,
}

/// Builds the engine, compiles [`FLOW`], runs it for order `A-1042`, and returns the outcome.
pub async fn run_example() -> Result<ExampleResult, String> {
    let orders = Arc::new(HashMap::from([(
        "A-1042".to_owned(),
        Order {
            customer_name: "Asha".into(),
            amount_paise: 129_950,
        },
    )]));

    // 1. An engine with the built-in steps, the http step, and our own kind. The default
    //    HttpConfig denies private networks: our users' flows must not reach our internal
    //    services (allow some with `network: NetworkPolicy { allow_hosts, allow_cidrs, .. }`).
    let mut engine = Engine::new();
    engine.register(
        "http",
        flowstep_http::kind(flowstep_http::HttpConfig::default()),
    );
    engine.register("lookup_order", lookup_order_kind(orders));

    // 2. Compile: every problem in the file at once, with positions.
    let (plan, _warnings) = engine
        .compile_source(SourceFile::new("order-reminder.yaml", FLOW))
        .map_err(|ds| {
            flowstep_spec::render_all(&ds, &SourceFile::new("order-reminder.yaml", FLOW))
        })?;

    // 3. Inputs, checked against the flow's declarations; secrets, wrapped at once.
    let inputs = resolve_inputs(
        plan.flow(),
        vec![("order_id".into(), InputValue::Text("A-1042".into()))],
    )
    .map_err(|problems| format!("{problems:?}"))?;
    let secrets = BTreeMap::from([(
        "ORDERS_API_KEY".to_owned(),
        Secret::new("ord_live_5c1b7f0e9a2d4c6b8e3f"),
    )]);

    // 4. Run with our channel; the redactor is shared with our log writer.
    let outbox = Outbox::default();
    let outcome = plan
        .run(RunRequest {
            inputs,
            secrets,
            run_id: Some("order-A-1042".into()),
            mode: RunMode::Live,
            channel: &outbox,
            redactor: Arc::new(Redactor::new()),
        })
        .await
        .map_err(|e| e.to_string())?;
    let sent = outbox.sent.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(ExampleResult { outcome, sent })
}

// Included by an integration test, which has its own entry point.
#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() {
    match run_example().await {
        Ok(r) => {
            // 5. Read the outcome: status, outputs, messages with their delivery ids.
            println!("status: {:?}", r.outcome.status);
            for m in &r.outcome.messages {
                println!("{} -> {:?}: {}", m.step, m.delivery_id, m.text);
            }
            println!("outputs: {}", serde_json::Value::Object(r.outcome.outputs));
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
