//! Retrying a failed run ([`RunStore::retry`]): it is queued again under the same run id with
//! the state it failed in, so that the next worker reopens that state and takes only the failed
//! step again (the charge before it is not sent again, the greeting not repeated); only a
//! failed run can be retried, and one that ended with an outcome but no stored state cannot.

use super::flow::{self, FLOW, Payments};
use super::{LEASE, Subject, claim_one};
use async_trait::async_trait;
use flowstep_engine::{
    Effect, Journal, JournalError, Outcome, RecordingChannel, ResumeRequest, RunMode, RunState,
    RunStatus, Step, StepContext, StepError,
};
use flowstep_spec::{Diagnostic, Flow, steps::StepDecl};
use flowstep_store::{Claimed, NewRun, RunStore, Status, StoreError, StoreJournal};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The contract's flow with a step after the charge that fails the first time it runs.
fn retry_flow() -> String {
    FLOW.replace(
        "  - id: say\n",
        "  - id: check\n    type: flaky\n  - id: say\n",
    )
}

/// `type: flaky`: fails while the counter is below 1, and counts each run.
struct Flaky(Arc<AtomicUsize>);

#[async_trait]
impl Step for Flaky {
    async fn run(&self, _: &mut StepContext<'_>) -> Result<(), StepError> {
        match self.0.fetch_add(1, Ordering::SeqCst) {
            0 => Err(StepError::new(
                flowstep_engine::ErrorKind::Transient,
                "the check service is down",
            )),
            _ => Ok(()),
        }
    }
}

fn payments(runs: &Arc<AtomicUsize>) -> Payments {
    let mut payments = Payments::new();
    let runs = runs.clone();
    payments.engine.register(
        "flaky",
        move |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
            Ok(Box::new(Flaky(runs.clone())))
        },
    );
    payments
}

/// The store's journal, keeping the run's state when it failed (as a server's worker does,
/// to save it with the run's end).
struct KeepFailed<'a> {
    inner: StoreJournal<'a>,
    failed: Mutex<Option<RunState>>,
}

#[async_trait]
impl Journal for KeepFailed<'_> {
    async fn checkpoint(&self, state: &RunState) -> Result<(), JournalError> {
        if state.is_finished() && state.status() == RunStatus::Failed {
            *self.failed.lock().unwrap() = Some(state.clone());
        }
        self.inner.checkpoint(state).await
    }

    async fn effect(&self, state: &RunState, effect: &Effect) -> Result<(), JournalError> {
        self.inner.effect(state, effect).await
    }
}

fn conflict(result: Result<(), StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(m)) => m,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

/// Runs (or, with a state, resumes) the claimed run to its end, and ends it as a worker does:
/// a failed run's state saved, then its outcome.
async fn run_to_end<S: RunStore>(
    store: &S,
    claimed: &Claimed,
    payments: &Payments,
    channel: &RecordingChannel,
) -> Outcome {
    let plan = payments.compile("pay.yaml", &claimed.flow_source);
    let journal = KeepFailed {
        inner: StoreJournal::new(store, claimed),
        failed: Mutex::new(None),
    };
    let outcome = match claimed.state.clone() {
        None => plan
            .run_journaled(
                flow::request(&claimed.run_id, &claimed.inputs, channel),
                &journal,
            )
            .await
            .unwrap(),
        Some(mut state) => {
            state.reopen().unwrap();
            let request = ResumeRequest {
                state,
                pending: claimed.pending.clone(),
                secrets: flow::secrets(),
                mode: RunMode::Live,
                channel,
                recipient: None,
                redactor: Default::default(),
            };
            plan.resume(request, &journal).await.unwrap()
        }
    };
    let failed = journal.failed.lock().unwrap().take();
    if let Some(state) = failed {
        store.save(claimed, &state).await.unwrap();
    }
    store.finish(claimed, &outcome).await.unwrap();
    outcome
}

pub async fn a_failed_run_is_retried_where_it_failed<S: RunStore>(s: Subject<S>) {
    let store = &*s.store;
    assert!(matches!(
        store.retry("no-such-run").await,
        Err(StoreError::NotFound(_))
    ));
    let runs_of_check = Arc::new(AtomicUsize::new(0));
    let payments = payments(&runs_of_check);
    let new = NewRun::new("retry-1", "pay.yaml", "pay", retry_flow()).inputs(flow::inputs("Asha"));
    store.create_run(new).await.unwrap();
    let message = conflict(store.retry("retry-1").await);
    assert!(
        message.contains("is queued; only a failed run"),
        "{message}"
    );

    let channel = RecordingChannel::new();
    let first = claim_one(store, "w1").await;
    let outcome = run_to_end(store, &first, &payments, &channel).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let failed = store.get_run("retry-1").await.unwrap().unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert!(failed.outcome.is_some() && failed.finished_at.is_some());
    assert_eq!((payments.requests(), channel.sent().len()), (1, 1));

    store.retry("retry-1").await.unwrap();
    let queued = store.get_run("retry-1").await.unwrap().unwrap();
    assert_eq!(queued.status, Status::Queued);
    assert_eq!(queued.attempt, 1, "a retry is counted when it is claimed");
    assert!(queued.outcome.is_none() && queued.error.is_none() && queued.finished_at.is_none());
    let message = conflict(store.retry("retry-1").await);
    assert!(message.contains("is queued"), "{message}");

    // The next claim resumes it from the state it failed in: the charge is not sent again and
    // the greeting not repeated; the failed step runs again, and the run goes on to its end.
    let second = claim_one(store, "w2").await;
    assert_eq!(second.attempt, 2);
    let state = second.state.as_ref().expect("the state it failed in");
    assert!(state.is_finished() && state.status() == RunStatus::Failed);
    let outcome = run_to_end(store, &second, &payments, &channel).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.steps);
    assert_eq!(payments.requests(), 1, "the charge was not sent again");
    assert_eq!(runs_of_check.load(Ordering::SeqCst), 2);
    let texts: Vec<String> = channel.sent().iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, ["Hello Asha", "Paid, Asha (1)"]);
    let ids: Vec<&str> = outcome.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["greet", "charge", "check", "say"],
        "one record per step"
    );
    let done = store.get_run("retry-1").await.unwrap().unwrap();
    assert_eq!(done.status, Status::Succeeded);
    let message = conflict(store.retry("retry-1").await);
    assert!(message.contains("is succeeded"), "{message}");

    // A run the store failed for a reason, before its first step: retried from its start.
    store
        .create_run(NewRun::new("retry-2", "pay.yaml", "pay", FLOW))
        .await
        .unwrap();
    let refused = claim_one(store, "w1").await;
    store
        .fail(&refused, "missing secret API_KEY")
        .await
        .unwrap();
    store.retry("retry-2").await.unwrap();
    let again = claim_one(store, "w1").await;
    assert_eq!((again.run_id.as_str(), again.attempt), ("retry-2", 2));
    assert!(again.state.is_none());

    // A run that ended failed with an outcome but no state cannot be resumed where it failed.
    store
        .create_run(NewRun::new("retry-3", "pay.yaml", "pay", FLOW))
        .await
        .unwrap();
    let claimed = store.claim("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.run_id, "retry-3");
    let mut old = store
        .get_run("retry-1")
        .await
        .unwrap()
        .unwrap()
        .outcome
        .unwrap();
    old.run_id = "retry-3".into();
    old.status = RunStatus::Failed;
    store.finish(&claimed, &old).await.unwrap();
    let message = conflict(store.retry("retry-3").await);
    assert!(
        message.contains("cannot be resumed where it failed"),
        "{message}"
    );
}
