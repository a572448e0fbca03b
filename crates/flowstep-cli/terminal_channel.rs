//! The CLI's message channel: prints each message as it is sent (text output) and lets the
//! runner record it in the outcome.

use async_trait::async_trait;
use flowstep_engine::{Channel, ChannelError, Delivery, OutgoingMessage, Redactor};
use std::io::Write;
use std::sync::Arc;

/// Prints messages to stdout when `print` is set (it is not for `--output json`, whose stdout
/// is one JSON document).
pub struct TerminalChannel {
    /// Whether to print.
    pub print: bool,
    /// Hides secrets in what is printed, should a response have echoed one into a variable.
    pub redactor: Arc<Redactor>,
}

#[async_trait]
impl Channel for TerminalChannel {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        if self.print {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "message from {}:", message.step);
            for line in self.redactor.redact(&message.text).lines() {
                let _ = writeln!(out, "  │ {line}");
            }
            let _ = writeln!(out);
        }
        Ok(Delivery::default())
    }
}
