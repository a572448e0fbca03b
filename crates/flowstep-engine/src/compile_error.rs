//! [`CompileError`]: why a flow could not be compiled, as an error type that renders every
//! diagnostic the way `flowstep check` draws them.

use flowstep_spec::{Diagnostic, Severity, SourceFile, render_all};
use std::fmt;
use std::sync::Arc;

/// Every problem found compiling one flow file (errors, and the warnings found with them),
/// sorted by position, with the file they point into.
///
/// It is a [`std::error::Error`] whose `Display` (and `Debug`, so that a `main` returning it
/// prints something readable) is the drawing `render_all` makes: `error[E005]: ...`,
/// `--> file:line:col`, the line and a caret. It derefs to the list of [`Diagnostic`]s.
///
/// ```
/// use flowstep_engine::Engine;
///
/// let err = Engine::new().compile_text("bad.yaml", "flow: f\nsteps:\n  - id: a\n    type: mesage\n").unwrap_err();
/// assert_eq!(err.len(), 1);
/// assert!(err.to_string().starts_with("error[E008]: unknown step type `mesage`\n --> bad.yaml:4:11"), "{err}");
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err); // `?` works in any main
/// # drop(boxed);
/// ```
#[derive(Clone)]
pub struct CompileError {
    file: Arc<SourceFile>,
    diagnostics: Vec<Diagnostic>,
}

impl CompileError {
    /// The problems in `file`.
    pub fn new(file: Arc<SourceFile>, diagnostics: Vec<Diagnostic>) -> Self {
        CompileError { file, diagnostics }
    }

    /// The file the diagnostics point into.
    pub fn file(&self) -> &SourceFile {
        &self.file
    }

    /// The diagnostics, sorted by position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The diagnostics, owned.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// How many of them are errors (the rest are warnings).
    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Every diagnostic drawn with its line and caret, as `flowstep check` prints them.
    pub fn render(&self) -> String {
        render_all(&self.diagnostics, &self.file)
    }
}

impl std::ops::Deref for CompileError {
    type Target = [Diagnostic];

    fn deref(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl IntoIterator for CompileError {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.diagnostics.into_iter()
    }
}

impl<'a> IntoIterator for &'a CompileError {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.diagnostics.iter()
    }
}

impl From<CompileError> for Vec<Diagnostic> {
    fn from(e: CompileError) -> Self {
        e.diagnostics
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render().trim_end())
    }
}

/// The same drawing as `Display`: a `main` that returns the error prints it as `Error: ...`.
impl fmt::Debug for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for CompileError {}
