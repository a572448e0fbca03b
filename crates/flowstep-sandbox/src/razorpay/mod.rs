//! The Razorpay Payment Links stand-in: its state, its routes, Basic authentication, the
//! JSON body, and the create, fetch and cancel endpoints.
//!
//! Razorpay's API host is routed to the same port as Stripe's; the paths do not overlap
//! (`/v1/payment_links...` here, `/v1/checkout/...` for Stripe). Order of checks: a method
//! or path under `/v1/payment_links` that Razorpay does not serve gets its "requested URL
//! was not found" answer (the router); then the credentials (the [`Credentials`]
//! extractor); then, for create, the body and its fields (the handler).
//!
//! Credentials: built in (`run --sandbox`, tests), only the pair [`SANDBOX_RAZORPAY_KEY_ID`] /
//! [`SANDBOX_RAZORPAY_KEY_SECRET`] is accepted, the way a real account has one valid secret
//! per key id, so a flow with a wrong or missing secret fails here as against Razorpay. The
//! standalone `flowstep sandbox` also takes any `rzp_test_` id with a non-empty secret (as
//! stripe-mock takes any key), so that one's own test keys work as they are; the callback
//! signatures of a link are then made with the secret it was created with. Live key ids
//! (`rzp_live_`) are always refused.

pub(crate) mod errors;
pub(crate) mod events;
pub(crate) mod payment_link;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value};

use crate::api::{self, RawId, has_media_type, header, lock, now, refuse};
use errors::RzpError;
use payment_link::PaymentLink;

/// The Razorpay key id the sandbox accepts (HTTP Basic user name).
///
/// Only this id with [`SANDBOX_RAZORPAY_KEY_SECRET`] authenticates: like a real account,
/// the sandbox has one valid secret per key id, so a flow that sends a wrong or empty
/// secret fails here as it would against Razorpay.
pub const SANDBOX_RAZORPAY_KEY_ID: &str = "rzp_test_flowstepSandbox1";

/// The Razorpay key secret that goes with [`SANDBOX_RAZORPAY_KEY_ID`] (HTTP Basic
/// password; 24 characters, like Razorpay's secrets).
pub const SANDBOX_RAZORPAY_KEY_SECRET: &str = "flowstepSandboxSecret024";

/// Razorpay's side of the sandbox: the account's payment links.
#[derive(Default)]
pub(crate) struct RazorpayState {
    /// The sandbox's, for the links' `short_url`.
    pub(crate) base_url: String,
    /// Whether any `rzp_test_` key id with a non-empty secret authenticates (the standalone
    /// sandbox), not only the sandbox's own pair.
    pub(crate) any_test_key: std::sync::atomic::AtomicBool,
    pub(crate) links: Mutex<LinkStore>,
}

impl RazorpayState {
    /// How many links were created (refused creates do not count; links are never removed).
    pub(crate) fn links_created(&self) -> usize {
        lock(&self.links).links.len()
    }
}

/// The account's payment links, by id, by short-url code, and the reference ids used.
#[derive(Debug, Default)]
pub(crate) struct LinkStore {
    links: HashMap<String, PaymentLink>,
    by_code: HashMap<String, String>,
    reference_ids: HashSet<String>,
}

impl LinkStore {
    fn insert(&mut self, link: PaymentLink, reference_id: Option<String>) {
        if let Some(r) = reference_id {
            self.reference_ids.insert(r);
        }
        self.by_code
            .insert(link.short_code.clone(), link.id().to_string());
        self.links.insert(link.id().to_string(), link);
    }

    pub(crate) fn by_code_mut(&mut self, code: &str) -> Option<&mut PaymentLink> {
        let id = self.by_code.get(code)?;
        self.links.get_mut(id)
    }
}

type Razorpay = State<Arc<RazorpayState>>;
type Answer = Result<Response, RzpError>;

/// Razorpay's routes; the collection path also takes a trailing slash, as Razorpay's own
/// examples POST to it.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<RazorpayState>: FromRef<S>,
{
    let route = || refuse(not_found);
    Router::new()
        .route("/v1/payment_links", route().get(list).post(create))
        .route("/v1/payment_links/", route().get(list).post(create))
        .route("/v1/payment_links/{id}", route().get(fetch))
        .route("/v1/payment_links/{id}/cancel", route().post(cancel))
        // A capture may be empty before a static suffix; an empty id is no URL either.
        .route("/v1/payment_links//cancel", route())
        // Every other path under the collection is Razorpay's too, answered "not found".
        .nest("/v1/payment_links", Router::new().fallback(not_found))
}

async fn not_found() -> RzpError {
    RzpError::bad_request(errors::NOT_FOUND_DESCRIPTION)
}

/// A request with credentials the sandbox takes (key id as user, key secret as password):
/// the secret, which signs the callbacks of the links it creates. The rejection is
/// Razorpay's answer, or for a live key id the sandbox's own.
struct Credentials(String);

impl<S: Send + Sync> FromRequestParts<S> for Credentials
where
    Arc<RazorpayState>: FromRef<S>,
{
    type Rejection = RzpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, RzpError> {
        let Some(value) = header(&parts.headers, AUTHORIZATION) else {
            return Err(RzpError::unauthorized(errors::NO_KEY_DESCRIPTION));
        };
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            // Inference: a header Razorpay cannot read as key credentials is a failed
            // authentication (OAuth bearer tokens belong to partner apps, not modelled here).
            return Err(RzpError::unauthorized(errors::AUTH_FAILED_DESCRIPTION));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        let (id, secret) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
        if id.starts_with("rzp_live_") {
            return Err(RzpError::unauthorized(errors::LIVE_KEY_DESCRIPTION));
        }
        let any = Arc::<RazorpayState>::from_ref(state)
            .any_test_key
            .load(std::sync::atomic::Ordering::Relaxed);
        let own = id == SANDBOX_RAZORPAY_KEY_ID && secret == SANDBOX_RAZORPAY_KEY_SECRET;
        let test_key =
            id.len() > "rzp_test_".len() && id.starts_with("rzp_test_") && !secret.is_empty();
        if own || (any && test_key) {
            Ok(Credentials(secret.to_owned()))
        } else {
            Err(RzpError::unauthorized(errors::AUTH_FAILED_DESCRIPTION))
        }
    }
}

/// Parses the create body. Razorpay's Payment Links service reads JSON only: a
/// form-encoded body is answered "syntax error but provided amount=100..." (quoted in
/// razorpay-ruby issue #261), which the sandbox reproduces for any body that is not a JSON
/// object. A JSON body under another Content-Type is refused too (inferred wording): the
/// SDKs all send `application/json`, and a flow should as well.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, RzpError> {
    let parsed: Option<Map<String, Value>> = if body.is_empty() {
        Some(Map::new())
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        }
    };
    let Some(map) = parsed else {
        let text = String::from_utf8_lossy(body);
        // The cap is the sandbox's, to keep hostile bodies out of the answer.
        let shown: String = text.chars().take(200).collect();
        return Err(RzpError::bad_request(format!(
            "syntax error but provided {shown}"
        )));
    };
    if !has_media_type(headers, "application/json") && !body.is_empty() {
        return Err(RzpError::bad_request(format!(
            "Content-Type must be application/json, got {}",
            header(headers, CONTENT_TYPE).as_deref().unwrap_or("none")
        )));
    }
    Ok(map)
}

async fn create(
    State(rzp): Razorpay,
    Credentials(secret): Credentials,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let now = now();
    let new = payment_link::validate(&json_body(&headers, &body)?, now)?;
    let mut store = lock(&rzp.links);
    if let Some(r) = &new.reference_id
        && store.reference_ids.contains(r)
    {
        // The reference's Errors list. A reference id stays used even after its link is
        // cancelled or expires (stricter: the reference says it "must be a unique number
        // for each Payment Link").
        return Err(RzpError::field(
            "payment link creation with reference ID already attempted",
            "reference_id",
        ));
    }
    let reference_id = new.reference_id.clone();
    let mut link = new.build(&rzp.base_url, now, secret);
    let json = link.snapshot(now);
    store.insert(link, reference_id);
    Ok(api::json(200, &json))
}

/// `GET /v1/payment_links[?reference_id=...]`: Razorpay's "Fetch all Payment Links", answered
/// `{"payment_links": [...]}`, newest first; `reference_id` keeps the links created with it
/// (https://razorpay.com/docs/api/payments/payment-links/fetch-all-standard/; facts file). A
/// reference nothing was created with is an empty list, not an error.
async fn list(State(rzp): Razorpay, _: Credentials, uri: Uri) -> Answer {
    let pairs = uri
        .query()
        .map(|q| api::form_pairs(q.as_bytes()))
        .unwrap_or_default();
    let reference_id = pairs
        .iter()
        .find(|(k, _)| k == "reference_id")
        .map(|(_, v)| v.as_str());
    let now = now();
    let mut store = lock(&rzp.links);
    let mut links: Vec<Value> = store
        .links
        .values_mut()
        .filter(|l| reference_id.is_none_or(|r| l.reference_id() == Some(r)))
        .map(|l| l.snapshot(now))
        .collect();
    links.sort_by(|a, b| {
        b["created_at"]
            .as_i64()
            .cmp(&a["created_at"].as_i64())
            .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
    });
    Ok(api::json(
        200,
        &serde_json::json!({ "payment_links": links }),
    ))
}

async fn fetch(State(rzp): Razorpay, _: Credentials, RawId(id): RawId) -> Answer {
    let now = now();
    let mut store = lock(&rzp.links);
    let link = store.links.get_mut(&id).ok_or_else(RzpError::no_such_id)?;
    Ok(api::json(200, &link.snapshot(now)))
}

async fn cancel(State(rzp): Razorpay, _: Credentials, RawId(id): RawId) -> Answer {
    let now = now();
    let mut store = lock(&rzp.links);
    let link = store.links.get_mut(&id).ok_or_else(RzpError::no_such_id)?;
    Ok(api::json(200, &link.cancel(now)?))
}
