//! The Stripe API stand-in: routing of `/v1/...`, authentication, the form body, the
//! idempotency layer, and the Checkout Session endpoints.
//!
//! Order of checks, as Stripe does it: an unknown URL is a 404 even without a key (as
//! `curl https://api.stripe.com` shows); then the API key; then, for POST, the
//! Content-Type, the parameters' syntax and the idempotency key; then the endpoint.

pub(crate) mod auth;
pub(crate) mod checkout;
pub(crate) mod currency;
pub(crate) mod errors;
pub(crate) mod params;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use rand::Rng;
use serde_json::{Value, json};

use crate::idempotency::{self, Claim, ClaimGuard, StoredResponse};
use crate::state::{State, lock};
use errors::ApiError;
use params::Node;

/// `n` random ASCII letters and digits (ids, request ids).
pub(crate) fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// One API request, with its body already read.
pub(crate) struct ApiRequest<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a Bytes,
    pub(crate) request_id: &'a str,
}

/// An API answer: status, JSON body, extra headers (Request-Id and Content-Type are added
/// by the server for every answer).
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
    pub(crate) headers: Vec<(String, String)>,
}

impl ApiResponse {
    pub(crate) fn json(status: u16, value: &Value) -> ApiResponse {
        ApiResponse {
            status,
            body: Bytes::from(serde_json::to_vec_pretty(value).unwrap_or_default()),
            headers: Vec::new(),
        }
    }

    pub(crate) fn error(err: &ApiError) -> ApiResponse {
        ApiResponse::json(err.status, &err.to_json())
    }
}

/// A `Delay` fault, waited for once: after the idempotency key is claimed when there is
/// one (so that a concurrent request with the same key sees 409), else before answering.
pub(crate) struct Delay(Option<Duration>);

impl Delay {
    pub(crate) fn new(d: Option<Duration>) -> Delay {
        Delay(d)
    }

    pub(crate) async fn wait(&mut self) {
        if let Some(d) = self.0.take() {
            tokio::time::sleep(d).await;
        }
    }
}

enum Route<'a> {
    Create,
    List,
    Retrieve(&'a str),
    Expire(&'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix("/v1/checkout/sessions")?;
    let is_id = |s: &str| !s.is_empty() && !s.contains('/');
    match (method, rest) {
        (&Method::POST, "") => Some(Route::Create),
        (&Method::GET, "") => Some(Route::List),
        (&Method::GET, r) => r
            .strip_prefix('/')
            .filter(|id| is_id(id))
            .map(Route::Retrieve),
        (&Method::POST, r) => r
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix("/expire"))
            .filter(|id| is_id(id))
            .map(Route::Expire),
        _ => None,
    }
}

/// Stripe's 404 for an unknown URL (exact texts from real responses).
fn unrecognized(method: &Method, path: &str) -> ApiError {
    let message = if path.ends_with('/') {
        format!(
            "Unrecognized request URL ({method}: {path}). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
        )
    } else {
        format!(
            "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
        )
    };
    ApiError::new(404, "invalid_request_error", message)
}

fn no_such_session(id: &str) -> ApiError {
    // Stripe's "No such <object>: '<id>'" form; the param name is inferred.
    ApiError::resource_missing(404, format!("No such checkout.session: '{id}'"), "session")
}

/// Handles a request to anything that is not an admin or checkout-page route.
pub(crate) async fn handle(
    state: &Arc<State>,
    req: ApiRequest<'_>,
    delay: &mut Delay,
) -> ApiResponse {
    let mut resp = handle_inner(state, &req, delay).await;
    // A delay not yet waited for (an early error) still applies: it is observably the same.
    delay.wait().await;
    if let Some(v) = req.headers.get("stripe-version") {
        resp.headers.push((
            "Stripe-Version".into(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        ));
    }
    resp
}

async fn handle_inner(state: &Arc<State>, req: &ApiRequest<'_>, delay: &mut Delay) -> ApiResponse {
    let Some(route) = route(req.method, req.path) else {
        return ApiResponse::error(&unrecognized(req.method, req.path));
    };
    let api_key = match auth::authenticate(req.headers) {
        Ok(k) => k,
        Err(e) => return ApiResponse::error(&e),
    };
    if let Some(acct) = req.headers.get("stripe-account") {
        // The sandbox has no connected accounts. Inference: Stripe's wording for an
        // account the key cannot act for.
        let acct = String::from_utf8_lossy(acct.as_bytes());
        return ApiResponse::error(&ApiError::new(
            403,
            "invalid_request_error",
            format!(
                "The provided key '{}' does not have access to account '{acct}' (or that account does not exist). Application access may have been revoked.",
                auth::mask_key(&api_key)
            ),
        ));
    }
    match route {
        Route::List => {
            delay.wait().await;
            list(state, req.query)
        }
        Route::Retrieve(id) => {
            delay.wait().await;
            let now = now();
            match lock(&state.sessions).get_mut(id) {
                Some(s) => ApiResponse::json(200, &s.snapshot(now)),
                None => ApiResponse::error(&no_such_session(id)),
            }
        }
        Route::Create | Route::Expire(_) => post(state, req, &api_key, route, delay).await,
    }
}

fn list(state: &Arc<State>, query: Option<&str>) -> ApiResponse {
    let limit = query
        .map(|q| params::decode_pairs(q.as_bytes()))
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "limit"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let now = now();
    let mut sessions = lock(&state.sessions);
    let mut all: Vec<_> = sessions.values_mut().collect();
    // Newest first, as Stripe lists.
    all.sort_by_key(|s| std::cmp::Reverse(s.created()));
    let has_more = all.len() > limit;
    let data: Vec<Value> = all
        .into_iter()
        .take(limit)
        .map(|s| s.snapshot(now))
        .collect();
    ApiResponse::json(
        200,
        &json!({"object": "list", "data": data, "has_more": has_more, "url": "/v1/checkout/sessions"}),
    )
}

/// Checks the Content-Type and decodes the form body. A body-less POST needs no
/// Content-Type (parameters may be absent); anything else must be form-encoded.
fn form_pairs(req: &ApiRequest<'_>) -> Result<Vec<(String, String)>, ApiError> {
    let content_type = req
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_form = content_type.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form && (content_type.is_some() || !req.body.is_empty()) {
        // Stripe's exact text (observed with "text/plain; charset=utf-8").
        return Err(ApiError::invalid(format!(
            "Invalid request: unsupported Content-Type {}. If error persists and you need assistance, please contact support@stripe.com.",
            content_type.unwrap_or_default()
        )));
    }
    Ok(params::decode_pairs(req.body))
}

async fn post(
    state: &Arc<State>,
    req: &ApiRequest<'_>,
    api_key: &str,
    route: Route<'_>,
    delay: &mut Delay,
) -> ApiResponse {
    let pairs = match form_pairs(req) {
        Ok(p) => p,
        Err(e) => return ApiResponse::error(&e),
    };
    let idem_key = req
        .headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .filter(|k| !k.is_empty());
    if let Some(k) = &idem_key
        && k.chars().count() > idempotency::MAX_KEY_LEN
    {
        // Inference: Stripe documents the 255-character limit; the wording is ours.
        return ApiResponse::error(&ApiError::invalid(format!(
            "Invalid Idempotency-Key: keys must be at most {} characters long, this one has {}.",
            idempotency::MAX_KEY_LEN,
            k.chars().count()
        )));
    }
    let tree = match params::build_tree(&pairs) {
        Ok(t) => t,
        Err(e) => return ApiResponse::error(&e),
    };

    let mut guard = None;
    if let Some(key) = &idem_key {
        let scope = (api_key.to_string(), key.clone());
        let fp = idempotency::fingerprint(req.method.as_str(), &pairs);
        let claim = lock(&state.idempotency).claim(&scope, &fp, req.path);
        match claim {
            Claim::New => guard = Some(ClaimGuard::new(state.clone(), scope)),
            Claim::Replay(stored) => {
                let mut resp = ApiResponse {
                    status: stored.status,
                    body: stored.body,
                    headers: Vec::new(),
                };
                resp.headers
                    .push(("Idempotent-Replayed".into(), "true".into()));
                resp.headers
                    .push(("Original-Request".into(), stored.request_id));
                resp.headers.push(("Idempotency-Key".into(), key.clone()));
                return resp;
            }
            Claim::InUse => {
                // Stripe's 409 (type and code from the facts file; message as Stripe
                // words it in its idempotency docs and SDK reports, from memory).
                return ApiResponse::error(
                    &ApiError::new(
                        409,
                        "idempotency_error",
                        format!(
                            "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {key}. Please try again later."
                        ),
                    )
                    .code("idempotency_key_in_use"),
                );
            }
            Claim::ParamsMismatch => {
                // Stripe's exact text (many public reports).
                return ApiResponse::error(&ApiError::new(
                    400,
                    "idempotency_error",
                    format!(
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                    ),
                ));
            }
            Claim::EndpointMismatch(first) => {
                // Stripe's text (reported against stripe-ruby): this endpoint vs the first.
                return ApiResponse::error(&ApiError::new(
                    400,
                    "idempotency_error",
                    format!(
                        "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{}' vs '{first}'). Try using a key other than '{key}' if you meant to execute a different request.",
                        req.path
                    ),
                ));
            }
        }
    }
    delay.wait().await;

    // (response, whether the idempotency layer stores it). Parameter validation failures
    // are not stored; results of an endpoint that ran (even a 404 or a state error) are.
    let (resp, store) = match route {
        Route::Create => match checkout::create(&tree, &state.base_url, now()) {
            Ok(mut session) => {
                let json = session.snapshot(now());
                state.insert_session(session);
                (ApiResponse::json(200, &json), true)
            }
            Err(e) => (ApiResponse::error(&e), false),
        },
        Route::Expire(id) => {
            if let Some(err) = unknown_expire_params(&tree) {
                (ApiResponse::error(&err), false)
            } else {
                let now = now();
                let mut sessions = lock(&state.sessions);
                match sessions.get_mut(id) {
                    None => (ApiResponse::error(&no_such_session(id)), true),
                    Some(s) => match s.expire(now) {
                        Ok(json) => (ApiResponse::json(200, &json), true),
                        Err(e) => (ApiResponse::error(&e), true),
                    },
                }
            }
        }
        Route::List | Route::Retrieve(_) => unreachable!("GET routes are not POSTed"),
    };
    let mut resp = resp;
    if let Some(guard) = guard {
        resp.headers
            .push(("Idempotency-Key".into(), idem_key.unwrap_or_default()));
        resp.headers
            .push(("Original-Request".into(), req.request_id.to_string()));
        if store {
            guard.complete(StoredResponse {
                status: resp.status,
                body: resp.body.clone(),
                request_id: req.request_id.to_string(),
            });
        }
        // Otherwise dropping the guard releases the key for a corrected retry.
    }
    resp
}

/// `expire` takes only `expand`.
fn unknown_expire_params(tree: &[(String, Node)]) -> Option<ApiError> {
    tree.iter()
        .find(|(k, _)| k != "expand")
        .map(|(k, _)| ApiError::unknown(k))
}
