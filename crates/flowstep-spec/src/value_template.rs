//! Value trees templated at the leaves: JSON bodies, form bodies, outputs and plugin parameters.

use crate::diagnostic::Diagnostics;
use crate::reader::key_text;
use crate::source::{SourceFile, Spanned};
use crate::template::{Reference, Scope, Template, TemplateEnv, TemplateError};
use crate::yaml::{Node, NodeKind, Style};
use serde_json::{Map, Number, Value};

/// A YAML value whose string leaves are templates. Plain YAML numbers and booleans keep their
/// type; a string leaf that is exactly one `<<expr>>` takes the type of what it reads.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTemplate {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number written in the file.
    Number(Number),
    /// A string, possibly with `<<expr>>`.
    String(Template),
    /// A list.
    List(Vec<ValueTemplate>),
    /// A mapping, keys literal (never templated), in file order.
    Map(Vec<(Spanned<String>, ValueTemplate)>),
}

impl ValueTemplate {
    /// Compiles a YAML node, recording template errors.
    pub fn compile(
        node: &Node,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> ValueTemplate {
        match &node.kind {
            NodeKind::Scalar(text, style) => {
                let value = node.scalar_value().unwrap_or(Value::Null);
                match (style, value) {
                    (Style::Plain, Value::Null) => ValueTemplate::Null,
                    (Style::Plain, Value::Bool(b)) => ValueTemplate::Bool(b),
                    (Style::Plain, Value::Number(n)) => ValueTemplate::Number(n),
                    _ => ValueTemplate::String(compile_string(text, node, file, env, diags)),
                }
            }
            NodeKind::Seq(items) => ValueTemplate::List(
                items
                    .iter()
                    .map(|n| Self::compile(n, file, env, diags))
                    .collect(),
            ),
            NodeKind::Map(entries) => ValueTemplate::Map(
                entries
                    .iter()
                    .map(|(k, v)| (key_text(k), Self::compile(v, file, env, diags)))
                    .collect(),
            ),
        }
    }

    /// Renders the tree into a JSON value.
    pub fn render(&self, env: &TemplateEnv, scope: &Scope) -> Result<Value, TemplateError> {
        Ok(match self {
            ValueTemplate::Null => Value::Null,
            ValueTemplate::Bool(b) => Value::Bool(*b),
            ValueTemplate::Number(n) => Value::Number(n.clone()),
            ValueTemplate::String(t) => env.render(t, scope)?,
            ValueTemplate::List(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(env, scope))
                    .collect::<Result<_, _>>()?,
            ),
            ValueTemplate::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k.value.clone(), v.render(env, scope)?);
                }
                Value::Object(m)
            }
        })
    }

    /// Every template leaf, depth first.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.walk(&mut out);
        out
    }

    fn walk<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            ValueTemplate::String(t) => out.push(t),
            ValueTemplate::List(items) => items.iter().for_each(|i| i.walk(out)),
            ValueTemplate::Map(entries) => entries.iter().for_each(|(_, v)| v.walk(out)),
            _ => {}
        }
    }

    /// Every variable the tree reads.
    pub fn references(&self) -> Vec<&Reference> {
        self.templates()
            .into_iter()
            .flat_map(|t| t.references())
            .collect()
    }

    /// The tree with each template shown as its source, for dry runs and docs.
    pub fn to_source_value(&self) -> Value {
        match self {
            ValueTemplate::Null => Value::Null,
            ValueTemplate::Bool(b) => Value::Bool(*b),
            ValueTemplate::Number(n) => Value::Number(n.clone()),
            ValueTemplate::String(t) => Value::String(t.source()),
            ValueTemplate::List(items) => {
                Value::Array(items.iter().map(Self::to_source_value).collect())
            }
            ValueTemplate::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.to_source_value()))
                    .collect(),
            ),
        }
    }
}

/// Compiles a mapping of names to templated values (`outputs:`, `with:`, `values:`), in file
/// order; null is an empty mapping, anything else not a mapping is an error naming `what`.
pub fn compile_entries(
    node: &Node,
    what: &str,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Vec<(Spanned<String>, ValueTemplate)> {
    match node.as_map() {
        Some(entries) => entries
            .iter()
            .map(|(k, v)| (key_text(k), ValueTemplate::compile(v, file, env, diags)))
            .collect(),
        None if node.is_null() => Vec::new(),
        None => {
            diags.push(crate::reader::expected(
                node,
                "a mapping of names to values",
                what,
            ));
            Vec::new()
        }
    }
}

/// Compiles a scalar node's text as a template, recording errors (and returning an empty
/// literal in their place so that checking goes on).
pub fn compile_string(
    text: &str,
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Template {
    let raw =
        &file.text()[node.span.start.min(file.text().len())..node.span.end.min(file.text().len())];
    match env.compile(text, node.span, raw) {
        Ok(t) => t,
        Err(errors) => {
            diags.extend(errors);
            Template::literal("", node.span)
        }
    }
}
