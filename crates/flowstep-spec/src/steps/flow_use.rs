//! The `flow` step: runs another flow (a preset or a file) as one step, with inputs.

use crate::diagnostic::Diagnostics;
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
        let with = m
            .get("with")
            .map(|n| compile_entries(n, "`with`", Destination::Text, file, env, diags))
            .unwrap_or_default();
        Some(FlowUseSpec {
            target: target?,
            with,
        })
    }
}
