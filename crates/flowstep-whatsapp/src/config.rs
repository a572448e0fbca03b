//! How a [`crate::WhatsAppChannel`] reaches the Cloud API: base URL, Graph version, the sending
//! number, the token, a default recipient and the time allowed.

use flowstep_engine::Secret;
use std::time::Duration;

/// Meta's Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version the channel (and the `whatsapp-send-text` preset) is written against.
pub const DEFAULT_API_VERSION: &str = "v21.0";
/// How long one send may take, connect to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings for a [`crate::WhatsAppChannel`].
///
/// `Debug` shows the token masked (`EAA...1234`), like every [`Secret`].
#[derive(Debug, Clone)]
pub struct WhatsAppConfig {
    /// Where the Graph API is: [`DEFAULT_BASE_URL`], or a sandbox's base URL in tests.
    pub base_url: String,
    /// The Graph version in the path: [`DEFAULT_API_VERSION`].
    pub api_version: String,
    /// The business phone number id messages are sent from (WhatsApp Manager's "Phone number
    /// ID", not the phone number itself).
    pub phone_number_id: String,
    /// A system user's access token with `whatsapp_business_messaging`.
    pub token: Secret,
    /// The recipient when a message names none ([`OutgoingMessage::to`]): a WhatsApp number
    /// with country code (`+919000090000`). `None` (the default) refuses such a message, so
    /// that a message meant for one customer never goes to another by default.
    ///
    /// [`OutgoingMessage::to`]: flowstep_engine::OutgoingMessage
    pub to: Option<String>,
    /// Whether WhatsApp shows a preview of the first link in a message (on by default: a
    /// payment link's preview tells the customer where it leads).
    pub preview_url: bool,
    /// How long one send may take: [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
}

impl WhatsAppConfig {
    /// A configuration with the defaults: Meta's host, [`DEFAULT_API_VERSION`], link previews
    /// on, [`DEFAULT_TIMEOUT`], and no default recipient: each message goes to the recipient
    /// its run names ([`RunRequest::to`]), so one channel serves every customer.
    ///
    /// [`RunRequest::to`]: flowstep_engine::RunRequest::to
    pub fn new(phone_number_id: impl Into<String>, token: Secret) -> Self {
        WhatsAppConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            phone_number_id: phone_number_id.into(),
            token,
            to: None,
            preview_url: true,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same, sending messages that name no recipient to `to` (a command-line tool that
    /// talks to one number, a test).
    pub fn with_default_recipient(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// `{base_url}/{api_version}/{phone_number_id}/messages`.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url.trim_end_matches('/'),
            self.api_version,
            self.phone_number_id
        )
    }
}
