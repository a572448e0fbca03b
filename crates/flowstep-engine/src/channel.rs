//! Message channels: where `message` steps deliver their text. The embedder implements
//! [`Channel`] for WhatsApp, Telegram or a test recorder.

use crate::MessageContent;
use async_trait::async_trait;
use std::sync::Mutex;

/// A message a flow sends.
///
/// `text` is always what a person should read; `content` says what kind of message it is
/// (a text, buttons, a WhatsApp template) for a channel that can send that kind. Build one
/// with `..Default::default()` so that fields added later keep it compiling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The flow's name.
    pub flow: String,
    /// The id of the step that sends it, after the ids of the `flow` steps it is inside
    /// (`pay.send_link`).
    pub step: String,
    /// The rendered text: the message, the body above its buttons, or for a template a
    /// summary (its name and filled parameters, [`MessageContent::template_summary`]).
    pub text: String,
    /// The kind of message and what it carries besides `text`.
    pub content: MessageContent,
    /// Who it is for, as the run names them ([`crate::RunRequest::to`]): a phone number, a
    /// conversation id. `None` when the run names nobody; a channel then sends to its own
    /// default recipient, if it has one.
    pub to: Option<String>,
}

impl OutgoingMessage {
    /// The message as a channel without buttons or templates shows it: the text, then
    /// `[Pay now] https://...` for a link button, `[Yes] [No]` for reply buttons.
    pub fn readable(&self) -> String {
        self.content.readable(&self.text)
    }

    /// The step's path as people read it: `pay > send_link` for the step `send_link` of the
    /// flow the step `pay` uses (step ids hold no `.`, so the path splits exactly).
    pub fn step_label(&self) -> String {
        self.step.replace('.', " > ")
    }
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
///
/// The returned [`Delivery::id`] is recorded in the outcome (`messages[].delivery_id`); an
/// error fails the step, as `transient` or `rejected`.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flowstep_engine::{Channel, ChannelError, Delivery, OutgoingMessage};
///
/// /// Refuses empty texts, "delivers" the rest.
/// struct Strict;
/// #[async_trait::async_trait]
/// impl Channel for Strict {
///     async fn send(&self, m: &OutgoingMessage) -> Result<Delivery, ChannelError> {
///         if m.text.trim().is_empty() {
///             return Err(ChannelError { message: "empty message".into(), transient: false });
///         }
///         Ok(Delivery { id: Some(format!("{}-1", m.step)) })
///     }
/// }
///
/// let m = OutgoingMessage { step: "s".into(), text: "Hi".into(), ..Default::default() };
/// assert_eq!(Strict.send(&m).await.unwrap().id.as_deref(), Some("s-1"));
/// # });
/// ```
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

/// A channel that delivers nothing: the channel of a default [`crate::RunRequest`]. The
/// outcome still lists every message (with no delivery id), for an embedder that delivers
/// them itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardChannel;

#[async_trait]
impl Channel for DiscardChannel {
    async fn send(&self, _message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        Ok(Delivery::default())
    }
}
