//! A run saved by its journal at any point can be continued: steps already done are not run
//! again, a request under way is repeated only when that is safe, a message under way is not
//! repeated, and the saved state (JSON) holds no secret. The crash is simulated by resuming
//! from each state the journal was handed, as a store would after `kill -9`.

use async_trait::async_trait;
use flowstep_engine::{
    Effect, EffectKind, Engine, InputValue, Journal, JournalError, Outcome, RecordingChannel,
    Redactor, ResumeRequest, RunError, RunMode, RunRequest, RunState, RunStatus, Secret, Step,
    StepContext, StepError, resolve_inputs,
};
use flowstep_spec::{Diagnostic, Flow, SourceFile, steps::StepDecl};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// `type: charge`: a request with an idempotency key (replay safe), counted at "the server".
/// `type: notify`: a POST without one (not replay safe).
struct Remote {
    replay_safe: bool,
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Step for Remote {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let key = format!("flowstep-{}-{}", cx.run_id(), cx.decl().id.value);
        cx.before_effect(EffectKind::Request {
            method: "POST".into(),
            idempotency_key: self.replay_safe.then_some(key),
            replay_safe: self.replay_safe,
        })
        .await?;
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        cx.set_var(format!("{}_done", cx.decl().id.value), n as u64)?;
        Ok(())
    }

    fn defines(&self) -> Vec<String> {
        vec!["charge_done".into(), "notify_done".into()]
    }
}

/// Every state and effect the journal is handed, as the JSON a store would keep.
#[derive(Default)]
struct Saved {
    points: Mutex<Vec<(String, Option<Effect>)>>,
}

#[async_trait]
impl Journal for Saved {
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError> {
        let json = serde_json::to_string(state).unwrap();
        self.points.lock().unwrap().push((json, None));
        Ok(())
    }

    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError> {
        let json = serde_json::to_string(state).unwrap();
        self.points
            .lock()
            .unwrap()
            .push((json, Some(effect.clone())));
        Ok(())
    }
}

const FLOW: &str = "flow: pay
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

struct Setup {
    engine: Engine,
    charges: Arc<AtomicUsize>,
}

fn setup() -> Setup {
    let charges = Arc::new(AtomicUsize::new(0));
    let mut engine = Engine::new();
    let calls = charges.clone();
    engine.register(
        "charge",
        move |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
            Ok(Box::new(Remote {
                replay_safe: true,
                calls: calls.clone(),
            }))
        },
    );
    let calls = charges.clone();
    engine.register(
        "notify",
        move |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
            Ok(Box::new(Remote {
                replay_safe: false,
                calls: calls.clone(),
            }))
        },
    );
    Setup { engine, charges }
}

fn secrets() -> BTreeMap<String, Secret> {
    BTreeMap::from([("API_KEY".into(), Secret::new("sk_test_resume_secret_42"))])
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn first_run(setup: &Setup, flow: &str, journal: &Saved) -> Outcome {
    let (plan, _) = setup
        .engine
        .compile_source(SourceFile::new("pay.yaml", flow))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let channel = RecordingChannel::new();
    let inputs = resolve_inputs(
        plan.flow(),
        vec![("name".into(), InputValue::Text("Asha".into()))],
    )
    .unwrap();
    block(plan.run_journaled(
        RunRequest {
            inputs,
            secrets: secrets(),
            run_id: Some("order-42".into()),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        },
        journal,
    ))
    .unwrap()
}

fn resume(setup: &Setup, flow: &str, state: &str, pending: Option<Effect>) -> (Outcome, usize) {
    let (plan, _) = setup
        .engine
        .compile_source(SourceFile::new("pay.yaml", flow))
        .unwrap();
    let channel = RecordingChannel::new();
    let state: RunState = serde_json::from_str(state).unwrap();
    let outcome = block(plan.resume(
        ResumeRequest {
            state,
            pending,
            secrets: secrets(),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        },
        &Saved::default(),
    ))
    .unwrap();
    (outcome, channel.sent().len())
}

#[test]
fn a_run_resumed_from_any_saved_point_ends_as_the_uninterrupted_run_did() {
    let setup = setup();
    let journal = Saved::default();
    let whole = first_run(&setup, FLOW, &journal);
    assert_eq!(whole.status, RunStatus::Succeeded);
    assert_eq!(setup.charges.load(Ordering::SeqCst), 1);
    let points = journal.points.into_inner().unwrap();
    // Start, greet's message, after greet, charge's request, after charge, say's message,
    // after say, and the end.
    let kinds: Vec<&str> = points
        .iter()
        .map(|(_, e)| match e.as_ref().map(|e| &e.kind) {
            None => "checkpoint",
            Some(EffectKind::Message) => "message",
            Some(EffectKind::Request { .. }) => "request",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "checkpoint",
            "message",
            "checkpoint",
            "request",
            "checkpoint",
            "message",
            "checkpoint",
            "checkpoint"
        ]
    );
    for (k, (state, effect)) in points.iter().enumerate() {
        assert!(
            !state.contains("sk_test_resume_secret_42"),
            "point {k}: a saved state holds the secret: {state}"
        );
        setup.charges.store(0, Ordering::SeqCst);
        let (outcome, sent) = resume(&setup, FLOW, state, effect.clone());
        assert_eq!(outcome.status, RunStatus::Succeeded, "point {k}");
        assert_eq!(outcome.run_id, "order-42");
        let step_ids: Vec<&str> = outcome.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            step_ids,
            ["greet", "charge", "say"],
            "point {k}: each step once"
        );
        assert_eq!(outcome.messages.len(), 2, "point {k}");
        let charged_before = k >= 4; // after charge's checkpoint
        assert_eq!(
            setup.charges.load(Ordering::SeqCst),
            usize::from(!charged_before),
            "point {k}: the charge is made again only if it was not done (same key)"
        );
        // A message under way when the run stopped is not sent again.
        let pending_message = matches!(effect, Some(e) if e.kind == EffectKind::Message);
        let unknown: Vec<bool> = outcome
            .messages
            .iter()
            .map(|m| m.delivery_unknown)
            .collect();
        match k {
            1 => assert_eq!(unknown, [true, false]),
            5 => assert_eq!(unknown, [false, true]),
            _ => assert_eq!(unknown, [false, false], "point {k}"),
        }
        let before = match k {
            0 | 1 => 0,
            2..=5 => 1,
            _ => 2,
        };
        assert_eq!(
            sent,
            2 - before - usize::from(pending_message),
            "point {k}: messages sent after resuming"
        );
        if k == 3 {
            assert_eq!(
                outcome.step("charge").unwrap().details["resumed"],
                "the run stopped while this request was being sent; it was sent again with the same idempotency key"
            );
        }
    }
}

#[test]
fn a_request_without_an_idempotency_key_that_was_under_way_is_not_sent_again() {
    let flow = FLOW
        .replace("type: charge", "type: notify")
        .replace("charge_done", "notify_done");
    let setup = setup();
    let journal = Saved::default();
    first_run(&setup, &flow, &journal);
    let points = journal.points.into_inner().unwrap();
    let (state, effect) = &points[3];
    assert!(matches!(
        effect.as_ref().map(|e| &e.kind),
        Some(EffectKind::Request {
            replay_safe: false,
            ..
        })
    ));
    setup.charges.store(0, Ordering::SeqCst);
    let (outcome, _) = resume(&setup, &flow, state, effect.clone());
    assert_eq!(setup.charges.load(Ordering::SeqCst), 0);
    assert_eq!(outcome.status, RunStatus::Failed);
    let e = outcome.step("charge").unwrap().error.as_ref().unwrap();
    assert_eq!(e.kind.as_str(), "unknown");
    assert!(
        e.message
            .starts_with("this POST request was being sent when the run stopped")
    );
    // The failure points at the step, drawn from the plan's file again.
    assert_eq!(e.at.as_ref().unwrap().to_string(), "pay.yaml:9:5");
}

#[test]
fn a_state_from_another_flow_is_refused() {
    let setup = setup();
    let journal = Saved::default();
    first_run(&setup, FLOW, &journal);
    let (state, _) = &journal.points.lock().unwrap()[2].clone();
    let other = FLOW.replace("flow: pay", "flow: other");
    let (plan, _) = setup
        .engine
        .compile_source(SourceFile::new("other.yaml", other))
        .unwrap();
    let channel = RecordingChannel::new();
    let err = block(plan.resume(
        ResumeRequest {
            state: serde_json::from_str(state).unwrap(),
            pending: None,
            secrets: secrets(),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        },
        &Saved::default(),
    ))
    .unwrap_err();
    assert!(matches!(err, RunError::NotResumable { .. }));
    assert_eq!(
        err.to_string(),
        "cannot resume run `order-42`: it is a run of flow `pay` with 3 steps, not of this plan (`other`, 3 steps)"
    );
}

#[test]
fn a_journal_that_cannot_save_stops_the_run_before_the_effect() {
    struct Full;
    #[async_trait]
    impl Journal for Full {
        async fn checkpoint(&self, _: &RunState) -> Result<(), JournalError> {
            Ok(())
        }
        async fn effect(&self, _: &RunState, e: &Effect) -> Result<(), JournalError> {
            match e.kind {
                EffectKind::Request { .. } => Err(JournalError("disk full".into())),
                EffectKind::Message => Ok(()),
            }
        }
    }
    let setup = setup();
    let (plan, _) = setup
        .engine
        .compile_source(SourceFile::new("pay.yaml", FLOW))
        .unwrap();
    let channel = RecordingChannel::new();
    let inputs = resolve_inputs(
        plan.flow(),
        vec![("name".into(), InputValue::Text("A".into()))],
    )
    .unwrap();
    let err = block(plan.run_journaled(
        RunRequest {
            inputs,
            secrets: secrets(),
            run_id: None,
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        },
        &Full,
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the run's progress could not be saved: disk full"
    );
    assert_eq!(setup.charges.load(Ordering::SeqCst), 0, "nothing charged");
    assert_eq!(channel.sent().len(), 1, "only the greeting went out");
}

#[test]
fn an_input_holding_a_secret_is_hidden_in_every_saved_state_and_the_outcome() {
    let setup = setup();
    let journal = Saved::default();
    let (plan, _) = setup
        .engine
        .compile_source(SourceFile::new("pay.yaml", FLOW))
        .unwrap();
    let channel = RecordingChannel::new();
    // A caller pasted the API key where the name goes.
    let inputs = resolve_inputs(
        plan.flow(),
        vec![(
            "name".into(),
            InputValue::Text("sk_test_resume_secret_42".into()),
        )],
    )
    .unwrap();
    let outcome = block(plan.run_journaled(
        RunRequest {
            inputs,
            secrets: secrets(),
            run_id: Some("order-43".into()),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        },
        &journal,
    ))
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    let shown = serde_json::to_string(&outcome).unwrap();
    assert!(!shown.contains("resume_secret"), "{shown}");
    assert_eq!(outcome.variables["name"], "sk_test_...t_42");
    for (state, _) in journal.points.into_inner().unwrap() {
        assert!(!state.contains("resume_secret"), "{state}");
    }
    for sent in channel.sent() {
        assert!(!sent.text.contains("resume_secret"), "{}", sent.text);
    }
}
