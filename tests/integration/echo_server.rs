//! A loopback HTTP/1.1 server that echoes each request back in a chosen encoding, as careless
//! APIs do in their error messages, and keeps every byte it received: the attacker's view for
//! the secret tests. `/echo/MODE` answers with the echo (`/echo/key` with only the
//! Authorization header, in an error envelope); `/pay` with [`PAY`]; anything else (a redirect
//! target, a host a flow relays data to) with `{"ok":true}`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The ways `/echo/MODE` gives the request back.
pub const MODES: &[&str] = &[
    "json",
    "json-slash",
    "json-unicode",
    "percent-lower",
    "percent-partial",
    "latin1",
    "truncated",
    "envelope",
    "redirect",
];

/// What `/pay` answers: a payment link whose order number contains `1234`, and `1234` on
/// its own (a PIN echoed back).
pub const PAY: &str =
    r#"{"link":"https://pay.example/order-912345/pay","pin":"1234","status":"requested"}"#;

/// The running server; stops when dropped.
pub struct EchoServer {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl EchoServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, halt) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let rec = rec.clone();
                std::thread::spawn(move || serve(conn, &rec));
            }
        });
        EchoServer {
            addr,
            received,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every byte every request brought, as text.
    pub fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut conn: TcpStream, received: &Mutex<Vec<u8>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&raw, b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while raw.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    received.lock().unwrap().extend_from_slice(&raw);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/");
    let request = String::from_utf8_lossy(&raw).into_owned();
    let (status, content_type, extra, body) = match (path, path.strip_prefix("/echo/")) {
        (_, Some(mode)) => answer(mode, &request),
        ("/pay", None) => (200, "application/json", String::new(), PAY.into()),
        _ => (
            200,
            "application/json",
            String::new(),
            "{\"ok\":true}".into(),
        ),
    };
    let reason = match status {
        200 => "OK",
        302 => "Found",
        _ => "Unauthorized",
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(body.as_bytes());
}

/// (status, content type, extra header lines, body) for `/echo/MODE`.
fn answer(mode: &str, request: &str) -> (u16, &'static str, String, String) {
    let decoded = percent_decode(request.as_bytes());
    let text = String::from_utf8_lossy(&decoded).into_owned();
    let json =
        |s: &str| serde_json::json!({ "error": format!("bad key in {s}"), "echo": s }).to_string();
    match mode {
        "json" => (401, "application/json", String::new(), json(request)),
        // PHP's json_encode writes `/` as `\/`.
        "json-slash" => (
            401,
            "application/json",
            String::new(),
            json(&text).replace('/', "\\/"),
        ),
        "json-unicode" => {
            let mut s = String::from("{\"echo\":\"");
            for c in text.chars() {
                if c.is_ascii_alphanumeric() {
                    s.push(c);
                } else {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        s.push_str(&format!("\\u{u:04x}"));
                    }
                }
            }
            s.push_str("\"}");
            (401, "application/json", String::new(), s)
        }
        "percent-lower" => (
            401,
            "text/plain",
            String::new(),
            percent_encode(&decoded, |_| false, "%20", true),
        ),
        // Space as %20, `/`, `+`, `'` and `~` left as they are.
        "percent-partial" => (
            401,
            "text/plain",
            String::new(),
            percent_encode(&decoded, |b| b"/+'~".contains(&b), "%20", false),
        ),
        // UTF-8 read as latin-1 and written out again as UTF-8.
        "latin1" => {
            let mojibake: String = decoded.iter().map(|&b| char::from(b)).collect();
            (401, "application/json", String::new(), json(&mojibake))
        }
        "truncated" => {
            let cut: Vec<String> = text
                .lines()
                .map(|l| {
                    let mut c: String = l.chars().take(40).collect();
                    if l.chars().count() > 40 {
                        c.push('…');
                    }
                    c
                })
                .collect();
            (401, "text/plain", String::new(), cut.join("\n"))
        }
        "envelope" => {
            let body = serde_json::json!({"error": {
                "type": "invalid_request_error",
                "code": "api_key_invalid",
                "param": text,
                "message": format!("Invalid API Key provided: {text}"),
            }});
            (401, "application/json", String::new(), body.to_string())
        }
        // Only the credential, in Stripe's error envelope: what the apology pattern shows.
        "key" => {
            let auth = request
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("authorization")
                        .then(|| v.trim().to_owned())
                })
                .unwrap_or_default();
            let body = serde_json::json!({"error": {
                "type": "invalid_request_error",
                "message": format!("Invalid API Key provided: {auth}"),
            }});
            (401, "application/json", String::new(), body.to_string())
        }
        "redirect" => {
            let location = format!(
                "/landing?echo={}",
                percent_encode(&decoded, |_| false, "+", false)
            );
            (
                302,
                "text/plain",
                format!("Location: {location}\r\n"),
                String::new(),
            )
        }
        other => panic!("no echo mode {other}"),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Every byte but letters, digits and those `keep` keeps as `%HH`; a space as `space`.
fn percent_encode(bytes: &[u8], keep: impl Fn(u8) -> bool, space: &str, lower: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || keep(b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push_str(space);
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
