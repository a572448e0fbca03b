//! The message templates the sandbox treats as approved: WhatsApp delivers a template message
//! only for a template approved in advance in the WhatsApp Manager, so the sandbox knows a small
//! set ([`builtin_templates`], listed in docs/sandbox.md) and takes more from a JSON file
//! (`flowstep sandbox --whatsapp-templates FILE`, [`read_templates`]) or from
//! `Sandbox::add_whatsapp_template`.
//!
//! A template is a name and language, a body with placeholders `{{1}}`, `{{2}}`, ... (filled by
//! the message's body parameters, in order), and optionally a URL button whose URL ends in
//! `{{1}}` (filled by the message's URL button parameter).

use serde::{Deserialize, Serialize};

/// One approved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxTemplate {
    /// Its name (`order_payment`).
    pub name: String,
    /// Its language code (`en_US`).
    pub language: String,
    /// Its body, with `{{1}}`, `{{2}}`, ... where parameters go.
    pub body: String,
    /// Its URL button's URL, ending in `{{1}}` where the message's parameter goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_button: Option<String>,
}

/// The templates every sandbox knows.
pub fn builtin_templates() -> Vec<SandboxTemplate> {
    let t = |name: &str, body: &str, url: Option<&str>| SandboxTemplate {
        name: name.into(),
        language: "en_US".into(),
        body: body.into(),
        url_button: url.map(Into::into),
    };
    vec![
        // Meta's own sample, present on every new WhatsApp Business Account.
        t(
            "hello_world",
            "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.",
            None,
        ),
        t(
            "order_payment",
            "Hi {{1}}, your order of {{2}} is ready. Tap Pay now to complete your payment.",
            Some("https://checkout.stripe.com/c/pay/{{1}}"),
        ),
        t(
            "payment_reminder",
            "Hi {{1}}, your payment of {{2}} is still pending. The link expires {{3}}.",
            Some("https://checkout.stripe.com/c/pay/{{1}}"),
        ),
        t(
            "payment_received",
            "Thank you {{1}}! We received your payment of {{2}}.",
            None,
        ),
    ]
}

impl SandboxTemplate {
    /// How many parameters the body takes: its highest `{{n}}`.
    pub fn body_params(&self) -> usize {
        placeholders(&self.body)
    }

    /// How many parameters the URL button takes (0 or 1).
    pub fn button_params(&self) -> usize {
        self.url_button.as_deref().map_or(0, placeholders)
    }

    /// The body with `params` filled in.
    pub fn fill(&self, params: &[String]) -> String {
        fill(&self.body, params)
    }

    /// Why this is not a template the sandbox can hold, if it is not.
    fn problem(&self) -> Option<String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Some(format!(
                "`{}` is not a template name: lower-case letters, digits and `_`",
                self.name
            ));
        }
        if self.language.is_empty() || self.body.trim().is_empty() {
            return Some(format!(
                "template `{}` needs a language and a body",
                self.name
            ));
        }
        match &self.url_button {
            Some(u) if !u.ends_with("{{1}}") || placeholders(u) != 1 => Some(format!(
                "template `{}`: the url_button must end in {{{{1}}}} (its one parameter)",
                self.name
            )),
            _ => None,
        }
    }
}

/// The highest `{{n}}` in `text` (0 when none).
fn placeholders(text: &str) -> usize {
    let mut max = 0;
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find("}}")
            && let Ok(n) = rest[..end].parse::<usize>()
        {
            max = max.max(n);
        }
    }
    max
}

/// `text` with each `{{n}}` replaced by `params[n - 1]`.
pub(crate) fn fill(text: &str, params: &[String]) -> String {
    let mut out = text.to_owned();
    for (i, p) in params.iter().enumerate() {
        out = out.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    out
}

/// Reads a templates file: a JSON array of `{"name", "language", "body", "url_button"?}`.
pub fn read_templates(text: &str) -> Result<Vec<SandboxTemplate>, String> {
    let list: Vec<SandboxTemplate> = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a JSON list of templates like [{{\"name\": \"order_shipped\", \"language\": \"en_US\", \"body\": \"Hi {{{{1}}}}, order {{{{2}}}} has shipped\"}}]: {e}"
        )
    })?;
    if let Some(p) = list.iter().find_map(SandboxTemplate::problem) {
        return Err(p);
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_and_files() {
        let t = &builtin_templates()[1];
        assert_eq!((t.body_params(), t.button_params()), (2, 1));
        assert_eq!(
            t.fill(&["Asha".into(), "₹500.00".into()]),
            "Hi Asha, your order of ₹500.00 is ready. Tap Pay now to complete your payment."
        );
        assert_eq!(builtin_templates()[0].body_params(), 0);
        let ok = read_templates(
            r#"[{"name": "order_shipped", "language": "en_US", "body": "Order {{1}} shipped"}]"#,
        )
        .unwrap();
        assert_eq!(ok[0].body_params(), 1);
        assert!(
            read_templates(r#"[{"name": "Bad-Name", "language": "en_US", "body": "x"}]"#).is_err()
        );
        assert!(
            read_templates(r#"[{"name": "a", "language": "en_US", "body": "x", "colour": 1}]"#)
                .unwrap_err()
                .contains("colour")
        );
    }
}
