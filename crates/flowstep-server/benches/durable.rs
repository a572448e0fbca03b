//! Durable runs against runs in memory: `cargo bench -p flowstep-server --bench durable`
//! (FLOWSTEP_BENCH_RUNS sets N, default 2000; FLOWSTEP_BENCH_CONCURRENCY, default 64).
//!
//! One process, one loopback stub (the `throughput` bench's: every request answered with a
//! Checkout Session), the stripe-checkout preset routed to it. Two phases, alternated three
//! times, each N runs at the same concurrency:
//!
//! - `memory`: `Plan::run` with no journal, N runs from `concurrency` tasks (what `flowstep
//!   run` and `batch` do);
//! - `durable`: the server's run loop over a SQLite file (`synchronous = FULL`, in the
//!   system's temporary directory): N runs are created in the store (as `POST /v1/runs` does)
//!   while the server's worker (`max_concurrent_runs` = concurrency) claims, journals (every
//!   effect a durable write, with the state the run reached) and finishes them; the phase
//!   ends when the store counts N succeeded runs.
//!
//! - `tmpfs`: the `durable` phase again with the SQLite file in `/dev/shm` (when the system has
//!   it), where a flush costs nothing: the server's run loop and store without the disk, so
//!   that durable / tmpfs is what waiting for the disk costs.
//!
//! `FLOWSTEP_BENCH_ONLY=durable` (or `memory`, or `tmpfs`) runs only that phase (to profile it).
//!
//! It prints each phase's runs a second, the medians, their ratios (the target:
//! durable ≥ 0.5× memory at concurrency 64) and CPU per run. It asserts nothing about time.

#[path = "../../flowstep-http/benches/support/stub.rs"]
mod stub;

use flowstep_engine::{
    DiscardChannel, Engine, InputValue, Plan, Redactor, RunMode, RunRequest, RunStatus, Secret,
    resolve_inputs,
};
use flowstep_http::{HttpConfig, NetworkPolicy, Route, kind};
use flowstep_server::{ApiToken, FlowSet, Server, ServerConfig, StaticSecrets, WorkerConfig};
use flowstep_store::sqlite::SqliteStore;
use flowstep_store::{NewRun, RunFilter, RunStore, Status};
use nix::sys::resource::{UsageWho, getrusage};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
const ROUNDS: usize = 3;

fn cpu() -> Duration {
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    tv(u.user_time()) + tv(u.system_time())
}

struct Phase {
    runs: usize,
    took: Duration,
    cpu: Duration,
}

impl Phase {
    /// A phase that `FLOWSTEP_BENCH_ONLY` skipped: prints N runs a second and no CPU.
    fn skipped(runs: usize) -> Phase {
        Phase {
            runs,
            took: Duration::from_secs(1),
            cpu: Duration::ZERO,
        }
    }

    fn rate(&self) -> f64 {
        self.runs as f64 / self.took.as_secs_f64()
    }
    fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.runs.max(1) as f64
    }
}

fn engine(base: &str) -> Engine {
    let mut engine = Engine::new();
    engine.register(
        "http",
        kind(HttpConfig {
            routes: vec![Route {
                from: "https://api.stripe.com".into(),
                to: base.to_owned(),
            }],
            network: NetworkPolicy::allow_all(),
            ..HttpConfig::default()
        }),
    );
    engine
}

fn inputs(plan: &Plan) -> Map<String, Value> {
    resolve_inputs(
        plan.flow(),
        vec![
            (
                "product_name".into(),
                InputValue::Text("Blue T-shirt".into()),
            ),
            ("amount_paise".into(), InputValue::Text("50000".into())),
            (
                "success_url".into(),
                InputValue::Text("https://shop.example/thanks".into()),
            ),
        ],
    )
    .unwrap()
}

async fn memory(plan: Arc<Plan>, n: usize, concurrency: usize, round: usize) -> Phase {
    let inputs = inputs(&plan);
    let secrets: BTreeMap<String, Secret> =
        [("STRIPE_SECRET_KEY".to_owned(), Secret::new(KEY))].into();
    let redactor = Arc::new(Redactor::new());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cpu0 = cpu();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (plan, inputs, secrets, redactor, next) = (
            plan.clone(),
            inputs.clone(),
            secrets.clone(),
            redactor.clone(),
            next.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let request = RunRequest {
                    inputs: inputs.clone(),
                    secrets: secrets.clone(),
                    run_id: Some(format!("mem-{round}-{i}")),
                    mode: RunMode::Live,
                    channel: &DiscardChannel,
                    recipient: None,
                    redactor: redactor.clone(),
                };
                let outcome = plan.run(request).await.unwrap();
                assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Phase {
        runs: n,
        took: started.elapsed(),
        cpu: cpu() - cpu0,
    }
}

async fn durable(
    base: &str,
    dir: &std::path::Path,
    n: usize,
    concurrency: usize,
    round: usize,
) -> Phase {
    let db = dir.join(format!("bench-{round}.db"));
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let preset = flowstep_presets::get("stripe-checkout").unwrap();
    let flows: Arc<flowstep_server::api::FlowLoader> = Arc::new(|engine| {
        let p = flowstep_presets::get("stripe-checkout").unwrap();
        FlowSet::from_sources(engine, [(p.file.to_owned(), p.source.to_owned())])
    });
    let secrets = StaticSecrets([("STRIPE_SECRET_KEY".to_owned(), Secret::new(KEY))].into());
    let mut config = ServerConfig::new(
        store.clone(),
        Arc::new(engine(base)),
        flows,
        Arc::new(secrets),
        Arc::new(DiscardChannel),
        ApiToken::generate(),
    );
    config.worker = WorkerConfig {
        max_concurrent_runs: concurrency,
        poll_interval: Duration::from_millis(2),
        ..WorkerConfig::default()
    };
    let plan = engine(base)
        .compile_text(preset.file, preset.source)
        .unwrap();
    let inputs = inputs(&plan);
    // The clock starts with the server up and its flows compiled, as the memory phase's
    // starts with its plan compiled: what is measured is the run loop.
    let server = Server::start(config, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let cpu0 = cpu();
    let started = Instant::now();
    // Runs are created from `concurrency` tasks, as that many API clients would, each as
    // `POST /v1/runs` makes it: the loaded flow's files and hash, the request's inputs.
    let template = NewRun::new("template", preset.file, "stripe-checkout", preset.source);
    let mut creators = tokio::task::JoinSet::new();
    for t in 0..concurrency {
        let (store, inputs, template) = (store.clone(), inputs.clone(), template.clone());
        creators.spawn(async move {
            for i in (t..n).step_by(concurrency) {
                let mut run = template.clone().inputs(inputs.clone());
                run.run_id = format!("dur-{round}-{i}");
                store.create_run(run).await.unwrap();
            }
        });
    }
    while creators.join_next().await.is_some() {}
    let done = RunFilter {
        status: Some(Status::Succeeded),
        ..RunFilter::default()
    };
    loop {
        let finished = store.count_runs(&done).await.unwrap() as usize;
        if finished >= n {
            break;
        }
        let failed = store
            .count_runs(&RunFilter {
                status: Some(Status::Failed),
                ..RunFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(failed, 0, "a durable run failed");
        // A count walks the status index (about 0.2 ms at 5,000 runs), so counting every
        // 5 ms would put the bench's own reads into the durable phase's CPU. It sleeps for
        // half the time the runs left should take at the rate so far, and counts every
        // 5 ms near the end, so that the end is still noticed within 5 ms.
        let rate = finished.max(1) as f64 / started.elapsed().as_secs_f64();
        let half_left = (n - finished) as f64 / rate / 2.0;
        tokio::time::sleep(Duration::from_secs_f64(half_left.clamp(0.005, 0.25))).await;
    }
    let took = started.elapsed();
    let cpu = cpu() - cpu0;
    server.shutdown().await.unwrap();
    Phase { runs: n, took, cpu }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("FLOWSTEP_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let concurrency: usize = std::env::var("FLOWSTEP_BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let dir = std::env::temp_dir().join(format!("flowstep-durable-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tmpfs = std::path::Path::new("/dev/shm").is_dir().then(|| {
        std::path::Path::new("/dev/shm")
            .join(format!("flowstep-durable-bench-{}", std::process::id()))
    });
    if let Some(t) = &tmpfs {
        std::fs::create_dir_all(t).unwrap();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let addr = stub::stub().await;
        let base = format!("http://{addr}");
        let preset = flowstep_presets::get("stripe-checkout").unwrap();
        let plan = Arc::new(engine(&base).compile_text(preset.file, preset.source).unwrap());
        println!(
            "durable: the stripe-checkout preset against a loopback stub, N = {n} runs a phase, concurrency {concurrency}, {ROUNDS} rounds"
        );
        let (mut mem, mut dur, mut shm) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            // FLOWSTEP_BENCH_ONLY=durable, =memory or =tmpfs runs only that phase (for a profiler).
            let only = std::env::var("FLOWSTEP_BENCH_ONLY").unwrap_or_default();
            let m = if only == "durable" || only == "tmpfs" {
                Phase::skipped(n)
            } else {
                memory(plan.clone(), n, concurrency, round).await
            };
            println!(
                "  round {round}: memory  {:>8.0} runs/s  {:>6.0} µs CPU/run",
                m.rate(),
                m.cpu_us()
            );
            let d = if only == "memory" || only == "tmpfs" {
                Phase::skipped(n)
            } else {
                durable(&base, &dir, n, concurrency, round).await
            };
            println!(
                "  round {round}: durable {:>8.0} runs/s  {:>6.0} µs CPU/run",
                d.rate(),
                d.cpu_us()
            );
            mem.push(m.rate());
            dur.push(d.rate());
            if let Some(t) = tmpfs.as_deref().filter(|_| only.is_empty() || only == "tmpfs") {
                let p = durable(&base, t, n, concurrency, round).await;
                println!(
                    "  round {round}: tmpfs   {:>8.0} runs/s  {:>6.0} µs CPU/run",
                    p.rate(),
                    p.cpu_us()
                );
                shm.push(p.rate());
            }
        }
        let (m, d) = (median(mem), median(dur));
        println!(
            "median: memory {m:.0} runs/s, durable {d:.0} runs/s: durable/memory = {:.2}× (target ≥ 0.5×)",
            d / m
        );
        if !shm.is_empty() {
            let t = median(shm);
            println!(
                "median: durable on tmpfs {t:.0} runs/s: durable/tmpfs = {:.2}× (what waiting for the disk costs), tmpfs/memory = {:.2}×",
                d / t,
                t / m
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(t) = &tmpfs {
        let _ = std::fs::remove_dir_all(t);
    }
}
