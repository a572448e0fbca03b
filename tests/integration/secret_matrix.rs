//! The secret matrix: a sentinel secret in each place a secret may stand, times servers that
//! echo the request back in each way (JSON, `\/`-escaped JSON, `\u`-escaped JSON, percent-encoded
//! differently, latin-1, truncated, in an error envelope, in a redirect's Location), times each
//! output: stdout and stderr of a text run and of a JSON run at `-vvv` with `RUST_LOG=trace`,
//! the dry run and its curl line, the messages a recording channel received, and the bytes a
//! second host received when a flow relays what came back. Zero occurrences of the sentinel in
//! any encoding, and the JSON report parses with its normal keys.

use crate::echo_server::{EchoServer, MODES};
use crate::support::{Run, Scratch, flowstep};
use base64::Engine as _;
use flowstep_engine::{Engine, RecordingChannel, Redactor, RunMode, RunRequest, Secret};
use serde_json::Value;
use std::sync::Arc;

/// A sentinel with every character an encoder treats specially: `'` (shell), `/` and `+`
/// (percent and base64), a space (`+` or `%20`), `~` and `&`. `SNTL` is its first part that
/// is not a key-type prefix; letters and digits survive every text encoding, so finding
/// `SNTL` anywhere is finding (a piece of) the sentinel.
pub const SENTINEL: &str = "sk_test_SNTL0'/+ x~&Q7mid9ZZ9";
/// The same with a non-ASCII character, for the places that carry any text (a query, Basic
/// auth): its UTF-8 read as latin-1 is one more form.
pub const SENTINEL_UTF8: &str = "sk_test_SNTLé0'/+ x~&Q7mid9ZZ9";
/// How both are shown.
pub const SHOWN: &str = "sk_test_...9ZZ9";

/// Where the secret stands in the step, and which sentinel it is.
const PLACEMENTS: &[(&str, &str, &str)] = &[
    (
        "bearer",
        "    auth: { type: bearer, token: \"<<secrets.K>>\" }\n",
        SENTINEL,
    ),
    (
        "basic user",
        "    auth: { type: basic, username: \"<<secrets.K>>\", password: pw }\n",
        SENTINEL_UTF8,
    ),
    (
        "basic password",
        "    auth: { type: basic, username: api, password: \"<<secrets.K>>\" }\n",
        SENTINEL_UTF8,
    ),
    (
        "header",
        "    headers: { X-Api-Key: \"<<secrets.K>>\" }\n",
        SENTINEL,
    ),
    (
        "query auth",
        "    auth: { type: query, name: api_key, value: \"<<secrets.K>>\" }\n",
        SENTINEL_UTF8,
    ),
    (
        "custom auth header",
        "    auth: { type: header, name: X-Custom-Auth, value: \"Token <<secrets.K>>\" }\n",
        SENTINEL,
    ),
];

/// A flow that calls `echo` with the secret placed by `placement`, relays what came back
/// (body and error) to `relay`, and apologises on the channel with both.
fn matrix_flow(echo: &str, mode: &str, placement: &str, relay: &str) -> String {
    format!(
        "flow: matrix\nsecrets: [K]\nsteps:\n  - id: call\n    type: http\n    url: {echo}/echo/{mode}?order=42\n{placement}    on_error: continue\n  - id: relay\n    type: http\n    method: POST\n    url: {relay}/collect\n    body_type: json\n    body:\n      echoed: \"<<json steps.call.body>>\"\n      error: \"<<json steps.call.error>>\"\n  - id: tell\n    type: message\n    text: \"Sorry (<<json steps.call.error>>): <<json steps.call.body>>\"\n"
    )
}

/// The base64 texts that hold `secret`: alone, and inside longer base64 at each byte offset
/// (only the characters that depend on nothing but the secret), in both alphabets.
pub fn base64_forms(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut forms = vec![STANDARD_NO_PAD.encode(secret)];
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret.as_bytes());
        let encoded = STANDARD_NO_PAD.encode(&bytes);
        forms.push(encoded[(offset * 8).div_ceil(6)..(offset + secret.len()) * 8 / 6].to_owned());
    }
    let url_safe: Vec<String> = forms
        .iter()
        .map(|f| f.replace('+', "-").replace('/', "_"))
        .collect();
    forms.extend(url_safe);
    forms
}

/// Fails if `text` holds `secret`, or a piece of it, in any text encoding or in base64.
pub fn assert_hidden(secret: &str, what: &str, text: &str) {
    // Its first and its last run of letters and digits: no piece of it is left either side
    // of a mask.
    for piece in ["SNTL", "Q7mid"] {
        assert!(
            !text.contains(piece),
            "the secret leaked (`{piece}`) in {what}:\n{text}"
        );
    }
    for form in base64_forms(secret) {
        assert!(
            !text.contains(&form),
            "the secret leaked as base64 `{form}` in {what}:\n{text}"
        );
    }
}

fn cli(dir: &Scratch, secret: &str, args: &[&str]) -> Run {
    flowstep(dir.path())
        .env("K", secret)
        .env("RUST_LOG", "trace")
        .arg("-vvv")
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// The report's normal keys are all there: redaction never touches keys or structure.
fn assert_report_shape(v: &Value, echo: &str, what: &str) {
    assert_eq!(v["flow"], "matrix", "{what}: {v}");
    assert!(v["run_id"].as_str().is_some(), "{what}: {v}");
    assert!(v["status"].as_str().is_some(), "{what}: {v}");
    let call = &v["steps"][0];
    assert_eq!(call["id"], "call", "{what}: {v}");
    assert_eq!(call["type"], "http", "{what}: {v}");
    assert!(
        call["request"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(echo)),
        "{what}: {v}"
    );
    assert!(
        call["request"]["headers"]["User-Agent"].is_string(),
        "{what}: {v}"
    );
    assert!(call["request"]["method"] == "GET", "{what}: {v}");
    assert!(v["messages"][0]["text"].is_string(), "{what}: {v}");
}

#[test]
fn a_sentinel_secret_appears_in_no_output_in_any_encoding() {
    let echo = EchoServer::start();
    let relay = EchoServer::start();
    let dir = Scratch::new();
    for (place, yaml, secret) in PLACEMENTS {
        for mode in MODES {
            let what = format!("{place} x {mode}");
            let path = dir.write(
                "matrix.yaml",
                &matrix_flow(&echo.url(), mode, yaml, &relay.url()),
            );
            let path = path.to_str().unwrap();
            let text = cli(&dir, secret, &["run", path]);
            assert_eq!(text.code, 0, "{what}: {text:?}");
            assert!(text.stderr.contains("TRACE"), "{what}: trace logs were on");
            assert_hidden(secret, &format!("{what}, text output"), &text.all_output());
            assert!(
                text.stdout.contains("message from tell:"),
                "{what}: {}",
                text.stdout
            );
            if std::env::var_os("DEBUG_MATRIX").is_some() {
                eprintln!("===== {what}\n{}", text.all_output());
            }
            let json = cli(&dir, secret, &["run", path, "--output", "json"]);
            assert_eq!(json.code, 0, "{what}: {json:?}");
            assert_hidden(secret, &format!("{what}, JSON output"), &json.all_output());
            assert_report_shape(&json.json(), &echo.url(), &what);
        }
    }
    // The echo server saw the real key (it was meant to); the relay host never did.
    assert!(echo.received().contains("SNTL"));
    assert_hidden(
        SENTINEL,
        "the bytes the relay host received",
        &relay.received(),
    );
    assert_hidden(
        SENTINEL_UTF8,
        "the bytes the relay host received",
        &relay.received(),
    );
    assert!(relay.received().contains("/collect"));
}

#[test]
fn a_dry_run_and_its_curl_line_show_no_sentinel() {
    let dir = Scratch::new();
    for (place, yaml, secret) in PLACEMENTS {
        let path = dir.write(
            "matrix.yaml",
            &matrix_flow("http://127.0.0.1:9", "json", yaml, "http://127.0.0.1:9"),
        );
        let path = path.to_str().unwrap();
        let text = cli(&dir, secret, &["run", path, "--dry-run"]);
        assert_hidden(secret, &format!("{place}, dry run"), &text.all_output());
        assert!(text.stdout.contains("curl "), "{place}: {}", text.stdout);
        assert!(
            // `sk_test_...9ZZ9`; `...9ZZ9` for the whole `Token ...` value it stands in.
            text.stdout.contains("...9ZZ9") || text.stdout.contains("Basic [redacted]"),
            "{place}: the masked form is shown: {}",
            text.stdout
        );
        let json = cli(
            &dir,
            secret,
            &["run", path, "--dry-run", "--output", "json"],
        );
        assert_hidden(
            secret,
            &format!("{place}, JSON dry run"),
            &json.all_output(),
        );
        let curl = json.json()["steps"][0]["curl"].as_str().unwrap().to_owned();
        assert!(
            curl.starts_with("curl 'http://127.0.0.1:9/echo/json"),
            "{curl}"
        );
    }
}

#[test]
fn a_recording_channel_and_a_relay_host_receive_no_sentinel() {
    let echo = EchoServer::start();
    let relay = EchoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut engine = Engine::new();
    // The echo servers are on loopback, which an embedder's default policy denies.
    engine.register(
        "http",
        flowstep_http::kind(flowstep_http::HttpConfig {
            network: flowstep_http::NetworkPolicy::allow_all(),
            ..Default::default()
        }),
    );
    // One shared redactor, as an embedder's log writer would hold.
    let shared = Arc::new(Redactor::new());
    for (place, yaml, secret) in PLACEMENTS {
        for mode in MODES {
            let what = format!("{place} x {mode}");
            let source = flowstep_spec::SourceFile::new(
                "matrix.yaml",
                matrix_flow(&echo.url(), mode, yaml, &relay.url()),
            );
            let (plan, _) = engine.compile_source(source).unwrap();
            let channel = RecordingChannel::new();
            let outcome = runtime
                .block_on(plan.run(RunRequest {
                    inputs: Default::default(),
                    secrets: [("K".to_owned(), Secret::new(*secret))].into(),
                    run_id: None,
                    mode: RunMode::Live,
                    channel: &channel,
                    recipient: None,
                    redactor: shared.clone(),
                }))
                .unwrap();
            let sent = channel.sent();
            assert_eq!(sent.len(), 1, "{what}");
            assert!(
                sent[0].text.starts_with("Sorry ("),
                "{what}: {}",
                sent[0].text
            );
            assert_hidden(secret, &format!("{what}, the channel"), &sent[0].text);
            assert_hidden(
                secret,
                &format!("{what}, the outcome"),
                &outcome.to_json().to_string(),
            );
        }
    }
    assert_eq!(shared.live_runs(), 0, "every run's redactor is gone");
    assert_hidden(SENTINEL, "the relay host", &relay.received());
    assert_hidden(SENTINEL_UTF8, "the relay host", &relay.received());
    assert!(relay.received().contains("/collect"));
}
