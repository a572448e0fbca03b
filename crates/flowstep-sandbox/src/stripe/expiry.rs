//! Sessions that lapse at their `expires_at`: Stripe expires them then and sends
//! `checkout.session.expired`. A session lapses wherever it is next read (`Session::refresh`);
//! a sweeper looks at every session once a second, so the event goes out within about a
//! second of `expires_at` even if nobody reads the session.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::StripeState;
use super::events::session_event;
use crate::api::{lock, now};
use crate::events::{Emitted, Outbox};

/// How often the sweeper looks.
const EVERY: Duration = Duration::from_secs(1);

/// Sweeps until `shutdown`'s sender is dropped.
pub(crate) async fn sweep_forever(
    stripe: Arc<StripeState>,
    outbox: Arc<Outbox>,
    mut shutdown: watch::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
        for event in lapsed(&stripe, now()) {
            outbox.emit(event);
        }
    }
}

/// The `checkout.session.expired` events of the sessions that lapsed by `now` and were not
/// announced yet.
pub(crate) fn lapsed(stripe: &StripeState, now: i64) -> Vec<Emitted> {
    let mut sessions = lock(&stripe.sessions);
    let mut events = Vec::new();
    for session in sessions.values_mut() {
        session.refresh(now);
        if session.take_lapse() {
            events.push(session_event("expired", session, now, None));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::super::checkout::create;
    use super::super::events::object;
    use super::super::params::build_tree;
    use super::*;
    use crate::api::form_pairs;

    const T0: i64 = 1_700_000_000;

    #[test]
    fn a_session_lapses_once_and_is_announced_once() {
        let body = "mode=payment&line_items[0][price_data][currency]=inr&line_items[0][price_data][product_data][name]=Tea&line_items[0][price_data][unit_amount]=50000&line_items[0][quantity]=1&success_url=https://example.com/ok&expires_at=1700001800";
        let tree = build_tree(&form_pairs(body.as_bytes())).unwrap();
        let session = create(&tree, "http://127.0.0.1:1", T0).unwrap();
        let id = session.id().to_owned();
        let stripe = StripeState::default();
        lock(&stripe.sessions).insert(id.clone(), session);
        assert!(lapsed(&stripe, T0 + 1799).is_empty());
        // Read by someone else first: still announced by the sweeper, once.
        lock(&stripe.sessions)
            .get_mut(&id)
            .unwrap()
            .refresh(T0 + 1800);
        let events = lapsed(&stripe, T0 + 1801);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "checkout.session.expired");
        assert_eq!(object(&events[0])["id"], id.as_str());
        assert_eq!(object(&events[0])["status"], "expired");
        assert_eq!(events[0].payload["request"]["id"], serde_json::Value::Null);
        assert!(lapsed(&stripe, T0 + 1900).is_empty());
    }
}
