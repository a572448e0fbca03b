//! Reading an input's rules (`enum`, `pattern`, `min_length`, `max_length`) from its
//! declaration, and checking that the rules make sense for its type and together.

use crate::decimal::Decimal;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::input::{InputPattern, InputType};
use crate::reader::{MapReader, expected};
use crate::yaml::Node;
use serde_json::Value;

/// The rules of one input, as read; `None` where a rule is absent or had an error.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub enum_values: Option<Vec<Value>>,
    pub pattern: Option<InputPattern>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

/// Reads the rules of input `name` of type `ty` (unknown when its type had an error).
pub(crate) fn read(
    m: &mut MapReader<'_>,
    ty: Option<InputType>,
    name: &str,
    diags: &mut Diagnostics,
) -> Rules {
    let mut rules = Rules::default();
    let only_for = |key: &str, types: &[InputType], what: &str, diags: &mut Diagnostics| {
        if let (Some(ty), Some(span)) = (ty, m.key_span(key))
            && !types.contains(&ty)
        {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{key}` does not apply to {ty} input `{name}`"),
                    span,
                )
                .with_help(format!("`{key}` is for {what}")),
            );
        }
    };
    only_for("pattern", &[InputType::String], "string inputs", diags);
    only_for("min_length", &[InputType::String], "string inputs", diags);
    only_for("max_length", &[InputType::String], "string inputs", diags);
    let numeric = [InputType::Integer, InputType::Number, InputType::Decimal];
    only_for(
        "minimum",
        &numeric,
        "integer, number and decimal inputs",
        diags,
    );
    only_for(
        "maximum",
        &numeric,
        "integer, number and decimal inputs",
        diags,
    );

    if let Some(n) = m.get("enum") {
        rules.enum_values = read_enum(n, ty, name, diags);
    }
    if let Some(n) = m.get("pattern") {
        match n.as_str().filter(|_| !n.is_null()) {
            Some(source) => match InputPattern::new(source) {
                Ok(p) => rules.pattern = Some(p),
                Err(e) => diags.push(
                    Diagnostic::error(
                        "E010",
                        format!("invalid `pattern` for input `{name}`"),
                        n.span,
                    )
                    .with_label(regex_error_summary(&e))
                    .with_help(
                        "patterns use Rust regex syntax and must match the whole value, \
                         like `^\\+?[0-9]{7,15}$`",
                    ),
                ),
            },
            None => diags.push(expected(n, "a regular expression", "`pattern`")),
        }
    }
    let mut length = |key: &str, diags: &mut Diagnostics| {
        let n = m.get(key)?;
        match n.scalar_value() {
            Some(Value::Number(x)) if x.as_u64().is_some() => x.as_u64().map(|v| (v, n)),
            _ => {
                diags.push(expected(
                    n,
                    "a whole number of characters",
                    &format!("`{key}`"),
                ));
                None
            }
        }
    };
    let min_length = length("min_length", diags);
    let max_length = length("max_length", diags);
    if let (Some((min, min_node)), Some((max, _))) = (min_length, max_length)
        && min > max
    {
        diags.push(
            Diagnostic::error(
                "E010",
                format!(
                    "`min_length` {min} is more than `max_length` {max} for input `{name}`: no value can fit"
                ),
                min_node.span,
            )
            .with_help("swap them, or fix the one that is wrong"),
        );
    }
    rules.min_length = min_length.map(|(v, _)| v);
    rules.max_length = max_length.map(|(v, _)| v);

    fn bound<'n>(key: &str, m: &mut MapReader<'n>) -> Option<(Decimal, &'n Node)> {
        let n = m.get(key)?;
        Some((Decimal::parse(n.as_str()?)?, n))
    }
    if let (Some((min, min_node)), Some((max, _))) = (bound("minimum", m), bound("maximum", m))
        && min > max
    {
        diags.push(
            Diagnostic::error(
                "E010",
                format!(
                    "`minimum` {min} is more than `maximum` {max} for input `{name}`: no value can fit"
                ),
                min_node.span,
            )
            .with_help("swap them, or fix the one that is wrong"),
        );
    }
    rules
}

/// Reads `enum: [...]`: a non-empty list of plain values, each of the input's type.
fn read_enum(
    n: &Node,
    ty: Option<InputType>,
    name: &str,
    diags: &mut Diagnostics,
) -> Option<Vec<Value>> {
    let Some(items) = n.as_seq().filter(|s| !s.is_empty()) else {
        diags.push(expected(n, "a non-empty list of allowed values", "`enum`"));
        return None;
    };
    let mut values = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(text) = item.as_str().filter(|_| !item.is_null()) else {
            diags.push(expected(item, "a plain value", "an `enum` entry"));
            ok = false;
            continue;
        };
        // Read by the one typing rule, like a default or a vars file: from the text as written.
        let value = match ty {
            None => item.scalar_value().unwrap_or(Value::Null),
            Some(ty) => match ty.value_from_text(text) {
                Ok(v) => v,
                Err(message) => {
                    diags.push(
                        Diagnostic::error(
                            "E010",
                            format!("`enum` value of input `{name}`: {message}"),
                            item.span,
                        )
                        .with_help("every allowed value must have the input's type"),
                    );
                    ok = false;
                    continue;
                }
            },
        };
        values.push(value);
    }
    ok.then_some(values)
}

/// The one line of a regex error that says what is wrong (the crate's message spans several
/// lines, drawing its own caret under the pattern).
fn regex_error_summary(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or_else(|| text.lines().last().unwrap_or("invalid regular expression"))
        .trim()
        .to_owned()
}
