//! Webhooks from payment and messaging providers: the events a verified body carries and their
//! ids, from `flowstep-webhook-events` (one module per provider: [`stripe`], [`razorpay`],
//! [`whatsapp`]), re-exported under the server's name for them. The HTTP side (the
//! `/webhooks/...` routes) is in `api::webhooks`.

pub use flowstep_webhook_events::*;
