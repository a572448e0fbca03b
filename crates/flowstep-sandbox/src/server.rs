//! The HTTP server: accept loop, per-connection hyper http1 service, request reading and
//! recording, fault application, and routing to the admin, hosted-page and API handlers
//! (Stripe, Razorpay and WhatsApp share the port; their paths do not overlap).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::faults::FaultAction;
use crate::state::{RecordedRequest, State};
use crate::stripe::errors::{ApiError, default_fault_body};
use crate::stripe::{self, ApiRequest, ApiResponse, Delay, params, random_alnum};
use crate::{admin, checkout_page, razorpay, whatsapp};

/// Largest request body read (1 MiB); Stripe's own limit is not documented, and no Checkout
/// request comes near it.
const MAX_BODY: usize = 1024 * 1024;

/// Returned from the service to make hyper close the connection without writing a single
/// response byte: the `CloseBeforeProcessing` and `DropResponse` faults.
#[derive(Debug)]
struct CloseConnection;

impl std::fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by an injected sandbox fault")
    }
}

impl std::error::Error for CloseConnection {}

/// `http://HOST:PORT` for a bound address; an unspecified address is reported as loopback
/// since that is where a local client can reach it.
pub(crate) fn base_url_for(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => {
            let ip = if a.ip().is_unspecified() {
                std::net::Ipv4Addr::LOCALHOST
            } else {
                *a.ip()
            };
            format!("http://{ip}:{}", a.port())
        }
        SocketAddr::V6(a) => {
            let ip = if a.ip().is_unspecified() {
                std::net::Ipv6Addr::LOCALHOST
            } else {
                *a.ip()
            };
            format!("http://[{ip}]:{}", a.port())
        }
    }
}

/// Accepts connections until the shutdown sender is dropped.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // E.g. too many open files: back off briefly instead of spinning.
                tracing::warn!("sandbox accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = state.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { serve(state, req).await }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                // Errors here are client disconnects and injected closes: nothing to do.
                _ = conn => {}
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}

fn request_id() -> String {
    format!("req_{}", random_alnum(14))
}

/// Turns an answer into a hyper response, adding the headers every answer carries.
fn finish(resp: ApiResponse, request_id: &str) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Request-Id", request_id);
    let has_content_type = resp
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if !has_content_type && resp.status != 204 {
        builder = builder.header("Content-Type", "application/json");
    }
    for (k, v) in &resp.headers {
        // A fault's header that is not valid HTTP is skipped rather than failing the answer.
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            builder = builder.header(name, value);
        }
    }
    builder
        .body(Full::new(resp.body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A `Status` fault's default body, in the envelope of the API the path belongs to.
fn fault_body_for(path: &str, status: u16) -> serde_json::Value {
    if razorpay::owns(path) {
        razorpay::errors::default_fault_body(status)
    } else if whatsapp::route(path).is_some() {
        whatsapp::errors::default_fault_body(status)
    } else {
        default_fault_body(status)
    }
}

async fn serve(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, CloseConnection> {
    let request_id = request_id();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let admin = admin::is_admin(&path);

    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(())
        }
        // The client went away mid-body: there is no one to answer.
        Err(_) => return Err(CloseConnection),
    };

    if !admin {
        let content_type = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
        let body_bytes = body.as_ref().map(|b| b.as_ref()).unwrap_or_default();
        let form = content_type
            .filter(|ct| ct.starts_with("application/x-www-form-urlencoded"))
            .map(|_| params::decode_pairs(body_bytes));
        state.record(RecordedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: query.clone(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(body_bytes).into_owned(),
            form,
        });
    }

    let Ok(body) = body else {
        // Inference: none of the three APIs documents its wording for an oversized body;
        // each answers in its own envelope.
        let text = format!("Request body too large: the sandbox accepts at most {MAX_BODY} bytes.");
        let resp = if razorpay::owns(&path) {
            let mut err = razorpay::errors::RzpError::bad_request(text);
            err.status = 413;
            ApiResponse::json(413, &err.to_json())
        } else if whatsapp::route(&path).is_some() {
            let mut err = whatsapp::errors::GraphError::param(text);
            err.status = 413;
            err.response()
        } else {
            ApiResponse::error(&ApiError::new(413, "invalid_request_error", text))
        };
        return Ok(finish(resp, &request_id));
    };

    if admin {
        let resp = admin::handle(&state, &parts.method, &path, &body);
        return Ok(finish(resp, &request_id));
    }

    let mut delay = None;
    let mut drop_response = false;
    match state.take_fault(&path) {
        None => {}
        Some(FaultAction::Status {
            status,
            body,
            headers,
        }) => {
            let body = body.unwrap_or_else(|| fault_body_for(&path, status));
            let mut resp = ApiResponse::json(status, &body);
            resp.headers = headers;
            return Ok(finish(resp, &request_id));
        }
        Some(FaultAction::Delay { ms }) => delay = Some(Duration::from_millis(ms)),
        Some(FaultAction::CloseBeforeProcessing) => return Err(CloseConnection),
        Some(FaultAction::DropResponse) => drop_response = true,
    }
    let mut delay = Delay::new(delay);

    let resp = if path == admin::ECHO_PATH {
        delay.wait().await;
        admin::echo(
            &parts.method,
            &path,
            query.as_deref(),
            &parts.headers,
            &body,
        )
    } else if path.starts_with(checkout_page::PREFIX) {
        delay.wait().await;
        checkout_page::handle(&state, &parts.method, &path)
    } else if path.starts_with(razorpay::page::PREFIX) {
        delay.wait().await;
        razorpay::page::handle(&state, &parts.method, &path)
    } else {
        let api_req = ApiRequest {
            method: &parts.method,
            path: &path,
            query: query.as_deref(),
            headers: &parts.headers,
            body: &body,
            request_id: &request_id,
        };
        if razorpay::owns(&path) {
            delay.wait().await;
            razorpay::handle(&state, &api_req)
        } else if let Some(route) = whatsapp::route(&path) {
            delay.wait().await;
            whatsapp::handle(&state, &api_req, route)
        } else {
            stripe::handle(&state, api_req, &mut delay).await
        }
    };
    if drop_response {
        return Err(CloseConnection);
    }
    Ok(finish(resp, &request_id))
}
