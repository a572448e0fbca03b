//! The CLI's message channel: prints each message as it is sent (text output) and lets the
//! runner record it in the outcome. The engine has redacted the text before it gets here.

use async_trait::async_trait;
use flowstep_engine::{Channel, ChannelError, Delivery, OutgoingMessage};
use std::io::Write;

/// Prints messages to stdout when `print` is set (it is not for `--output json`, whose stdout
/// is one JSON document).
pub struct TerminalChannel {
    /// Whether to print.
    pub print: bool,
}

#[async_trait]
impl Channel for TerminalChannel {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        if self.print {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "message from {}:", message.step);
            for line in message.text.lines() {
                let _ = writeln!(out, "  │ {line}");
            }
            let _ = writeln!(out);
        }
        Ok(Delivery::default())
    }
}
