//! Exit codes, and what each means.

use std::process::ExitCode;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the flow (or check) succeeded.
    Success,
    /// 1: the flow ran and a step failed.
    Failed,
    /// 2: the flow file, the inputs or the command line are invalid; nothing was sent.
    Invalid,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(match e {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
        })
    }
}
