//! The Razorpay Payment Links stand-in: routing of `/v1/payment_links`, Basic
//! authentication, the JSON body, and the create, fetch and cancel endpoints.
//!
//! Razorpay's API host is routed to the same port as Stripe's; the paths do not overlap
//! (`/v1/payment_links...` here, `/v1/checkout/...` for Stripe). Order of checks: a method
//! or path under `/v1/payment_links` that Razorpay does not serve gets its "requested URL
//! was not found" answer; then the credentials; then, for create, the body and its fields.
//!
//! Credentials: only the pair [`crate::SANDBOX_RAZORPAY_KEY_ID`] /
//! [`crate::SANDBOX_RAZORPAY_KEY_SECRET`] is accepted, the way a real account has one
//! valid secret per key id. Accepting any `rzp_test_` id with any secret would make a
//! flow with a wrong or missing secret pass here and fail against Razorpay.

pub(crate) mod errors;
pub(crate) mod page;
pub(crate) mod payment_link;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use hyper::{HeaderMap, Method};
use serde_json::{Map, Value};

use crate::state::{State, lock};
use crate::stripe::{ApiRequest, ApiResponse, now};
use errors::RzpError;
use payment_link::PaymentLink;

/// The collection path; Razorpay's own examples POST to it with a trailing slash.
const COLLECTION: &str = "/v1/payment_links";

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

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut PaymentLink> {
        self.links.get_mut(id)
    }

    pub(crate) fn by_code_mut(&mut self, code: &str) -> Option<&mut PaymentLink> {
        let id = self.by_code.get(code)?;
        self.links.get_mut(id)
    }
}

/// Is this a Razorpay API path (so neither Stripe's nor WhatsApp's)?
pub(crate) fn owns(path: &str) -> bool {
    path == COLLECTION || path.starts_with("/v1/payment_links/")
}

enum Route<'a> {
    Create,
    Fetch(&'a str),
    Cancel(&'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix(COLLECTION)?;
    let is_id = |s: &str| !s.is_empty() && !s.contains('/');
    match (method, rest) {
        (&Method::POST, "" | "/") => Some(Route::Create),
        (&Method::GET, r) => r.strip_prefix('/').filter(|id| is_id(id)).map(Route::Fetch),
        (&Method::POST, r) => r
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix("/cancel"))
            .filter(|id| is_id(id))
            .map(Route::Cancel),
        _ => None,
    }
}

/// Checks HTTP Basic credentials (key id as user, key secret as password).
fn authenticate(headers: &HeaderMap) -> Result<(), RzpError> {
    let Some(value) = headers.get(hyper::header::AUTHORIZATION) else {
        return Err(RzpError::unauthorized(errors::NO_KEY_DESCRIPTION));
    };
    let value = String::from_utf8_lossy(value.as_bytes());
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
    if id == crate::SANDBOX_RAZORPAY_KEY_ID && secret == crate::SANDBOX_RAZORPAY_KEY_SECRET {
        Ok(())
    } else {
        Err(RzpError::unauthorized(errors::AUTH_FAILED_DESCRIPTION))
    }
}

/// Parses the create body. Razorpay's Payment Links service reads JSON only: a
/// form-encoded body is answered "syntax error but provided amount=100..." (quoted in
/// razorpay-ruby issue #261), which the sandbox reproduces for any body that is not a JSON
/// object. A JSON body under another Content-Type is refused too (inferred wording): the
/// SDKs all send `application/json`, and a flow should as well.
fn json_body(req: &ApiRequest<'_>) -> Result<Map<String, Value>, RzpError> {
    let parsed: Option<Map<String, Value>> = if req.body.is_empty() {
        Some(Map::new())
    } else {
        serde_json::from_slice::<Value>(req.body)
            .ok()
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
    };
    let Some(map) = parsed else {
        let text = String::from_utf8_lossy(req.body);
        // The cap is the sandbox's, to keep hostile bodies out of the answer.
        let shown: String = text.chars().take(200).collect();
        return Err(RzpError::bad_request(format!(
            "syntax error but provided {shown}"
        )));
    };
    let content_type = req
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_json = content_type.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    });
    if !is_json && !req.body.is_empty() {
        return Err(RzpError::bad_request(format!(
            "Content-Type must be application/json, got {}",
            content_type.as_deref().unwrap_or("none")
        )));
    }
    Ok(map)
}

/// Handles a request to a path [`owns`] accepts.
pub(crate) fn handle(state: &Arc<State>, req: &ApiRequest<'_>) -> ApiResponse {
    match handle_inner(state, req) {
        Ok(v) => ApiResponse::json(200, &v),
        Err(e) => ApiResponse::json(e.status, &e.to_json()),
    }
}

fn handle_inner(state: &Arc<State>, req: &ApiRequest<'_>) -> Result<Value, RzpError> {
    let route = route(req.method, req.path)
        .ok_or_else(|| RzpError::bad_request(errors::NOT_FOUND_DESCRIPTION))?;
    authenticate(req.headers)?;
    let now = now();
    match route {
        Route::Create => {
            let body = json_body(req)?;
            let new = payment_link::validate(&body, now)?;
            let mut store = lock(&state.payment_links);
            if let Some(r) = &new.reference_id
                && store.reference_ids.contains(r)
            {
                // The reference's Errors list. A reference id stays used even after its
                // link is cancelled or expires (stricter: the reference says it "must be a
                // unique number for each Payment Link").
                return Err(RzpError::field(
                    "payment link creation with reference ID already attempted",
                    "reference_id",
                ));
            }
            let reference_id = new.reference_id.clone();
            let mut link = new.build(&state.base_url, now);
            let json = link.snapshot(now);
            store.insert(link, reference_id);
            drop(store);
            state.count_payment_link();
            Ok(json)
        }
        Route::Fetch(id) => lock(&state.payment_links)
            .get_mut(id)
            .map(|l| l.snapshot(now))
            .ok_or_else(RzpError::no_such_id),
        Route::Cancel(id) => match lock(&state.payment_links).get_mut(id) {
            Some(l) => l.cancel(now),
            None => Err(RzpError::no_such_id()),
        },
    }
}
