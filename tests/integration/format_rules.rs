//! Rules of the flow format as a user meets them through `check` and `run`: what a constant
//! `when:` is called, an empty vars file, null from the command line, YAML tags, numbers read
//! from text, retry delays.

use crate::support::{Scratch, run};

/// `check` of a flow whose one message step has `extra` (indented under the step): stderr.
fn check_step(extra: &str) -> String {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        &format!("flow: f\nsteps:\n  - id: m\n    type: message\n    text: hi\n{extra}\n"),
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    out.stderr
}

#[test]
fn a_constant_when_is_named_for_what_it_is() {
    for (when, found, label) in [
        ("false", "a boolean", "a constant condition"),
        ("1", "a number", "a constant condition"),
        (
            "''",
            "empty text",
            "empty text counts as false: the step would never run",
        ),
        (
            "paid",
            "text",
            "text is not empty, so it counts as true: the step would always run",
        ),
    ] {
        let stderr = check_step(&format!("    when: {when}"));
        assert!(
            stderr.starts_with(&format!(
                "error[E004]: `when` must be one expression in `<< >>`, found {found}\n"
            )),
            "{when}: {stderr}"
        );
        assert!(stderr.contains(label), "{when}: {stderr}");
    }
}

/// A flow with one optional input of each type, printing them.
const NUMS: &str = "flow: nums\ninputs:\n  n: { type: number, default: null }\n  i: { type: integer, default: null }\n  s: { type: string, default: null }\nsteps:\n  - id: m\n    type: message\n    text: hi\noutputs: { n: <<n>>, i: <<i>>, s: <<s>> }\n";

#[test]
fn an_empty_vars_file_is_called_one() {
    let dir = Scratch::new();
    let flow = dir.write("nums.yaml", NUMS);
    let vars = dir.write("empty.yaml", "");
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--vars",
            vars.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(&format!(
            "error[E001]: the vars file is empty\n --> {}\n  = help: write one `name: value` per line, like `amount_paise: 50000`\n",
            vars.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("flow file"), "{}", out.stderr);
}

#[test]
fn a_max_delay_under_the_base_delay_is_an_error_at_max_delay() {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        "flow: f\nsteps:\n  - id: g\n    type: http\n    url: http://127.0.0.1:9/\n    retry: { base_delay: 2s, max_delay: 1s }\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(&format!(
            "error[E010]: `max_delay` (1s) must be at least `base_delay`, 2s\n --> {}:6:41\n",
            flow.display()
        )),
        "{}",
        out.stderr
    );
    // Without `base_delay`, the ceiling is compared with the default.
    let flow = dir.write(
        "g.yaml",
        "flow: f\nsteps:\n  - id: g\n    type: http\n    url: http://127.0.0.1:9/\n    retry: { max_delay: 100ms }\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert!(
        out.stderr.starts_with(
            "error[E010]: `max_delay` (100ms) must be at least the default `base_delay`, 500ms\n"
        ),
        "{}",
        out.stderr
    );
    let flow = dir.write(
        "h.yaml",
        "flow: f\nsteps:\n  - id: g\n    type: http\n    url: http://127.0.0.1:9/\n    retry: { base_delay: 1s, max_delay: 1s }\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn null_text_unsets_an_optional_input_but_a_string_keeps_it() {
    let dir = Scratch::new();
    let flow = dir.write("nums.yaml", NUMS);
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--output",
            "json",
            "--var",
            "i=",
            "--var",
            "n=~",
            "--var",
            "s=~",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let outputs = &out.json()["outputs"];
    assert_eq!(outputs["i"], serde_json::Value::Null, "{outputs}");
    assert_eq!(outputs["n"], serde_json::Value::Null, "{outputs}");
    assert_eq!(outputs["s"], "~", "{outputs}");

    // A required input is not left unset that way.
    let flow = dir.write(
        "req.yaml",
        "flow: req\ninputs:\n  i: { type: integer }\nsteps:\n  - id: m\n    type: message\n    text: <<i>>\n",
    );
    let out = run(dir.path(), &["run", flow.to_str().unwrap(), "--var", "i="]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(
            "error: invalid input i: an empty value is not an integer; give one, or make the input optional (`default: null`)\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_number_from_text_keeps_its_value_without_gaining_digits() {
    let dir = Scratch::new();
    let flow = dir.write("nums.yaml", NUMS);
    for (given, shown) in [("+5", "5"), (".5", "0.5"), ("19.90", "19.90")] {
        let out = run(
            dir.path(),
            &[
                "run",
                flow.to_str().unwrap(),
                "--output",
                "json",
                "--var",
                &format!("n={given}"),
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        // The number as JSON text, every digit as read.
        let n = out.stdout.split("\"n\":").nth(1).unwrap_or_default();
        assert!(n.trim_start().starts_with(shown), "{given}: {}", out.stdout);
        assert!(
            !n.trim_start().starts_with(&format!("{shown}.0")),
            "{given}: {}",
            out.stdout
        );
    }
}

#[test]
fn a_yaml_tag_is_refused_at_its_place() {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        "flow: f\nsteps:\n  - id: m\n    type: !!str message\n    text: hi\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(&format!(
            "error[E001]: YAML tags are not supported: `!!str`\n --> {}:4:11\n",
            flow.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("= help: remove the tag; to make a value text, quote it (`n: \"5\"`)"),
        "{}",
        out.stderr
    );
    // In a vars file too.
    let flow = dir.write("nums.yaml", NUMS);
    let vars = dir.write("v.yaml", "n: !!str 5\n");
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--vars",
            vars.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(&format!(
            "error[E001]: YAML tags are not supported: `!!str`\n --> {}:1:4\n",
            vars.display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn large_bounds_are_numbers_and_one_past_floating_point_is_a_clear_error() {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        "flow: f\ninputs:\n  v: { type: integer, maximum: 99999999999999999999999 }\nsteps:\n  - id: m\n    type: message\n    text: <<v>>\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(dir.path(), &["run", flow.to_str().unwrap(), "--var", "v=5"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--var",
            "v=100000000000000000000000",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(
            "error: invalid input v: 100000000000000000000000 is more than the maximum 99999999999999999999999\n"
        ),
        "{}",
        out.stderr
    );

    let flow = dir.write(
        "g.yaml",
        "flow: f\ninputs:\n  w: { type: number, maximum: 1e400 }\nsteps:\n  - id: m\n    type: message\n    text: <<w>>\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(&format!(
            "error[E010]: `maximum` 1e400 is too large to compare values with\n --> {}:3:31\n",
            flow.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("found a string"), "{}", out.stderr);
}

#[test]
fn an_exponent_number_in_an_expression_is_named_as_one() {
    let dir = Scratch::new();
    let flow = dir.write(
        "f.yaml",
        "flow: f\nsteps:\n  - id: m\n    type: message\n    text: <<mul 1e308 2>>\n",
    );
    let out = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with(
            "error[E010]: `1e308` is a number with an exponent, which expressions cannot read\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("= help: write it out in digits (`1e3` is `1000`), or pass it as an input"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("undefined variable"), "{}", out.stderr);
}
