//! A request body built from files (`multipart`, `binary`): the bytes sent, and how the body
//! is shown instead of them (in the step's record, a dry run's curl and `-vv`), since file
//! bytes are never printed.

use bytes::Bytes;
use serde_json::Value;

/// A body of bytes with its description.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// What is sent (cheap to clone for each attempt).
    pub bytes: Bytes,
    /// The body in the step's record: its fields and, for each file, its path, name, type and
    /// size.
    pub shown: Value,
    /// The curl options that send the same body (`-F 'file=@receipt.pdf;type=...'`).
    pub curl: Vec<String>,
    /// The text fields' values, for the scan that keeps a secret from going where it may not.
    pub texts: Vec<String>,
    /// One line for `-vv`: `multipart body: 2 fields, 1 file, 1234 bytes`.
    pub summary: String,
}
