//! The run id a caller gives is checked before anything runs (an empty one would make every
//! such run share its idempotency keys); ids the engine derives for `flow` steps may be longer.

use flowstep_engine::{
    Engine, Outcome, RecordingChannel, Redactor, RunError, RunIdError, RunMode, RunRequest,
    RunStatus, resolve_inputs,
};
use flowstep_spec::SourceFile;
use std::sync::Arc;

fn run(engine: &Engine, yaml: &str, run_id: Option<&str>) -> Result<Outcome, RunError> {
    let (plan, _) = engine
        .compile_source(SourceFile::new("f.yaml", yaml))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let channel = RecordingChannel::new();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest {
            inputs: resolve_inputs(plan.flow(), Vec::new()).unwrap(),
            secrets: Default::default(),
            run_id: run_id.map(str::to_owned),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        }))
}

const SAY: &str = "flow: f\nsteps:\n  - id: say\n    type: message\n    text: run <<run.id>>\n";

#[test]
fn an_empty_or_malformed_run_id_is_a_typed_error_and_nothing_runs() {
    let engine = Engine::new();
    assert_eq!(
        run(&engine, SAY, Some("")).unwrap_err(),
        RunError::InvalidRunId(RunIdError::Empty)
    );
    let e = run(&engine, SAY, Some("order 7")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the run id \"order 7\" has ' ' at character 6; a run id is 1 to 128 ASCII letters, \
         digits, `-`, `_` and `.`, starting with a letter or digit"
    );
    assert_eq!(
        run(&engine, SAY, Some(&"r".repeat(129))).unwrap_err(),
        RunError::InvalidRunId(RunIdError::TooLong { len: 129 })
    );
    let ok = run(&engine, SAY, Some("order-1042")).unwrap();
    assert_eq!(ok.messages[0].text, "run order-1042");
}

#[test]
fn a_used_flow_runs_under_a_derived_id_longer_than_a_caller_may_give() {
    let mut engine = Engine::new();
    engine.with_flow_loader(|reference: &str, _: &SourceFile| {
        assert_eq!(reference, "./inner.yaml");
        Ok(SourceFile::new(
            "inner.yaml",
            SAY.replace("flow: f", "flow: inner"),
        ))
    });
    let longest = "r".repeat(128);
    let outcome = run(
        &engine,
        "flow: outer\nsteps:\n  - id: nested_step\n    type: flow\n    use: ./inner.yaml\n",
        Some(&longest),
    )
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.steps);
    assert_eq!(
        outcome.messages[0].text,
        format!("run {longest}.nested_step")
    );
}
