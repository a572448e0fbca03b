//! The events the sandbox sends, as the real providers send webhooks: every event an API
//! emits is kept in a log (`GET /__sandbox/events`, `Sandbox::events`) and, when a receiver
//! is set ([`Forwarding`]), delivered to it signed, at least once, with retries
//! ([`delivery`]). Which events exist and their shapes are each API's business (its
//! `events.rs`); this module knows only a provider's path and signature.
//!
//! Nothing here blocks an API's answer: emitting records the event and hands it to a
//! background task.

pub(crate) mod delivery;
mod faults;

pub use faults::{DeliveryFaults, InjectedFault};

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Semaphore, watch};

use crate::api::lock;

/// The provider whose webhook an event stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Stripe: `POST {base}/webhooks/stripe`, signed with `Stripe-Signature`.
    Stripe,
    /// Razorpay: `POST {base}/webhooks/razorpay`, signed with `X-Razorpay-Signature`.
    Razorpay,
    /// WhatsApp (Meta): `POST {base}/webhooks/whatsapp`, signed with `X-Hub-Signature-256`.
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl Provider {
    /// The path under the receiver's base URL the events go to.
    pub fn path(self) -> &'static str {
        match self {
            Provider::Stripe => "/webhooks/stripe",
            Provider::Razorpay => "/webhooks/razorpay",
            Provider::WhatsApp => "/webhooks/whatsapp",
        }
    }
}

/// The signing secrets, one per provider: what the receiver verifies with
/// (`STRIPE_WEBHOOK_SECRET`, `RAZORPAY_WEBHOOK_SECRET`, `WHATSAPP_APP_SECRET` on
/// `flowstep serve`). `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecrets {
    /// Stripe's endpoint signing secret (`whsec_...`).
    pub stripe: String,
    /// Razorpay's webhook secret.
    pub razorpay: String,
    /// Meta's app secret.
    pub whatsapp: String,
}

impl Default for WebhookSecrets {
    /// The sandbox's own: [`SANDBOX_STRIPE_WEBHOOK_SECRET`],
    /// [`SANDBOX_RAZORPAY_WEBHOOK_SECRET`], [`SANDBOX_WHATSAPP_APP_SECRET`].
    fn default() -> Self {
        WebhookSecrets {
            stripe: SANDBOX_STRIPE_WEBHOOK_SECRET.to_owned(),
            razorpay: SANDBOX_RAZORPAY_WEBHOOK_SECRET.to_owned(),
            whatsapp: SANDBOX_WHATSAPP_APP_SECRET.to_owned(),
        }
    }
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecrets { .. }")
    }
}

/// The Stripe endpoint signing secret the sandbox signs with when none is given (a test value,
/// not a secret: it is printed in the docs).
pub const SANDBOX_STRIPE_WEBHOOK_SECRET: &str = "whsec_flowstepSandboxWebhookSecret000000";
/// The Razorpay webhook secret the sandbox signs with when none is given.
pub const SANDBOX_RAZORPAY_WEBHOOK_SECRET: &str = "flowstepSandboxRazorpayWebhook01";
/// The WhatsApp (Meta) app secret the sandbox signs with when none is given.
pub const SANDBOX_WHATSAPP_APP_SECRET: &str = "flowstepsandboxappsecret00000001";

/// How often a delivery is tried: the first attempt at once, then after `first_delay`,
/// doubling each time up to `max_delay`, `attempts` in all. Each attempt waits at most
/// `timeout` for the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// The longest wait for one attempt's answer.
    pub timeout: Duration,
}

impl Default for RetrySchedule {
    /// 16 attempts: at once, then after 0.5 s, 1, 2, 4, 8, 16 s and every 30 s, so the last is
    /// about 5 minutes after the first; 10 s for each answer.
    fn default() -> Self {
        RetrySchedule {
            attempts: 16,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetrySchedule {
    /// The wait before attempt `n` (2 and up): `first_delay * 2^(n-2)`, capped.
    pub fn delay_before(&self, n: u32) -> Duration {
        let doublings = n.saturating_sub(2).min(30);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// Where events go: the receiver's base URL (`http://127.0.0.1:8080`; events go to
/// [`Provider::path`] under it), the secrets they are signed with, the retry schedule, and
/// the attempts that fail on purpose (none by default).
#[derive(Debug, Clone)]
pub struct Forwarding {
    /// The receiver's base URL, without a trailing slash.
    pub base_url: String,
    /// The signing secrets.
    pub secrets: WebhookSecrets,
    /// How deliveries are retried.
    pub retry: RetrySchedule,
    /// Which attempts fail on purpose (changed later by `POST /__sandbox/forward-faults`).
    pub faults: DeliveryFaults,
}

impl Forwarding {
    /// Forwarding to `base_url` (a trailing `/` is dropped) with the sandbox's secrets and the
    /// default schedule.
    pub fn new(base_url: &str) -> Forwarding {
        Forwarding {
            base_url: base_url.trim_end_matches('/').to_owned(),
            secrets: WebhookSecrets::default(),
            retry: RetrySchedule::default(),
            faults: DeliveryFaults::default(),
        }
    }
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// No receiver was set when the event was emitted: it is only listed.
    NotForwarded,
    /// Being delivered, or waiting for its next attempt or for an earlier event of its lane.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt failed; the sandbox gave up.
    Failed,
    /// The sandbox stopped before the event was delivered.
    Abandoned,
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// When it started, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why there was no answer (connection refused, timeout), when there was none.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub took_ms: u64,
    /// The fault injected into it, if one was ([`DeliveryFaults`]); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<InjectedFault>,
}

/// One event the sandbox emitted, and how its delivery went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentEvent {
    /// Its place in the order of emission (1, 2, ...).
    pub seq: u64,
    /// Whose webhook it stands in for.
    pub provider: Provider,
    /// Its id: the Stripe event's `evt_...`, Razorpay's `x-razorpay-event-id`, or for
    /// WhatsApp the message's `wamid` (an inbound message) or `<wamid>:<status>` (a status),
    /// the ids `flowstep serve` de-duplicates by.
    pub id: String,
    /// Its type: `checkout.session.completed`, `payment_link.paid`, `message`,
    /// `status.sent`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it was emitted, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// The body sent, as JSON.
    pub payload: Value,
    /// Where it was sent (the receiver's URL), if anywhere.
    pub url: Option<String>,
    /// Where its delivery stands.
    pub delivery: DeliveryState,
    /// Every attempt so far, in order.
    pub attempts: Vec<Attempt>,
}

/// An event an API emits: its provider, id, type, body, and its lane: events of one lane
/// are delivered in the order emitted, each once the one before it is delivered or given up
/// (a Checkout Session's events, one customer's WhatsApp messages and statuses); lanes do
/// not wait for each other.
pub(crate) struct Emitted {
    pub(crate) provider: Provider,
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) payload: Value,
    pub(crate) lane: String,
}

/// How many events the log keeps: beyond it, the oldest whose delivery is over are dropped
/// from the list. Events still pending are never dropped.
pub const MAX_LOGGED_EVENTS: usize = 10_000;

/// At most this many deliveries are under way at once (the rest wait their turn).
const MAX_CONCURRENT_DELIVERIES: usize = 32;

/// A logged event and the exact bytes every attempt sends.
struct Logged {
    event: SentEvent,
    body: bytes::Bytes,
}

/// The sandbox's outgoing events: the log, the receiver, the lanes waiting for delivery.
pub(crate) struct Outbox {
    forwarding: RwLock<Option<Arc<Forwarding>>>,
    faults: RwLock<DeliveryFaults>,
    log: Mutex<LogState>,
    lanes: Mutex<HashMap<String, VecDeque<u64>>>,
    slots: Semaphore,
    shutdown: watch::Receiver<()>,
}

#[derive(Default)]
struct LogState {
    next_seq: u64,
    events: VecDeque<Logged>,
}

impl LogState {
    fn get_mut(&mut self, seq: u64) -> Option<&mut Logged> {
        let i = self
            .events
            .binary_search_by_key(&seq, |l| l.event.seq)
            .ok()?;
        self.events.get_mut(i)
    }

    /// Drops the oldest finished event while over the cap.
    fn trim(&mut self) {
        while self.events.len() > MAX_LOGGED_EVENTS {
            let finished = self
                .events
                .iter()
                .position(|l| l.event.delivery != DeliveryState::Pending);
            match finished {
                Some(i) => {
                    self.events.remove(i);
                }
                None => break,
            }
        }
    }
}

impl Outbox {
    /// An outbox that stops delivering when `shutdown`'s sender is dropped.
    pub(crate) fn new(shutdown: watch::Receiver<()>) -> Outbox {
        Outbox {
            forwarding: RwLock::new(None),
            faults: RwLock::default(),
            log: Mutex::default(),
            lanes: Mutex::default(),
            slots: Semaphore::new(MAX_CONCURRENT_DELIVERIES),
            shutdown,
        }
    }

    /// Sets (or, with `None`, clears) the receiver of the events emitted from now on, and
    /// its delivery faults for every attempt from now on.
    pub(crate) fn set_forwarding(&self, forwarding: Option<Forwarding>) {
        self.set_faults(forwarding.as_ref().map(|f| f.faults).unwrap_or_default());
        let mut slot = self.forwarding.write().unwrap_or_else(|e| e.into_inner());
        *slot = forwarding.map(Arc::new);
    }

    /// Sets which delivery attempts fail on purpose, from the next attempt on.
    pub(crate) fn set_faults(&self, faults: DeliveryFaults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Which delivery attempts fail on purpose.
    pub(crate) fn faults(&self) -> DeliveryFaults {
        *self.faults.read().unwrap_or_else(|e| e.into_inner())
    }

    fn forwarding(&self) -> Option<Arc<Forwarding>> {
        self.forwarding
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every event still in the log, in the order emitted.
    pub(crate) fn events(&self) -> Vec<SentEvent> {
        let log = lock(&self.log);
        log.events.iter().map(|l| l.event.clone()).collect()
    }

    /// Records `emitted` and, when a receiver is set, queues it for delivery in its lane.
    /// Returns its log entry as recorded.
    pub(crate) fn emit(self: &Arc<Self>, emitted: Emitted) -> SentEvent {
        let forwarding = self.forwarding();
        let body = bytes::Bytes::from(serde_json::to_vec(&emitted.payload).unwrap_or_default());
        let event = {
            let mut log = lock(&self.log);
            log.next_seq += 1;
            let event = SentEvent {
                seq: log.next_seq,
                provider: emitted.provider,
                id: emitted.id,
                event_type: emitted.event_type,
                created_at_ms: now_ms(),
                payload: emitted.payload,
                url: forwarding
                    .as_ref()
                    .map(|f| format!("{}{}", f.base_url, emitted.provider.path())),
                delivery: match forwarding {
                    Some(_) => DeliveryState::Pending,
                    None => DeliveryState::NotForwarded,
                },
                attempts: Vec::new(),
            };
            log.events.push_back(Logged {
                event: event.clone(),
                body,
            });
            log.trim();
            event
        };
        tracing::info!(
            provider = ?event.provider,
            id = %event.id,
            event_type = %event.event_type,
            forwarded = forwarding.is_some(),
            "sandbox event emitted"
        );
        if let Some(forwarding) = forwarding {
            delivery::enqueue(self, forwarding, emitted.lane, event.seq);
        }
        event
    }
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_about_five_minutes() {
        let s = RetrySchedule::default();
        let waits: Vec<f64> = (2..=s.attempts)
            .map(|n| s.delay_before(n).as_secs_f64())
            .collect();
        assert_eq!(&waits[..7], &[0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]);
        let total: f64 = waits.iter().sum();
        assert!((300.0..=310.0).contains(&total), "{total}");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let text = format!("{:?}", Forwarding::new("http://127.0.0.1:1/"));
        assert!(!text.contains(SANDBOX_STRIPE_WEBHOOK_SECRET), "{text}");
        assert!(!text.contains(SANDBOX_WHATSAPP_APP_SECRET), "{text}");
        assert!(text.contains("http://127.0.0.1:1\""), "{text}");
    }
}
