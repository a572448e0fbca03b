//! The `flow` step: runs another flow (a preset or a file) as one step, with inputs.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::reader::{MapReader, scalar_text};
use crate::source::{SourceFile, Spanned};
use crate::template::TemplateEnv;
use crate::value_template::{Destination, ValueTemplate, compile_entries};

/// Keys of a flow step.
pub const KEYS: &[&str] = &[
    "id",
    "type",
    "description",
    "when",
    "next",
    "on_error",
    "use",
    "with",
    "messages",
];

/// What `messages:` may say.
pub const MESSAGE_POLICIES: &[&str] = &["send", "suppress", "output"];

/// `messages:`: what happens to the messages the used flow sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MessagePolicy {
    /// Delivered on the run's channel, as if this flow sent them (the default).
    #[default]
    Send,
    /// Not delivered: the using flow sends its own (the step record lists them).
    Suppress,
    /// Not delivered, and readable as `<<steps.ID.messages>>` for the using flow to send.
    Output,
}

/// `type: flow`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowUseSpec {
    /// `use:`: a preset name, or a path relative to the flow file.
    pub target: Spanned<String>,
    /// `with:`: the sub-flow's inputs, templated.
    pub with: Vec<(Spanned<String>, ValueTemplate)>,
    /// `messages:`: send (default), suppress, or output the used flow's messages.
    pub messages: MessagePolicy,
}

impl FlowUseSpec {
    /// Reads the type-specific keys.
    pub fn read(
        m: &mut MapReader<'_>,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let target = m
            .required("use", diags)
            .and_then(|n| scalar_text(n, "`use`", diags));
        let with = m
            .get("with")
            .map(|n| compile_entries(n, "`with`", Destination::Text, file, env, diags))
            .unwrap_or_default();
        let messages = match m.get("messages") {
            Some(n) => match scalar_text(n, "`messages`", diags) {
                Some(t) => match t.value.as_str() {
                    "send" => MessagePolicy::Send,
                    "suppress" => MessagePolicy::Suppress,
                    "output" => MessagePolicy::Output,
                    other => {
                        diags.push(
                            Diagnostic::error(
                                "E010",
                                format!("unknown `messages` policy `{other}`"),
                                t.span,
                            )
                            .with_help(
                                "write send (deliver the used flow's messages), suppress (drop them) or output (read them as <<steps.ID.messages>>)",
                            ),
                        );
                        MessagePolicy::Send
                    }
                },
                None => MessagePolicy::Send,
            },
            None => MessagePolicy::Send,
        };
        Some(FlowUseSpec {
            target: target?,
            with,
            messages,
        })
    }
}
