//! `cargo bench --bench scaling`: throughput of 1, 2 and 3 `flowstep serve` workers on one
//! Postgres (docs/scaling.md). It starts a durable Postgres of its own (`fsync` on; the
//! `flowstep-test-postgres` helper), a loopback stub standing in for Stripe (the throughput
//! bench's: every request answered with a 2 KB Checkout Session), and for each worker count a
//! fresh database and that many real `flowstep serve` processes (`--channel record`, 64 runs
//! at once each). It starts N runs of the stripe-checkout preset through the workers' API,
//! round robin, 32 requests in flight, and stops the clock when the store counts N succeeded.
//! It prints runs a second, and the CPU time per run of the workers and of Postgres (from
//! /proc), which is what docs/scaling.md's capacity plan is calculated from. Nothing is
//! asserted. `FLOWSTEP_BENCH_RUNS` sets N (default 3,000), `FLOWSTEP_BENCH_WORKERS` the
//! largest worker count (default 3).

#[path = "../crates/flowstep-http/benches/support/stub.rs"]
mod stub;

use flowstep_store::postgres::PostgresStore;
use flowstep_store::{RunFilter, RunStore, Status};
use flowstep_test_postgres::TestPostgres;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
const TOKEN: &str = "bench-token-0123456789abcdef";
const IN_FLIGHT: usize = 32;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scaling: run it with `cargo bench --bench scaling`");
        return;
    }
    let runs = env_or("FLOWSTEP_BENCH_RUNS", 3000);
    let most = env_or("FLOWSTEP_BENCH_WORKERS", 3).max(1);
    let Some(pg) = TestPostgres::start_durable() else {
        eprintln!("scaling: no Postgres server binaries; install postgresql to run it");
        std::process::exit(1);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let stub = runtime.block_on(stub::stub());
    println!(
        "scaling: the stripe-checkout preset, N = {runs} runs a phase, {} cores, Postgres with fsync on",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>7} {:>10} {:>16} {:>16} {:>16}",
        "workers", "runs/s", "worker CPU/run", "Postgres CPU/run", "wall/run x cores"
    );
    for workers in 1..=most {
        let db = pg.create_database(&format!("scaling_{workers}"));
        let serves: Vec<Worker> = (0..workers)
            .map(|_| Worker::start(&db, &format!("http://{stub}")))
            .collect();
        let phase = runtime.block_on(phase(&db, &serves, runs));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        println!(
            "{workers:>7} {:>10.0} {:>13.0} µs {:>13.0} µs {:>13.0} µs",
            runs as f64 / phase.took.as_secs_f64(),
            phase.worker_cpu.as_secs_f64() * 1e6 / runs as f64,
            phase.postgres_cpu.as_secs_f64() * 1e6 / runs as f64,
            phase.took.as_secs_f64() * 1e6 * cores / runs as f64,
        );
        drop(serves);
    }
}

struct Phase {
    took: Duration,
    worker_cpu: Duration,
    postgres_cpu: Duration,
}

async fn phase(db: &str, workers: &[Worker], runs: u64) -> Phase {
    let store = PostgresStore::open(db).await.unwrap();
    let client = reqwest::Client::new();
    let urls: Arc<Vec<String>> = Arc::new(workers.iter().map(|w| w.url.clone()).collect());
    let pids: Vec<u32> = workers.iter().map(|w| w.child.id()).collect();
    let (w0, p0) = (cpu_of(&pids), postgres_cpu());
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut posters = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
        posters.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= runs {
                    return;
                }
                let body = serde_json::json!({
                    "flow": "stripe-checkout",
                    "run_id": format!("order-{i}"),
                    "inputs": {
                        "product_name": "Blue T-shirt",
                        "amount_paise": 50000,
                        "success_url": "https://shop.example/thanks",
                    },
                });
                let url = format!("{}/v1/runs", urls[i as usize % urls.len()]);
                let answer = client
                    .post(url)
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status().as_u16(), 201, "{:?}", answer.text().await);
            }
        });
    }
    while let Some(done) = posters.join_next().await {
        done.expect("a poster panicked");
    }
    let succeeded = RunFilter {
        status: Some(Status::Succeeded),
        ..RunFilter::default()
    };
    loop {
        let done = store.count_runs(&succeeded).await.unwrap();
        if done >= runs {
            break;
        }
        let failed = RunFilter {
            status: Some(Status::Failed),
            ..RunFilter::default()
        };
        let failed = store.count_runs(&failed).await.unwrap();
        assert_eq!(failed, 0, "runs failed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    store.close().await;
    Phase {
        took,
        worker_cpu: cpu_of(&pids) - w0,
        postgres_cpu: postgres_cpu() - p0,
    }
}

/// A `flowstep serve` process on the database.
struct Worker {
    child: Child,
    url: String,
}

impl Worker {
    fn start(db: &str, stub: &str) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowstep"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--db",
                db,
                "--channel",
                "record",
            ])
            .args(["--max-concurrent-runs", "64"])
            .args(["--route", &format!("https://api.stripe.com={stub}")])
            .env("FLOWSTEP_API_TOKEN", TOKEN)
            .env("STRIPE_SECRET_KEY", KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("flowstep serve stopped before it listened");
            };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break format!("http://{}", rest.split_whitespace().next().unwrap_or(""));
            }
        };
        // Keep reading its log, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Worker { child, url }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User plus system CPU time of these processes so far (/proc/PID/stat).
fn cpu_of(pids: &[u32]) -> Duration {
    pids.iter()
        .map(|p| stat_cpu(&format!("/proc/{p}/stat")))
        .sum()
}

/// User plus system CPU time of every `postgres` process so far (the bench's server is the
/// only one it expects; its backends come and go, so the figure counts those alive at both
/// reads, which is every pooled connection).
fn postgres_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let path = entry.path().join("stat");
        if let Ok(text) = std::fs::read_to_string(&path)
            && text.contains("(postgres)")
        {
            total += stat_cpu(path.to_str().unwrap());
        }
    }
    total
}

fn stat_cpu(path: &str) -> Duration {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    // proc(5): after `(comm)` come state (field 3), ..., utime (14) and stime (15).
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
}
