//! The rows every backend reads back the same way (a claimed run, a stored run, a run in a
//! list, who holds a run): text, integers and JSON text as stored, decoded by `decode`.

/// A run as `claim` returns it.
#[derive(Debug)]
pub(crate) struct ClaimRow {
    pub(crate) run_id: String,
    pub(crate) attempt: i64,
    pub(crate) flow_file: String,
    pub(crate) flow_name: String,
    pub(crate) flow_hash: String,
    pub(crate) inputs_json: String,
    pub(crate) recipient: Option<String>,
    pub(crate) state_json: Option<String>,
    pub(crate) pending_json: Option<String>,
    pub(crate) event_json: Option<String>,
}

/// A run as stored, whole.
#[derive(Debug)]
pub(crate) struct RunRow {
    pub(crate) run_id: String,
    pub(crate) status: String,
    pub(crate) attempt: i64,
    pub(crate) lease_owner: Option<String>,
    pub(crate) lease_expires_at: Option<i64>,
    pub(crate) flow_file: String,
    pub(crate) flow_name: String,
    pub(crate) flow_hash: String,
    pub(crate) source: String,
    pub(crate) used_json: Option<String>,
    pub(crate) inputs_json: String,
    pub(crate) recipient: Option<String>,
    pub(crate) state_json: Option<String>,
    pub(crate) pending_json: Option<String>,
    pub(crate) event_json: Option<String>,
    pub(crate) outcome_json: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) finished_at: Option<i64>,
}

/// A run in a list.
#[derive(Debug)]
pub(crate) struct SummaryRow {
    pub(crate) seq: i64,
    pub(crate) run_id: String,
    pub(crate) flow_name: String,
    pub(crate) status: String,
    pub(crate) attempt: i64,
    pub(crate) error: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) finished_at: Option<i64>,
}

/// Who holds a run now.
#[derive(Debug)]
pub(crate) struct HolderRow {
    pub(crate) status: String,
    pub(crate) attempt: i64,
    pub(crate) lease_owner: Option<String>,
}

/// An event as stored.
#[derive(Debug)]
pub(crate) struct EventRow {
    pub(crate) seq: i64,
    pub(crate) provider: String,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) payload_json: String,
    pub(crate) received_at: i64,
}

/// A message's delivery status, as stored.
#[derive(Debug)]
pub(crate) struct MessageStatusRow<'a> {
    pub(crate) delivery_id: &'a str,
    pub(crate) status: &'a str,
    pub(crate) rank: i64,
    pub(crate) error_code: Option<i64>,
    pub(crate) error_title: Option<&'a str>,
    pub(crate) at: i64,
}

/// A delivery status as read back.
#[derive(Debug)]
pub(crate) struct StoredStatus {
    pub(crate) delivery_id: String,
    pub(crate) status: String,
    pub(crate) error_code: Option<i64>,
    pub(crate) error_title: Option<String>,
    pub(crate) at: i64,
}
