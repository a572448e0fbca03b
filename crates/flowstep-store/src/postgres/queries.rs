//! Every SQL statement the Postgres store runs: the files in `queries/`, named as the SQLite
//! store's are where they do the same thing, in Postgres's dialect. Each function runs one
//! statement and returns the rows as stored (text, integers, JSON text), decoded by `decode`.

use crate::rows::{
    ClaimRow, EventRow, HolderRow, MessageStatusRow, RunRow, StoredStatus, SummaryRow,
};
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{PgExecutor, Row};

/// A fenced write's key: the run and the attempt its worker holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fence<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) attempt: i64,
}

/// What a run's start stores.
pub(crate) struct NewRunRow<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) flow_file: &'a str,
    pub(crate) flow_name: &'a str,
    pub(crate) flow_hash: &'a str,
    pub(crate) inputs_json: &'a str,
    pub(crate) recipient: Option<&'a str>,
    pub(crate) now: i64,
}

pub(crate) async fn insert_flow<'e>(
    e: impl PgExecutor<'e>,
    flow_hash: &str,
    source: &str,
    used_json: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/insert_flow.sql"))
        .bind(flow_hash)
        .bind(source)
        .bind(used_json)
        .bind(now)
        .execute(e)
        .await
        .map(drop)
}

/// A stored flow's source and its used flows (JSON).
pub(crate) async fn select_flow_source<'e>(
    e: impl PgExecutor<'e>,
    flow_hash: &str,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query(include_str!("queries/select_flow_source.sql"))
        .bind(flow_hash)
        .fetch_optional(e)
        .await?
        .map(|r| Ok((r.try_get("source")?, r.try_get("used_json")?)))
        .transpose()
}

/// Whether the run was inserted (`false`: its id is taken).
pub(crate) async fn insert_run<'e>(
    e: impl PgExecutor<'e>,
    run: NewRunRow<'_>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(include_str!("queries/insert_run.sql"))
        .bind(run.run_id)
        .bind(run.flow_file)
        .bind(run.flow_name)
        .bind(run.flow_hash)
        .bind(run.inputs_json)
        .bind(run.recipient)
        .bind(run.now)
        .fetch_optional(e)
        .await?
        .is_some())
}

/// Claims at most `limit` runnable runs, oldest first.
pub(crate) async fn claim<'e>(
    e: impl PgExecutor<'e>,
    worker_id: &str,
    lease_expires_at: i64,
    now: i64,
    limit: i64,
) -> sqlx::Result<Vec<ClaimRow>> {
    sqlx::query(include_str!("queries/claim.sql"))
        .bind(worker_id)
        .bind(lease_expires_at)
        .bind(now)
        .bind(limit)
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| {
            Ok(ClaimRow {
                run_id: r.try_get("run_id")?,
                attempt: r.try_get("attempt")?,
                flow_file: r.try_get("flow_file")?,
                flow_name: r.try_get("flow_name")?,
                flow_hash: r.try_get("flow_hash")?,
                inputs_json: r.try_get("inputs_json")?,
                recipient: r.try_get("recipient")?,
                state_json: r.try_get("state_json")?,
                pending_json: r.try_get("pending_json")?,
                event_json: r.try_get("event_json")?,
            })
        })
        .collect()
}

pub(crate) async fn save<'e>(
    e: impl PgExecutor<'e>,
    fence: Fence<'_>,
    state_json: &str,
    now: i64,
) -> sqlx::Result<PgQueryResult> {
    sqlx::query(include_str!("queries/save.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(state_json)
        .bind(now)
        .execute(e)
        .await
}

pub(crate) async fn record_effect<'e>(
    e: impl PgExecutor<'e>,
    fence: Fence<'_>,
    state_json: Option<&str>,
    effect_json: &str,
    now: i64,
) -> sqlx::Result<PgQueryResult> {
    sqlx::query(include_str!("queries/record_effect.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(state_json)
        .bind(effect_json)
        .bind(now)
        .execute(e)
        .await
}

pub(crate) async fn heartbeat<'e>(
    e: impl PgExecutor<'e>,
    fence: Fence<'_>,
    lease_expires_at: i64,
    now: i64,
) -> sqlx::Result<PgQueryResult> {
    sqlx::query(include_str!("queries/heartbeat.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(lease_expires_at)
        .bind(now)
        .execute(e)
        .await
}

pub(crate) async fn release<'e>(
    e: impl PgExecutor<'e>,
    fence: Fence<'_>,
    now: i64,
) -> sqlx::Result<PgQueryResult> {
    sqlx::query(include_str!("queries/release.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(now)
        .execute(e)
        .await
}

/// Ends a run: `status` is `succeeded` or `failed`, with the outcome or the store's reason.
pub(crate) async fn finish<'e>(
    e: impl PgExecutor<'e>,
    fence: Fence<'_>,
    status: &str,
    outcome_json: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> sqlx::Result<PgQueryResult> {
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
    e: impl PgExecutor<'e>,
    fence: Fence<'_>,
    state_json: &str,
    wake_at: i64,
    now: i64,
) -> sqlx::Result<PgQueryResult> {
    sqlx::query(include_str!("queries/register_wait.sql"))
        .bind(fence.run_id)
        .bind(fence.attempt)
        .bind(state_json)
        .bind(wake_at)
        .bind(now)
        .execute(e)
        .await
}

/// Takes the transaction's lock on the wait key whose hash is `key`.
pub(crate) async fn lock_wait_key<'e>(e: impl PgExecutor<'e>, key: i64) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/lock_wait_key.sql"))
        .bind(key)
        .execute(e)
        .await
        .map(drop)
}

/// A wait's row: its key, run, event type and shape.
pub(crate) struct WaitRow<'a> {
    pub(crate) wait_key: &'a str,
    pub(crate) run_id: &'a str,
    pub(crate) event_type: &'a str,
    pub(crate) paths_json: &'a str,
}

pub(crate) async fn insert_wait<'e>(
    e: impl PgExecutor<'e>,
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

pub(crate) async fn delete_waits<'e>(e: impl PgExecutor<'e>, run_id: &str) -> sqlx::Result<()> {
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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

/// The runs woken by their deadline (at most `limit`), earliest first.
pub(crate) async fn fire_timers<'e>(
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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

pub(crate) async fn delete_event_keys_of<'e>(
    e: impl PgExecutor<'e>,
    event_seqs: &[i64],
) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/delete_event_keys_of.sql"))
        .bind(event_seqs)
        .execute(e)
        .await
        .map(drop)
}

/// Whether a run was cancelled (it had not ended).
pub(crate) async fn cancel<'e>(
    e: impl PgExecutor<'e>,
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

/// Queues a failed run again (RunStore::retry); whether it was one that can be.
pub(crate) async fn retry<'e>(
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
    run_id: &str,
) -> sqlx::Result<Option<RunRow>> {
    sqlx::query(include_str!("queries/select_run.sql"))
        .bind(run_id)
        .fetch_optional(e)
        .await?
        .map(|r| run_row(&r))
        .transpose()
}

fn run_row(r: &PgRow) -> sqlx::Result<RunRow> {
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
    status: Option<&str>,
    flow: Option<&str>,
) -> sqlx::Result<i64> {
    // One status is counted through its index; a generic plan of the optional filter would
    // not use it, hence two statements.
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
    e: impl PgExecutor<'e>,
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

/// The event's position, when it was inserted (`None`: its key was stored already).
pub(crate) async fn insert_event<'e>(
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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
    e: impl PgExecutor<'e>,
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

/// The statuses stored for `ids`.
pub(crate) async fn select_message_statuses<'e>(
    e: impl PgExecutor<'e>,
    ids: &[String],
) -> sqlx::Result<Vec<StoredStatus>> {
    sqlx::query(include_str!("queries/select_message_statuses.sql"))
        .bind(ids)
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

/// Answers when the database can be read (readiness).
pub(crate) async fn check_ready<'e>(e: impl PgExecutor<'e>) -> sqlx::Result<()> {
    sqlx::query(include_str!("queries/check_ready.sql"))
        .fetch_optional(e)
        .await
        .map(drop)
}

/// The names of the tables in the store's schema.
pub(crate) async fn table_names<'e>(e: impl PgExecutor<'e>) -> sqlx::Result<Vec<String>> {
    sqlx::query(include_str!("queries/select_table_names.sql"))
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| r.try_get("name"))
        .collect()
}

/// The newest schema version applied (`sqlx::migrate`'s table).
pub(crate) async fn schema_version<'e>(e: impl PgExecutor<'e>) -> sqlx::Result<Option<i64>> {
    sqlx::query(include_str!("queries/select_schema_version.sql"))
        .fetch_one(e)
        .await?
        .try_get("version")
}

/// One request's turn under the shared rate limit `key`: 0 when it may go (counted), else the
/// microseconds until it might.
pub(crate) async fn take_rate_turn<'e>(
    e: impl PgExecutor<'e>,
    key: &str,
    interval_us: i64,
    tolerance_us: i64,
) -> sqlx::Result<i64> {
    sqlx::query(include_str!("queries/take_rate_turn.sql"))
        .bind(key)
        .bind(interval_us)
        .bind(tolerance_us)
        .fetch_one(e)
        .await?
        .try_get(0)
}
