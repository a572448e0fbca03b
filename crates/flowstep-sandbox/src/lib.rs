//! flowstep-sandbox: a local, faithful stand-in for Stripe's, Razorpay's and WhatsApp's
//! APIs on loopback.
//!
//! The sandbox answers `POST /v1/checkout/sessions` (and retrieve, list and expire) the way
//! Stripe does in test mode: same authentication rules, same form-encoded parameters, same
//! error envelopes and messages, same idempotency semantics. The rule it is built to is
//! "what passes against the sandbox must pass against real Stripe": where it is unsure of
//! Stripe's behaviour it is stricter, never more lenient.
//!
//! It also serves a tiny hosted "checkout page" at the session's `url`, so a person can
//! click "Pay (sandbox)" and see the session become `complete`/`paid`.
//!
//! On the same port, by path, it stands in for two more APIs (point their hosts at
//! [`Sandbox::base_url`]):
//!
//! - Razorpay Payment Links (`https://api.razorpay.com`): `POST /v1/payment_links`,
//!   `GET /v1/payment_links/{id}`, `POST /v1/payment_links/{id}/cancel`, with Basic auth
//!   [`SANDBOX_RAZORPAY_KEY_ID`]:[`SANDBOX_RAZORPAY_KEY_SECRET`], JSON bodies, Razorpay's
//!   error envelope; each link's `short_url` is a sandbox page (`/rzp/i/{code}`) whose
//!   "Pay (sandbox)" button marks the link `paid`.
//! - The WhatsApp Cloud API (`https://graph.facebook.com`):
//!   `POST /{version}/{phone_number_id}/messages` for text messages, with the bearer token
//!   [`SANDBOX_WHATSAPP_TOKEN`] and the number [`SANDBOX_WHATSAPP_PHONE_NUMBER_ID`], Graph's
//!   error envelope; every accepted message is kept as a [`ReceivedWhatsApp`].
//!
//! Faults ([`Fault`]) and the request log apply to all three APIs alike. Admin routes
//! under `/__sandbox/` serve tests and authors:
//!
//! | route | answer |
//! |---|---|
//! | `GET /__sandbox/stats` | `{"sessions_created": N, "requests": N, "payment_links_created": N, "whatsapp_messages": N}` |
//! | `POST /__sandbox/faults` (a [`Fault`] as JSON) | 204, the fault is queued |
//! | `GET /__sandbox/requests` | the [`RecordedRequest`]s as a JSON array |
//! | `GET /__sandbox/whatsapp/messages` | the [`ReceivedWhatsApp`] messages as a JSON array |
//! | `POST /__sandbox/whatsapp/inbound` (`{"from", "name", "text"}`) | 200 `{"id": "wamid....", ...}`: a customer's text message, sent as an inbound webhook |
//! | `GET /__sandbox/events` | the [`SentEvent`]s as a JSON array, with each delivery's attempts |
//! | `GET`, `POST /__sandbox/forward-faults` (`{"rate": 0.1, "seed": 7}`) | the [`DeliveryFaults`] in force; `POST` sets them: that fraction of delivery attempts fail |
//! | any method `/__sandbox/echo` | 200, the request echoed back as JSON |
//!
//! **Events.** Like the real providers, the sandbox sends webhooks: paying a Checkout Session
//! on its page sends `checkout.session.completed`, expiring one (`POST
//! /v1/checkout/sessions/{id}/expire`, or its `expires_at` passing) `checkout.session.expired`,
//! paying a Razorpay link `payment_link.paid`, every accepted WhatsApp message a `sent` and a
//! `delivered` status, and `POST /__sandbox/whatsapp/inbound` a customer's message. Every
//! event is listed; with a receiver set ([`Sandbox::forward_to`]) each is also POSTed to it,
//! signed as the provider signs (`flowstep-webhook-signature`), at least once, with retries
//! ([`RetrySchedule`]). See docs/sandbox.md for the shapes.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sandbox = flowstep_sandbox::Sandbox::start("127.0.0.1:0".parse().unwrap()).await?;
//! println!("Stripe stand-in at {}", sandbox.base_url());
//! // ... point the client at sandbox.base_url() with SANDBOX_SECRET_KEY ...
//! sandbox.shutdown();
//! # Ok(()) }
//! ```

mod admin;
mod api;
mod app;
mod events;
mod faults;
mod pages;
mod razorpay;
mod server;
mod state;
mod stripe;
mod whatsapp;

/// The port `flowstep sandbox` listens on unless told otherwise (stripe-mock's is 12111 too).
pub const DEFAULT_PORT: u16 = 12111;

/// The header `GET /__sandbox/stats` carries (its value is the sandbox's version), by which
/// `flowstep run --sandbox` knows a running sandbox from another program on the port.
pub const SANDBOX_HEADER: &str = "flowstep-sandbox";

use std::net::SocketAddr;

pub use events::{
    Attempt, DeliveryFaults, DeliveryState, Forwarding, InjectedFault, MAX_LOGGED_EVENTS, Provider,
    RetrySchedule, SANDBOX_RAZORPAY_WEBHOOK_SECRET, SANDBOX_STRIPE_WEBHOOK_SECRET,
    SANDBOX_WHATSAPP_APP_SECRET, SentEvent, WebhookSecrets,
};
pub use faults::{Fault, FaultAction};
pub use razorpay::{SANDBOX_RAZORPAY_KEY_ID, SANDBOX_RAZORPAY_KEY_SECRET};
pub use state::RecordedRequest;
pub use stripe::auth::SANDBOX_SECRET_KEY;
pub use stripe::version::PINNED_STRIPE_VERSION;
pub use whatsapp::inbound::DEFAULT_CUSTOMER_NAME;
pub use whatsapp::templates::{SandboxTemplate, builtin_templates, read_templates};
pub use whatsapp::webhooks::RE_ENGAGEMENT_CODE;
pub use whatsapp::webhooks::{
    SANDBOX_WHATSAPP_BUSINESS_ACCOUNT_ID, SANDBOX_WHATSAPP_DISPLAY_PHONE_NUMBER,
};
pub use whatsapp::{
    CUSTOMER_SERVICE_WINDOW_SECS, ReceivedWhatsApp, SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
    SANDBOX_WHATSAPP_TOKEN,
};

/// A running sandbox: a handle to the server task and its shared state.
///
/// Dropping the handle (or calling [`Sandbox::shutdown`]) stops the server: the listener is
/// closed and open connections are dropped.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flowstep_sandbox::Sandbox;
///
/// // Port 0 picks a free port; point api.stripe.com, api.razorpay.com and
/// // graph.facebook.com at base_url() (flowstep's --sandbox does exactly that).
/// let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
/// assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(sandbox.sessions_created(), 0);
/// assert!(sandbox.whatsapp_messages().is_empty());
/// sandbox.shutdown();
/// # });
/// ```
pub struct Sandbox {
    addr: SocketAddr,
    state: state::AppState,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    // Dropping the sender wakes every task watching it; that is the shutdown signal.
    _shutdown: tokio::sync::watch::Sender<()>,
}

impl Sandbox {
    /// Binds `addr` (port 0 picks a free port) and serves on the current tokio runtime
    /// (the accept loop and each connection are spawned tasks).
    ///
    /// Must be called from within a tokio runtime.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::watch::channel(());
        let state = state::AppState::new(&server::base_url_for(addr), rx.clone());
        let connections = std::sync::Arc::default();
        tokio::spawn(stripe::expiry::sweep_forever(
            state.stripe.clone(),
            state.outbox.clone(),
            rx.clone(),
        ));
        tokio::spawn(server::accept_loop(
            listener,
            app::app(state.clone()),
            rx,
            std::sync::Arc::clone(&connections),
        ));
        let _shutdown = tx;
        Ok(Sandbox {
            addr,
            state,
            connections,
            _shutdown,
        })
    }

    /// The address the sandbox is listening on (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to send API requests to, e.g. `http://127.0.0.1:12111` (no trailing
    /// slash). An unspecified bind address (`0.0.0.0`, `::`) is reported as loopback.
    pub fn base_url(&self) -> String {
        self.state.stripe.base_url.clone()
    }

    /// How many Checkout Sessions were really created (idempotent replays do not count).
    pub fn sessions_created(&self) -> usize {
        self.state.stripe.sessions_created()
    }

    /// How many Razorpay payment links were created (refused creates do not count).
    pub fn payment_links_created(&self) -> usize {
        self.state.razorpay.links_created()
    }

    /// How many TCP connections the sandbox has accepted: a client that keeps one connection
    /// pool sends many requests over few connections.
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes any well-formed test key, as stripe-mock does: Razorpay's any `rzp_test_` key id
    /// with a non-empty secret, besides the sandbox's own pair (Stripe's stand-in takes any
    /// `sk_test_`/`rk_test_` key already). The standalone `flowstep sandbox` does; a built-in
    /// one keeps to its own credentials so that a wrong secret fails as it would for real.
    pub fn accept_any_test_key(&self) {
        self.state
            .razorpay
            .any_test_key
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds templates the WhatsApp stand-in treats as approved (besides
    /// [`builtin_templates`]); one with the name and language of a known one replaces it.
    pub fn add_whatsapp_templates(&self, templates: Vec<SandboxTemplate>) {
        let mut known = api::lock(&self.state.whatsapp.templates);
        for t in templates {
            known.retain(|k| !(k.name == t.name && k.language == t.language));
            known.push(t);
        }
    }

    /// The templates the WhatsApp stand-in treats as approved.
    pub fn whatsapp_templates(&self) -> Vec<SandboxTemplate> {
        api::lock(&self.state.whatsapp.templates).clone()
    }

    /// Marks the customer with WhatsApp id `wa_id` (digits, no `+`) as having written at
    /// `at` (Unix seconds) without sending a notification, so that a test can place the
    /// 24-hour window (an old `at` closes it). `POST /__sandbox/whatsapp/inbound` is what a
    /// customer writing looks like.
    pub fn set_last_inbound(&self, wa_id: &str, at: i64) {
        api::lock(&self.state.whatsapp.last_inbound).insert(wa_id.to_owned(), at);
    }

    /// Every WhatsApp message the sandbox accepted, in arrival order, with its text and
    /// request body exactly as sent and what became of it.
    pub fn whatsapp_messages(&self) -> Vec<ReceivedWhatsApp> {
        api::lock(&self.state.whatsapp.messages).clone()
    }

    /// Every request that arrived, in arrival order, whichever API it was for. Requests to
    /// the admin routes (`/__sandbox/stats`, `/__sandbox/faults`, `/__sandbox/requests`,
    /// `/__sandbox/whatsapp/messages`) are not recorded;
    /// requests to `/__sandbox/echo` are, since it stands in for an API.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        api::lock(&self.state.log).clone()
    }

    /// Queues a fault: the next `fault.count` requests whose path starts with
    /// `fault.path_prefix` (any non-admin path when `None`) get `fault.action` instead of,
    /// or on top of, normal processing. Faults are matched in the order they were queued.
    pub fn inject(&self, fault: Fault) {
        api::lock(&self.state.faults).push(fault);
    }

    /// Sends the events emitted from now on to `forwarding`'s receiver (replacing any set
    /// before); events emitted earlier keep their delivery. `None` stops forwarding.
    pub fn forward_to(&self, forwarding: Option<Forwarding>) {
        self.state.outbox.set_forwarding(forwarding);
    }

    /// Makes a fraction of the attempts to deliver events fail on purpose, from the next
    /// attempt on (see [`DeliveryFaults`]); `DeliveryFaults::default()` stops it.
    pub fn set_delivery_faults(&self, faults: DeliveryFaults) {
        self.state.outbox.set_faults(faults);
    }

    /// Every event the sandbox emitted (at most [`MAX_LOGGED_EVENTS`] of the latest, and every
    /// one still being delivered), in order, with how its delivery went.
    pub fn events(&self) -> Vec<SentEvent> {
        self.state.outbox.events()
    }

    /// When the customer with WhatsApp id `wa_id` (digits, no `+`) last wrote through
    /// `POST /__sandbox/whatsapp/inbound`, in Unix seconds: the start of WhatsApp's 24-hour
    /// customer service window.
    pub fn last_inbound_at(&self, wa_id: &str) -> Option<i64> {
        api::lock(&self.state.whatsapp.last_inbound)
            .get(wa_id)
            .copied()
    }

    /// Stops serving: the listener closes and open connections are dropped.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}
