//! `cargo bench --bench batch_rows`: `flowstep batch` over many rows against the library
//! running the same runs, in one run. A loopback stub (the throughput bench's: every request
//! answered with a 2 KB Checkout Session) stands in for Stripe. Each round, the real binary
//! runs the stripe-checkout preset once per row of a generated CSV (`--concurrency 64`,
//! results to a JSONL file), then the same number of runs go through `Plan::run` in this
//! process at the same concurrency; rounds alternate which goes first. It prints each phase's
//! runs a second and CPU per run (of the process that runs them: the batch's, or this one's),
//! their ratio and the batch's peak RSS (docs/performance.md). Nothing is asserted.
//! `FLOWSTEP_BENCH_ROWS` sets the rows (default 100,000), `FLOWSTEP_BENCH_ROUNDS` the rounds
//! (default 3), `FLOWSTEP_BENCH_BIN` another `flowstep` binary to run (a copy of an earlier
//! build, to compare two builds against the same library phase).
//!
//! The stub runs in a process of its own (this binary again, with `--stub`), so that both
//! phases are two processes talking over loopback: with the stub inside this process, the
//! library's requests were answered by the same two tokio workers without a process switch,
//! while every batch request had to wake another process, which is a cost of the layout and
//! not of the batch. `FLOWSTEP_BENCH_STUB=shared` puts the stub back in this process (the
//! first figures were taken that way), and then the library's CPU includes the stub's.

#[path = "../crates/flowstep-http/benches/support/stub.rs"]
mod stub;

use flowstep_engine::{
    DiscardChannel, Engine, InputValue, Redactor, RunMode, RunRequest, RunStatus, Secret,
    resolve_inputs,
};
use flowstep_http::{HttpConfig, NetworkPolicy, Route, kind};
use flowstep_spec::SourceFile;
use nix::sys::resource::{UsageWho, getrusage};
use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The allocator the `flowstep` binary runs on (crates/flowstep-cli/main.rs), so that the
/// library phase and the batch compare on the same one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
const CONCURRENCY: usize = 64;
const SUCCESS_URL: &str = "https://shop.example/thanks";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--stub") {
        return serve_stub();
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("batch_rows: run it with `cargo bench --bench batch_rows`");
        return;
    }
    let rows = env_or("FLOWSTEP_BENCH_ROWS", 100_000);
    let rounds = env_or("FLOWSTEP_BENCH_ROUNDS", 3).max(1);
    let shared = std::env::var("FLOWSTEP_BENCH_STUB").is_ok_and(|v| v == "shared");
    let dir = std::env::temp_dir().join(format!("flowstep-batch-rows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("rows.csv");
    write_rows(&input, rows);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (addr, stub_process) = if shared {
        (runtime.block_on(stub::stub()).to_string(), None)
    } else {
        let (addr, child) = stub_process();
        (addr, Some(child))
    };
    let base = format!("http://{addr}");
    println!(
        "batch_rows: {rows} rows, concurrency {CONCURRENCY}, {rounds} rounds; the stub at {base} ({})",
        if shared {
            "in this process: the library's CPU includes the stub's"
        } else {
            "in a process of its own"
        }
    );
    let (mut batch_rates, mut lib_rates, mut peak_kib) = (Vec::new(), Vec::new(), 0i64);
    let (mut batch_cpu, mut lib_cpu) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for batch_first in [round % 2 == 0, round % 2 != 0] {
            if batch_first {
                let (rate, cpu, rss) = batch_phase(&dir, &input, &base, rows);
                println!(
                    "  round {round}: batch    {rate:>8.0} runs/s  {cpu:>6.1} µs CPU/run  peak RSS {} MiB",
                    rss / 1024
                );
                batch_rates.push(rate);
                batch_cpu.push(cpu);
                peak_kib = peak_kib.max(rss);
            } else {
                let before = cpu_secs(UsageWho::RUSAGE_SELF);
                let rate = runtime.block_on(library_phase(&base, rows));
                let cpu = (cpu_secs(UsageWho::RUSAGE_SELF) - before) * 1e6 / rows as f64;
                println!("  round {round}: library  {rate:>8.0} runs/s  {cpu:>6.1} µs CPU/run");
                lib_rates.push(rate);
                lib_cpu.push(cpu);
            }
        }
    }
    let (b, l) = (median(batch_rates), median(lib_rates));
    let (bc, lc) = (median(batch_cpu), median(lib_cpu));
    println!(
        "median: batch {b:.0} runs/s, library {l:.0} runs/s: batch/library = {:.2}x (target >= 0.9x); CPU/run batch {bc:.1} µs, library {lc:.1} µs ({:.2}x); batch peak RSS {:.1} MiB (target <= 100 MB at 1,000,000 rows)",
        b / l,
        bc / lc,
        peak_kib as f64 / 1024.0
    );
    if let Some(mut child) = stub_process {
        // Closing its stdin ends the stub.
        drop(child.stdin.take());
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--stub`: serves the stub, prints its address, and ends when stdin closes.
fn serve_stub() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(stub::stub());
    println!("{addr}");
    std::io::stdout().flush().unwrap();
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
}

/// This binary again as the stub, and its address.
fn stub_process() -> (String, std::process::Child) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--stub")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (line.trim().to_owned(), child)
}

/// User and system CPU seconds of this process, or of its children that ended.
fn cpu_secs(who: UsageWho) -> f64 {
    let u = getrusage(who).unwrap();
    let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    t(u.user_time()) + t(u.system_time())
}

/// `order_id,product_name,amount_paise`, one row per order.
fn write_rows(path: &std::path::Path, rows: u64) {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "order_id,product_name,amount_paise").unwrap();
    for i in 0..rows {
        writeln!(out, "ord-{i},Blue T-shirt {},{}", i % 97, 50_000 + i % 1000).unwrap();
    }
    out.flush().unwrap();
}

/// The real binary over the rows; its runs a second, its CPU per run (µs) and the peak RSS of
/// the largest child so far (KiB).
fn batch_phase(
    dir: &std::path::Path,
    input: &std::path::Path,
    base: &str,
    rows: u64,
) -> (f64, f64, i64) {
    let cpu_before = cpu_secs(UsageWho::RUSAGE_CHILDREN);
    let output = dir.join("results.jsonl");
    let _ = std::fs::remove_file(&output);
    let started = Instant::now();
    let bin = std::env::var_os("FLOWSTEP_BENCH_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_flowstep").into());
    let out = Command::new(bin)
        .arg("batch")
        .arg("stripe-checkout")
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(&output)
        .args([
            "--id-column",
            "order_id",
            "--concurrency",
            &CONCURRENCY.to_string(),
        ])
        .args(["--var", &format!("success_url={SUCCESS_URL}")])
        .args(["--route", &format!("https://api.stripe.com={base}")])
        .env("STRIPE_SECRET_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    let succeeded = std::io::BufReader::new(std::fs::File::open(&output).unwrap())
        .lines()
        .filter(|l| l.as_ref().is_ok_and(|l| l.contains("\"succeeded\"")))
        .count() as u64;
    if !out.status.success() || succeeded != rows {
        eprintln!(
            "batch_rows: the batch ended {} with {succeeded} of {rows} rows succeeded:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1);
    }
    let cpu = (cpu_secs(UsageWho::RUSAGE_CHILDREN) - cpu_before) * 1e6 / rows as f64;
    let rss = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    (rows as f64 / took.as_secs_f64(), cpu, rss)
}

/// The same runs through `Plan::run` in this process.
async fn library_phase(base: &str, rows: u64) -> f64 {
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
    let preset = flowstep_presets::get("stripe-checkout").unwrap();
    let (plan, _) = engine
        .compile_source(SourceFile::new(preset.file, preset.source))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let plan = Arc::new(plan);
    let secrets: BTreeMap<String, Secret> =
        [("STRIPE_SECRET_KEY".to_owned(), Secret::new(KEY))].into();
    let redactor = Arc::new(Redactor::new());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (plan, secrets, redactor, next) = (
            plan.clone(),
            secrets.clone(),
            redactor.clone(),
            next.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= rows {
                    return;
                }
                // What batch does per row: the row's values as inputs, then the run.
                let inputs = resolve_inputs(
                    plan.flow(),
                    vec![
                        (
                            "product_name".into(),
                            InputValue::Text(format!("Blue T-shirt {}", i % 97)),
                        ),
                        (
                            "amount_paise".into(),
                            InputValue::Text((50_000 + i % 1000).to_string()),
                        ),
                        ("success_url".into(), InputValue::Text(SUCCESS_URL.into())),
                    ],
                )
                .unwrap();
                let outcome = plan
                    .run(RunRequest {
                        inputs,
                        secrets: secrets.clone(),
                        run_id: Some(format!("ord-{i}")),
                        mode: RunMode::Live,
                        channel: &DiscardChannel,
                        recipient: None,
                        redactor: redactor.clone(),
                    })
                    .await
                    .unwrap();
                assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a bench task panicked");
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}
