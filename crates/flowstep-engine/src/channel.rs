//! Message channels: where `message` steps deliver their text. The embedder implements
//! [`Channel`] for WhatsApp, Telegram or a test recorder.

use async_trait::async_trait;
use std::sync::Mutex;

/// A message a flow sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The flow's name.
    pub flow: String,
    /// The id of the step that sends it.
    pub step: String,
    /// The rendered text.
    pub text: String,
}

/// What the channel reports back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The channel's id for the message (WhatsApp: `wamid...`), if it gives one.
    pub id: Option<String>,
}

/// Why a message could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChannelError {
    /// What went wrong.
    pub message: String,
    /// Whether trying again later may work.
    pub transient: bool,
}

/// Delivers the text of `message` steps.
#[async_trait]
pub trait Channel: Send + Sync {
    /// Delivers one message.
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError>;
}

/// A channel that keeps what it is given, for tests and for embedders that deliver later.
#[derive(Debug, Default)]
pub struct RecordingChannel {
    sent: Mutex<Vec<OutgoingMessage>>,
}

impl RecordingChannel {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages sent so far.
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Channel for RecordingChannel {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.push(message.clone());
        Ok(Delivery {
            id: Some(format!("recorded-{}", sent.len())),
        })
    }
}
