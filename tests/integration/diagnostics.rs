//! Bad flows get exit 2 and a message that points at the right line and column. Each file in
//! `tests/bad-flows/` is a mistake authors really make; its `.expected` file pins the whole
//! output of `flowstep check` (rewrite them with `FLOWSTEP_BLESS=1 cargo test` and review the
//! diff).

use crate::support::{Scratch, run};
use std::path::Path;

#[test]
fn every_bad_flow_has_its_pinned_diagnostic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-flows");
    let bless = std::env::var_os("FLOWSTEP_BLESS").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let name = path.file_name().unwrap().to_str().unwrap();
        // Run from the corpus folder so that the file name in `-->` is short and stable.
        let out = run(&corpus, &["check", name]);
        let actual = format!("exit code: {}\n{}", out.code, out.stderr);
        let expected_path = path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "--- {name}: expected\n{expected}\n--- actual\n{actual}"
            ));
        }
        assert_eq!(
            out.code, 2,
            "{name} must be rejected with exit 2:\n{actual}"
        );
        assert!(
            out.stdout.is_empty(),
            "{name}: nothing on stdout for a bad flow"
        );
        checked += 1;
    }
    assert!(checked >= 25, "the corpus has only {checked} flows");
    assert!(
        failures.is_empty(),
        "{} diagnostics changed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_problem_in_a_file_is_reported_at_once_sorted_by_position() {
    let dir = Scratch::new();
    let path = dir.write(
        "many.yaml",
        "flow: many\nsteps:\n  - id: a\n    type: http\n    metod: GET\n    url: https://x.test/<<nope>>\n  - id: b\n    type: message\n    text: <<a_url>>\n    tezt: x\n",
    );
    let out = run(
        dir.path(),
        &["check", path.file_name().unwrap().to_str().unwrap()],
    );
    assert_eq!(out.code, 2);
    let headlines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(
        headlines,
        [
            "error[E002]: unknown key `metod` in http step `a`",
            "error[E005]: undefined variable `nope` in http step `a`",
            "error[E005]: undefined variable `a_url` in message step `b`",
            "error[E002]: unknown key `tezt` in message step `b`",
            "error: could not compile many.yaml: 4 errors",
        ]
    );
}

#[test]
fn check_json_format_gives_positions_for_editors() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-flows");
    let out = run(
        &corpus,
        &["check", "--format", "json", "unknown-key-did-you-mean.yaml"],
    );
    assert_eq!(out.code, 2);
    let v = out.json();
    assert_eq!(v[0]["file"], "unknown-key-did-you-mean.yaml");
    assert_eq!(v[0]["line"], 8);
    assert_eq!(v[0]["column"], 5);
    assert_eq!(v[0]["severity"], "error");
    assert_eq!(v[0]["code"], "E002");
    assert_eq!(v[0]["help"], "did you mean `method`?");
}

#[test]
fn run_refuses_a_bad_flow_before_sending_anything() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-flows");
    let out = run(
        &corpus,
        &[
            "run",
            "undefined-variable.yaml",
            "--var",
            "amount_paise=50000",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--> undefined-variable.yaml:20:"),
        "{}",
        out.stderr
    );
}
