//! The bearer token check in front of every `/v1` route (constant-time; a wrong or missing
//! token gets the same `401` with no detail).

use super::AppState;
use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(crate) async fn require_token(
    State(app): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    // The scheme is case-insensitive (RFC 9110 11.1): `bearer` is as good as `Bearer`; one
    // or more spaces may follow it (`1*SP`, RFC 9110 11.4).
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .filter(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer "))
        .map(|v| v[7..].trim_ascii_start());
    match given {
        Some(token) if app.0.token.matches(token) => next.run(req).await,
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs `Authorization: Bearer <token>` with the server's API token (FLOWSTEP_API_TOKEN)",
        )
        .into_response(),
    }
}
