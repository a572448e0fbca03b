//! `GET /metrics` of a real `flowstep serve`: after runs that succeed, fail, wait and are
//! cancelled, and webhooks that are taken and refused, the document parses as the
//! OpenMetrics text format (by the strict reader below: every sample in a declared family,
//! histograms cumulative and whole, `# EOF` last) and its counters are the runs performed.
//! Without the token it is `401`.

use crate::raw_http;
use crate::serve_support::{Serve, TOKEN, json_of};
use crate::support::Scratch;
use flowstep_server::webhooks::stripe;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HELLO: &str =
    "flow: hello\nsteps:\n  - id: greet\n    type: set\n    values: { greeting: hi }\n";
/// Fails at once: a loopback address a server refuses by default (nothing is sent).
const FAILS: &str = "flow: fails\nsteps:\n  - id: call\n    type: http\n    method: GET\n    url: http://127.0.0.1:9/health\n";
const AWAIT: &str = "flow: await-payment\nsteps:\n  - id: await_payment\n    type: wait\n    for: [stripe.checkout.session.completed]\n    match: { data.object.id: cs_never }\n    timeout: 1h\n";
const WEBHOOK_SECRET: &str = "whsec_test_flowstep_metrics_0123456789";

/// One sample: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Reads `text` as the OpenMetrics text format, strictly: `# HELP`, `# TYPE` and `# UNIT`
/// lines name a family before its samples; each sample's name is its family's, with the
/// suffixes its type allows; label values are quoted with `\\`, `\"` and `\n` escapes;
/// values are numbers; a histogram's buckets are cumulative and its `+Inf` bucket is its
/// count; `# EOF` is the last line. Panics, saying where, on anything else.
fn parse(text: &str) -> Vec<Sample> {
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines.last(), Some(&""), "the text ends with a line break");
    assert_eq!(lines[lines.len() - 2], "# EOF", "`# EOF` is the last line");
    let mut families: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut samples = Vec::new();
    for (n, line) in lines[..lines.len() - 2].iter().enumerate() {
        let at = format!("line {}: `{line}`", n + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            let (kind, name) = (words.next().unwrap(), words.next().expect(&at));
            let rest = words.next().unwrap_or("");
            assert!(valid_name(name), "{at}: bad metric name");
            match kind {
                "TYPE" => {
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "summary",
                            "info",
                            "stateset",
                            "unknown",
                            "gaugehistogram"
                        ]
                        .contains(&rest),
                        "{at}: unknown type"
                    );
                    assert!(
                        families.insert(name.into(), rest.into()).is_none(),
                        "{at}: family declared twice"
                    );
                    current = Some((name.into(), rest.into()));
                }
                "HELP" | "UNIT" => {
                    if kind == "UNIT" {
                        assert!(
                            name.ends_with(&format!("_{rest}")),
                            "{at}: a unit is the name's suffix"
                        );
                    }
                }
                _ => panic!("{at}: unknown comment"),
            }
            continue;
        }
        let (family, kind) = current
            .clone()
            .unwrap_or_else(|| panic!("{at}: a sample before any # TYPE"));
        let (name, labels, value) = sample(line, &at);
        let suffix = name
            .strip_prefix(&family)
            .unwrap_or_else(|| panic!("{at}: not in family {family}"));
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total", "_created"],
            "gauge" => &[""],
            "histogram" => &["_bucket", "_sum", "_count", "_created"],
            _ => &[
                "", "_total", "_bucket", "_sum", "_count", "_created", "_info",
            ],
        };
        assert!(
            allowed.contains(&suffix),
            "{at}: `{suffix}` is not a suffix of a {kind}"
        );
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    check_histograms(&samples);
    samples
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{k="v",...} value`.
fn sample(line: &str, at: &str) -> (String, BTreeMap<String, String>, f64) {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("{at}: no value"));
    let name = &line[..name_end];
    assert!(valid_name(name), "{at}: bad name");
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            let start = chars
                .peek()
                .map(|(i, _)| *i)
                .unwrap_or_else(|| panic!("{at}: open labels"));
            if inner[start..].starts_with('}') {
                rest = &inner[start + 1..];
                break;
            }
            let eq = inner[start..]
                .find('=')
                .unwrap_or_else(|| panic!("{at}: label without ="))
                + start;
            let key = &inner[start..eq];
            assert!(valid_name(key), "{at}: bad label name `{key}`");
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            assert_eq!(
                chars.next().map(|(_, c)| c),
                Some('"'),
                "{at}: unquoted label value"
            );
            let mut value = String::new();
            loop {
                match chars
                    .next()
                    .unwrap_or_else(|| panic!("{at}: open label value"))
                    .1
                {
                    '\\' => match chars.next().unwrap().1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => panic!("{at}: bad escape \\{c}"),
                    },
                    '"' => break,
                    c => value.push(c),
                }
            }
            assert!(
                labels.insert(key.to_owned(), value).is_none(),
                "{at}: label twice"
            );
            match chars.peek().map(|(_, c)| *c) {
                Some(',') => {
                    chars.next();
                }
                Some('}') => {}
                other => panic!("{at}: `{other:?}` after a label"),
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("{at}: no space before the value"));
    assert!(
        !value.contains(' '),
        "{at}: a timestamp or more after the value"
    );
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("{at}: `{v}` is not a number")),
    };
    (name.to_owned(), labels, value)
}

/// Each histogram series: buckets cumulative in `le` order, `+Inf` equal to `_count`.
fn check_histograms(samples: &[Sample]) {
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for s in samples {
        let mut labels = s.labels.clone();
        if let Some(base) = s.name.strip_suffix("_bucket") {
            let le = labels.remove("le").expect("a bucket has le");
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            buckets
                .entry(format!("{base}{labels:?}"))
                .or_default()
                .push((le, s.value));
        } else if let Some(base) = s.name.strip_suffix("_count") {
            counts.insert(format!("{base}{labels:?}"), s.value);
        }
    }
    for (series, list) in &buckets {
        assert!(
            list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{series}: {list:?}"
        );
        let (le, last) = list.last().unwrap();
        assert!(le.is_infinite(), "{series} has no +Inf bucket");
        assert_eq!(
            Some(last),
            counts.get(series),
            "{series}: +Inf is not the count"
        );
    }
}

/// The value of the sample `name` with exactly `labels` (0 when there is none).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .map_or(0.0, |s| s.value)
}

fn metrics(serve: &Serve) -> Vec<Sample> {
    let auth = format!("Bearer {TOKEN}");
    let answer = raw_http::request(
        "GET",
        &format!("{}/metrics", serve.url),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    parse(&answer.body)
}

fn webhook(serve: &Serve, body: &str, signature: &str) -> (u16, serde_json::Value) {
    json_of(raw_http::request(
        "POST",
        &format!("{}/webhooks/stripe", serve.url),
        &[
            ("Content-Type", "application/json"),
            ("Stripe-Signature", signature),
        ],
        body.as_bytes(),
    ))
}

#[test]
fn metrics_parse_and_count_the_runs_performed() {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write("flows/hello.yaml", HELLO);
    dir.write("flows/fails.yaml", FAILS);
    dir.write("flows/await.yaml", AWAIT);
    let flows = dir.path().join("flows");
    let serve = Serve::start(
        dir.path(),
        &["--flows", flows.to_str().unwrap()],
        &[("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)],
    );
    let unauthorized = raw_http::request("GET", &format!("{}/metrics", serve.url), &[], b"");
    assert_eq!(unauthorized.status, 401);
    let wrong = raw_http::request(
        "GET",
        &format!("{}/metrics", serve.url),
        &[("Authorization", "Bearer nope-nope-nope-nope")],
        b"",
    );
    assert_eq!(wrong.status, 401);

    for i in 0..5 {
        assert_eq!(
            serve
                .start_run(&json!({"flow": "hello", "run_id": format!("hello-{i}")}))
                .0,
            201
        );
    }
    // A second start of a run id starts nothing and is not counted.
    assert_eq!(
        serve
            .start_run(&json!({"flow": "hello", "run_id": "hello-0"}))
            .0,
        200
    );
    for i in 0..3 {
        assert_eq!(
            serve
                .start_run(&json!({"flow": "fails", "run_id": format!("fails-{i}")}))
                .0,
            201
        );
    }
    for i in 0..2 {
        assert_eq!(
            serve
                .start_run(&json!({"flow": "await-payment", "run_id": format!("waits-{i}")}))
                .0,
            201
        );
    }
    for id in [
        "hello-0", "hello-1", "hello-2", "hello-3", "hello-4", "fails-0", "fails-1", "fails-2",
    ] {
        serve.wait_for_end(id, Duration::from_secs(20));
    }
    let start = std::time::Instant::now();
    while ["waits-0", "waits-1"]
        .iter()
        .any(|id| serve.run(id)["status"] != "waiting")
    {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", serve.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = metrics(&serve);
    assert_eq!(value(&m, "flowstep_runs_waiting", &[]), 2.0);
    assert_eq!(value(&m, "flowstep_runs_queued", &[]), 0.0);
    assert_eq!(value(&m, "flowstep_runs_running", &[]), 0.0);

    assert_eq!(serve.call("POST", "/v1/runs/waits-0/cancel", None).0, 200);
    // A webhook taken, and one refused for its signature.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let event = json!({"id": "evt_metrics_1", "object": "event", "type": "checkout.session.completed", "created": now,
        "data": {"object": {"id": "cs_other", "object": "checkout.session"}}}).to_string();
    let (status, body) = webhook(
        &serve,
        &event,
        &stripe::sign(event.as_bytes(), WEBHOOK_SECRET, now),
    );
    assert_eq!(status, 200, "{body}");
    let (status, refused) = webhook(
        &serve,
        &event,
        &stripe::sign(event.as_bytes(), "whsec_wrong_secret_0123456789", now),
    );
    assert_eq!(status, 400, "{refused}");
    let reason = refused["error"]["code"].as_str().unwrap().to_owned();

    let m = metrics(&serve);
    let started = |flow| value(&m, "flowstep_runs_started_total", &[("flow", flow)]);
    assert_eq!(
        (started("hello"), started("fails"), started("await-payment")),
        (5.0, 3.0, 2.0)
    );
    let finished = |flow, status| {
        value(
            &m,
            "flowstep_runs_finished_total",
            &[("flow", flow), ("status", status)],
        )
    };
    assert_eq!(finished("hello", "succeeded"), 5.0);
    assert_eq!(finished("fails", "failed"), 3.0);
    assert_eq!(finished("await-payment", "cancelled"), 1.0);
    assert_eq!(
        finished("hello", "failed") + finished("fails", "succeeded"),
        0.0
    );
    let steps = |kind, status| {
        value(
            &m,
            "flowstep_step_duration_seconds_count",
            &[("type", kind), ("status", status)],
        )
    };
    assert_eq!(steps("set", "succeeded"), 5.0);
    assert_eq!(steps("http", "failed"), 3.0);
    assert_eq!(
        value(
            &m,
            "flowstep_http_attempts_total",
            &[("host", "127.0.0.1"), ("class", "error")]
        ),
        3.0
    );
    assert_eq!(
        value(
            &m,
            "flowstep_webhooks_received_total",
            &[("provider", "stripe")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "flowstep_webhooks_rejected_total",
            &[("provider", "stripe"), ("reason", &reason)]
        ),
        1.0
    );
    assert_eq!(value(&m, "flowstep_runs_waiting", &[]), 1.0);
    // Every run was created through the timed store; each claim and end went through it.
    assert_eq!(
        value(
            &m,
            "flowstep_store_latency_seconds_count",
            &[("operation", "create_run")]
        ),
        11.0
    );
    assert!(
        value(
            &m,
            "flowstep_store_latency_seconds_count",
            &[("operation", "finish")]
        ) >= 8.0
    );
}
