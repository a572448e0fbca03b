//! `flowstep serve --log-format json` at the most verbose level (`-vvv`, trace): every line on
//! stderr is one JSON object, the lines about a run carry its `run_id` (and those about a step
//! its `step_id`), and a secret the run sends and the API echoes back appears on none.

use crate::recorder::{Recorder, json_ok};
use crate::serve_support::Serve;
use crate::support::Scratch;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "sk_test_json_logs_never_in_stderr_0123456789";

#[test]
fn json_logs_are_one_object_a_line_with_run_ids_and_no_secret() {
    // The API echoes the key back, as some do in their errors.
    let api = Recorder::start(vec![json_ok(
        &json!({"ok": true, "echo": SECRET}).to_string(),
    )]);
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write(
        "flows/echo.yaml",
        &format!(
            "flow: echo\nsecrets: [ECHO_KEY]\nsteps:\n  - id: call\n    type: http\n    method: POST\n    url: {}\n    auth: {{ type: bearer, token: \"<<secrets.ECHO_KEY>>\" }}\n    headers: {{ X-Key: \"<<secrets.ECHO_KEY>>\" }}\n  - id: done\n    type: set\n    values: {{ finished: true }}\n",
            api.url("/echo")
        ),
    );
    let flows = dir.path().join("flows");
    let serve = Serve::start(
        dir.path(),
        &[
            "-vvv",
            "--log-format",
            "json",
            "--allow-private-networks",
            "--flows",
            flows.to_str().unwrap(),
        ],
        &[("ECHO_KEY", SECRET)],
    );
    assert_eq!(
        serve
            .start_run(&json!({"flow": "echo", "run_id": "logged-1"}))
            .0,
        201
    );
    let run = serve.wait_for_end("logged-1", Duration::from_secs(20));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(
        api.requests().iter().any(|r| r.contains(SECRET)),
        "the key was sent"
    );
    // The run's last lines are written after its end is stored.
    std::thread::sleep(Duration::from_millis(300));
    let log = serve.log();
    assert!(!log.contains(SECRET), "the secret is in the log:\n{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.len() > 20,
        "-vvv logs more than {} lines",
        lines.len()
    );
    for line in &lines {
        assert!(
            line.is_object()
                && line["timestamp"].is_string()
                && line["level"].is_string()
                && line["message"].is_string(),
            "{line}"
        );
    }
    let about = |message: &str| -> Vec<&Value> {
        lines.iter().filter(|l| l["message"] == message).collect()
    };
    for message in [
        "run claimed",
        "run started",
        "step started",
        "step succeeded",
        "run finished",
    ] {
        let found = about(message);
        assert!(!found.is_empty(), "no `{message}` line in\n{log}");
        for line in found {
            // The store's own `run finished` comes from its write, also under the run's span.
            assert_eq!(line["run_id"], "logged-1", "{line}");
        }
    }
    let steps: Vec<&str> = about("step started")
        .iter()
        .map(|l| l["step_id"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["call", "done"]);
    // The HTTP client's lines while the step runs carry the step too.
    assert!(
        lines.iter().any(|l| l["step_id"] == "call"
            && l["target"]
                .as_str()
                .is_some_and(|t| !t.starts_with("flowstep_engine"))),
        "no line of the http step's own libraries with its step_id:\n{log}"
    );
    // The server's own lines are JSON too.
    assert!(lines.iter().any(|l| {
        l["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening on http://"))
    }));
}
