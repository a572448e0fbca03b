//! The event inbox's models: an event received from a provider (a verified webhook), what
//! recording it did, a stored event and a page of them.

use crate::model::Cursor;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// An event to record: what a verified webhook carried. Unique by `(provider, event_id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Who sent it: `stripe`, `razorpay`, `whatsapp`.
    pub provider: String,
    /// The provider's id of the event, the de-duplication key (a Stripe `evt_...`, a
    /// Razorpay `x-razorpay-event-id`, a WhatsApp `wamid` or `wamid:status`).
    pub event_id: String,
    /// What happened (`checkout.session.completed`, `payment_link.paid`, `message`).
    pub event_type: String,
    /// The event as received (JSON).
    pub payload: Value,
    /// When the server received it.
    pub received_at: SystemTime,
}

/// How long events are kept: 7 days. Within it, a re-delivered event is known as one (Stripe
/// retries a delivery for up to 3 days, <https://docs.stripe.com/webhooks#retries>) and an event
/// that arrived before its wait is matched when the wait is registered; after it, the event
/// is forgotten ([`crate::RunStore::prune_events`]).
pub const EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// What [`crate::RunStore::record_event`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The event was stored, and woke the run named, if one waited for it.
    Inserted {
        /// The run the event woke (queued again, with the event), if any.
        woke: Option<String>,
    },
    /// An event with that provider and id was stored before: nothing was written (the
    /// first one's payload is kept).
    Duplicate,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Who sent it.
    pub provider: String,
    /// The provider's id of the event.
    pub event_id: String,
    /// What happened.
    pub event_type: String,
    /// The event as received.
    pub payload: Value,
    /// When the server received it (the first delivery).
    pub received_at: SystemTime,
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// The events.
    pub events: Vec<EventRecord>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}
