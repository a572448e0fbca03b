//! One attempt on the wire with reqwest: routing, the per-attempt time limit, the response size
//! cap, and redirects followed by hand so that credentials never follow them to another host.

use crate::binding;
use crate::config::{Route, route, unroute};
use crate::request::PreparedRequest;
use crate::url::{host_of, origin_of};
use flowstep_engine::{BoundSecret, ErrorKind, Redactor, StepError};
use reqwest::Url;
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most redirects followed in one attempt (GET and HEAD only).
pub const MAX_REDIRECTS: usize = 5;

/// reqwest clients, one per connect timeout. reqwest sets the connect timeout on the client,
/// not the request, so steps with different `connect_timeout`s need different clients; steps
/// that share one share its connection pool. Nearly every flow uses one value.
#[derive(Debug, Default)]
pub struct Clients {
    by_connect_timeout: Mutex<HashMap<Duration, reqwest::Client>>,
}

impl Clients {
    fn get(&self, connect_timeout: Duration) -> Result<reqwest::Client, StepError> {
        let mut clients = self
            .by_connect_timeout
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&connect_timeout) {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            // Redirects are followed by hand: reqwest would follow a POST's 303 as a GET and
            // decide on its own what to keep across hosts.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .build()
            .map_err(|e| StepError::invalid(format!("cannot set up the HTTP client: {e}")))?;
        clients.insert(connect_timeout, client.clone());
        Ok(client)
    }
}

/// A response, read whole (within the size cap).
#[derive(Debug, Clone)]
pub struct Received {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// Why an attempt produced no usable response.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The connection could not be made; nothing was sent.
    NotSent {
        /// What the network said.
        detail: String,
    },
    /// The request was sent and no complete answer came.
    NoAnswer {
        /// Whether the time limit ran out (rather than the connection closing).
        timeout: bool,
        /// What the network said.
        detail: String,
        /// The status, when headers came but the body did not.
        status: Option<u16>,
    },
    /// A final failure that no retry can change (redirect refused, body too large).
    Final(StepError),
}

/// Everything one attempt needs.
pub struct AttemptInput<'a> {
    /// The request as the flow means it.
    pub request: &'a PreparedRequest,
    /// Where URLs are sent instead.
    pub routes: &'a [Route],
    /// For checking redirect targets.
    pub secrets: &'a [BoundSecret],
    /// For error details, which may quote a URL.
    pub redactor: &'a Redactor,
    /// The limit for the whole attempt, redirects included.
    pub timeout: Duration,
    /// The limit for connecting.
    pub connect_timeout: Duration,
    /// The response size cap.
    pub max_bytes: usize,
}

/// Sends one attempt, following GET/HEAD redirects.
pub async fn attempt(clients: &Clients, input: &AttemptInput<'_>) -> Result<Received, Failure> {
    let client = clients.get(input.connect_timeout).map_err(Failure::Final)?;
    let deadline = Instant::now() + input.timeout;
    let first_origin = origin_of(&input.request.url);
    let mut current = input.request.clone();
    let mut stripped = false;
    for hop in 0..=MAX_REDIRECTS {
        let target =
            route(input.routes, current.url.as_str()).unwrap_or_else(|| current.url.to_string());
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Failure::NoAnswer {
                timeout: true,
                detail: "the time limit ran out while following redirects".into(),
                status: None,
            });
        }
        let response = send_one(&client, &current, &target, remaining, input.redactor).await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (Some(location), 301 | 302 | 303 | 307 | 308) = (location, status) else {
            return read_body(response, &current.method, input.max_bytes).await;
        };
        let refuse = |message: String, kind: ErrorKind| {
            let mut e = StepError::new(kind, message);
            e.http_status = Some(status);
            Failure::Final(e)
        };
        if !matches!(current.method.as_str(), "GET" | "HEAD") {
            return Err(refuse_redirect(status, &current.method));
        }
        if hop == MAX_REDIRECTS {
            return Err(refuse(
                format!("more than {MAX_REDIRECTS} redirects"),
                ErrorKind::Rejected,
            ));
        }
        let base = Url::parse(&target).unwrap_or_else(|_| current.url.clone());
        let Ok(next) = base.join(&location) else {
            return Err(refuse(
                format!("the API redirected to a URL that cannot be read ({status})"),
                ErrorKind::Rejected,
            ));
        };
        // A redirect from a routed server is seen as the URL the flow meant.
        let next = unroute(input.routes, next.as_str())
            .and_then(|u| Url::parse(&u).ok())
            .unwrap_or(next);
        if !matches!(next.scheme(), "http" | "https") {
            return Err(refuse(
                format!("the API redirected to a `{}:` URL", next.scheme()),
                ErrorKind::Rejected,
            ));
        }
        if origin_of(&next) != first_origin && !stripped {
            strip_credentials(&mut current);
            stripped = true;
        }
        current.url = next;
        if let Some(s) = binding::misplaced(&current, &current.url, input.secrets) {
            return Err(refuse(
                format!(
                    "refusing to follow the redirect to {}: the request would carry secret `{}`, \
                     which may only be sent to {}",
                    host_of(&current.url),
                    s.name,
                    s.hosts.join(", ")
                ),
                ErrorKind::Invalid,
            ));
        }
        if matches!(status, 301..=303) {
            current.body = None;
            current.headers.remove("Content-Type");
        }
        tracing::debug!(status, to = %input.redactor.redact(current.url.as_str()), "following redirect");
    }
    unreachable!("the loop returns on its last hop")
}

/// The failure for a redirect answering a method that is not followed. A 301, 302 or 303
/// answers a request the server has usually carried out (Post/Redirect/Get: "done, see
/// there"), so the request may have taken effect (`unknown`); a 307 or 308 asks for the same
/// request elsewhere, so nothing was done (`rejected`).
fn refuse_redirect(status: u16, method: &str) -> Failure {
    let (kind, what) = if matches!(status, 307 | 308) {
        (
            ErrorKind::Rejected,
            "asks for the request to be sent elsewhere",
        )
    } else {
        (
            ErrorKind::Unknown,
            "usually means the request was carried out and the result is elsewhere, so it may \
             have taken effect",
        )
    };
    let mut e = StepError::new(
        kind,
        format!(
            "the API answered {} with a redirect, which {what}; {method} requests are not \
             redirected because repeating them elsewhere could do the work twice (check the URL).",
            status_line(status),
        ),
    );
    e.http_status = Some(status);
    Failure::Final(e)
}

/// Drops every credential the auth settings put on the request: they were meant for the
/// first host only.
fn strip_credentials(req: &mut PreparedRequest) {
    for name in std::mem::take(&mut req.credentials.headers) {
        req.headers.remove(&name);
    }
    if let Some(name) = req.credentials.query.take() {
        let kept: Vec<(String, String)> = req
            .url
            .query_pairs()
            .filter(|(k, _)| *k != name)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            req.url.set_query(None);
        } else {
            req.url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
}

async fn send_one(
    client: &reqwest::Client,
    req: &PreparedRequest,
    target: &str,
    timeout: Duration,
    redactor: &Redactor,
) -> Result<reqwest::Response, Failure> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| Failure::Final(StepError::invalid("invalid HTTP method")))?;
    let mut builder = client.request(method, target).timeout(timeout);
    for (k, v) in &req.headers.0 {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
    }
    builder
        .send()
        .await
        .map_err(|e| classify(&e, redactor, None))
}

/// Sorts a reqwest error into not sent / sent without an answer / cannot be built.
fn classify(e: &reqwest::Error, redactor: &Redactor, status: Option<u16>) -> Failure {
    let detail = redactor.redact(&root_cause(e)).into_owned();
    if e.is_builder() {
        Failure::Final(StepError::invalid(format!(
            "the request cannot be built: {detail}"
        )))
    } else if e.is_connect() && status.is_none() {
        Failure::NotSent { detail }
    } else {
        Failure::NoAnswer {
            timeout: e.is_timeout(),
            detail,
            status,
        }
    }
}

/// The innermost error message: "Connection refused (os error 111)" rather than reqwest's
/// outer "error sending request for url (...)", which also quotes the URL.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

async fn read_body(
    mut response: reqwest::Response,
    method: &str,
    max: usize,
) -> Result<Received, Failure> {
    let status = response.status().as_u16();
    let too_large = || {
        let limit = human_size(max);
        // A 2xx says the request was carried out; unread, its result is unknown. A safe method
        // (GET, HEAD, OPTIONS) changed nothing, so its body is merely too large.
        let mut e = if (200..300).contains(&status) && !matches!(method, "GET" | "HEAD" | "OPTIONS")
        {
            StepError::new(
                ErrorKind::Unknown,
                format!(
                    "the API answered {}, so the request was carried out, but the response body \
                     is larger than the {limit} limit and was not read.",
                    status_line(status)
                ),
            )
        } else {
            StepError::invalid(format!(
                "the response body is larger than the {limit} limit"
            ))
        };
        e.http_status = Some(status);
        Failure::Final(e)
    };
    // A HEAD answer announces the length of a body it does not send.
    if method != "HEAD" && response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                let detail = root_cause(&e);
                return Err(Failure::NoAnswer {
                    timeout: e.is_timeout(),
                    detail: format!("the response body was cut off: {detail}"),
                    status: Some(status),
                });
            }
        }
    }
    Ok(Received {
        status,
        headers: response.headers().clone(),
        body,
    })
}

/// `404 Not Found`.
pub fn status_line(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    match reason {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}

/// `10 MiB`, `512 KiB`, `1000 bytes`.
pub fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_status_lines_read_well() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_size(2048), "2 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
        assert_eq!(status_line(404), "404 Not Found");
        assert_eq!(status_line(599), "599");
    }
}
