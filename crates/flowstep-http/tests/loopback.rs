//! The http step against tiny scripted servers on 127.0.0.1: retries, Retry-After, lost
//! connections with and without an idempotency key, timeouts, the size cap, redirects, dry
//! runs, as a flow author sees them in the `Outcome`.

use flowstep_engine::{
    Engine, ErrorKind, Outcome, RecordingChannel, Redactor, RunMode, RunRequest, RunStatus, Secret,
    StepRecord,
};
use flowstep_http::{HttpConfig, Route, kind};
use flowstep_spec::{SourceFile, read_flow};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with the next request it reads.
#[derive(Debug, Clone)]
enum Action {
    /// Write this raw response and close.
    Respond(String),
    /// Close the connection without answering.
    Close,
    /// Wait, then answer.
    Slow(Duration, String),
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
    at: Instant,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves `script` in order, one action per request; the last one repeats.
    async fn start(script: Vec<Action>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen2.clone();
                let script = script.clone();
                tokio::spawn(async move { serve(socket, seen, script).await });
            }
        });
        Server { addr, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    mut socket: TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Vec<Action>>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    seen.lock().unwrap().push(Seen {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    });
    let action = {
        let mut s = script.lock().unwrap();
        if s.len() > 1 {
            s.remove(0)
        } else {
            s[0].clone()
        }
    };
    match action {
        Action::Close => {}
        Action::Respond(r) => {
            let _ = socket.write_all(r.as_bytes()).await;
        }
        Action::Slow(d, r) => {
            tokio::time::sleep(d).await;
            let _ = socket.write_all(r.as_bytes()).await;
        }
    }
    let _ = socket.shutdown().await;
}

fn respond(status: &str, headers: &[(&str, &str)], body: &str) -> Action {
    Action::Respond(response(status, headers, body))
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

fn json_ok(body: &str) -> Action {
    respond(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Request-Id", "req_1"),
        ],
        body,
    )
}

/// Runs a flow whose steps are `steps` (YAML under `steps:`), with secret `KEY`.
async fn run_with(steps: &str, secrets_decl: &str, config: HttpConfig, mode: RunMode) -> Outcome {
    let yaml = format!("flow: t\nsecrets: {secrets_decl}\nsteps:\n{steps}");
    let flow = read_flow(SourceFile::new("t.yaml", yaml)).unwrap_or_else(|d| panic!("{d:#?}"));
    let mut engine = Engine::new();
    engine.register("http", kind(config));
    let plan = engine.compile(flow).unwrap_or_else(|d| panic!("{d:#?}"));
    let channel = RecordingChannel::new();
    let mut secrets = BTreeMap::new();
    secrets.insert(
        "KEY".to_owned(),
        Secret::new("sk_test_0123456789abcdefWXYZ"),
    );
    plan.run(RunRequest {
        inputs: Default::default(),
        secrets,
        run_id: Some("run_t".into()),
        mode,
        channel: &channel,
        redactor: Arc::new(Redactor::new()),
    })
    .await
    .unwrap()
}

async fn run(steps: &str) -> Outcome {
    run_with(steps, "[KEY]", HttpConfig::default(), RunMode::Live).await
}

fn step(o: &Outcome) -> &StepRecord {
    &o.steps[0]
}

fn error(o: &Outcome) -> &flowstep_engine::StepError {
    step(o).error.as_ref().expect("the step failed")
}

const FAST_RETRY: &str = "    retry: { base_delay: 10ms, max_delay: 20ms }\n";

#[tokio::test]
async fn a_503_is_retried_and_the_response_is_mapped() {
    let server = Server::start(vec![
        respond("503 Service Unavailable", &[], "busy"),
        json_ok(r#"{"id": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1#frag"}"#),
    ])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n    auth: {{ type: bearer, token: \"<<secrets.KEY>>\" }}\n    idempotency: auto\n    body_type: form\n    body: {{ mode: payment, amount: 500 }}\n    response:\n      map: {{ payment_url: $.url }}\n{FAST_RETRY}  - id: m\n    type: message\n    text: \"Pay here: <<payment_url>>\"\n",
        server.url("/v1/checkout/sessions")
    ))
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(step(&o).attempts, 2);
    assert_eq!(
        o.variables["payment_url"],
        json!("https://checkout.stripe.com/c/pay/cs_1#frag")
    );
    assert_eq!(
        o.messages[0].text,
        "Pay here: https://checkout.stripe.com/c/pay/cs_1#frag"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, "mode=payment&amount=500");
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer sk_test_0123456789abcdefWXYZ")
    );
    assert_eq!(seen[0].header("idempotency-key"), Some("flowstep-run_t-s"));
    assert_eq!(seen[1].header("idempotency-key"), Some("flowstep-run_t-s"));
    // The record: the request with the key redacted by the runner, and the response.
    let d = &step(&o).details;
    assert_eq!(d["request"]["method"], json!("POST"));
    assert_eq!(
        d["request"]["headers"]["Authorization"],
        json!("Bearer sk_test_...WXYZ")
    );
    assert_eq!(d["request"]["body"], json!("mode=payment&amount=500"));
    assert_eq!(d["response"]["status"], json!(200));
    assert_eq!(
        d["response"]["headers"],
        json!({"request-id": "req_1", "content-type": "application/json"})
    );
    assert_eq!(d["response"]["body"]["id"], json!("cs_1"));
}

#[tokio::test]
async fn a_post_without_a_key_is_not_retried_on_503_and_reads_the_stripe_error() {
    let server = Server::start(vec![respond(
        "400 Bad Request",
        &[("Content-Type", "application/json")],
        r#"{"error": {"type": "invalid_request_error", "code": "parameter_missing", "message": "Missing required param: mode.", "param": "mode"}}"#,
    )])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n    hints:\n      - {{ code: parameter_missing, cause: A field is missing., fix: Add it. }}\n{FAST_RETRY}",
        server.url("/v1/x")
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert_eq!(e.message, "Missing required param: mode.");
    assert_eq!(e.http_status, Some(400));
    assert_eq!(e.code.as_deref(), Some("parameter_missing"));
    assert_eq!(e.api_type.as_deref(), Some("invalid_request_error"));
    assert_eq!(e.param.as_deref(), Some("mode"));
    assert_eq!(e.hint.as_ref().unwrap().cause, "A field is missing.");

    let server = Server::start(vec![respond(
        "503 Service Unavailable",
        &[],
        "<html>busy</html>",
    )])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n{FAST_RETRY}",
        server.url("/v1/x")
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(e.message, "HTTP 503 Service Unavailable: <html>busy</html>");
    assert_eq!(step(&o).attempts, 1);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = Server::start(vec![
        respond("429 Too Many Requests", &[("Retry-After", "1")], "{}"),
        json_ok("{}"),
    ])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    url: {}\n{FAST_RETRY}",
        server.url("/v1/x")
    ))
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    // A lower bound only: the machine may be slow, never fast.
    assert!(seen[1].at - seen[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn stripe_should_retry_false_stops_retries() {
    let server = Server::start(vec![respond(
        "500 Internal Server Error",
        &[("Stripe-Should-Retry", "false")],
        r#"{"error": {"message": "boom", "type": "api_error"}}"#,
    )])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    url: {}\n{FAST_RETRY}",
        server.url("/v1/x")
    ))
    .await;
    assert_eq!(error(&o).kind, ErrorKind::Transient);
    assert_eq!(error(&o).message, "boom");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_lost_connection_is_retried_only_with_an_idempotency_key() {
    let server = Server::start(vec![Action::Close, json_ok(r#"{"id": "x"}"#)]).await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n    idempotency: auto\n{FAST_RETRY}",
        server.url("/v1/x")
    ))
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(step(&o).attempts, 2);

    let server = Server::start(vec![Action::Close, json_ok(r#"{"id": "x"}"#)]).await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n{FAST_RETRY}",
        server.url("/v1/x")
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Unknown, "{e:?}");
    assert!(e.message.contains("may have taken effect"), "{}", e.message);
    assert!(e.message.contains("no idempotency key"), "{}", e.message);
    assert_eq!(step(&o).attempts, 1);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_timeout_says_the_request_may_have_taken_effect() {
    let server = Server::start(vec![Action::Slow(
        Duration::from_secs(3),
        response("200 OK", &[], "{}"),
    )])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n    timeout: 300ms\n    idempotency: auto\n    retry: off\n",
        server.url("/v1/x")
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(
        e.message
            .starts_with("no response from 127.0.0.1 within 300ms"),
        "{}",
        e.message
    );
    assert!(e.message.contains("may have taken effect"), "{}", e.message);
    assert!(e.message.contains("--run-id run_t"), "{}", e.message);
}

#[tokio::test]
async fn nothing_listening_is_transient_and_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: http://127.0.0.1:{port}/v1/x\n{FAST_RETRY}"
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Transient, "{e:?}");
    assert!(
        e.message
            .starts_with("could not connect to 127.0.0.1 after 3 attempts"),
        "{}",
        e.message
    );
    assert_eq!(step(&o).attempts, 3);
}

#[tokio::test]
async fn bodies_over_the_cap_fail_cleanly() {
    let big = "x".repeat(1000);
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    for action in [respond("200 OK", &[], &big), Action::Respond(chunked)] {
        let server = Server::start(vec![action]).await;
        let config = HttpConfig {
            max_response_bytes: 512,
            ..HttpConfig::default()
        };
        let o = run_with(
            &format!(
                "  - id: s\n    type: http\n    url: {}\n",
                server.url("/big")
            ),
            "[KEY]",
            config,
            RunMode::Live,
        )
        .await;
        let e = error(&o);
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(
            e.message,
            "the response body is larger than the 512 bytes limit"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_drops_authorization() {
    let b = Server::start(vec![json_ok(r#"{"ok": true}"#)]).await;
    let a = Server::start(vec![respond(
        "302 Found",
        &[(
            "Location",
            &format!("http://localhost:{}/final?x=1", b.addr.port()),
        )],
        "",
    )])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    url: {}\n    auth: {{ type: bearer, token: \"<<secrets.KEY>>\" }}\n    response: {{ map: {{ ok: $.ok }} }}\n",
        a.url("/start")
    ))
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(o.variables["ok"], json!(true));
    assert!(a.seen()[0].header("authorization").is_some());
    let at_b = &b.seen()[0];
    assert_eq!(at_b.path, "/final?x=1");
    assert_eq!(at_b.header("authorization"), None);

    // A POST is not redirected; a 302 to it usually means it was carried out.
    let o = run(&format!(
        "  - id: s\n    type: http\n    method: POST\n    url: {}\n",
        a.url("/start")
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Unknown);
    assert_eq!(e.http_status, Some(302));
    assert!(
        e.message.contains("POST requests are not redirected"),
        "{}",
        e.message
    );
    assert_eq!(b.seen().len(), 1);
}

#[tokio::test]
async fn a_redirect_that_would_carry_a_bound_secret_is_refused() {
    let b = Server::start(vec![json_ok("{}")]).await;
    let a = Server::start(vec![respond(
        "307 Temporary Redirect",
        &[("Location", &format!("http://localhost:{}/x", b.addr.port()))],
        "",
    )])
    .await;
    let o = run_with(
        &format!(
            "  - id: s\n    type: http\n    url: {}\n    headers:\n      X-Key: \"<<secrets.KEY>>\"\n",
            a.url("/start")
        ),
        "[{ name: KEY, hosts: [127.0.0.1] }]",
        HttpConfig::default(),
        RunMode::Live,
    )
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        "refusing to follow the redirect to localhost: the request would carry secret `KEY`, which may only be sent to 127.0.0.1"
    );
    assert!(b.seen().is_empty());
}

#[tokio::test]
async fn routes_rewrite_the_url_but_bindings_use_the_original_host() {
    let server = Server::start(vec![json_ok(r#"{"id": "cs_9"}"#)]).await;
    let route: Route = format!("https://api.stripe.com={}", server.url(""))
        .parse()
        .unwrap();
    let config = HttpConfig {
        routes: vec![route],
        ..HttpConfig::default()
    };
    let o = run_with(
        "  - id: s\n    type: http\n    method: POST\n    url: https://api.stripe.com/v1/checkout/sessions\n    auth: { type: bearer, token: \"<<secrets.KEY>>\" }\n    response: { map: { id: $.id } }\n",
        "[{ name: KEY, hosts: [api.stripe.com] }]",
        config,
        RunMode::Live,
    )
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(o.variables["id"], json!("cs_9"));
    assert_eq!(server.seen()[0].path, "/v1/checkout/sessions");
    let req = &step(&o).details["request"];
    assert_eq!(
        req["url"],
        json!("https://api.stripe.com/v1/checkout/sessions")
    );
    assert_eq!(req["routed_to"], json!(server.url("/v1/checkout/sessions")));
}

#[tokio::test]
async fn mapping_failures_name_the_variable_and_the_keys_present() {
    let server = Server::start(vec![json_ok(
        r#"{"id": "cs_1", "object": "checkout.session"}"#,
    )])
    .await;
    let o = run(&format!(
        "  - id: s\n    type: http\n    url: {}\n    response: {{ map: {{ payment_url: $.url }} }}\n",
        server.url("/x")
    ))
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        "response.map `payment_url`: `$.url` matched nothing in the response (top-level keys: id, object)"
    );
    // The body is still recorded for the author to look at.
    assert_eq!(step(&o).details["response"]["body"]["id"], json!("cs_1"));
}

#[tokio::test]
async fn a_dry_run_sends_nothing_and_records_curl_and_placeholders() {
    let server = Server::start(vec![json_ok("{}")]).await;
    let o = run_with(
        &format!(
            "  - id: create_session\n    type: http\n    method: POST\n    url: {}\n    auth: {{ type: bearer, token: \"<<secrets.KEY>>\" }}\n    body_type: form\n    body: {{ note: \"it's\" }}\n    response: {{ map: {{ payment_url: $.url }} }}\n  - id: m\n    type: message\n    text: \"Pay: <<payment_url>>\"\n",
            server.url("/v1/x")
        ),
        "[KEY]",
        HttpConfig::default(),
        RunMode::DryRun,
    )
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert!(server.seen().is_empty());
    let d = &step(&o).details;
    assert_eq!(
        d["curl"],
        Value::String(format!(
            "curl -X POST '{}' -H 'User-Agent: flowstep/{}' -H 'Accept: application/json' \
             -H 'Content-Type: application/x-www-form-urlencoded' \
             -H 'Authorization: Bearer sk_test_...WXYZ' --data-raw 'note=it%27s'",
            server.url("/v1/x"),
            env!("CARGO_PKG_VERSION")
        ))
    );
    assert_eq!(
        o.variables["payment_url"],
        json!("<payment_url: $.url from create_session>")
    );
}

#[tokio::test]
async fn a_bound_secret_is_not_sent_to_another_host() {
    let server = Server::start(vec![json_ok("{}")]).await;
    let o = run_with(
        &format!(
            "  - id: s\n    type: http\n    url: {}\n    auth: {{ type: bearer, token: \"<<secrets.KEY>>\" }}\n",
            server.url("/x")
        ),
        "[{ name: KEY, hosts: [api.stripe.com] }]",
        HttpConfig::default(),
        RunMode::Live,
    )
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        "secret `KEY` may only be sent to api.stripe.com; this request goes to 127.0.0.1"
    );
    assert!(server.seen().is_empty());
}
