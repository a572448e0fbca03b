//! Response mappings: a JSONPath (RFC 9535) compiled once, and what it selects, bounded.
//!
//! RFC 9535 calls a query *singular* when it has only name and index selectors (`$.url`,
//! `$.items[0].sku`): it selects at most one node, and maps to that value. Any other query
//! (wildcards, slices, filters, unions, `..`) maps to a list, whatever it matched: `[]` for
//! nothing, `["A1"]` for one item, so `<<len skus>>` counts items, never letters.

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use serde_json::Value;
use serde_json_path::JsonPath;

/// The most values a non-singular query may select for one variable.
pub const MAX_SELECTED: usize = 10_000;
/// The most bytes of compact JSON one mapped variable may hold.
pub const MAX_SELECTED_BYTES: usize = 1024 * 1024;

/// A compiled JSONPath with its source text.
#[derive(Debug, Clone)]
pub struct CompiledPath {
    source: String,
    path: JsonPath,
    span: Span,
    singular: bool,
}

/// Why a path selected nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// A singular query matched nothing (a non-singular one gives `[]`).
    NoMatch,
    /// More than [`MAX_SELECTED`] values.
    TooMany {
        /// How many it matched.
        matched: usize,
    },
    /// More than [`MAX_SELECTED_BYTES`] of JSON.
    TooLarge,
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::NoMatch => f.write_str("the path matched nothing"),
            SelectError::TooMany { matched } => write!(
                f,
                "the path selects {matched} values, more than the {MAX_SELECTED} a mapped variable may hold"
            ),
            SelectError::TooLarge => write!(
                f,
                "the path selects more than {} MiB of JSON, the most a mapped variable may hold",
                MAX_SELECTED_BYTES / (1024 * 1024)
            ),
        }
    }
}

impl std::error::Error for SelectError {}

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
            singular: is_singular(source),
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

    /// Whether the query is singular (only names and indexes): it maps to one value, not a list.
    pub fn is_singular(&self) -> bool {
        self.singular
    }

    /// The selected value: for a singular query the one match, for any other a list of every
    /// match (`[]` for none). Bounded by [`MAX_SELECTED`] values and [`MAX_SELECTED_BYTES`],
    /// measured before anything is copied.
    pub fn select(&self, value: &Value) -> Result<Value, SelectError> {
        let nodes = self.path.query(value).all();
        if self.singular {
            let Some(one) = nodes.first() else {
                return Err(SelectError::NoMatch);
            };
            json_size_within(one, MAX_SELECTED_BYTES).ok_or(SelectError::TooLarge)?;
            return Ok((*one).clone());
        }
        if nodes.len() > MAX_SELECTED {
            return Err(SelectError::TooMany {
                matched: nodes.len(),
            });
        }
        // Two for the brackets, one per comma.
        let mut left = MAX_SELECTED_BYTES
            .checked_sub(1 + nodes.len())
            .ok_or(SelectError::TooLarge)?;
        for node in &nodes {
            left -= json_size_within(node, left).ok_or(SelectError::TooLarge)?;
        }
        Ok(Value::Array(nodes.into_iter().cloned().collect()))
    }
}

/// Whether a valid JSONPath is singular. RFC 9535 allows exactly the singular queries as
/// operands of a comparison, so the query is singular when `$[?QUERY == 0]` parses (the parser
/// does not expose the query's segments).
fn is_singular(source: &str) -> bool {
    JsonPath::parse(&format!("$[?{source} == 0]")).is_ok()
}

/// The size of `value` as compact JSON, if it is at most `budget` bytes; the walk stops as soon
/// as the budget is spent, so a huge value costs no more than the budget to measure.
fn json_size_within(value: &Value, budget: usize) -> Option<usize> {
    let mut used = 0usize;
    let mut add = |n: usize| -> Option<()> {
        used = used.checked_add(n).filter(|u| *u <= budget)?;
        Some(())
    };
    fn walk(v: &Value, add: &mut dyn FnMut(usize) -> Option<()>) -> Option<()> {
        match v {
            Value::Null => add(4),
            Value::Bool(b) => add(if *b { 4 } else { 5 }),
            Value::Number(n) => add(n.to_string().len()),
            Value::String(s) => add(string_size(s)),
            Value::Array(items) => {
                add(2 + items.len().saturating_sub(1))?;
                items.iter().try_for_each(|i| walk(i, add))
            }
            Value::Object(m) => {
                add(2 + m.len().saturating_sub(1) + m.len())?;
                m.iter().try_for_each(|(k, v)| {
                    add(string_size(k))?;
                    walk(v, add)
                })
            }
        }
    }
    walk(value, &mut add)?;
    Some(used)
}

/// A string's size in JSON: quotes and escapes included.
fn string_size(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &str) -> CompiledPath {
        CompiledPath::compile(p, Span::new(0, 0)).unwrap()
    }

    #[test]
    fn singular_queries_are_names_and_indexes_only() {
        for p in [
            "$",
            "$.url",
            "$.items[0].sku",
            "$['a b'][-1]",
            "$[0]",
            "$.a.b.c",
        ] {
            assert!(path(p).is_singular(), "{p}");
        }
        for p in [
            "$..id",
            "$.items[*].sku",
            "$.*",
            "$[0,1]",
            "$[0:2]",
            "$[?@.x]",
            "$['a','b']",
            "$.a..b",
            "$[?@.price > 5].sku",
        ] {
            assert!(!path(p).is_singular(), "{p}");
        }
    }

    #[test]
    fn a_singular_query_maps_to_a_value_and_any_other_to_a_list() {
        let one = json!({"url": "u", "none": null, "items": [{"sku": "A1"}]});
        assert_eq!(path("$.url").select(&one), Ok(json!("u")));
        assert_eq!(path("$.none").select(&one), Ok(json!(null)));
        assert_eq!(path("$.missing").select(&one), Err(SelectError::NoMatch));
        assert_eq!(path("$.items[*].sku").select(&one), Ok(json!(["A1"])));
        assert_eq!(
            path("$.items[?@.sku == 'B'].sku").select(&one),
            Ok(json!([]))
        );
        assert_eq!(path("$..sku").select(&one), Ok(json!(["A1"])));
    }

    #[test]
    fn selections_are_bounded_in_count_and_bytes() {
        let many = Value::Array((0..MAX_SELECTED + 1).map(|i| json!({"id": i})).collect());
        assert_eq!(
            path("$[*].id").select(&many),
            Err(SelectError::TooMany {
                matched: MAX_SELECTED + 1
            })
        );
        let big = json!({"a": "x".repeat(MAX_SELECTED_BYTES)});
        assert_eq!(path("$.a").select(&big), Err(SelectError::TooLarge));
        assert_eq!(path("$.*").select(&big), Err(SelectError::TooLarge));
        assert_eq!(
            path("$.a").select(&json!({"a": "x".repeat(MAX_SELECTED_BYTES - 2)})),
            Ok(json!("x".repeat(MAX_SELECTED_BYTES - 2)))
        );
        let value = json!({"a": [1, "q\"\n", {"k": null, "t": true}], "n": 19.99});
        assert_eq!(
            json_size_within(&value, usize::MAX),
            Some(value.to_string().len())
        );
        assert_eq!(json_size_within(&value, 10), None);
    }
}
