//! Plugin steps with typed keys: the keys checked against a `serde::Deserialize` type when the
//! flow is compiled (unknown, missing and mistyped keys, each at its position, all at once),
//! read into it when the step runs; binder closures whose types are inferred; and the hint
//! about `Step::defines` when a plugin step's variable was not declared.

use flowstep_engine::{
    CompileError, Engine, ErrorKind, RunRequest, RunStatus, Step, StepContext, StepError,
    StepStatus, check_keys, step_fn,
};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct LookupKeys {
    order: String,
    retries: Option<u32>,
    #[serde(default)]
    notify: Vec<Contact>,
}

#[derive(Debug, Deserialize)]
struct Contact {
    phone: String,
    #[serde(default)]
    channel: Channel,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Channel {
    #[default]
    Whatsapp,
    Sms,
}

fn engine() -> Engine {
    let mut engine = Engine::new();
    let lookup = step_fn(|cx, keys: LookupKeys| {
        let phones: Vec<&str> = keys.notify.iter().map(|c| c.phone.as_str()).collect();
        let channels: Vec<String> = keys
            .notify
            .iter()
            .map(|c| format!("{:?}", c.channel))
            .collect();
        cx.set_var(
            "found",
            format!(
                "{} ({} retries; notify {} by {})",
                keys.order,
                keys.retries.unwrap_or(0),
                phones.join(","),
                channels.join(",")
            ),
        )
    });
    engine.register_kind("lookup", lookup.defines(["found"]));
    engine
}

fn compile_error(yaml: &str) -> CompileError {
    engine().compile_text("orders.yaml", yaml).unwrap_err()
}

/// The diagnostic a user sees for a misspelt key of a plugin step, pinned as a whole: the same
/// code, drawing and "did you mean" as a misspelt key of a built-in step.
#[test]
fn an_unknown_key_is_refused_at_compile_time_with_its_position_and_a_suggestion() {
    let yaml =
        "flow: orders\nsteps:\n  - id: find\n    type: lookup\n    order: A-1042\n    retires: 3\n";
    let err = compile_error(yaml);
    assert_eq!(
        err.to_string(),
        "error[E002]: unknown key `retires` in the `lookup` step
 --> orders.yaml:6:5
  |
6 |     retires: 3
  |     ^^^^^^^
  |
  = help: did you mean `retries`?

error: could not compile orders.yaml: 1 error"
    );
}

#[test]
fn every_problem_is_reported_at_once_nested_ones_at_their_place() {
    let yaml = "flow: orders
steps:
  - id: find
    type: lookup
    retries: three
    desciption: look it up
    notify:
      - { phone: '+919000090000', channel: fax }
      - { phone: 42, chanel: sms }
      - { channel: sms }
";
    let err = compile_error(yaml);
    let got: Vec<(String, String, Option<String>)> = err
        .diagnostics()
        .iter()
        .map(|d| {
            let (line, col) = d.line_col(err.file());
            (
                format!("{} {line}:{col}", d.code),
                d.message.clone(),
                d.help.clone(),
            )
        })
        .collect();
    let expected = [
        (
            "E004 5:14",
            "`retries` in the `lookup` step: invalid type: string \"three\", expected u32",
            None,
        ),
        (
            "E002 6:5",
            "unknown key `desciption` in the `lookup` step",
            Some("did you mean `description`?"),
        ),
        (
            "E004 8:44",
            "`notify[0].channel` in the `lookup` step: unknown variant `fax`, expected `whatsapp` or `sms`",
            None,
        ),
        (
            "E004 9:18",
            "`notify[1].phone` in the `lookup` step: invalid type: number, expected a string",
            None,
        ),
        (
            "E002 9:22",
            "unknown key `chanel` in `notify[1]` in the `lookup` step",
            Some("did you mean `channel`?"),
        ),
        (
            "E003 10:11",
            "missing `phone` in `notify[2]` in the `lookup` step",
            None,
        ),
        ("E003 4:11", "missing `order` in the `lookup` step", None),
    ];
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let mut want: Vec<(String, String, Option<String>)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.map(str::to_owned)))
        .collect();
    want.sort();
    assert_eq!(got_sorted, want, "{err}");
}

#[test]
fn a_template_stands_for_any_value_until_the_run_reads_it() {
    let yaml = "flow: orders
inputs:
  order_id: { type: string }
  tries: { type: integer }
  label: { type: string, default: none }
  labelled: { type: boolean, default: false }
steps:
  - id: find
    type: lookup
    when: <<not labelled>>
    order: <<order_id>>
    retries: <<tries>>
    notify: [{ phone: <<order_id>> }]
  - id: find_labelled
    type: lookup
    when: <<labelled>>
    order: <<order_id>>
    retries: <<label>>
";
    let plan = engine().compile_text("orders.yaml", yaml).unwrap();
    let run = |request: RunRequest<'static>| {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(plan.run(request.input("order_id", "A-1042").input("tries", 3)))
            .unwrap()
    };
    let ok = run(RunRequest::new());
    assert_eq!(ok.status, RunStatus::Succeeded);
    assert_eq!(
        ok.variables["found"],
        "A-1042 (3 retries; notify A-1042 by Whatsapp)"
    );
    // Text where the type wants a number: the step fails as `invalid`, saying which key.
    let bad = run(RunRequest::new()
        .input("labelled", true)
        .input("label", "three"));
    assert_eq!(bad.status, RunStatus::Failed);
    let error = bad.steps[1].error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert_eq!(
        error.message,
        "the keys of lookup step `find_labelled`: invalid type: string \"three\", expected u32"
    );
    assert_eq!(error.at.as_ref().unwrap().to_string(), "orders.yaml:14:5");
}

#[test]
fn a_step_with_no_keys_of_its_own_refuses_any() {
    let mut engine = Engine::new();
    engine.register_kind(
        "tick",
        step_fn(|cx, (): ()| cx.set_var("ticked", true)).defines(["ticked"]),
    );
    let err = engine
        .compile_text(
            "t.yaml",
            "flow: t\nsteps:\n  - id: t\n    type: tick\n    description: ok\n    every: 5m\n",
        )
        .unwrap_err();
    assert_eq!(err.len(), 1, "{err}");
    assert_eq!(err[0].message, "unknown key `every` in the `tick` step");
    assert_eq!(
        err[0].help.as_deref(),
        Some("the `tick` step takes no keys besides the ones every step has")
    );
    let plan = engine
        .compile_text(
            "t.yaml",
            "flow: t\nsteps:\n  - id: t\n    type: tick\n  - id: m\n    type: message\n    text: <<ticked>>\n",
        )
        .unwrap();
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest::new()))
        .unwrap();
    assert_eq!(outcome.messages[0].text, "true");
}

#[test]
fn open_ended_keys_pass_through_a_map_type() {
    let mut engine = Engine::new();
    let tags = step_fn(|cx, keys: BTreeMap<String, serde_json::Value>| {
        cx.set_var("tags", keys.keys().cloned().collect::<Vec<_>>().join(","))
    });
    engine.register_kind("tags", tags.defines(["tags"]));
    let yaml = "flow: t\nsteps:\n  - id: t\n    type: tags\n    vip: true\n    region: south\n  - id: m\n    type: message\n    text: <<tags>>\n";
    let plan = engine.compile_text("t.yaml", yaml).unwrap();
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest::new()))
        .unwrap();
    assert_eq!(outcome.messages[0].text, "region,vip");
}

/// A hand-written step kind: the binder is a closure whose argument types are inferred, and it
/// checks its keys itself with `check_keys`.
#[test]
fn a_binder_closure_needs_no_annotations_and_can_check_its_keys() {
    struct Hello;
    #[async_trait::async_trait]
    impl Step for Hello {
        async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
            let keys: LookupKeys = cx.keys()?;
            cx.set_var("greeting", format!("hello {}", keys.order))
        }
        fn defines(&self) -> Vec<String> {
            vec!["greeting".into()]
        }
    }
    let mut engine = Engine::new();
    engine.register("hello", |decl, _flow| {
        check_keys::<LookupKeys>(decl)?;
        Ok(Box::new(Hello))
    });
    let yaml = "flow: h\nsteps:\n  - id: h\n    type: hello\n    order: A-1\n  - id: m\n    type: message\n    text: <<greeting>>\n";
    let plan = engine.compile_text("h.yaml", yaml).unwrap();
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest::new()))
        .unwrap();
    assert_eq!(outcome.steps[0].status, StepStatus::Succeeded);
    assert_eq!(outcome.messages[0].text, "hello A-1");
    let err = engine
        .compile_text("h.yaml", "flow: h\nsteps:\n  - id: h\n    type: hello\n")
        .unwrap_err();
    assert_eq!(err[0].message, "missing `order` in the `hello` step");
}

#[test]
fn a_variable_a_plugin_step_sets_without_declaring_it_points_at_defines() {
    let mut engine = Engine::new();
    engine.register_kind("greet", step_fn(|cx, (): ()| cx.set_var("greeting", "hi")));
    let yaml = "flow: g\nsteps:\n  - id: hello\n    type: greet\n  - id: say\n    type: message\n    text: <<greeting>>\n";
    let err = engine.compile_text("g.yaml", yaml).unwrap_err();
    assert_eq!(err.len(), 1, "{err}");
    assert_eq!(
        err[0].message,
        "undefined variable `greeting` in message step `say`"
    );
    assert_eq!(
        err[0].help.as_deref(),
        Some(
            "declare `greeting` under `inputs:`, or map it from an earlier step's response; if greet step `hello` sets it, its step kind must declare it in `Step::defines` (`.defines([\"greeting\"])` for a `step_fn`), so that the check knows"
        )
    );
    // Without a plugin step before it, the help is the usual one.
    let plain = "flow: g\nsteps:\n  - id: say\n    type: message\n    text: <<greeting>>\n";
    let err = engine.compile_text("g.yaml", plain).unwrap_err();
    assert!(
        !err[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("Step::defines"),
        "{err}"
    );
}

#[test]
fn a_variable_name_a_template_cannot_read_is_refused_when_set() {
    let mut engine = Engine::new();
    engine.register_kind("bad", step_fn(|cx, (): ()| cx.set_var("steps", 1)));
    let plan = engine
        .compile_text("b.yaml", "flow: b\nsteps:\n  - id: b\n    type: bad\n")
        .unwrap();
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest::new()))
        .unwrap();
    let error = outcome.steps[0].error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(
        error
            .message
            .starts_with("step `b` cannot set variable \"steps\""),
        "{}",
        error.message
    );
}

#[test]
fn a_step_whose_keys_are_wrong_is_not_echoed_as_undefined_variables_below_it() {
    // A `step_fn` says what it sets even when its keys are wrong.
    let yaml = "flow: o\nsteps:\n  - id: find\n    type: lookup\n    ordr: A-1\n  - id: say\n    type: message\n    text: <<found>> <<nothing>>\n";
    let err = compile_error(yaml);
    let messages: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "missing `order` in the `lookup` step",
            "unknown key `ordr` in the `lookup` step",
            "undefined variable `nothing` in message step `say`",
        ]
    );
    // A binder closure cannot say: reads below the step are left unreported until it binds.
    struct Noop;
    #[async_trait::async_trait]
    impl Step for Noop {
        async fn run(&self, _cx: &mut StepContext<'_>) -> Result<(), StepError> {
            Ok(())
        }
    }
    let mut engine = Engine::new();
    engine.register("lookup", |decl, _flow| {
        check_keys::<LookupKeys>(decl)?;
        Ok(Box::new(Noop))
    });
    let err = engine.compile_text("o.yaml", yaml).unwrap_err();
    let messages: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "missing `order` in the `lookup` step",
            "unknown key `ordr` in the `lookup` step",
        ]
    );
}
