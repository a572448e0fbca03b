//! Reading YAML mappings into typed shapes, recording every problem instead of stopping at the
//! first: missing keys, unknown keys (with "did you mean"), and values of the wrong kind.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{Span, Spanned};
use crate::suggest::help_did_you_mean;
use crate::yaml::{Node, NodeKind};

/// A mapping being read: remembers which keys were taken so that the rest can be reported.
pub struct MapReader<'n> {
    node: &'n Node,
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    what: String,
    known: &'static [&'static str],
}

impl<'n> MapReader<'n> {
    /// Starts reading `node` as `what` (for messages: "the http step"), whose keys are `known`.
    /// Records an error and returns `None` when the node is not a mapping.
    pub fn new(
        node: &'n Node,
        what: impl Into<String>,
        known: &'static [&'static str],
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let what = what.into();
        match &node.kind {
            NodeKind::Map(entries) => Some(MapReader {
                node,
                entries,
                used: vec![false; entries.len()],
                what,
                known,
            }),
            _ => {
                diags.push(expected(node, "a mapping", &what));
                None
            }
        }
    }

    /// The node the reader reads.
    pub fn node(&self) -> &'n Node {
        self.node
    }

    /// What is being read, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The value of `key`, if present; marks it as read.
    pub fn get(&mut self, key: &str) -> Option<&'n Node> {
        debug_assert!(
            self.known.contains(&key) || self.known.is_empty(),
            "{key} not in known keys"
        );
        let i = self
            .entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// The key node of `key`, for pointing at the key rather than the value.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k.span)
    }

    /// The value of a required key, or an error at the mapping.
    pub fn required(&mut self, key: &str, diags: &mut Diagnostics) -> Option<&'n Node> {
        let found = self.get(key);
        if found.is_none() {
            diags.push(
                Diagnostic::error(
                    "E003",
                    format!("missing `{key}` in {}", self.what),
                    self.start_span(),
                )
                .with_label(format!("`{key}` is required here")),
            );
        }
        found
    }

    /// Where the mapping starts (its first key), for errors about the whole mapping.
    pub fn start_span(&self) -> Span {
        self.entries.first().map_or(self.node.span, |(k, _)| k.span)
    }

    /// Keys not read so far, with their values, in file order; marks them as read.
    pub fn take_rest(&mut self) -> Vec<(&'n Node, &'n Node)> {
        let mut rest = Vec::new();
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                self.used[i] = true;
                rest.push((k, v));
            }
        }
        rest
    }

    /// Reports every key that was not read as unknown, with a suggestion when one is close.
    pub fn finish(self, diags: &mut Diagnostics) {
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let key = k.as_str().unwrap_or("?");
            let help = help_did_you_mean(key, self.known.iter().copied())
                .unwrap_or_else(|| format!("{} accepts: {}", self.what, self.known.join(", ")));
            diags.push(
                Diagnostic::error(
                    "E002",
                    format!("unknown key `{key}` in {}", self.what),
                    k.span,
                )
                .with_help(help),
            );
        }
    }
}

/// "expected a string for `url`, found a list".
pub fn expected(node: &Node, wanted: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        "E004",
        format!("expected {wanted} for {what}, found {}", node.kind_name()),
        node.span,
    )
}

/// A scalar's text (any plain or quoted scalar), or an error.
pub fn scalar_text(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    match node.as_str() {
        Some(s) if !node.is_null() => Some(Spanned::new(s.to_owned(), node.span)),
        _ => {
            diags.push(expected(node, "a string", what));
            None
        }
    }
}

/// A mapping key's text with its span.
pub fn key_text(key: &Node) -> Spanned<String> {
    Spanned::new(key.as_str().unwrap_or_default().to_owned(), key.span)
}

/// Whether `name` is a usable identifier: letters, digits and `_`, not starting with a digit.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` is a valid HTTP header name (an RFC 9110 token).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
