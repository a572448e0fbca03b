//! A minimal HTTP/1.1 client over std's TcpStream, for tests that act as a person or an admin
//! on the sandbox (pay on the checkout page, expire a session) without adding an HTTP crate.

use std::io::{Read, Write};
use std::net::TcpStream;

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends `method url` (an `http://127.0.0.1:PORT/...` URL) with an optional bearer token and
/// an empty body, and reads the whole answer (`Connection: close`).
pub fn send(method: &str, url: &str, bearer: Option<&str>) -> Answer {
    let rest = url.strip_prefix("http://").expect("a plain http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.split('#').next().unwrap_or("/");
    let mut stream = TcpStream::connect(host).expect("the sandbox is listening");
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    Answer {
        status,
        body: body.to_owned(),
    }
}
