//! A loopback API the tests start for what the sandbox does not serve: a list of seven items
//! paged three at a time in three styles (Stripe's cursor and `has_more` at `/cursor`, a
//! `Link: <...>; rel="next"` header at `/link`, page numbers at `/numbered`), an upload
//! receiver at `/upload` that keeps every byte, and binary answers at `/image.png` and
//! `/octets`. Every request's path and query is kept, in order.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The items listed, in order.
pub const ITEMS: [&str; 7] = ["it_1", "it_2", "it_3", "it_4", "it_5", "it_6", "it_7"];
/// Items per page.
const PER_PAGE: usize = 3;
/// What `/image.png` answers: a PNG's signature and header, bytes that are not UTF-8.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";

/// One upload as it arrived.
#[derive(Debug, Clone)]
pub struct Upload {
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Seen {
    requests: Vec<String>,
    uploads: Vec<Upload>,
}

type Shared = Arc<Mutex<Seen>>;

/// The running stub; stops with its runtime when dropped.
pub struct StubApi {
    base: String,
    seen: Shared,
    _runtime: tokio::runtime::Runtime,
}

impl StubApi {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen = Shared::default();
        let app = Router::new()
            .route("/cursor", get(cursor))
            .route("/link", get(link))
            .route("/numbered", get(numbered))
            .route("/upload", any(upload))
            .route("/image.png", get(image))
            .route("/octets", get(octets))
            .with_state(seen.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        StubApi {
            base,
            seen,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.base.clone()
    }

    /// Every request's path and query, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().requests.clone()
    }

    /// Every upload, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        self.seen.lock().unwrap().uploads.clone()
    }
}

fn note(seen: &Shared, uri: &Uri) {
    let shown = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    seen.lock().unwrap().requests.push(shown);
}

fn item(id: &str) -> Value {
    json!({"id": id, "object": "item"})
}

/// Stripe's list shape: `{"object": "list", "data": [...], "has_more": ...}`, the page after
/// the item `starting_after` names. With `flaky=1`, each page answers 503 the first time it
/// is asked for.
async fn cursor(
    State(seen): State<Shared>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    note(&seen, &uri);
    let asked = {
        let shown = uri.path_and_query().map_or("/", |p| p.as_str());
        let seen = seen.lock().unwrap();
        seen.requests.iter().filter(|r| *r == shown).count()
    };
    if q.contains_key("flaky") && asked == 1 {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": {"message": "try again"}})),
        )
            .into_response();
    }
    let start = match q.get("starting_after") {
        Some(after) => ITEMS
            .iter()
            .position(|i| i == after)
            .map_or(ITEMS.len(), |i| i + 1),
        None => 0,
    };
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(PER_PAGE);
    let data: Vec<Value> = ITEMS
        .iter()
        .skip(start)
        .take(limit)
        .map(|i| item(i))
        .collect();
    let has_more = start + limit < ITEMS.len();
    axum::Json(json!({"object": "list", "data": data, "has_more": has_more})).into_response()
}

/// GitHub's style: the page is a JSON list, the next one is in the `Link` header.
async fn link(
    State(seen): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    note(&seen, &uri);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let data: Vec<Value> = ITEMS
        .iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|i| item(i))
        .collect();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let last = ITEMS.len().div_ceil(PER_PAGE);
    let mut links = vec![format!("<http://{host}/link?page={last}>; rel=\"last\"")];
    if page < last {
        links.insert(
            0,
            format!("<http://{host}/link?page={}>; rel=\"next\"", page + 1),
        );
    }
    (
        [(header::LINK, links.join(", "))],
        axum::Json(Value::Array(data)),
    )
}

/// Page numbers from 1; a page past the last is empty.
async fn numbered(
    State(seen): State<Shared>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    note(&seen, &uri);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let results: Vec<Value> = ITEMS
        .iter()
        .skip(page.saturating_sub(1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|i| item(i))
        .collect();
    axum::Json(json!({"page": page, "results": results}))
}

/// Keeps the body and its content type, and says how many bytes came.
async fn upload(
    State(seen): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    note(&seen, &uri);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let n = body.len();
    seen.lock().unwrap().uploads.push(Upload {
        content_type,
        body: body.to_vec(),
    });
    axum::Json(json!({"received": n}))
}

async fn image(State(seen): State<Shared>, uri: Uri) -> impl IntoResponse {
    note(&seen, &uri);
    ([(header::CONTENT_TYPE, "image/png")], PNG)
}

/// Bytes that are not UTF-8, with no content type to say what they are.
async fn octets(State(seen): State<Shared>, uri: Uri) -> impl IntoResponse {
    note(&seen, &uri);
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        vec![0u8, 159, 146, 150, 255, 0, 1],
    )
}
