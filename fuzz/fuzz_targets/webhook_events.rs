//! Fuzzes what `flowstep serve` reads from a verified webhook body: the Stripe event
//! (`flowstep_webhook_events::stripe::event`), the Razorpay event with its
//! `x-razorpay-event-id` (`razorpay::event`) and a WhatsApp notification's messages and
//! statuses (`whatsapp::events`), over arbitrary JSON. Besides "no panic, no hang": every
//! event's id and type are 1 to 255 characters without control characters (a status's id is
//! the message id and the status joined by `:`), and each WhatsApp event's stored payload is
//! itself a notification that carries exactly that one event.
//!
//! The input is `event id header\nJSON body`.
#![no_main]

use flowstep_webhook_events::{Incoming, MAX_ID_CHARS, razorpay, stripe, whatsapp};
use libfuzzer_sys::fuzz_target;

fn check_text(text: &str, max: usize, what: &str) {
    let chars = text.chars().count();
    assert!(chars >= 1 && chars <= max, "{what} has {chars} characters");
    assert!(!text.chars().any(char::is_control), "{what}: {text:?}");
}

fn check(event: &Incoming) {
    check_text(&event.event_id, 2 * MAX_ID_CHARS + 1, "the event id");
    check_text(
        &event.event_type,
        MAX_ID_CHARS + "status.".len(),
        "the event type",
    );
}

fuzz_target!(|data: &[u8]| {
    let (id_header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    if let Ok(event) = stripe::event(payload.clone()) {
        check_text(&event.event_id, MAX_ID_CHARS, "a Stripe event id");
        check(&event);
    }
    let id_header = std::str::from_utf8(id_header).ok();
    if let Ok(event) = razorpay::event(id_header, payload.clone()) {
        check_text(&event.event_id, MAX_ID_CHARS, "a Razorpay event id");
        check(&event);
    }
    if let Ok(events) = whatsapp::events(&payload) {
        for event in &events {
            check(event);
            // What is stored for one event reads back as that event alone.
            let again = whatsapp::events(&event.payload).expect("a stored payload reads back");
            assert_eq!(again.len(), 1, "{:?}", event.payload);
            assert_eq!(again[0].event_id, event.event_id);
            assert_eq!(again[0].event_type, event.event_type);
        }
    }
});
