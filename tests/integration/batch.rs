//! `flowstep batch` through the real binary against the sandbox: a thousand rows with faults,
//! killed half-way and run again, make one Checkout Session each; bad rows are reported at
//! their line and column while the others run; rate limits hold at the server, per second;
//! a 429 pauses the host; Ctrl-C lets the runs in flight finish.

use crate::support::{Run, Scratch, TestSandbox, flowstep, preset, run_piped, run_within};
use flowstep_sandbox::{Fault, FaultAction, RecordedRequest, SANDBOX_SECRET_KEY};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const SESSIONS: &str = "/v1/checkout/sessions";

/// The preset with short retry delays, so that faulted rows do not wait out Stripe's backoff,
/// and a shop's success page as the default, so that rows need no column for it.
fn fast_preset() -> String {
    let with_page = preset().replace(
        "  success_url: { type: string, min_length: 1,",
        "  success_url: { type: string, default: \"https://shop.example/thanks\", min_length: 1,",
    );
    assert_ne!(with_page, preset());
    with_page.replace(
        "    idempotency: auto\n",
        "    idempotency: auto\n    retry: { max_attempts: 3, base_delay: 10ms, max_delay: 50ms }\n",
    )
}

fn fault(count: usize, action: FaultAction) -> Fault {
    Fault {
        path_prefix: Some(SESSIONS.to_owned()),
        count,
        action,
    }
}

fn status(status: u16, headers: &[(&str, &str)]) -> FaultAction {
    FaultAction::Status {
        status,
        body: None,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// `order_id,product_name,amount_paise` and `n` rows.
fn orders(n: usize) -> String {
    let mut csv = String::from("order_id,product_name,amount_paise\n");
    for i in 1..=n {
        csv.push_str(&format!("ord-{i},\"Tee, size {i}\",{}\n", 50_000 + i));
    }
    csv
}

/// `flowstep batch FLOW --input rows --output results.jsonl --route <sandbox> ARGS...` in
/// `dir`, with the sandbox's key, stderr kept in `stderr.txt`.
fn batch(dir: &Scratch, sb: &TestSandbox, flow: &Path, rows: &Path, args: &[&str]) -> Child {
    let stderr = std::fs::File::create(dir.path().join("stderr.txt")).unwrap();
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .args([
            "batch",
            flow.to_str().unwrap(),
            "--input",
            rows.to_str().unwrap(),
        ])
        .args(["--output", "results.jsonl", "--route", &sb.route()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("flowstep runs")
}

/// `flowstep batch FLOW --input rows --route <sandbox> --id-column order_id --concurrency 8`
/// in `dir`, its results on a pipe (the child's stdout), stderr kept in `stderr.txt`.
fn batch_to_pipe(dir: &Scratch, sb: &TestSandbox, flow: &Path, rows: &Path) -> Child {
    let stderr = std::fs::File::create(dir.path().join("stderr.txt")).unwrap();
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .args(["batch", flow.to_str().unwrap(), "--input"])
        .arg(rows)
        .args(["--route", &sb.route(), "--id-column", "order_id"])
        .args(["--concurrency", "8"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("flowstep runs")
}

/// Sends the child SIGINT, as Ctrl-C does.
fn interrupt(child: &Child) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// The child's exit code once it ends; `None`, the child killed, if it runs past `limit`.
fn exit_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most a minute) until the sandbox has made `n` Checkout Sessions.
fn wait_for_sessions(sb: &TestSandbox, n: usize) {
    let started = Instant::now();
    while sb.sandbox.sessions_created() < n {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the child; its exit code and stderr.
fn finish(dir: &Scratch, mut child: Child) -> (i32, String) {
    let code = child.wait().unwrap().code().unwrap_or(-1);
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap();
    (code, stderr)
}

/// The complete lines of the results file, parsed.
fn results(dir: &Scratch) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.path().join("results.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn complete_lines(dir: &Scratch) -> usize {
    std::fs::read_to_string(dir.path().join("results.jsonl"))
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
}

/// The requests to `path` the sandbox received, in order.
fn requests_to(sb: &TestSandbox, path: &str) -> Vec<RecordedRequest> {
    sb.sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// The requests that arrived in each second, counted from the first one's arrival.
pub(crate) fn per_second(requests: &[RecordedRequest]) -> Vec<usize> {
    let Some(first) = requests.first() else {
        return Vec::new();
    };
    let mut per: BTreeMap<u64, usize> = BTreeMap::new();
    for r in requests {
        *per.entry((r.received_at_ms - first.received_at_ms) / 1000)
            .or_default() += 1;
    }
    per.values().copied().collect()
}

/// Whether no second saw more than `rate` requests, within a tolerance of 10% and one
/// request (the limiter's burst, and scheduling and loopback jitter, which can move an
/// arrival across a window's edge). The last second may be partial; the full ones are held
/// to a floor of half the rate, so that the limit is not met by sending slowly.
pub(crate) fn within(counts: &[usize], rate: usize) -> bool {
    let max = rate + rate / 10 + 1;
    let full = &counts[..counts.len().saturating_sub(1)];
    !full.is_empty() && counts.iter().all(|&c| c <= max) && full.iter().all(|&c| c >= rate / 2)
}

#[test]
fn a_thousand_rows_with_faults_survive_a_kill_and_make_one_session_each() {
    let sb = TestSandbox::start();
    // One request in ten to the sessions endpoint fails: a 503 Stripe asks to retry, an
    // answer lost after the session was made, a connection closed before it was read.
    let faults = [
        status(503, &[("Stripe-Should-Retry", "true")]),
        FaultAction::DropResponse,
        FaultAction::CloseBeforeProcessing,
    ];
    for i in 0..100 {
        sb.sandbox.inject(fault(9, FaultAction::Delay { ms: 0 }));
        sb.sandbox.inject(fault(1, faults[i % 3].clone()));
    }
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("orders.csv", &orders(1000));
    let args = ["--id-column", "order_id", "--concurrency", "16"];

    let started = Instant::now();
    let mut child = batch(&dir, &sb, &flow, &rows, &args);
    while complete_lines(&dir) < 250 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before it could be killed: {:?}",
            finish(&dir, child)
        );
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no chance to finish anything
    child.wait().unwrap();
    let before_kill = sb.sandbox.sessions_created();
    assert!((250..1000).contains(&before_kill), "{before_kill} sessions");
    // The rows the next run must skip: those with a whole `succeeded` line (a row whose three
    // attempts all met a fault has a `failed` one, and runs again).
    let text = std::fs::read_to_string(dir.path().join("results.jsonl")).unwrap();
    let done_before = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && l.contains("\"status\":\"succeeded\""))
        .count() as u64;
    assert!(
        done_before >= 240,
        "{done_before} rows done before the kill"
    );

    // Again, until every row is done (a row whose three attempts all met a fault fails, and
    // the next run sends it again under the same run id).
    let mut resumed = None;
    for _ in 0..3 {
        let (code, stderr) = finish(&dir, batch(&dir, &sb, &flow, &rows, &args));
        resumed.get_or_insert(stderr.clone());
        if code == 0 {
            break;
        }
        assert_eq!(code, 1, "{stderr}");
    }
    let resumed = resumed.unwrap();
    assert!(
        resumed.contains("note: resuming from results.jsonl: ")
            && resumed.contains(" that succeeded before are skipped"),
        "{resumed}"
    );
    let skipped: u64 = resumed
        .split(" failed, ")
        .nth(1)
        .and_then(|s| s.split(" skipped").next())
        .and_then(|s| s.rsplit(", ").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no skipped count in {resumed}"));
    assert_eq!(skipped, done_before, "{resumed}");

    let lines = results(&dir);
    assert_eq!(lines.len(), 1000, "one result line per row");
    let rows_seen: HashSet<u64> = lines.iter().map(|l| l["row"].as_u64().unwrap()).collect();
    assert_eq!(rows_seen, (1..=1000).collect());
    for l in &lines {
        assert_eq!(l["status"], "succeeded", "{l}");
        assert_eq!(l["run_id"], format!("ord-{}", l["row"]), "{l}");
        assert!(
            l["outputs"]["session_id"]
                .as_str()
                .unwrap()
                .starts_with("cs_test_")
        );
    }
    let sessions: HashSet<&str> = lines
        .iter()
        .map(|l| l["outputs"]["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 1000, "every row has its own session");
    // Zero duplicates: the sandbox made exactly one session per row, though rows were sent
    // twice (lost answers, the kill), because each row's key comes from its run id.
    assert_eq!(sb.sandbox.sessions_created(), 1000);
    let keys: HashSet<String> = requests_to(&sb, SESSIONS)
        .iter()
        .filter_map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k == "idempotency-key")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(keys.len(), 1000);
    assert!(keys.contains("flowstep-ord-1-create_session"), "{keys:?}");
}

#[test]
fn bad_rows_are_reported_at_their_line_and_column_and_the_others_run() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let mut csv = b"order_id,product_name,amount_paise\n".to_vec();
    csv.extend_from_slice(b"A1,Blue T-shirt,50000\n");
    csv.extend_from_slice(b"A2,Red T-shirt,fifty\n"); // wrong type
    csv.extend_from_slice(b"A3,Green T-shirt\n"); // a column short
    csv.extend_from_slice(b"A4,\"Plain\" T-shirt,50000\n"); // text after a closing quote
    csv.extend_from_slice(b"A5,Caf\xE9 T-shirt,50000\n"); // latin-1, not UTF-8
    csv.extend_from_slice(b"A6,Long T-shirt,");
    csv.extend_from_slice("9".repeat(70 * 1024).as_bytes()); // over the row cap
    csv.extend_from_slice(b"\nA7,\"White\nT-shirt\",60000\n"); // a line break in quotes is fine
    csv.extend_from_slice(b"A1,Blue T-shirt,50000\n"); // A1's run id again
    let rows = dir.path().join("rows.csv");
    std::fs::write(&rows, &csv).unwrap();
    let (code, stderr) = finish(
        &dir,
        batch(&dir, &sb, &flow, &rows, &["--id-column", "order_id"]),
    );
    assert_eq!(code, 1, "exit 1: some rows did not succeed\n{stderr}");
    assert!(
        stderr.contains("batch: 8 rows in ")
            && stderr.contains(": 2 succeeded, 0 failed, 6 invalid, 0 skipped"),
        "{stderr}"
    );
    let mut lines = results(&dir);
    lines.sort_by_key(|l| l["row"].as_u64());
    let by_row = |n: u64| &lines[n as usize - 1];
    for (row, line, column, message) in [
        (
            2,
            3,
            "amount_paise",
            "line 3, column `amount_paise`: \"fifty\" is not an integer",
        ),
        (
            3,
            4,
            "amount_paise",
            "line 4, column `amount_paise`: the row has 2 fields but the header has 3: no value for column `amount_paise`",
        ),
        (
            4,
            5,
            "product_name",
            "line 5, column `product_name`, character 11: text after the closing quote of field 2",
        ),
        (
            5,
            6,
            "product_name",
            "line 6, column `product_name`: not valid UTF-8 (byte 0xE9 after `Caf`)",
        ),
    ] {
        let l = by_row(row);
        assert_eq!(l["status"], "invalid", "{l}");
        assert_eq!(l["line"], line, "{l}");
        assert_eq!(l["error"]["line"], line, "{l}");
        assert_eq!(l["error"]["column"], column, "{l}");
        assert!(
            l["error"]["message"].as_str().unwrap().starts_with(message),
            "{l}"
        );
        assert!(l["run_id"].is_null() && l["outputs"].is_null(), "{l}");
    }
    let long = by_row(6);
    assert_eq!(long["status"], "invalid");
    assert_eq!(
        long["error"]["message"], "line 7: the line is longer than 64 KiB",
        "{long}"
    );
    for (row, id) in [(1, "A1"), (7, "A7")] {
        let l = by_row(row);
        assert_eq!(l["status"], "succeeded", "{l}");
        assert_eq!(l["run_id"], id);
        assert!(l["error"].is_null());
    }
    assert_eq!(by_row(7)["line"], 8);
    let again = by_row(8);
    assert_eq!(again["status"], "invalid", "{again}");
    assert_eq!(again["error"]["column"], "order_id", "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 10, column `order_id`: run id `A1` is also the run id of the row at line 2; each row needs its own"),
        "{again}"
    );
    // Only the good rows reached the API.
    assert_eq!(sb.sandbox.sessions_created(), 2);
}

#[test]
fn json_lines_rows_and_their_mistakes() {
    let dir = Scratch::new();
    let rows = dir.write(
        "rows.jsonl",
        concat!(
            "{\"product_name\": \"Tee\", \"amount_paise\": 50000, \"note\": \"ignored\"}\n",
            "{\"product_name\": \"Tee\", \"amount_paise\": [1]}\n",
            "{\"product_name\": \"Tee\", \"amount_paise\": 50000,}\n",
            "\n",
            "{\"product_name\": \"Tee\"}\n",
            "{\"product_name\": \"Tee\", \"amount_paise\": 50000, \"amount_paise\": 5}\n",
        ),
    );
    let out = flowstep(dir.path())
        .args(["batch", "stripe-checkout", "--sandbox", "--input"])
        .arg(&rows)
        .output()
        .unwrap();
    let out: Run = out.into();
    assert_eq!(out.code, 1, "{out:?}");
    let mut lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|l| l["row"].as_u64());
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert_eq!(lines[0]["status"], "succeeded");
    let id = lines[0]["run_id"].as_str().unwrap();
    assert!(
        id.starts_with("row-1-") && id.len() == "row-1-".len() + 16,
        "{id}"
    );
    assert_eq!(
        lines[1]["error"]["message"],
        "line 2, column `amount_paise`: a list is not an integer"
    );
    assert_eq!(
        lines[2]["error"]["message"],
        "line 3, character 47: not a JSON object: trailing comma"
    );
    assert_eq!(lines[3]["line"], 5);
    assert_eq!(
        lines[3]["error"]["message"],
        "line 5, column `amount_paise`: no value for `amount_paise`, which the flow requires (Amount in paise: Rs 500 is 50000; 0 for a no-cost order, else at least 50)"
    );
    // serde_json would keep the last of the two; which one the row meant is not known.
    assert_eq!(
        lines[4]["error"]["message"],
        "line 6, column `amount_paise`: given twice in the row, so which value is meant is not known; give it once"
    );
    assert_eq!(lines[4]["status"], "invalid");
}

#[test]
fn rows_come_from_standard_input_with_their_format_said() {
    let dir = Scratch::new();
    let rows = concat!(
        "{\"order_id\": \"in-1\", \"product_name\": \"Tee\", \"amount_paise\": 50000}\n",
        "{\"order_id\": \"in-2\", \"product_name\": \"Cap\", \"amount_paise\": 20000}\n",
    );
    let run = |args: &[&str]| {
        let mut cmd = flowstep(dir.path());
        cmd.args(["batch", "stripe-checkout", "--sandbox", "--input", "-"])
            .args(args);
        // A batch that refuses its arguments may not read its input at all.
        run_piped(cmd, rows)
    };
    // Standard input has no extension to tell its format by.
    let out = run(&[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "error: --input -: say how the rows are written with --input-format csv or --input-format jsonl (or name the file .csv or .jsonl)"
    );
    let out = run(&["--input-format", "jsonl", "--id-column", "order_id"]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut ran: Vec<(String, String)> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["run_id"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ran.sort();
    assert_eq!(
        ran,
        [
            ("in-1".into(), "succeeded".into()),
            ("in-2".into(), "succeeded".into())
        ]
    );
}

#[test]
fn an_output_that_cannot_be_rewritten_names_the_file_that_could_not_be_made() {
    // An existing --output is rewritten through a file beside it; /proc takes no new file,
    // whoever runs the test (root included).
    let dir = Scratch::new();
    let rows = dir.write("rows.csv", "product_name,amount_paise\nTee,50000\n");
    let out: Run = flowstep(dir.path())
        .args([
            "batch",
            "stripe-checkout",
            "--sandbox",
            "--output",
            "/proc/version",
            "--input",
        ])
        .arg(&rows)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "error: cannot write the results to /proc/version: cannot create /proc/version.tmp (beside it, to keep the rows that succeeded before): "
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn an_output_that_is_not_this_flows_results_is_refused_and_left_as_it_is() {
    let dir = Scratch::new();
    let rows = dir.write("rows.csv", &orders(3));
    let batch_into = |flow: &str, output: &str| -> Run {
        flowstep(dir.path())
            .args(["batch", flow, "--sandbox", "--id-column", "order_id"])
            .args(["--output", output, "--input"])
            .arg(&rows)
            .output()
            .unwrap()
            .into()
    };
    // Someone's notes: not a batch's results, so neither resumed from nor rewritten.
    let notes = "important notes\n{\"row\": \"not a number\"}\n";
    dir.write("notes.txt", notes);
    let out = batch_into("stripe-checkout", "notes.txt");
    assert_eq!(out.code, 2, "{out:?}");
    // After the notes on where requests go, and before anything is sent:
    assert_eq!(
        out.stderr.lines().last().unwrap_or_default(),
        "error: cannot write the results to notes.txt: line 1 is not a result line of `flowstep batch`, so flowstep does not resume from it or write over it; give another --output, or remove this one"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        notes
    );
    assert!(!dir.path().join("notes.txt.tmp").exists());

    // The results of one flow do not say which rows of another succeeded.
    let out = batch_into("stripe-checkout", "results.jsonl");
    assert_eq!(out.code, 0, "{out:?}");
    let first = std::fs::read_to_string(dir.path().join("results.jsonl")).unwrap();
    assert_eq!(first.lines().count(), 3, "{first}");
    assert!(
        results(&dir).iter().all(|l| l["flow"] == "stripe-checkout"),
        "{first}"
    );
    dir.write(
        "other.yaml",
        &preset().replace("flow: stripe-checkout", "flow: other-checkout"),
    );
    let out = batch_into("other.yaml", "results.jsonl");
    assert_eq!(out.code, 2, "{out:?}");
    // After the notes on where requests go, and before anything is sent:
    assert_eq!(
        out.stderr.lines().last().unwrap_or_default(),
        "error: cannot write the results to results.jsonl: line 1 holds a result of flow `stripe-checkout`, not `other-checkout`, so flowstep does not resume from it or write over it; give another --output, or remove this one"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("results.jsonl")).unwrap(),
        first
    );
}

#[test]
fn an_output_that_is_a_pipe_or_a_device_is_written_and_never_read_back() {
    let dir = Scratch::new();
    let rows = dir.write("rows.csv", &orders(2));
    let batch_into = |output: &str| {
        let mut cmd = flowstep(dir.path());
        cmd.args(["batch", "stripe-checkout", "--sandbox"])
            .args(["--id-column", "order_id", "--output", output, "--input"])
            .arg(&rows);
        run_within(cmd, Duration::from_secs(60))
    };
    // `/dev/stdout` on a pipe: reading it back for a resume would wait forever.
    let Run { code, stdout, .. } = batch_into("/dev/stdout");
    assert_eq!(code, 0, "{stdout}");
    let mut ran: Vec<(&str, &str)> = Vec::new();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for v in &lines {
        ran.push((v["run_id"].as_str().unwrap(), v["status"].as_str().unwrap()));
    }
    ran.sort();
    assert_eq!(ran, [("ord-1", "succeeded"), ("ord-2", "succeeded")]);
    // A device that takes nothing: the write fails, and says so. The runs were sent, so it
    // is a batch that did not finish (1), not an invalid command line (2).
    let full = batch_into("/dev/full");
    assert_eq!(full.code, 1, "{}", full.stderr);
    assert!(
        full.stderr
            .contains("error: cannot write a result to /dev/full: No space left on device (os error 28); up to 2 rows have no result line"),
        "{}",
        full.stderr
    );
    assert!(full.stderr.contains("batch: 2 rows in "), "{}", full.stderr);
    // A device is never read back, so running the command again would resume nothing.
    assert!(
        full.stderr
            .contains("to resume a batch, write its results to a file with --output FILE"),
        "{}",
        full.stderr
    );
    assert!(!full.stderr.contains("panicked"), "{}", full.stderr);
    // Nothing was made beside the device to rewrite it through (as root, a rename over
    // `/dev/null` would have made it a plain file).
    assert!(!Path::new("/dev/full.tmp").exists());
}

/// Results on standard output read by a reader that stops early (`| head -3`): the batch
/// stops taking rows, says why, prints its summary and ends with 1, instead of running every
/// row into a closed pipe or ending as if its command line were wrong.
#[test]
fn results_piped_to_a_reader_that_stops_early_end_the_batch_with_its_summary() {
    use std::io::{BufRead, BufReader};
    let dir = Scratch::new();
    let rows = dir.write("rows.csv", &orders(2000));
    let stderr = std::fs::File::create(dir.path().join("stderr.txt")).unwrap();
    let mut child = flowstep(dir.path())
        .args([
            "batch",
            "stripe-checkout",
            "--sandbox",
            "--id-column",
            "order_id",
        ])
        .args(["--concurrency", "2", "--input"])
        .arg(&rows)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("flowstep runs");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.contains("\"status\":\"succeeded\""), "{first}");
    drop(reader);
    let code = exit_within(&mut child, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("the batch went on for a minute after its reader stopped"));
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: cannot write a result to standard output: Broken pipe"),
        "{stderr}"
    );
    assert!(stderr.contains("batch: "), "{stderr}");
    assert!(
        stderr.contains("the remaining rows were not started; to resume a batch, write its results to a file with --output FILE"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let ran: usize = stderr
        .split("batch: ")
        .nth(1)
        .and_then(|s| s.split(" rows").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(ran < 2000, "every row ran into the closed pipe: {stderr}");
}

#[test]
fn an_invalid_flow_or_command_line_is_exit_2_and_nothing_is_sent() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("rows.csv", &orders(3));
    let bad_flow = dir.write(
        "bad.yaml",
        &preset().replace("method: POST", "method: PUSH"),
    );
    let no_amount = dir.write("no_amount.csv", "order_id,product_name\nA1,Tee\n");
    let route = sb.route();
    for (args, says) in [
        (
            vec![
                bad_flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
            ],
            "unknown HTTP method `PUSH`",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
                "--var",
                "colour=red",
            ],
            "--var colour: flow `stripe-checkout` has no input `colour`",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
                "--id-column",
                "order",
            ],
            "rows.csv has no column `order`; its columns are `order_id`, `product_name`, `amount_paise`",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                no_amount.to_str().unwrap(),
            ],
            "has no column `amount_paise`, which flow `stripe-checkout` requires",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
                "--rate",
                "fast",
            ],
            "`fast` is not a rate",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
                "--rate",
                "0/s",
            ],
            "allows no request at all",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
                "--concurrency",
                "0",
            ],
            "--concurrency",
        ),
        (
            vec![flow.to_str().unwrap(), "--input", "missing.csv"],
            "cannot read --input missing.csv",
        ),
        (
            vec![
                flow.to_str().unwrap(),
                "--input",
                rows.to_str().unwrap(),
                "--output",
                rows.to_str().unwrap(),
            ],
            "is the input file",
        ),
        (
            vec![flow.to_str().unwrap(), "--input", flow.to_str().unwrap()],
            "--input-format csv",
        ),
    ] {
        let out: Run = flowstep(dir.path())
            .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
            .arg("batch")
            .args(&args)
            .args(["--route", &route])
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    assert_eq!(sb.sandbox.requests().len(), 0);
}

#[test]
fn the_process_rate_is_honoured_in_every_second_at_the_server() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("rows.csv", &orders(50));
    let (code, stderr) = finish(
        &dir,
        batch(
            &dir,
            &sb,
            &flow,
            &rows,
            &["--rate", "20/s", "--concurrency", "16"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    let seen = requests_to(&sb, SESSIONS);
    assert_eq!(seen.len(), 50);
    // A burst of one, then one every 50 ms.
    let counts = per_second(&seen);
    assert!(within(&counts, 20), "requests per second: {counts:?}");
    let span = seen.last().unwrap().received_at_ms - seen[0].received_at_ms;
    assert!(span >= 2_300, "50 requests at 20/s took only {span} ms");
}

#[test]
fn a_steps_rate_limit_is_shared_by_every_run_for_its_host() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write(
        "notify.yaml",
        "flow: notify\ninputs:\n  to: { type: string }\nsteps:\n  - id: send\n    type: http\n    method: POST\n    url: https://api.notify.test/__sandbox/echo\n    rate_limit: 1500/m\n    body_type: json\n    body: { to: <<to>> }\n",
    );
    let mut rows = String::from("to\n");
    for i in 0..50 {
        rows.push_str(&format!("+9190000{i:05}\n"));
    }
    let rows = dir.write("rows.csv", &rows);
    let route = format!("https://api.notify.test={}", sb.url());
    let (code, stderr) = finish(
        &dir,
        batch(
            &dir,
            &sb,
            &flow,
            &rows,
            &["--route", &route, "--concurrency", "32"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    let seen = requests_to(&sb, "/__sandbox/echo");
    assert_eq!(seen.len(), 50);
    // 1500/m is 25/s: a burst of one, then one every 40 ms.
    let counts = per_second(&seen);
    assert!(within(&counts, 25), "requests per second: {counts:?}");
    let span = seen.last().unwrap().received_at_ms - seen[0].received_at_ms;
    assert!(span >= 1_800, "50 requests at 25/s took only {span} ms");
}

#[test]
fn a_429_with_retry_after_pauses_every_request_to_the_host() {
    let sb = TestSandbox::start();
    sb.sandbox.inject(fault(15, FaultAction::Delay { ms: 0 }));
    sb.sandbox
        .inject(fault(1, status(429, &[("Retry-After", "1")])));
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("rows.csv", &orders(40));
    let (code, stderr) = finish(
        &dir,
        batch(&dir, &sb, &flow, &rows, &["--concurrency", "4", "-v"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("answered 429 with Retry-After: no request goes to it for"),
        "{stderr}"
    );
    let seen = requests_to(&sb, SESSIONS);
    assert_eq!(seen.len(), 41, "40 rows and one retry");
    // The refused request is the one whose idempotency key came twice; its first arrival.
    let key = |r: &RecordedRequest| {
        r.headers
            .iter()
            .find(|(k, _)| k == "idempotency-key")
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let keys: Vec<String> = seen.iter().map(key).collect();
    let refused = seen
        .iter()
        .find(|r| keys.iter().filter(|k| **k == key(r)).count() == 2)
        .expect("one request was retried")
        .received_at_ms;
    // Requests already on their way when the 429 came may arrive just after it; then none
    // until the second has passed.
    let during: Vec<u64> = seen
        .iter()
        .map(|r| r.received_at_ms)
        .filter(|&t| t > refused + 200 && t < refused + 950)
        .collect();
    assert!(
        during.is_empty(),
        "requests during the pause: {during:?} (429 at {refused})"
    );
    assert_eq!(sb.sandbox.sessions_created(), 40);
}

/// Results on standard output that nobody reads: once the pipe is full, a write blocks. Ctrl-C
/// is still heard at once (the lines are written on a thread of their own), and a second one
/// ends the batch with its summary instead of waiting for a reader that never comes.
#[test]
fn ctrl_c_is_heard_while_nobody_reads_the_results() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("rows.csv", &orders(5000));
    let mut child = batch_to_pipe(&dir, &sb, &flow, &rows);
    // Held open and never read.
    let _unread = child.stdout.take();
    // A result line is about 490 bytes: 400 of them fill a 64 KiB pipe three times over.
    wait_for_sessions(&sb, 400);
    let stderr = || std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap();
    interrupt(&child);
    let heard = Instant::now();
    while !stderr().contains("stopping: no new rows are started") {
        assert!(
            heard.elapsed() < Duration::from_secs(10),
            "Ctrl-C was not heard while the results could not be written: {}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    let code = exit_within(&mut child, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("a second Ctrl-C did not end the batch: {}", stderr()));
    let stderr = stderr();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("batch: "), "{stderr}");
    assert!(
        stderr.contains("error: stopped while writing the results to standard output, which took no more; up to "),
        "{stderr}"
    );
    // Lines waited for the reader: the message counts them.
    let missing: usize = stderr
        .split("which took no more; up to ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(missing > 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every row has run, and its lines wait for a reader that is not reading yet: one Ctrl-C
/// gives them the grace instead of dropping them, and a reader that comes back in it gets
/// every line.
#[test]
fn a_ctrl_c_after_the_last_run_still_lets_the_results_be_written() {
    use std::io::Read;
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("rows.csv", &orders(300));
    let mut child = batch_to_pipe(&dir, &sb, &flow, &rows);
    let mut stdout = child.stdout.take().unwrap();
    // 300 lines of about 490 bytes: more than a 64 KiB pipe holds, so lines wait.
    wait_for_sessions(&sb, 300);
    std::thread::sleep(Duration::from_millis(500));
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(500));
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap();
    let mut ids = HashSet::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["status"], "succeeded", "{line}");
        ids.insert(v["run_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        ids.len(),
        300,
        "every row's line reached the reader: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The Ctrl-C came after the last run, as meant: nothing was stopped, so it is a success.
    if stderr
        .contains("stopping: every row has run; waiting up to 30s for their results to be written")
    {
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("error:"), "{stderr}");
    } else {
        // A slow machine had runs in flight still: the batch stopped, as it says.
        assert!(
            stderr.contains("stopping: no new rows are started"),
            "{stderr}"
        );
    }
}

#[test]
fn ctrl_c_stops_taking_rows_lets_runs_in_flight_finish_and_the_rest_resumes() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = dir.write("checkout.yaml", &fast_preset());
    let rows = dir.write("rows.csv", &orders(60));
    let args = [
        "--id-column",
        "order_id",
        "--rate",
        "20/s",
        "--concurrency",
        "4",
    ];
    let child = batch(&dir, &sb, &flow, &rows, &args);
    let started = Instant::now();
    while complete_lines(&dir) < 5 {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    interrupt(&child);
    let (code, stderr) = finish(&dir, child);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("stopping: no new rows are started; waiting up to 30s for the"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stopped before the end: the remaining rows were not started; run the same command again to finish"),
        "{stderr}"
    );
    let done = results(&dir);
    assert!(done.len() < 60, "{} rows", done.len());
    // Every run that had started finished and has its line.
    assert_eq!(done.len(), sb.sandbox.sessions_created());
    let (code, stderr) = finish(&dir, batch(&dir, &sb, &flow, &rows, &args));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(results(&dir).len(), 60);
    assert_eq!(sb.sandbox.sessions_created(), 60);
}
