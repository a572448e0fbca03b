//! Errors are errors: every public error type of the library crates implements
//! `std::error::Error` (and is `Send + Sync + 'static`), so `?` takes it in a `main` that
//! returns `anyhow::Result` or `Box<dyn Error>`, and what that main prints says what is wrong
//! and where (drawn diagnostics for a flow that does not compile).

use flowstep_engine::{
    ChannelError, CompileError, Engine, InputProblem, InputProblems, InputValue, RunError,
    RunIdError, RunRequest, StepError, check_run_id, resolve_inputs,
};
use flowstep_http::{Cidr, CidrError, Denied, NetworkPolicy, Route, RouteError};
use flowstep_spec::jsonpath::{CompiledPath, SelectError};
use flowstep_spec::{InputError, Scope, Span, TemplateError};
use std::error::Error;

/// A type that `?` converts into `anyhow::Error` and `Box<dyn Error + Send + Sync>`.
fn is_an_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn every_public_error_type_is_an_error_anyhow_takes() {
    is_an_error::<CompileError>();
    is_an_error::<InputProblems>();
    is_an_error::<InputProblem>();
    is_an_error::<RunError>();
    is_an_error::<RunIdError>();
    is_an_error::<StepError>();
    is_an_error::<ChannelError>();
    is_an_error::<InputError>();
    is_an_error::<TemplateError>();
    is_an_error::<SelectError>();
    is_an_error::<RouteError>();
    is_an_error::<CidrError>();
    is_an_error::<Denied>();
}

/// What an `anyhow` main and a `Box<dyn Error>` main would print for `result`'s error, each
/// got through `?`.
fn through_question_mark<T, E: Error + Send + Sync + 'static>(
    result: impl Fn() -> Result<T, E>,
) -> (String, String) {
    let anyhow_main = || -> anyhow::Result<()> {
        result()?;
        Ok(())
    };
    let boxed_main = || -> Result<(), Box<dyn Error + Send + Sync>> {
        result()?;
        Ok(())
    };
    let a = anyhow_main().expect_err("an error");
    let b = boxed_main().expect_err("an error");
    // `main` prints `Error: {:?}`; anyhow's Debug is the error's Display and its causes (and
    // a backtrace, when RUST_BACKTRACE asks for one).
    let a = format!("{a:?}");
    let a = a.split("\n\nStack backtrace:").next().unwrap_or_default();
    (a.to_owned(), format!("{b:?}"))
}

const BAD_FLOW: &str = "flow: f\nsteps:\n  - id: a\n    type: mesage\n    text: hi\n";

#[test]
fn a_flow_that_does_not_compile_prints_its_drawn_diagnostics_from_either_main() {
    let (anyhow, boxed) =
        through_question_mark(|| Engine::new().compile_text("bad.yaml", BAD_FLOW));
    let drawn = "error[E008]: unknown step type `mesage`
 --> bad.yaml:4:11
  |
4 |     type: mesage
  |           ^^^^^^
  |
  = help: did you mean `message`?

error: could not compile bad.yaml: 1 error";
    assert_eq!(anyhow, drawn);
    assert_eq!(boxed, drawn);
}

fn flow() -> flowstep_spec::Flow {
    flowstep_spec::read_flow(flowstep_spec::SourceFile::new(
        "f.yaml",
        "flow: f\ninputs:\n  n: { type: integer, minimum: 1 }\nsecrets: [K]\nsteps:\n  - id: say\n    type: message\n    text: <<n>>\n",
    ))
    .unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

#[test]
fn every_engine_error_goes_through_question_mark_and_says_what_is_wrong() {
    let (a, b) = through_question_mark(|| {
        resolve_inputs(&flow(), vec![("n".into(), InputValue::from("0"))])
    });
    assert_eq!(a, "invalid input n: 0 is less than the minimum 1");
    assert_eq!(a, b);

    let plan = Engine::new().compile(flow()).unwrap();
    let cases: Vec<(RunRequest<'static>, &str)> = vec![
        (
            RunRequest::new()
                .input("n", "x")
                .secret("K", "k_live_0123456789abcdef"),
            "invalid input n: \"x\" is not an integer",
        ),
        (RunRequest::new().input("n", 2), "missing secret: K"),
        (
            RunRequest::new()
                .input("n", 2)
                .secret("K", "k_live_0123456789abcdef")
                .run_id("order 7"),
            "the run id \"order 7\" has ' ' at character 6",
        ),
    ];
    for (request, expected) in cases {
        let outcome = block_on(plan.run(request));
        let (a, b) = through_question_mark(|| outcome.clone());
        assert!(a.starts_with(expected), "{a}");
        assert_eq!(a, b);
    }
    let (a, _) = through_question_mark(|| check_run_id(""));
    assert!(a.starts_with("the run id is empty"), "{a}");
    let (a, _) = through_question_mark(|| -> Result<(), StepError> {
        Err(StepError::invalid("the order is gone"))
    });
    assert_eq!(a, "invalid: the order is gone");
    let (a, _) = through_question_mark(|| -> Result<(), ChannelError> {
        Err(ChannelError {
            message: "WhatsApp Cloud API answered HTTP 401".into(),
            transient: false,
        })
    });
    assert_eq!(a, "WhatsApp Cloud API answered HTTP 401");
}

#[test]
fn every_spec_and_http_error_goes_through_question_mark() {
    let flow = flow();
    let (a, _) = through_question_mark(|| flow.inputs[0].parse_text("0"));
    assert_eq!(a, "n: 0 is less than the minimum 1");
    let flowstep_spec::steps::StepSpec::Message(m) = &flow.steps[0].spec else {
        panic!("a message step")
    };
    let (a, _) = through_question_mark(|| {
        flow.templates
            .render(m.text.as_ref().unwrap(), &Scope::new(serde_json::json!({})))
    });
    assert_eq!(a, "undefined variable `n` in `<<n>>`");
    let (a, _) = through_question_mark(|| {
        CompiledPath::compile("$.url", Span::default())
            .unwrap()
            .select(&serde_json::json!({}))
    });
    assert_eq!(a, "the path matched nothing");
    let (a, _) = through_question_mark(|| "api.stripe.com".parse::<Route>());
    assert!(a.contains("api.stripe.com"), "{a}");
    let (a, _) = through_question_mark(|| "10.0.0.0/33".parse::<Cidr>());
    assert!(a.contains("10.0.0.0/33"), "{a}");
    let (a, _) = through_question_mark(|| {
        NetworkPolicy::deny_private().check("metadata.internal", "169.254.169.254".parse().unwrap())
    });
    assert!(a.contains("169.254.169.254"), "{a}");
}
