//! What `flowstep run -v` shows of each attempt, as curl, xh and Hurl do with `-v`: the request
//! line and headers (`> `), the response status and headers (`< `), and with bodies (`-vv`)
//! the bodies, cut at [`BODY_SHOWN_CHARS`]. Every block is redacted by the run's redactor
//! before it is handed on, and credential headers the redactor did not recognise are masked
//! whole, so a token that is not a declared secret is not shown either.

use crate::request::PreparedRequest;
use flowstep_engine::Redactor;
use reqwest::header::HeaderMap;
use std::fmt;
use std::sync::Arc;

/// The most characters of a body shown.
pub const BODY_SHOWN_CHARS: usize = 4096;

/// Headers whose values are credentials or sessions.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Where the exchanges go, and whether bodies are shown.
#[derive(Clone)]
pub struct WireLog {
    /// Show request and response bodies too.
    pub bodies: bool,
    sink: Arc<dyn Fn(&str) + Send + Sync>,
}

impl fmt::Debug for WireLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireLog")
            .field("bodies", &self.bodies)
            .finish_non_exhaustive()
    }
}

impl WireLog {
    /// Each block of lines (redacted, ending in a newline) is given to `sink`.
    pub fn new(bodies: bool, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        WireLog {
            bodies,
            sink: Arc::new(sink),
        }
    }

    /// An attempt about to be sent to `target` (the URL after routes).
    pub(crate) fn request(
        &self,
        step_id: &str,
        attempt: (u32, u32),
        req: &PreparedRequest,
        target: &str,
        redactor: &Redactor,
    ) {
        let mut out = format!("* {step_id}: attempt {} of {}\n", attempt.0, attempt.1);
        out.push_str(&format!("> {} {}\n", req.method, req.url));
        if target != req.url.as_str() {
            out.push_str(&format!("* routed to {target}\n"));
        }
        for (name, value) in &req.headers.0 {
            out.push_str(&format!(
                "> {name}: {}\n",
                header_value(name, value, redactor)
            ));
        }
        out.push_str(">\n");
        if self.bodies
            && let Some(body) = &req.body
        {
            out.push_str(&body_lines("> ", body.as_bytes(), redactor));
        }
        // File bytes are never shown: what the body holds, in one line.
        if self.bodies
            && let Some(upload) = &req.upload
        {
            out.push_str(&format!("> [{}]\n", upload.summary));
        }
        self.emit(&out, redactor);
    }

    /// The answer to an attempt: its status line (`200 OK`), headers and body.
    pub(crate) fn response(
        &self,
        (status, headers, body): (&str, &HeaderMap, &[u8]),
        elapsed_ms: u128,
        redactor: &Redactor,
    ) {
        let mut out = format!("< {status} ({elapsed_ms} ms)\n");
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            out.push_str(&format!(
                "< {name}: {}\n",
                header_value(name.as_str(), &value, redactor)
            ));
        }
        out.push_str("<\n");
        if self.bodies && crate::binary::is_binary(headers, body) {
            out.push_str(&format!("< {}\n", crate::binary::not_shown(headers, body)));
        } else if self.bodies {
            out.push_str(&body_lines("< ", body, redactor));
        }
        self.emit(&out, redactor);
    }

    /// An attempt that got no answer.
    pub(crate) fn no_answer(&self, what: &str, redactor: &Redactor) {
        self.emit(&format!("* {what}\n"), redactor);
    }

    /// Something the step does between attempts (`* ID: ...`).
    pub(crate) fn note(&self, what: &str, redactor: &Redactor) {
        self.emit(&format!("* {what}\n"), redactor);
    }

    fn emit(&self, text: &str, redactor: &Redactor) {
        (self.sink)(&redactor.redact(text));
    }
}

/// A header's value as shown: redacted, and a credential the redactor did not recognise
/// masked whole (after its scheme, `Bearer [redacted]`).
fn header_value(name: &str, value: &str, redactor: &Redactor) -> String {
    let redacted = redactor.redact(value);
    if !CREDENTIAL_HEADERS.contains(&name.to_ascii_lowercase().as_str())
        || redacted != value
        || value.is_empty()
    {
        return redacted.into_owned();
    }
    match value.split_once(' ') {
        Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => {
            format!("{scheme} [redacted]")
        }
        _ => "[redacted]".to_owned(),
    }
}

/// A body, one prefixed line per line: redacted first (so that a cut cannot leave a piece of
/// a secret too short to be recognised), then cut; bytes that are not text are only counted.
fn body_lines(prefix: &str, body: &[u8], redactor: &Redactor) -> String {
    if body.is_empty() {
        return String::new();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return format!("{prefix}[{} bytes that are not UTF-8 text]\n", body.len());
    };
    let text = redactor.redact(text);
    let total = text.chars().count();
    let shown: String = text.chars().take(BODY_SHOWN_CHARS).collect();
    let mut out = String::new();
    for line in shown.lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    if total > BODY_SHOWN_CHARS {
        out.push_str(&format!(
            "{prefix}[... {} more characters not shown]\n",
            total - BODY_SHOWN_CHARS
        ));
    }
    out
}
