//! `flowstep serve` through the real binary, on loopback with a real SQLite file: a run's
//! outcome is the one `flowstep run` prints, a run id names one run (also under 50 parallel
//! starts), every bad request's status and body, listing and paging, health and the OpenAPI
//! document, the refusals at start, flow reloads, graceful shutdown, and the network policy
//! of the runs it starts.

use crate::raw_http::{self, Answer};
use crate::recorder::{Recorder, json_ok};
use crate::serve_support::{Serve, TOKEN, json_of};
use crate::support::{Scratch, TestSandbox, flowstep, preset_with, run_with_key};
use flowstep_sandbox::{Fault, FaultAction, SANDBOX_SECRET_KEY};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long a run may take to end in these tests.
const LIMIT: Duration = Duration::from_secs(20);

/// A flow with no secrets and no side effects.
const HELLO: &str = "flow: hello\ninputs:\n  name: { type: string, default: world }\nsteps:\n  - id: greet\n    type: set\n    values: { greeting: \"hello <<name>>\" }\noutputs:\n  greeting: <<greeting>>\n";

/// `flowstep serve --route <stripe to the sandbox> EXTRA` with the sandbox's test key.
fn serve_routed(dir: &Path, sb: &TestSandbox, extra: &[&str]) -> Serve {
    let route = sb.route();
    let mut args = vec!["--route", route.as_str()];
    args.extend_from_slice(extra);
    Serve::start(dir, &args, &[("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)])
}

/// A start of the Stripe preset with id `run_id`.
fn order(run_id: &str) -> Value {
    json!({
        "flow": "stripe-checkout",
        "inputs": {"product_name": "Blue T-shirt", "amount_paise": 50000, "success_url": "https://shop.example/thanks"},
        "run_id": run_id,
    })
}

/// The next Checkout Session request waits `ms` at the sandbox (its key already claimed).
fn delay_next_session(sb: &TestSandbox, ms: u64) {
    sb.sandbox.inject(Fault {
        path_prefix: Some("/v1/checkout/sessions".into()),
        count: 1,
        action: FaultAction::Delay { ms },
    });
}

/// `v` with every `duration_ms` set to 0 (the one part of an outcome that varies).
fn without_durations(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    if k == "duration_ms" {
                        *x = json!(0);
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Every stored run's id, newest first.
fn run_ids(serve: &Serve) -> Vec<String> {
    let (status, page) = serve.call("GET", "/v1/runs?limit=1000", None);
    assert_eq!(status, 200, "{page}");
    ids_of(&page)
}

fn ids_of(page: &Value) -> Vec<String> {
    page["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs in {page}"))
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `f` (every 20 ms, at most `LIMIT`) until it is true.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < LIMIT,
            "still not true after {LIMIT:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw request to the server with `headers` and `body`.
fn raw(serve: &Serve, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    raw_http::request(method, &format!("{}{path}", serve.url), headers, body)
}

const AUTH: &str = "Bearer test-token-0123456789abcdef";

#[test]
fn serve_api_run_ends_with_the_outcome_flowstep_run_prints() {
    assert_eq!(AUTH, format!("Bearer {TOKEN}"));
    let dir = Scratch::new();
    let sb = TestSandbox::start();
    let route = sb.route();
    let cli = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            "stripe-checkout",
            "--route",
            &route,
            "--var",
            "product_name=Blue T-shirt",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--run-id",
            "order-42",
            "--output",
            "json",
        ],
    );
    assert_eq!(cli.code, 0, "{cli:?}");
    assert_eq!(sb.sandbox.sessions_created(), 1);

    let serve = serve_routed(dir.path(), &sb, &[]);
    let (status, created) = serve.start_run(&order("order-42"));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["run_id"], "order-42");
    assert_eq!(created["flow"], "stripe-checkout");
    assert!(
        matches!(created["status"].as_str(), Some("queued" | "running")),
        "{created}"
    );
    let run = serve.wait_for_end("order-42", LIMIT);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(run["finished_at"].is_string(), "{run}");
    assert_eq!(run["error"], Value::Null);
    // The same run id is the same idempotency key: the sandbox answers with the session the
    // CLI's run created (a replay, with its own request id), so the whole outcome is the
    // same but for durations and those two response headers.
    let mut served = without_durations(run["outcome"].clone());
    let mut printed = without_durations(cli.json());
    let headers = |outcome: &mut Value| {
        let step = outcome["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["id"] == "create_session")
            .unwrap();
        let headers = step["response"]["headers"].as_object_mut().unwrap();
        headers.insert("request-id".into(), json!("req_"));
        headers.remove("idempotent-replayed")
    };
    assert_eq!(headers(&mut served), Some(json!("true")));
    assert_eq!(headers(&mut printed), None);
    assert_eq!(
        served, printed,
        "the server's outcome differs from `flowstep run --output json`"
    );
    assert_eq!(sb.sandbox.sessions_created(), 1);
    assert!(!serve.log().contains(SANDBOX_SECRET_KEY), "{}", serve.log());
}

#[test]
fn serve_api_one_run_id_is_one_run_even_under_50_parallel_starts() {
    let dir = Scratch::new();
    let sb = TestSandbox::start();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("hello.yaml"), HELLO).unwrap();
    let serve = serve_routed(dir.path(), &sb, &["--flows", flows.to_str().unwrap()]);

    let (first, a) = serve.start_run(&order("order-1"));
    let (second, b) = serve.start_run(&order("order-1"));
    assert_eq!((first, second), (201, 200), "{a}\n{b}");
    assert_eq!(a["run_id"], b["run_id"]);
    assert_eq!(a["flow_hash"], b["flow_hash"]);
    assert_eq!(a["created_at"], b["created_at"]);
    assert_eq!(serve.wait_for_end("order-1", LIMIT)["status"], "succeeded");
    // Once it has ended, a start with the same id still answers with it.
    let (again, c) = serve.start_run(&order("order-1"));
    assert_eq!(again, 200, "{c}");
    assert_eq!(c["status"], "succeeded");
    assert_eq!(sb.sandbox.sessions_created(), 1);

    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|_| s.spawn(|| serve.start_run(&order("order-50"))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (status, body) = h.join().unwrap();
                assert!(
                    status == 201 || status == 200,
                    "a parallel start answered {status}: {body}"
                );
                assert_eq!(body["run_id"], "order-50");
                status
            })
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(serve.wait_for_end("order-50", LIMIT)["status"], "succeeded");
    assert_eq!(run_ids(&serve), ["order-50", "order-1"]);
    assert_eq!(sb.sandbox.sessions_created(), 2, "one session per run id");

    // The id is taken: other inputs, or another flow, are refused and change nothing.
    let mut other = order("order-1");
    other["inputs"]["amount_paise"] = json!(60000);
    let (status, body) = serve.start_run(&other);
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body,
        json!({"error": {"code": "run_id_in_use", "message": "run `order-1` was started before with other inputs or another recipient; a run id names one run, so start this one with another run_id"}})
    );
    let (status, body) = serve.start_run(&json!({"flow": "hello", "run_id": "order-1"}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body,
        json!({"error": {"code": "run_id_in_use", "message": "run `order-1` was started before with the flow `stripe-checkout`; a run id names one run, so start this one with another run_id"}})
    );
    assert_eq!(serve.run("order-1")["inputs"]["amount_paise"], 50000);
    assert_eq!(run_ids(&serve), ["order-50", "order-1"]);
    assert_eq!(sb.sandbox.sessions_created(), 2);
}

/// A request (method, path, headers, body) and the status and JSON body it must get.
type Case<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    u16,
    Value,
);

/// The `error:` lines `flowstep run stripe-checkout` prints for `vars`.
fn cli_input_errors(dir: &Path, sb: &TestSandbox, vars: &[&str]) -> Vec<String> {
    let route = sb.route();
    let mut args = vec!["run", "stripe-checkout", "--route", route.as_str()];
    for v in vars {
        args.extend(["--var", v]);
    }
    let out = run_with_key(dir, SANDBOX_SECRET_KEY, &args);
    assert_eq!(out.code, 2, "{out:?}");
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn serve_api_bad_requests_have_a_status_and_a_json_error_and_store_nothing() {
    let dir = Scratch::new();
    let sb = TestSandbox::start();
    let serve = serve_routed(
        dir.path(),
        &sb,
        &["--max-body-bytes", "2048", "--max-concurrent-runs", "1"],
    );
    let json_type = ("Content-Type", "application/json");
    let auth = ("Authorization", AUTH);
    let error = |code: &str, message: &str| json!({"error": {"code": code, "message": message}});
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            br#"{"flow": "#.to_vec(),
            400,
            error(
                "bad_request",
                "the body is not valid JSON: flow: EOF while parsing a value at line 1 column 9",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth],
            br#"{"flow": "stripe-checkout"}"#.to_vec(),
            415,
            error(
                "unsupported_media_type",
                "the body must be JSON, sent with `Content-Type: application/json`",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            br#"{"flow": "stripe-checkout", "bogus": 1}"#.to_vec(),
            422,
            error(
                "invalid_body",
                "the body does not have the expected fields: unknown field `bogus`, expected one of `flow`, `inputs`, `run_id`, `to`",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            br#"{"flow": 5}"#.to_vec(),
            422,
            error(
                "invalid_body",
                "the body does not have the expected fields: `flow`: invalid type: number, expected a string",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            br#"{"flow": "stripe-checkout", "inputs": "x"}"#.to_vec(),
            422,
            error(
                "invalid_body",
                "the body does not have the expected fields: `inputs`: invalid type: string \"x\", expected a map",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            br#"{"flow": "stripe-chekout"}"#.to_vec(),
            422,
            error(
                "unknown_flow",
                "there is no flow named `stripe-chekout`; did you mean `stripe-checkout`?",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            br#"{"flow": "stripe-checkout", "inputs": {"product_name": "x", "amount_paise": 50000, "success_url": "https://shop.example/thanks"}, "run_id": "-bad id"}"#.to_vec(),
            422,
            error(
                "invalid_run_id",
                "run_id: the run id \"-bad id\" has '-' at character 1; a run id is 1 to 128 ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit",
            ),
        ),
        (
            "POST",
            "/v1/runs",
            vec![auth, json_type],
            format!(
                r#"{{"flow": "stripe-checkout", "inputs": {{"product_name": "{}", "amount_paise": 50000, "success_url": "https://shop.example/thanks"}}}}"#,
                "x".repeat(3000)
            )
            .into_bytes(),
            413,
            error(
                "body_too_large",
                "the body is 3128 bytes, over the server's limit of 2048 bytes (serve --max-body-bytes)",
            ),
        ),
        (
            "GET",
            "/v1/runs/nope",
            vec![auth],
            vec![],
            404,
            error("run_not_found", "no run has the id `nope`"),
        ),
        (
            "POST",
            "/v1/runs/nope/cancel",
            vec![auth],
            vec![],
            404,
            error("run_not_found", "no run has the id `nope`"),
        ),
        // A run id that is not UTF-8 once decoded: JSON like every other error, not axum's
        // plain-text 400 (found by schemathesis).
        (
            "GET",
            "/v1/runs/%FF",
            vec![auth],
            vec![],
            404,
            error(
                "run_not_found",
                "no run has the id in this path: it is not UTF-8 once its %-escapes are decoded",
            ),
        ),
        (
            "POST",
            "/v1/runs/a%FEb/cancel",
            vec![auth],
            vec![],
            404,
            error(
                "run_not_found",
                "no run has the id in this path: it is not UTF-8 once its %-escapes are decoded",
            ),
        ),
        (
            "GET",
            "/nothing/here",
            vec![auth],
            vec![],
            404,
            error(
                "not_found",
                "there is no route GET /nothing/here; the API is under /v1 (GET /v1/openapi.json describes it)",
            ),
        ),
        (
            "DELETE",
            "/v1/runs",
            vec![auth],
            vec![],
            405,
            error(
                "method_not_allowed",
                "/v1/runs does not take DELETE (GET /v1/openapi.json describes the API)",
            ),
        ),
        (
            "GET",
            "/v1/runs?limit=0",
            vec![auth],
            vec![],
            400,
            error("bad_request", "limit must be 1 to 1000, not 0"),
        ),
        (
            "GET",
            "/v1/runs?status=bogus",
            vec![auth],
            vec![],
            400,
            error(
                "bad_request",
                "the query string is wrong: status: unknown variant `bogus`, expected one of `queued`, `running`, `waiting`, `succeeded`, `failed`, `cancelled`",
            ),
        ),
        (
            "GET",
            "/v1/runs?cursor=zzz",
            vec![auth],
            vec![],
            400,
            error(
                "bad_request",
                "the page cursor `zzz` was not made by this server; pass the `next_cursor` of the page before, as it was given",
            ),
        ),
    ];
    for (method, path, headers, body, status, expected) in cases {
        let answer = raw(&serve, method, path, &headers, &body);
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{method} {path}: {answer:?}"
        );
        let (got, got_body) = json_of(answer);
        assert_eq!(got, status, "{method} {path}: {got_body}");
        assert_eq!(got_body, expected, "{method} {path}");
    }

    // Inputs: the problems `flowstep run` prints for the same values given with --var.
    let inputs_cases: [(Value, &[&str]); 3] = [
        (
            json!({"product_name": "Blue T-shirt", "amount_paise": "abc"}),
            &["product_name=Blue T-shirt", "amount_paise=abc"],
        ),
        (json!({"amount_paise": 50000}), &["amount_paise=50000"]),
        (
            json!({"product_name": "Blue T-shirt", "amount_paise": -1}),
            &["product_name=Blue T-shirt", "amount_paise=-1"],
        ),
    ];
    for (inputs, vars) in inputs_cases {
        let cli = cli_input_errors(dir.path(), &sb, vars);
        assert!(!cli.is_empty());
        let (status, body) = serve.start_run(&json!({"flow": "stripe-checkout", "inputs": inputs}));
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            body,
            json!({"error": {"code": "invalid_inputs", "message": cli.join("\n"), "problems": cli}}),
            "inputs {inputs}"
        );
    }

    // Many unknown inputs (as many as this server's 2 KiB body limit holds; the default of
    // 1 MiB holds 60,000): the first 50 problems and a count.
    let mut many = serde_json::Map::new();
    for i in 0..150 {
        many.insert(format!("u{i}"), json!(1));
    }
    let (status, body) = serve.start_run(&json!({"flow": "stripe-checkout", "inputs": many}));
    assert_eq!(status, 422, "{body}");
    let problems = body["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 51, "{body}");
    assert!(
        problems[..50]
            .iter()
            .all(|p| p.as_str().is_some_and(|p| !p.starts_with("and ")))
    );
    let last = problems[50].as_str().unwrap();
    let more: usize = last
        .strip_prefix("and ")
        .and_then(|l| l.strip_suffix(" more problems with the inputs"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(more > 100, "{last}");
    assert!(body["error"]["message"].as_str().unwrap().ends_with(last));

    // A secret's value in the inputs or the recipient: refused, so the store never holds it.
    for body in [
        json!({"flow": "stripe-checkout", "inputs": {"product_name": format!("key {SANDBOX_SECRET_KEY}"), "amount_paise": 50000, "success_url": "https://shop.example/thanks"}}),
        json!({"flow": "stripe-checkout", "inputs": {"product_name": "x", "amount_paise": 50000, "success_url": "https://shop.example/thanks"}, "to": SANDBOX_SECRET_KEY}),
    ] {
        let (status, answer) = serve.start_run(&body);
        assert_eq!(status, 422, "{answer}");
        let place = if body["to"].is_null() {
            "input `product_name`"
        } else {
            "to"
        };
        let problem = format!(
            "{place} holds the value of the secret STRIPE_SECRET_KEY; a server reads its secrets from its own environment, never from a run's inputs"
        );
        assert_eq!(
            answer,
            json!({"error": {"code": "secret_in_inputs", "message": problem, "problems": [problem]}})
        );
    }

    // Missing and wrong tokens: the same 401, naming no detail of what was wrong.
    let mut unauthorized = Vec::new();
    for headers in [
        vec![json_type],
        vec![
            json_type,
            ("Authorization", "Bearer wrong-token-0123456789abcdef"),
        ],
        vec![json_type, ("Authorization", "Basic dGVzdDp0ZXN0")],
        vec![json_type, ("Authorization", "Bearer")],
        vec![
            json_type,
            ("Authorization", "Bearer test-token-0123456789abcde"),
        ],
    ] {
        for (method, path) in [
            ("GET", "/v1/runs"),
            ("POST", "/v1/runs"),
            ("GET", "/v1/runs/order-1"),
        ] {
            let answer = raw(
                &serve,
                method,
                path,
                &headers,
                order("order-1").to_string().as_bytes(),
            );
            assert_eq!(
                answer.status, 401,
                "{method} {path} {headers:?}: {answer:?}"
            );
            assert_eq!(
                answer.header("www-authenticate"),
                Some("Bearer realm=\"flowstep\"")
            );
            assert!(!answer.body.contains("wrong-token"), "{}", answer.body);
            assert!(!answer.body.contains(TOKEN), "{}", answer.body);
            unauthorized.push(answer.body);
        }
    }
    unauthorized.dedup();
    // The scheme is case-insensitive, and one or more spaces may follow it (RFC 9110 11.4,
    // `1*SP`).
    for authorization in [
        "bearer test-token-0123456789abcdef",
        "Bearer   test-token-0123456789abcdef",
    ] {
        let answer = raw(
            &serve,
            "GET",
            "/v1/runs",
            &[("Authorization", authorization)],
            b"",
        );
        assert_eq!(answer.status, 200, "{authorization}: {answer:?}");
    }
    assert_eq!(unauthorized.len(), 1, "{unauthorized:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&unauthorized[0]).unwrap(),
        error(
            "unauthorized",
            "this route needs `Authorization: Bearer <token>` with the server's API token (FLOWSTEP_API_TOKEN)"
        )
    );

    // Nothing was stored for any of them, and nothing reached the sandbox.
    assert_eq!(run_ids(&serve), Vec::<String>::new());
    assert_eq!(sb.sandbox.sessions_created(), 0);

    // Cancel: a queued run (the one worker is busy with a slow request) is cancelled and
    // never runs; an ended run cannot be cancelled.
    delay_next_session(&sb, 1500);
    assert_eq!(serve.start_run(&order("slow")).0, 201);
    eventually("`slow` is running", || {
        serve.run("slow")["status"] == "running"
    });
    let (status, queued) = serve.start_run(&order("queued"));
    assert_eq!(status, 201, "{queued}");
    assert_eq!(queued["status"], "queued");
    let (status, cancelled) = serve.call("POST", "/v1/runs/queued/cancel", None);
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["run_id"], "queued");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(serve.wait_for_end("slow", LIMIT)["status"], "succeeded");
    let (status, body) = serve.call("POST", "/v1/runs/slow/cancel", None);
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body,
        error(
            "run_ended",
            "run `slow` has ended (succeeded); only a queued, running or waiting run can be cancelled"
        )
    );
    let (status, body) = serve.call("POST", "/v1/runs/queued/cancel", None);
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "run_ended");
    // The worker is free again, and the cancelled run stays cancelled and sent nothing.
    assert_eq!(serve.start_run(&order("after")).0, 201);
    assert_eq!(serve.wait_for_end("after", LIMIT)["status"], "succeeded");
    let queued = serve.run("queued");
    assert_eq!(queued["status"], "cancelled", "{queued}");
    assert_eq!(sb.sandbox.sessions_created(), 2);
}

#[test]
fn serve_api_lists_newest_first_in_pages_filtered_by_status_and_flow() {
    let dir = Scratch::new();
    let sb = TestSandbox::start();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("hello.yaml"), HELLO).unwrap();
    let serve = serve_routed(
        dir.path(),
        &sb,
        &[
            "--flows",
            flows.to_str().unwrap(),
            "--max-concurrent-runs",
            "1",
        ],
    );
    // One worker, so runs end in the order they were started.
    let mut started = Vec::new();
    for i in 0..5 {
        let id = format!("list-{i}");
        let body = if i % 2 == 0 {
            order(&id)
        } else {
            json!({"flow": "hello", "run_id": id, "inputs": {"name": format!("n{i}")}})
        };
        if i == 2 {
            // This one fails: Stripe refuses the request (once the run before has ended, so
            // that the refusal is this run's).
            serve.wait_for_end("list-1", LIMIT);
            serve.wait_for_end("list-0", LIMIT);
            sb.sandbox.inject(Fault {
                path_prefix: Some("/v1/checkout/sessions".into()),
                count: 1,
                action: FaultAction::Status {
                    status: 400,
                    body: None,
                    headers: Vec::new(),
                },
            });
            assert_eq!(serve.start_run(&body).0, 201);
            assert_eq!(serve.wait_for_end(&id, LIMIT)["status"], "failed");
        } else {
            assert_eq!(serve.start_run(&body).0, 201);
        }
        started.push(id);
    }
    for id in &started {
        serve.wait_for_end(id, LIMIT);
    }
    let newest_first: Vec<String> = started.iter().rev().cloned().collect();
    assert_eq!(run_ids(&serve), newest_first);

    // Pages of two, each naming where the next starts; the last names none.
    let mut paged = Vec::new();
    let mut path = "/v1/runs?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = serve.call("GET", &path, None);
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let ids = ids_of(&page);
        assert!(ids.len() <= 2, "{page}");
        paged.extend(ids);
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/runs?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(paged, newest_first);
    assert_eq!(pages, 3);

    let list = |query: &str| {
        let (status, page) = serve.call("GET", &format!("/v1/runs?{query}"), None);
        assert_eq!(status, 200, "{query}: {page}");
        ids_of(&page)
    };
    assert_eq!(list("flow=hello"), ["list-3", "list-1"]);
    assert_eq!(list("flow=stripe-checkout"), ["list-4", "list-2", "list-0"]);
    assert_eq!(list("status=failed"), ["list-2"]);
    assert_eq!(
        list("status=succeeded"),
        ["list-4", "list-3", "list-1", "list-0"]
    );
    assert_eq!(
        list("status=succeeded&flow=stripe-checkout"),
        ["list-4", "list-0"]
    );
    assert_eq!(list("status=queued"), Vec::<String>::new());
    assert_eq!(list("flow=nothing"), Vec::<String>::new());
    assert_eq!(list("status=succeeded&limit=1"), ["list-4"]);

    // A summary says where the run is, not its outcome.
    let (_, page) = serve.call("GET", "/v1/runs?limit=1", None);
    let summary = &page["runs"][0];
    assert_eq!(summary["flow"], "stripe-checkout");
    assert_eq!(summary["status"], "succeeded");
    assert!(summary["created_at"].is_string() && summary["finished_at"].is_string());
    assert_eq!(
        serve.run("list-3")["outcome"]["outputs"]["greeting"],
        "hello n3"
    );
}

#[test]
fn serve_api_health_readiness_and_the_openapi_document() {
    let dir = Scratch::new();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("hello.yaml"), HELLO).unwrap();
    let serve = Serve::start(dir.path(), &["--flows", flows.to_str().unwrap()], &[]);
    // No token needed for these three.
    let (status, body) = json_of(raw(&serve, "GET", "/healthz", &[], b""));
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    let (status, body) = json_of(raw(&serve, "GET", "/readyz", &[], b""));
    let presets = flowstep_presets::PRESETS.len();
    assert_eq!(
        (status, body),
        (200, json!({"status": "ready", "flows": presets + 1}))
    );
    let (status, doc) = json_of(raw(&serve, "GET", "/v1/openapi.json", &[], b""));
    assert_eq!(status, 200, "{doc}");
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/v1/runs", &["get", "post"][..]),
        ("/v1/runs/{run_id}", &["get"]),
        ("/v1/runs/{run_id}/cancel", &["post"]),
        ("/v1/flows", &["get"]),
        ("/v1/flows/reload", &["post"]),
        ("/v1/events", &["get"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
    ] {
        for m in methods {
            assert!(
                paths[path][m].is_object(),
                "{m} {path} missing in {paths:?}"
            );
        }
    }
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "{}",
        doc["components"]
    );
    // What schemathesis needs of it: an id per operation, once; the 408 of the time limit on
    // every route; links a client can follow from a start (`operationId`, not utoipa's
    // `operation_id`).
    let mut ids = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            ids.push(op["operationId"].as_str().unwrap_or_default().to_owned());
            assert!(op["responses"]["408"].is_object(), "{method} {path}");
        }
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            "cancel_run",
            "get_run",
            "healthz",
            "list_events",
            "list_flows",
            "list_runs",
            "readyz",
            "reload_flows",
            "retry_run",
            "start_run"
        ]
    );
    let links = &paths["/v1/runs"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["GetRun"],
        json!({"operationId": "get_run", "parameters": {"run_id": "$response.body#/run_id"}})
    );
    // A flow whose secret this server does not have (no STRIPE_SECRET_KEY, no sandbox).
    let (status, body) = serve.start_run(&order("no-key"));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "missing_secrets");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the server cannot run `stripe-checkout`: missing secret STRIPE_SECRET_KEY: "
        ),
        "{message}"
    );
    assert_eq!(run_ids(&serve), Vec::<String>::new());

    // The flows the server runs, named as runs start them.
    let (status, list) = serve.call("GET", "/v1/flows", None);
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"hello") && names.contains(&"stripe-checkout"),
        "{names:?}"
    );
}

/// Runs `flowstep serve ARGS` in `dir` (with `env`) that must refuse to start: its exit code
/// and stderr. Killed after 20 s (a server that started by mistake).
fn refused(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = flowstep(dir);
    cmd.arg("serve")
        .args(args)
        .env_remove("FLOWSTEP_API_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("flowstep serve {args:?} did not refuse to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (code, stderr)
}

#[test]
fn serve_refuses_to_start_on_a_broken_flow_a_public_address_without_token_or_a_bad_db() {
    let dir = Scratch::new();
    let token = [("FLOWSTEP_API_TOKEN", TOKEN)];
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("hello.yaml"), HELLO).unwrap();
    std::fs::write(
        flows.join("broken.yaml"),
        "flow: broken\nsteps:\n  - id: a\n    type: set\n    values: { x: <<nope>> }\n",
    )
    .unwrap();
    let (code, stderr) = refused(
        dir.path(),
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            "runs.db",
            "--flows",
            "flows",
        ],
        &token,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error[E005]: undefined variable `nope` in set step `a`"),
        "{stderr}"
    );
    assert!(stderr.contains("flows/broken.yaml:5:18"), "{stderr}");
    assert!(
        stderr
            .contains("error: flowstep serve did not start: the flows could not be loaded (above)"),
        "{stderr}"
    );
    // A refused start leaves no database behind.
    assert!(!dir.path().join("runs.db").exists());

    let (code, stderr) = refused(
        dir.path(),
        &["--addr", "0.0.0.0:0", "--db", "public.db"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: FLOWSTEP_API_TOKEN is not set and the server would listen on 0.0.0.0:0, which is not a loopback address"),
        "{stderr}"
    );
    assert!(!dir.path().join("public.db").exists());

    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(dir.path().join("garbage.db"), &garbage).unwrap();
    let (code, stderr) = refused(
        dir.path(),
        &["--addr", "127.0.0.1:0", "--db", "garbage.db"],
        &token,
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "error: the run store garbage.db cannot be used: it is not a SQLite database (its first bytes are not SQLite's header); flowstep refuses to write into it\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("garbage.db")).unwrap(),
        garbage,
        "left as it was"
    );

    // (A Postgres store that cannot be reached: serve_postgres.rs.)

    // A store that would keep nothing, or that cannot be written, is refused at start.
    for (db, says) in [
        (
            "",
            "error: --db : the run store needs a file path, like sqlite://flowstep.db\n",
        ),
        (
            ":memory:",
            "error: --db :memory:: the run store is a file (an in-memory database would lose every run when the server stops); give a path like sqlite://flowstep.db\n",
        ),
        (
            "sqlite://x.db?mode=ro",
            "error: --db sqlite://x.db?mode=ro: the run store takes no options (`?mode=ro`): give only its path, like sqlite://flowstep.db; flowstep sets how it opens the file\n",
        ),
        (
            "file:x.db",
            "error: --db file:x.db: give the run store as sqlite://PATH or a plain path, not a `file:` URI (`file:x.db`)\n",
        ),
        (
            "no/such/dir/x.db",
            "error: --db no/such/dir/x.db: the directory of the run store, no/such/dir, does not exist; create it, or give a path in one that does\n",
        ),
        (
            "sqlite:rel.db",
            "error: --db sqlite:rel.db: the run store is `sqlite://PATH`, a file path, or `postgres://USER@HOST:PORT/DB`\n",
        ),
    ] {
        let (code, stderr) = refused(dir.path(), &["--addr", "127.0.0.1:0", "--db", db], &token);
        assert_eq!(code, 2, "{db}: {stderr}");
        assert_eq!(stderr, says, "{db}");
    }
}

#[test]
fn serve_answers_review_findings_as_a_user_expects() {
    let dir = Scratch::new();
    let serve = Serve::start(
        dir.path(),
        &[
            "--sandbox",
            "--channel",
            "whatsapp",
            "--max-body-bytes",
            "2048",
        ],
        &[],
    );
    let inputs = json!({"product_name": "Tea", "amount_paise": 5000, "success_url": "https://shop.example/thanks"});
    // A flow that sends messages, on a WhatsApp server, needs `to` before anything is sent.
    let (status, body) = serve.start_run(&json!({"flow": "stripe-checkout", "inputs": inputs}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_recipient");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("to: the flow `stripe-checkout` sends messages"),
        "{body}"
    );
    // `to` is counted in characters: 64 of them pass the length rule, 65 do not.
    let (status, body) = serve
        .start_run(&json!({"flow": "stripe-checkout", "inputs": inputs, "to": "é".repeat(65)}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_recipient");
    // An array is not a body, even one in the fields' order.
    let (status, body) = serve.call(
        "POST",
        "/v1/runs",
        Some(&json!(["stripe-checkout", inputs, "arr1", null])),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body,
        json!({"error": {"code": "invalid_body", "message": "the body must be a JSON object, like {\"flow\": \"stripe-checkout\", \"inputs\": {...}}"}})
    );
    // A declared length over the limit is refused before the body is read.
    let auth = format!("Bearer {TOKEN}");
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(serve.url.trim_start_matches("http://")).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("\"code\":\"body_too_large\""), "{raw}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered at once"
    );
    // A negative limit says what a limit is.
    let (status, body) = serve.call("GET", "/v1/runs?limit=-1", None);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["message"], "limit must be 1 to 1000, not -1");
    // Nothing was stored.
    let (_, page) = serve.call("GET", "/v1/runs", None);
    assert_eq!(page["runs"], json!([]));
}

#[test]
fn serve_on_loopback_without_a_token_prints_one_that_works() {
    let dir = Scratch::new();
    let serve = Serve::start_with_token(dir.path(), &[], &[], None);
    let log = serve.log();
    let marker = "(shown once, valid until it stops): ";
    let line = log
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no generated token in:\n{log}"));
    assert!(line.contains("FLOWSTEP_API_TOKEN is not set"), "{line}");
    let token = line.split(marker).nth(1).unwrap().trim().to_owned();
    assert!(token.len() >= 16, "{token}");
    assert_eq!(log.matches(&token).count(), 1, "printed once:\n{log}");
    let bearer = format!("Bearer {token}");
    let ok = raw(
        &serve,
        "GET",
        "/v1/runs",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    let no = raw(&serve, "GET", "/v1/runs", &[("Authorization", AUTH)], b"");
    assert_eq!(no.status, 401, "{no:?}");
}

/// `GET /v1/flows`'s hash of flow `name`.
fn flow_hash(serve: &Serve, name: &str) -> String {
    let (status, list) = serve.call("GET", "/v1/flows", None);
    assert_eq!(status, 200, "{list}");
    list["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no flow {name} in {list}"))["hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The text of a run's first message.
fn message(run: &Value) -> String {
    run["outcome"]["messages"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {run}"))
        .to_owned()
}

#[test]
fn serve_reloads_flows_on_sighup_and_post_and_keeps_the_old_ones_when_one_is_broken() {
    let dir = Scratch::new();
    let sb = TestSandbox::start();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    let file = flows.join("shop.yaml");
    let version = |text: &str| {
        preset_with("flow: stripe-checkout", "flow: shop")
            .replace("Please complete your payment here", text)
    };
    std::fs::write(&file, version("v1 pay here")).unwrap();
    let serve = serve_routed(dir.path(), &sb, &["--flows", flows.to_str().unwrap()]);
    let v1 = flow_hash(&serve, "shop");
    let shop = |id: &str| json!({"flow": "shop", "run_id": id, "inputs": {"product_name": "Mug", "amount_paise": 30000, "success_url": "https://shop.example/thanks"}});

    // A run in flight (its request is slow) when the file changes and SIGHUP arrives.
    delay_next_session(&sb, 1500);
    assert_eq!(serve.start_run(&shop("before")).0, 201);
    eventually("`before` is running", || {
        serve.run("before")["status"] == "running"
    });
    std::fs::write(&file, version("v2 pay here")).unwrap();
    serve.signal("HUP");
    eventually("SIGHUP reloads the flows", || {
        flow_hash(&serve, "shop") != v1
    });
    let v2 = flow_hash(&serve, "shop");
    assert!(
        serve.log().contains("flowstep serve: flows reloaded"),
        "{}",
        serve.log()
    );
    assert_eq!(serve.start_run(&shop("after-hup")).0, 201);
    let before = serve.wait_for_end("before", LIMIT);
    assert_eq!(before["status"], "succeeded", "{before}");
    assert_eq!(before["flow_hash"], v1.as_str());
    assert!(message(&before).starts_with("v1 pay here: "), "{before}");
    let after = serve.wait_for_end("after-hup", LIMIT);
    assert_eq!(after["flow_hash"], v2.as_str());
    assert!(message(&after).starts_with("v2 pay here: "), "{after}");

    // POST /v1/flows/reload does the same, and answers the flows now served.
    std::fs::write(&file, version("v3 pay here")).unwrap();
    let (status, list) = serve.call("POST", "/v1/flows/reload", None);
    assert_eq!(status, 200, "{list}");
    let v3 = flow_hash(&serve, "shop");
    assert_ne!(v3, v2);
    assert!(
        list["flows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["hash"] == v3.as_str())
    );

    // A broken file: 422 with the problem drawn, and the flows served stay as they were.
    std::fs::write(
        flows.join("broken.yaml"),
        "flow: broken\nsteps:\n  - id: a\n    type: set\n    values: { x: <<nope>> }\n",
    )
    .unwrap();
    std::fs::write(&file, version("v4 pay here")).unwrap();
    let (status, body) = serve.call("POST", "/v1/flows/reload", None);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_flows");
    assert_eq!(
        body["error"]["message"],
        "a flow failed its check; the flows served are unchanged"
    );
    let problems = body["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    let problem = problems[0].as_str().unwrap();
    assert!(problem.contains("undefined variable `nope`"), "{problem}");
    assert!(problem.contains("broken.yaml:5:18"), "{problem}");
    assert_eq!(flow_hash(&serve, "shop"), v3);
    serve.signal("HUP");
    eventually("SIGHUP reports the broken flow", || {
        serve.log().contains("error: flows not reloaded")
    });
    assert_eq!(flow_hash(&serve, "shop"), v3);
    assert_eq!(serve.start_run(&shop("after-broken")).0, 201);
    let run = serve.wait_for_end("after-broken", LIMIT);
    assert_eq!(run["flow_hash"], v3.as_str());
    assert!(message(&run).starts_with("v3 pay here: "), "{run}");
    let (status, _) = serve.start_run(&json!({"flow": "broken"}));
    assert_eq!(status, 422);
}

#[test]
fn serve_stops_on_sigterm_and_a_run_in_flight_completes_after_the_restart() {
    let dir = Scratch::new();
    let idle = Serve::start(dir.path(), &[], &[]);
    let start = Instant::now();
    assert_eq!(idle.terminate(Duration::from_secs(5)), 0);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    let sb = TestSandbox::start();
    let serve = serve_routed(dir.path(), &sb, &["--shutdown-grace", "1s"]);
    delay_next_session(&sb, 3000);
    assert_eq!(serve.start_run(&order("in-flight")).0, 201);
    eventually("the request has reached the sandbox", || {
        sb.sandbox
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/v1/checkout/sessions"))
    });
    let start = Instant::now();
    let log = serve.log();
    let code = serve.terminate(Duration::from_secs(10));
    assert_eq!(code, 0, "{log}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );

    let serve = serve_routed(dir.path(), &sb, &[]);
    let run = serve.wait_for_end("in-flight", LIMIT);
    assert_eq!(run["status"], "succeeded", "{run}\n{}", serve.log());
    // Claimed by the first server and again by the second, which finished it.
    assert_eq!(run["attempt"], 2, "{run}");
    assert_eq!(sb.sandbox.sessions_created(), 1, "one session for the run");
    assert_eq!(run_ids(&serve), ["in-flight"]);

    // An ended run is not run again after a crash.
    serve.kill9();
    let serve = serve_routed(dir.path(), &sb, &[]);
    let again = serve.run("in-flight");
    assert_eq!(again["status"], "succeeded");
    assert_eq!(again["outcome"], run["outcome"]);
    assert_eq!(sb.sandbox.sessions_created(), 1);
}

#[test]
fn serve_on_sigterm_lets_a_step_under_way_reach_its_checkpoint_within_the_grace() {
    let dir = Scratch::new();
    let sb = TestSandbox::start();
    let serve = serve_routed(dir.path(), &sb, &[]);
    delay_next_session(&sb, 1000);
    assert_eq!(serve.start_run(&order("graceful")).0, 201);
    eventually("the request has reached the sandbox", || {
        !sb.sandbox.requests().is_empty()
    });
    let start = Instant::now();
    assert_eq!(serve.terminate(Duration::from_secs(10)), 0);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The session was created once, by the request under way; after the restart the run
    // ends without creating another.
    let serve = serve_routed(dir.path(), &sb, &[]);
    let run = serve.wait_for_end("graceful", LIMIT);
    assert_eq!(run["status"], "succeeded", "{run}\n{}", serve.log());
    assert_eq!(sb.sandbox.sessions_created(), 1);
    assert_eq!(
        sb.sandbox
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/checkout/sessions")
            .count(),
        1,
        "the step reached its checkpoint before the first server stopped, so it was not sent again"
    );
}

/// The network policy covers runs started through the server: an http step to a loopback
/// address that is no `--route` or `--sandbox` target fails with the policy's error in the
/// run's outcome and sends nothing; `--allow-private-networks` lets the same run through.
#[test]
fn serve_refuses_private_networks_to_its_runs_unless_allowed() {
    let target = Recorder::start(vec![json_ok("{}")]);
    let url = target.url("/ok");
    let dir = Scratch::new();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(
        flows.join("get.yaml"),
        format!(
            "flow: get\nsteps:\n  - id: call\n    type: http\n    url: {url}\n    retry: off\n"
        ),
    )
    .unwrap();
    let flows = flows.to_str().unwrap();
    // The sandbox is on loopback too, and allowed: its exception must not open the others.
    let serve = Serve::start(dir.path(), &["--flows", flows, "--sandbox"], &[]);
    let (status, body) = serve.start_run(&json!({"flow": "get", "run_id": "denied"}));
    assert_eq!(status, 201, "{body}");
    let run = serve.wait_for_end("denied", LIMIT);
    assert_eq!(run["status"], "failed", "{run}");
    let step = &run["outcome"]["steps"][0];
    assert_eq!(
        (&step["id"], &step["status"], &step["error"]["kind"]),
        (&json!("call"), &json!("failed"), &json!("invalid")),
        "{run}"
    );
    let message = step["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "refused to connect to 127.0.0.1: 127.0.0.1 is in the loopback range 127.0.0.0/8, and this run denies private networks; nothing was sent."
        ),
        "{message}"
    );
    assert_eq!(target.requests(), Vec::<String>::new());
    drop(serve);

    let serve = Serve::start(
        dir.path(),
        &["--flows", flows, "--sandbox", "--allow-private-networks"],
        &[],
    );
    let (status, body) = serve.start_run(&json!({"flow": "get", "run_id": "allowed"}));
    assert_eq!(status, 201, "{body}");
    let run = serve.wait_for_end("allowed", LIMIT);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(target.requests().len(), 1);
}

#[test]
fn serve_api_a_mistyped_database_url_is_refused_without_showing_its_password() {
    let dir = Scratch::new();
    let secret = "Hunter2Sup3rSecret";
    for db in [
        format!("postgress://shop:{secret}@127.0.0.1:5432/runs"),
        format!(" postgres://shop:{secret}@127.0.0.1:5432/runs"),
        format!("postgres:/shop:{secret}@127.0.0.1:5432/runs"),
        format!("sqlite://shop:{secret}@127.0.0.1:5432/runs"),
    ] {
        let out = flowstep(dir.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--db", &db])
            .env("FLOWSTEP_API_TOKEN", TOKEN)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{db}: {stderr}");
        assert!(!stderr.contains(secret), "{db}: {stderr}");
        assert!(stderr.contains("shop:***@127.0.0.1"), "{db}: {stderr}");
    }
}

#[test]
fn serve_api_a_database_named_postgres_is_not_taken_for_a_file() {
    let dir = Scratch::new();
    for db in ["postgres", "Postgres:", "postgresql:/db"] {
        let out = flowstep(dir.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--db", db])
            .env("FLOWSTEP_API_TOKEN", TOKEN)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{db}: {stderr}");
        assert!(
            stderr.contains("a Postgres run store is a URL: postgres://USER@HOST:PORT/DB"),
            "{db}: {stderr}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{db}: a file was made"
        );
    }
}
