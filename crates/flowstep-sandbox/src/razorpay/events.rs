//! Razorpay's `payment_link.paid` webhook, in the shape Razorpay sends it (facts file
//! `webhooks-and-messaging-facts.md`, "Razorpay"): `{"entity": "event", "account_id",
//! "event", "contains": ["payment_link", "order", "payment"], "payload": {"payment_link":
//! {"entity": <the link as stored>}, "order": {"entity": ...}, "payment": {"entity": ...}},
//! "created_at"}`, with the event's id in the `x-razorpay-event-id` header.
//!
//! The order and payment entities carry the fields a receiver reads (ids, amounts, status,
//! method); the sandbox models no Orders or Payments API, so they exist only in the event.

use serde_json::json;

use super::payment_link::PaymentLink;
use crate::api::random_alnum;
use crate::events::{Emitted, Provider};

/// The account id the sandbox's events name (`acc_` and 14 characters, like Razorpay's).
pub(crate) const SANDBOX_ACCOUNT_ID: &str = "acc_flowstepSandbx1";

/// `payment_link.paid` for `link`, just paid at `now`.
pub(crate) fn link_paid(link: &mut PaymentLink, now: i64) -> Emitted {
    let entity = link.snapshot(now);
    let amount = link.amount();
    let currency = link.currency().to_owned();
    let payment_id = entity["payments"][0]["payment_id"]
        .as_str()
        .map_or_else(|| format!("pay_{}", random_alnum(14)), str::to_owned);
    let order_id = format!("order_{}", random_alnum(14));
    let order = json!({
        "id": order_id,
        "entity": "order",
        "amount": amount,
        "amount_paid": amount,
        "amount_due": 0,
        "currency": currency,
        "receipt": entity["reference_id"],
        "status": "paid",
        "attempts": 1,
        "notes": entity["notes"],
        "created_at": entity["created_at"],
    });
    let payment = json!({
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": currency,
        "status": "captured",
        "order_id": order_id,
        "method": "upi",
        "captured": true,
        "amount_refunded": 0,
        "notes": entity["notes"],
        "created_at": now,
    });
    let id = format!("evt_{}", random_alnum(14));
    let lane = format!("razorpay:{}", link.id());
    let payload = json!({
        "entity": "event",
        "account_id": SANDBOX_ACCOUNT_ID,
        "event": "payment_link.paid",
        "contains": ["payment_link", "order", "payment"],
        "payload": {
            "payment_link": {"entity": entity},
            "order": {"entity": order},
            "payment": {"entity": payment},
        },
        "created_at": now,
    });
    Emitted {
        provider: Provider::Razorpay,
        id,
        event_type: "payment_link.paid".to_owned(),
        payload,
        lane,
    }
}
