//! Inputs from the command line: `--var NAME=VALUE` and `--vars FILE` (YAML or JSON).
//!
//! A vars file's values are read by the same rule as `--var` and defaults (each scalar from
//! its text, by the input's type), and a value that does not fit, or a name the flow does not
//! declare, is drawn at its line and column like any other diagnostic.

use crate::files::{self, Unreadable};
use anyhow::bail;
use flowstep_engine::InputValue;
use flowstep_spec::shown::shown_quoted;
use flowstep_spec::yaml::{self, Node};
use flowstep_spec::{Diagnostic, Flow, SourceFile, Span, help_did_you_mean};
use std::collections::HashSet;
use std::path::Path;

/// Splits each `NAME=VALUE`.
pub fn from_args(vars: &[String]) -> anyhow::Result<Vec<(String, InputValue)>> {
    vars.iter()
        .map(|v| match v.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), InputValue::Text(value.to_owned())))
            }
            _ => bail!("--var {} is not NAME=VALUE", shown_quoted(v)),
        })
        .collect()
}

/// A problem with the file's value for an input, and the input's name.
pub type NamedProblem = (String, Diagnostic);

/// A vars file, read: a mapping of input names to values, each with its position.
pub struct VarsFile {
    /// The file, for drawing its diagnostics.
    pub file: SourceFile,
    entries: Vec<(Node, Node)>,
}

/// What a vars file holds, for the help of one that holds nothing else.
const EMPTY_HELP: &str = "write one `name: value` per line, like `amount_paise: 50000`";

/// Reads a YAML or JSON mapping of input names to values.
pub fn from_file(path: &Path) -> Result<VarsFile, Unreadable> {
    let file = files::read(path, &path.display().to_string(), "vars file")?;
    let drawn = |d: Diagnostic, file: &SourceFile| Unreadable::Drawn(Box::new(d), file.clone());
    let Some(root) = yaml::parse_document(&file).map_err(|d| drawn(d, &file))? else {
        let d = Diagnostic::error("E001", "the vars file is empty", Span::new(0, 0))
            .with_help(EMPTY_HELP);
        return Err(drawn(d, &file));
    };
    let Some(entries) = root.as_map() else {
        let d = Diagnostic::error(
            "E004",
            format!(
                "a vars file is a mapping of input names to values, found {}",
                root.kind_name()
            ),
            root.span,
        )
        .with_help(EMPTY_HELP);
        return Err(drawn(d, &file));
    };
    let entries = entries.to_vec();
    Ok(VarsFile { file, entries })
}

impl VarsFile {
    /// The file's values for `flow`, each read by its input's type, leaving out the names in
    /// `overridden` (`--var` wins). Every value that does not fit and every unknown name is a
    /// diagnostic, with the name it is about.
    pub fn inputs(
        &self,
        flow: &Flow,
        overridden: &HashSet<&str>,
    ) -> (Vec<(String, InputValue)>, Vec<NamedProblem>) {
        let mut given = Vec::new();
        let mut problems = Vec::new();
        for (key, value) in &self.entries {
            let name = key.as_str().unwrap_or_default();
            if overridden.contains(name) {
                continue;
            }
            let Some(decl) = flow.input(name) else {
                let names = flow.inputs.iter().map(|i| i.name.value.as_str());
                let help = help_did_you_mean(name, names).unwrap_or_else(|| {
                    let all: Vec<&str> =
                        flow.inputs.iter().map(|i| i.name.value.as_str()).collect();
                    format!(
                        "the inputs of flow `{}` are: {}",
                        flow.name.value,
                        all.join(", ")
                    )
                });
                let d = Diagnostic::error("E002", format!("unknown input `{name}`"), key.span)
                    .with_help(help);
                problems.push((name.to_owned(), d));
                continue;
            };
            match decl.read_node(value) {
                Ok(v) => given.push((name.to_owned(), InputValue::Typed(v))),
                Err(e) => {
                    let mut d = Diagnostic::error("E011", format!("invalid input {e}"), value.span);
                    if let Some(description) = &decl.description {
                        d = d.with_help(format!("`{name}`: {description}"));
                    }
                    problems.push((name.to_owned(), d));
                }
            }
        }
        (given, problems)
    }
}
