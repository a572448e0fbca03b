//! The run store's contract, written against the [`RunStore`] trait alone, so that every
//! backend runs the same cases (SQLite now, Postgres later): a backend's test file makes a
//! fresh store per case and calls each function here (see `tests/sqlite.rs`).

pub mod deliveries;
pub mod events;
pub mod flow;
pub mod retry;
pub mod waits;

use flow::{FLOW, Payments};
use flowstep_engine::{
    Effect, EffectKind, Journal, JournalError, RecordingChannel, Redactor, ResumeRequest, RunError,
    RunMode, RunState, RunStatus,
};
use flowstep_store::{
    Claimed, Creation, Cursor, ManualClock, NewRun, RunFilter, RunStore, Status, StoreError,
    StoreJournal,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A fresh, empty store and the clock it reads.
pub struct Subject<S> {
    pub store: Arc<S>,
    pub clock: Arc<ManualClock>,
}

pub(crate) const LEASE: Duration = Duration::from_secs(30);

fn new_run(id: &str) -> NewRun {
    NewRun::new(id, "pay.yaml", "pay", FLOW).inputs(flow::inputs("Asha"))
}

pub(crate) async fn claim_one<S: RunStore>(store: &S, worker: &str) -> Claimed {
    store
        .claim(worker, LEASE)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{worker} found no run to claim"))
}

pub(crate) fn lease_lost(result: Result<(), StoreError>) -> String {
    match result {
        Err(e @ StoreError::LeaseLost { .. }) => e.to_string(),
        other => panic!("expected LeaseLost, got {other:?}"),
    }
}

pub async fn creating_a_run_twice_returns_the_first<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    assert!(matches!(
        store.create_run(new_run("order-1")).await.unwrap(),
        Creation::Created
    ));
    let again = new_run("order-1").inputs(flow::inputs("Someone else"));
    let Creation::Existing(existing) = store.create_run(again).await.unwrap() else {
        panic!("a second start of order-1 created a run");
    };
    assert_eq!(existing.run_id, "order-1");
    assert_eq!(existing.status, Status::Queued);
    assert_eq!(existing.attempt, 0);
    assert_eq!(existing.inputs["name"], "Asha", "the first start's inputs");
    assert_eq!(existing.flow_source, FLOW);
    assert_eq!(existing.flow_hash, flowstep_store::flow_hash(FLOW));
    let page = store
        .list_runs(&RunFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(page.runs.len(), 1);
    // One claim, then nothing: the duplicate start queued nothing.
    claim_one(store, "w1").await;
    assert!(store.claim("w1", LEASE).await.unwrap().is_none());
}

pub async fn concurrent_starts_of_one_run_make_one_run<S: RunStore + 'static>(s: Subject<S>) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let store = s.store.clone();
        tasks.spawn(async move {
            let run = new_run("order-race").inputs(flow::inputs(&format!("caller {i}")));
            store.create_run(run).await
        });
    }
    let mut created = 0;
    let mut existing = 0;
    while let Some(result) = tasks.join_next().await {
        match result.unwrap().unwrap() {
            Creation::Created => created += 1,
            Creation::Existing(run) => {
                assert_eq!(run.run_id, "order-race");
                existing += 1;
            }
        }
    }
    assert_eq!((created, existing), (1, 49));
    let page = s
        .store
        .list_runs(&RunFilter::default(), 100, None)
        .await
        .unwrap();
    assert_eq!(page.runs.len(), 1, "{page:?}");
}

pub async fn a_claimed_run_is_saved_and_finished<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    assert!(store.claim("w1", LEASE).await.unwrap().is_none(), "empty");
    store
        .create_run(new_run("order-1").recipient("+919000090000"))
        .await
        .unwrap();
    let claimed = claim_one(store, "w1").await;
    assert_eq!(claimed.run_id, "order-1");
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.worker_id, "w1");
    assert_eq!(claimed.flow_file, "pay.yaml");
    assert_eq!(claimed.flow_source, FLOW);
    assert_eq!(claimed.recipient.as_deref(), Some("+919000090000"));
    assert!(claimed.state.is_none() && claimed.pending.is_none() && claimed.event.is_none());
    let running = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(running.status, Status::Running);
    assert_eq!(running.lease_owner.as_deref(), Some("w1"));
    assert_eq!(running.lease_expires_at, Some(claimed.lease_expires_at));
    assert!(store.claim("w2", LEASE).await.unwrap().is_none(), "leased");

    let payments = Payments::new();
    let plan = payments.compile(&claimed.flow_file, &claimed.flow_source);
    let channel = RecordingChannel::new();
    let journal = StoreJournal::new(store, &claimed);
    let outcome = plan
        .run_journaled(
            flow::request(&claimed.run_id, &claimed.inputs, &channel),
            &journal,
        )
        .await
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    let saved = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(saved.status, Status::Running, "saved, not finished yet");
    // What the last effect (the receipt's message) wrote: the state it was sent from, and
    // the message as pending. The journal writes progress with effects; `finish` writes the
    // rest.
    let state = saved
        .state
        .clone()
        .expect("the state written with the last effect");
    assert!(!state.is_finished());
    assert_eq!(state.records().len(), 2);
    assert_eq!(state.steps_taken(), 2);
    assert_eq!(
        saved.pending.as_ref().map(|e| e.step.as_str()),
        Some("say"),
        "{saved:?}"
    );

    store.finish(&claimed, &outcome).await.unwrap();
    let done = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(done.status, Status::Succeeded);
    assert_eq!(done.outcome.unwrap().outputs["charged"], 1);
    assert!(
        done.state.is_none(),
        "the outcome holds what the state held"
    );
    assert!(done.lease_owner.is_none() && done.lease_expires_at.is_none());
    assert!(done.finished_at.is_some());
    assert!(store.claim("w1", LEASE).await.unwrap().is_none(), "ended");
    // A finished run takes no more writes from its worker.
    let message = lease_lost(store.save(&claimed, &state).await);
    assert!(message.contains("it is succeeded now"), "{message}");
}

pub async fn a_leased_run_goes_to_another_worker_only_when_the_lease_expires<S: RunStore>(
    s: Subject<S>,
) {
    let store = &*s.store;
    store.create_run(new_run("order-1")).await.unwrap();
    let first = claim_one(store, "w1").await;
    let state = flow::started_state("order-1").await;
    store.save(&first, &state).await.unwrap();
    assert!(store.claim("w2", LEASE).await.unwrap().is_none());
    // A heartbeat keeps the lease: 20 s, heartbeat, 20 s more is 40 s after the claim.
    s.clock.advance(Duration::from_secs(20));
    store.heartbeat(&first, LEASE).await.unwrap();
    s.clock.advance(Duration::from_secs(20));
    assert!(store.claim("w2", LEASE).await.unwrap().is_none());
    // Then the first worker goes quiet.
    s.clock.advance(LEASE);
    let second = claim_one(store, "w2").await;
    assert_eq!(second.run_id, "order-1");
    assert_eq!(second.attempt, 2);
    assert_eq!(
        second.state.as_ref().map(|s| s.run_id.as_str()),
        Some("order-1"),
        "the state the first worker saved"
    );
    // Every write of the first worker is refused now, and says why.
    let message = lease_lost(store.save(&first, &state).await);
    assert_eq!(
        message,
        "run `order-1`: the lease of attempt 1 was lost (worker `w2` claimed it again (attempt 2) after the lease expired; it is running now); this worker must stop running it"
    );
    lease_lost(store.heartbeat(&first, LEASE).await);
    let effect = Effect {
        step: "charge".into(),
        attempt: 1,
        kind: EffectKind::Message,
    };
    lease_lost(store.record_effect(&first, Some(&state), &effect).await);
    let outcome = state.to_outcome();
    lease_lost(store.finish(&first, &outcome).await);
    // The second worker's writes go through.
    store
        .record_effect(&second, Some(&state), &effect)
        .await
        .unwrap();
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.pending, Some(effect.clone()));
    assert_eq!(run.lease_owner.as_deref(), Some("w2"));
    // An effect recorded without a state keeps the state saved last.
    let saved = serde_json::to_value(&run.state).unwrap();
    let next = Effect {
        attempt: 2,
        ..effect
    };
    store.record_effect(&second, None, &next).await.unwrap();
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.pending, Some(next));
    assert_eq!(serde_json::to_value(&run.state).unwrap(), saved);
    assert!(saved.is_object(), "{saved}");
    store.finish(&second, &outcome).await.unwrap();
    assert_eq!(
        store.get_run("order-1").await.unwrap().unwrap().status,
        Status::Succeeded
    );
}

pub async fn runs_are_listed_newest_first_in_stable_pages<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    for i in 1..=7 {
        let flow = if i % 2 == 0 { "even" } else { "odd" };
        let run = NewRun::new(format!("run-{i}"), "pay.yaml", flow, FLOW);
        store.create_run(run).await.unwrap();
        s.clock.advance(Duration::from_millis(1));
    }
    let ids = |page: &flowstep_store::Page| {
        page.runs
            .iter()
            .map(|r| r.run_id.clone())
            .collect::<Vec<_>>()
    };
    let all = RunFilter::default();
    let first = store.list_runs(&all, 3, None).await.unwrap();
    assert_eq!(ids(&first), ["run-7", "run-6", "run-5"]);
    assert!(first.runs[0].created_at > first.runs[1].created_at);
    // A run created between two pages does not shift the next one.
    store
        .create_run(NewRun::new("run-8", "pay.yaml", "odd", FLOW))
        .await
        .unwrap();
    let cursor = Cursor::new(first.next.clone().unwrap().as_str());
    let second = store.list_runs(&all, 3, Some(&cursor)).await.unwrap();
    assert_eq!(ids(&second), ["run-4", "run-3", "run-2"]);
    let third = store
        .list_runs(&all, 3, second.next.as_ref())
        .await
        .unwrap();
    assert_eq!(ids(&third), ["run-1"]);
    assert!(third.next.is_none());
    // The same cursor gives the same page again.
    let again = store.list_runs(&all, 3, Some(&cursor)).await.unwrap();
    assert_eq!(again, second);

    let even = RunFilter {
        flow: Some("even".into()),
        ..RunFilter::default()
    };
    let page = store.list_runs(&even, 2, None).await.unwrap();
    assert_eq!(ids(&page), ["run-6", "run-4"]);
    let page = store.list_runs(&even, 2, page.next.as_ref()).await.unwrap();
    assert_eq!(ids(&page), ["run-2"]);
    assert!(page.next.is_none());

    claim_one(store, "w1").await; // the oldest: run-1
    let running = RunFilter {
        status: Some(Status::Running),
        ..RunFilter::default()
    };
    let page = store.list_runs(&running, 10, None).await.unwrap();
    assert_eq!(ids(&page), ["run-1"]);
    assert_eq!(page.runs[0].status, Status::Running);
    assert_eq!(page.runs[0].attempt, 1);
    assert_eq!(store.count_runs(&running).await.unwrap(), 1);
    let total = store.count_runs(&all).await.unwrap();
    assert!(total > 1, "{total}");
    let queued = RunFilter {
        status: Some(Status::Queued),
        ..RunFilter::default()
    };
    assert_eq!(store.count_runs(&queued).await.unwrap(), total - 1);

    let err = store
        .list_runs(&all, 3, Some(&Cursor::new("page-2")))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(
        err.to_string(),
        "the page cursor `page-2` was not made by this store; pass the `next` of the page before, as it was given"
    );
}

pub async fn cancelling_stops_a_run_and_its_worker<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    store.create_run(new_run("queued-1")).await.unwrap();
    store.cancel("queued-1").await.unwrap();
    assert!(store.claim("w1", LEASE).await.unwrap().is_none());
    let run = store.get_run("queued-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Cancelled);
    assert!(run.finished_at.is_some());

    store.create_run(new_run("running-1")).await.unwrap();
    let claimed = claim_one(store, "w1").await;
    store.cancel("running-1").await.unwrap();
    let state = flow::started_state("running-1").await;
    let message = lease_lost(store.save(&claimed, &state).await);
    assert!(message.contains("(it was cancelled)"), "{message}");

    let err = store.cancel("running-1").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "run `running-1` has ended (cancelled); only a queued, running or waiting run can be cancelled"
    );
    let err = store.cancel("nobody").await.unwrap_err();
    assert_eq!(err, StoreError::NotFound("nobody".into()));
    assert_eq!(err.to_string(), "run `nobody` is not in the store");
    assert!(store.get_run("nobody").await.unwrap().is_none());
}

pub async fn a_released_run_is_claimed_again_at_once_and_a_failed_one_says_why<S: RunStore>(
    s: Subject<S>,
) {
    let store = &*s.store;
    store.create_run(new_run("released-1")).await.unwrap();
    let first = claim_one(store, "w1").await;
    let state = flow::started_state("released-1").await;
    store.save(&first, &state).await.unwrap();
    store.release(&first).await.unwrap();
    let run = store.get_run("released-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Queued);
    assert_eq!(run.lease_owner, None);
    // No waiting for the lease: the next claim takes it, with the state saved before.
    let second = claim_one(store, "w2").await;
    assert_eq!(second.run_id, "released-1");
    assert_eq!(second.attempt, first.attempt + 1);
    assert_eq!(
        serde_json::to_value(second.state.as_ref().unwrap()).unwrap(),
        serde_json::to_value(&state).unwrap()
    );
    // The first worker's claim is fenced out, release included.
    let message = lease_lost(store.release(&first).await);
    assert!(message.contains("claimed it again"), "{message}");

    store
        .fail(&second, "its flow no longer compiles: E001 at pay.yaml:3:1")
        .await
        .unwrap();
    let run = store.get_run("released-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Failed);
    assert_eq!(
        run.error.as_deref(),
        Some("its flow no longer compiles: E001 at pay.yaml:3:1")
    );
    assert!(run.finished_at.is_some());
    assert!(store.claim("w3", LEASE).await.unwrap().is_none());
    let message = lease_lost(store.fail(&second, "again").await);
    assert!(message.contains("it is failed now"), "{message}");
}

pub async fn claim_many_takes_the_oldest_runnable_runs_in_one_go<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    for id in ["many-1", "many-2", "many-3"] {
        store.create_run(new_run(id)).await.unwrap();
    }
    let first = store.claim_many("w1", LEASE, 2).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|c| c.run_id.as_str()).collect();
    assert_eq!(ids, ["many-1", "many-2"]);
    assert!(first.iter().all(|c| c.attempt == 1 && c.worker_id == "w1"));
    assert!(first.iter().all(|c| c.flow_source == flow::FLOW));
    let rest = store.claim_many("w2", LEASE, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].run_id, "many-3");
    assert!(store.claim_many("w3", LEASE, 10).await.unwrap().is_empty());
    // Each claim holds its own run.
    let state = flow::started_state("many-2").await;
    store.save(&first[1], &state).await.unwrap();
    let run = store.get_run("many-2").await.unwrap().unwrap();
    assert_eq!(run.lease_owner.as_deref(), Some("w1"));
    assert!(run.state.is_some());
}

/// Writes of many runs at once (which a store may commit together) are each fenced on their
/// own: one stale claim among them fails alone.
pub async fn concurrent_writes_of_many_runs_are_each_fenced<S: RunStore + 'static>(s: Subject<S>) {
    let store = s.store.clone();
    for i in 0..24 {
        store
            .create_run(new_run(&format!("batch-{i}")))
            .await
            .unwrap();
    }
    let claimed = store.claim_many("w1", LEASE, 24).await.unwrap();
    assert_eq!(claimed.len(), 24);
    // batch-0 is cancelled: its writes must fail while the others land.
    store.cancel("batch-0").await.unwrap();
    // Three rounds, each with every run's write at once: checkpoints, effects, ends.
    for round in 0..3 {
        let mut tasks = tokio::task::JoinSet::new();
        for c in claimed.clone() {
            let store = store.clone();
            tasks.spawn(async move {
                let state = flow::started_state(&c.run_id).await;
                let written = match round {
                    0 => store.save(&c, &state).await,
                    1 => {
                        let effect = flowstep_engine::Effect {
                            step: "charge".into(),
                            attempt: 1,
                            kind: flowstep_engine::EffectKind::Message,
                        };
                        store.record_effect(&c, Some(&state), &effect).await
                    }
                    _ => store.finish(&c, &state.to_outcome()).await,
                };
                (c.run_id, written)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (run_id, written) = done.unwrap();
            match run_id.as_str() {
                "batch-0" => assert!(
                    matches!(written, Err(StoreError::LeaseLost { .. })),
                    "{written:?}"
                ),
                _ => written.unwrap(),
            }
        }
        for i in 1..24 {
            let run = store.get_run(&format!("batch-{i}")).await.unwrap().unwrap();
            // An ended run's outcome holds its state, which is not kept beside it.
            let id = match (&run.state, &run.outcome) {
                (Some(state), None) => state.run_id.clone(),
                (None, Some(outcome)) => outcome.run_id.clone(),
                other => panic!("batch-{i}: a state or an outcome: {other:?}"),
            };
            assert_eq!(id, format!("batch-{i}"));
            match round {
                0 => assert!(run.pending.is_none()),
                1 => assert_eq!(run.pending.unwrap().step, "charge"),
                _ => {
                    assert!(run.status.is_final(), "{:?}", run.status);
                    assert!(run.pending.is_none());
                    assert_eq!(run.outcome.unwrap().run_id, format!("batch-{i}"));
                }
            }
        }
    }
    let cancelled = store.get_run("batch-0").await.unwrap().unwrap();
    assert_eq!(cancelled.status, Status::Cancelled);
    assert!(cancelled.state.is_none());
}

pub async fn a_worker_cannot_store_another_runs_state_or_a_bad_run_id<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    let err = store.create_run(new_run("bad id!")).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    store.create_run(new_run("order-1")).await.unwrap();
    let claimed = claim_one(store, "w1").await;
    let other = flow::started_state("order-2").await;
    let err = store.save(&claimed, &other).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the state of run `order-2` was handed to the store for run `order-1`"
    );
}

/// A journal that passes each write to the store and then, at write number `crash_at`,
/// stops the run as a `kill -9` right after that write would.
struct CrashAfter<'a> {
    inner: StoreJournal<'a>,
    calls: AtomicUsize,
    crash_at: usize,
}

impl CrashAfter<'_> {
    fn tick(&self) -> Result<(), JournalError> {
        match self.calls.fetch_add(1, Ordering::SeqCst) == self.crash_at {
            true => Err(JournalError("killed".into())),
            false => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Journal for CrashAfter<'_> {
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError> {
        self.inner.checkpoint(state).await?;
        self.tick()
    }

    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError> {
        self.inner.effect(state, effect).await?;
        self.tick()
    }
}

pub async fn a_run_stopped_at_any_write_is_finished_by_the_next_worker<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    // Start, greet's message, after greet, charge's request, after charge, say's message,
    // after say, the end: the journal is handed each; it writes at the effects (1, 3, 5).
    for crash_at in 0..8 {
        let run_id = format!("order-{crash_at}");
        store.create_run(new_run(&run_id)).await.unwrap();
        let payments = Payments::new();
        let channel = RecordingChannel::new();

        let first = claim_one(store, "w1").await;
        let plan = payments.compile(&first.flow_file, &first.flow_source);
        let journal = CrashAfter {
            inner: StoreJournal::new(store, &first),
            calls: AtomicUsize::new(0),
            crash_at,
        };
        let err = plan
            .run_journaled(flow::request(&run_id, &first.inputs, &channel), &journal)
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::Journal(_)), "{crash_at}: {err}");

        s.clock.advance(LEASE + Duration::from_secs(1));
        let second = claim_one(store, "w2").await;
        assert_eq!(second.run_id, run_id);
        assert_eq!(second.attempt, 2);
        // Nothing is written before the first effect (a run with no saved state starts again);
        // after it, the last effect written is pending until the next one or the end.
        assert_eq!(second.state.is_none(), crash_at == 0, "{crash_at}");
        let pending = second.pending.as_ref().map(|e| e.step.clone());
        let expected = match crash_at {
            0 => None,
            1 | 2 => Some("greet"),
            3 | 4 => Some("charge"),
            _ => Some("say"),
        };
        assert_eq!(pending.as_deref(), expected, "{crash_at}");
        // The worker compiles the stored source, as a restarted process would.
        let plan = payments.compile(&second.flow_file, &second.flow_source);
        let journal = StoreJournal::new(store, &second);
        let outcome = match second.state.clone() {
            None => plan
                .run_journaled(flow::request(&run_id, &second.inputs, &channel), &journal)
                .await
                .unwrap(),
            Some(state) => plan
                .resume(
                    ResumeRequest {
                        state,
                        pending: second.pending.clone(),
                        secrets: flow::secrets(),
                        mode: RunMode::Live,
                        channel: &channel,
                        recipient: second.recipient.clone(),
                        redactor: Arc::new(Redactor::new()),
                    },
                    &journal,
                )
                .await
                .unwrap(),
        };
        store.finish(&second, &outcome).await.unwrap();

        assert_eq!(outcome.status, RunStatus::Succeeded, "{crash_at}");
        let steps: Vec<&str> = outcome.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            steps,
            ["greet", "charge", "say"],
            "{crash_at}: each step once"
        );
        assert_eq!(payments.charges(), 1, "{crash_at}: charged exactly once");
        // Sent again (with its key) when it had been sent and its result was not written yet
        // (4: after it, before the next effect); announced but not sent (3), sent once.
        assert_eq!(
            payments.requests(),
            1 + usize::from(crash_at == 4),
            "{crash_at}"
        );
        // A message pending at the crash is not sent again (it may have been): each of the
        // two is sent at most once, and one not sent is recorded as delivery unknown.
        let sent: Vec<String> = channel.sent().iter().map(|m| m.text.clone()).collect();
        let mut unique = sent.clone();
        unique.dedup();
        assert_eq!(sent, unique, "{crash_at}: no message twice");
        let unknown = outcome
            .messages
            .iter()
            .filter(|m| m.delivery_unknown)
            .count();
        assert_eq!(
            unknown,
            usize::from(matches!(expected, Some("greet") | Some("say"))),
            "{crash_at}: {:?}",
            outcome.messages
        );
        // Each is sent, or recorded as maybe sent (then it was sent, or not, once at most).
        assert!(
            sent.len() <= 2 && sent.len() + unknown >= 2,
            "{crash_at}: {sent:?}"
        );
        let stored = store.get_run(&run_id).await.unwrap().unwrap();
        assert_eq!(stored.status, Status::Succeeded);
        assert_eq!(stored.attempt, 2);
        assert!(stored.pending.is_none());
        assert_eq!(stored.outcome.unwrap().outputs, outcome.outputs);
    }
}

pub async fn a_stored_run_holds_no_secret<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    store.create_run(new_run("order-1")).await.unwrap();
    let claimed = claim_one(store, "w1").await;
    let payments = Payments::new();
    let plan = payments.compile(&claimed.flow_file, &claimed.flow_source);
    let channel = RecordingChannel::new();
    let outcome = plan
        .run_journaled(
            flow::request(&claimed.run_id, &claimed.inputs, &channel),
            &StoreJournal::new(store, &claimed),
        )
        .await
        .unwrap();
    // The state as stored while the run was under way, then the ended run.
    let running = store.get_run("order-1").await.unwrap().unwrap();
    store.finish(&claimed, &outcome).await.unwrap();
    let run = store.get_run("order-1").await.unwrap().unwrap();
    // The step did bring the key back (so the test can fail): redacted, in all three places.
    let state = serde_json::to_string(running.state.as_ref().unwrap()).unwrap();
    assert!(state.contains("charge_token") && state.contains("authorization"));
    let everything = format!(
        "{run:?}\n{state}\n{}",
        serde_json::to_string(&run.outcome).unwrap()
    );
    for form in flow::secret_forms() {
        assert!(
            !everything.contains(&form),
            "the stored run holds the secret ({form}): {everything}"
        );
    }
}

impl<S> Subject<S> {
    fn clock_now(&self) -> std::time::SystemTime {
        use flowstep_store::Clock;
        self.clock.now()
    }
}
