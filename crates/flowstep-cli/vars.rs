//! Inputs from the command line: `--var NAME=VALUE` and `--vars FILE` (YAML or JSON).

use anyhow::{Context, bail};
use flowstep_engine::InputValue;
use flowstep_spec::yaml::{self, Node, NodeKind};
use flowstep_spec::{SourceFile, render_all};
use serde_json::Value;
use std::path::Path;

/// Splits each `NAME=VALUE`.
pub fn from_args(vars: &[String]) -> anyhow::Result<Vec<(String, InputValue)>> {
    vars.iter()
        .map(|v| match v.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), InputValue::Text(value.to_owned())))
            }
            _ => bail!("--var {v:?} is not NAME=VALUE"),
        })
        .collect()
}

/// Reads a YAML or JSON mapping of input names to typed values.
pub fn from_file(path: &Path) -> anyhow::Result<Vec<(String, InputValue)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read vars file {}", path.display()))?;
    let file = SourceFile::new(path.display().to_string(), text);
    let root = yaml::parse(&file)
        .map_err(|d| anyhow::anyhow!("{}", render_all(&[d], &file).trim_end()))?;
    let Some(entries) = root.as_map() else {
        bail!(
            "vars file {} must be a mapping of input names to values",
            path.display()
        );
    };
    Ok(entries
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap_or_default().to_owned(),
                InputValue::Typed(to_json(v)),
            )
        })
        .collect())
}

fn to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Scalar(..) => node.scalar_value().unwrap_or(Value::Null),
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                .collect(),
        ),
    }
}
