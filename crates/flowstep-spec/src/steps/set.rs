//! The `set` step: computes variables from templates (e.g. paise from a rupee amount).

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::reader::{MapReader, is_identifier};
use crate::source::{SourceFile, Spanned};
use crate::template::{RESERVED_NAMES, TemplateEnv};
use crate::value_template::{Destination, ValueTemplate, compile_entries};

/// Keys of a set step.
pub const KEYS: &[&str] = &[
    "id",
    "type",
    "description",
    "when",
    "next",
    "on_error",
    "values",
];

/// `type: set`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetSpec {
    /// Variable name to value, in file order.
    pub values: Vec<(Spanned<String>, ValueTemplate)>,
}

impl SetSpec {
    /// Reads the type-specific keys.
    pub fn read(
        m: &mut MapReader<'_>,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let node = m.required("values", diags)?;
        let mut values = compile_entries(node, "`values`", Destination::Stored, file, env, diags);
        values.retain(|(name, _)| {
            let usable =
                is_identifier(&name.value) && !RESERVED_NAMES.contains(&name.value.as_str());
            if !usable {
                diags.push(
                    Diagnostic::error("E010", format!("`{}` cannot be a variable name", name.value), name.span)
                        .with_help("variable names are letters, digits and `_`, starting with a letter; `secrets`, `steps`, `run` and `this` are reserved"),
                );
            }
            usable
        });
        Some(SetSpec { values })
    }
}
