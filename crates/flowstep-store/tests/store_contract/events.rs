//! The event inbox's contract: an event is recorded once per provider and id (also when the
//! same delivery races itself), and lists go newest first in stable pages.

use super::Subject;
use flowstep_store::{Cursor, NewEvent, Recorded, RunStore, StoreError};
use serde_json::json;
use std::time::{Duration, SystemTime};

fn event(provider: &str, id: &str, amount: u64) -> NewEvent {
    NewEvent {
        provider: provider.into(),
        event_id: id.into(),
        event_type: "checkout.session.completed".into(),
        payload: json!({"id": id, "data": {"object": {"amount_total": amount}}}),
        received_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + amount),
    }
}

pub async fn an_event_is_recorded_once_per_provider_and_id<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    let first = event("stripe", "evt_1", 500);
    assert_eq!(
        store.record_event(first.clone(), &[]).await.unwrap(),
        Recorded::Inserted { woke: None }
    );
    // A re-delivery (even with another body) is a duplicate, and the first is kept.
    assert_eq!(
        store
            .record_event(event("stripe", "evt_1", 999), &[])
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    // The same id from another provider is another event.
    assert_eq!(
        store
            .record_event(event("razorpay", "evt_1", 700), &[])
            .await
            .unwrap(),
        Recorded::Inserted { woke: None }
    );
    let page = store.list_events(Some("stripe"), 10, None).await.unwrap();
    assert_eq!(page.events.len(), 1);
    let stored = &page.events[0];
    assert_eq!(
        (
            stored.provider.as_str(),
            stored.event_id.as_str(),
            stored.event_type.as_str()
        ),
        ("stripe", "evt_1", "checkout.session.completed")
    );
    assert_eq!(stored.payload, first.payload);
    assert_eq!(stored.received_at, first.received_at);
    assert_eq!(page.next, None);
    assert_eq!(
        store
            .list_events(None, 10, None)
            .await
            .unwrap()
            .events
            .len(),
        2
    );
    // An event without its key is refused, not stored.
    let mut empty = event("stripe", "", 1);
    assert!(matches!(
        store.record_event(empty.clone(), &[]).await,
        Err(StoreError::Invalid(_))
    ));
    empty.event_id = "evt_2".into();
    empty.provider = String::new();
    assert!(matches!(
        store.record_event(empty, &[]).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .list_events(None, 10, None)
            .await
            .unwrap()
            .events
            .len(),
        2
    );
}

pub async fn concurrent_deliveries_of_one_event_store_it_once<S: RunStore + 'static>(
    s: Subject<S>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = s.store.clone();
        tasks.spawn(async move {
            store
                .record_event(event("stripe", &format!("evt_{}", i % 4), 100), &[])
                .await
                .unwrap()
        });
    }
    let mut inserted = 0;
    while let Some(r) = tasks.join_next().await {
        if matches!(r.unwrap(), Recorded::Inserted { .. }) {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 4, "one insert per distinct id");
    let page = s.store.list_events(None, 100, None).await.unwrap();
    let mut ids: Vec<String> = page.events.into_iter().map(|e| e.event_id).collect();
    ids.sort();
    assert_eq!(ids, ["evt_0", "evt_1", "evt_2", "evt_3"]);
}

pub async fn events_are_listed_newest_first_in_stable_pages<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    for (i, provider) in ["stripe", "whatsapp", "stripe", "stripe", "razorpay"]
        .into_iter()
        .enumerate()
    {
        store
            .record_event(event(provider, &format!("evt_{i}"), i as u64), &[])
            .await
            .unwrap();
    }
    let first = store.list_events(Some("stripe"), 2, None).await.unwrap();
    let ids = |p: &flowstep_store::EventPage| {
        p.events
            .iter()
            .map(|e| e.event_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ["evt_3", "evt_2"]);
    let cursor = first.next.clone().expect("a second page");
    // An event that arrives now does not shift the next page.
    store
        .record_event(event("stripe", "evt_new", 9), &[])
        .await
        .unwrap();
    let second = store
        .list_events(Some("stripe"), 2, Some(&cursor))
        .await
        .unwrap();
    assert_eq!(ids(&second), ["evt_0"]);
    assert_eq!(second.next, None);
    let all = store.list_events(None, 1000, None).await.unwrap();
    assert_eq!(
        ids(&all),
        ["evt_new", "evt_4", "evt_3", "evt_2", "evt_1", "evt_0"]
    );
    assert!(
        store
            .list_events(Some("paypal"), 10, None)
            .await
            .unwrap()
            .events
            .is_empty()
    );
    // A cursor the store did not make for events (a runs cursor, text) is refused.
    for bad in ["r2", "e0", "e-1", "e", "evt_3", "e01"] {
        let e = store.list_events(None, 10, Some(&Cursor::new(bad))).await;
        assert!(matches!(e, Err(StoreError::Invalid(_))), "{bad}: {e:?}");
    }
}
