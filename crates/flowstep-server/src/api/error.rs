//! [`ApiError`]: every error the API answers, as `{"error": {"code", "message"}}` with the
//! status that says whose fault it is.

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use flowstep_store::StoreError;
use serde_json::json;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable name (`invalid_inputs`, `run_not_found`, ...).
    pub code: &'static str,
    /// What is wrong and what to do, for a person.
    pub message: String,
    /// Each problem on its own, when there are several (input problems).
    pub problems: Vec<String>,
}

impl ApiError {
    /// An error with no list of problems.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// The same error under another code.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    /// `400 bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// `422` with `code`.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// `404 run_not_found`.
    pub fn run_not_found(run_id: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "run_not_found",
            format!("no run has the id `{}`", shorten(run_id)),
        )
    }
}

/// At most 128 characters of a value the client sent, so an error never echoes a huge one.
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() <= 128 {
        s.to_owned()
    } else {
        format!("{}...", s.chars().take(128).collect::<String>())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => ApiError::run_not_found(&id),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            StoreError::Unavailable { .. } => {
                tracing::error!("{e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the run store cannot be written now; nothing was stored, try again later",
                )
            }
            other => {
                tracing::error!("{other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store_failed",
                    "the run store failed; the server's log says why",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if !self.problems.is_empty() {
            error["problems"] = json!(self.problems);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"flowstep\""),
            );
        }
        response
    }
}

/// Any path the API does not have.
pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "there is no route {method} {}; the API is under /v1 (GET /v1/openapi.json describes it)",
            shorten(uri.path())
        ),
    )
}

/// A path the API has, with a method it does not take there.
pub(crate) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method} (GET /v1/openapi.json describes the API)",
            shorten(uri.path())
        ),
    )
}
