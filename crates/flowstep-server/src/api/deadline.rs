//! The time a request may take: past it, `408 request_timeout` as a JSON error body like every
//! other error (tower-http's timeout answers an empty body, which the API does not document).

use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Runs the rest of the stack within `limit`; the request is dropped when it passes.
pub(crate) async fn within(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => timed_out(limit).into_response(),
    }
}

fn timed_out(limit: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request took longer than the server allows ({}); send the body at once, or try again",
            humantime::format_duration(limit)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use std::io::{Read, Write};

    /// A route slower than the limit answers 408 with the JSON error body, over real HTTP.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_past_the_limit_is_408_with_a_json_error() {
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "done"
                }),
            )
            .route("/quick", get(|| async { "done" }))
            .layer(axum::middleware::from_fn_with_state(
                Duration::from_millis(100),
                within,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let get = |path: &'static str| {
            tokio::task::spawn_blocking(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                write!(
                    s,
                    "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).unwrap();
                answer
            })
        };
        let quick = get("/quick").await.unwrap();
        assert!(quick.starts_with("HTTP/1.1 200"), "{quick}");
        let slow = get("/slow").await.unwrap();
        assert!(slow.starts_with("HTTP/1.1 408"), "{slow}");
        assert!(
            slow.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{slow}"
        );
        let body = slow.split("\r\n\r\n").nth(1).unwrap_or_default();
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "request_timeout", "message": "the request took longer than the server allows (100ms); send the body at once, or try again"}})
        );
    }
}
