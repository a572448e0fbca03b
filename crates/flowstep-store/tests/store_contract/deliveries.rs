//! The delivery statuses' contract: the furthest status of a message is kept whatever order
//! and however often its statuses arrive (also when they race), and a run's view looks them
//! up by delivery id.

use super::Subject;
use flowstep_store::{
    DeliveryError, DeliveryState, DeliveryStatus, MAX_DELIVERY_IDS, RunStore, StoreError,
};
use std::time::{Duration, SystemTime};

fn status(id: &str, state: DeliveryState, second: u64) -> DeliveryStatus {
    DeliveryStatus {
        delivery_id: id.into(),
        state,
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + second),
        error: None,
    }
}

fn failed(id: &str, second: u64) -> DeliveryStatus {
    DeliveryStatus {
        error: Some(DeliveryError {
            code: 131047,
            title: "Re-engagement message".into(),
        }),
        ..status(id, DeliveryState::Failed, second)
    }
}

async fn stored<S: RunStore>(store: &S, id: &str) -> Option<DeliveryStatus> {
    let mut found = store.delivery_statuses(&[id.to_owned()]).await.unwrap();
    assert!(found.len() <= 1, "{found:?}");
    found.pop()
}

pub async fn the_furthest_delivery_status_is_kept_whatever_the_order<S: RunStore>(s: Subject<S>) {
    use DeliveryState::*;
    let store = &*s.store;
    let w = "wamid.OUT1";
    assert!(
        store
            .record_delivery_status(&status(w, Sent, 1))
            .await
            .unwrap()
    );
    assert_eq!(stored(store, w).await, Some(status(w, Sent, 1)));
    // `read` overtook `delivered`: the late `delivered` and a re-delivered `sent` change nothing.
    assert!(
        store
            .record_delivery_status(&status(w, Read, 3))
            .await
            .unwrap()
    );
    for late in [
        status(w, Delivered, 2),
        status(w, Sent, 1),
        status(w, Read, 9),
    ] {
        assert!(
            !store.record_delivery_status(&late).await.unwrap(),
            "{late:?}"
        );
    }
    assert_eq!(stored(store, w).await, Some(status(w, Read, 3)));
    // `failed` ends it, with its error, and nothing after it changes it.
    assert!(store.record_delivery_status(&failed(w, 4)).await.unwrap());
    assert!(
        !store
            .record_delivery_status(&status(w, Read, 5))
            .await
            .unwrap()
    );
    assert_eq!(stored(store, w).await, Some(failed(w, 4)));

    // Several ids at once; ids with no status are left out.
    assert!(
        store
            .record_delivery_status(&status("wamid.OUT2", Delivered, 6))
            .await
            .unwrap()
    );
    let mut many = store
        .delivery_statuses(&["wamid.OUT2".into(), "wamid.NONE".into(), w.into()])
        .await
        .unwrap();
    many.sort_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
    assert_eq!(many, [failed(w, 4), status("wamid.OUT2", Delivered, 6)]);
    assert_eq!(store.delivery_statuses(&[]).await.unwrap(), []);
    assert_eq!(stored(store, "wamid.NONE").await, None);

    // A `failed` without an error is kept without one.
    assert!(
        store
            .record_delivery_status(&status("wamid.OUT3", Failed, 7))
            .await
            .unwrap()
    );
    assert_eq!(
        stored(store, "wamid.OUT3").await,
        Some(status("wamid.OUT3", Failed, 7))
    );

    // Refused: an empty id, and more ids than a look-up takes.
    let empty = store.record_delivery_status(&status("", Sent, 1)).await;
    assert!(matches!(empty, Err(StoreError::Invalid(_))), "{empty:?}");
    let ids: Vec<String> = (0..=MAX_DELIVERY_IDS)
        .map(|i| format!("wamid.{i}"))
        .collect();
    let too_many = store.delivery_statuses(&ids).await;
    assert!(
        matches!(too_many, Err(StoreError::Invalid(_))),
        "{too_many:?}"
    );
    assert_eq!(store.delivery_statuses(&ids[1..]).await.unwrap().len(), 0);
}

pub async fn racing_delivery_statuses_keep_the_furthest<S: RunStore + 'static>(s: Subject<S>) {
    use DeliveryState::*;
    for round in 0..20 {
        let id = format!("wamid.RACE{round}");
        // Every status of one message, each delivered twice, all at once.
        let tasks: Vec<_> = [Sent, Delivered, Read, Failed, Read, Delivered, Sent, Failed]
            .into_iter()
            .enumerate()
            .map(|(i, state)| {
                let (store, id) = (s.store.clone(), id.clone());
                tokio::spawn(async move {
                    let st = match state {
                        Failed => failed(&id, 4),
                        other => status(&id, other, i as u64),
                    };
                    store.record_delivery_status(&st).await.unwrap()
                })
            })
            .collect();
        let mut stored_count = 0;
        for t in tasks {
            stored_count += usize::from(t.await.unwrap());
        }
        // At least the first and the `failed`; never more than one per rank.
        assert!((1..=4).contains(&stored_count), "{stored_count}");
        assert_eq!(stored(&*s.store, &id).await, Some(failed(&id, 4)));
    }
}
