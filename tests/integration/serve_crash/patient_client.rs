//! A client that keeps starting a run through a server restart: a start that finds no server,
//! or is cut off by a kill, is posted again (to the restarted server's address) until the run
//! is stored. The same run id makes that safe: a repeat returns the stored run.

use crate::serve_support::TOKEN;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Where the server is now (`http://127.0.0.1:PORT`), updated when it is restarted.
pub type Address = RwLock<String>;

/// Posts `body` to `POST /v1/runs` at the current address until it is answered (at most
/// `limit`); the status, and how many tries it took.
pub fn start_run(address: &Address, body: &Value, limit: Duration) -> (u16, u32) {
    let body = body.to_string();
    let start = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let url = address.read().unwrap().clone();
        if let Some(status) = try_post(&url, &body) {
            return (status, tries);
        }
        assert!(
            start.elapsed() < limit,
            "POST /v1/runs {body} not answered within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One `POST /v1/runs`: its status, or `None` when no complete answer came.
fn try_post(url: &str, body: &str) -> Option<u16> {
    let host = url.strip_prefix("http://")?;
    let mut stream = TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let head = format!(
        "POST /v1/runs HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, _) = text.split_once("\r\n\r\n")?;
    head.split_whitespace().nth(1)?.parse().ok()
}
