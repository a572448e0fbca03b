//! Every input is bounded (issue 9, C1, C2, C6): an alias bomb of long scalars in a flow or a
//! vars file, and a JSONPath that would select a huge response many times over, fail fast and
//! within a memory ceiling measured here (the peak RSS of the `flowstep` process, polled from
//! `/proc/PID/status`); an echoed value is cut to its start and its size.

use crate::recorder::{Recorder, json_ok};
use crate::support::{Run, Scratch, flowstep, run, spawn_drained};
use std::process::Command;
use std::time::{Duration, Instant};

/// What a measured run used.
struct Measured {
    run: Run,
    elapsed: Duration,
    /// The most resident memory the process had, in KiB (`VmHWM`).
    peak_kib: u64,
}

/// Runs `cmd`, polling its peak resident set size until it exits.
fn measured(mut cmd: Command) -> Measured {
    let started = Instant::now();
    let (mut child, output) = spawn_drained(&mut cmd);
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        // VmHWM only grows, so the last reading before exit is the peak (the kernel drops it
        // once the process has exited, hence the polling).
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "flowstep ran for two minutes"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    eprintln!("{cmd:?}: {elapsed:?}, peak RSS {peak_kib} KiB");
    Measured {
        run: output.finish(status),
        elapsed,
        peak_kib,
    }
}

/// The ceilings: seconds, not minutes; tens of megabytes, not gigabytes. Generous for a debug
/// build on a busy machine, and far below what the unbounded inputs took (3.2 GB, 4.5 GB).
const FAST: Duration = Duration::from_secs(20);
const SMALL_FILE_KIB: u64 = 64 * 1024;

/// A 40 KB YAML document of aliases to one 40,000-character scalar.
fn alias_bomb(first_key: &str) -> String {
    let mut text = format!("{first_key}: &a \"{}\"\nb: [", "x".repeat(40_000));
    while text.len() < 80_000 {
        text.push_str("*a, ");
    }
    text.push_str("*a]\n");
    text
}

#[test]
fn an_alias_bomb_of_long_scalars_fails_fast_in_a_flow_and_in_a_vars_file() {
    let dir = Scratch::new();
    let flow = dir.write("bomb.yaml", &alias_bomb("flow"));
    let mut cmd = flowstep(dir.path());
    cmd.args(["check", flow.to_str().unwrap()]);
    let m = measured(cmd);
    assert_eq!(m.run.code, 2, "{:?}", m.run);
    let first = m.run.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        "error[E001]: the YAML's aliases copy more than 1 MiB of text (the limit is 1048576 bytes)"
    );
    assert!(
        m.run.stderr.contains("this alias copies 40000 bytes"),
        "{}",
        m.run.stderr
    );
    assert!(m.elapsed < FAST, "took {:?}", m.elapsed);
    assert!(m.peak_kib < SMALL_FILE_KIB, "peak RSS {} KiB", m.peak_kib);

    // Vars files are read by the same parser, with the same budget.
    let ok_flow = dir.write(
        "ok.yaml",
        "flow: ok\ninputs:\n  name: { type: string }\nsteps:\n  - id: hi\n    type: message\n    text: Hi <<name>>\n",
    );
    let vars = dir.write("vars.yaml", &alias_bomb("name"));
    let mut cmd = flowstep(dir.path());
    cmd.args([
        "run",
        ok_flow.to_str().unwrap(),
        "--vars",
        vars.to_str().unwrap(),
    ]);
    let m = measured(cmd);
    assert_eq!(m.run.code, 2, "{:?}", m.run);
    assert!(
        m.run
            .stderr
            .contains("error[E001]: the YAML's aliases copy more than 1 MiB of text"),
        "{}",
        m.run.stderr
    );
    assert!(m.elapsed < FAST, "took {:?}", m.elapsed);
    assert!(m.peak_kib < SMALL_FILE_KIB, "peak RSS {} KiB", m.peak_kib);
}

/// 120 objects nested in each other through `id`, each with 77 KiB of padding: 9 MiB in all,
/// and `$..id` matches every level, each match holding everything below it.
fn nested_response() -> String {
    let pad = "p".repeat(77 * 1024);
    let mut body = String::from("1");
    for level in 0..120 {
        body = format!("{{\"level\":{level},\"pad\":\"{pad}\",\"id\":{body}}}");
    }
    body
}

#[test]
fn a_jsonpath_over_a_huge_nested_response_fails_fast_naming_the_limit() {
    let body = nested_response();
    assert!(body.len() > 9 * 1024 * 1024 && body.len() < 10 * 1024 * 1024);
    let server = Recorder::start(vec![json_ok(&body)]);
    let dir = Scratch::new();
    let flow = dir.write(
        "ids.yaml",
        &format!(
            "flow: ids\nsteps:\n  - id: fetch\n    type: http\n    url: {}/deep\n    response: {{ map: {{ ids: $..id }} }}\n",
            server.url("")
        ),
    );
    let mut cmd = flowstep(dir.path());
    cmd.args(["run", flow.to_str().unwrap()]);
    let m = measured(cmd);
    assert_eq!(m.run.code, 1, "{}", m.run.stderr);
    assert!(
        m.run.stdout.contains(
            "error[invalid]: response.map `ids`: `$..id` selects more than 1 MiB of JSON, the most a mapped variable may hold; the request succeeded (HTTP 200) and took effect; only reading its response failed"
        ),
        "{}",
        m.run.stdout
    );
    assert!(m.elapsed < FAST, "took {:?}", m.elapsed);
    // The response itself is 9 MiB, parsed and recorded; the ceiling leaves room for that and
    // none for copying it once per level (4.5 GB before the bound).
    assert!(m.peak_kib < 256 * 1024, "peak RSS {} KiB", m.peak_kib);
}

#[test]
fn a_jsonpath_that_selects_too_many_values_fails_naming_the_count() {
    let items: Vec<String> = (0..20_000).map(|i| format!("{{\"id\":{i}}}")).collect();
    let server = Recorder::start(vec![json_ok(&format!("[{}]", items.join(",")))]);
    let dir = Scratch::new();
    let flow = dir.write(
        "many.yaml",
        &format!(
            "flow: many\nsteps:\n  - id: fetch\n    type: http\n    url: {}/many\n    response: {{ map: {{ ids: \"$[*].id\" }} }}\n",
            server.url("")
        ),
    );
    let out = run(
        dir.path(),
        &["run", flow.to_str().unwrap(), "--output", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.json()["steps"][0]["error"]["message"],
        "response.map `ids`: `$[*].id` selects 20000 values, more than the 10000 a mapped variable may hold; the request succeeded (HTTP 200) and took effect; only reading its response failed"
    );
}

#[test]
fn an_echoed_value_is_cut_to_its_start_and_its_size() {
    let dir = Scratch::new();
    let flow = dir.write(
        "hi.yaml",
        "flow: hi\ninputs:\n  name: { type: string }\n  count: { type: integer }\nsteps:\n  - id: hi\n    type: message\n    text: Hi <<name>>\n",
    );
    let list: Vec<String> = (0..90_000).map(|i| i.to_string()).collect();
    let vars = dir.write("vars.yaml", &format!("name: [{}]\n", list.join(", ")));
    let long = "9".repeat(5000);
    let out = run(
        dir.path(),
        &[
            "run",
            flow.to_str().unwrap(),
            "--vars",
            vars.to_str().unwrap(),
            "--var",
            &format!("count=x{long}"),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            // A vars file's mistake is drawn at its place, its very long line cut a little after
            // the underlined part; a `--var` value is echoed cut to its start and its size.
            "error[E011]: invalid input name: a list is not a string\n --> {}:1:7\n  |\n1 | name: [{}, 4...\n  |       {}\n  |\n\n\
             error: invalid input count: \"x{}…\" (5001 characters) is not an integer\n\
             help: set inputs with --var NAME=VALUE; {} declares them under `inputs:` (from line 3)\n",
            vars.display(),
            list[..42].join(", "),
            "^".repeat(80),
            "9".repeat(59),
            flow.display()
        )
    );
}
