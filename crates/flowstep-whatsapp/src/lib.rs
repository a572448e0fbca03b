//! A flowstep message [`Channel`](flowstep_engine::Channel) that delivers every `message` step
//! through Meta's WhatsApp Cloud API, and records the `wamid.` id Meta returns as the
//! message's delivery id in the run's outcome.
//!
//! One channel serves every customer: each message goes to the recipient its run names
//! (`RunRequest::to`), through the channel's one connection pool.
//!
//! Each message is one Cloud API message (`POST {base_url}/{api_version}/{phone_number_id}/messages`
//! with a bearer token and a JSON body): a text, a text with a "Pay now" link button or reply
//! buttons (`interactive`), or an approved template, as the message's
//! [`MessageContent`](flowstep_engine::MessageContent) says. The text is sent exactly as the flow rendered it:
//! any language, emoji, and URLs with their `#fragment`. Graph's error envelope becomes a
//! [`ChannelError`](flowstep_engine::ChannelError) carrying Meta's message and code, transient
//! for HTTP 429, 5xx and connection failures. The token is sent only in the `Authorization`
//! header and never appears in an error or in `Debug` output.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use flowstep_engine::{Channel, OutgoingMessage, Secret};
//! use flowstep_sandbox::{Sandbox, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN};
//! use flowstep_whatsapp::{WhatsAppChannel, WhatsAppConfig};
//!
//! // The sandbox stands in for graph.facebook.com; in production leave base_url as it is.
//! let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
//! let mut config =
//!     WhatsAppConfig::new(SANDBOX_WHATSAPP_PHONE_NUMBER_ID, Secret::new(SANDBOX_WHATSAPP_TOKEN));
//! config.base_url = sandbox.base_url();
//! let channel = WhatsAppChannel::new(config);
//!
//! let message = OutgoingMessage {
//!     flow: "demo".into(),
//!     step: "greet".into(),
//!     text: "नमस्ते! Pay here: https://checkout.stripe.com/c/pay/cs_test_a1#fid2".into(),
//!     to: Some("+919000090000".into()), // a run's recipient: `RunRequest::new().to(...)`
//!     ..Default::default()
//! };
//! let delivery = channel.send(&message).await.unwrap();
//! assert!(delivery.id.unwrap().starts_with("wamid."));
//! assert_eq!(sandbox.whatsapp_messages()[0].text, message.text);
//! # });
//! ```

mod channel;
mod config;
mod graph_error;

pub use channel::WhatsAppChannel;
pub use config::{
    DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, WhatsAppConfig, check_graph_version,
    is_graph_version,
};
