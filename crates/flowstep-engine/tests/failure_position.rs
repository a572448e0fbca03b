//! Where a run says a step failed: the failing expression when a template failed, else the
//! failing step's declaration; the flow itself reads the error without the position.

use flowstep_engine::{
    Engine, RecordingChannel, Redactor, RunMode, RunRequest, Step, StepContext, StepError,
    resolve_inputs,
};
use flowstep_spec::steps::StepDecl;
use flowstep_spec::{Diagnostic, Flow, SourceFile};
use std::sync::Arc;

/// `type: refuse`: fails without saying where.
struct Refuse;

#[async_trait::async_trait]
impl Step for Refuse {
    async fn run(&self, _: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::invalid("no"))
    }
}

fn run(yaml: &str) -> flowstep_engine::Outcome {
    let mut engine = Engine::new();
    engine.register(
        "refuse",
        |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> { Ok(Box::new(Refuse)) },
    );
    let (plan, _) = engine
        .compile_source(SourceFile::new("f.yaml", yaml))
        .unwrap();
    let channel = RecordingChannel::new();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest {
            inputs: resolve_inputs(plan.flow(), Vec::new()).unwrap(),
            secrets: Default::default(),
            run_id: None,
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        }))
        .unwrap()
}

#[test]
fn a_step_that_does_not_say_where_it_failed_is_placed_at_its_declaration() {
    let outcome = run(
        "flow: f\nsteps:\n  - id: r\n    type: refuse\n    on_error: continue\n  - id: m\n    type: message\n    text: <<steps.r.error>>\n",
    );
    let error = outcome.step("r").unwrap().error.as_ref().unwrap();
    assert_eq!(error.at.as_ref().unwrap().to_string(), "f.yaml:3:5");
    // The flow reads the error as documented; where it failed is for the report only.
    assert_eq!(
        outcome.messages[0].text,
        r#"{"kind":"invalid","message":"no"}"#
    );
}

#[test]
fn a_when_that_fails_to_render_is_placed_at_its_expression() {
    let outcome = run(
        "flow: f\ninputs:\n  n: { type: string, default: x }\nsteps:\n  - id: m\n    type: message\n    when: <<minor_units n \"inr\">>\n    text: hi\n",
    );
    let error = outcome.step("m").unwrap().error.as_ref().unwrap();
    assert_eq!(error.at.as_ref().unwrap().to_string(), "f.yaml:7:11");
    assert_eq!(
        error.render(),
        r#"error[invalid]: `<<minor_units n "inr">>` failed: `minor_units`: "x" is not a decimal amount (write it like "19.99")
 --> f.yaml:7:11
  |
7 |     when: <<minor_units n "inr">>
  |           ^^^^^^^^^^^^^^^^^^^^^^^
  |"#
    );
}
