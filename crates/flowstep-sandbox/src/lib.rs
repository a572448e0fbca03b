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
//! | any method `/__sandbox/echo` | 200, the request echoed back as JSON |
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
mod checkout_page;
mod faults;
mod html_page;
mod idempotency;
mod razorpay;
mod server;
mod state;
mod stripe;
mod whatsapp;

use std::net::SocketAddr;
use std::sync::Arc;

pub use faults::{Fault, FaultAction};
pub use state::RecordedRequest;
pub use whatsapp::ReceivedWhatsApp;

/// A secret key the sandbox accepts (any key matching `^(sk|rk)_test_[A-Za-z0-9_]{10,}$` is
/// accepted; this one is handy for examples and tests).
///
/// Live keys (`sk_live_...`, `rk_live_...`) are refused with Stripe's ordinary
/// "Invalid API Key provided: ..." message, because the sandbox only plays test mode.
pub const SANDBOX_SECRET_KEY: &str = "sk_test_flowstep_sandbox_4242424242424242";

/// The Razorpay key id the sandbox accepts (HTTP Basic user name).
///
/// Only this id with [`SANDBOX_RAZORPAY_KEY_SECRET`] authenticates: like a real account,
/// the sandbox has one valid secret per key id, so a flow that sends a wrong or empty
/// secret fails here as it would against Razorpay.
pub const SANDBOX_RAZORPAY_KEY_ID: &str = "rzp_test_flowstepSandbox1";

/// The Razorpay key secret that goes with [`SANDBOX_RAZORPAY_KEY_ID`] (HTTP Basic
/// password; 24 characters, like Razorpay's secrets).
pub const SANDBOX_RAZORPAY_KEY_SECRET: &str = "flowstepSandboxSecret024";

/// The WhatsApp Cloud API access token the sandbox accepts (`Authorization: Bearer ...`).
/// Any other token gets Graph's code 190 answer.
pub const SANDBOX_WHATSAPP_TOKEN: &str = "EAAflowstepSandboxToken0000000000";

/// The only WhatsApp business phone number id the sandbox knows; messages are sent with
/// `POST /{version}/{this}/messages`. Any other id gets Graph's "Object with ID ... does
/// not exist" answer.
pub const SANDBOX_WHATSAPP_PHONE_NUMBER_ID: &str = "100000000000001";

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
    state: Arc<state::State>,
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
        let state = Arc::new(state::State::new(server::base_url_for(addr)));
        let (tx, rx) = tokio::sync::watch::channel(());
        tokio::spawn(server::accept_loop(listener, state.clone(), rx));
        Ok(Sandbox {
            addr,
            state,
            _shutdown: tx,
        })
    }

    /// The address the sandbox is listening on (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to send API requests to, e.g. `http://127.0.0.1:12111` (no trailing
    /// slash). An unspecified bind address (`0.0.0.0`, `::`) is reported as loopback.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// How many Checkout Sessions were really created (idempotent replays do not count).
    pub fn sessions_created(&self) -> usize {
        self.state.sessions_created()
    }

    /// How many Razorpay payment links were created (refused creates do not count).
    pub fn payment_links_created(&self) -> usize {
        self.state.payment_links_created()
    }

    /// Every WhatsApp text message the sandbox accepted, in arrival order, with its text
    /// exactly as sent.
    pub fn whatsapp_messages(&self) -> Vec<ReceivedWhatsApp> {
        self.state.whatsapp_messages()
    }

    /// Every request that arrived, in arrival order, whichever API it was for. Requests to
    /// the admin routes (`/__sandbox/stats`, `/__sandbox/faults`, `/__sandbox/requests`,
    /// `/__sandbox/whatsapp/messages`) are not recorded;
    /// requests to `/__sandbox/echo` are, since it stands in for an API.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// Queues a fault: the next `fault.count` requests whose path starts with
    /// `fault.path_prefix` (any non-admin path when `None`) get `fault.action` instead of,
    /// or on top of, normal processing. Faults are matched in the order they were queued.
    pub fn inject(&self, fault: Fault) {
        self.state.inject(fault);
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
            .field("base_url", &self.state.base_url)
            .finish_non_exhaustive()
    }
}
