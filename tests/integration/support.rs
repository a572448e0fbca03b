//! Shared test helpers: running the binary, starting the sandbox, writing flow files.

use flowstep_sandbox::Sandbox;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A sandbox on a free loopback port, with the runtime that serves it.
pub struct TestSandbox {
    pub sandbox: Sandbox,
    // Dropped after the sandbox: it serves on this runtime's threads.
    _runtime: tokio::runtime::Runtime,
}

impl TestSandbox {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(Sandbox::start(([127, 0, 0, 1], 0).into()))
            .unwrap();
        TestSandbox {
            sandbox,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        self.sandbox.base_url()
    }

    /// `--route https://api.stripe.com=<sandbox>`.
    pub fn route(&self) -> String {
        format!("https://api.stripe.com={}", self.url())
    }
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Everything printed, for "appears nowhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `cmd` (stdout and stderr captured) for at most `limit`: a command that should end at
/// once but reads or waits forever fails the test instead of hanging the suite.
pub fn run_within(mut cmd: Command, limit: std::time::Duration) -> Run {
    let (mut child, output) = spawn_drained(cmd.stdin(std::process::Stdio::null()));
    let end = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > end {
            let _ = child.kill();
            panic!("the command did not end within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    output.finish(status)
}

/// What a child started by [`spawn_drained`] writes, read to the end on threads of their own,
/// so that a full pipe never stops it.
pub struct Drained {
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Drained {
    /// The run, once the child has exited with `status`.
    pub fn finish(self, status: std::process::ExitStatus) -> Run {
        Run {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join().unwrap(),
        }
    }
}

/// Starts `cmd` with stdout and stderr piped and read as [`Drained`].
pub fn spawn_drained(cmd: &mut Command) -> (std::process::Child, Drained) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flowstep starts");
    let read = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = from.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    (child, Drained { stdout, stderr })
}

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("flowstep-test-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` with `text` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The `flowstep` binary with a clean environment: no Stripe key, no webhook secrets, no
/// RUST_LOG, run in a scratch directory (so no stray `.env` is read).
pub fn flowstep(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowstep"));
    cmd.current_dir(dir)
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .env_remove("RAZORPAY_WEBHOOK_SECRET")
        .env_remove("WHATSAPP_APP_SECRET")
        .env_remove("WHATSAPP_VERIFY_TOKEN")
        .env_remove("RUST_LOG")
        // `run --sandbox` looks for a running `flowstep sandbox` here first: nothing listens on
        // port 1, so each test gets a sandbox of its own (a test that wants the running one
        // sets it again).
        .env("FLOWSTEP_SANDBOX_ADDR", "127.0.0.1:1")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `flowstep` with `args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    flowstep(dir)
        .args(args)
        .output()
        .expect("flowstep runs")
        .into()
}

/// Runs `cmd` with `input` on its standard input. A command that ends without reading it all
/// (it refused its arguments) is not an error here: its output says what it did.
pub fn run_piped(mut cmd: Command, input: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flowstep runs");
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap().into()
}

/// The preset's text with `from` replaced by `to` (the replacement must happen).
pub fn preset_with(from: &str, to: &str) -> String {
    let src = flowstep_presets::get("stripe-checkout").unwrap().source;
    assert!(src.contains(from), "preset has no {from:?}");
    src.replace(from, to)
}

/// The Stripe preset's text.
pub fn preset() -> String {
    flowstep_presets::get("stripe-checkout")
        .unwrap()
        .source
        .to_owned()
}

/// Runs `flowstep` with `args` in `dir` and `STRIPE_SECRET_KEY` set to `key`.
pub fn run_with_key(dir: &Path, key: &str, args: &[&str]) -> Run {
    flowstep(dir)
        .env("STRIPE_SECRET_KEY", key)
        .args(args)
        .output()
        .expect("flowstep runs")
        .into()
}

/// The record of step `id` in a run's JSON outcome (or in a `flow` step's `steps`).
pub fn step_record<'v>(outcome: &'v Value, id: &str) -> &'v Value {
    outcome["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in {outcome}"))
}

/// The text report with each step's `[N ms]` as `[_ ms]`, the one part that varies.
pub fn report(out: &Run) -> String {
    let mut text = String::new();
    let mut rest = out.stdout.as_str();
    while let Some(at) = rest.find(" [") {
        let (before, after) = rest.split_at(at + 2);
        text.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(" ms]") {
            text.push('_');
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    text.push_str(rest);
    text
}
