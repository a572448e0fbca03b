//! The WhatsApp Cloud API channel: each message a flow sends becomes one Cloud API message
//! (a text, an interactive message with buttons, or a template;
//! `POST /{version}/{phone_number_id}/messages`), and the `wamid.` id Meta returns becomes the
//! delivery id recorded in the outcome.

use crate::config::WhatsAppConfig;
use crate::graph_error;
use async_trait::async_trait;
use flowstep_engine::{Channel, ChannelError, Delivery, MessageContent, OutgoingMessage};
use serde_json::{Value, json};

/// The largest answer read; Graph's answers to a send are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Delivers messages through the WhatsApp Cloud API (the crate docs send one to the sandbox).
///
/// One channel serves every conversation: each message goes to the recipient its run names
/// ([`OutgoingMessage::to`], set with `RunRequest::to`), through one connection pool, so a
/// backend with many customers needs one channel, shared by every run (it is `Send + Sync`;
/// share it by reference or in an `Arc`).
///
/// ```
/// use flowstep_engine::Secret;
/// use flowstep_whatsapp::{DEFAULT_API_VERSION, WhatsAppChannel, WhatsAppConfig};
///
/// let config = WhatsAppConfig::new("106540352242922", Secret::new("EAAGtoken0123456789abcd"));
/// let channel = WhatsAppChannel::new(config);
/// assert_eq!(
///     channel.config().messages_url(),
///     format!("https://graph.facebook.com/{DEFAULT_API_VERSION}/106540352242922/messages")
/// );
/// let body = channel.body("+919000090000", "Hi");
/// assert_eq!((body["to"].as_str(), body["text"]["body"].as_str()), (Some("+919000090000"), Some("Hi")));
/// // The token never shows in Debug output.
/// assert!(!format!("{channel:?}").contains("EAAGtoken0123456789abcd"));
/// ```
///
/// A send is never retried here: the Cloud API takes no idempotency key, so a retry after a lost
/// answer could deliver the message twice. A failure is reported as transient (HTTP 429, 5xx,
/// a connection error or a timeout) or not, and the run records it.
pub struct WhatsAppChannel {
    config: WhatsAppConfig,
    client: reqwest::Client,
}

impl std::fmt::Debug for WhatsAppChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppChannel")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WhatsAppChannel {
    /// A channel with its own connection pool, for every recipient. Redirects are not followed: a redirected
    /// `Authorization` header could carry the token to another host.
    pub fn new(config: WhatsAppConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("flowstep-whatsapp/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building fails only when the TLS backend cannot start; the default client would
            // fail the same way, so there is nothing better to fall back to.
            .unwrap_or_default();
        WhatsAppChannel { config, client }
    }

    /// The configuration it sends with.
    pub fn config(&self) -> &WhatsAppConfig {
        &self.config
    }

    /// The recipient of `message`: the one it names, else the configured default.
    pub fn recipient<'m>(&'m self, message: &'m OutgoingMessage) -> Option<&'m str> {
        message.to.as_deref().or(self.config.to.as_deref())
    }

    /// The JSON body for one text message to `to`, as Meta's "Send text messages" reference
    /// gives it.
    pub fn body(&self, to: &str, text: &str) -> Value {
        self.message_body(to, text, &MessageContent::default())
    }

    /// The JSON body for a message of any kind to `to` (facts file
    /// `webhooks-and-messaging-facts.md`, "WhatsApp Cloud API"): a text (`type: text`), a
    /// link button (`interactive` `cta_url`), reply buttons (`interactive` `button`) or a
    /// template (`type: template`, its body parameters and URL button parameter as
    /// `components`; a template without parameters has none).
    pub fn message_body(&self, to: &str, text: &str, content: &MessageContent) -> Value {
        let (kind, payload) = match content {
            MessageContent::Text { preview_url } => (
                "text",
                json!({ "preview_url": preview_url.unwrap_or(self.config.preview_url), "body": text }),
            ),
            MessageContent::LinkButton { title, url } => (
                "interactive",
                json!({
                    "type": "cta_url",
                    "body": { "text": text },
                    "action": {
                        "name": "cta_url",
                        "parameters": { "display_text": title, "url": url },
                    },
                }),
            ),
            MessageContent::ReplyButtons { buttons } => (
                "interactive",
                json!({
                    "type": "button",
                    "body": { "text": text },
                    "action": {
                        "buttons": buttons
                            .iter()
                            .map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}}))
                            .collect::<Vec<_>>(),
                    },
                }),
            ),
            MessageContent::Template {
                name,
                language,
                body,
                url_button,
            } => {
                let mut components = Vec::new();
                if !body.is_empty() {
                    components.push(json!({
                        "type": "body",
                        "parameters": body
                            .iter()
                            .map(|p| json!({"type": "text", "text": p}))
                            .collect::<Vec<_>>(),
                    }));
                }
                if let Some(suffix) = url_button {
                    components.push(json!({
                        "type": "button",
                        "sub_type": "url",
                        "index": "0",
                        "parameters": [{"type": "text", "text": suffix}],
                    }));
                }
                let mut template = json!({ "name": name, "language": { "code": language } });
                if !components.is_empty() {
                    template["components"] = Value::Array(components);
                }
                ("template", template)
            }
        };
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": kind,
        });
        body[kind] = payload;
        body
    }

    /// Hides the token should an error text ever echo it.
    fn scrub(&self, text: String) -> String {
        let token = self.config.token.expose();
        if token.is_empty() || !text.contains(token) {
            return text;
        }
        text.replace(token, &self.config.token.to_string())
    }
}

#[async_trait]
impl Channel for WhatsAppChannel {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        let Some(to) = self.recipient(message) else {
            return Err(ChannelError {
                message: format!(
                    "no recipient for the message from step `{}`: give the run one (RunRequest::to) or the channel a default (WhatsAppConfig::with_default_recipient)",
                    message.step
                ),
                transient: false,
            });
        };
        let body = serde_json::to_vec(&self.message_body(to, &message.text, &message.content))
            .map_err(|e| ChannelError {
                message: format!("cannot encode the message: {e}"),
                transient: false,
            })?;
        let answer = self
            .client
            .post(self.config.messages_url())
            .bearer_auth(self.config.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.network_error(&e))?;
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.map_err(|e| self.network_error(&e))?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(ChannelError {
                message: format!(
                    "WhatsApp Cloud API answered HTTP {status} with {} bytes, more than the {MAX_ANSWER_BYTES} read",
                    bytes.len()
                ),
                transient: false,
            });
        }
        if !(200..300).contains(&status) {
            let mut e = graph_error::from_response(status, &bytes);
            e.message = self.scrub(e.message);
            return Err(e);
        }
        let id = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
            v.pointer("/messages/0/id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        match id {
            Some(id) => Ok(Delivery { id: Some(id) }),
            // The message may well have gone out; saying so beats retrying into a duplicate.
            None => Err(ChannelError {
                message: format!(
                    "WhatsApp Cloud API answered HTTP {status} without a message id (messages[0].id); the message may have been sent"
                ),
                transient: false,
            }),
        }
    }
}

impl WhatsAppChannel {
    fn network_error(&self, e: &reqwest::Error) -> ChannelError {
        let what = if e.is_timeout() {
            format!(
                "no answer from the WhatsApp Cloud API within {:?}; the message may have been sent",
                self.config.timeout
            )
        } else if e.is_connect() {
            format!(
                "cannot connect to the WhatsApp Cloud API at {}",
                self.config.base_url
            )
        } else {
            "the connection to the WhatsApp Cloud API failed".to_owned()
        };
        // reqwest's text names the URL (which holds no secret) and the cause.
        let cause = std::error::Error::source(e)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        ChannelError {
            message: self.scrub(format!("{what}{cause}")),
            transient: true,
        }
    }
}
