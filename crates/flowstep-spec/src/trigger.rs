//! `triggers:`: what starts a flow besides the API. Today one kind: an inbound WhatsApp message
//! whose text matches a regular expression, its named captures filling the flow's inputs.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::input::InputDecl;
use crate::reader::{MapReader, expected, scalar_text};
use crate::source::Spanned;
use crate::yaml::Node;

/// The inputs a WhatsApp trigger fills besides the captures, when the flow declares them: the
/// sender's number (`wa_id`) and their WhatsApp profile name.
pub const SENDER_INPUTS: &[&str] = &["customer_phone", "customer_name"];

/// The longest pattern, and the most a compiled one may take (bytes): a pattern is matched
/// against every inbound message, so it stays small.
pub const MAX_PATTERN_CHARS: usize = 1000;
const MAX_COMPILED: usize = 1 << 20;

/// `- whatsapp: { text: '^(?i)buy\s+(?P<product>.+)$' }`: an inbound WhatsApp text message
/// that matches `text` starts a run; each named capture fills the input of its name.
#[derive(Debug, Clone)]
pub struct WhatsAppTrigger {
    /// The regular expression (Rust's `regex` syntax), as written.
    pub text: Spanned<String>,
    /// Its named capture groups, in order.
    pub captures: Vec<String>,
    /// The pattern, compiled once when the flow was read (every inbound message is matched).
    pub regex: regex::Regex,
}

impl PartialEq for WhatsAppTrigger {
    /// Two triggers are the same when written the same (the compiled form follows).
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_COMPILED)
        .build()
}

/// Reads `triggers:` against the flow's `inputs`.
pub fn read_triggers(
    node: &Node,
    inputs: &[InputDecl],
    diags: &mut Diagnostics,
) -> Vec<WhatsAppTrigger> {
    let Some(items) = node.as_seq() else {
        if !node.is_null() {
            diags.push(expected(node, "a list of triggers", "`triggers`"));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(mut m) = MapReader::new(item, "a trigger", &["whatsapp"], diags) else {
            continue;
        };
        let Some(whatsapp) = m.required("whatsapp", diags) else {
            m.finish(diags);
            continue;
        };
        m.finish(diags);
        let Some(mut w) = MapReader::new(whatsapp, "a `whatsapp` trigger", &["text"], diags) else {
            continue;
        };
        let text = w
            .required("text", diags)
            .and_then(|n| scalar_text(n, "`text`", diags));
        w.finish(diags);
        let Some(text) = text else { continue };
        if let Some(trigger) = check(text, inputs, diags) {
            out.push(trigger);
        }
    }
    out
}

fn check(
    text: Spanned<String>,
    inputs: &[InputDecl],
    diags: &mut Diagnostics,
) -> Option<WhatsAppTrigger> {
    if text.value.chars().count() > MAX_PATTERN_CHARS {
        diags.push(Diagnostic::error(
            "E010",
            format!("the pattern is longer than {MAX_PATTERN_CHARS} characters"),
            text.span,
        ));
        return None;
    }
    let regex = match compile(&text.value) {
        Ok(r) => r,
        Err(e) => {
            let reason = e.to_string();
            // The regex crate's message spans lines and draws its own caret.
            let reason = reason.lines().last().unwrap_or("").trim();
            let reason = reason.strip_prefix("error: ").unwrap_or(reason).to_owned();
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`text` is not a regular expression: {reason}"),
                    text.span,
                )
                .with_help("the syntax is Rust's regex crate's (https://docs.rs/regex/latest/regex/#syntax): `(?i)` ignores case, `(?P<name>...)` captures an input"),
            );
            return None;
        }
    };
    let captures: Vec<String> = regex.capture_names().flatten().map(str::to_owned).collect();
    let mut ok = true;
    for name in &captures {
        if SENDER_INPUTS.contains(&name.as_str()) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("the capture `{name}` would let the message's text stand in for the sender"),
                    text.span,
                )
                .with_help(format!(
                    "`{name}` is filled from WhatsApp's own record of who wrote; name the group after another input"
                )),
            );
            continue;
        }
        if !inputs.iter().any(|i| &i.name.value == name) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("the capture `{name}` fills no input"),
                    text.span,
                )
                .with_help(format!(
                    "declare `{name}` under `inputs:`, or name the group after an input"
                )),
            );
        }
    }
    for input in inputs {
        let name = input.name.value.as_str();
        let filled = captures.iter().any(|c| c == name) || SENDER_INPUTS.contains(&name);
        if input.default.is_none() && !filled {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("input `{name}` has no default, and this trigger does not fill it"),
                    text.span,
                )
                .with_help(format!(
                    "capture it with `(?P<{name}>...)`, or give it a `default:`; a trigger fills its captures and, when declared, {}",
                    SENDER_INPUTS
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )),
            );
        }
    }
    ok.then_some(WhatsAppTrigger {
        text,
        captures,
        regex,
    })
}
