//! The Postgres store against a real Postgres server this test binary starts (one server, a
//! fresh database per case; see `flowstep-test-postgres`): the store contract (every case of
//! `store_contract`), and what only a shared database shows: two stores (as two worker
//! processes) never claim the same run, a run started through one wakes a worker waiting on the
//! other (LISTEN/NOTIFY), two stores taking turns from one shared rate limit, databases that are refused (another program's tables, a newer
//! schema), a server that cannot be reached and a missing database reported as unavailable with
//! no password shown, and no secret anywhere in the database.
//!
//! Without the Postgres binaries every test here passes without running, after one loud line
//! on stderr; `FLOWSTEP_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes that a failure.

mod store_contract;

use flowstep_store::postgres::{PostgresOptions, PostgresStore};
use flowstep_store::{ManualClock, NewRun, RunStore, StoreError};
use flowstep_test_postgres::TestPostgres;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use store_contract::Subject;
use store_contract::flow::FLOW;

/// The server every test of this binary uses (`None`: the binaries are absent). It is stopped
/// by its watchdog when the binary exits (statics are never dropped).
fn server() -> Option<&'static TestPostgres> {
    static SERVER: OnceLock<Option<TestPostgres>> = OnceLock::new();
    SERVER.get_or_init(TestPostgres::start).as_ref()
}

/// A fresh database named after `name`: its URL.
fn database(pg: &TestPostgres, name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "{}_{}",
        name.to_lowercase(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    // Postgres names are at most 63 bytes.
    let name: String = name
        .chars()
        .rev()
        .take(60)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let name = format!("t{}", name.trim_start_matches('_'));
    pg.create_database(&name)
}

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600) // 2026-01-01
}

fn options(clock: &Arc<ManualClock>) -> PostgresOptions {
    // Many cases run at once against one server: a few connections each.
    PostgresOptions::default()
        .clock(clock.clone())
        .max_connections(6)
}

async fn fresh(name: &str) -> Option<(String, Subject<PostgresStore>)> {
    let pg = server()?;
    let url = database(pg, name);
    let clock = Arc::new(ManualClock::new(start()));
    let store = PostgresStore::open_with(&url, options(&clock))
        .await
        .unwrap();
    let subject = Subject {
        store: Arc::new(store),
        clock,
    };
    Some((url, subject))
}

macro_rules! contract {
    ($module:path: $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((_url, subject)) = fresh(stringify!($case)).await else {
                    return;
                };
                use $module as module;
                module::$case(subject).await;
            }
        )*
    };
}

contract!(store_contract:
    creating_a_run_twice_returns_the_first,
    concurrent_starts_of_one_run_make_one_run,
    a_claimed_run_is_saved_and_finished,
    a_leased_run_goes_to_another_worker_only_when_the_lease_expires,
    runs_are_listed_newest_first_in_stable_pages,
    concurrent_writes_of_many_runs_are_each_fenced,
    claim_many_takes_the_oldest_runnable_runs_in_one_go,
    a_released_run_is_claimed_again_at_once_and_a_failed_one_says_why,
    cancelling_stops_a_run_and_its_worker,
    a_worker_cannot_store_another_runs_state_or_a_bad_run_id,
    a_run_stopped_at_any_write_is_finished_by_the_next_worker,
    a_stored_run_holds_no_secret,
);

contract!(store_contract::waits:
    a_waiting_run_is_woken_once_by_the_event_that_matches,
    an_event_that_came_first_ends_the_wait_at_once,
    a_deadline_wakes_the_run_with_a_timeout_once,
    a_cancelled_wait_takes_no_event_and_old_events_are_forgotten,
    a_wait_and_its_event_arriving_together_always_meet,
    timers_fired_by_many_workers_at_once_fire_each_once,
);

contract!(store_contract::events:
    an_event_is_recorded_once_per_provider_and_id,
    concurrent_deliveries_of_one_event_store_it_once,
    events_are_listed_newest_first_in_stable_pages,
);

contract!(store_contract::retry:
    a_failed_run_is_retried_where_it_failed,
);

contract!(store_contract::deliveries:
    the_furthest_delivery_status_is_kept_whatever_the_order,
    racing_delivery_statuses_keep_the_furthest,
);

fn new_run(id: &str) -> NewRun {
    NewRun::new(id, "pay.yaml", "pay", FLOW)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_sharing_a_database_never_claim_the_same_run() {
    let Some(pg) = server() else { return };
    let url = database(pg, "shared");
    let clock = Arc::new(ManualClock::new(start()));
    // Two stores, as two worker processes have: separate pools, one database.
    let a = Arc::new(
        PostgresStore::open_with(&url, options(&clock))
            .await
            .unwrap(),
    );
    let b = Arc::new(
        PostgresStore::open_with(&url, options(&clock))
            .await
            .unwrap(),
    );
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..80 {
        let (store, again) = match i % 2 {
            0 => (a.clone(), b.clone()),
            _ => (b.clone(), a.clone()),
        };
        // Every run is started twice, once through each store.
        creates.spawn(async move {
            let id = format!("order-{}", i / 2);
            store.create_run(new_run(&id)).await.unwrap();
            again.create_run(new_run(&id)).await.unwrap();
        });
    }
    creates.join_all().await;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..6 {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        workers.spawn(async move {
            let mut got = Vec::new();
            // Bounded, so that a claim that hands out a run twice fails the test, not hangs it.
            while got.len() <= 40 {
                let batch = store
                    .claim_many(&format!("w{w}"), Duration::from_secs(60), 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                got.extend(batch.into_iter().map(|c| c.run_id));
            }
            got
        });
    }
    let mut claimed: Vec<String> = workers.join_all().await.into_iter().flatten().collect();
    claimed.sort();
    let mut expected: Vec<String> = (0..40).map(|i| format!("order-{i}")).collect();
    expected.sort();
    assert_eq!(claimed, expected, "each run claimed exactly once");
    // A worker that dies holds its runs until the lease expires; then the other takes them.
    assert!(
        a.claim("w9", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    clock.advance(Duration::from_secs(61));
    let again = b
        .claim_many("w9", Duration::from_secs(60), 100)
        .await
        .unwrap();
    assert_eq!(again.len(), 40);
    assert!(again.iter().all(|c| c.attempt == 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_through_one_worker_wakes_another_waiting_for_work() {
    let Some(pg) = server() else { return };
    let url = database(pg, "notify");
    let clock = Arc::new(ManualClock::new(start()));
    let a = PostgresStore::open_with(&url, options(&clock))
        .await
        .unwrap();
    let b = Arc::new(
        PostgresStore::open_with(&url, options(&clock))
            .await
            .unwrap(),
    );
    // The first wait starts b's listener; nothing is runnable, so it waits out its 200 ms.
    let started = Instant::now();
    b.wait_for_work(Duration::from_millis(200)).await;
    assert!(started.elapsed() >= Duration::from_millis(190));
    let waiter = {
        let b = b.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            b.wait_for_work(Duration::from_secs(20)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.create_run(new_run("order-1")).await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(
        waited < Duration::from_secs(5),
        "woken by the notification, not the 20 s timeout: {waited:?}"
    );
    assert_eq!(
        b.claim("w2", Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap()
            .run_id,
        "order-1"
    );
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_another_program_or_a_newer_schema_is_refused() {
    let Some(pg) = server() else { return };
    let url = database(pg, "theirs");
    let name = url.rsplit('/').next().unwrap().to_owned();
    pg.psql(&name, "CREATE TABLE customers (id INT PRIMARY KEY)");
    let err = PostgresStore::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the run store {url} cannot be used: the database has tables of its own (customers) and no flowstep run store; flowstep refuses to write into it (give it a database of its own)"
        )
    );
    assert_eq!(
        pg.psql(
            &name,
            "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'runs'"
        )
        .trim(),
        "0",
        "nothing written"
    );

    let url = database(pg, "newer");
    let name = url.rsplit('/').next().unwrap().to_owned();
    let store = PostgresStore::open(&url).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    store.close().await;
    // Reopening keeps the runs.
    let store = PostgresStore::open(&url).await.unwrap();
    assert!(store.get_run("order-1").await.unwrap().is_some());
    store.close().await;
    let known = PostgresStore::schema_version();
    pg.psql(
        &name,
        &format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ({}, 'from the future', true, '\\x00', 0)",
            known + 1
        ),
    );
    let err = PostgresStore::open(&url).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::NewerSchema {
            location: url.clone(),
            found: known + 1,
            known
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_and_a_missing_database_are_unavailable_and_no_password_is_shown() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://flowstep:hunter2-secret@127.0.0.1:{port}/runs?sslmode=disable");
    let err = PostgresStore::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "the run store postgres://flowstep@127.0.0.1:{port}/runs is unavailable: cannot reach the Postgres server:"
        )),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");

    let Some(pg) = server() else { return };
    let url = pg.url("no_such_database");
    let err = PostgresStore::open(&url).await.unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(
        shown.contains("the database does not exist; create it"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_anywhere_in_the_database() {
    let Some((url, subject)) = fresh("secret_rows").await else {
        return;
    };
    let store = subject.store.clone();
    store_contract::a_stored_run_holds_no_secret(subject).await;
    store.close().await;
    let pg = server().unwrap();
    let name = url.rsplit('/').next().unwrap();
    // Every row of every table, as text.
    let dump = pg.psql(
        name,
        "SELECT string_agg(t::text, E'\\n') FROM (SELECT r::text AS t FROM runs r UNION ALL SELECT f::text FROM flows f UNION ALL SELECT e::text FROM events e) AS rows(t)",
    );
    assert!(
        dump.contains("charge_token"),
        "the run's state is in the rows"
    );
    for form in store_contract::flow::secret_forms() {
        assert!(!dump.contains(&form), "the database holds {form}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_take_turns_from_one_shared_rate_limit() {
    let Some(pg) = server() else { return };
    let url = database(pg, "rate_limits");
    let clock = Arc::new(ManualClock::new(start()));
    // Two stores, as two worker processes have, asking for turns at 1 a second, burst 2 (a
    // slow rate, so that a loaded machine's pauses between the calls do not blur it).
    let a = PostgresStore::open_with(&url, options(&clock))
        .await
        .unwrap();
    let b = PostgresStore::open_with(&url, options(&clock))
        .await
        .unwrap();
    let (a, b) = (
        a.shared_rate_limiter().unwrap(),
        b.shared_rate_limiter().unwrap(),
    );
    let key = "http:graph.facebook.com";
    // The burst: two turns at once, one from each.
    assert_eq!(a.try_acquire(key, 1.0, 2).await.unwrap(), Duration::ZERO);
    assert_eq!(b.try_acquire(key, 1.0, 2).await.unwrap(), Duration::ZERO);
    // Then the next waits its interval, whoever asks, and asking counts nothing.
    let wait = a.try_acquire(key, 1.0, 2).await.unwrap();
    assert!(
        wait > Duration::from_millis(500) && wait <= Duration::from_secs(1),
        "{wait:?}"
    );
    let again = b.try_acquire(key, 1.0, 2).await.unwrap();
    assert!(
        again > Duration::ZERO && again <= wait,
        "{again:?} after {wait:?}"
    );
    tokio::time::sleep(again).await;
    assert_eq!(b.try_acquire(key, 1.0, 2).await.unwrap(), Duration::ZERO);
    // Another key has an allowance of its own.
    assert_eq!(
        a.try_acquire("http:api.stripe.com", 1.0, 2).await.unwrap(),
        Duration::ZERO
    );
    // 40 turns at 10 a second, taken by both as fast as they are given, span 3.9 s or more
    // less the burst: the database is the one clock.
    let key = "http:api.example.com";
    let started = Instant::now();
    let take = |l: Arc<dyn flowstep_engine::SharedRateLimiter>| async move {
        for _ in 0..20 {
            loop {
                let wait = l.try_acquire(key, 10.0, 2).await.unwrap();
                if wait.is_zero() {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
        }
    };
    tokio::join!(take(a.clone()), take(b.clone()));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(3_700),
        "40 turns at 10/s in {took:?}"
    );
    // A rate that is not one is refused, not taken.
    assert!(a.try_acquire(key, 0.0, 1).await.is_err());
}
