//! The SQLite store, on real files in a temporary directory: the store contract (every case of
//! `store_contract`), and what only a file can show: files that are refused (not a database,
//! another program's, a newer schema), a read-only file and a full disk reported as
//! unavailable, two processes' handles sharing one file, and no secret anywhere in its bytes.

mod store_contract;

use flowstep_store::sqlite::{SqliteOptions, SqliteStore};
use flowstep_store::{ManualClock, NewRun, RunStore, Status, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use store_contract::Subject;
use store_contract::flow::FLOW;

/// A directory of its own for one test, removed when dropped (after making its files
/// writable again).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "flowstep-store-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.0) {
            for e in entries.flatten() {
                let _ = std::process::Command::new("chattr")
                    .arg("-i")
                    .arg(e.path())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600) // 2026-01-01
}

async fn open(path: &Path, clock: &Arc<ManualClock>) -> Result<SqliteStore, StoreError> {
    SqliteStore::open_with(path, SqliteOptions::default().clock(clock.clone())).await
}

async fn fresh(name: &str) -> (TempDir, Subject<SqliteStore>) {
    let dir = TempDir::new(name);
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&dir.file("runs.db"), &clock).await.unwrap();
    let subject = Subject {
        store: Arc::new(store),
        clock,
    };
    (dir, subject)
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (_dir, subject) = fresh(stringify!($case)).await;
                store_contract::$case(subject).await;
            }
        )*
    };
}

contract!(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_retried_where_it_failed() {
    let (_dir, subject) = fresh("retry").await;
    store_contract::retry::a_failed_run_is_retried_where_it_failed(subject).await;
}

macro_rules! event_contract {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (_dir, subject) = fresh(stringify!($case)).await;
                store_contract::events::$case(subject).await;
            }
        )*
    };
}

macro_rules! wait_contract {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (_dir, subject) = fresh(stringify!($case)).await;
                store_contract::waits::$case(subject).await;
            }
        )*
    };
}

wait_contract!(
    a_waiting_run_is_woken_once_by_the_event_that_matches,
    an_event_that_came_first_ends_the_wait_at_once,
    a_deadline_wakes_the_run_with_a_timeout_once,
    a_cancelled_wait_takes_no_event_and_old_events_are_forgotten,
    a_wait_and_its_event_arriving_together_always_meet,
    timers_fired_by_many_workers_at_once_fire_each_once,
);

macro_rules! delivery_contract {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (_dir, subject) = fresh(stringify!($case)).await;
                store_contract::deliveries::$case(subject).await;
            }
        )*
    };
}

delivery_contract!(
    the_furthest_delivery_status_is_kept_whatever_the_order,
    racing_delivery_statuses_keep_the_furthest,
);

event_contract!(
    an_event_is_recorded_once_per_provider_and_id,
    concurrent_deliveries_of_one_event_store_it_once,
    events_are_listed_newest_first_in_stable_pages,
);

/// A file made before the event inbox (schema version 1 only) gets it when opened, keeping
/// its runs; the versions between (2, 3) may be missing: the migrator takes gaps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_made_before_the_event_inbox_gets_it_at_open() {
    let dir = TempDir::new("events-migration");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    store.close().await;
    let mut conn = raw(&path).await;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(versions.first(), Some(&1));
    assert!(versions.contains(&4), "{versions:?}");
    // Back to what a build before the inbox left.
    sqlx::query("DROP TABLE events")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 4")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let store = open(&path, &clock).await.unwrap();
    assert!(store.get_run("order-1").await.unwrap().is_some());
    let event = flowstep_store::NewEvent {
        provider: "stripe".into(),
        event_id: "evt_1".into(),
        event_type: "checkout.session.completed".into(),
        payload: serde_json::json!({"id": "evt_1"}),
        received_at: start(),
    };
    assert_eq!(
        store.record_event(event, &[]).await.unwrap(),
        flowstep_store::Recorded::Inserted { woke: None }
    );
}

fn new_run(id: &str) -> NewRun {
    NewRun::new(id, "pay.yaml", "pay", FLOW)
}

/// Runs `statements` on a plain connection to the file, one after another.
async fn run_sql(path: &Path, statements: &[&'static str]) {
    let mut conn = raw(path).await;
    for &statement in statements {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
}

/// What migration 2 changed, undone: the indexes of schema version 1.
const UNDO_VERSION_2: [&str; 3] = [
    "DROP INDEX runs_status",
    "DROP INDEX runs_runnable",
    "CREATE INDEX runs_runnable ON runs (seq) WHERE status IN ('queued', 'running')",
];

/// A plain connection to the file, as another program (or an operator's `sqlite3`) would have.
async fn raw(path: &Path) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_keeps_its_runs_across_reopening_and_uses_wal() {
    let dir = TempDir::new("reopen");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    store.close().await;
    let store = open(&path, &clock).await.unwrap();
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Queued);
    assert_eq!(run.created_at, start());
    assert_eq!(
        store
            .claim("w1", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap()
            .run_id,
        "order-1"
    );
    let mut conn = raw(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, SqliteStore::schema_version());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = TempDir::new("notadb");
    let path = dir.file("flows.yaml");
    let text = "flow: pay\nsteps: []\n".repeat(20);
    std::fs::write(&path, &text).unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let err = open(&path, &clock).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the run store {} cannot be used: it is not a SQLite database (its first bytes are not SQLite's header); flowstep refuses to write into it",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "untouched");
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "no -wal or -shm made beside it: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_programs_database_is_refused() {
    let dir = TempDir::new("foreign");
    let path = dir.file("app.db");
    let mut conn = raw(&path).await;
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let err = open(&path, &clock).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the run store {} cannot be used: it is a SQLite database with tables of its own (users) and no flowstep run store; flowstep refuses to write into it",
            path.display()
        )
    );
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(tables, ["users"], "nothing added");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "delete", "its journal mode is not changed");

    sqlx::query("PRAGMA application_id = 42")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = open(&path, &clock).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("it is another program's SQLite database (application id 0x2a); flowstep refuses to write into it"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_this_build_is_refused() {
    let dir = TempDir::new("newer");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    store.close().await;
    // What a newer flowstep's migration would leave.
    let next = SqliteStore::schema_version() + 1;
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, 'from a newer flowstep', 1, x'00', 0)",
    )
    .bind(next)
    .execute(&mut conn)
    .await
    .unwrap();
    let err = open(&path, &clock).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::NewerSchema {
            location: path.display().to_string(),
            found: next,
            known: next - 1
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the run store {} has schema version {next}, newer than this build of flowstep knows (up to {}); run a newer flowstep, or point it at another file",
            path.display(),
            next - 1
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_schema_version_1_is_migrated_and_keeps_its_runs() {
    let dir = TempDir::new("v1");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    store.close().await;
    // What schema version 1 left: its indexes, no record of migration 2.
    run_sql(&path, &UNDO_VERSION_2).await;
    run_sql(&path, &["DELETE FROM _sqlx_migrations WHERE version = 2"]).await;
    let store = open(&path, &clock).await.unwrap();
    let queued = flowstep_store::RunFilter {
        status: Some(Status::Queued),
        ..Default::default()
    };
    assert_eq!(store.count_runs(&queued).await.unwrap(), 1);
    let page = store.list_runs(&queued, 10, None).await.unwrap();
    assert_eq!(page.runs.len(), 1, "{page:?}");
    assert_eq!(page.runs[0].run_id, "order-1");
    store.close().await;
    let mut conn = raw(&path).await;
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name LIKE 'runs_%' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        indexes,
        [
            "CREATE INDEX runs_runnable ON runs (seq, status, lease_expires_at)\n    WHERE status IN ('queued', 'running')",
            "CREATE INDEX runs_status ON runs (status, seq)",
            "CREATE INDEX runs_timers ON runs (wake_at) WHERE status = 'waiting' AND wake_at IS NOT NULL",
        ],
        "migration 2 applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_found_inside_the_file_is_an_error_and_the_store_is_not_ready_after() {
    let dir = TempDir::new("damaged");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    for i in 0..300 {
        store
            .create_run(
                new_run(&format!("order-{i}")).inputs(
                    [(
                        "name".to_owned(),
                        serde_json::Value::String("x".repeat(500)),
                    )]
                    .into_iter()
                    .collect(),
                ),
            )
            .await
            .unwrap();
    }
    store.close().await;
    let mut conn = raw(&path).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    // The header and the schema are intact (so the file opens); pages further in are not.
    let mut bytes = std::fs::read(&path).unwrap();
    // Past the root pages of every table and index (the schema's first ~25 pages).
    assert!(bytes.len() > 192 * 1024, "{} bytes", bytes.len());
    bytes[128 * 1024..192 * 1024].fill(0xab);
    std::fs::write(&path, bytes).unwrap();

    let store = open(&path, &clock).await.unwrap();
    store.check_ready().await.unwrap();
    let err = store
        .list_runs(&Default::default(), 1000, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { reason, .. } if reason.starts_with("the file is damaged")),
        "{err:?}"
    );
    let ready = store.check_ready().await.unwrap_err();
    assert_eq!(ready, err, "not ready once damage was found");
}

/// Makes `path` read-only for this process: its mode, and for root (whom modes do not stop)
/// the immutable attribute.
fn make_read_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::OpenOptions::new().append(true).open(path).is_ok() {
        let status = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .expect("chattr, to make a file read-only for root");
        assert!(status.success(), "chattr +i {} failed", path.display());
        assert!(
            std::fs::OpenOptions::new().append(true).open(path).is_err(),
            "the file is still writable"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_file_is_reported_unavailable() {
    let dir = TempDir::new("readonly");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    store.close().await;
    make_read_only(&path);
    // SQLite would open a file it cannot write for reading; the store finds out at open
    // (a write that changes nothing) and says why, rather than at the first run.
    let err = open(&path, &clock).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "the run store {} is unavailable: ",
            path.display()
        )),
        "{message}"
    );
    assert!(message.contains("read-only"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_reported_unavailable_and_what_was_stored_stays() {
    let dir = TempDir::new("full");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    // A store capped at 128 KiB stands in for a full disk: SQLite reports both as SQLITE_FULL.
    let options = SqliteOptions::default()
        .clock(clock.clone())
        .max_size_bytes(128 * 1024);
    let store = SqliteStore::open_with(&path, options).await.unwrap();
    let big = serde_json::Map::from_iter([("note".to_owned(), "x".repeat(8 * 1024).into())]);
    let mut stored = 0;
    let err = loop {
        match store
            .create_run(new_run(&format!("order-{stored}")).inputs(big.clone()))
            .await
        {
            Ok(_) => stored += 1,
            Err(e) => break e,
        }
        assert!(stored < 100, "the cap was never reached");
    };
    assert!(stored > 0);
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "the run store {} is unavailable: the disk is full, or the store reached its size limit",
            path.display()
        )),
        "{err}"
    );
    // Not ready while writes fail: a readiness check says why.
    let not_ready = store.check_ready().await.unwrap_err();
    assert!(
        matches!(not_ready, StoreError::Unavailable { .. }),
        "{not_ready:?}"
    );
    // The failed write left nothing half done, and the store still serves reads.
    let page = store
        .list_runs(&Default::default(), 1000, None)
        .await
        .unwrap();
    assert_eq!(page.runs.len(), stored);
    assert!(
        store
            .get_run(&format!("order-{stored}"))
            .await
            .unwrap()
            .is_none()
    );
    // Once there is room again (here: the cap lifted), writes go through.
    store.close().await;
    let store = open(&path, &clock).await.unwrap();
    store.check_ready().await.unwrap();
    let claimed = store
        .claim("w1", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.run_id, "order-0");
    store.create_run(new_run("after")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_a_file_never_claim_the_same_run() {
    let dir = TempDir::new("shared");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    // Two handles, as two processes would have: separate connections, one file.
    let a = Arc::new(open(&path, &clock).await.unwrap());
    let b = Arc::new(open(&path, &clock).await.unwrap());
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        // Every run is started twice, once through each handle.
        let again = if i % 2 == 0 { b.clone() } else { a.clone() };
        creates.spawn(async move {
            let id = format!("order-{}", i / 2);
            let first = store.create_run(new_run(&id)).await.unwrap();
            let second = again.create_run(new_run(&id)).await.unwrap();
            (first, second)
        });
    }
    creates.join_all().await;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        workers.spawn(async move {
            let mut got = Vec::new();
            // Bounded, so that a claim that hands out a run twice fails the test, not hangs it.
            while got.len() <= 20
                && let Some(c) = store
                    .claim(&format!("w{w}"), Duration::from_secs(60))
                    .await
                    .unwrap()
            {
                got.push(c.run_id);
            }
            got
        });
    }
    let mut claimed: Vec<String> = workers.join_all().await.into_iter().flatten().collect();
    claimed.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("order-{i}")).collect();
    expected.sort();
    assert_eq!(claimed, expected, "each run claimed exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_anywhere_in_the_stores_files() {
    let (dir, subject) = fresh("secret-bytes").await;
    let store = subject.store.clone();
    store_contract::a_stored_run_holds_no_secret(subject).await;
    let mut bytes = Vec::new();
    for name in ["runs.db", "runs.db-wal"] {
        if let Ok(b) = std::fs::read(dir.file(name)) {
            bytes.extend(b);
        }
    }
    // The run is there (so the search can find what is stored)...
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"charge_token"), "the run's state is in the files");
    // ...and no form of the key.
    for form in store_contract::flow::secret_forms() {
        assert!(!contains(form.as_bytes()), "the store's files hold {form}");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_this_build_cannot_read_back_is_failed_not_handed_out_forever() {
    let (dir, subject) = fresh("unreadable").await;
    let store = &*subject.store;
    store.create_run(new_run("order-1")).await.unwrap();
    store.create_run(new_run("order-2")).await.unwrap();
    // A state written by some other build, which this one cannot read.
    let mut conn = raw(&dir.file("runs.db")).await;
    sqlx::query("UPDATE runs SET state_json = '{\"cursor\": \"soon\"}' WHERE run_id = 'order-1'")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = store
        .claim("w1", Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "the run store {} (run `order-1`) cannot be used: its `state_json` cannot be read by this build: ",
            dir.file("runs.db").display()
        )),
        "{message}"
    );
    assert!(
        message.ends_with("; the run was marked failed"),
        "{message}"
    );
    let run = store.get_run("order-1").await;
    assert!(run.is_err(), "its state still cannot be read");
    let page = store
        .list_runs(&Default::default(), 10, None)
        .await
        .unwrap();
    let failed = page.runs.iter().find(|r| r.run_id == "order-1").unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .starts_with("the store could not read the run back: ")
    );
    // The next claim gets the next run, not the same one again.
    let next = store
        .claim("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.run_id, "order-2");
}

/// The sources of `outer.yaml`, which uses `./inner.yaml` saying `text`.
fn outer_sources(text: &str) -> flowstep_engine::FlowSources {
    use flowstep_engine::{FlowSources, FlowText, FlowUse, UsedFlows};
    FlowSources {
        main: FlowText {
            name: "outer.yaml".into(),
            text: "flow: outer\nsteps:\n  - id: note\n    type: flow\n    use: ./inner.yaml\n"
                .into(),
        },
        used: UsedFlows {
            files: vec![FlowText {
                name: "inner.yaml".into(),
                text: format!(
                    "flow: inner\nsteps:\n  - id: say\n    type: message\n    text: {text}\n"
                ),
            }],
            uses: vec![FlowUse {
                from: "outer.yaml".into(),
                reference: "./inner.yaml".into(),
                file: "inner.yaml".into(),
            }],
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_keeps_the_files_its_flow_uses_and_their_hash_covers_them() {
    let dir = TempDir::new("used-flows");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    let old = NewRun::of_sources("order-1", "outer", outer_sources("old text"));
    let new = NewRun::of_sources("order-2", "outer", outer_sources("new text"));
    // Same main file, another used file: another hash, and neither is the main file's alone.
    assert_ne!(old.flow_hash, new.flow_hash);
    assert_ne!(old.flow_hash, flowstep_store::flow_hash(&old.flow_source));
    store.create_run(old.clone()).await.unwrap();
    store.create_run(new.clone()).await.unwrap();
    store.close().await;

    let store = open(&path, &clock).await.unwrap();
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.flow_hash, old.flow_hash);
    assert_eq!(run.used_flows, Some(old.used_flows.clone()));
    let first = store.claim("w1", Duration::from_secs(30)).await.unwrap();
    assert_eq!(first.unwrap().sources(), Some(outer_sources("old text")));
    let second = store.claim("w1", Duration::from_secs(30)).await.unwrap();
    assert_eq!(second.unwrap().sources(), Some(outer_sources("new text")));

    // A hash that does not cover the used files is refused, and nothing is stored.
    let mut wrong = NewRun::of_sources("order-3", "outer", outer_sources("old text"));
    wrong.flow_hash = flowstep_store::flow_hash(&wrong.flow_source);
    let err = store.create_run(wrong).await.unwrap_err();
    assert!(
        err.to_string().contains("the flow hash `sha256:",)
            && err
                .to_string()
                .contains("is not the hash of its source and used flows"),
        "{err}"
    );
    assert!(store.get_run("order-3").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_schema_version_1_opens_and_its_runs_resume() {
    let dir = TempDir::new("schema-1");
    let path = dir.file("runs.db");
    let clock = Arc::new(ManualClock::new(start()));
    let store = open(&path, &clock).await.unwrap();
    store.create_run(new_run("order-1")).await.unwrap();
    let claimed = store
        .claim("w1", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    store.release(&claimed).await.unwrap();
    store.close().await;
    // The file as a flowstep from before version 3 left it: no used flows anywhere.
    run_sql(
        &path,
        &[
            "DELETE FROM _sqlx_migrations WHERE version > 1",
            "ALTER TABLE flows DROP COLUMN used_json",
            "DROP TABLE events",
            "DROP TABLE waits",
            "DROP TABLE event_keys",
            "DROP TABLE message_statuses",
        ],
    )
    .await;
    run_sql(&path, &UNDO_VERSION_2).await;

    let store = open(&path, &clock).await.unwrap();
    let mut conn = raw(&path).await;
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, SqliteStore::schema_version());
    drop(conn);
    let run = store.get_run("order-1").await.unwrap().unwrap();
    assert_eq!(run.status, Status::Queued);
    assert_eq!(run.used_flows, None, "not known for a run stored before");
    let claimed = store
        .claim("w1", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.run_id, "order-1");
    assert_eq!(claimed.attempt, 2);
    assert_eq!(claimed.flow_source, FLOW);
    assert_eq!(claimed.sources(), None);
    // A run of the same flow started now records its used flows (none) under the same hash.
    store.create_run(new_run("order-2")).await.unwrap();
    let run = store.get_run("order-2").await.unwrap().unwrap();
    assert_eq!(run.used_flows, Some(Default::default()));
}
