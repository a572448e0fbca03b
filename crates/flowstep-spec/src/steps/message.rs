//! The `message` step: text handed to the message channel (WhatsApp, a terminal, a recorder).

use crate::diagnostic::Diagnostics;
use crate::reader::{MapReader, expected};
use crate::source::SourceFile;
use crate::template::{Template, TemplateEnv};
use crate::value_template::compile_string;

/// Keys of a message step.
pub const KEYS: &[&str] = &[
    "id",
    "type",
    "description",
    "when",
    "next",
    "on_error",
    "text",
];

/// `type: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSpec {
    /// The text, templated.
    pub text: Template,
}

impl MessageSpec {
    /// Reads the type-specific keys.
    pub fn read(
        m: &mut MapReader<'_>,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let node = m.required("text", diags)?;
        let Some(text) = node.as_str().filter(|_| !node.is_null()) else {
            diags.push(expected(node, "text", "`text`"));
            return None;
        };
        Some(MessageSpec {
            text: compile_string(text, node, file, env, diags),
        })
    }
}
