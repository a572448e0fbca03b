//! A request as the [`Recorder`](crate::recorder::Recorder) read it, taken apart: its target,
//! query, headers and body, and form decoding for checking values once the exact bytes are
//! pinned.

/// One recorded request.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// The request line (`POST /form?x=1 HTTP/1.1`).
    pub line: String,
    /// Header lines, as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl RawRequest {
    /// Splits a recorded request (head and body, as text).
    pub fn parse(raw: &str) -> Self {
        let (head, body) = raw.split_once("\r\n\r\n").expect("a whole request");
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        RawRequest {
            line,
            headers,
            body: body.to_owned(),
        }
    }

    /// The request target (`/form?x=1`).
    pub fn target(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or_default()
    }

    /// The raw query string (after `?`).
    pub fn query(&self) -> &str {
        self.target().split_once('?').map_or("", |(_, q)| q)
    }

    /// A header's value as sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `application/x-www-form-urlencoded` decoded into pairs.
pub fn decode_pairs(encoded: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).expect("UTF-8 after decoding")
    }
    encoded
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}
