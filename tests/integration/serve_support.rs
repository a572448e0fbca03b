//! Helpers for tests of `flowstep serve`: the real binary on a free loopback port with a real
//! SQLite file, a JSON client for its API, and ways to stop it (SIGTERM, `kill -9`).

use crate::raw_http::{self, Answer};
use crate::support::flowstep;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The token tests start servers with.
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// A running `flowstep serve`.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Everything it printed on stderr so far.
    pub stderr: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `flowstep serve --addr 127.0.0.1:0 --db DIR/runs.db ARGS` in `dir` with the test
    /// token and `env` (`--addr` and `--db` in `ARGS` replace those), and waits (at most 60 s)
    /// until it listens.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Serve {
        Serve::start_with_token(dir, args, env, Some(TOKEN))
    }

    /// [`Serve::start`] with `FLOWSTEP_API_TOKEN` set to `token`, or unset when `None`.
    pub fn start_with_token(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        token: Option<&str>,
    ) -> Serve {
        let db = dir.join("runs.db");
        let mut cmd = flowstep(dir);
        cmd.arg("serve");
        // A test that restarts a server on its port names the address itself.
        if !args.contains(&"--addr") {
            cmd.args(["--addr", "127.0.0.1:0"]);
        }
        // A test on another store (Postgres) names it itself.
        if !args.contains(&"--db") {
            cmd.arg("--db").arg(&db);
        }
        cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
        match token {
            Some(t) => cmd.env("FLOWSTEP_API_TOKEN", t),
            None => cmd.env_remove("FLOWSTEP_API_TOKEN"),
        };
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("flowstep serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(addr);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!("flowstep serve did not start:\n{}", stderr.lock().unwrap());
            }
        };
        Serve {
            child,
            url: format!("http://{addr}"),
            stderr,
        }
    }

    /// What it printed on stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `METHOD path` with the token and a JSON body (if any).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let auth = format!("Bearer {TOKEN}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let answer = raw_http::request(
            method,
            &format!("{}{path}", self.url),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        );
        json_of(answer)
    }

    /// `POST /v1/runs` with `body`.
    pub fn start_run(&self, body: &Value) -> (u16, Value) {
        self.call("POST", "/v1/runs", Some(body))
    }

    /// `GET /v1/runs/{run_id}`.
    pub fn run(&self, run_id: &str) -> Value {
        let (status, body) = self.call("GET", &format!("/v1/runs/{run_id}"), None);
        assert_eq!(status, 200, "GET /v1/runs/{run_id}: {body}");
        body
    }

    /// Waits (at most `limit`) until run `run_id` has ended, and returns it.
    pub fn wait_for_end(&self, run_id: &str, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let run = self.run(run_id);
            if matches!(
                run["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            ) {
                return run;
            }
            assert!(
                start.elapsed() < limit,
                "run {run_id} has not ended after {limit:?}: {run}\nserver log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`: no shutdown, no cleanup.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for it to exit (at most `limit`); its exit code.
    pub fn terminate(mut self, limit: Duration) -> i32 {
        signal(&self.child, "TERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < limit,
                "flowstep serve did not stop within {limit:?} of SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `SIGNAL` (`HUP`, `TERM`) to the process.
    pub fn signal(&self, name: &str) {
        signal(&self.child, name);
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} failed");
}

/// The answer's status and its body as JSON (`Value::String` of the text when it is not).
pub fn json_of(answer: Answer) -> (u16, Value) {
    let body = serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body));
    (answer.status, body)
}
