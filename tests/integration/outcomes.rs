//! Outcomes and retries say what happened: a failed step's kind reflects every attempt (a
//! request that may have taken effect is `unknown`, whatever a later attempt got), retries
//! never come before a server's `Retry-After` and stop at once when it asks for more than the
//! step's budget, only replay-safe requests are repeated, and a failure shows the response body
//! and a hint for its status class. Through the real binary, against the sandbox's faults or a
//! scripted loopback server.

use crate::raw_http::{RawServer, Reply, reply};
use crate::support::report;
use crate::support::{Run, Scratch, TestSandbox, flowstep, preset, step_record};
use flowstep_sandbox::{Fault, FaultAction, SANDBOX_SECRET_KEY};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The shop API's key; the report must show it as `sk_test_...1234` only.
const SHOP_KEY: &str = "sk_test_shopKeyForOutcomes001234";

/// A flow that creates an order at `https://api.shop.test` (routed to a scripted server), with
/// `extra` lines added to the step (indented four spaces).
fn order_flow(extra: &str) -> String {
    format!(
        "flow: order
secrets: [SHOP_KEY]
steps:
  - id: create_order
    type: http
    method: POST
    url: https://api.shop.test/v1/orders
    auth: {{ type: bearer, token: \"<<secrets.SHOP_KEY>>\" }}
    body_type: json
    body: {{ sku: A1, quantity: 2 }}
{extra}"
    )
}

/// Runs `flow` (as `order.yaml`) with run id `o1`, `https://api.shop.test` routed to `server`.
fn run_order(server: &RawServer, flow: &str, extra_args: &[&str]) -> Run {
    let dir = Scratch::new();
    dir.write("order.yaml", flow);
    flowstep(dir.path())
        .env("SHOP_KEY", SHOP_KEY)
        .args(["run", "order.yaml", "--run-id", "o1", "--route"])
        .arg(server.route_from("https://api.shop.test"))
        .args(extra_args)
        .output()
        .unwrap()
        .into()
}

const FAST_RETRY: &str = "    retry: { base_delay: 10ms, max_delay: 20ms }\n";
const AUTO_KEY: &str = "    idempotency: auto\n";

fn stripe_error(message: &str) -> String {
    format!(r#"{{"error": {{"type": "invalid_request_error", "message": "{message}"}}}}"#)
}

// D1: the kind reflects the whole attempt history.

fn sessions_fault(count: usize, action: FaultAction) -> Fault {
    Fault {
        path_prefix: Some("/v1/checkout/sessions".to_owned()),
        count,
        action,
    }
}

fn status_fault(status: u16, headers: &[(&str, &str)]) -> FaultAction {
    FaultAction::Status {
        status,
        body: None,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The preset against `sb` with fast retries, run id `rerun-7`, JSON output.
fn checkout(sb: &TestSandbox) -> Run {
    let dir = Scratch::new();
    let flow = preset().replace(
        "    idempotency: auto\n",
        &format!("{AUTO_KEY}{FAST_RETRY}"),
    );
    dir.write("flow.yaml", &flow);
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .args([
            "run",
            "flow.yaml",
            "--run-id",
            "rerun-7",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
            "--route",
        ])
        .arg(sb.route())
        .output()
        .unwrap()
        .into()
}

#[test]
fn a_lost_answer_then_a_refusal_or_a_failure_is_unknown_while_the_session_exists() {
    let refused = status_fault(429, &[("Stripe-Should-Retry", "false")]);
    for (later, attempts, then) in [
        (
            sessions_fault(1, refused),
            2,
            "then attempt 2 was answered HTTP 429 Too Many Requests: ",
        ),
        (
            sessions_fault(5, status_fault(503, &[])),
            3,
            "then attempt 3 was answered HTTP 503 Service Unavailable: ",
        ),
    ] {
        let sb = TestSandbox::start();
        sb.sandbox
            .inject(sessions_fault(1, FaultAction::DropResponse));
        sb.sandbox.inject(later);
        let out = checkout(&sb);
        assert_eq!(out.code, 1, "{out:?}");
        let step = step_record(&out.json(), "create_session").clone();
        assert_eq!(step["attempts"], attempts);
        assert_eq!(step["error"]["kind"], "unknown", "{}", step["error"]);
        let message = step["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "the request may have taken effect: attempt 1 was sent and the connection ended \
                 without a response ("
            ),
            "{message}"
        );
        assert!(message.contains(then), "{message}");
        assert!(
            message.ends_with(
                "It carried Idempotency-Key `flowstep-rerun-7-create_session`, so re-running \
                 with the same run id (--run-id rerun-7) is safe: the API will not do it twice."
            ),
            "{message}"
        );
        assert_eq!(
            sb.sandbox.sessions_created(),
            1,
            "the first attempt created the session the kind must not deny"
        );
    }
}

#[test]
fn a_lost_answer_then_a_refusal_is_drawn_as_unknown_with_the_rerun_advice() {
    let server = RawServer::start(vec![
        Reply::Close,
        reply(
            "429 Too Many Requests",
            &[
                ("Content-Type", "application/json"),
                ("Stripe-Should-Retry", "false"),
            ],
            &stripe_error("Too many requests."),
        ),
    ]);
    let out = run_order(
        &server,
        &order_flow(&format!("{AUTO_KEY}{FAST_RETRY}")),
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run o1)
  FAIL create_order (http) POST https://api.shop.test/v1/orders -> 429, 2 attempts [_ ms]
error[unknown]: the request may have taken effect: attempt 1 was sent and the connection ended without a response (connection closed before message completed); then attempt 2 was answered HTTP 429 Too Many Requests: Too many requests. It carried Idempotency-Key `flowstep-o1-create_order`, so re-running with the same run id (--run-id o1) is safe: the API will not do it twice.
 --> order.yaml:4:5
  |
4 |   - id: create_order
  |     ^^^^^^^^^^^^^^^^ HTTP 429
  |
  = response body (HTTP 429):
    {
      "error": {
        "type": "invalid_request_error",
        "message": "Too many requests."
      }
    }

failed
"#
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].header("Idempotency-Key"),
        seen[1].header("Idempotency-Key")
    );
}

#[test]
fn a_timeout_after_sending_then_a_503_is_unknown() {
    let server = RawServer::start(vec![
        Reply::Hang(Duration::from_secs(3)),
        reply("503 Service Unavailable", &[], "busy"),
    ]);
    let flow = order_flow(&format!(
        "{AUTO_KEY}    timeout: 300ms\n    retry: {{ max_attempts: 2, base_delay: 10ms }}\n"
    ));
    let out = run_order(&server, &flow, &["--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let error = step_record(&out.json(), "create_order")["error"].clone();
    assert_eq!(error["kind"], "unknown");
    assert_eq!(
        error["message"],
        "the request may have taken effect: attempt 1 was sent and got no response within 300ms; \
         then attempt 2 was answered HTTP 503 Service Unavailable: HTTP 503 Service Unavailable: \
         busy. It carried Idempotency-Key `flowstep-o1-create_order`, so re-running with the same \
         run id (--run-id o1) is safe: the API will not do it twice."
    );
    assert_eq!(error["http_status"], 503);
}

#[test]
fn a_post_answered_303_may_have_taken_effect() {
    let server = RawServer::start(vec![reply(
        "303 See Other",
        &[("Location", "/v1/orders/ord_1")],
        "",
    )]);
    let out = run_order(&server, &order_flow(""), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run o1)
  FAIL create_order (http) POST https://api.shop.test/v1/orders [_ ms]
error[unknown]: the API answered 303 See Other with a redirect, which usually means the request was carried out and the result is elsewhere, so it may have taken effect; POST requests are not redirected because repeating them elsewhere could do the work twice (check the URL). It carried no idempotency key, so check whether it took effect before running it again (set `idempotency: auto` to make re-runs safe).
 --> order.yaml:4:5
  |
4 |   - id: create_order
  |     ^^^^^^^^^^^^^^^^ HTTP 303
  |

failed
"#
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1, "a 303 is not followed");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/v1/orders")
    );
}

#[test]
fn a_307_to_a_post_did_nothing_and_is_rejected() {
    let server = RawServer::start(vec![reply(
        "307 Temporary Redirect",
        &[("Location", "https://elsewhere.example/v1/orders")],
        "",
    )]);
    let out = run_order(&server, &order_flow(AUTO_KEY), &["--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let error = step_record(&out.json(), "create_order")["error"].clone();
    assert_eq!(error["kind"], "rejected");
    assert_eq!(
        error["message"],
        "the API answered 307 Temporary Redirect with a redirect, which asks for the request to \
         be sent elsewhere; POST requests are not redirected because repeating them elsewhere \
         could do the work twice (check the URL)."
    );
}

#[test]
fn a_2xx_too_large_to_read_may_have_taken_effect() {
    // The length alone is over the 10 MiB cap, so nothing more needs to be sent.
    let server = RawServer::start(vec![Reply::Raw(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 20971520\r\nConnection: close\r\n\r\n{\"id\": \"ord_1\""
            .to_owned(),
    )]);
    let out = run_order(&server, &order_flow(AUTO_KEY), &["--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let step = step_record(&out.json(), "create_order").clone();
    assert_eq!(step["attempts"], 1);
    assert_eq!(step["error"]["kind"], "unknown");
    assert_eq!(
        step["error"]["message"],
        "the API answered 201 Created, so the request was carried out, but the response body is \
         larger than the 10 MiB limit and was not read. It carried Idempotency-Key \
         `flowstep-o1-create_order`, so re-running with the same run id (--run-id o1) is safe: \
         the API will not do it twice."
    );
    assert_eq!(step["error"]["http_status"], 201);
    assert_eq!(server.requests().len(), 1);
}

// D2: Retry-After, the step's budget, and which requests are retried.

#[test]
fn retry_after_is_waited_for_and_each_wait_is_logged_at_v() {
    let sb = TestSandbox::start();
    sb.sandbox.inject(sessions_fault(
        1,
        status_fault(429, &[("Retry-After", "1")]),
    ));
    let dir = Scratch::new();
    let flow = preset().replace(
        "    idempotency: auto\n",
        &format!("{AUTO_KEY}    retry: {{ base_delay: 10ms, max_delay: 20ms, budget: 5s }}\n"),
    );
    dir.write("flow.yaml", &flow);
    let started = Instant::now();
    let out: Run = flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)
        .args([
            "-v",
            "run",
            "flow.yaml",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--route",
        ])
        .arg(sb.route())
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(", 2 attempts ["),
        "the retry succeeded:\n{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(
            " INFO step{step_id=create_session}: create_session: attempt 1 of 3 got HTTP 429 Too Many Requests; waiting 1s \
             (the API's Retry-After: 1s) before attempt 2\n"
        ),
        "{}",
        out.stderr
    );
    // A lower bound only: never before Retry-After, however fast the machine.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(sb.sandbox.sessions_created(), 1);
}

#[test]
fn a_retry_after_past_the_budget_stops_at_once_and_reports_the_delay() {
    let server = RawServer::start(vec![reply(
        "429 Too Many Requests",
        &[("Content-Type", "application/json"), ("Retry-After", "120")],
        &stripe_error("Too many requests."),
    )]);
    let started = Instant::now();
    let out = run_order(&server, &order_flow(AUTO_KEY), &[]);
    // Nowhere near the 120 s asked for, nor the 60 s the old cap waited.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run o1)
  FAIL create_order (http) POST https://api.shop.test/v1/orders -> 429 [_ ms]
error[rejected]: Too many requests; the API asked to wait 120s before trying again (Retry-After), which is past the step's retry budget (retry.budget: 60s from the first attempt), so it was not retried
 --> order.yaml:4:5
  |
4 |   - id: create_order
  |     ^^^^^^^^^^^^^^^^ HTTP 429
  |
  = note: cause: the API is limiting how fast requests may be sent
  = help: wait, then run again with the same run id; or send fewer requests
  = response body (HTTP 429):
    {
      "error": {
        "type": "invalid_request_error",
        "message": "Too many requests."
      }
    }

failed
"#
    );
    assert_eq!(server.requests().len(), 1);

    // A wait that fits no budget: 3 s asked, 2 s budget.
    let server = RawServer::start(vec![reply(
        "503 Service Unavailable",
        &[("Retry-After", "3")],
        "",
    )]);
    let flow = order_flow(&format!("{AUTO_KEY}    retry: {{ budget: 2s }}\n"));
    let out = run_order(&server, &flow, &["--output", "json"]);
    let error = step_record(&out.json(), "create_order")["error"].clone();
    assert_eq!(
        error["message"],
        "HTTP 503 Service Unavailable; the API asked to wait 3s before trying again \
         (Retry-After), which is past the step's retry budget (retry.budget: 2s from the first \
         attempt), so it was not retried"
    );
    assert_eq!(error["kind"], "transient");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn idempotent_methods_are_retried_without_a_key_and_posts_and_patches_only_with_one() {
    for (method, key, attempts) in [
        ("GET", "", 2),
        ("HEAD", "", 2),
        ("PUT", "", 2),
        ("DELETE", "", 2),
        ("OPTIONS", "", 2),
        ("POST", "", 1),
        ("PATCH", "", 1),
        ("POST", AUTO_KEY, 2),
        ("PATCH", AUTO_KEY, 2),
    ] {
        let server = RawServer::start(vec![
            reply("503 Service Unavailable", &[], ""),
            reply("200 OK", &[("Content-Type", "application/json")], "{}"),
        ]);
        let flow = format!(
            "flow: m\nsteps:\n  - id: call\n    type: http\n    method: {method}\n    url: https://api.shop.test/v1/x\n{key}{FAST_RETRY}"
        );
        let out = run_order(&server, &flow, &["--output", "json"]);
        let step = step_record(&out.json(), "call").clone();
        assert_eq!(
            (step["attempts"].clone(), server.requests().len()),
            (Value::from(attempts), attempts),
            "{method} key={:?}: {step}",
            !key.is_empty()
        );
        assert_eq!(out.code, if attempts == 2 { 0 } else { 1 }, "{out:?}");
    }
}

// D3: failures say what to do.

#[test]
fn a_500_without_a_hint_gets_the_status_class_hint_and_shows_the_body() {
    let server = RawServer::start(vec![reply(
        "500 Internal Server Error",
        &[("Content-Type", "text/html")],
        "<html>\n  <body>Something broke. Ref 7f3a</body>\n</html>\n",
    )]);
    let out = run_order(&server, &order_flow("    retry: off\n"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run o1)
  FAIL create_order (http) POST https://api.shop.test/v1/orders -> 500 [_ ms]
error[transient]: HTTP 500 Internal Server Error: <html> <body>Something broke. Ref 7f3a</body> </html>
 --> order.yaml:4:5
  |
4 |   - id: create_order
  |     ^^^^^^^^^^^^^^^^ HTTP 500
  |
  = note: cause: the API failed on its side
  = help: try again later with the same run id; if it goes on, check the provider's status page
  = response body (HTTP 500):
    <html>
      <body>Something broke. Ref 7f3a</body>
    </html>

failed
"#
    );
}

#[test]
fn a_404_says_to_check_the_url_and_a_long_body_is_cut() {
    let lines: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
    let server = RawServer::start(vec![reply("404 Not Found", &[], &lines.join("\n"))]);
    let out = run_order(&server, &order_flow(""), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let mut body = String::new();
    for line in &lines[..20] {
        body.push_str(&format!("    {line}\n"));
    }
    assert_eq!(
        report(&out),
        format!(
            r#"flow order (run o1)
  FAIL create_order (http) POST https://api.shop.test/v1/orders -> 404 [_ ms]
error[rejected]: HTTP 404 Not Found: {}
 --> order.yaml:4:5
  |
4 |   - id: create_order
  |     ^^^^^^^^^^^^^^^^ HTTP 404
  |
  = note: cause: the API has nothing at this URL
  = help: check the URL's path and every id in it against the API's documentation (a typo, another API version, or an id from another account or mode)
  = response body (HTTP 404):
{body}    ... 10 more lines (230 bytes in all; `--format json` has the whole body)

failed
"#,
            // The message quotes the start of the body on one line, the first 200 characters.
            "line 1 line 2 line 3 line 4 line 5 line 6 line 7 line 8 line 9 line 10 line 11 line 12 line 13 line 14 line 15 line 16 line 17 line 18 line 19 line 20 line 21 line 22 line 23 line 24 line 25 line 26 l..."
        )
    );
}

#[test]
fn a_mapping_failure_after_a_post_shows_the_body_without_sending_it_again() {
    // The API echoes the key it was sent: the body is shown redacted like everything else.
    let server = RawServer::start(vec![reply(
        "201 Created",
        &[("Content-Type", "application/json")],
        &format!(r#"{{"order": {{"id": "ord_1", "status": "created"}}, "key": "{SHOP_KEY}"}}"#),
    )]);
    let flow = order_flow("    response:\n      map:\n        order_id: $.id\n");
    let out = run_order(&server, &flow, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow order (run o1)
  FAIL create_order (http) POST https://api.shop.test/v1/orders -> 201 [_ ms]
error[invalid]: response.map `order_id`: `$.id` matched nothing in the response (top-level keys: order, key); the request succeeded (HTTP 201) and took effect; only reading its response failed
 --> order.yaml:4:5
  |
4 |   - id: create_order
  |     ^^^^^^^^^^^^^^^^ HTTP 201
  |
  = response body (HTTP 201):
    {
      "order": {
        "id": "ord_1",
        "status": "created"
      },
      "key": "sk_test_...1234"
    }

failed
"#
    );
    assert!(!out.all_output().contains(SHOP_KEY), "the key leaked");
    assert_eq!(server.requests().len(), 1);
}

// C7: run ids.

#[test]
fn a_bad_run_id_is_refused_with_exit_2_before_anything_is_sent() {
    let server = RawServer::start(vec![reply("200 OK", &[], "{}")]);
    let dir = Scratch::new();
    dir.write("order.yaml", &order_flow(AUTO_KEY));
    let too_long = "r".repeat(129);
    for (id, said) in [
        (
            "",
            "error: --run-id: the run id is empty; a run id is 1 to 128 ASCII letters, digits, \
             `-`, `_` and `.`, starting with a letter or digit\n",
        ),
        (
            "order 7",
            "error: --run-id: the run id \"order 7\" has ' ' at character 6; a run id is 1 to 128 \
             ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit\n",
        ),
        (
            too_long.as_str(),
            "error: --run-id: the run id is 129 characters long; a run id is 1 to 128 ASCII \
             letters, digits, `-`, `_` and `.`, starting with a letter or digit\n",
        ),
    ] {
        let out: Run = flowstep(dir.path())
            .env("SHOP_KEY", SHOP_KEY)
            .args(["run", "order.yaml", "--run-id", id, "--route"])
            .arg(server.route_from("https://api.shop.test"))
            .output()
            .unwrap()
            .into();
        assert_eq!((out.code, out.stderr.as_str()), (2, said), "{id:?}");
        assert!(out.stdout.is_empty());
    }
    assert!(server.requests().is_empty(), "nothing may be sent");
}

#[test]
fn the_response_body_lines_up_with_the_notes_when_the_step_is_past_line_9() {
    let server = RawServer::start(vec![reply("404 Not Found", &[], "no such thing")]);
    // Seven comment lines push the step to line 11: the gutter is two digits wide.
    let flow = format!("#\n#\n#\n#\n#\n#\n#\n{}", order_flow(""));
    let out = run_order(&server, &flow, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let shown = report(&out);
    assert!(
        shown.contains(
            "   = help: check the URL's path and every id in it against the API's documentation (a typo, another API version, or an id from another account or mode)\n   = response body (HTTP 404):\n     no such thing\n"
        ),
        "{shown}"
    );
}
