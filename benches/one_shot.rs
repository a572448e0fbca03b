//! `cargo bench --bench one_shot`: the one-shot CLI against curl, in one run. Each sends the
//! same POST of a two-field form to a loopback server this bench starts (plain HTTP, then
//! HTTPS with a CA given to both), one process per request, alternating rounds; it prints the
//! wall and CPU time per request of each and their ratio (docs/performance.md). Nothing is
//! asserted: a loaded machine must not fail a build. `FLOWSTEP_BENCH_RUNS` sets the requests
//! per round (default 60; three rounds).

#[path = "../tests/integration/tls_server.rs"]
#[allow(dead_code)]
mod tls_server;

use nix::sys::resource::{UsageWho, getrusage};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ANSWER: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}";

fn main() {
    let runs: u32 = std::env::var("FLOWSTEP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("flowstep-one-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("one_shot: curl is not installed, so there is nothing to compare with");
        std::process::exit(1);
    }

    let plain = plain_server();
    let tls = tls_server::TlsServer::start(ANSWER.to_owned(), false);
    tls.write_files(&dir);
    let cases = [
        ("http", format!("http://{plain}/orders"), ""),
        (
            "https",
            tls.url("/orders"),
            "http:\n  tls:\n    ca: ca.pem\n",
        ),
    ];
    println!("one_shot: {runs} requests a round, 3 rounds, alternating; per request:");
    println!(
        "{:<6} {:>14} {:>14} {:>8} {:>14} {:>14}",
        "", "flowstep wall", "curl wall", "ratio", "flowstep CPU", "curl CPU"
    );
    for (name, url, http_block) in &cases {
        let flow = dir.join(format!("{name}.yaml"));
        std::fs::write(
            &flow,
            format!(
                "flow: one_shot\n{http_block}steps:\n  - id: post\n    type: http\n    method: POST\n    url: {url}\n    retry: off\n    body_type: form\n    body:\n      amount: 50000\n      name: Tea\n"
            ),
        )
        .unwrap();
        let ours = || {
            let mut c = Command::new(env!("CARGO_BIN_EXE_flowstep"));
            c.arg("run").arg(&flow).current_dir(&dir);
            c
        };
        let curl = || {
            let mut c = Command::new("curl");
            c.args([
                "-s",
                "--fail",
                "-o",
                "/dev/null",
                "-d",
                "amount=50000",
                "-d",
                "name=Tea",
            ]);
            c.arg("--cacert").arg(dir.join("ca.pem")).arg(url);
            c
        };
        // Both must work before either is timed.
        check(ours(), "flowstep run");
        check(curl(), "curl");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for round in 0..3 {
            if round % 2 == 0 {
                a.push(measure(&ours, runs));
                b.push(measure(&curl, runs));
            } else {
                b.push(measure(&curl, runs));
                a.push(measure(&ours, runs));
            }
        }
        let (a, b) = (median(a), median(b));
        println!(
            "{name:<6} {:>11.1} ms {:>11.1} ms {:>7.2}x {:>11.1} ms {:>11.1} ms",
            ms(a.0),
            ms(b.0),
            a.0.as_secs_f64() / b.0.as_secs_f64(),
            ms(a.1),
            ms(b.1)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `command` `runs` times; the wall and CPU time (user + system, of the children) per run.
fn measure(command: &dyn Fn() -> Command, runs: u32) -> (Duration, Duration) {
    let cpu_before = children_cpu();
    let start = Instant::now();
    for _ in 0..runs {
        command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
    }
    (start.elapsed() / runs, (children_cpu() - cpu_before) / runs)
}

fn check(mut command: Command, what: &str) {
    let out = command.output().unwrap();
    if !out.status.success() {
        eprintln!(
            "one_shot: {what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1);
    }
}

fn children_cpu() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    let t = |tv: nix::sys::time::TimeVal| {
        Duration::from_secs(tv.tv_sec() as u64) + Duration::from_micros(tv.tv_usec() as u64)
    };
    t(usage.user_time()) + t(usage.system_time())
}

/// The round whose wall time is the median, with its CPU time.
fn median(mut rounds: Vec<(Duration, Duration)>) -> (Duration, Duration) {
    rounds.sort();
    rounds[rounds.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A plain-HTTP server on loopback answering every request with [`ANSWER`].
fn plain_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut chunk = [0u8; 4096];
                // The head, then as much body as Content-Length says (both clients send one).
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = read_body(&mut stream, &head);
                let _ = stream.write_all(ANSWER.as_bytes());
            });
        }
    });
    addr
}

fn read_body(stream: &mut std::net::TcpStream, head: &[u8]) -> std::io::Result<()> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let end = text.find("\r\n\r\n").map_or(text.len(), |i| i + 4);
    let want: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = head.len() - end;
    let mut chunk = [0u8; 4096];
    while have < want {
        match stream.read(&mut chunk)? {
            0 => break,
            n => have += n,
        }
    }
    Ok(())
}
