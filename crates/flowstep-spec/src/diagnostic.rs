//! Diagnostics: what is wrong, where (file:line:column), and how to fix it, rendered rustc-style.

use crate::shown::shown_code_spans;
use crate::source::{SourceFile, Span};
use annotate_snippets::{Level, Renderer, Snippet};
use std::fmt::Write as _;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The flow cannot run.
    Error,
    /// The flow can run, but something looks wrong.
    Warning,
}

/// The text with its long backtick quotes cut, reusing it when nothing is.
fn cut(text: String) -> String {
    match shown_code_spans(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(cut) => cut,
    }
}

/// One problem found in a flow file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code, `E0xx`, documented in `docs/errors.md`.
    pub code: &'static str,
    /// What is wrong, in one line.
    pub message: String,
    /// Where.
    pub span: Span,
    /// A short note under the caret.
    pub label: Option<String>,
    /// What else is known, each drawn as a `note:` line before the help (see
    /// [`Diagnostic::notes`]). Behind a pointer so that a `Diagnostic` stays small as the error
    /// of a `Result`; only failures at run time have notes.
    notes: Option<Box<Notes>>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a code, a message and a position.
    ///
    /// What the message, label, notes and help quote between backticks is the author's and may
    /// be any length: a quote longer than 60 characters is cut to its start and its size (see
    /// [`shown_code_spans`]).
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: cut(message.into()),
            span,
            label: None,
            notes: None,
            help: None,
        }
    }

    /// A warning with a code, a message and a position.
    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    /// Adds a label shown under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(cut(label.into()));
        self
    }

    /// Adds a `note:` line (drawn in the order added, before `help:`).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.get_or_insert_default().0.push(cut(note.into()));
        self
    }

    /// The `note:` lines, in the order added.
    pub fn notes(&self) -> &[String] {
        self.notes.as_deref().map_or(&[], |n| &n.0)
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(cut(help.into()));
        self
    }

    /// Adds a `help:` line only when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help.map(cut);
        self
    }

    /// Renders the diagnostic against its source: `error[E003]: ...`, `--> file:line:col`,
    /// the line and a caret, then `note:` lines and `help:`.
    pub fn render(&self, file: &SourceFile) -> String {
        let text = file.text();
        let start = self.shown_start(text);
        // A zero-width span still gets one caret; an end-of-file span points at the last char.
        let mut end = self.span.end.clamp(start, text.len());
        if end == start {
            end = text[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8());
        }
        // Only the first line of a multi-line span is underlined: the caret marks where to look.
        if let Some(nl) = text[start..end].find('\n') {
            end = (start + nl).max(start + 1).min(text.len());
        }
        if text.is_empty() {
            // Nothing to point at: say where, then how to fix it.
            let mut out = format!(
                "{}[{}]: {}\n --> {}",
                self.severity_word(),
                self.code,
                self.message,
                file.name()
            );
            for note in self.notes() {
                let _ = write!(out, "\n  = note: {note}");
            }
            if let Some(help) = &self.help {
                let _ = write!(out, "\n  = help: {help}");
            }
            return out;
        }
        let level = match self.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        let label = self.label.as_deref().unwrap_or("");
        // Only the line the caret is on is drawn, so it alone is handed to the renderer: a
        // file with thousands of diagnostics must not be scanned whole for each one.
        let window = Window::around(file, start, end);
        let mut message = level.title(&self.message).id(self.code).snippet(
            Snippet::source(&window.text)
                .line_start(window.line)
                .origin(file.name())
                .fold(true)
                .annotation(level.span(window.caret.clone()).label(label)),
        );
        for note in self.notes() {
            message = message.footer(Level::Note.title(note));
        }
        if let Some(help) = &self.help {
            message = message.footer(Level::Help.title(help));
        }
        // The window is already cut to at most MAX_DRAWN_LINE bytes around the caret, so the
        // renderer's own trimming to a terminal width is not needed; it also subtracts without
        // checking when a long line starts with more whitespace than the caret's column (found
        // by fuzzing: `fuzz/artifacts` input of carriage returns, a tab and NULs).
        let drawn = Renderer::plain()
            .term_width(NO_TRIMMING_WIDTH)
            .render(message)
            .to_string();
        window.fix_column(drawn, file, start)
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The 1-based line and column where the diagnostic points.
    pub fn line_col(&self, file: &SourceFile) -> (usize, usize) {
        file.line_col(self.shown_start(file.text()))
    }

    /// Where the caret goes. The very end of a file that ends with a line break is the end of
    /// its last line: point there rather than at an empty line after it.
    fn shown_start(&self, text: &str) -> usize {
        let start = self.span.start.min(text.len());
        if start == text.len() && text.ends_with('\n') {
            start - 1
        } else {
            start
        }
    }
}

/// The part of a file a diagnostic draws: the caret's line, cut around the caret when the line
/// is very long (a flow written on one line), with `...` where it was cut.
struct Window {
    text: String,
    /// The 1-based number of the line.
    line: usize,
    /// The caret, in bytes of `text`.
    caret: std::ops::Range<usize>,
    /// Whether the line was cut before the caret, so the renderer's column is not the file's.
    cut_before: bool,
}

/// A terminal width no drawn window reaches (each byte of a window is at most a tab's four
/// columns), so that the renderer never trims one.
const NO_TRIMMING_WIDTH: usize = 8 * MAX_DRAWN_LINE;
/// Lines longer than this are cut around the caret when drawn.
const MAX_DRAWN_LINE: usize = 512;
/// How much of a long line is kept on each side of the caret.
const KEPT_AROUND_CARET: usize = 80;

impl Window {
    fn around(file: &SourceFile, start: usize, end: usize) -> Window {
        let text = file.text();
        let line = file.line_range(start);
        let (number, _) = file.line_col(start);
        // The line break is kept so that a caret on it is drawn as before, at the line's end.
        let line_end = if line.end < text.len() {
            line.end + 1
        } else {
            line.end
        };
        let end = end.min(line_end);
        if line.end - line.start <= MAX_DRAWN_LINE {
            return Window {
                text: text[line.start..line_end].to_owned(),
                line: number,
                caret: start - line.start..end - line.start,
                cut_before: false,
            };
        }
        let from = floor_char(
            text,
            start.saturating_sub(KEPT_AROUND_CARET).max(line.start),
        );
        let shown_end = end.min(start + KEPT_AROUND_CARET);
        let to = floor_char(text, (shown_end + KEPT_AROUND_CARET).min(line.end));
        let shown_end = floor_char(text, shown_end).max(start);
        let cut_before = from > line.start;
        let mut cut = String::new();
        if cut_before {
            cut.push_str("...");
        }
        let offset = cut.len();
        cut.push_str(&text[from..to]);
        if to < line.end {
            cut.push_str("...");
        }
        Window {
            text: cut,
            line: number,
            caret: offset + start - from..offset + shown_end.min(to).max(start) - from,
            cut_before,
        }
    }

    /// The renderer counts the column from the start of the window; after a cut, put the
    /// file's column back in the `-->` line.
    fn fix_column(&self, drawn: String, file: &SourceFile, start: usize) -> String {
        if !self.cut_before {
            return drawn;
        }
        let (line, col) = file.line_col(start);
        let shown_col = self.text[..self.caret.start].chars().count() + 1;
        drawn.replacen(
            &format!("{}:{line}:{shown_col}", file.name()),
            &format!("{}:{line}:{col}", file.name()),
            1,
        )
    }
}

/// The nearest char boundary at or before `i`.
fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The `note:` lines of a diagnostic.
#[derive(Debug, Clone, Default, PartialEq)]
struct Notes(Vec<String>);

/// A list of diagnostics gathered in one pass, so that every problem is reported at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No diagnostics yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Records many.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    /// Whether any error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// The diagnostics sorted by position, errors before warnings at the same place.
    pub fn sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| (d.span.start, d.severity));
        self.items.dedup();
        self.items
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics in the order they were recorded.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

/// Renders diagnostics one after another with a blank line between them, then a summary line.
pub fn render_all(diagnostics: &[Diagnostic], file: &SourceFile) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.render(file));
        out.push_str("\n\n");
    }
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match (errors, warnings) {
        (0, 0) => {}
        (0, w) => {
            let _ = writeln!(out, "warning: {}: {w} warning{}", file.name(), plural(w));
        }
        (e, 0) => {
            let _ = writeln!(
                out,
                "error: could not compile {}: {e} error{}",
                file.name(),
                plural(e)
            );
        }
        (e, w) => {
            let _ = writeln!(
                out,
                "error: could not compile {}: {e} error{}, {w} warning{}",
                file.name(),
                plural(e),
                plural(w)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_that_starts_with_whitespace_is_drawn_without_trimming() {
        // Found by fuzzing (`flow_compile`): the renderer's own trimming to a terminal width
        // overflowed when a long line starts with more whitespace than the caret's column.
        let text = format!("{}\t\x0c{}A\n", " ".repeat(30), "\0".repeat(120));
        let file = SourceFile::new("f.yaml", text);
        let d = Diagnostic::error("E001", "not a flow", Span::new(0, 1));
        let drawn = d.render(&file);
        assert!(
            drawn.starts_with("error[E001]: not a flow\n --> f.yaml:1:1\n"),
            "{drawn}"
        );
        let fuzzed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz-crashes/flow_compile-annotate-margin.yaml"
        ))
        .unwrap();
        let file = SourceFile::new("crash.yaml", String::from_utf8(fuzzed).unwrap());
        for at in 0..file.text().len() {
            let d = Diagnostic::error("E001", "here", Span::new(at, at + 1));
            assert!(d.render(&file).contains("crash.yaml:"));
        }
    }

    #[test]
    fn notes_are_drawn_in_order_before_the_help() {
        let file = SourceFile::new("f.yaml", "flow: f\nsteps:\n  - id: pay\n    type: http\n");
        let d = Diagnostic::error("rejected", "Invalid API Key provided", Span::new(19, 26))
            .with_label("HTTP 401")
            .with_note("code: api_key_invalid")
            .with_note("cause: the key is wrong")
            .with_help("set STRIPE_SECRET_KEY");
        assert_eq!(
            d.render(&file),
            "error[rejected]: Invalid API Key provided
 --> f.yaml:3:5
  |
3 |   - id: pay
  |     ^^^^^^^ HTTP 401
  |
  = note: code: api_key_invalid
  = note: cause: the key is wrong
  = help: set STRIPE_SECRET_KEY"
        );
    }

    #[test]
    fn a_very_long_line_is_drawn_around_the_caret_with_the_file_s_column() {
        let mut text = String::from("{flow: f, steps: [{id: a, type: message, text: hi");
        for i in 0..200 {
            text.push_str(&format!(", key_{i}: v"));
        }
        text.push_str(", metod: GET}]}\n");
        let at = text.find("metod").unwrap();
        let file = SourceFile::new("f.yaml", text.as_str());
        let d = Diagnostic::error("E002", "unknown key `metod`", Span::new(at, at + 5));
        let col = at + 1;
        let shown = &text[at - 80..text.len() - 1];
        assert_eq!(
            d.render(&file),
            format!(
                "error[E002]: unknown key `metod`\n --> f.yaml:1:{col}\n  |\n1 | ...{shown}\n  |    {}^^^^^\n  |",
                " ".repeat(80)
            )
        );
    }

    #[test]
    fn the_end_of_a_file_is_the_end_of_its_last_line() {
        let text = "flow: x\nsteps: [\n";
        let file = SourceFile::new("f.yaml", text);
        let d = Diagnostic::error("E001", "unexpected end", Span::new(text.len(), text.len()));
        assert_eq!(d.line_col(&file), (2, 9));
        assert_eq!(
            d.render(&file),
            "error[E001]: unexpected end\n --> f.yaml:2:9\n  |\n2 | steps: [\n  |         ^\n  |"
        );
    }

    #[test]
    fn an_empty_file_still_shows_notes_and_help() {
        let file = SourceFile::new("f.yaml", "");
        let d = Diagnostic::error("invalid", "nothing to run", Span::new(0, 0))
            .with_note("a note")
            .with_help("a help");
        assert_eq!(
            d.render(&file),
            "error[invalid]: nothing to run\n --> f.yaml\n  = note: a note\n  = help: a help"
        );
    }
}
