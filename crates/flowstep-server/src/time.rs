//! Timestamps as the API shows them: RFC 3339 in UTC with milliseconds.

use std::time::SystemTime;

/// `2026-12-01T02:40:00.123Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}
