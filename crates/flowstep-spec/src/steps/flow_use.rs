//! The `flow` step: runs another flow (a preset or a file) as one step, with inputs.

use crate::diagnostic::Diagnostics;
use crate::reader::{MapReader, expected, key_text, scalar_text};
use crate::source::{SourceFile, Spanned};
use crate::template::TemplateEnv;
use crate::value_template::ValueTemplate;

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
];

/// `type: flow`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowUseSpec {
    /// `use:`: a preset name, or a path relative to the flow file.
    pub target: Spanned<String>,
    /// `with:`: the sub-flow's inputs, templated.
    pub with: Vec<(Spanned<String>, ValueTemplate)>,
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
        let with = match m.get("with") {
            None => Vec::new(),
            Some(n) if n.is_null() => Vec::new(),
            Some(n) => match n.as_map() {
                Some(entries) => entries
                    .iter()
                    .map(|(k, v)| (key_text(k), ValueTemplate::compile(v, file, env, diags)))
                    .collect(),
                None => {
                    diags.push(expected(n, "a mapping of input names to values", "`with`"));
                    Vec::new()
                }
            },
        };
        Some(FlowUseSpec {
            target: target?,
            with,
        })
    }
}
