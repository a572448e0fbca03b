//! Extractors whose rejections are [`ApiError`]s (JSON bodies), not axum's plain text.

use super::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Read as a JSON value first: serde would take an array for a struct, field by
        // position, and every body of this API is an object.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) => return Err(json_rejection(e)),
        };
        if !value.is_object() {
            return Err(ApiError::unprocessable(
                "invalid_body",
                "the body must be a JSON object, like {\"flow\": \"stripe-checkout\", \"inputs\": {...}}",
            ));
        }
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|e| {
                // Which field, when it is one (`flow`, `inputs`); a missing or unknown field
                // names itself.
                let inner = e.inner().to_string();
                let at = match e.path().to_string() {
                    p if p == "." || inner.contains(&format!("`{p}`")) => String::new(),
                    p => format!("`{p}`: "),
                };
                ApiError::unprocessable(
                    "invalid_body",
                    format!("the body does not have the expected fields: {at}{inner}"),
                )
            })
    }
}

/// Answers `413` at once for a body whose declared `Content-Length` is over the limit,
/// instead of reading (or asking with `100 Continue` for) what would be refused.
pub(crate) async fn refuse_declared_too_large(
    axum::extract::State(max): axum::extract::State<usize>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => {
            if let Some(provider) = req.uri().path().strip_prefix("/webhooks/") {
                tracing::warn!(
                    provider,
                    status = 413,
                    code = "body_too_large",
                    "webhook refused, nothing stored: the declared body of {n} bytes is over the {max}-byte limit"
                );
            }
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the body is {n} bytes, over the server's limit of {max} bytes (serve --max-body-bytes)"
                ),
            )
            .into_response()
        }
        _ => next.run(req).await,
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON, sent with `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(format!(
            "the body is not valid JSON: {}",
            cause(&e.body_text())
        )),
        JsonRejection::JsonDataError(e) => ApiError::unprocessable(
            "invalid_body",
            format!(
                "the body does not have the expected fields: {}",
                cause(&e.body_text())
            ),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is larger than the server takes (serve --max-body-bytes)",
            )
        }
        other => {
            ApiError::bad_request(format!("the body could not be read: {}", other.body_text()))
        }
    }
}

/// A query string.
pub(crate) struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(QueryParams(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> ApiError {
    ApiError::bad_request(format!(
        "the query string is wrong: {}",
        cause(&e.body_text())
    ))
}

/// The `{run_id}` of a path. A path segment that does not decode (percent-escapes of bytes
/// that are not UTF-8, `%FF`) names no run: `404 run_not_found`, like any other id no run
/// has, as JSON (axum's own rejection is a plain-text `400` the API does not document).
pub(crate) struct RunIdPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RunIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(RunIdPath(id)),
            Err(e) => Err(path_rejection(e)),
        }
    }
}

fn path_rejection(e: PathRejection) -> ApiError {
    tracing::debug!("run id not read from the path: {}", e.body_text());
    ApiError::new(
        StatusCode::NOT_FOUND,
        "run_not_found",
        "no run has the id in this path: it is not UTF-8 once its %-escapes are decoded",
    )
}

/// axum's rejection text without its own lead-in (`Failed to parse the request body as
/// JSON: `), which only repeats what our message already says: the cause alone.
fn cause(text: &str) -> &str {
    const LEAD_INS: [&str; 3] = [
        "Failed to parse the request body as JSON: ",
        "Failed to deserialize the JSON body into the target type: ",
        "Failed to deserialize query string: ",
    ];
    LEAD_INS
        .iter()
        .find_map(|lead| text.strip_prefix(lead))
        .unwrap_or(text)
}
