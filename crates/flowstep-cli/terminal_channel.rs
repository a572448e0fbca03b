//! The CLI's message channel: prints each message as it is sent (text output), a button as
//! `[Pay now] https://...` and a template as its name and filled parameters, and lets the
//! runner record it in the outcome. The engine has redacted the text before it gets here.

use async_trait::async_trait;
use flowstep_engine::{Channel, ChannelError, Delivery, OutgoingMessage};

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
            let mut text = format!("message from {}:\n", message.step_label());
            for line in message.readable().lines() {
                text.push_str(&format!("  │ {line}\n"));
            }
            text.push('\n');
            crate::out::write(crate::out::Stream::Stdout, &text);
        }
        Ok(Delivery::default())
    }
}
