//! Runs a second through the library against a bare client: `cargo bench -p flowstep-http
//! --bench throughput` (FLOWSTEP_BENCH_SECS sets each phase's length, default 3).
//!
//! A loopback stub in this process (hyper) answers every POST with a Checkout Session (the
//! JSON the sandbox gives, 2 KB). Then, at concurrency 4 and at 64, it alternates two phases
//! three times, each of the same length:
//!
//! - `flowstep`: whole runs of the stripe-checkout preset through `Plan::run` (render, check,
//!   send with the http step, map, the message step, redaction), routed to the stub;
//! - `reqwest`: the same request (URL, headers, idempotency key, form body) sent by a bare
//!   reqwest client, its answer read and the same three fields taken from it.
//!
//! It prints each phase's runs a second, the medians and their ratio, CPU time per run
//! (getrusage: user and system, of the whole process, stub included, so the difference
//! between the two is what the library adds) and the peak RSS. It asserts nothing about time.

#[path = "support/stub.rs"]
mod stub;

use flowstep_engine::{
    Channel, ChannelError, Delivery, Engine, InputValue, OutgoingMessage, Plan, Redactor, RunMode,
    RunRequest, RunStatus, Secret, resolve_inputs,
};
use flowstep_http::{HttpConfig, NetworkPolicy, Route, kind};
use flowstep_spec::SourceFile;
use nix::sys::resource::{UsageWho, getrusage};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
const ROUNDS: usize = 3;

/// A channel that delivers nowhere (the recording one would keep every message).
struct Discard;

#[async_trait::async_trait]
impl Channel for Discard {
    async fn send(&self, _: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        Ok(Delivery::default())
    }
}

/// User plus system CPU time of the whole process so far, and its peak RSS in KiB.
fn usage() -> (Duration, i64) {
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    (tv(u.user_time()) + tv(u.system_time()), u.max_rss())
}

/// One phase's result.
struct Phase {
    runs: u64,
    took: Duration,
    cpu: Duration,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.runs as f64 / self.took.as_secs_f64()
    }
    fn cpu_per_run_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.runs.max(1) as f64
    }
}

/// Runs `one` from `concurrency` tasks for `secs`, counting completions.
async fn phase<F, Fut>(concurrency: usize, length: Duration, one: F) -> Phase
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let next = Arc::new(AtomicU64::new(0));
    let (cpu0, _) = usage();
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let one = one.clone();
        let next = next.clone();
        tasks.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                one(next.fetch_add(1, Ordering::Relaxed)).await;
                done += 1;
            }
            done
        });
    }
    let mut runs = 0;
    while let Some(done) = tasks.join_next().await {
        runs += done.expect("a bench task panicked");
    }
    let took = started.elapsed();
    let (cpu1, _) = usage();
    Phase {
        runs,
        took,
        cpu: cpu1 - cpu0,
    }
}

/// What both sides send: the preset's request as a dry run builds it.
struct Request {
    url: String,
    body: String,
}

async fn dry_run(
    plan: &Plan,
    inputs: &Map<String, Value>,
    secrets: &BTreeMap<String, Secret>,
) -> Request {
    let outcome = plan
        .run(RunRequest {
            inputs: inputs.clone(),
            secrets: secrets.clone(),
            run_id: Some("bench-0".into()),
            mode: RunMode::DryRun,
            channel: &Discard,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        })
        .await
        .unwrap();
    let step = outcome.step("create_session").unwrap();
    let request = &step.details["request"];
    Request {
        url: request["url"].as_str().unwrap().to_owned(),
        body: request["body"].as_str().unwrap().to_owned(),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; anything else (a test run of the target) does nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: run it with `cargo bench -p flowstep-http --bench throughput`");
        return;
    }
    let secs: u64 = std::env::var("FLOWSTEP_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let length = Duration::from_secs(secs);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let addr = stub::stub().await;
        let base = format!("http://{addr}");
        let route = Route {
            from: "https://api.stripe.com".into(),
            to: base.clone(),
        };
        let mut engine = Engine::new();
        engine.register(
            "http",
            kind(HttpConfig {
                routes: vec![route],
                network: NetworkPolicy::allow_all(),
                ..HttpConfig::default()
            }),
        );
        let preset = flowstep_presets::get("stripe-checkout").unwrap();
        let (plan, _) = engine
            .compile_source(SourceFile::new(preset.file, preset.source))
            .unwrap_or_else(|d| panic!("{d:?}"));
        let plan = Arc::new(plan);
        let inputs = resolve_inputs(
            plan.flow(),
            vec![
                ("product_name".into(), InputValue::Text("Blue T-shirt".into())),
                ("amount_paise".into(), InputValue::Text("50000".into())),
                ("success_url".into(), InputValue::Text("https://shop.example/thanks".into())),
            ],
        )
        .unwrap();
        let secrets: BTreeMap<String, Secret> =
            [("STRIPE_SECRET_KEY".to_owned(), Secret::new(KEY))].into();
        let request = dry_run(&plan, &inputs, &secrets).await;
        let target = request
            .url
            .replace("https://api.stripe.com", &base);
        let redactor = Arc::new(Redactor::new());
        let client = reqwest::Client::new();

        let library = {
            let (plan, inputs, secrets, redactor) =
                (plan.clone(), inputs.clone(), secrets.clone(), redactor.clone());
            move |i: u64| {
                let (plan, inputs, secrets, redactor) =
                    (plan.clone(), inputs.clone(), secrets.clone(), redactor.clone());
                async move {
                    let outcome = plan
                        .run(RunRequest {
                            inputs,
                            secrets,
                            run_id: Some(format!("bench-{i}")),
                            mode: RunMode::Live,
                            channel: &Discard,
                            recipient: None,
                            redactor,
                        })
                        .await
                        .unwrap();
                    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
                }
            }
        };
        let bare = {
            let (client, target, body) = (client.clone(), target.clone(), request.body.clone());
            move |i: u64| {
                let (client, target, body) = (client.clone(), target.clone(), body.clone());
                async move {
                    let response = client
                        .post(&target)
                        .header("Authorization", format!("Bearer {KEY}"))
                        .header("Idempotency-Key", format!("flowstep-bench-{i}-create_session"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .header("User-Agent", "flowstep/bench")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let bytes = response.bytes().await.unwrap();
                    let session: Value = serde_json::from_slice(&bytes).unwrap();
                    assert!(session["url"].is_string() && session["id"].is_string());
                    std::hint::black_box(&session["expires_at"]);
                }
            }
        };
        let library = Arc::new(library);
        let bare = Arc::new(bare);

        println!(
            "throughput: the stripe-checkout preset against a loopback stub, {secs} s a phase, {ROUNDS} rounds, {} worker threads",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        for concurrency in [4usize, 64] {
            // Warm both up: connections, the pool, the allocator.
            let l = library.clone();
            phase(concurrency, Duration::from_millis(500), move |i| l(i)).await;
            let b = bare.clone();
            phase(concurrency, Duration::from_millis(500), move |i| b(i)).await;
            let (mut lib, mut raw) = (Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                // Alternate which goes first, so that neither always meets a warmer machine.
                for first in [round % 2 == 0, round % 2 != 0] {
                    if first {
                        let l = library.clone();
                        lib.push(phase(concurrency, length, move |i| l(i)).await);
                    } else {
                        let b = bare.clone();
                        raw.push(phase(concurrency, length, move |i| b(i)).await);
                    }
                }
            }
            for (name, phases) in [("flowstep", &lib), ("reqwest", &raw)] {
                let rates: Vec<String> = phases.iter().map(|p| format!("{:.0}", p.rate())).collect();
                println!(
                    "  concurrency {concurrency:>2}  {name:<8}  {:>7.0} runs/s (rounds: {})  CPU {:>6.0} µs/run",
                    median(phases.iter().map(Phase::rate).collect()),
                    rates.join(", "),
                    median(phases.iter().map(Phase::cpu_per_run_us).collect()),
                );
            }
            let ratio = median(lib.iter().map(Phase::rate).collect())
                / median(raw.iter().map(Phase::rate).collect());
            let cpu_ratio = median(lib.iter().map(Phase::cpu_per_run_us).collect())
                / median(raw.iter().map(Phase::cpu_per_run_us).collect());
            let (_, rss) = usage();
            println!(
                "  concurrency {concurrency:>2}  flowstep/reqwest: {ratio:.2} of the rate, {cpu_ratio:.2}x the CPU per run; peak RSS so far {:.1} MiB",
                rss as f64 / 1024.0
            );
        }
    });
}
