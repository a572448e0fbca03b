//! The sandbox's shared state: recorded requests, queued faults, Stripe sessions and
//! idempotency, Razorpay payment links, accepted WhatsApp messages.
//!
//! Each part has its own short-held `std::sync::Mutex`: no lock is ever held across an
//! `.await`, so a plain mutex is simpler and cheaper than an async one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

use crate::faults::{Fault, FaultAction, FaultQueue};
use crate::idempotency::IdempotencyStore;
use crate::razorpay::LinkStore;
use crate::stripe::checkout::Session;
use crate::whatsapp::ReceivedWhatsApp;

/// One request as it arrived at the sandbox (see [`crate::Sandbox::requests`]).
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path without the query, e.g. `/v1/checkout/sessions`.
    pub path: String,
    /// The raw query string (without `?`), if there was one.
    pub query: Option<String>,
    /// Every header in arrival order, names lowercased, values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The body, decoded lossily as UTF-8.
    pub body: String,
    /// The decoded form pairs when the body is `application/x-www-form-urlencoded`.
    pub form: Option<Vec<(String, String)>>,
}

pub(crate) struct State {
    pub(crate) base_url: String,
    sessions_created: AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<FaultQueue>,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    pub(crate) idempotency: Mutex<IdempotencyStore>,
    payment_links_created: AtomicUsize,
    pub(crate) payment_links: Mutex<LinkStore>,
    whatsapp: Mutex<Vec<ReceivedWhatsApp>>,
}

/// Locks a mutex, shrugging off poisoning: every critical section leaves the data
/// consistent, and one panicking request must not take the whole sandbox down.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    pub(crate) fn new(base_url: String) -> State {
        State {
            base_url,
            sessions_created: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultQueue::default()),
            sessions: Mutex::new(HashMap::new()),
            idempotency: Mutex::new(IdempotencyStore::default()),
            payment_links_created: AtomicUsize::new(0),
            payment_links: Mutex::new(LinkStore::default()),
            whatsapp: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn sessions_created(&self) -> usize {
        self.sessions_created.load(Ordering::SeqCst)
    }

    pub(crate) fn insert_session(&self, session: Session) {
        lock(&self.sessions).insert(session.id().to_string(), session);
        self.sessions_created.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn payment_links_created(&self) -> usize {
        self.payment_links_created.load(Ordering::SeqCst)
    }

    pub(crate) fn count_payment_link(&self) {
        self.payment_links_created.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn record_whatsapp(&self, msg: ReceivedWhatsApp) {
        lock(&self.whatsapp).push(msg);
    }

    pub(crate) fn whatsapp_messages(&self) -> Vec<ReceivedWhatsApp> {
        lock(&self.whatsapp).clone()
    }

    pub(crate) fn whatsapp_count(&self) -> usize {
        lock(&self.whatsapp).len()
    }

    pub(crate) fn record(&self, req: RecordedRequest) {
        lock(&self.requests).push(req);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn request_count(&self) -> usize {
        lock(&self.requests).len()
    }

    pub(crate) fn inject(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    pub(crate) fn take_fault(&self, path: &str) -> Option<FaultAction> {
        lock(&self.faults).take(path)
    }
}
