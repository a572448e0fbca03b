//! Value trees templated at the leaves and in their keys: JSON bodies, form bodies, query
//! parameters, `set` values, outputs and plugin parameters.

use crate::ambiguous::text_warning;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::literal_number::LiteralNumber;
use crate::reader::key_text;
use crate::rendered::Rendered;
use crate::source::{SourceFile, Spanned};
use crate::template::{Reference, Scope, Template, TemplateEnv, TemplateError};
use crate::value_text::value_to_text;
use crate::yaml::{Node, NodeKind, Style};
use serde_json::Value;
use std::collections::HashSet;

/// A YAML value whose string leaves and mapping keys are templates. Plain YAML numbers and
/// booleans keep their type (a number its written text too); a string leaf that is exactly one
/// `<<expr>>` takes the type of what it reads.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTemplate {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number written in the file, kept as written.
    Number(LiteralNumber),
    /// A string, possibly with `<<expr>>`.
    String(Template),
    /// A list.
    List(Vec<ValueTemplate>),
    /// A mapping in file order; each key is a template rendered to text
    /// (`metadata[<<field>>]: x`).
    Map(Vec<(Template, ValueTemplate)>),
}

/// Where a value tree ends up, which decides which literals deserve warning W002.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Encoded as text (form bodies, query parameters), or typed by a declaration (`with:`,
    /// whose values the used flow's input types read): every literal arrives as written.
    Text,
    /// Sent typed (JSON bodies, plugin parameters): text that other YAML readers would take as
    /// a number or boolean is worth a warning.
    Typed,
    /// Stored in a variable or output: also a number a JSON number cannot keep as written.
    Stored,
}

impl ValueTemplate {
    /// Compiles a YAML node bound for a typed destination, recording template errors.
    pub fn compile(
        node: &Node,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> ValueTemplate {
        Self::compile_for(node, Destination::Typed, file, env, diags)
    }

    /// Compiles a YAML node bound for `dest`, recording template errors and W002 warnings.
    pub fn compile_for(
        node: &Node,
        dest: Destination,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> ValueTemplate {
        match &node.kind {
            NodeKind::Scalar(text, Style::Plain) => {
                if node.is_null() {
                    return ValueTemplate::Null;
                }
                match text.as_str() {
                    "true" => return ValueTemplate::Bool(true),
                    "false" => return ValueTemplate::Bool(false),
                    _ => {}
                }
                if let Some(n) = LiteralNumber::parse(text) {
                    return ValueTemplate::Number(n);
                }
                if dest != Destination::Text {
                    diags.extend(text_warning(text, node.span));
                }
                ValueTemplate::String(compile_string(text, node, file, env, diags))
            }
            NodeKind::Scalar(text, Style::Quoted) => {
                ValueTemplate::String(compile_string(text, node, file, env, diags))
            }
            NodeKind::Seq(items) => ValueTemplate::List(
                items
                    .iter()
                    .map(|n| Self::compile_for(n, dest, file, env, diags))
                    .collect(),
            ),
            NodeKind::Map(entries) => ValueTemplate::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key =
                            compile_string(k.as_str().unwrap_or_default(), k, file, env, diags);
                        (key, Self::compile_for(v, dest, file, env, diags))
                    })
                    .collect(),
            ),
        }
    }

    /// Renders the tree into a JSON value for storing (literal numbers as
    /// [`LiteralNumber::to_value`] says).
    pub fn render(&self, env: &TemplateEnv, scope: &Scope) -> Result<Value, TemplateError> {
        Ok(self.render_tree(env, scope)?.into_value())
    }

    /// Renders the tree, keeping literal numbers as written, for encoding a request body.
    pub fn render_tree(&self, env: &TemplateEnv, scope: &Scope) -> Result<Rendered, TemplateError> {
        Ok(match self {
            ValueTemplate::Null => Rendered::Value(Value::Null),
            ValueTemplate::Bool(b) => Rendered::Value(Value::Bool(*b)),
            ValueTemplate::Number(n) => Rendered::Number(n.clone()),
            ValueTemplate::String(t) => Rendered::Value(env.render(t, scope)?),
            ValueTemplate::List(items) => Rendered::List(
                items
                    .iter()
                    .map(|i| i.render_tree(env, scope))
                    .collect::<Result<_, _>>()?,
            ),
            ValueTemplate::Map(entries) => {
                let mut seen = HashSet::with_capacity(entries.len());
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = render_key(k, env, scope)?;
                    if !seen.insert(key.clone()) {
                        return Err(key_error(
                            k,
                            format!(
                                "renders to `{}`, a key this mapping already has",
                                crate::shown::shown_text(&key)
                            ),
                        ));
                    }
                    out.push((key, v.render_tree(env, scope)?));
                }
                Rendered::Map(out)
            }
        })
    }

    /// The value of the entry named `name` (written literally), when this is a mapping:
    /// how a plugin step reads its parameters.
    pub fn entry(&self, name: &str) -> Option<&ValueTemplate> {
        match self {
            ValueTemplate::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_literal() == Some(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Every template, keys included, depth first.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.walk(&mut out);
        out
    }

    fn walk<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            ValueTemplate::String(t) => out.push(t),
            ValueTemplate::List(items) => items.iter().for_each(|i| i.walk(out)),
            ValueTemplate::Map(entries) => entries.iter().for_each(|(k, v)| {
                out.push(k);
                v.walk(out);
            }),
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
            ValueTemplate::Number(n) => n.to_value(),
            ValueTemplate::String(t) => Value::String(t.source()),
            ValueTemplate::List(items) => {
                Value::Array(items.iter().map(Self::to_source_value).collect())
            }
            ValueTemplate::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.source(), v.to_source_value()))
                    .collect(),
            ),
        }
    }
}

/// A mapping key rendered to text: a list, a mapping or empty text cannot name a field.
fn render_key(key: &Template, env: &TemplateEnv, scope: &Scope) -> Result<String, TemplateError> {
    if let Some(text) = key.as_literal() {
        return Ok(text.to_owned());
    }
    let value = env.render(key, scope)?;
    match &value {
        Value::Array(_) | Value::Object(_) => Err(key_error(
            key,
            format!(
                "renders to {}; a key must be text",
                if value.is_array() {
                    "a list"
                } else {
                    "a mapping"
                }
            ),
        )),
        _ => {
            let text = value_to_text(&value);
            if text.is_empty() {
                Err(key_error(key, "renders to empty text".to_owned()))
            } else {
                Ok(text)
            }
        }
    }
}

fn key_error(key: &Template, message: String) -> TemplateError {
    TemplateError::Key {
        key: key.source(),
        message,
        span: key.span(),
    }
}

/// Compiles a mapping of names to templated values (`outputs:`, `with:`, `values:`), in file
/// order; null is an empty mapping, anything else not a mapping is an error naming `what`. The
/// names are names, never templates: one with `<<` in it is an error (E010) and left out.
pub fn compile_entries(
    node: &Node,
    what: &str,
    dest: Destination,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Vec<(Spanned<String>, ValueTemplate)> {
    match node.as_map() {
        Some(entries) => entries
            .iter()
            .filter_map(|(k, v)| {
                let name = literal_name(k, what, diags)?;
                Some((name, ValueTemplate::compile_for(v, dest, file, env, diags)))
            })
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

/// A key that names something (a variable, an output, an input, a header): its text, or an
/// error (E010) when it holds `<<`, since names are never rendered.
pub fn literal_name(key: &Node, what: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let name = key_text(key);
    if name.value.contains("<<") {
        diags.push(
            Diagnostic::error(
                "E010",
                format!("`{}`: the names in {what} are not templated", name.value),
                name.span,
            )
            .with_label("a name is used as written")
            .with_help("templates render in values, and in the keys of request bodies and `query:`; write the name itself here"),
        );
        return None;
    }
    Some(name)
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
