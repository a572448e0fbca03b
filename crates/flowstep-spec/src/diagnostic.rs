//! Diagnostics: what is wrong, where (file:line:column), and how to fix it, rendered rustc-style.

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
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
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
        self.label = Some(label.into());
        self
    }

    /// Adds a `note:` line (drawn in the order added, before `help:`).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.get_or_insert_default().0.push(note.into());
        self
    }

    /// The `note:` lines, in the order added.
    pub fn notes(&self) -> &[String] {
        self.notes.as_deref().map_or(&[], |n| &n.0)
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a `help:` line only when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Renders the diagnostic against its source: `error[E003]: ...`, `--> file:line:col`,
    /// the line and a caret, then `note:` lines and `help:`.
    pub fn render(&self, file: &SourceFile) -> String {
        let text = file.text();
        let start = self.span.start.min(text.len());
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
        let mut message = level.title(&self.message).id(self.code).snippet(
            Snippet::source(text)
                .origin(file.name())
                .fold(true)
                .annotation(level.span(start..end).label(label)),
        );
        for note in self.notes() {
            message = message.footer(Level::Note.title(note));
        }
        if let Some(help) = &self.help {
            message = message.footer(Level::Help.title(help));
        }
        Renderer::plain().render(message).to_string()
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The 1-based line and column where the diagnostic points.
    pub fn line_col(&self, file: &SourceFile) -> (usize, usize) {
        file.line_col(self.span.start)
    }
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
