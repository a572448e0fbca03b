//! The `message` step: what is handed to the message channel (WhatsApp, a terminal, a
//! recorder): a text, a text with a link button or reply buttons, or a WhatsApp template.
//!
//! ```yaml
//! - id: send_link
//!   type: message
//!   text: "Your order is ready: <<payment_url>>"
//!   button: { title: Pay now, url: "<<payment_url>>" }   # or buttons: [{id: pay, title: Pay}]
//! - id: remind
//!   type: message
//!   template: { name: order_payment, language: en_US, body: ["<<name>>", "<<amount>>"], url_button: "<<session_id>>" }
//! ```
//!
//! Literal values over WhatsApp's limits ([`crate::message_limits`]) are errors (E015) at the
//! value; templated ones are checked once rendered, before sending.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::message_limits::{self as limits, MAX_BUTTON_ID, MAX_BUTTON_TITLE, MAX_REPLY_BUTTONS};
use crate::reader::{MapReader, expected};
use crate::source::{SourceFile, Span};
use crate::template::{Template, TemplateEnv};
use crate::value_template::compile_string;
use crate::yaml::Node;

/// Keys of a message step.
pub const KEYS: &[&str] = &[
    "id",
    "type",
    "description",
    "when",
    "next",
    "on_error",
    "text",
    "preview_url",
    "button",
    "buttons",
    "template",
];

/// `type: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSpec {
    /// The text, templated: the whole message, or the body above its buttons. `None` for a
    /// template message, whose text is the approved template's.
    pub text: Option<Template>,
    /// `preview_url:` (text messages only): whether WhatsApp previews the first link. `None`
    /// leaves it to the channel.
    pub preview_url: Option<bool>,
    /// What the message carries besides its text.
    pub content: ContentSpec,
}

/// What a message carries besides its text.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentSpec {
    /// Only the text.
    Text,
    /// `button: {title, url}`: one call-to-action button that opens `url`.
    LinkButton {
        /// The button's text ("Pay now"), at most 20 characters.
        title: Template,
        /// The http(s) URL it opens.
        url: Template,
    },
    /// `buttons: [{id, title}]`: one to three quick-reply buttons.
    ReplyButtons(Vec<ReplyButtonSpec>),
    /// `template: {name, language, body, url_button}`: an approved WhatsApp template.
    Template(TemplateMessageSpec),
}

/// One reply button.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyButtonSpec {
    /// The id the customer's reply carries back (`button_reply.id`).
    pub id: Template,
    /// What the button shows, at most 20 characters.
    pub title: Template,
}

/// A WhatsApp template message: the template is approved in advance in the WhatsApp
/// Manager; the message names it and fills its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateMessageSpec {
    /// The template's name (`order_payment`).
    pub name: Template,
    /// Its language code (`en_US`).
    pub language: Template,
    /// The body's parameters, `{{1}}`, `{{2}}`, ... in order.
    pub body: Vec<Template>,
    /// The parameter of its URL button (the part of the URL after the approved base), if it
    /// has one.
    pub url_button: Option<Template>,
}

impl MessageSpec {
    /// Reads the type-specific keys.
    pub fn read(
        m: &mut MapReader<'_>,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let text_node = m.get("text");
        let preview_node = m.get("preview_url");
        let button_node = m.get("button");
        let buttons_node = m.get("buttons");
        let template_node = m.get("template");
        if let Some(t) = template_node {
            // A template's words are approved in advance; the message only fills them in.
            for (key, node) in [
                ("text", text_node),
                ("preview_url", preview_node),
                ("button", button_node),
                ("buttons", buttons_node),
            ] {
                if let Some(span) = node.and(m.key_span(key)) {
                    diags.push(
                        Diagnostic::error(
                            "E010",
                            format!("`{key}` cannot be used with `template`"),
                            span,
                        )
                        .with_help("a template message's text and buttons are the approved template's; fill its parameters with `template.body` and `template.url_button`"),
                    );
                }
            }
            let spec = read_template(t, file, env, diags)?;
            return Some(MessageSpec {
                text: None,
                preview_url: None,
                content: ContentSpec::Template(spec),
            });
        }
        let Some(text_node) = text_node else {
            diags.push(
                Diagnostic::error(
                    "E003",
                    format!("missing `text` in {}", m.what()),
                    m.start_span(),
                )
                .with_label("`text` is required here")
                .with_help("a message has a `text`, or is a WhatsApp `template`"),
            );
            return None;
        };
        let Some(text) = text_node.as_str().filter(|_| !text_node.is_null()) else {
            diags.push(expected(text_node, "text", "`text`"));
            return None;
        };
        let text = compile_string(text, text_node, file, env, diags);
        if let (Some(_), Some(span)) = (button_node.and(buttons_node), m.key_span("buttons")) {
            diags.push(
                Diagnostic::error("E010", "`button` and `buttons` cannot be used together", span)
                    .with_help("a message has one link button (`button`) or up to three reply buttons (`buttons`)"),
            );
        }
        let content = if let Some(b) = button_node {
            read_link_button(b, file, env, diags)?
        } else if let Some(b) = buttons_node {
            ContentSpec::ReplyButtons(read_reply_buttons(b, file, env, diags)?)
        } else {
            ContentSpec::Text
        };
        let preview_url = match preview_node {
            None => None,
            Some(n) => match n.scalar_value() {
                Some(serde_json::Value::Bool(b)) => Some(b),
                _ => {
                    diags.push(expected(n, "`true` or `false`", "`preview_url`"));
                    None
                }
            },
        };
        if let (Some(_), false, Some(span)) = (
            preview_url,
            content == ContentSpec::Text,
            m.key_span("preview_url"),
        ) {
            diags.push(
                Diagnostic::error("E010", "`preview_url` applies to text messages only", span)
                    .with_help(
                        "a message with buttons shows no link preview; remove `preview_url`",
                    ),
            );
        }
        let max = if content == ContentSpec::Text {
            limits::MAX_TEXT
        } else {
            limits::MAX_INTERACTIVE_BODY
        };
        let what = if content == ContentSpec::Text {
            "the text"
        } else {
            "the text above the buttons"
        };
        literal_limit(&text, what, max, diags);
        Some(MessageSpec {
            text: Some(text),
            preview_url,
            content,
        })
    }

    /// Every template in the step.
    pub fn templates(&self) -> Vec<&Template> {
        let mut all: Vec<&Template> = self.text.iter().collect();
        match &self.content {
            ContentSpec::Text => {}
            ContentSpec::LinkButton { title, url } => all.extend([title, url]),
            ContentSpec::ReplyButtons(b) => all.extend(b.iter().flat_map(|b| [&b.id, &b.title])),
            ContentSpec::Template(t) => {
                all.extend([&t.name, &t.language]);
                all.extend(&t.body);
                all.extend(&t.url_button);
            }
        }
        all
    }
}

/// E015 at `t` when it is literal and longer than `max`.
fn literal_limit(t: &Template, what: &str, max: usize, diags: &mut Diagnostics) {
    if let Some(problem) = t.as_literal().and_then(|v| limits::too_long(what, v, max)) {
        diags.push(Diagnostic::error("E015", problem, t.span()));
    }
}

/// E015 at `t` when it is literal and `problem` finds something wrong with it.
fn literal_check(t: &Template, problem: impl Fn(&str) -> Option<String>, diags: &mut Diagnostics) {
    if let Some(p) = t.as_literal().and_then(problem) {
        diags.push(Diagnostic::error("E015", p, t.span()));
    }
}

/// A required string value of a small mapping, compiled.
fn string_key(
    m: &mut MapReader<'_>,
    key: &str,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Template> {
    let node = m.required(key, diags)?;
    string(node, &format!("`{key}`"), file, env, diags)
}

/// A string value, compiled.
fn string(
    node: &Node,
    what: &str,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Template> {
    match node.as_str().filter(|_| !node.is_null()) {
        Some(s) => Some(compile_string(s, node, file, env, diags)),
        None => {
            diags.push(expected(node, "text", what));
            None
        }
    }
}

fn read_link_button(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<ContentSpec> {
    let mut m = MapReader::new(node, "`button`", &["title", "url"], diags)?;
    let title = string_key(&mut m, "title", file, env, diags);
    let url = string_key(&mut m, "url", file, env, diags);
    m.finish(diags);
    let (title, url) = (title?, url?);
    literal_check(&title, |v| limits::blank("the button title", v), diags);
    literal_limit(&title, "the button title", MAX_BUTTON_TITLE, diags);
    literal_check(&url, limits::bad_url, diags);
    Some(ContentSpec::LinkButton { title, url })
}

fn read_reply_buttons(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Vec<ReplyButtonSpec>> {
    let Some(items) = node.as_seq() else {
        diags.push(expected(node, "a list", "`buttons`"));
        return None;
    };
    if items.is_empty() {
        diags.push(Diagnostic::error(
            "E015",
            "`buttons` is empty: give one to three buttons",
            node.span,
        ));
        return None;
    }
    if let Some(extra) = items.get(MAX_REPLY_BUTTONS) {
        diags.push(
            Diagnostic::error(
                "E015",
                format!(
                    "{} reply buttons; WhatsApp takes at most {MAX_REPLY_BUTTONS}",
                    items.len()
                ),
                extra.span,
            )
            .with_label("one too many from here"),
        );
    }
    let mut buttons = Vec::new();
    let mut ids: Vec<(String, Span)> = Vec::new();
    for item in items {
        let Some(mut m) = MapReader::new(item, "a reply button", &["id", "title"], diags) else {
            continue;
        };
        let id = string_key(&mut m, "id", file, env, diags);
        let title = string_key(&mut m, "title", file, env, diags);
        m.finish(diags);
        let (Some(id), Some(title)) = (id, title) else {
            continue;
        };
        literal_check(&id, |v| limits::blank("the button id", v), diags);
        literal_limit(&id, "the button id", MAX_BUTTON_ID, diags);
        literal_check(&title, |v| limits::blank("the button title", v), diags);
        literal_limit(&title, "the button title", MAX_BUTTON_TITLE, diags);
        if let Some(v) = id.as_literal() {
            if ids.iter().any(|(seen, _)| seen == v) {
                diags.push(
                    Diagnostic::error(
                        "E015",
                        format!("two reply buttons have the id `{v}`"),
                        id.span(),
                    )
                    .with_help(
                        "each button's id must differ, so that a reply says which was tapped",
                    ),
                );
            }
            ids.push((v.to_owned(), id.span()));
        }
        buttons.push(ReplyButtonSpec { id, title });
    }
    Some(buttons)
}

fn read_template(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<TemplateMessageSpec> {
    let mut m = MapReader::new(
        node,
        "`template`",
        &["name", "language", "body", "url_button"],
        diags,
    )?;
    let name = string_key(&mut m, "name", file, env, diags);
    let language = string_key(&mut m, "language", file, env, diags);
    let body = match m.get("body") {
        None => Some(Vec::new()),
        Some(n) => match n.as_seq() {
            Some(items) => items
                .iter()
                .map(|i| string(i, "a `body` parameter", file, env, diags))
                .collect::<Option<Vec<_>>>(),
            None => {
                diags.push(expected(n, "a list", "`template.body`"));
                None
            }
        },
    };
    let url_button = match m.get("url_button") {
        None => Some(None),
        Some(n) => string(n, "`url_button`", file, env, diags).map(Some),
    };
    m.finish(diags);
    let (name, language, body, url_button) = (name?, language?, body?, url_button?);
    literal_check(&name, template_name_problem, diags);
    literal_check(&language, language_problem, diags);
    for p in &body {
        literal_check(p, |v| limits::blank("a template body parameter", v), diags);
    }
    Some(TemplateMessageSpec {
        name,
        language,
        body,
        url_button,
    })
}

/// Template names are lower-case letters, digits and `_` (WhatsApp Manager's rule), at most 512.
pub fn template_name_problem(v: &str) -> Option<String> {
    let ok = !v.is_empty()
        && v.len() <= 512
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (!ok).then(|| {
        format!("`{v}` is not a template name: names are lower-case letters, digits and `_`, like order_payment")
    })
}

/// Language codes are `en`, `en_US`, `pt_BR`: two or three lower-case letters, optionally `_`
/// and an upper-case region.
pub fn language_problem(v: &str) -> Option<String> {
    let (lang, region) = v.split_once('_').unwrap_or((v, "AA"));
    let ok = (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.len() == 2
        && region.bytes().all(|b| b.is_ascii_uppercase());
    (!ok)
        .then(|| format!("`{v}` is not a template language code: write it like en_US, en or pt_BR"))
}
