//! Graceful shutdown (SIGTERM) leaves every run in a state that resumes: runs under way reach
//! their next checkpoint and are handed back, queued runs stay queued, and after a restart all
//! finish with one session and one message each. Runs that outlast `--shutdown-grace` are
//! stopped where they are and resume with the same idempotency key.

use super::far_end::{
    SESSIONS, delay, distinct, messages_path, messages_with, order, requests_to, serve,
    session_keys, wait_until,
};
use crate::support::{Scratch, TestSandbox};
use std::time::{Duration, Instant};

#[test]
fn sigterm_lets_runs_reach_a_checkpoint_and_all_finish_after_restart() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    let args = ["--max-concurrent-runs", "8"];
    delay(&sandbox, SESSIONS, 8, 1000);
    let server = serve(dir.path(), &sandbox, &args);
    let ids: Vec<String> = (0..20).map(|i| format!("term-{i:02}")).collect();
    for id in &ids {
        assert_eq!(server.start_run(&order(id)).0, 201);
    }
    // Eight under way (held at the sandbox), twelve queued.
    wait_until(Duration::from_secs(10), "eight session requests", || {
        session_keys(&sandbox).values().map(Vec::len).sum::<usize>() == 8
    });
    let asked = Instant::now();
    assert_eq!(server.terminate(Duration::from_secs(20)), 0);
    let took = asked.elapsed();
    // The held requests were answered and checkpointed; nothing after them was sent.
    assert_eq!(sandbox.sandbox.sessions_created(), 8);
    assert!(sandbox.sandbox.whatsapp_messages().is_empty());

    let server = serve(dir.path(), &sandbox, &args);
    let mut resumed = 0;
    for id in &ids {
        let run = server.wait_for_end(id, Duration::from_secs(30));
        assert_eq!(run["status"], "succeeded", "{run}");
        let outcome = &run["outcome"];
        // A graceful stop never cuts a message: every delivery is known.
        assert!(
            outcome["messages"][0].get("delivery_unknown").is_none(),
            "{run}"
        );
        let url = outcome["outputs"]["payment_url"].as_str().unwrap();
        assert_eq!(messages_with(&sandbox, url), 1, "{run}");
        // The step under way finished before the stop: its request is not sent again.
        assert_eq!(session_keys(&sandbox)[id.as_str()].len(), 1, "{id}");
        if run["attempt"] == 2 {
            resumed += 1;
        }
    }
    assert_eq!(
        resumed, 8,
        "the eight under way were handed back and resumed"
    );
    assert_eq!(sandbox.sandbox.sessions_created(), 20);
    assert_eq!(sandbox.sandbox.whatsapp_messages().len(), 20);
    eprintln!(
        "SIGTERM with 8 runs under way and 12 queued: stopped in {took:?}; after restart 20 succeeded, 8 resumed, sessions=20, messages=20"
    );
}

#[test]
fn sigterm_past_the_grace_stops_runs_where_they_are_and_they_resume() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    let hold = Duration::from_millis(2000);
    delay(&sandbox, SESSIONS, 4, hold.as_millis() as u64);
    let args = ["--shutdown-grace", "200ms"];
    let server = serve(dir.path(), &sandbox, &args);
    let ids: Vec<String> = (0..4).map(|i| format!("grace-{i}")).collect();
    for id in &ids {
        assert_eq!(server.start_run(&order(id)).0, 201);
    }
    wait_until(Duration::from_secs(10), "four session requests", || {
        session_keys(&sandbox).values().map(Vec::len).sum::<usize>() == 4
    });
    let arrived = Instant::now();
    assert_eq!(server.terminate(Duration::from_secs(10)), 0);
    let took = arrived.elapsed();
    assert!(
        took < hold,
        "stopped after the grace, not the requests: {took:?}"
    );
    // Let the held requests end before the resumed ones arrive with the same keys.
    std::thread::sleep(
        (arrived + hold + Duration::from_millis(300)).saturating_duration_since(Instant::now()),
    );

    let server = serve(dir.path(), &sandbox, &args);
    for id in &ids {
        let run = server.wait_for_end(id, Duration::from_secs(30));
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["attempt"], 2, "{run}");
        let keys = &session_keys(&sandbox)[id.as_str()];
        assert_eq!(keys.len(), 2, "{id}: sent again after the stop: {keys:?}");
        assert_eq!(distinct(keys).len(), 1, "{id}: with the same key: {keys:?}");
        let url = run["outcome"]["outputs"]["payment_url"].as_str().unwrap();
        assert_eq!(messages_with(&sandbox, url), 1, "{run}");
    }
    assert_eq!(sandbox.sandbox.sessions_created(), 4);
    assert_eq!(sandbox.sandbox.whatsapp_messages().len(), 4);
    eprintln!(
        "SIGTERM past a 200ms grace with 4 requests held 2s: stopped in {took:?}; after restart 4 succeeded, each sent twice with one key, sessions=4, messages=4"
    );
}

#[test]
fn sigterm_during_a_message_lets_it_finish_and_it_is_not_sent_again() {
    let dir = Scratch::new();
    let sandbox = TestSandbox::start();
    delay(&sandbox, &messages_path(), 1, 1000);
    let server = serve(dir.path(), &sandbox, &[]);
    assert_eq!(server.start_run(&order("term-message")).0, 201);
    wait_until(Duration::from_secs(10), "the message request", || {
        requests_to(&sandbox, "POST", &messages_path()) == 1
    });
    assert_eq!(server.terminate(Duration::from_secs(20)), 0);
    // The send was let finish: delivered before the server exited.
    assert_eq!(sandbox.sandbox.whatsapp_messages().len(), 1);

    let server = serve(dir.path(), &sandbox, &[]);
    let run = server.wait_for_end("term-message", Duration::from_secs(30));
    assert_eq!(run["status"], "succeeded", "{run}");
    let message = &run["outcome"]["messages"][0];
    assert!(message.get("delivery_unknown").is_none(), "{run}");
    assert!(message["delivery_id"].is_string(), "{run}");
    assert_eq!(requests_to(&sandbox, "POST", &messages_path()), 1);
    assert_eq!(sandbox.sandbox.whatsapp_messages().len(), 1);
    assert_eq!(sandbox.sandbox.sessions_created(), 1);
    eprintln!(
        "SIGTERM during a message: it was delivered before exit, attempt={}, messages=1, delivery known",
        run["attempt"]
    );
}
