//! WhatsApp's limits on what a `message` step sends (text length, button titles, the number of
//! reply buttons), checked before anything is sent: at `check` time where the value is literal,
//! at run time once rendered.
//!
//! Source: `../shared/reference/webhooks-and-messaging-facts.md` ("WhatsApp Cloud API"): text
//! bodies at most 4096 characters, at most 3 reply buttons, titles at most 20 characters. The
//! 1024-character body of an interactive message, the 256-character reply id and the CTA's
//! 20-character display text are Meta's "Interactive messages" reference limits, not in that
//! file. Lengths are counted in UTF-16 units (an emoji counts two), as the sandbox counts them:
//! never fewer than characters, so a value that passes here is never too long for Meta.

/// The longest text message body.
pub const MAX_TEXT: usize = 4096;
/// The longest body text above buttons (an interactive message).
pub const MAX_INTERACTIVE_BODY: usize = 1024;
/// The longest button title (a reply button's, or a call-to-action's display text).
pub const MAX_BUTTON_TITLE: usize = 20;
/// The longest reply button id.
pub const MAX_BUTTON_ID: usize = 256;
/// The most reply buttons one message carries.
pub const MAX_REPLY_BUTTONS: usize = 3;

/// The length WhatsApp's limits are checked in.
pub fn length(s: &str) -> usize {
    s.encode_utf16().count()
}

/// "the button title `Complete your payment` is 21 characters long; WhatsApp takes at most
/// 20", or `None` when `value` fits in `max`.
pub fn too_long(what: &str, value: &str, max: usize) -> Option<String> {
    let n = length(value);
    (n > max).then(|| {
        let shown: String = value.chars().take(40).collect();
        let shown = if shown.len() < value.len() {
            format!("`{shown}...`")
        } else {
            format!("`{shown}`")
        };
        format!("{what} {shown} is {n} characters long; WhatsApp takes at most {max}")
    })
}

/// Why `value` cannot be a call-to-action button's URL, if it cannot: WhatsApp opens `http`
/// and `https` links only.
pub fn bad_url(value: &str) -> Option<String> {
    let ok = ["https://", "http://"]
        .iter()
        .any(|p| value.len() > p.len() && value[..p.len()].eq_ignore_ascii_case(p));
    (!ok).then(|| format!("the button URL `{value}` is not an http(s) URL"))
}

/// Why `value` cannot be an empty-or-blank visible text, if it is: WhatsApp refuses empty
/// titles and bodies.
pub fn blank(what: &str, value: &str) -> Option<String> {
    value.trim().is_empty().then(|| format!("{what} is empty"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_utf16_units_and_name_the_value() {
        assert_eq!(
            too_long("the button title", "Pay now", MAX_BUTTON_TITLE),
            None
        );
        assert_eq!(
            too_long(
                "the button title",
                "Complete your payment",
                MAX_BUTTON_TITLE
            )
            .unwrap(),
            "the button title `Complete your payment` is 21 characters long; WhatsApp takes at most 20"
        );
        // 19 letters and an emoji: 21 UTF-16 units.
        assert!(too_long("t", &("a".repeat(19) + "😀"), MAX_BUTTON_TITLE).is_some());
        let long = "x".repeat(MAX_TEXT + 1);
        assert!(
            too_long("the text", &long, MAX_TEXT)
                .unwrap()
                .contains("`xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...` is 4097 characters")
        );
        assert_eq!(bad_url("https://pay.example/x"), None);
        assert!(bad_url("ftp://x").is_some());
        assert!(bad_url("https://").is_some());
        assert!(blank("the title", "  ").is_some());
    }
}
