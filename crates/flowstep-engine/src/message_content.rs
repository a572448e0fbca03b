//! What a message carries besides its text (a link button, reply buttons, a WhatsApp
//! template), rendered, and how a channel that cannot show it prints it instead.

use serde::{Deserialize, Serialize};

/// A message's kind and the values beyond its text, rendered.
///
/// A channel that knows the kind sends it as such (the WhatsApp channel); any other shows
/// [`crate::OutgoingMessage::readable`], where a button is `[Pay now] https://...` and a
/// template its name and filled parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    /// Only the text.
    Text {
        /// Whether WhatsApp previews the first link (`preview_url:`); `None` leaves it to the
        /// channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview_url: Option<bool>,
    },
    /// The text with one call-to-action button that opens `url`.
    LinkButton {
        /// The button's text ("Pay now").
        title: String,
        /// The URL it opens.
        url: String,
    },
    /// The text with quick-reply buttons.
    ReplyButtons {
        /// The buttons, in order.
        buttons: Vec<ReplyButton>,
    },
    /// An approved WhatsApp template; the message's text is [`MessageContent::template_summary`].
    Template {
        /// The template's name.
        name: String,
        /// Its language code.
        language: String,
        /// The body's parameters, `{{1}}` first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        body: Vec<String>,
        /// Its URL button's parameter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url_button: Option<String>,
    },
}

/// One quick-reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// The id a reply carries back.
    pub id: String,
    /// What the button shows.
    pub title: String,
}

impl Default for MessageContent {
    fn default() -> Self {
        MessageContent::Text { preview_url: None }
    }
}

impl MessageContent {
    /// Whether this is a text with no settings of its own (left out of outcomes).
    pub fn is_plain_text(&self) -> bool {
        *self == MessageContent::default()
    }

    /// A template message as a line a person reads:
    /// `template order_payment (en_US): {{1}} = Asha, {{2}} = ₹500.00, URL button = cs_test_a1`.
    pub fn template_summary(
        name: &str,
        language: &str,
        body: &[String],
        url_button: Option<&str>,
    ) -> String {
        let mut parts: Vec<String> = body
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{{{{{}}}}} = {p}", i + 1))
            .collect();
        parts.extend(url_button.map(|u| format!("URL button = {u}")));
        if parts.is_empty() {
            format!("template {name} ({language})")
        } else {
            format!("template {name} ({language}): {}", parts.join(", "))
        }
    }

    /// `text` as a channel without buttons shows it: the text, then each button on a line of
    /// its own (`[Pay now] https://...`, `[Yes] [No]`).
    pub fn readable(&self, text: &str) -> String {
        match self {
            MessageContent::Text { .. } | MessageContent::Template { .. } => text.to_owned(),
            MessageContent::LinkButton { title, url } => format!("{text}\n[{title}] {url}"),
            MessageContent::ReplyButtons { buttons } => {
                let row: Vec<String> = buttons.iter().map(|b| format!("[{}]", b.title)).collect();
                format!("{text}\n{}", row.join(" "))
            }
        }
    }

    /// The same with every string passed through `f` (redaction).
    pub fn map_strings(&self, f: impl Fn(&str) -> String) -> MessageContent {
        match self {
            MessageContent::Text { preview_url } => MessageContent::Text {
                preview_url: *preview_url,
            },
            MessageContent::LinkButton { title, url } => MessageContent::LinkButton {
                title: f(title),
                url: f(url),
            },
            MessageContent::ReplyButtons { buttons } => MessageContent::ReplyButtons {
                buttons: buttons
                    .iter()
                    .map(|b| ReplyButton {
                        id: f(&b.id),
                        title: f(&b.title),
                    })
                    .collect(),
            },
            MessageContent::Template {
                name,
                language,
                body,
                url_button,
            } => MessageContent::Template {
                name: f(name),
                language: f(language),
                body: body.iter().map(|p| f(p)).collect(),
                url_button: url_button.as_deref().map(&f),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_and_templates_read_as_text() {
        let cta = MessageContent::LinkButton {
            title: "Pay now".into(),
            url: "https://pay.example/x".into(),
        };
        assert_eq!(
            cta.readable("Your order"),
            "Your order\n[Pay now] https://pay.example/x"
        );
        let reply = MessageContent::ReplyButtons {
            buttons: vec![
                ReplyButton {
                    id: "yes".into(),
                    title: "Yes".into(),
                },
                ReplyButton {
                    id: "no".into(),
                    title: "No".into(),
                },
            ],
        };
        assert_eq!(reply.readable("Confirm?"), "Confirm?\n[Yes] [No]");
        assert_eq!(
            MessageContent::template_summary(
                "order_payment",
                "en_US",
                &["Asha".into(), "₹500.00".into()],
                Some("cs_1")
            ),
            "template order_payment (en_US): {{1}} = Asha, {{2}} = ₹500.00, URL button = cs_1"
        );
        assert_eq!(
            MessageContent::template_summary("hello_world", "en_US", &[], None),
            "template hello_world (en_US)"
        );
        assert!(MessageContent::default().is_plain_text());
        assert_eq!(
            serde_json::to_value(&cta).unwrap(),
            serde_json::json!({"type": "link_button", "title": "Pay now", "url": "https://pay.example/x"})
        );
    }
}
