//! Minimal HTTP/1.1 over std's TcpStream, without adding an HTTP crate: a client for tests that
//! act as a person or an admin on the sandbox (pay on the checkout page, expire a session), and
//! a scripted loopback server for answers the sandbox does not give.

use std::io::{Read, Write};
use std::net::TcpStream;

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The response's headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method url` (an `http://127.0.0.1:PORT/...` URL) with an optional bearer token and
/// an empty body, and reads the whole answer (`Connection: close`).
pub fn send(method: &str, url: &str, bearer: Option<&str>) -> Answer {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    request(method, url, &headers, b"")
}

/// Sends `method url` with `headers` and `body`, and reads the whole answer (`Connection:
/// close`; the body is read to the end, chunked answers unchunked).
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    try_request(method, url, headers, body)
        .unwrap_or_else(|| panic!("{method} {url}: no answer (is the server listening?)"))
}

/// [`request`], or `None` when no server listens there or the answer has no status line (a
/// server killed mid-request).
pub fn try_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Answer> {
    let rest = url.strip_prefix("http://").expect("a plain http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.split('#').next().unwrap_or("/");
    let mut stream = TcpStream::connect(host).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).ok()?;
    // The server may answer (413) and close before reading a large body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Answer {
        status,
        headers,
        body: if chunked {
            unchunk(body)
        } else {
            body.to_owned()
        },
    })
}

/// A chunked body's content.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// What [`RawServer`] does with a request it has read.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Write these bytes (a whole HTTP/1.1 response) and close.
    Raw(String),
    /// Close without answering: the request was received, the answer is lost.
    Close,
    /// Say nothing for this long, then close: the client's time limit runs out first.
    Hang(std::time::Duration),
}

/// A response with `Content-Length` and `Connection: close` added.
pub fn reply(status: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    Reply::Raw(r)
}

/// A request [`RawServer`] read.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted HTTP/1.1 server on 127.0.0.1 for answers the sandbox does not give (a 303 to a
/// POST, a `Retry-After` with a body of our choosing, a huge `Content-Length`): each request
/// gets the next reply of the script, and the last one repeats. It serves until the test
/// process ends.
pub struct RawServer {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl RawServer {
    pub fn start(script: Vec<Reply>) -> RawServer {
        use std::sync::{Arc, Mutex};
        assert!(!script.is_empty(), "a script needs a reply");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (seen, script) = (seen2.clone(), script.clone());
                std::thread::spawn(move || serve(stream, &seen, &script));
            }
        });
        RawServer { port, seen }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `--route FROM=<this server>`.
    pub fn route_from(&self, from: &str) -> String {
        format!("{from}={}", self.url())
    }

    pub fn requests(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    mut stream: TcpStream,
    seen: &std::sync::Mutex<Vec<Received>>,
    script: &std::sync::Mutex<Vec<Reply>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    seen.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&buf[head_end..]).into_owned(),
    });
    let next = {
        let mut s = script.lock().unwrap();
        if s.len() > 1 {
            s.remove(0)
        } else {
            s[0].clone()
        }
    };
    match next {
        Reply::Raw(r) => {
            let _ = stream.write_all(r.as_bytes());
        }
        Reply::Close => {}
        Reply::Hang(d) => std::thread::sleep(d),
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
