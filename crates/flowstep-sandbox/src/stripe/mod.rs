//! The Stripe API stand-in: its state, its routes, and the Checkout Session endpoints with
//! Stripe's idempotency layer in front of the POSTs.
//!
//! Order of checks, as Stripe does it: an unknown URL is a 404 even without a key (as
//! `curl https://api.stripe.com` shows); then the API key and the `Stripe-Version` header
//! (inferred order: a version is only read for an authenticated account); then, for POST, the
//! Content-Type, the parameters' syntax and the idempotency key; then the endpoint. The
//! router does the first, the [`ApiKey`] and [`Post`] extractors the next ones in that
//! order, the handlers the rest.

pub(crate) mod auth;
pub(crate) mod checkout;
pub(crate) mod currency;
pub(crate) mod errors;
pub(crate) mod events;
pub(crate) mod expiry;
pub(crate) mod idempotency;
pub(crate) mod params;
pub(crate) mod suggest;
pub(crate) mod version;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::{self, Delay, RawId, RequestId, form_pairs, has_media_type, header, lock};
use crate::api::{now, refuse};
use crate::events::Outbox;
use auth::ApiKey;
use checkout::Session;
use errors::ApiError;
use idempotency::{Claim, ClaimGuard, IdempotencyStore, StoredResponse};
use params::Node;

/// Stripe's side of the sandbox: the account's Checkout Sessions and idempotency keys.
#[derive(Default)]
pub(crate) struct StripeState {
    /// The sandbox's, for the sessions' `url`.
    pub(crate) base_url: String,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    pub(crate) idempotency: Arc<Mutex<IdempotencyStore>>,
}

impl StripeState {
    /// How many sessions were really created (idempotent replays do not count; sessions
    /// are never removed).
    pub(crate) fn sessions_created(&self) -> usize {
        lock(&self.sessions).len()
    }
}

type Stripe = State<Arc<StripeState>>;

/// Stripe's routes. A URL no API serves is Stripe's too (it was the sandbox's first API),
/// so the fallback is its "Unrecognized request URL".
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<StripeState>: FromRef<S>,
    Arc<Outbox>: FromRef<S>,
{
    let route = || refuse(unrecognized);
    Router::new()
        .route("/v1/checkout/sessions", route().get(list).post(create))
        .route("/v1/checkout/sessions/{id}", route().get(retrieve))
        .route("/v1/checkout/sessions/{id}/expire", route().post(expire))
        // A capture may be empty before a static suffix; an empty id is no URL of Stripe's.
        .route("/v1/checkout/sessions//expire", route())
        .fallback(unrecognized)
        .layer(from_fn(echo_version))
}

/// Stripe names the API version a request asked for on every answer.
async fn echo_version(req: Request, next: Next) -> Response {
    let version = req.headers().get("stripe-version").cloned();
    versioned(version, next.run(req).await)
}

fn versioned(version: Option<HeaderValue>, mut resp: Response) -> Response {
    if let Some(v) = version.filter(|v| v.to_str().is_ok()) {
        resp.headers_mut().append("stripe-version", v);
    }
    resp
}

/// Stripe's 404 for a path another API's route pattern matched but that API does not serve.
pub(crate) fn not_found(method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let answer = unrecognized_url(method, uri.path()).into_response();
    versioned(headers.get("stripe-version").cloned(), answer)
}

async fn unrecognized(method: Method, uri: Uri) -> ApiError {
    unrecognized_url(&method, uri.path())
}

/// Stripe's 404 for an unknown URL (exact texts from real responses).
fn unrecognized_url(method: &Method, path: &str) -> ApiError {
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

async fn list(State(stripe): Stripe, _: ApiKey, uri: Uri) -> Response {
    let pairs = uri
        .query()
        .map(|q| form_pairs(q.as_bytes()))
        .unwrap_or_default();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let limit = param("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let now = now();
    let mut sessions = lock(&stripe.sessions);
    let mut all: Vec<_> = sessions.values_mut().collect();
    // Newest first, as Stripe lists; the id orders sessions of the same second, so that a
    // cursor names one place.
    all.sort_by(|a, b| {
        b.created()
            .cmp(&a.created())
            .then_with(|| a.id().cmp(b.id()))
    });
    // Stripe's cursor pagination: the page after the object `starting_after` names
    // (https://docs.stripe.com/api/pagination).
    if let Some(after) = param("starting_after") {
        match all.iter().position(|s| s.id() == after) {
            Some(i) => {
                all.drain(..=i);
            }
            None => return no_such_session(&after).into_response(),
        }
    }
    let has_more = all.len() > limit;
    let data: Vec<Value> = all
        .into_iter()
        .take(limit)
        .map(|s| s.snapshot(now))
        .collect();
    let url = "/v1/checkout/sessions";
    api::json(
        200,
        &json!({"object": "list", "data": data, "has_more": has_more, "url": url}),
    )
}

async fn retrieve(State(stripe): Stripe, _: ApiKey, RawId(id): RawId) -> Response {
    let now = now();
    match lock(&stripe.sessions).get_mut(&id) {
        Some(s) => api::json(200, &s.snapshot(now)),
        None => no_such_session(&id).into_response(),
    }
}

async fn create(State(stripe): Stripe, post: Post) -> Response {
    idempotent(&stripe, post, |stripe, tree| {
        match checkout::create(tree, &stripe.base_url, now()) {
            Ok(mut session) => {
                let json = session.snapshot(now());
                lock(&stripe.sessions).insert(session.id().to_string(), session);
                (Ok(json), true)
            }
            Err(e) => (Err(e), false),
        }
    })
    .await
}

/// `POST /v1/checkout/sessions/{id}/expire`; an expired session sends
/// `checkout.session.expired` (a replay of the same request sends nothing more).
async fn expire(
    State(stripe): Stripe,
    State(outbox): State<Arc<Outbox>>,
    RawId(id): RawId,
    post: Post,
) -> Response {
    let request_id = post.request_id.0.clone();
    let idempotency_key = post.idempotency_key.clone();
    idempotent(&stripe, post, |stripe, tree| {
        // `expire` takes only `expand`.
        if let Some((k, _)) = tree.iter().find(|(k, _)| k != "expand") {
            return (Err(ApiError::unknown_among(k, k, &["expand"])), false);
        }
        let now = now();
        let mut sessions = lock(&stripe.sessions);
        let Some(session) = sessions.get_mut(&id) else {
            return (Err(no_such_session(&id)), true);
        };
        let expired = session.expire(now);
        if expired.is_ok() {
            let cause = events::Cause {
                request_id: &request_id,
                idempotency_key: idempotency_key.as_deref(),
            };
            outbox.emit(events::session_event("expired", session, now, Some(cause)));
        }
        (expired, true)
    })
    .await
}

/// A POST, checked in Stripe's order: the key, then the Content-Type, the idempotency
/// key's length and the parameters' syntax. The rejection is Stripe's answer.
struct Post {
    key: String,
    path: String,
    request_id: RequestId,
    delay: Delay,
    pairs: Vec<(String, String)>,
    tree: Vec<(String, Node)>,
    idempotency_key: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for Post {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let ApiKey(key) = ApiKey::from_request_parts(&mut parts, state).await?;
        // The middleware has read the whole body already, under the limit.
        let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
        // A body-less POST needs no Content-Type (parameters may be absent); anything else
        // must be form-encoded.
        let content_type = header(&parts.headers, CONTENT_TYPE);
        let is_form = has_media_type(&parts.headers, "application/x-www-form-urlencoded");
        if !is_form && (content_type.is_some() || !body.is_empty()) {
            // Stripe's exact text (observed with "text/plain; charset=utf-8").
            return Err(ApiError::invalid(format!(
                "Invalid request: unsupported Content-Type {}. If error persists and you need assistance, please contact support@stripe.com.",
                content_type.unwrap_or_default()
            )));
        }
        let pairs = form_pairs(&body);
        let idempotency_key = header(&parts.headers, "idempotency-key").filter(|k| !k.is_empty());
        if let Some(k) = &idempotency_key
            && k.chars().count() > idempotency::MAX_KEY_LEN
        {
            // Inference: Stripe documents the 255-character limit; the wording is ours.
            return Err(ApiError::invalid(format!(
                "Invalid Idempotency-Key: keys must be at most {} characters long, this one has {}.",
                idempotency::MAX_KEY_LEN,
                k.chars().count()
            )));
        }
        Ok(Post {
            key,
            path: parts.uri.path().to_string(),
            request_id: parts.extensions.get().cloned().unwrap_or_default(),
            delay: parts.extensions.get().cloned().unwrap_or_default(),
            tree: params::build_tree(&pairs)?,
            pairs,
            idempotency_key,
        })
    }
}

/// What a POST endpoint answers, and whether the idempotency layer stores it: results of an
/// endpoint that ran are stored (even a 404 or a state error), parameter validation
/// failures are not, so that a corrected retry may use the same key.
type Outcome = (Result<Value, ApiError>, bool);

/// Runs a POST endpoint under the request's idempotency key, if it has one (Stripe's rules
/// are in [`idempotency`]). A `Delay` fault is waited for after the key is claimed.
async fn idempotent(
    stripe: &StripeState,
    post: Post,
    endpoint: impl FnOnce(&StripeState, &[(String, Node)]) -> Outcome,
) -> Response {
    let mut guard = None;
    if let Some(key) = &post.idempotency_key {
        let scope = (post.key.clone(), key.clone());
        let fingerprint = idempotency::fingerprint("POST", &post.pairs);
        let claim = lock(&stripe.idempotency).claim(&scope, &fingerprint, &post.path);
        let refusal = match claim {
            Claim::New => {
                guard = Some(ClaimGuard::new(stripe.idempotency.clone(), scope));
                None
            }
            Claim::Replay(stored) => {
                let mut resp = api::json_answer(stored.status, stored.body);
                add_header(&mut resp, "idempotent-replayed", "true");
                add_header(&mut resp, "original-request", &stored.request_id);
                add_header(&mut resp, "idempotency-key", key);
                return resp;
            }
            Claim::InUse => {
                // Stripe's 409 (type and code from the facts file; message as Stripe words
                // it in its idempotency docs and SDK reports, from memory).
                let message = format!(
                    "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {key}. Please try again later."
                );
                Some((409, message, Some("idempotency_key_in_use")))
            }
            // Stripe's exact text (many public reports).
            Claim::ParamsMismatch => Some((
                400,
                format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
                None,
            )),
            Claim::EndpointMismatch(first) => {
                // Stripe's text (reported against stripe-ruby): this endpoint vs the first.
                let message = format!(
                    "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{}' vs '{first}'). Try using a key other than '{key}' if you meant to execute a different request.",
                    post.path
                );
                Some((400, message, None))
            }
        };
        if let Some((status, message, code)) = refusal {
            let mut err = ApiError::new(status, "idempotency_error", message);
            err.code = code;
            return err.into_response();
        }
    }
    post.delay.wait().await;

    let (result, store) = endpoint(stripe, &post.tree);
    let (status, body) = match result {
        Ok(v) => (200, api::json_bytes(&v)),
        Err(e) => (e.status, api::json_bytes(&e.to_json())),
    };
    let mut resp = api::json_answer(status, body.clone());
    if let (Some(guard), Some(key)) = (guard, &post.idempotency_key) {
        add_header(&mut resp, "idempotency-key", key);
        add_header(&mut resp, "original-request", &post.request_id.0);
        let request_id = post.request_id.0;
        if store {
            guard.complete(StoredResponse {
                status,
                body,
                request_id,
            });
        }
        // Otherwise dropping the guard releases the key for a corrected retry.
    }
    resp
}

/// Adds a header, leaving out a value HTTP cannot carry (a client's odd idempotency key).
fn add_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        resp.headers_mut().append(name, value);
    }
}
