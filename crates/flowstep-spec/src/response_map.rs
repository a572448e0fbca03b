//! `response.map` entries of an http step: where each variable's value comes from in the
//! response (a JSONPath into the body, a header, the status, or a regex over the body text),
//! and the default used when it is absent.
//!
//! Short form: `request_id: header:Request-Id`, `code: status`, `title: 'regex:<h1>(.*)</h1>'`,
//! `url: $.url`. Long form, for a default: `coupon: {path: $.discount.coupon, default: null}`
//! (`path` takes any short form; `header:` and `regex:` may also be keys of their own).

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::jsonpath::CompiledPath;
use crate::reader::{MapReader, expected, is_header_name, is_identifier, key_text, scalar_text};
use crate::source::{Span, Spanned};
use crate::suggest::did_you_mean;
use crate::yaml::Node;
use regex::Regex;
use serde_json::Value;

/// The largest compiled regex (bytes of the regex crate's program): a pattern like `a{1000}{1000}`
/// would otherwise take a long time and much memory to build.
const MAX_REGEX_PROGRAM: usize = 1024 * 1024;

/// The spellings of a source, for help texts.
const SOURCES_HELP: &str = "a mapping reads `$.path` (the JSON body; `$` alone is the whole \
     body, as text when it is not JSON), `header:NAME`, `status` or `regex:PATTERN` (over the \
     body text)";

/// One `response.map` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseMapping {
    /// The variable it sets.
    pub var: Spanned<String>,
    /// Where the value comes from.
    pub source: ResponseSource,
    /// The value used when the source is absent (`default:`); without one, absence fails the
    /// step.
    pub default: Option<Value>,
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseSource {
    /// A JSONPath into the body (`$` alone: the body, as text when it is not JSON).
    Body(CompiledPath),
    /// A response header by name, matched in any case; several values are joined by `, `.
    Header(Spanned<String>),
    /// The HTTP status, a number.
    Status(Span),
    /// A regex over the body text: the first capture group, or the whole match when the
    /// pattern has no group.
    Regex(CompiledRegex),
}

impl ResponseSource {
    /// The source as written in the short form: `$.url`, `header:Request-Id`, `status`,
    /// `regex:...`.
    pub fn describe(&self) -> String {
        match self {
            ResponseSource::Body(p) => p.source().to_owned(),
            ResponseSource::Header(h) => format!("header:{}", h.value),
            ResponseSource::Status(_) => "status".to_owned(),
            ResponseSource::Regex(r) => format!("regex:{}", r.source()),
        }
    }

    /// Where it was written.
    pub fn span(&self) -> Span {
        match self {
            ResponseSource::Body(p) => p.span(),
            ResponseSource::Header(h) => h.span,
            ResponseSource::Status(s) => *s,
            ResponseSource::Regex(r) => r.span,
        }
    }
}

/// A regex compiled once, with its source text.
#[derive(Debug, Clone)]
pub struct CompiledRegex {
    source: String,
    regex: Regex,
    span: Span,
}

impl PartialEq for CompiledRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.span == other.span
    }
}

impl CompiledRegex {
    /// Compiles `source` written at `span`; a bad pattern is an `E007` there.
    pub fn compile(source: &str, span: Span) -> Result<Self, Diagnostic> {
        let regex = regex::RegexBuilder::new(source)
            .size_limit(MAX_REGEX_PROGRAM)
            .build()
            .map_err(|e| {
                // The regex crate's message draws the pattern; its last line says what is wrong.
                let detail = e.to_string();
                let detail = detail
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_owned();
                Diagnostic::error("E007", format!("invalid regex `{source}`"), span)
                    .with_label(detail)
                    .with_help(
                        "regexes use Rust's `regex` syntax (no look-around or back-references); \
                         the first group `( )` is the value: `regex:<title>(.*?)</title>`",
                    )
            })?;
        Ok(CompiledRegex {
            source: source.to_owned(),
            regex,
            span,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first capture group of the first match (the whole match when the pattern has no
    /// group); `None` when it does not match or the group took no part in the match.
    pub fn capture<'t>(&self, text: &'t str) -> Option<&'t str> {
        let caps = self.regex.captures(text)?;
        let group = if self.regex.captures_len() > 1 { 1 } else { 0 };
        caps.get(group).map(|m| m.as_str())
    }
}

/// Reads the `map:` of `response:`.
pub fn read_map(map: &Node, diags: &mut Diagnostics) -> Vec<ResponseMapping> {
    let Some(entries) = map.as_map() else {
        if !map.is_null() {
            diags.push(expected(
                map,
                "a mapping of variable names to where their values come from",
                "`response.map`",
            ));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let var = key_text(k);
        if !is_identifier(&var.value) {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{}` is not a valid variable name", var.value),
                    k.span,
                )
                .with_help("variable names are letters, digits and `_`, starting with a letter"),
            );
            continue;
        }
        let what = format!("`response.map.{}`", var.value);
        let entry = if v.as_map().is_some() {
            read_long(v, &what, diags)
        } else {
            scalar_text(v, &what, diags)
                .and_then(|t| read_short(&t, diags))
                .map(|s| (s, None))
        };
        if let Some((source, default)) = entry {
            out.push(ResponseMapping {
                var,
                source,
                default,
            });
        }
    }
    out
}

/// `{path: ..., default: ...}`, `{header: NAME}`, `{regex: PATTERN}`.
fn read_long(
    node: &Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<(ResponseSource, Option<Value>)> {
    let mut m = MapReader::new(node, what, &["path", "header", "regex", "default"], diags)?;
    let mut sources = Vec::new();
    if let Some(n) = m.get("path") {
        sources.push(
            scalar_text(n, &format!("{what}.path"), diags).and_then(|t| read_short(&t, diags)),
        );
    }
    if let Some(n) = m.get("header") {
        sources
            .push(scalar_text(n, &format!("{what}.header"), diags).and_then(|t| header(&t, diags)));
    }
    if let Some(n) = m.get("regex") {
        sources.push(
            scalar_text(n, &format!("{what}.regex"), diags)
                .and_then(|t| {
                    CompiledRegex::compile(&t.value, t.span)
                        .map_err(|d| diags.push(d))
                        .ok()
                })
                .map(ResponseSource::Regex),
        );
    }
    let default = m.get("default").map(literal_value);
    let start = m.start_span();
    // The second source named is the one too many.
    let mut keys: Vec<Span> = ["path", "header", "regex"]
        .iter()
        .filter_map(|k| m.key_span(k))
        .collect();
    keys.sort_by_key(|s| s.start);
    let extra = keys.get(1).copied().unwrap_or(start);
    m.finish(diags);
    match sources.len() {
        0 => {
            diags.push(
                Diagnostic::error(
                    "E003",
                    format!("{what} needs `path`, `header` or `regex`"),
                    start,
                )
                .with_help(SOURCES_HELP),
            );
            None
        }
        1 => sources.pop().flatten().map(|s| (s, default)),
        _ => {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("{what} has more than one of `path`, `header` and `regex`"),
                    extra,
                )
                .with_help("a variable reads one place; map another variable for the other"),
            );
            None
        }
    }
}

/// `$.url`, `header:Request-Id`, `status`, `regex:PATTERN`.
fn read_short(text: &Spanned<String>, diags: &mut Diagnostics) -> Option<ResponseSource> {
    let t = text.value.as_str();
    let span = text.span;
    let result = if t.starts_with('$') {
        CompiledPath::compile(t, span).map(ResponseSource::Body)
    } else if t == "status" {
        Ok(ResponseSource::Status(span))
    } else if let Some(name) = t.strip_prefix("header:") {
        return header(&Spanned::new(name.trim().to_owned(), span), diags);
    } else if let Some(pattern) = t.strip_prefix("regex:") {
        CompiledRegex::compile(pattern, span).map(ResponseSource::Regex)
    } else if let Some((root, _)) = t.split_once(':').filter(|(r, _)| is_identifier(r)) {
        let help = match did_you_mean(root, ["header", "regex"]) {
            Some(s) => format!("did you mean `{s}:`? {SOURCES_HELP}"),
            None => SOURCES_HELP.to_owned(),
        };
        Err(
            Diagnostic::error("E010", format!("unknown response source `{root}:`"), span)
                .with_help(help),
        )
    } else if let Some(s) = did_you_mean(t, ["status"]).filter(|_| is_identifier(t)) {
        Err(
            Diagnostic::error("E010", format!("unknown response source `{t}`"), span)
                .with_help(format!("did you mean `{s}`? {SOURCES_HELP}")),
        )
    } else {
        // A bare field name: the JSONPath error says to write `$.name`.
        CompiledPath::compile(t, span).map(ResponseSource::Body)
    };
    result.map_err(|d| diags.push(d)).ok()
}

fn header(name: &Spanned<String>, diags: &mut Diagnostics) -> Option<ResponseSource> {
    if is_header_name(&name.value) {
        return Some(ResponseSource::Header(name.clone()));
    }
    diags.push(
        Diagnostic::error(
            "E010",
            format!("`{}` is not a header name", name.value),
            name.span,
        )
        .with_help("a header name is letters, digits and `-` (like `header:Request-Id`)"),
    );
    None
}

/// A YAML value as JSON, literally (no templates): the `default:`.
fn literal_value(node: &Node) -> Value {
    if let Some(items) = node.as_seq() {
        return Value::Array(items.iter().map(literal_value).collect());
    }
    if let Some(entries) = node.as_map() {
        return Value::Object(
            entries
                .iter()
                .map(|(k, v)| (key_text(k).value, literal_value(v)))
                .collect(),
        );
    }
    node.scalar_value().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn read(yaml: &str) -> (Vec<ResponseMapping>, Vec<Diagnostic>) {
        let file = SourceFile::new("t.yaml", yaml);
        let node = crate::yaml::parse(&file).unwrap();
        let mut diags = Diagnostics::default();
        let out = read_map(&node, &mut diags);
        (out, diags.sorted())
    }

    #[test]
    fn every_spelling_is_read() {
        let (m, d) = read(
            "id: $.id\nrid: header:request-id\ncode: status\nt: 'regex:<b>(.*)</b>'\nc: {path: $.c, default: none}\nh: {header: Location, default: null}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let described: Vec<String> = m.iter().map(|e| e.source.describe()).collect();
        assert_eq!(
            described,
            [
                "$.id",
                "header:request-id",
                "status",
                "regex:<b>(.*)</b>",
                "$.c",
                "header:Location"
            ]
        );
        assert_eq!(m[4].default, Some(Value::String("none".into())));
        assert_eq!(m[5].default, Some(Value::Null));
        assert_eq!(m[0].default, None);
    }

    #[test]
    fn bad_sources_are_diagnosed_where_they_are_written() {
        let (_, d) =
            read("a: 'regex:(abc'\nb: headr:X\nc: header:bad name\nd: stauts\ne: {default: 1}\n");
        let messages: Vec<(&str, &str)> = d.iter().map(|d| (d.code, d.message.as_str())).collect();
        assert_eq!(
            messages,
            [
                ("E007", "invalid regex `(abc`"),
                ("E010", "unknown response source `headr:`"),
                ("E010", "`bad name` is not a header name"),
                ("E010", "unknown response source `stauts`"),
                ("E003", "`response.map.e` needs `path`, `header` or `regex`"),
            ]
        );
        assert_eq!(d[0].span.start, "a: '".len() - 1);
        assert!(
            d[1].help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `header:`?")
        );
    }

    #[test]
    fn a_regex_gives_its_first_group_or_the_whole_match() {
        let r = CompiledRegex::compile("<title>(.*?)</title>", Span::new(0, 0)).unwrap();
        assert_eq!(r.capture("<title>Paid</title>"), Some("Paid"));
        assert_eq!(r.capture("no title"), None);
        let r = CompiledRegex::compile("ord_[0-9]+", Span::new(0, 0)).unwrap();
        assert_eq!(r.capture("order ord_42 paid"), Some("ord_42"));
    }
}
