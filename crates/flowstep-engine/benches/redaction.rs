//! Redaction cost stays flat however many runs went through one shared redactor (issue 8,
//! fault 10: it used to keep every run's secrets, so after 1,000 runs redacting 100 KB took
//! ~300 ms). Runs 1,000 flows with distinct keys through one shared `Redactor`, as an embedder's
//! log writer holds it, and times redacting 100 KB before and after; also times one run's
//! redactor with 1 and with 200 secrets, to show a single pass serves many.
//!
//! `cargo bench -p flowstep-engine --bench redaction` prints the table; it asserts nothing
//! about time (a loaded machine must not fail a build), only that the shared redactor holds no
//! run afterwards.

use flowstep_engine::{Engine, RecordingChannel, Redactor, RunMode, RunRequest, Secret};
use flowstep_spec::SourceFile;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNS: usize = 1000;

/// ~100 KB of log-like text with no secret in it, the common case.
fn text() -> String {
    let line = "2026-01-01T00:00:00Z DEBUG flowstep_http::step: http attempt step=\"create_session\" method=POST url=https://api.stripe.com/v1/checkout/sessions status=Some(200) elapsed_ms=41\n";
    line.repeat(100 * 1024 / line.len())
}

/// The median time of `f` over a few repetitions.
fn median(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let text = text();
    let shared = Arc::new(Redactor::new());
    shared.add("EAAGchannelToken0000000000");
    let before = median(|| {
        black_box(shared.redact(&text));
    });

    let plan = Engine::new()
        .compile_source(SourceFile::new(
            "greet.yaml",
            "flow: greet\nsecrets: [K]\nsteps:\n  - id: m\n    type: message\n    text: Hello\n",
        ))
        .map(|(plan, _)| plan)
        .unwrap_or_else(|d| panic!("{d:?}"));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let started = Instant::now();
    for i in 0..RUNS {
        let channel = RecordingChannel::new();
        let key = format!("sk_test_{i:06}_distinct_key_abcdefghij");
        runtime
            .block_on(plan.run(RunRequest {
                inputs: Default::default(),
                secrets: [("K".to_owned(), Secret::new(key))].into(),
                run_id: None,
                mode: RunMode::Live,
                channel: &channel,
                recipient: None,
                redactor: shared.clone(),
            }))
            .expect("the run starts");
    }
    let runs_took = started.elapsed();
    assert_eq!(shared.live_runs(), 0, "every run's redactor is gone");
    let after = median(|| {
        black_box(shared.redact(&text));
    });

    let one = shared.for_run();
    one.add("sk_test_one_secret_abcdefghijkl");
    let with_one = median(|| {
        black_box(one.redact(&text));
    });
    let many = shared.for_run();
    for i in 0..200 {
        many.add(&format!("sk_test_{i:04}'/+ many_secrets_xyz"));
    }
    let with_many = median(|| {
        black_box(many.redact(&text));
    });

    // Text full of escapes is decoded into canonical form first.
    let escaped = text.replace('/', "\\/").replace(' ', "%20");
    let with_escapes = median(|| {
        black_box(one.redact(&escaped));
    });

    let kb = text.len() / 1024;
    println!("redacting {kb} KB (median of 15):");
    println!("  shared redactor, before any run:          {before:>10.2?}");
    println!("  shared redactor, after {RUNS} runs:         {after:>10.2?}");
    println!("  a run's redactor with 1 secret:           {with_one:>10.2?}");
    println!("  a run's redactor with 200 secrets:        {with_many:>10.2?}");
    println!("  a run's redactor with 1 secret, escaped text: {with_escapes:>6.2?}");
    println!(
        "({RUNS} runs took {runs_took:.2?}; live runs left: {})",
        shared.live_runs() - 2
    );
}
