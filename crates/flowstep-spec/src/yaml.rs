//! The YAML layer: text to a tree of nodes that each know their span. The only module that
//! knows the YAML parser, so that swapping it touches one file.
//!
//! Scalars are typed by JSON's spellings, the strictest reading of YAML 1.2's core schema:
//! `true`/`false` are booleans, `null`/`~`/nothing is null, and a number is a number only when
//! written as JSON writes one. Everything else (`yes`, `True`, `+919000090000`, `007`, `.5`,
//! `1_000`) is text exactly as written, so a phone number or an order id is never changed.
//!
//! Aliases are budgeted twice: in nodes and in the bytes of text they copy, so that neither a
//! "billion laughs" of small nodes nor a few thousand copies of one long scalar can blow up.

use crate::diagnostic::Diagnostic;
use crate::literal_number::is_json_number;
use crate::source::{SourceFile, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Number, Value};
use std::collections::HashMap;

/// The most nodes a document may expand to: aliases can make a small file huge ("billion laughs").
const MAX_NODES: usize = 100_000;
/// The most text aliases may copy in all: a 40 KB file of aliases to one 40,000-character
/// scalar would otherwise expand to hundreds of megabytes.
pub const MAX_ALIAS_BYTES: usize = 1024 * 1024;
/// The deepest nesting accepted; real flows are a few levels deep.
const MAX_DEPTH: usize = 64;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted: typed by its text (`1` is an integer, `true` a boolean).
    Plain,
    /// Quoted or a block scalar: always a string.
    Quoted,
}

/// One node of the YAML tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it was written.
    pub span: Span,
}

/// The three YAML node kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar's text and how it was written.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order. Keys are scalars.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s, Style::Plain) if is_null_text(s))
    }

    /// A word for the node's kind, for "expected a mapping, found a sequence".
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(_, Style::Quoted) => "a string",
            NodeKind::Scalar(s, Style::Plain) => match resolve_plain(s) {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                _ => "a string",
            },
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The scalar as a typed JSON value (`Some` only for scalars).
    pub fn scalar_value(&self) -> Option<Value> {
        match &self.kind {
            NodeKind::Scalar(s, Style::Quoted) => Some(Value::String(s.clone())),
            NodeKind::Scalar(s, Style::Plain) => Some(resolve_plain(s)),
            _ => None,
        }
    }
}

fn is_null_text(s: &str) -> bool {
    matches!(s, "" | "~" | "null")
}

/// Types a plain scalar: `null` (also `~` and nothing), `true`, `false`, and numbers written as
/// JSON writes them; everything else is text, exactly as written (see the module docs).
///
/// A number is typed here for the places that take one (an input's `default`, `minimum`,
/// `max_attempts`), as a JSON number that keeps every digit it was written with
/// (`12345678901234567890123`, `19.90`, `1e400`: serde_json's `arbitrary_precision`). Values
/// written in a request body or a `set` keep their written text instead: see
/// [`crate::value_template`].
pub fn resolve_plain(s: &str) -> Value {
    if is_null_text(s) {
        return Value::Null;
    }
    match s {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if is_json_number(s)
        && let Ok(n) = serde_json::from_str::<Number>(s)
    {
        return Value::Number(n);
    }
    Value::String(s.to_owned())
}

/// Parses one YAML document into a node tree, or a diagnostic that points at the problem.
pub fn parse(file: &SourceFile) -> Result<Node, Diagnostic> {
    parse_document(file)?.ok_or_else(|| {
        Diagnostic::error("E001", "the flow file is empty", Span::new(0, 0))
            .with_help("a flow starts with `flow: NAME` and lists its `steps:`")
    })
}

/// Parses one YAML document into a node tree, `None` when the file holds none (it is empty,
/// or only comments), or a diagnostic that points at the problem. For files other than flows
/// (a vars file), whose own error says what an empty one should hold.
pub fn parse_document(file: &SourceFile) -> Result<Option<Node>, Diagnostic> {
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        alias_bytes: 0,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(file.text());
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            let at = file.byte_of_char(e.marker().index());
            if e.info().contains("tab")
                && let Some(d) = tab_error(file, at)
            {
                return d;
            }
            Diagnostic::error(
                "E001",
                format!("invalid YAML: {}", e.info()),
                Span::new(at, at),
            )
            .with_help("the cause is often just before this point: an unclosed `[`, `{` or quote, or a line indented differently from its neighbours")
        })?;
        let span = Span::new(
            file.byte_of_char(span.start.index()),
            file.byte_of_char(span.end.index()),
        );
        builder.event(event, span)?;
    }
    Ok(builder.root)
}

/// E001 for a tag (`!!str 5`, `!Ref x`): flows type a value by how it is written, and quotes
/// are the one way to say "text".
/// The node's span starts at its tag: the tag is shown as written there.
fn tag_error(file: &SourceFile, span: Span) -> Diagnostic {
    let from = &file.text()[span.start.min(file.text().len())..];
    let tag = &from[..from.find(char::is_whitespace).unwrap_or(from.len())];
    // An anchor may come first (`&a !!str x`): then the node's span is pointed at as it is.
    let (message, at) = if tag.starts_with('!') {
        (
            format!("YAML tags are not supported: `{tag}`"),
            Span::new(span.start, span.start + tag.len()),
        )
    } else {
        ("YAML tags are not supported".to_owned(), span)
    };
    Diagnostic::error("E001", message, at)
        .with_help("remove the tag; to make a value text, quote it (`n: \"5\"`)")
}

/// How many lines after the parser's position a tab it complains about is looked for: the
/// parser reports a tab that starts a line at the end of the line before.
const TAB_SEARCH_LINES: usize = 2;

/// The error for a tab the parser refused, at the tab itself: the first tab in the
/// indentation of the line of `at` or of the next lines, else the first tab after `at`.
fn tab_error(file: &SourceFile, at: usize) -> Option<Diagnostic> {
    let text = file.text();
    let mut line = file.line_range(at);
    for _ in 0..=TAB_SEARCH_LINES {
        let indent_len = text[line.clone()]
            .find(|c: char| c != ' ' && c != '\t')
            .unwrap_or(line.len());
        if let Some(i) = text[line.start..line.start + indent_len].find('\t') {
            let tab = line.start + i;
            return Some(
                Diagnostic::error(
                    "E001",
                    "a tab is used for indentation",
                    Span::new(tab, tab + 1),
                )
                .with_label("tab")
                .with_help("YAML forbids tabs for indentation: indent with spaces"),
            );
        }
        if line.end >= text.len() {
            break;
        }
        line = file.line_range(line.end + 1);
    }
    let tab = at + text[at..line.end].find('\t')?;
    Some(
        Diagnostic::error("E001", "a tab is not allowed here", Span::new(tab, tab + 1))
            .with_label("tab")
            .with_help("YAML forbids tabs for indentation and in some other places: use spaces"),
    )
}

enum Open {
    Seq(Vec<Node>, Span, usize),
    /// Entries so far, a key waiting for its value, the start span, the anchor, and where each
    /// key was first written (for duplicate keys, found in O(1) however many keys there are).
    Map(
        Vec<(Node, Node)>,
        Option<Node>,
        Span,
        usize,
        HashMap<String, Span>,
    ),
}

struct Builder<'a> {
    file: &'a SourceFile,
    stack: Vec<Open>,
    /// Each anchored node with its size in nodes and in text bytes, measured once.
    anchors: HashMap<usize, (Node, usize, usize)>,
    nodes: usize,
    /// The text bytes aliases have copied so far.
    alias_bytes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Diagnostic> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::error(
                        "E001",
                        "a flow file holds one YAML document, but a second one starts here",
                        span,
                    )
                    .with_help("remove the `---` line, or split the flows into separate files"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    _ => Style::Quoted,
                };
                if tag.is_some() {
                    return Err(tag_error(self.file, span));
                }
                // Quoted scalars' spans include the quotes; that is where an author looks.
                let node = Node {
                    kind: NodeKind::Scalar(text.into_owned(), style),
                    span: self.trim_span(span),
                };
                self.complete(node, anchor)?;
            }
            Event::SequenceStart(_, Some(_)) | Event::MappingStart(_, Some(_)) => {
                return Err(tag_error(self.file, span));
            }
            Event::SequenceStart(anchor, _) => {
                self.depth_check(span)?;
                self.stack.push(Open::Seq(Vec::new(), span, anchor));
            }
            Event::MappingStart(anchor, _) => {
                self.depth_check(span)?;
                self.stack
                    .push(Open::Map(Vec::new(), None, span, anchor, HashMap::new()));
            }
            Event::SequenceEnd => {
                if let Some(Open::Seq(items, start, anchor)) = self.stack.pop() {
                    let end = items.last().map_or(start.end, |n| n.span.end);
                    let node = Node {
                        kind: NodeKind::Seq(items),
                        span: Span::new(start.start, end),
                    };
                    self.complete(node, anchor)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Open::Map(entries, _, start, anchor, _)) = self.stack.pop() {
                    let first = entries.first().map_or(start.start, |(k, _)| k.span.start);
                    let end = entries.last().map_or(start.end, |(_, v)| v.span.end);
                    let node = Node {
                        kind: NodeKind::Map(entries),
                        span: Span::new(first.min(start.start.max(first)), end),
                    };
                    self.complete(node, anchor)?;
                }
            }
            Event::Alias(id) => {
                let (node, nodes, bytes) = self.anchors.get(&id).ok_or_else(|| {
                    Diagnostic::error("E001", "this alias refers to an unknown anchor", span)
                })?;
                // Checked before the copy is made, so a bomb costs nothing but the check.
                self.nodes += nodes;
                if self.nodes > MAX_NODES {
                    return Err(Diagnostic::error(
                        "E001",
                        format!("the YAML expands to more than {MAX_NODES} nodes through aliases"),
                        span,
                    )
                    .with_help("each alias copies its anchor's whole value; write the repeated part out, or anchor something smaller"));
                }
                self.alias_bytes += bytes;
                if self.alias_bytes > MAX_ALIAS_BYTES {
                    return Err(Diagnostic::error(
                        "E001",
                        format!(
                            "the YAML's aliases copy more than 1 MiB of text (the limit is {MAX_ALIAS_BYTES} bytes)"
                        ),
                        span,
                    )
                    .with_label(format!("this alias copies {bytes} bytes"))
                    .with_help("each alias copies its anchor's whole value; write the repeated part out, or anchor something smaller"));
                }
                let node = Node {
                    span,
                    ..node.clone()
                };
                self.complete(node, 0)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn depth_check(&self, span: Span) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error(
                "E001",
                format!("the YAML is nested more than {MAX_DEPTH} levels deep"),
                span,
            ));
        }
        Ok(())
    }

    /// A scalar's span ends after trailing spaces or newlines for block scalars; keep it tight.
    fn trim_span(&self, span: Span) -> Span {
        let text = self.file.text();
        let slice = &text[span.start.min(text.len())..span.end.min(text.len())];
        let trimmed = slice.trim_end();
        Span::new(span.start, span.start + trimmed.len())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), Diagnostic> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(
                "E001",
                format!("the YAML has more than {MAX_NODES} nodes"),
                node.span,
            ));
        }
        if anchor != 0 {
            let (nodes, bytes) = measure(&node);
            self.anchors.insert(anchor, (node.clone(), nodes, bytes));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(items, _, _)) => items.push(node),
            Some(Open::Map(entries, pending, _, _, keys)) => match pending.take() {
                None => {
                    let Some(key) = node.as_str() else {
                        return Err(Diagnostic::error(
                            "E001",
                            "a mapping key must be a plain value, not a list or mapping",
                            node.span,
                        ));
                    };
                    if let Some(first) = keys.get(key) {
                        let (line, _) = self.file.line_col(first.start);
                        return Err(Diagnostic::error(
                            "E001",
                            format!("duplicate key `{key}`"),
                            node.span,
                        )
                        .with_help(format!("`{key}` is already set on line {line}; keep one")));
                    }
                    keys.insert(key.to_owned(), node.span);
                    *pending = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

/// A node's size: how many nodes it holds and how many bytes of scalar text (keys included).
fn measure(node: &Node) -> (usize, usize) {
    match &node.kind {
        NodeKind::Scalar(text, _) => (1, text.len()),
        NodeKind::Seq(items) => items.iter().map(measure).fold((1, 0), add),
        NodeKind::Map(entries) => entries
            .iter()
            .flat_map(|(k, v)| [measure(k), measure(v)])
            .fold((1, 0), add),
    }
}

fn add(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    (a.0.saturating_add(b.0), a.1.saturating_add(b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_are_typed_strictly() {
        assert_eq!(resolve_plain("50000"), json!(50000));
        assert_eq!(resolve_plain("-3"), json!(-3));
        assert_eq!(resolve_plain("19.99"), json!(19.99));
        assert_eq!(resolve_plain("true"), json!(true));
        assert_eq!(resolve_plain("True"), json!("True"));
        assert_eq!(resolve_plain("NULL"), json!("NULL"));
        assert_eq!(resolve_plain("+919000090000"), json!("+919000090000"));
        assert_eq!(resolve_plain("+5"), json!("+5"));
        assert_eq!(resolve_plain(".5"), json!(".5"));
        assert_eq!(resolve_plain("1_000"), json!("1_000"));
        assert_eq!(resolve_plain("NO"), json!("NO"));
        assert_eq!(resolve_plain("yes"), json!("yes"));
        assert_eq!(resolve_plain("007"), json!("007"));
        assert_eq!(resolve_plain("0"), json!(0));
        assert_eq!(resolve_plain("0.5"), json!(0.5));
        assert_eq!(resolve_plain("~"), Value::Null);
        let number = |t: &str| Value::Number(serde_json::from_str(t).unwrap());
        assert_eq!(resolve_plain("1e3"), number("1e3"));
        assert_eq!(resolve_plain("1e400"), number("1e400"));
        assert_eq!(resolve_plain("19.90").to_string(), "19.90");
        assert_eq!(resolve_plain("e3"), json!("e3"));
        assert_eq!(
            resolve_plain("99999999999999999999"),
            number("99999999999999999999")
        );
        assert_eq!(resolve_plain("1-2"), json!("1-2"));
        assert_eq!(
            resolve_plain("18446744073709551615"),
            json!(18_446_744_073_709_551_615_u64)
        );
    }

    #[test]
    fn nodes_know_their_spans() {
        let file = SourceFile::new("t.yaml", "a: 1\nb:\n  c: \"x\"\n");
        let root = parse(&file).unwrap();
        let map = root.as_map().unwrap();
        let (k, v) = &map[1];
        assert_eq!(k.as_str(), Some("b"));
        let (ck, cv) = &v.as_map().unwrap()[0];
        assert_eq!(file.line_col(ck.span.start), (3, 3));
        assert_eq!(&file.text()[cv.span.start..cv.span.end], "\"x\"");
    }

    #[test]
    fn duplicate_keys_and_alias_bombs_are_errors() {
        let file = SourceFile::new("t.yaml", "a: 1\na: 2\n");
        let e = parse(&file).unwrap_err();
        assert_eq!(e.message, "duplicate key `a`");
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let e = parse(&SourceFile::new("bomb.yaml", bomb)).unwrap_err();
        assert!(
            e.message.contains("more than 100000 nodes"),
            "{}",
            e.message
        );
    }

    #[test]
    fn aliases_to_a_long_scalar_are_budgeted_in_bytes() {
        let mut text = format!("a: &a \"{}\"\nb: [", "x".repeat(40_000));
        for _ in 0..10_000 {
            text.push_str("*a, ");
        }
        text.push_str("*a]\n");
        let started = std::time::Instant::now();
        let e = parse(&SourceFile::new("bomb.yaml", text.clone())).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(
            e.message,
            "the YAML's aliases copy more than 1 MiB of text (the limit is 1048576 bytes)"
        );
        assert_eq!(e.label.as_deref(), Some("this alias copies 40000 bytes"));
        // The 27th alias is the one over the budget: 26 * 40000 <= 1 MiB < 27 * 40000.
        assert_eq!(e.span.start, 40_013 + 26 * 4);
        // A few copies are fine.
        let ok = format!("a: &a \"{}\"\nb: [*a, *a]\n", "x".repeat(40_000));
        assert!(parse(&SourceFile::new("ok.yaml", ok)).is_ok());
    }
}
