//! How a [`crate::WhatsAppChannel`] reaches the Cloud API: base URL, Graph version, the sending
//! number, the token, a default recipient and the time allowed.

use flowstep_engine::Secret;
use std::time::Duration;

/// Meta's Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version used unless one is chosen (`WhatsAppConfig::api_version`, the CLI's
/// `--whatsapp-graph-version` or `WHATSAPP_GRAPH_VERSION`): the newest when this was written.
/// Meta's Graph API changelog (developers.facebook.com/docs/graph-api/changelog) lists v26.0 as
/// released on 2026-07-29 with no end date yet; each version lives about two years (v21.0 ends
/// on 2027-01-21), so this default is a setting to move forward, never a pin.
pub const DEFAULT_API_VERSION: &str = "v26.0";
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

    /// The same, calling Graph version `version` (`v26.0`); an error says what a version
    /// looks like when `version` is not one ([`is_graph_version`]).
    pub fn with_api_version(mut self, version: &str) -> Result<Self, String> {
        check_graph_version(version)?;
        self.api_version = version.to_owned();
        Ok(self)
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

/// Whether `s` is a Graph API version as Meta writes them in paths: `v`, digits, `.`, digits
/// (`v26.0`).
pub fn is_graph_version(s: &str) -> bool {
    let Some((major, minor)) = s.strip_prefix('v').and_then(|r| r.split_once('.')) else {
        return false;
    };
    let digits = |p: &str| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

/// `Ok` for a Graph version, else the error a person reads (for a flag or a setting).
pub fn check_graph_version(s: &str) -> Result<(), String> {
    if is_graph_version(s) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a Graph API version: write it as Meta does in URLs, `v` then major.minor, like {DEFAULT_API_VERSION}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_versions_are_v_major_dot_minor() {
        for ok in ["v26.0", "v21.0", "v9.1", DEFAULT_API_VERSION] {
            assert!(is_graph_version(ok), "{ok}");
        }
        for bad in [
            "26.0", "v26", "v26.", "V26.0", "v26.0/", "v2a.0", "", "v1234.0",
        ] {
            assert!(!is_graph_version(bad), "{bad}");
        }
        let e = WhatsAppConfig::new("1", Secret::new("t"))
            .with_api_version("26.0")
            .unwrap_err();
        assert_eq!(
            e,
            "`26.0` is not a Graph API version: write it as Meta does in URLs, `v` then major.minor, like v26.0"
        );
        let c = WhatsAppConfig::new("1", Secret::new("t"))
            .with_api_version("v25.0")
            .unwrap();
        assert_eq!(
            c.messages_url(),
            "https://graph.facebook.com/v25.0/1/messages"
        );
    }
}
