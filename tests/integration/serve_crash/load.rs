//! 500 runs started at once by several clients with 10% of the sandbox's answers faulted: every
//! run ends, none is lost, no run creates two sessions or sends two messages; then a second
//! batch with `kill -9` of the server mid-batch and a restart on the same database, and the same
//! checks over both batches.

use super::far_end::{
    SESSIONS, delay, distinct, order, requests_to, serve, session_keys, wait_until,
};
use super::patient_client::{Address, start_run};
use super::ram_dir::RamDir;
use crate::serve_support::Serve;
use crate::support::{TestSandbox, step_record};
use flowstep_sandbox::{Fault, FaultAction};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const RUNS: usize = 500;
const CLIENTS: usize = 8;
/// Runs held mid-request when the server is killed.
const HELD: usize = 10;
const CONCURRENCY: &[&str] = &["--max-concurrent-runs", "64"];

/// Keeps about 10% of the session requests faulted until `running` is cleared: one fault
/// for every nine sessions created, spread over the batch rather than all at its start, in
/// turn a retryable 503, a connection closed unread, and an answer lost after the session
/// was created (the retry must replay it). Returns how many it queued.
pub(crate) fn feed_faults(sandbox: &TestSandbox, running: &AtomicBool) -> usize {
    let base = sandbox.sandbox.sessions_created();
    let mut queued = 0;
    while running.load(Ordering::Relaxed) {
        let due = (sandbox.sandbox.sessions_created() - base) / 9 + 1;
        while queued < due {
            let action = match queued % 5 {
                0..=2 => FaultAction::Status {
                    status: 503,
                    body: None,
                    headers: vec![("Stripe-Should-Retry".into(), "true".into())],
                },
                3 => FaultAction::CloseBeforeProcessing,
                _ => FaultAction::DropResponse,
            };
            sandbox.sandbox.inject(Fault {
                path_prefix: Some(SESSIONS.into()),
                count: 1,
                action,
            });
            queued += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    queued
}

/// Starts runs `PREFIX-000` .. from `CLIENTS` threads at once; `posted` counts the answered.
fn post_batch(address: &Address, prefix: &str, posted: &AtomicUsize) -> Vec<String> {
    let ids: Vec<String> = (0..RUNS).map(|i| format!("{prefix}-{i:03}")).collect();
    std::thread::scope(|s| {
        for client in 0..CLIENTS {
            let ids = &ids;
            s.spawn(move || {
                for id in ids.iter().skip(client).step_by(CLIENTS) {
                    let (status, _) = start_run(address, &order(id), Duration::from_secs(60));
                    // 200: a start cut off by the kill had been stored; posted again, it
                    // returns that run.
                    assert!(matches!(status, 200 | 201), "POST {id}: {status}");
                    posted.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    ids
}

/// Waits until no run is queued or running.
fn wait_for_all(server: &Serve, limit: Duration) {
    let start = Instant::now();
    loop {
        let open: usize = ["queued", "running"]
            .iter()
            .map(|s| {
                let (code, page) =
                    server.call("GET", &format!("/v1/runs?status={s}&limit=1000"), None);
                assert_eq!(code, 200, "{page}");
                page["runs"].as_array().unwrap().len()
            })
            .sum();
        if open == 0 {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{open} run(s) still open after {limit:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every run id the server lists, page by page.
fn listed(server: &Serve) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/runs?limit=300&cursor={c}"),
            None => "/v1/runs?limit=300".to_owned(),
        };
        let (code, page) = server.call("GET", &path, None);
        assert_eq!(code, 200, "{page}");
        for r in page["runs"].as_array().unwrap() {
            ids.push(r["run_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

/// What the runs came to.
#[derive(Debug, Default)]
struct Tally {
    succeeded: usize,
    failed: usize,
    resumed: usize,
    delivery_unknown: usize,
}

/// Checks every run in `ids` against what the sandbox saw, and tallies them.
fn check(server: &Serve, sandbox: &TestSandbox, ids: &[String]) -> Tally {
    let mut listed: Vec<String> = listed(server);
    listed.sort();
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(listed, expected, "the runs listed are the runs started");

    let keys = session_keys(sandbox);
    // Messages by the session id in their link (`.../c/pay/<id>#...`).
    let mut messages: BTreeMap<String, usize> = BTreeMap::new();
    for m in sandbox.sandbox.whatsapp_messages() {
        let id = m
            .text
            .split("/c/pay/")
            .nth(1)
            .and_then(|r| r.split('#').next());
        *messages
            .entry(id.unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let mut tally = Tally::default();
    let mut sessions = BTreeSet::new();
    for id in ids {
        let run = server.run(id);
        let sent = &keys[id.as_str()];
        assert_eq!(
            distinct(sent).len(),
            1,
            "{id}: one idempotency key: {sent:?}"
        );
        if run["attempt"].as_u64().unwrap() > 1 {
            tally.resumed += 1;
        }
        let outcome = &run["outcome"];
        match run["status"].as_str() {
            Some("succeeded") => {
                tally.succeeded += 1;
                let session = outcome["outputs"]["session_id"].as_str().unwrap();
                assert!(sessions.insert(session.to_owned()), "{id}: {session} twice");
                let unknown = outcome["messages"][0]["delivery_unknown"] == true;
                let got = messages.get(session).copied().unwrap_or(0);
                if unknown {
                    tally.delivery_unknown += 1;
                    assert!(got <= 1, "{id}: {got} messages");
                } else {
                    assert_eq!(got, 1, "{id}: {got} messages: {run}");
                }
            }
            // Only a run whose every attempt met a fault may fail.
            Some("failed") => {
                tally.failed += 1;
                let step = step_record(outcome, "create_session");
                assert_eq!(step["attempts"], 3, "{id}: {run}");
                eprintln!(
                    "{id} failed (attempt {}): {}",
                    run["attempt"], step["error"]["message"]
                );
            }
            _ => panic!("{id} has not ended: {run}"),
        }
    }
    let created = sandbox.sandbox.sessions_created();
    // A run that failed after a lost answer may have a session no outcome names; with none
    // failed, every session is a succeeded run's.
    assert!(
        created >= tally.succeeded && created <= tally.succeeded + tally.failed,
        "{created} sessions for {tally:?}"
    );
    if tally.failed == 0 {
        assert_eq!(created, tally.succeeded);
    }
    let total: usize = messages.values().sum();
    assert!(total <= tally.succeeded, "{total} messages for {tally:?}");
    tally
}

/// Runs `batch` while faults are fed; what it returns, and how many faults were queued.
fn with_faults<T: Send>(sandbox: &TestSandbox, batch: impl FnOnce() -> T + Send) -> (T, usize) {
    let running = AtomicBool::new(true);
    std::thread::scope(|s| {
        let feeder = s.spawn(|| feed_faults(sandbox, &running));
        let result = batch();
        running.store(false, Ordering::Relaxed);
        (result, feeder.join().unwrap())
    })
}

#[test]
fn five_hundred_runs_with_faults_and_a_kill_mid_batch() {
    let started = Instant::now();
    let dir = RamDir::new("load");
    let sandbox = TestSandbox::start();
    let server = serve(dir.path(), &sandbox, CONCURRENCY);
    let address: Address = RwLock::new(server.url.clone());
    let (first, faults) = with_faults(&sandbox, || {
        let posted = AtomicUsize::new(0);
        let ids = post_batch(&address, "load-a", &posted);
        wait_for_all(&server, Duration::from_secs(90));
        ids
    });
    let tally = check(&server, &sandbox, &first);
    eprintln!(
        "500 runs, {faults} faults: {tally:?}; sessions_created={}, messages={}, in {:?}",
        sandbox.sandbox.sessions_created(),
        sandbox.sandbox.whatsapp_messages().len(),
        started.elapsed()
    );

    // The second batch: kill -9 once a third of it is posted, restart, the clients go on.
    let second = Instant::now();
    let ((ids, server), faults) = with_faults(&sandbox, || {
        let posted = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let clients = s.spawn(|| post_batch(&address, "load-b", &posted));
            while posted.load(Ordering::Relaxed) < RUNS / 3 {
                std::thread::sleep(Duration::from_millis(5));
            }
            // Ten session requests held at the sandbox, so that the kill surely catches runs
            // in the middle of a request (one fault from the feeder may come first).
            let before = requests_to(&sandbox, "POST", SESSIONS);
            delay(&sandbox, SESSIONS, HELD, 1000);
            wait_until(Duration::from_secs(30), "the held requests", || {
                requests_to(&sandbox, "POST", SESSIONS) > before + HELD
            });
            server.kill9();
            let at_kill = posted.load(Ordering::Relaxed);
            let restarted = serve(dir.path(), &sandbox, CONCURRENCY);
            *address.write().unwrap() = restarted.url.clone();
            let ids = clients.join().unwrap();
            eprintln!("killed with {at_kill} of the second batch's starts answered");
            wait_for_all(&restarted, Duration::from_secs(90));
            (ids, restarted)
        })
    });
    let all: Vec<String> = first.iter().chain(&ids).cloned().collect();
    let tally = check(&server, &sandbox, &all);
    eprintln!(
        "1000 runs, {faults} more faults, a kill mid-batch: {tally:?}; sessions_created={}, messages={}, second batch in {:?}, in all {:?}",
        sandbox.sandbox.sessions_created(),
        sandbox.sandbox.whatsapp_messages().len(),
        second.elapsed(),
        started.elapsed()
    );
    assert!(
        tally.resumed >= HELD - 1,
        "the kill caught the held runs under way: {tally:?}"
    );
}
