//! What the routes of the sandbox share, and nothing that knows them: the [`Api`] a route
//! stands in for, the request id, the deferred delay, the connection-close marker, raw path
//! captures, answers, ids, the clock and the lock. It names no other module of the crate.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, MatchedPath};
use axum::handler::Handler;
use axum::http::header::{AsHeaderName, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};
use rand::Rng;
use serde_json::Value;

/// Which API a group of routes stands in for, set by `app` on each group outside the
/// middlewares: it picks the envelope of what they answer themselves (a `Status` fault, an
/// oversized body), whether they record and fault, and where a delay goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Stripe,
    Razorpay,
    WhatsApp,
    /// The hosted pages and `/__sandbox/echo`: Stripe's envelope, the sandbox's first API.
    Sandbox,
    /// The admin routes: never recorded, never faulted.
    Admin,
}

/// The id of one request, sent back as `Request-Id` (`req_` and 14 letters and digits).
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestId(pub(crate) String);

/// A `Delay` fault on a Stripe POST, waited for once: by the handler after the idempotency
/// key is claimed (so that a concurrent request with the same key sees 409); what the
/// handler did not wait for (an early error), the fault middleware waits for after it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delay(Arc<Mutex<Option<Duration>>>);

impl Delay {
    pub(crate) fn new(d: Duration) -> Delay {
        Delay(Arc::new(Mutex::new(Some(d))))
    }

    pub(crate) async fn wait(&self) {
        let d = lock(&self.0).take();
        if let Some(d) = d {
            tokio::time::sleep(d).await;
        }
    }
}

/// On an answer, makes the server close the connection without writing a byte of it: the
/// `CloseBeforeProcessing` and `DropResponse` faults, and a client gone mid-body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CloseConnection;

impl IntoResponse for CloseConnection {
    fn into_response(self) -> Response {
        let mut resp = Response::default();
        resp.extensions_mut().insert(self);
        resp
    }
}

/// A route's capture as the client sent it, still percent-encoded (`""` for a route
/// without one; a catch-all takes the rest of the path): axum's `Path` decodes captures,
/// and the stand-ins look ids up and echo them back exactly as written.
pub(crate) struct RawId(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for RawId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let route = parts.extensions.get::<MatchedPath>();
        let route = route.map_or("", |m| m.as_str()).split('/');
        // As many pieces as the route has segments: a trailing catch-all gets the rest.
        let mut sent = route
            .clone()
            .zip(parts.uri.path().splitn(route.count(), '/'));
        let id = sent
            .find(|(r, _)| r.starts_with('{'))
            .map(|(_, s)| s.to_string());
        Ok(RawId(id.unwrap_or_default()))
    }
}

/// A route's base: `fallback` answers each method the route does not serve, HEAD included
/// (axum would answer HEAD with the GET handler), and without the `Allow` header axum's own
/// method fallback adds, which none of the APIs sends.
pub(crate) fn refuse<H, T, S>(fallback: H) -> MethodRouter<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    any(fallback.clone()).head(fallback)
}

/// An answer with this status (one HTTP cannot carry reads as 500) and body, no headers.
pub(crate) fn answer(status: u16, body: impl Into<Body>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, body.into()).into_response()
}

/// A JSON body as the sandbox writes every one: pretty-printed.
pub(crate) fn json_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec_pretty(value).unwrap_or_default())
}

/// A JSON answer whose body is already encoded (a stored idempotent answer).
pub(crate) fn json_answer(status: u16, body: Bytes) -> Response {
    let mut resp = answer(status, body);
    let json = HeaderValue::from_static("application/json");
    resp.headers_mut().insert(CONTENT_TYPE, json);
    resp
}

pub(crate) fn json(status: u16, value: &Value) -> Response {
    json_answer(status, json_bytes(value))
}

/// A header's value as text (invalid UTF-8 replaced, never refused).
pub(crate) fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<String> {
    let value = headers.get(name)?;
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// Whether the Content-Type's media type (before any `;`) is `media_type`, in any case.
pub(crate) fn has_media_type(headers: &HeaderMap, media_type: &str) -> bool {
    header(headers, CONTENT_TYPE).is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(media_type)
    })
}

/// Decodes `application/x-www-form-urlencoded` text (a body or a query) into pairs.
pub(crate) fn form_pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text).into_owned().collect()
}

/// `n` random ASCII letters and digits (ids, request ids).
pub(crate) fn random_alnum(n: usize) -> String {
    let chars = rand::rng().sample_iter(rand::distr::Alphanumeric);
    chars.take(n).map(char::from).collect()
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    let since_epoch = std::time::UNIX_EPOCH.elapsed();
    since_epoch.map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// Locks a mutex, shrugging off poisoning: every critical section leaves the data
/// consistent, and one panicking request must not take the whole sandbox down. No lock is
/// ever held across an `.await`, so a plain mutex is simpler and cheaper than an async one.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
