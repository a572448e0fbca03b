//! Every SQL statement the SQLite store runs. The statements shared with other backends are
//! files in `queries/` (the Postgres store keeps files of the same names, in its dialect); the few that
//! read SQLite's own catalogue are here. Each function runs one statement and returns the
//! rows as stored: text, integers and JSON text, decoded by `decode`.

use sqlx::sqlite::{SqliteQueryResult, SqliteRow};
use sqlx::{Row, SqliteExecutor};

/// A fenced write's key: the run and the attempt its worker holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fence<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) attempt: i64,
}

pub(crate) use crate::rows::{
    ClaimRow, EventRow, HolderRow, MessageStatusRow, RunRow, StoredStatus, SummaryRow,
};

/// A stored flow's source and its used flows (JSON; `None` when stored before schema 3).
pub(crate) async fn select_flow_source<'e>(
    e: impl SqliteExecutor<'e>,
    flow_hash: &str,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query(include_str!("queries/select_flow_source.sql"))
        .bind(flow_hash)
        .fetch_optional(e)
        .await?
        .map(|r| Ok((r.try_get("source")?, r.try_get("used_json")?)))
        .transpose()
}

/// Ends a run: `status` is `succeeded` or `failed`, with the outcome or the store's reason.
pub(crate) async fn finish<'e>(
    e: impl SqliteExecutor<'e>,
    fence: Fence<'_>,
    status: &str,
    outcome_json: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> sqlx::Result<SqliteQueryResult> {
    sqlx::query(include_str!("queries/finish.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(status)
        .bind(outcome_json)
        .bind(error)
        .bind(now)
        .execute(e)
        .await
}

pub(crate) async fn register_wait<'e>(
    e: impl SqliteExecutor<'e>,
    fence: Fence<'_>,
    state_json: &str,
    wake_at: i64,
    now: i64,
) -> sqlx::Result<SqliteQueryResult> {
    sqlx::query(include_str!("queries/register_wait.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(state_json)
        .bind(wake_at)
        .bind(now)
        .execute(e)
        .await
}

/// A wait's row: its key, run, event type and shape.
pub(crate) struct WaitRow<'a> {
    pub(crate) wait_key: &'a str,
    pub(crate) run_id: &'a str,
    pub(crate) event_type: &'a str,
    pub(crate) paths_json: &'a str,
}

pub(crate) async fn insert_wait<'e>(
    e: impl SqliteExecutor<'e>,
    wait: WaitRow<'_>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/insert_wait.sql"))
        .bind(wait.wait_key)
        .bind(wait.run_id)
        .bind(wait.event_type)
        .bind(wait.paths_json)
        .bind(now)
        .execute(e)
        .await
        .map(drop)
}

pub(crate) async fn delete_waits<'e>(e: impl SqliteExecutor<'e>, run_id: &str) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/delete_waits.sql"))
        .bind(run_id)
        .execute(e)
        .await
        .map(drop)
}

/// An event a wait may take.
#[derive(Debug)]
pub(crate) struct KeyedEventRow {
    pub(crate) seq: i64,
    pub(crate) provider: String,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) payload_json: String,
}

/// The earliest event under `wait_key` that woke no run, received at `since` or later and
/// after run `run_id` was created.
pub(crate) async fn select_event_for_key<'e>(
    e: impl SqliteExecutor<'e>,
    wait_key: &str,
    since: i64,
    run_id: &str,
) -> sqlx::Result<Option<KeyedEventRow>> {
    sqlx::query(include_str!("queries/select_event_for_key.sql"))
        .bind(wait_key)
        .bind(since)
        .bind(run_id)
        .fetch_optional(e)
        .await?
        .map(|r| {
            Ok(KeyedEventRow {
                seq: r.try_get("seq")?,
                provider: r.try_get("provider")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                payload_json: r.try_get("payload_json")?,
            })
        })
        .transpose()
}

/// The runs waiting under `wait_key` (the wait's position, the run), earliest first.
pub(crate) async fn select_waits_for_key<'e>(
    e: impl SqliteExecutor<'e>,
    wait_key: &str,
) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query(include_str!("queries/select_waits_for_key.sql"))
        .bind(wait_key)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get("seq")?, r.try_get("run_id")?)))
        .collect()
}

/// The shapes (sorted paths, JSON) of the waits for `event_type`.
pub(crate) async fn select_wait_shapes<'e>(
    e: impl SqliteExecutor<'e>,
    event_type: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query(include_str!("queries/select_wait_shapes.sql"))
        .bind(event_type)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| r.try_get("paths_json"))
        .collect()
}

/// The run the event woke (`None` inside when it woke none; `None` outside when it is not stored).
pub(crate) async fn select_event_delivered_to<'e>(
    e: impl SqliteExecutor<'e>,
    provider: &str,
    event_id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query(include_str!("queries/select_event_delivered_to.sql"))
        .bind(provider)
        .bind(event_id)
        .fetch_optional(e)
        .await?
        .map(|r| r.try_get("delivered_to"))
        .transpose()
}

pub(crate) async fn insert_event_key<'e>(
    e: impl SqliteExecutor<'e>,
    wait_key: &str,
    event_seq: i64,
) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/insert_event_key.sql"))
        .bind(wait_key)
        .bind(event_seq)
        .execute(e)
        .await
        .map(drop)
}

/// Whether waiting run `run_id` was woken with `event_json`.
pub(crate) async fn wake_run<'e>(
    e: impl SqliteExecutor<'e>,
    run_id: &str,
    event_json: &str,
    now: i64,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(include_str!("queries/wake_run.sql"))
        .bind(run_id)
        .bind(event_json)
        .bind(now)
        .execute(e)
        .await?
        .rows_affected()
        > 0)
}

pub(crate) async fn mark_event_delivered<'e>(
    e: impl SqliteExecutor<'e>,
    event_seq: i64,
    run_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/mark_event_delivered.sql"))
        .bind(event_seq)
        .bind(run_id)
        .execute(e)
        .await
        .map(drop)
}

/// The runs woken by their deadline (at most `limit`).
pub(crate) async fn fire_timers<'e>(
    e: impl SqliteExecutor<'e>,
    now: i64,
    limit: i64,
    timeout_json: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query(include_str!("queries/fire_timers.sql"))
        .bind(now)
        .bind(limit)
        .bind(timeout_json)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| r.try_get("run_id"))
        .collect()
}

/// The positions of the events forgotten.
pub(crate) async fn prune_events<'e>(
    e: impl SqliteExecutor<'e>,
    before: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query(include_str!("queries/prune_events.sql"))
        .bind(before)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| r.try_get("seq"))
        .collect()
}

pub(crate) async fn delete_event_keys<'e>(
    e: impl SqliteExecutor<'e>,
    event_seq: i64,
) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/delete_event_key.sql"))
        .bind(event_seq)
        .execute(e)
        .await
        .map(drop)
}

/// Whether a run was cancelled (it had not ended).
pub(crate) async fn cancel<'e>(
    e: impl SqliteExecutor<'e>,
    run_id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(include_str!("queries/cancel.sql"))
        .bind(run_id)
        .bind(now)
        .fetch_optional(e)
        .await?
        .is_some())
}

/// Whether a failed run was queued again (see retry.sql).
pub(crate) async fn retry<'e>(
    e: impl SqliteExecutor<'e>,
    run_id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(include_str!("queries/retry.sql"))
        .bind(run_id)
        .bind(now)
        .fetch_optional(e)
        .await?
        .is_some())
}

pub(crate) async fn select_run<'e>(
    e: impl SqliteExecutor<'e>,
    run_id: &str,
) -> sqlx::Result<Option<RunRow>> {
    sqlx::query(include_str!("queries/select_run.sql"))
        .bind(run_id)
        .fetch_optional(e)
        .await?
        .map(|r| run_row(&r))
        .transpose()
}

fn run_row(r: &SqliteRow) -> sqlx::Result<RunRow> {
    Ok(RunRow {
        run_id: r.try_get("run_id")?,
        status: r.try_get("status")?,
        attempt: r.try_get("attempt")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_expires_at: r.try_get("lease_expires_at")?,
        flow_file: r.try_get("flow_file")?,
        flow_name: r.try_get("flow_name")?,
        flow_hash: r.try_get("flow_hash")?,
        source: r.try_get("source")?,
        used_json: r.try_get("used_json")?,
        inputs_json: r.try_get("inputs_json")?,
        recipient: r.try_get("recipient")?,
        state_json: r.try_get("state_json")?,
        pending_json: r.try_get("pending_json")?,
        event_json: r.try_get("event_json")?,
        outcome_json: r.try_get("outcome_json")?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

pub(crate) async fn select_holder<'e>(
    e: impl SqliteExecutor<'e>,
    run_id: &str,
) -> sqlx::Result<Option<HolderRow>> {
    let Some(r) = sqlx::query(include_str!("queries/select_holder.sql"))
        .bind(run_id)
        .fetch_optional(e)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(HolderRow {
        status: r.try_get("status")?,
        attempt: r.try_get("attempt")?,
        lease_owner: r.try_get("lease_owner")?,
    }))
}

/// How many runs match the filters.
pub(crate) async fn count_runs<'e>(
    e: impl SqliteExecutor<'e>,
    status: Option<&str>,
    flow: Option<&str>,
) -> sqlx::Result<i64> {
    // One status is counted through its index; SQLite cannot use an index for the optional
    // filter, hence two statements.
    let sql = match status {
        Some(_) => include_str!("queries/count_runs_by_status.sql"),
        None => include_str!("queries/count_runs.sql"),
    };
    sqlx::query(sql)
        .bind(status)
        .bind(flow)
        .fetch_one(e)
        .await?
        .try_get("n")
}

/// Runs newest first, before position `before`, at most `limit`.
pub(crate) async fn list_runs<'e>(
    e: impl SqliteExecutor<'e>,
    status: Option<&str>,
    flow: Option<&str>,
    before: i64,
    limit: i64,
) -> sqlx::Result<Vec<SummaryRow>> {
    let sql = match status {
        Some(_) => include_str!("queries/list_runs_by_status.sql"),
        None => include_str!("queries/list_runs.sql"),
    };
    sqlx::query(sql)
        .bind(status)
        .bind(flow)
        .bind(before)
        .bind(limit)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| {
            Ok(SummaryRow {
                seq: r.try_get("seq")?,
                run_id: r.try_get("run_id")?,
                flow_name: r.try_get("flow_name")?,
                status: r.try_get("status")?,
                attempt: r.try_get("attempt")?,
                error: r.try_get("error")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                finished_at: r.try_get("finished_at")?,
            })
        })
        .collect()
}

/// Whether the event was inserted (`false`: its key was stored already).
pub(crate) async fn insert_event<'e>(
    e: impl SqliteExecutor<'e>,
    provider: &str,
    event_id: &str,
    event_type: &str,
    payload_json: &str,
    received_at: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query(include_str!("queries/insert_event.sql"))
        .bind(provider)
        .bind(event_id)
        .bind(event_type)
        .bind(payload_json)
        .bind(received_at)
        .fetch_optional(e)
        .await?
        .map(|r| r.try_get("seq"))
        .transpose()
}

/// Events newest first, before position `before`, at most `limit`.
pub(crate) async fn list_events<'e>(
    e: impl SqliteExecutor<'e>,
    provider: Option<&str>,
    before: i64,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query(include_str!("queries/list_events.sql"))
        .bind(provider)
        .bind(before)
        .bind(limit)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| {
            Ok(EventRow {
                seq: r.try_get("seq")?,
                provider: r.try_get("provider")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                payload_json: r.try_get("payload_json")?,
                received_at: r.try_get("received_at")?,
            })
        })
        .collect()
}

/// Whether the status was stored (`false`: the stored one ranks as high or higher).
pub(crate) async fn upsert_message_status<'e>(
    e: impl SqliteExecutor<'e>,
    row: MessageStatusRow<'_>,
    now: i64,
) -> sqlx::Result<bool> {
    Ok(
        sqlx::query(include_str!("queries/upsert_message_status.sql"))
            .bind(row.delivery_id)
            .bind(row.status)
            .bind(row.rank)
            .bind(row.error_code)
            .bind(row.error_title)
            .bind(row.at)
            .bind(now)
            .execute(e)
            .await?
            .rows_affected()
            > 0,
    )
}

/// The statuses stored for the delivery ids in `ids_json` (a JSON array of strings).
pub(crate) async fn select_message_statuses<'e>(
    e: impl SqliteExecutor<'e>,
    ids_json: &str,
) -> sqlx::Result<Vec<StoredStatus>> {
    sqlx::query(include_str!("queries/select_message_statuses.sql"))
        .bind(ids_json)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(|r| {
            Ok(StoredStatus {
                delivery_id: r.try_get("delivery_id")?,
                status: r.try_get("status")?,
                error_code: r.try_get("error_code")?,
                error_title: r.try_get("error_title")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

// SQLite's own catalogue, read when the store is opened.

/// The `application_id` in the file's header (0 for a file no program marked).
pub(crate) async fn application_id<'e>(e: impl SqliteExecutor<'e>) -> sqlx::Result<i64> {
    sqlx::query("PRAGMA application_id")
        .fetch_one(e)
        .await?
        .try_get(0)
}

/// The names of the file's tables.
pub(crate) async fn table_names<'e>(e: impl SqliteExecutor<'e>) -> sqlx::Result<Vec<String>> {
    sqlx::query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| r.try_get("name"))
        .collect()
}

/// The newest schema version applied to the file (`sqlx::migrate`'s table).
pub(crate) async fn schema_version<'e>(e: impl SqliteExecutor<'e>) -> sqlx::Result<Option<i64>> {
    sqlx::query("SELECT MAX(version) AS version FROM _sqlx_migrations")
        .fetch_one(e)
        .await?
        .try_get("version")
}

/// Makes the file write-ahead logged (a setting kept in the file).
pub(crate) async fn use_wal<'e>(e: impl SqliteExecutor<'e>) -> sqlx::Result<String> {
    sqlx::query("PRAGMA journal_mode = WAL")
        .fetch_one(e)
        .await?
        .try_get(0)
}
