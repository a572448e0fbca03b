//! The http step against tiny scripted servers on 127.0.0.1: retries, Retry-After, lost
//! connections with and without an idempotency key, timeouts, the size cap, redirects, dry
//! runs, secret bindings, and the network policy, as a flow author sees them in the `Outcome`.
//!
//! `HttpConfig::default()` denies loopback, so these tests allow 127.0.0.1 explicitly
//! ([`loopback_config`]) unless the policy is what they test. Names are resolved by a
//! `StaticResolver` that knows only 127.0.0.1: no DNS, no traffic anywhere else.

use flowstep_engine::{
    Engine, ErrorKind, Outcome, RecordingChannel, Redactor, RunMode, RunRequest, RunStatus, Secret,
    StepRecord, resolve_inputs,
};
use flowstep_http::{HttpConfig, NetworkPolicy, Resolver, Route, StaticResolver, kind};
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

/// The secret `KEY` every flow here is given.
const KEY: &str = "sk_test_0123456789abcdefWXYZ";

/// The embedding default with 127.0.0.1 (and `localhost`) allowed, and names resolved from a
/// table that maps `localhost`, `a.test` and `b.test` to 127.0.0.1.
fn loopback_config() -> HttpConfig {
    HttpConfig {
        network: NetworkPolicy {
            allow_hosts: vec!["localhost".into()],
            allow_cidrs: vec!["127.0.0.1/32".parse().unwrap()],
            ..NetworkPolicy::default()
        },
        resolver: test_resolver(),
        ..HttpConfig::default()
    }
}

/// `localhost`, `a.test` and `b.test` are 127.0.0.1; nothing else resolves.
fn test_resolver() -> Resolver {
    let lo = "127.0.0.1".parse().unwrap();
    Resolver::new(StaticResolver::new([
        ("localhost", lo),
        ("a.test", lo),
        ("b.test", lo),
    ]))
}

/// Runs a flow whose steps are `steps` (YAML under `steps:`), with secret `KEY`.
async fn run_with(steps: &str, secrets_decl: &str, config: HttpConfig, mode: RunMode) -> Outcome {
    run_yaml(
        &format!("flow: t\nsecrets: {secrets_decl}\nsteps:\n{steps}"),
        config,
        mode,
    )
    .await
}

/// Runs a whole flow file (which may declare inputs with defaults and secret `KEY`).
async fn run_yaml(yaml: &str, config: HttpConfig, mode: RunMode) -> Outcome {
    let yaml = yaml.to_owned();
    let flow = read_flow(SourceFile::new("t.yaml", yaml)).unwrap_or_else(|d| panic!("{d:#?}"));
    let mut engine = Engine::new();
    engine.register("http", kind(config));
    let plan = engine.compile(flow).unwrap_or_else(|d| panic!("{d:#?}"));
    let channel = RecordingChannel::new();
    let mut secrets = BTreeMap::new();
    if plan.required_secrets().iter().any(|s| s == "KEY") {
        secrets.insert("KEY".to_owned(), Secret::new(KEY));
    }
    plan.run(RunRequest {
        inputs: resolve_inputs(plan.flow(), Vec::new()).unwrap(),
        secrets,
        run_id: Some("run_t".into()),
        mode,
        channel: &channel,
        recipient: None,
        redactor: Arc::new(Redactor::new()),
    })
    .await
    .unwrap()
}

async fn run(steps: &str) -> Outcome {
    run_with(steps, "[KEY]", loopback_config(), RunMode::Live).await
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
            ..loopback_config()
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
async fn a_redirect_to_another_origin_drops_every_header_that_carries_a_secret() {
    // Issue 8, fault 3: a secret in `headers:` followed a cross-origin redirect.
    let b = Server::start(vec![json_ok("{}")]).await;
    let a = Server::start(vec![respond(
        "307 Temporary Redirect",
        &[(
            "Location",
            &format!("http://localhost:{}/x?page=2", b.addr.port()),
        )],
        "",
    )])
    .await;
    let steps = format!(
        "  - id: s\n    type: http\n    url: {}\n    headers:\n      X-Api-Key: \"<<secrets.KEY>>\"\n      X-Signature: \"t=1,v1=<<secrets.KEY>>\"\n      X-Key-Length: \"<<len secrets.KEY>>\"\n      X-Trace: abc\n    auth: {{ type: basic, username: \"<<secrets.KEY>>\", password: \"\" }}\n",
        a.url("/start")
    );
    // Bound (to the first server's origin) or not, the secret stays behind.
    for decl in [
        format!(
            "[{{ name: KEY, hosts: [\"http://127.0.0.1:{}\"] }}]",
            a.addr.port()
        ),
        "[KEY]".to_owned(),
    ] {
        let o = run_with(&steps, &decl, loopback_config(), RunMode::Live).await;
        assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    }
    let at_a = &a.seen()[0];
    assert_eq!(at_a.header("x-api-key"), Some(KEY));
    assert!(at_a.header("authorization").is_some());
    for at_b in b.seen() {
        assert_eq!(at_b.path, "/x?page=2");
        let names: Vec<&str> = at_b.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["user-agent", "accept", "x-trace", "host"],
            "{:?}",
            at_b.headers
        );
    }
    assert_eq!(b.seen().len(), 2);
    // A key in the query (`auth: {type: query}`) stays with the first URL: the next one is the
    // redirect's own.
    let o = run(&format!(
        "  - id: s\n    type: http\n    url: {}\n    auth: {{ type: query, name: api_key, value: \"<<secrets.KEY>>\" }}\n",
        a.url("/start")
    ))
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(a.seen()[2].path, format!("/start?api_key={KEY}"));
    assert_eq!(b.seen()[2].path, "/x?page=2");
}

#[tokio::test]
async fn a_redirect_that_would_carry_a_secret_it_cannot_drop_is_refused() {
    let b = Server::start(vec![json_ok("{}")]).await;
    // The first server puts the key into the Location: it cannot be dropped from the URL.
    let a = Server::start(vec![respond(
        "302 Found",
        &[(
            "Location",
            &format!(
                "http://localhost:{}/x?k={}",
                b.addr.port(),
                "sk_test_0123456789abcdef%57XYZ"
            ),
        )],
        "",
    )])
    .await;
    let o = run_with(
        &format!(
            "  - id: s\n    type: http\n    url: {}\n    headers:\n      X-Key: \"<<secrets.KEY>>\"\n",
            a.url("/start")
        ),
        &format!("[{{ name: KEY, hosts: [\"http://127.0.0.1:{}\"] }}]", a.addr.port()),
        loopback_config(),
        RunMode::Live,
    )
    .await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.http_status, Some(302));
    assert_eq!(
        e.message,
        format!(
            "refusing to follow the redirect to http://localhost:{}: the redirect's URL carries \
             secret `KEY`",
            b.addr.port()
        )
    );
    // A body kept by a 307 that holds the key cannot be sent on without it either.
    let a2 = Server::start(vec![respond(
        "307 Temporary Redirect",
        &[("Location", &format!("http://localhost:{}/y", b.addr.port()))],
        "",
    )])
    .await;
    let o = run_with(
        &format!(
            "  - id: s\n    type: http\n    url: {}\n    body_type: text\n    body: \"copy of {KEY}\"\n",
            a2.url("/start")
        ),
        "[KEY]",
        loopback_config(),
        RunMode::Live,
    )
    .await;
    assert_eq!(
        error(&o).message,
        format!(
            "refusing to follow the redirect to http://localhost:{}: the request body carries \
             secret `KEY`, and a body cannot be sent without it",
            b.addr.port()
        )
    );
    assert!(b.seen().is_empty());
}

#[tokio::test]
async fn routes_rewrite_the_url_but_bindings_use_the_original_host() {
    let server = Server::start(vec![json_ok(r#"{"id": "cs_9"}"#)]).await;
    let route: Route = format!("https://api.stripe.com={}", server.url(""))
        .parse()
        .unwrap();
    // The embedding default denies loopback; a route's target is always allowed.
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
        "response.map `payment_url`: `$.url` matched nothing in the response (top-level keys: id, object); the request succeeded (HTTP 200) and took effect; only reading its response failed"
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
        format!(
            "secret `KEY` may only be sent to https://api.stripe.com; this request goes to {} \
             (`auth` reads it)",
            server.url("")
        )
    );
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn a_bound_secret_is_refused_in_every_auth_form_before_anything_is_sent() {
    // Issue 8, fault 1: Basic auth sent the key (base64-encoded) where Bearer was refused.
    let server = Server::start(vec![json_ok("{}")]).await;
    for (auth, place) in [
        (
            r#"auth: { type: basic, username: "<<secrets.KEY>>", password: "" }"#,
            "`auth`",
        ),
        (
            r#"auth: { type: basic, username: api, password: "<<secrets.KEY>>" }"#,
            "`auth`",
        ),
        (
            r#"auth: { type: query, name: key, value: "<<secrets.KEY>>" }"#,
            "`auth`",
        ),
        (
            r#"auth: { type: header, name: X-Api-Key, value: "<<secrets.KEY>>" }"#,
            "`auth`",
        ),
        (
            r#"headers: { Authorization: "Token token=<<secrets.KEY>>, v=2" }"#,
            "header `Authorization`",
        ),
    ] {
        let o = run_with(
            &format!(
                "  - id: s\n    type: http\n    url: {}\n    {auth}\n",
                server.url("/ok")
            ),
            "[{ name: KEY, hosts: [api.stripe.com] }]",
            loopback_config(),
            RunMode::Live,
        )
        .await;
        let e = error(&o);
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(
            e.message,
            format!(
                "secret `KEY` may only be sent to https://api.stripe.com; this request goes to \
                 {} ({place} reads it)",
                server.url("")
            ),
            "{auth}"
        );
        assert_eq!(step(&o).attempts, 0);
    }
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn a_binding_is_an_origin_scheme_and_port_included() {
    // Issue 8, fault 2: a key bound to a host went to that host on another scheme or port.
    let server = Server::start(vec![json_ok(r#"{"ok": true}"#)]).await;
    let port = server.addr.port();
    let steps = |url: &str| {
        format!(
            "  - id: s\n    type: http\n    url: {url}\n    auth: {{ type: bearer, token: \"<<secrets.KEY>>\" }}\n"
        )
    };
    // `127.0.0.1` alone means https://127.0.0.1:443.
    let o = run_with(
        &steps(&server.url("/ok")),
        "[{ name: KEY, hosts: [127.0.0.1] }]",
        loopback_config(),
        RunMode::Live,
    )
    .await;
    assert_eq!(
        error(&o).message,
        format!(
            "secret `KEY` may only be sent to https://127.0.0.1; this request goes to \
             http://127.0.0.1:{port} (`auth` reads it)"
        )
    );
    // Another port of an explicit origin is another origin.
    let o = run_with(
        &steps(&server.url("/ok")),
        &format!(
            "[{{ name: KEY, hosts: [\"http://127.0.0.1:{}\"] }}]",
            port + 1
        ),
        loopback_config(),
        RunMode::Live,
    )
    .await;
    assert_eq!(
        error(&o).message,
        format!(
            "secret `KEY` may only be sent to http://127.0.0.1:{}; this request goes to \
             http://127.0.0.1:{port} (`auth` reads it)",
            port + 1
        )
    );
    assert!(server.seen().is_empty());
    // The binding is checked on the URL as written, before a route rewrites it: a key bound to
    // api.stripe.com does not go to http://api.stripe.com:8080, routed or not.
    let route: Route = format!("http://api.stripe.com:8080={}", server.url(""))
        .parse()
        .unwrap();
    let routed = HttpConfig {
        routes: vec![route],
        ..loopback_config()
    };
    let o = run_with(
        &steps("http://api.stripe.com:8080/v1/x"),
        "[{ name: KEY, hosts: [api.stripe.com] }]",
        routed,
        RunMode::Live,
    )
    .await;
    assert_eq!(
        error(&o).message,
        "secret `KEY` may only be sent to https://api.stripe.com; this request goes to \
         http://api.stripe.com:8080 (`auth` reads it)"
    );
    assert!(server.seen().is_empty());
    // Written out, the origin is allowed.
    let o = run_with(
        &steps(&server.url("/ok")),
        &format!("[{{ name: KEY, hosts: [api.stripe.com, \"http://127.0.0.1:{port}\"] }}]"),
        loopback_config(),
        RunMode::Live,
    )
    .await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(
        server.seen()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn a_value_in_the_host_cannot_move_the_request_to_another_host() {
    // Issue 8, fault 8: `shop` rendered into the host rewrote the URL's authority.
    let server = Server::start(vec![json_ok("{}")]).await;
    let yaml = format!(
        "flow: t\ninputs:\n  shop: {{ type: string, default: \"127.0.0.1:{}/ok?\" }}\nsecrets: [KEY]\nsteps:\n  - id: s\n    type: http\n    url: http://<<shop>>.myshopify.example/admin/orders.json\n    headers: {{ X-Shopify-Access-Token: \"<<secrets.KEY>>\" }}\n",
        server.addr.port()
    );
    let o = run_yaml(&yaml, loopback_config(), RunMode::Live).await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        "url: `<<shop>>` renders into the URL's host, where only letters, digits, `-`, `_` and \
         `.` may stand, and the value holds `:`; it could send the request to another host"
    );
    assert_eq!(step(&o).attempts, 0);
    assert!(server.seen().is_empty());
}

/// One GET to `url` with `config`.
async fn get(url: &str, config: HttpConfig) -> Outcome {
    run_with(
        &format!("  - id: s\n    type: http\n    url: {url}\n    retry: off\n"),
        "[]",
        config,
        RunMode::Live,
    )
    .await
}

#[tokio::test]
async fn the_embedding_default_refuses_loopback_and_allowing_it_reaches_it() {
    let server = Server::start(vec![json_ok(r#"{"ok": true}"#)]).await;
    let port = server.addr.port();
    let o = get(&server.url("/ok"), HttpConfig::default()).await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        "refused to connect to 127.0.0.1: 127.0.0.1 is in the loopback range 127.0.0.0/8, and \
         this run denies private networks; nothing was sent. To allow it: `--allow-cidr \
         127.0.0.1/32` (flowstep run), `--allow-private-networks` (flowstep serve), or \
         `allow_cidrs` in the NetworkPolicy (embedding)"
    );
    // Other spellings of a loopback address are the same address.
    for url in [
        format!("http://[::1]:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
        format!("http://2130706433:{port}/ok"),
        format!("http://0x7f.1:{port}/ok"),
        format!("http://0.0.0.0:{port}/ok"),
    ] {
        let o = get(&url, HttpConfig::default()).await;
        assert!(
            error(&o).message.starts_with("refused to connect to "),
            "{url}: {}",
            error(&o).message
        );
    }
    assert!(server.seen().is_empty());
    // Allowed by range, or with private networks allowed altogether.
    for network in [
        NetworkPolicy {
            allow_cidrs: vec!["127.0.0.0/8".parse().unwrap()],
            ..NetworkPolicy::default()
        },
        NetworkPolicy::allow_all(),
    ] {
        let config = HttpConfig {
            network,
            ..HttpConfig::default()
        };
        let o = get(&server.url("/ok"), config).await;
        assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    }
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_name_that_resolves_to_a_denied_address_is_refused() {
    let server = Server::start(vec![json_ok(r#"{"ok": true}"#)]).await;
    let url = format!("http://a.test:{}/ok", server.addr.port());
    let deny = HttpConfig {
        resolver: test_resolver(),
        ..HttpConfig::default()
    };
    let o = get(&url, deny.clone()).await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        "refused to connect to a.test: it resolves to 127.0.0.1 (in the loopback range \
         127.0.0.0/8), and this run denies private networks; nothing was sent. To allow it: \
         `--allow-host a.test` or `--allow-cidr 127.0.0.1/32` (flowstep run), \
         `--allow-private-networks` (flowstep serve), or `allow_hosts`/`allow_cidrs` in the \
         NetworkPolicy (embedding)"
    );
    assert_eq!(step(&o).attempts, 1);
    assert!(server.seen().is_empty());
    // Allowing the name reaches it; a name the resolver does not know is not sent anywhere.
    let allowed = HttpConfig {
        network: NetworkPolicy {
            allow_hosts: vec!["*.test".into()],
            ..NetworkPolicy::default()
        },
        ..deny
    };
    let o = get(&url, allowed.clone()).await;
    assert_eq!(o.status, RunStatus::Succeeded, "{:#?}", o.steps);
    assert_eq!(server.seen().len(), 1);
    let o = get(&format!("http://c.test:{}/ok", server.addr.port()), allowed).await;
    assert!(
        error(&o)
            .message
            .contains("c.test is not in the resolver's table"),
        "{}",
        error(&o).message
    );
}

#[tokio::test]
async fn a_redirect_to_a_denied_address_is_refused() {
    let b = Server::start(vec![json_ok("{}")]).await;
    let bp = b.addr.port();
    let a = Server::start(vec![
        respond(
            "302 Found",
            &[("Location", &format!("http://127.0.0.1:{bp}/in"))],
            "",
        ),
        respond(
            "302 Found",
            &[("Location", &format!("http://b.test:{bp}/in"))],
            "",
        ),
    ])
    .await;
    // Only the first server's name is allowed.
    let config = HttpConfig {
        network: NetworkPolicy {
            allow_hosts: vec!["a.test".into()],
            ..NetworkPolicy::default()
        },
        resolver: test_resolver(),
        ..HttpConfig::default()
    };
    let url = format!("http://a.test:{}/start", a.addr.port());
    let o = get(&url, config.clone()).await;
    let e = error(&o);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.message,
        format!(
            "following the redirect to http://127.0.0.1:{bp}: refused to connect to 127.0.0.1: \
             127.0.0.1 is in the loopback range 127.0.0.0/8, and this run denies private \
             networks; nothing was sent. To allow it: `--allow-cidr 127.0.0.1/32` (flowstep \
             run), `--allow-private-networks` (flowstep serve), or `allow_cidrs` in the \
             NetworkPolicy (embedding)"
        )
    );
    let o = get(&url, config).await;
    assert!(
        error(&o).message.starts_with(&format!(
            "following the redirect to http://b.test:{bp}: refused to connect to b.test: it \
             resolves to 127.0.0.1"
        )),
        "{}",
        error(&o).message
    );
    assert_eq!(a.seen().len(), 2);
    assert!(b.seen().is_empty());
}

/// Answers 127.0.0.1 for the first lookup and 127.0.0.2 for every later one: a name that
/// rebinds to another address after it was first checked.
struct Rebinding(Mutex<u32>);

#[async_trait::async_trait]
impl flowstep_http::Resolve for Rebinding {
    async fn resolve(&self, _host: &str) -> std::io::Result<Vec<std::net::IpAddr>> {
        let mut calls = self.0.lock().unwrap();
        *calls += 1;
        let ip = if *calls == 1 {
            "127.0.0.1"
        } else {
            "127.0.0.2"
        };
        Ok(vec![ip.parse().unwrap()])
    }
}

#[tokio::test]
async fn every_connection_is_checked_so_a_name_cannot_rebind_to_a_denied_address() {
    let server = Server::start(vec![json_ok("{}")]).await;
    // Only 127.0.0.1 is allowed; 127.0.0.2 stands for the private address a rebinding name
    // turns to, and is refused before any connection is made.
    let config = HttpConfig {
        network: NetworkPolicy {
            allow_cidrs: vec!["127.0.0.1/32".parse().unwrap()],
            ..NetworkPolicy::default()
        },
        resolver: Resolver::new(Rebinding(Mutex::new(0))),
        ..HttpConfig::default()
    };
    let url = format!("http://rebind.test:{}/ok", server.addr.port());
    let o = run_with(
        &format!(
            "  - id: first\n    type: http\n    url: {url}\n    retry: off\n  - id: second\n    type: http\n    url: {url}\n    retry: off\n"
        ),
        "[]",
        config,
        RunMode::Live,
    )
    .await;
    assert_eq!(o.steps[0].status, flowstep_engine::StepStatus::Succeeded);
    let e = o.steps[1].error.as_ref().expect("the second step failed");
    assert_eq!(
        e.message,
        "refused to connect to rebind.test: it resolves to 127.0.0.2 (in the loopback range \
         127.0.0.0/8), and this run denies private networks; nothing was sent. To allow it: \
         `--allow-host rebind.test` or `--allow-cidr 127.0.0.2/32` (flowstep run), \
         `--allow-private-networks` (flowstep serve), or `allow_hosts`/`allow_cidrs` in the \
         NetworkPolicy (embedding)"
    );
    assert_eq!(server.seen().len(), 1);
}
