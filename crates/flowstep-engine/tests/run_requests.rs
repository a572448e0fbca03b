//! Runs built with `RunRequest`'s builder: inputs checked when the run starts, the recipient
//! handed to the channel with each message (with the step's path inside a used flow), a dry
//! run's stand-in for a secret that is not set (shown, never sent), and what a dry run shows
//! of values only a response would give.

use flowstep_engine::{
    Engine, RecordingChannel, RunError, RunRequest, RunStatus, Secret, StepStatus, step_fn,
};
use flowstep_spec::SourceFile;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// An engine whose `flow` steps can use `inner.yaml`, and a `key` step that records the
/// secret `K` it was given (where a real step would send it).
fn engine() -> Engine {
    let mut engine = Engine::new();
    engine.with_flow_loader(|reference: &str, _from: &SourceFile| match reference {
        "inner.yaml" => Ok(SourceFile::new(
            "inner.yaml",
            "flow: inner\ninputs:\n  who: { type: string }\nsteps:\n  - id: send_link\n    type: message\n    text: inner hello <<who>>\n",
        )),
        other => Err(format!("no flow {other}")),
    });
    engine.register_kind(
        "key",
        step_fn(|cx, (): ()| {
            let key = cx.secrets()[0].value.expose().to_owned();
            cx.record("authorization", format!("Bearer {key}").into());
            Ok(())
        }),
    );
    engine
}

#[test]
fn the_recipient_and_the_path_of_each_message_reach_the_channel() {
    let yaml = "flow: outer
inputs:
  who: { type: string }
steps:
  - id: pay
    type: flow
    use: inner.yaml
    with: { who: <<who>> }
  - id: send_link
    type: message
    text: outer hello <<who>>
";
    let plan = engine().compile_text("outer.yaml", yaml).unwrap();
    let channel = RecordingChannel::new();
    let request = RunRequest::new()
        .input("who", "Asha")
        .to("+919000090001")
        .channel(&channel);
    let outcome = block_on(plan.run(request)).unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    let sent: Vec<(String, String, Option<String>)> = channel
        .sent()
        .into_iter()
        .map(|m| (m.step, m.text, m.to))
        .collect();
    let to = Some("+919000090001".to_owned());
    assert_eq!(
        sent,
        [
            (
                "pay.send_link".into(),
                "inner hello Asha".into(),
                to.clone()
            ),
            ("send_link".into(), "outer hello Asha".into(), to.clone()),
        ]
    );
    let recorded: Vec<(&str, Option<&str>, bool)> = outcome
        .messages
        .iter()
        .map(|m| (m.step.as_str(), m.to.as_deref(), m.sent))
        .collect();
    assert_eq!(
        recorded,
        [
            ("pay.send_link", to.as_deref(), true),
            ("send_link", to.as_deref(), true)
        ]
    );
    // Without a channel, nothing is delivered and the outcome still lists the messages.
    let outcome = block_on(plan.run(RunRequest::new().input("who", "Ravi"))).unwrap();
    assert_eq!(outcome.messages.len(), 2);
    assert_eq!(outcome.messages[1].delivery_id, None);
}

#[test]
fn inputs_are_checked_when_the_run_starts() {
    let plan = engine()
        .compile_text(
            "n.yaml",
            "flow: n\ninputs:\n  n: { type: integer, default: 2 }\nsteps:\n  - id: m\n    type: message\n    text: <<n>>\n",
        )
        .unwrap();
    let outcome = block_on(plan.run(RunRequest::new())).unwrap();
    assert_eq!(outcome.messages[0].text, "2", "the default is filled in");
    let outcome = block_on(plan.run(RunRequest::new().input("n", "7"))).unwrap();
    assert_eq!(
        outcome.variables["n"], 7,
        "text is read as the input's type"
    );
    let err = block_on(plan.run(RunRequest::new().input("n", "seven").input("m", 1))).unwrap_err();
    let RunError::Inputs(problems) = &err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 2);
    assert_eq!(
        err.to_string(),
        "invalid input n: \"seven\" is not an integer\nunknown input `m`; did you mean `n`?"
    );
}

#[test]
fn a_dry_run_stand_in_for_a_secret_is_shown_and_a_live_run_refuses_it() {
    let plan = engine()
        .compile_text(
            "k.yaml",
            "flow: k\nsecrets: [K]\nsteps:\n  - id: call\n    type: key\n",
        )
        .unwrap();
    let stand_in = RunRequest::new().secret("K", Secret::placeholder("K"));
    let outcome = block_on(plan.run(stand_in.dry_run())).unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert_eq!(outcome.steps[0].details["authorization"], "Bearer <K>");
    let live = block_on(plan.run(RunRequest::new().secret("K", Secret::placeholder("K"))));
    assert_eq!(
        live.unwrap_err(),
        RunError::MissingSecrets(vec!["K".into()])
    );
    // A real key in a dry run is hidden as always.
    let real = RunRequest::new().secret("K", "k_live_5c1b7f0e9a2d4c6b8e3f");
    let outcome = block_on(plan.run(real.dry_run())).unwrap();
    assert_eq!(outcome.steps[0].details["authorization"], "Bearer ...8e3f");
    // A value that only contains the stand-in is not shown on its account.
    let redactor = std::sync::Arc::new(flowstep_engine::Redactor::new());
    redactor.add_stand_in("<K>");
    redactor.add("<K>");
    redactor.add("x<K>y-k_live_5c1b7f0e9a2d4c6b8e3f");
    assert_eq!(redactor.redact("Bearer <K>"), "Bearer <K>");
    assert!(
        !redactor
            .redact("x<K>y-k_live_5c1b7f0e9a2d4c6b8e3f")
            .contains("k_live")
    );
}

#[test]
fn a_dry_run_shows_what_depends_on_a_response_as_such() {
    let mut engine = Engine::new();
    engine.register_kind(
        "fetch",
        step_fn(|cx, (): ()| {
            cx.set_pending(
                "state",
                "<state: $.state from fetch>",
                "the response of fetch",
            )
        })
        .defines(["state"]),
    );
    let yaml = "flow: d
steps:
  - id: fetch
    type: fetch
  - id: derive
    type: set
    values:
      loud: <<upper state>>
  - id: paid
    type: message
    when: <<eq state \"paid\">>
    text: \"State: <<state>>, <<loud>>, <<upper state>>\"
";
    let plan = engine.compile_text("d.yaml", yaml).unwrap();
    let outcome = block_on(plan.run(RunRequest::new().dry_run())).unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    let paid = outcome.step("paid").unwrap();
    assert_eq!(paid.status, StepStatus::Succeeded);
    assert_eq!(paid.details["when"], "depends on the response of fetch");
    assert_eq!(
        outcome.messages[0].text,
        "State: <state: $.state from fetch>, <loud: depends on the response of fetch>, <upper state: depends on the response of fetch>"
    );
    assert!(!outcome.messages[0].sent);
    // A live run computes from what the step really set.
    let mut live = Engine::new();
    live.register_kind(
        "fetch",
        step_fn(|cx, (): ()| cx.set_pending("state", "paid", "the response of fetch"))
            .defines(["state"]),
    );
    let outcome = block_on(
        live.compile_text("d.yaml", yaml)
            .unwrap()
            .run(RunRequest::new()),
    )
    .unwrap();
    assert_eq!(outcome.messages[0].text, "State: paid, PAID, PAID");
    assert!(outcome.messages[0].sent);
}
