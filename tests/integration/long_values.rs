//! Error messages never repeat a long value in full: an unknown step type, a `next:` to an
//! unknown step, a bad `timeout:`, an undefined variable, a nested expression, a helper's
//! argument read from a response and an unknown `--var` name are each shown cut to their
//! first 60 characters and their size (docs/errors.md).

use crate::recorder::{Recorder, json_ok};
use crate::support::{Scratch, run};

/// The most an error about one long value may print: the value itself is 300,000 characters.
const SHORT: usize = 2_000;

/// Checks a flow whose step has `line` (indented under the step) and returns stderr.
fn check_step(line: &str) -> String {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        &format!("flow: f\nsteps:\n  - id: m\n    type: message\n    text: hi\n{line}\n"),
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.len() < SHORT,
        "{} bytes: {}",
        out.stderr.len(),
        &out.stderr[..SHORT]
    );
    out.stderr
}

fn cut(c: char) -> String {
    format!("`{}…` (300000 characters)", c.to_string().repeat(60))
}

#[test]
fn long_names_in_a_flow_are_cut_in_check_errors() {
    let long = "k".repeat(300_000);
    let stderr = check_step(&format!("    next: {long}"));
    assert!(
        stderr.starts_with(&format!(
            "error[E005]: `next` names unknown step {}\n",
            cut('k')
        )),
        "{stderr}"
    );

    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        &format!("flow: f\nsteps:\n  - id: m\n    type: {long}\n"),
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert!(out.stderr.len() < SHORT, "{} bytes", out.stderr.len());
    assert!(
        out.stderr
            .starts_with(&format!("error[E008]: unknown step type {}\n", cut('k'))),
        "{}",
        out.stderr
    );

    let flow = dir.write(
        "v.yaml",
        &format!("flow: f\nsteps:\n  - id: m\n    type: message\n    text: <<{long}>>\n"),
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert!(out.stderr.len() < SHORT, "{} bytes", out.stderr.len());
    // Message and help both name the variable, both cut.
    assert!(
        out.stderr.starts_with(&format!(
            "error[E005]: undefined variable {} in message step `m`\n",
            cut('k')
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("= help: declare {} under `inputs:`", cut('k'))),
        "{}",
        out.stderr
    );
}

#[test]
fn a_long_timeout_is_cut_in_its_error() {
    let dir = Scratch::new();
    let nines = "9".repeat(300_000);
    let flow = dir.write(
        "f.yaml",
        &format!(
            "flow: f\nsteps:\n  - id: m\n    type: http\n    url: http://127.0.0.1:9/\n    timeout: {nines}s\n"
        ),
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.len() < SHORT, "{} bytes", out.stderr.len());
    assert!(
        out.stderr.starts_with(&format!(
            "error[E010]: `{}…` (300001 characters) is longer than the longest duration allowed, 1h\n",
            "9".repeat(60)
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_deeply_nested_expression_is_cut_and_the_cause_said_in_words() {
    let dir = Scratch::new();
    let depth = 5_000;
    let expr = format!("add 1 {}1{}", "(add 1 ".repeat(depth), ")".repeat(depth));
    let flow = dir.write(
        "f.yaml",
        &format!("flow: f\nsteps:\n  - id: m\n    type: message\n    text: '<<{expr}>>'\n"),
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.len() < SHORT, "{} bytes", out.stderr.len());
    let shown: String = format!("<<{expr}>>").chars().take(60).collect();
    assert!(
        out.stderr.starts_with(&format!(
            "error[E006]: cannot parse the expression `{shown}…` ({} characters)\n",
            expr.len() + 4
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "the expression nests too deeply; compute its inner parts in a `set` step first"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("stack limit"), "{}", out.stderr);
}

#[test]
fn a_huge_number_from_a_response_is_cut_in_a_helper_error() {
    let nines = "9".repeat(200_000);
    let server = Recorder::start(vec![json_ok(&format!("{{\"a\":{nines}}}"))]);
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        &format!(
            "flow: f\nsteps:\n  - id: g\n    type: http\n    url: {}\n    response: {{ map: {{ a: $.a }} }}\n  - id: m\n    type: message\n    text: <<add a 1>>\n",
            server.url("/n")
        ),
    );
    let out = run(dir.path(), &["run", flow.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let all = out.all_output();
    assert!(all.len() < SHORT, "{} bytes", all.len());
    assert!(
        all.contains(&format!(
            "add: {}… (200000 characters) has more than 38 digits",
            "9".repeat(60)
        )),
        "{all}"
    );
}

#[test]
fn a_long_unknown_var_name_is_cut() {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        "flow: f\ninputs:\n  n: { type: integer }\nsteps:\n  - id: m\n    type: message\n    text: <<n>>\n",
    );
    let name = "z".repeat(100_000);
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--var",
            "n=1",
            "--var",
            &format!("{name}=1"),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.len() < SHORT, "{} bytes", out.stderr.len());
    assert!(
        out.stderr.starts_with(&format!(
            "error: unknown input `{}…` (100000 characters)\n",
            "z".repeat(60)
        )),
        "{}",
        out.stderr
    );
}
