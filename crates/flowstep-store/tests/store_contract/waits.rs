//! The waits' contract: a run parked at a `wait` step is woken once, by the first event that
//! matches it (recorded before or after it parked) or by its deadline, and an event wakes at
//! most one run.

use super::{LEASE, Subject, claim_one, lease_lost};
use flowstep_engine::{
    Engine, Journal, JournalError, NoJournal, RecordingChannel, ResumeRequest, RunMode, RunRequest,
    RunState, RunStatus, WaitEvent,
};
use flowstep_store::{NewEvent, NewRun, Recorded, RunStore, Status};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A flow that waits for its Checkout Session to be completed or to expire.
pub const WAIT_FLOW: &str = r#"flow: await
inputs:
  session_id: { type: string }
steps:
  - id: await_payment
    type: wait
    for: [stripe.checkout.session.completed, stripe.checkout.session.expired]
    match: { data.object.id: <<session_id>> }
    timeout: 1h
    map: { paid: $.data.object.payment_status }
    on_timeout: too_late
  - id: thanks
    type: message
    text: Payment received (<<paid>>)
    next: done
  - id: too_late
    type: message
    text: The link expired
  - id: done
    type: set
    values: { finished: yes }
"#;

fn new_run(run_id: &str, session: &str) -> NewRun {
    let mut run = NewRun::new(run_id, "await.yaml", "await", WAIT_FLOW);
    run.inputs.insert("session_id".into(), json!(session));
    run
}

/// The state run `run_id` is in when it reaches its wait.
async fn waiting_state(run_id: &str, session: &str) -> RunState {
    #[derive(Default)]
    struct Last(Mutex<Option<RunState>>);
    #[async_trait::async_trait]
    impl Journal for Last {
        async fn checkpoint(&self, s: &RunState) -> Result<(), JournalError> {
            *self.0.lock().unwrap() = Some(s.clone());
            NoJournal.checkpoint(s).await
        }
        async fn effect(
            &self,
            _: &RunState,
            _: &flowstep_engine::Effect,
        ) -> Result<(), JournalError> {
            Ok(())
        }
    }
    let plan = Engine::new().compile_text("await.yaml", WAIT_FLOW).unwrap();
    let last = Last::default();
    let request = RunRequest::new()
        .run_id(run_id)
        .input("session_id", session);
    let outcome = plan.run_journaled(request, &last).await.unwrap();
    assert_eq!(outcome.status, RunStatus::Waiting);
    let state = last.0.into_inner().unwrap().unwrap();
    assert!(state.is_suspended());
    state
}

fn event(id: &str, event_type: &str, session: &str, at: SystemTime) -> NewEvent {
    NewEvent {
        provider: "stripe".into(),
        event_id: id.into(),
        event_type: event_type.into(),
        payload: json!({"id": id, "type": event_type, "data": {"object": {"id": session, "payment_status": "paid"}}}),
        received_at: at,
    }
}

/// The waits of WAIT_FLOW, as a server hands them to `record_event`.
fn shapes() -> Vec<(String, Vec<String>)> {
    Engine::new()
        .compile_text("await.yaml", WAIT_FLOW)
        .unwrap()
        .wait_shapes()
}

/// Resumes the claimed run with what woke it; its outcome and messages.
async fn resume(claimed: &flowstep_store::Claimed) -> (RunStatus, Vec<String>) {
    let plan = Engine::new().compile_text("await.yaml", WAIT_FLOW).unwrap();
    let mut state = claimed.state.clone().expect("a saved state");
    state
        .deliver(claimed.event.clone().expect("what woke it"))
        .unwrap();
    let channel = RecordingChannel::new();
    let outcome = plan
        .resume(
            ResumeRequest {
                state,
                pending: None,
                secrets: Default::default(),
                mode: RunMode::Live,
                channel: &channel,
                recipient: None,
                redactor: Default::default(),
            },
            &NoJournal,
        )
        .await
        .unwrap();
    let texts = outcome.messages.iter().map(|m| m.text.clone()).collect();
    (outcome.status, texts)
}

pub async fn a_waiting_run_is_woken_once_by_the_event_that_matches<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    store.create_run(new_run("order-1", "cs_1")).await.unwrap();
    let claimed = claim_one(store, "w1").await;
    let state = waiting_state("order-1", "cs_1").await;
    assert!(!store.register_wait(&claimed, &state).await.unwrap());
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Waiting);
    let wait = run.wait.expect("what it waits for");
    assert_eq!(wait.step, "await_payment");
    assert_eq!(wait.matches, vec![("data.object.id".into(), "cs_1".into())]);
    assert!(run.lease_owner.is_none(), "the lease is released");
    // Parked: no worker gets it, and its worker's writes are refused.
    assert!(store.claim("w2", LEASE).await.unwrap().is_none());
    let message = lease_lost(store.save(&claimed, &state).await);
    assert!(message.contains("it is waiting now"), "{message}");

    let now = s.clock_now();
    let shapes = shapes();
    // Another session's event, and another type of event for this one, wake nothing.
    let other = event("evt_0", "checkout.session.completed", "cs_2", now);
    let refunded = event("evt_r", "charge.refunded", "cs_1", now);
    for e in [other, refunded] {
        assert_eq!(
            store.record_event(e, &shapes).await.unwrap(),
            Recorded::Inserted { woke: None }
        );
    }
    assert_eq!(
        store.get_run("order-1").await.unwrap().unwrap().status,
        Status::Waiting
    );
    // Its event wakes it, once: a re-delivery is a duplicate, and a second event is nobody's.
    let paid = event("evt_1", "checkout.session.completed", "cs_1", now);
    assert_eq!(
        store.record_event(paid.clone(), &shapes).await.unwrap(),
        Recorded::Inserted {
            woke: Some("order-1".into())
        }
    );
    assert_eq!(
        store.record_event(paid, &shapes).await.unwrap(),
        Recorded::Duplicate
    );
    let expired = event("evt_2", "checkout.session.expired", "cs_1", now);
    assert_eq!(
        store.record_event(expired, &shapes).await.unwrap(),
        Recorded::Inserted { woke: None }
    );
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Queued);
    assert!(run.wait.is_none());
    // The woken run is claimed with its state and the event, and goes on from its wait.
    let woken = claim_one(store, "w3").await;
    assert_eq!(woken.attempt, 2);
    match &woken.event {
        Some(WaitEvent::Event { event_id, .. }) => assert_eq!(event_id, "evt_1"),
        other => panic!("expected the event, got {other:?}"),
    }
    let (status, texts) = resume(&woken).await;
    assert_eq!(status, RunStatus::Succeeded);
    assert_eq!(texts, ["Payment received (paid)"]);
    // Its deadline no longer fires.
    let later = now + Duration::from_secs(7200);
    assert!(store.fire_timers(later, 10).await.unwrap().is_empty());
}

pub async fn an_event_that_came_first_ends_the_wait_at_once<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    // An event from before the run was created is not the run's (an old message, or the
    // one that started it).
    let old = event(
        "evt_old",
        "checkout.session.completed",
        "cs_fast",
        s.clock_now(),
    );
    store.record_event(old, &shapes()).await.unwrap();
    s.clock.advance(Duration::from_millis(5));
    store
        .create_run(new_run("order-1", "cs_fast"))
        .await
        .unwrap();
    s.clock.advance(Duration::from_millis(5));
    // The customer paid before the run reached its wait.
    let paid = event(
        "evt_fast",
        "checkout.session.completed",
        "cs_fast",
        s.clock_now(),
    );
    assert_eq!(
        store.record_event(paid, &shapes()).await.unwrap(),
        Recorded::Inserted { woke: None }
    );
    let claimed = claim_one(store, "w1").await;
    let state = waiting_state("order-1", "cs_fast").await;
    assert!(
        store.register_wait(&claimed, &state).await.unwrap(),
        "woken at once"
    );
    let woken = claim_one(store, "w1").await;
    match &woken.event {
        Some(WaitEvent::Event { event_id, .. }) => assert_eq!(event_id, "evt_fast"),
        other => panic!("expected evt_fast, got {other:?}"),
    }
    let (status, texts) = resume(&woken).await;
    assert_eq!((status, texts.len()), (RunStatus::Succeeded, 1));
    // The event was taken: a second run waiting for the same session is not woken by it.
    store
        .create_run(new_run("order-2", "cs_fast"))
        .await
        .unwrap();
    let second = claim_one(store, "w1").await;
    let state = waiting_state("order-2", "cs_fast").await;
    assert!(!store.register_wait(&second, &state).await.unwrap());
    assert_eq!(
        store.get_run("order-2").await.unwrap().unwrap().status,
        Status::Waiting
    );
}

pub async fn a_deadline_wakes_the_run_with_a_timeout_once<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    store.create_run(new_run("order-1", "cs_1")).await.unwrap();
    let claimed = claim_one(store, "w1").await;
    let state = waiting_state("order-1", "cs_1").await;
    let deadline =
        SystemTime::UNIX_EPOCH + Duration::from_millis(state.waiting().unwrap().deadline_ms);
    store.register_wait(&claimed, &state).await.unwrap();
    let before = deadline - Duration::from_secs(1);
    assert!(store.fire_timers(before, 10).await.unwrap().is_empty());
    assert_eq!(store.fire_timers(deadline, 10).await.unwrap(), ["order-1"]);
    assert!(
        store.fire_timers(deadline, 10).await.unwrap().is_empty(),
        "once"
    );
    // Its event, now, is nobody's.
    let paid = event(
        "evt_late",
        "checkout.session.completed",
        "cs_1",
        s.clock_now(),
    );
    assert_eq!(
        store.record_event(paid, &shapes()).await.unwrap(),
        Recorded::Inserted { woke: None }
    );
    let woken = claim_one(store, "w2").await;
    assert_eq!(woken.event, Some(WaitEvent::Timeout));
    let (status, texts) = resume(&woken).await;
    assert_eq!(status, RunStatus::Succeeded, "on_timeout leads on");
    assert_eq!(texts, ["The link expired"]);
}

pub async fn a_cancelled_wait_takes_no_event_and_old_events_are_forgotten<S: RunStore>(
    s: Subject<S>,
) {
    let store = &*s.store;
    store.create_run(new_run("order-1", "cs_1")).await.unwrap();
    let claimed = claim_one(store, "w1").await;
    store
        .register_wait(&claimed, &waiting_state("order-1", "cs_1").await)
        .await
        .unwrap();
    store.cancel("order-1").await.unwrap();
    let now = s.clock_now();
    let paid = event("evt_1", "checkout.session.completed", "cs_1", now);
    assert_eq!(
        store.record_event(paid, &shapes()).await.unwrap(),
        Recorded::Inserted { woke: None }
    );
    assert_eq!(
        store.get_run("order-1").await.unwrap().unwrap().status,
        Status::Cancelled
    );
    // Past retention, an event is forgotten: not listed, not matched.
    let old = now - flowstep_store::EVENT_RETENTION - Duration::from_secs(60);
    let stale = event("evt_old", "checkout.session.completed", "cs_2", old);
    store.record_event(stale, &shapes()).await.unwrap();
    let forgotten = store
        .prune_events(now - flowstep_store::EVENT_RETENTION)
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    let listed: Vec<Value> = store
        .list_events(None, 10, None)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| json!(e.event_id))
        .collect();
    assert_eq!(listed, [json!("evt_1")]);
    store.create_run(new_run("order-2", "cs_2")).await.unwrap();
    let second = claim_one(store, "w1").await;
    let state = waiting_state("order-2", "cs_2").await;
    assert!(!store.register_wait(&second, &state).await.unwrap());
}

/// A run parking at its wait and its event arriving at the same moment always meet: however
/// the two interleave (a backend that runs them side by side must make one see the other),
/// the run is woken by the event, once, and none is left waiting for an event already stored.
pub async fn a_wait_and_its_event_arriving_together_always_meet<S: RunStore + 'static>(
    s: Subject<S>,
) {
    const RUNS: usize = 24;
    let store = s.store.clone();
    let mut parked = Vec::new();
    for i in 0..RUNS {
        let run_id = format!("race-{i}");
        store
            .create_run(new_run(&run_id, &format!("cs_race_{i}")))
            .await
            .unwrap();
        let claimed = claim_one(&*store, "w1").await;
        let state = waiting_state(&claimed.run_id, &format!("cs_race_{i}")).await;
        parked.push((claimed, state));
    }
    // The event is received after the runs were created (the clock moves on).
    s.clock.advance(Duration::from_millis(5));
    let now = s.clock_now();
    let mut tasks = tokio::task::JoinSet::new();
    for (claimed, state) in parked {
        let session = state.run_id.replace("race-", "cs_race_");
        let (a, b) = (store.clone(), store.clone());
        tasks.spawn(async move { a.register_wait(&claimed, &state).await.map(|_| ()) });
        tasks.spawn(async move {
            let paid = event(
                &format!("evt_{session}"),
                "checkout.session.completed",
                &session,
                now,
            );
            b.record_event(paid, &shapes()).await.map(|_| ())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    for i in 0..RUNS {
        let run = store.get_run(&format!("race-{i}")).await.unwrap().unwrap();
        assert_eq!(run.status, Status::Queued, "race-{i} was woken: {run:?}");
        match &run.event {
            Some(WaitEvent::Event { event_id, .. }) => {
                assert_eq!(event_id, &format!("evt_cs_race_{i}"))
            }
            other => panic!("race-{i}: expected its event, got {other:?}"),
        }
        assert_eq!(
            store
                .event_woke("stripe", &format!("evt_cs_race_{i}"))
                .await
                .unwrap()
                .as_deref(),
            Some(format!("race-{i}").as_str())
        );
    }
}

/// Deadlines fired by several workers at once fire each run once: every waiting run is woken
/// by exactly one `fire_timers` call.
pub async fn timers_fired_by_many_workers_at_once_fire_each_once<S: RunStore + 'static>(
    s: Subject<S>,
) {
    const RUNS: usize = 30;
    let store = s.store.clone();
    let mut deadline = SystemTime::UNIX_EPOCH;
    for i in 0..RUNS {
        let run_id = format!("timer-{i}");
        store
            .create_run(new_run(&run_id, &format!("cs_t_{i}")))
            .await
            .unwrap();
        let claimed = claim_one(&*store, "w1").await;
        let state = waiting_state(&run_id, &format!("cs_t_{i}")).await;
        let at =
            SystemTime::UNIX_EPOCH + Duration::from_millis(state.waiting().unwrap().deadline_ms);
        deadline = deadline.max(at);
        assert!(!store.register_wait(&claimed, &state).await.unwrap());
    }
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let store = store.clone();
        workers.spawn(async move {
            let mut fired = Vec::new();
            loop {
                let batch = store.fire_timers(deadline, 4).await.unwrap();
                if batch.is_empty() {
                    return fired;
                }
                fired.extend(batch);
            }
        });
    }
    let mut fired: Vec<String> = workers.join_all().await.into_iter().flatten().collect();
    fired.sort();
    let mut expected: Vec<String> = (0..RUNS).map(|i| format!("timer-{i}")).collect();
    expected.sort();
    assert_eq!(fired, expected, "each deadline fired exactly once");
    for id in &expected {
        let run = store.get_run(id).await.unwrap().unwrap();
        assert_eq!(run.status, Status::Queued);
        assert_eq!(run.event, Some(WaitEvent::Timeout));
    }
}
