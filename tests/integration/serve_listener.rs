//! The time limits of `flowstep serve`'s listener: a client that sends half a request line and
//! stops (slowloris) is disconnected once `--header-timeout` has passed, and so is a kept-alive
//! connection left idle that long, while other clients are served as usual.

use crate::serve_support::Serve;
use crate::support::Scratch;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The limit the server is started with.
const LIMIT: Duration = Duration::from_millis(2000);

/// Reads until the server closes the connection (or 10 s pass); what it sent and when it
/// closed.
fn read_until_closed(stream: &mut TcpStream) -> (String, Instant) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server did not close the connection: {e} (got {:?})",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), Instant::now())
}

fn connect(serve: &Serve) -> TcpStream {
    TcpStream::connect(serve.url.trim_start_matches("http://")).unwrap()
}

/// `GET /healthz` on a connection of its own; the status line.
fn healthz(serve: &Serve) -> String {
    let mut stream = connect(serve);
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream);
    answer.lines().next().unwrap_or("").to_owned()
}

#[test]
fn serve_disconnects_a_client_that_trickles_its_headers_and_serves_the_others() {
    let dir = Scratch::new();
    let serve = Serve::start(dir.path(), &["--header-timeout", "2s"], &[]);

    // Half a request line, then nothing.
    let mut slow = connect(&serve);
    let sent = Instant::now();
    slow.write_all(b"GET /healthz HT").unwrap();
    // Meanwhile another client is served at once.
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    assert_eq!(healthz(&serve), "HTTP/1.1 200 OK");
    assert!(
        asked.elapsed() < LIMIT / 2,
        "served at once while the slow one waits: {:?}",
        asked.elapsed()
    );
    // The slow one is still open then: nothing to read yet, no close.
    slow.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let still_open =
        matches!(slow.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    slow.set_nonblocking(false).unwrap();
    assert!(
        still_open,
        "the slow connection was closed before the limit"
    );
    let (answer, closed) = read_until_closed(&mut slow);
    let held = closed - sent;
    assert!(
        held >= LIMIT - Duration::from_millis(50),
        "closed after {held:?}, before the limit"
    );
    assert!(
        held < LIMIT * 4,
        "closed after {held:?}, long after the limit"
    );
    // Closed without an answer (hyper may say 408 first): never a 200.
    assert!(!answer.contains("200 OK"), "{answer}");

    // A client that sends a byte now and then is closed all the same: the limit is on the
    // whole of the headers, not on the gap between bytes.
    let mut trickle = connect(&serve);
    let sent = Instant::now();
    let mut closed_early = false;
    for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\n" {
        if trickle.write_all(&[*b]).is_err() {
            closed_early = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if sent.elapsed() > LIMIT * 3 {
            break;
        }
    }
    let (answer, closed) = read_until_closed(&mut trickle);
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        closed_early || closed - sent < LIMIT * 4,
        "a trickling client was held {:?}",
        closed - sent
    );

    // A kept-alive connection is served, then closed once idle for the limit.
    let mut idle = connect(&serve);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).unwrap();
    let answered = Instant::now();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let (_, closed) = read_until_closed(&mut idle);
    let idle_for = closed - answered;
    assert!(
        idle_for >= LIMIT - Duration::from_millis(50) && idle_for < LIMIT * 4,
        "an idle connection closed after {idle_for:?}"
    );

    // The server is still up and answers, and stops cleanly on SIGTERM.
    assert_eq!(healthz(&serve), "HTTP/1.1 200 OK");
    eprintln!(
        "header timeout 2s: half a request line closed after {held:?}, an idle kept-alive connection after {idle_for:?}"
    );
    assert_eq!(serve.terminate(Duration::from_secs(20)), 0);
}

#[test]
fn serve_refuses_a_header_timeout_under_100ms() {
    let dir = Scratch::new();
    let out = crate::support::flowstep(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--header-timeout", "10ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value '10ms' for '--header-timeout <DURATION>': `10ms` is too short: give at least 100ms (like 10s)"),
        "{err}"
    );
}
