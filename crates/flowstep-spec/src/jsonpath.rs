//! Response mappings: a JSONPath (RFC 9535) compiled once, and what it selects.

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use serde_json::Value;
use serde_json_path::JsonPath;

/// A compiled JSONPath with its source text.
#[derive(Debug, Clone)]
pub struct CompiledPath {
    source: String,
    path: JsonPath,
    span: Span,
}

impl PartialEq for CompiledPath {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.span == other.span
    }
}

impl CompiledPath {
    /// Compiles `source` written at `span`.
    pub fn compile(source: &str, span: Span) -> Result<Self, Diagnostic> {
        let path = JsonPath::parse(source).map_err(|e| {
            let detail = e.to_string();
            let detail = detail.lines().next().unwrap_or_default().to_owned();
            let help = if source.starts_with('$') {
                "a JSONPath looks like `$.url` or `$.line_items.data[0].price`".to_owned()
            } else {
                format!("a JSONPath starts at the root `$`: write `$.{source}`")
            };
            Diagnostic::error("E007", format!("invalid JSONPath `{source}`"), span)
                .with_label(detail)
                .with_help(help)
        })?;
        Ok(CompiledPath {
            source: source.to_owned(),
            path,
            span,
        })
    }

    /// The path as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where it was written.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The selected value: the one match, or a list when the path matches several.
    /// `None` when it matches nothing.
    pub fn select(&self, value: &Value) -> Option<Value> {
        let nodes = self.path.query(value).all();
        match nodes.as_slice() {
            [] => None,
            [one] => Some((*one).clone()),
            many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
        }
    }
}
