//! The flow the contract's runs are of: a greeting, a charge (a request with an idempotency
//! key, counted at "the server", which echoes the API key back as an API would) and a
//! receipt. The engine runs it for real; only the charge is a custom step.

use async_trait::async_trait;
use flowstep_engine::{
    EffectKind, Engine, Journal, NoJournal, Plan, RecordingChannel, RunRequest, RunState, Secret,
    Step, StepContext, StepError,
};
use flowstep_spec::{Diagnostic, Flow, steps::StepDecl};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const FLOW: &str = "flow: pay
inputs:
  name: { type: string }
secrets: [API_KEY]
steps:
  - id: greet
    type: message
    text: Hello <<name>>
  - id: charge
    type: charge
  - id: say
    type: message
    text: Paid, <<name>> (<<charge_done>>)
outputs:
  charged: <<charge_done>>
";

/// The API key handed to every run; the store must never hold it.
pub const API_KEY: &str = "sk_test_store_never_holds_this_4242";

/// `type: charge`: announces a replay-safe POST with an idempotency key and sends it to "the
/// server", which charges once per key (a request sent again with its key gets the first
/// answer, as Stripe's do), and brings back what an API might: the key it was called with, in
/// the record, the step's output and a variable.
struct Charge {
    server: Arc<Server>,
}

/// What "the server" took: the idempotency key of each charge, and how many requests.
#[derive(Default)]
struct Server {
    keys: Mutex<Vec<String>>,
    requests: AtomicUsize,
}

#[async_trait]
impl Step for Charge {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let key = format!("flowstep-{}-{}", cx.run_id(), cx.decl().id.value);
        cx.before_effect(EffectKind::Request {
            method: "POST".into(),
            idempotency_key: Some(key.clone()),
            replay_safe: true,
        })
        .await?;
        self.server.requests.fetch_add(1, Ordering::SeqCst);
        let n = {
            let mut keys = self.server.keys.lock().unwrap();
            match keys.iter().position(|k| *k == key) {
                Some(i) => i + 1,
                None => {
                    keys.push(key);
                    keys.len()
                }
            }
        };
        let secret = cx
            .secrets()
            .iter()
            .find(|s| s.name == "API_KEY")
            .map(|s| s.value.expose().to_owned())
            .unwrap_or_default();
        cx.record(
            "request",
            json!({ "headers": { "authorization": format!("Bearer {secret}") } }),
        );
        cx.expose("body", json!({ "echo": secret, "charge": n }));
        cx.set_var("charge_token", format!("tok_{secret}"))?;
        cx.set_var("charge_done", n as u64)?;
        Ok(())
    }

    fn defines(&self) -> Vec<String> {
        vec!["charge_done".into(), "charge_token".into()]
    }
}

/// An engine with `type: charge`, and what "the server" has taken.
pub struct Payments {
    pub engine: Engine,
    server: Arc<Server>,
}

impl Payments {
    pub fn new() -> Self {
        let server = Arc::new(Server::default());
        let mut engine = Engine::new();
        let at = server.clone();
        engine.register(
            "charge",
            move |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
                Ok(Box::new(Charge { server: at.clone() }))
            },
        );
        Payments { engine, server }
    }

    /// The plan of a stored flow, compiled under its stored name.
    pub fn compile(&self, file: &str, source: &str) -> Plan {
        self.engine
            .compile_text(file, source)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Charges taken: one per idempotency key.
    pub fn charges(&self) -> usize {
        self.server.keys.lock().unwrap().len()
    }

    /// Requests received, a request sent again with its key included.
    pub fn requests(&self) -> usize {
        self.server.requests.load(Ordering::SeqCst)
    }
}

/// The forms the key could be stored in: as it is, its middle (a partial leak), and base64
/// (of the key alone and of a Basic credential).
pub fn secret_forms() -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        API_KEY.to_owned(),
        "store_never_holds_this".to_owned(),
        b64.encode(API_KEY),
        b64.encode(format!("{API_KEY}:")),
    ]
}

pub fn secrets() -> BTreeMap<String, Secret> {
    BTreeMap::from([("API_KEY".into(), Secret::new(API_KEY))])
}

pub fn inputs(name: &str) -> Map<String, Value> {
    Map::from_iter([("name".to_owned(), json!(name))])
}

/// A run request for a claimed run's inputs.
pub fn request<'a>(
    run_id: &str,
    inputs: &Map<String, Value>,
    channel: &'a RecordingChannel,
) -> RunRequest<'a> {
    let mut request = RunRequest::new().run_id(run_id).channel(channel);
    request.inputs = inputs.clone();
    request.secrets = secrets();
    request
}

/// A state of run `run_id`, as the engine hands it to a journal when the run starts.
pub async fn started_state(run_id: &str) -> RunState {
    #[derive(Default)]
    struct First(Mutex<Option<RunState>>);
    #[async_trait]
    impl Journal for First {
        async fn checkpoint(&self, s: &RunState) -> Result<(), flowstep_engine::JournalError> {
            self.0.lock().unwrap().get_or_insert_with(|| s.clone());
            NoJournal.checkpoint(s).await
        }
        async fn effect(
            &self,
            _: &RunState,
            _: &flowstep_engine::Effect,
        ) -> Result<(), flowstep_engine::JournalError> {
            Ok(())
        }
    }
    let payments = Payments::new();
    let plan = payments.compile("pay.yaml", FLOW);
    let channel = RecordingChannel::new();
    let first = First::default();
    plan.run_journaled(request(run_id, &inputs("Asha"), &channel), &first)
        .await
        .unwrap();
    first.0.into_inner().unwrap().unwrap()
}
