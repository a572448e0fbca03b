//! Stored rows back into the store's models: times from milliseconds, JSON columns into the
//! engine's types. A column that does not decode is reported as [`StoreError::Corrupt`],
//! naming the run and the column.

use crate::delivery::{DeliveryError, DeliveryState, DeliveryStatus};
use crate::error::StoreError;
use crate::event::EventRecord;
use crate::model::{Cursor, RunRecord, RunSummary, Status};
use crate::rows::{EventRow, MessageStatusRow, RunRow, StoredStatus, SummaryRow};
use flowstep_engine::RunState;
use serde::de::DeserializeOwned;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `t` as stored: milliseconds since the Unix epoch.
pub(crate) fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// A stored time.
pub(crate) fn time(ms: i64) -> SystemTime {
    match u64::try_from(ms) {
        Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
        Err(_) => UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs()),
    }
}

/// A JSON column of run `run_id`.
pub(crate) fn json<T: DeserializeOwned>(
    location: &str,
    run_id: &str,
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        location: format!("{location} (run `{run_id}`)"),
        reason: format!("its `{column}` cannot be read by this build: {e}"),
    })
}

fn optional_json<T: DeserializeOwned>(
    location: &str,
    run_id: &str,
    column: &str,
    text: Option<&str>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| json(location, run_id, column, t)).transpose()
}

/// A run's status column.
pub(crate) fn status(location: &str, run_id: &str, text: &str) -> Result<Status, StoreError> {
    Status::parse(text).ok_or_else(|| StoreError::Corrupt {
        location: format!("{location} (run `{run_id}`)"),
        reason: format!("its status `{text}` is not one this build knows"),
    })
}

/// An attempt counter, which the schema keeps at 0 or more.
pub(crate) fn attempt(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn run_record(location: &str, row: RunRow) -> Result<RunRecord, StoreError> {
    let id = row.run_id.as_str();
    let state: Option<RunState> =
        optional_json(location, id, "state_json", row.state_json.as_deref())?;
    Ok(RunRecord {
        status: status(location, id, &row.status)?,
        attempt: attempt(row.attempt),
        lease_owner: row.lease_owner,
        lease_expires_at: row.lease_expires_at.map(time),
        inputs: json(location, id, "inputs_json", &row.inputs_json)?,
        used_flows: optional_json(location, id, "flows.used_json", row.used_json.as_deref())?,
        state: state.clone(),
        pending: optional_json(location, id, "pending_json", row.pending_json.as_deref())?,
        wait: match row.status.as_str() {
            "waiting" => state.as_ref().and_then(|s| s.waiting().cloned()),
            _ => None,
        },
        event: optional_json(location, id, "event_json", row.event_json.as_deref())?,
        outcome: optional_json(location, id, "outcome_json", row.outcome_json.as_deref())?,
        flow_file: row.flow_file,
        flow_name: row.flow_name,
        flow_hash: row.flow_hash,
        flow_source: row.source,
        recipient: row.recipient,
        error: row.error,
        created_at: time(row.created_at),
        updated_at: time(row.updated_at),
        finished_at: row.finished_at.map(time),
        run_id: row.run_id,
    })
}

pub(crate) fn summary(location: &str, row: SummaryRow) -> Result<RunSummary, StoreError> {
    Ok(RunSummary {
        status: status(location, &row.run_id, &row.status)?,
        attempt: attempt(row.attempt),
        flow_name: row.flow_name,
        error: row.error,
        created_at: time(row.created_at),
        updated_at: time(row.updated_at),
        finished_at: row.finished_at.map(time),
        run_id: row.run_id,
    })
}

/// An event as the inbox lists it.
pub(crate) fn event_record(location: &str, r: EventRow) -> Result<EventRecord, StoreError> {
    let payload = serde_json::from_str(&r.payload_json).map_err(|e| StoreError::Corrupt {
        location: format!("{location} (event `{}` of {})", r.event_id, r.provider),
        reason: format!("its `payload_json` cannot be read by this build: {e}"),
    })?;
    Ok(EventRecord {
        provider: r.provider,
        event_id: r.event_id,
        event_type: r.event_type,
        payload,
        received_at: time(r.received_at),
    })
}

/// A page from rows read with one more than `limit` (whether there is a next page): the rows
/// are cut to `limit`, and the cursor after the last one is returned when more follow.
pub(crate) fn page_of<R>(
    rows: &mut Vec<R>,
    limit: u32,
    cursor_after: impl Fn(&R) -> Cursor,
) -> Option<Cursor> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    match more {
        true => rows.last().map(cursor_after),
        false => None,
    }
}

/// The row a delivery status is stored as; refused when it names no message.
pub(crate) fn message_status_row(
    status: &DeliveryStatus,
) -> Result<MessageStatusRow<'_>, StoreError> {
    if status.delivery_id.is_empty() {
        return Err(StoreError::Invalid(
            "a delivery status needs the message's delivery id, and it is empty".into(),
        ));
    }
    Ok(MessageStatusRow {
        delivery_id: &status.delivery_id,
        status: status.state.as_str(),
        rank: status.state.rank(),
        error_code: status.error.as_ref().map(|e| e.code),
        error_title: status.error.as_ref().map(|e| e.title.as_str()),
        at: millis(status.at),
    })
}

/// Refuses a look-up of more delivery ids than [`crate::MAX_DELIVERY_IDS`].
pub(crate) fn check_delivery_ids(delivery_ids: &[String]) -> Result<(), StoreError> {
    if delivery_ids.len() > crate::MAX_DELIVERY_IDS {
        return Err(StoreError::Invalid(format!(
            "{} delivery ids were asked for at once; the most is {}",
            delivery_ids.len(),
            crate::MAX_DELIVERY_IDS
        )));
    }
    Ok(())
}

/// A delivery status as read back.
pub(crate) fn delivery_status(
    location: &str,
    r: StoredStatus,
) -> Result<DeliveryStatus, StoreError> {
    let state = DeliveryState::parse(&r.status).ok_or_else(|| StoreError::Corrupt {
        location: format!("{location} (message `{}`)", r.delivery_id),
        reason: format!(
            "its delivery status `{}` is not one this build knows",
            r.status
        ),
    })?;
    Ok(DeliveryStatus {
        state,
        at: time(r.at),
        error: r.error_code.map(|code| DeliveryError {
            code,
            title: r.error_title.unwrap_or_default(),
        }),
        delivery_id: r.delivery_id,
    })
}
