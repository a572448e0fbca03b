//! Seeing what a run does: `run -v` shows each request line and headers and each response's
//! status and headers on stderr, `-vv` the bodies too, with secrets redacted in all of them;
//! `--format json` (or the older `--output json`) makes every exit-2 problem one JSON object;
//! a flow may be read from stdin as `-`.

use crate::raw_http::{RawServer, reply};
use crate::support::{Scratch, flowstep, run, run_piped};

const KEY: &str = "sk_test_51VerboseVerboseVerbose4242";

/// The flow: one POST with the key as a bearer token and a form body.
fn flow(base: &str) -> String {
    format!(
        r#"flow: verbose
secrets: [{{ name: KEY, hosts: ["{base}"] }}]
steps:
  - id: create
    type: http
    method: POST
    url: {base}/v1/orders
    auth: {{ type: bearer, token: "<<secrets.KEY>>" }}
    headers: {{ X-Trace: t-1 }}
    body_type: form
    body: {{ item: tea, qty: 2 }}
    retry: off
"#
    )
}

/// The lines `-v` adds (`* `, `> `, `< `), with the one part that varies, `(N ms)`, as `(_ ms)`.
fn wire_lines(stderr: &str) -> String {
    let mut out = String::new();
    for line in stderr.lines() {
        if !(line.starts_with("* ") || line.starts_with('>') || line.starts_with('<')) {
            continue;
        }
        let line = match (line.rfind(" ("), line.ends_with(" ms)")) {
            (Some(at), true) => format!("{} (_ ms)", &line[..at]),
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn verbose_run(server: &RawServer, flag: &str) -> crate::support::Run {
    let dir = Scratch::new();
    dir.write("v.yaml", &flow(&server.url()));
    flowstep(dir.path())
        .env("KEY", KEY)
        .args(["run", "v.yaml", flag])
        .output()
        .unwrap()
        .into()
}

#[test]
fn dash_v_shows_request_and_response_headers_with_the_secret_redacted() {
    let server = RawServer::start(vec![reply(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Request-Id", "req_V1"),
            ("Set-Cookie", "session=s3cr3t-session"),
        ],
        &format!(r#"{{"id":"ord_1","echo":"{KEY}"}}"#),
    )]);
    let out = verbose_run(&server, "-v");
    assert_eq!(out.code, 0, "{out:?}");
    let base = server.url();
    assert_eq!(
        wire_lines(&out.stderr),
        format!(
            "* create: attempt 1 of 1
> POST {base}/v1/orders
> User-Agent: flowstep/0.1.0
> Accept: application/json
> Content-Type: application/x-www-form-urlencoded
> X-Trace: t-1
> Authorization: Bearer sk_test_...4242
>
< 200 OK (_ ms)
< content-length: 59
< connection: close
< content-type: application/json
< request-id: req_V1
< set-cookie: [redacted]
<
"
        )
    );
    assert!(!out.all_output().contains(KEY), "{out:?}");
    assert!(!out.stderr.contains("s3cr3t-session"));
    // The bodies are for -vv.
    assert!(!out.stderr.contains("item=tea"), "{}", out.stderr);
}

#[test]
fn dash_vv_adds_the_bodies_redacted_and_cut() {
    let long = "x".repeat(5000);
    let server = RawServer::start(vec![reply(
        "200 OK",
        &[("Content-Type", "application/json")],
        &format!(r#"{{"echo":"{KEY}","pad":"{long}"}}"#),
    )]);
    let out = verbose_run(&server, "-vv");
    assert_eq!(out.code, 0, "{out:?}");
    let wire = wire_lines(&out.stderr);
    assert!(wire.contains(">\n> item=tea&qty=2\n< 200 OK"), "{wire}");
    assert!(
        wire.contains(r#"< {"echo":"sk_test_...4242","pad":"xxx"#),
        "{wire}"
    );
    assert!(
        wire.contains("< [... 939 more characters not shown]\n"),
        "{wire}"
    );
    assert!(!out.all_output().contains(KEY));
}

#[test]
fn format_json_makes_every_invalid_run_one_json_object() {
    let dir = Scratch::new();
    dir.write("v.yaml", &flow("https://api.example.com"));
    dir.write(
        "bad.yaml",
        "flow: bad\nsteps:\n  - id: s\n    type: http\n    url: https://api.example.com\n    response: { map: { a: 'regex:(' } }\n",
    );
    // A missing secret, with the older spelling `--output`.
    let out = run(dir.path(), &["run", "v.yaml", "--output", "json"]);
    assert_eq!(out.code, 2, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "invalid");
    assert_eq!(v["exit_code"], 2);
    let message = v["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("missing secret KEY: set the environment variable KEY"),
        "{message}"
    );
    // A flow that does not compile: positioned like `check --format json`.
    let out = run(dir.path(), &["run", "bad.yaml", "--format", "json"]);
    assert_eq!(out.code, 2, "{out:?}");
    let d = &out.json()["diagnostics"][0];
    assert_eq!(
        (&d["file"], &d["line"], &d["column"], &d["code"]),
        (&"bad.yaml".into(), &6.into(), &27.into(), &"E007".into())
    );
    // A bad command line, an unknown preset.
    let out = run(
        dir.path(),
        &[
            "run",
            "no-such-preset",
            "--format",
            "json",
            "--run-id",
            "a b",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    let messages: Vec<String> = out.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("--run-id: "), "{messages:?}");
    assert_eq!(out.stderr, "");
    // `check` takes the same spelling, and the older one too.
    let out = run(dir.path(), &["check", "bad.yaml", "--output", "json"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.json()[0]["code"], "E007");
}

#[test]
fn a_flow_is_read_from_stdin_as_dash() {
    let dir = Scratch::new();
    let piped = |args: &[&str], text: &str| {
        let mut cmd = flowstep(dir.path());
        cmd.args(args);
        run_piped(cmd, text)
    };
    let out = piped(
        &["run", "-", "--format", "json"],
        "flow: piped\nsteps:\n  - id: hi\n    type: message\n    text: Hello from stdin\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["messages"][0]["text"], "Hello from stdin");
    let out = piped(
        &["check", "-"],
        "flow: piped\nsteps:\n  - id: hi\n    type: mesage\n",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(" --> <stdin>:4:11"), "{}", out.stderr);
    let out = run(dir.path(), &["check", "-", "-"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: `-` (stdin) is named more than once; stdin holds one flow\n"
    );
}
