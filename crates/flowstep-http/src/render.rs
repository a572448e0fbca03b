//! [`Renderer`]: renders a step's templates against its scope (the one with secrets only for
//! credential positions), with positions for errors.

use flowstep_engine::StepError;
use flowstep_spec::template::value_to_text;
use flowstep_spec::{Scope, SourceFile, Template, TemplateEnv, TemplateError, ValueTemplate};
use serde_json::Value;

/// Renders templates for one step run: the flow's compiled expressions, the step's scope, and
/// the file for error positions.
pub struct Renderer<'a> {
    /// The flow's compiled expressions.
    pub env: &'a TemplateEnv,
    /// The variables, without the secrets: for every position but credentials.
    pub scope: &'a Scope,
    /// The variables with `secrets`: for `auth` and `headers` only.
    pub credentials: &'a Scope,
    /// The flow file, for `file:line:col` in errors.
    pub file: &'a SourceFile,
}

impl Renderer<'_> {
    fn error(&self, e: TemplateError) -> StepError {
        let (line, col) = self.file.line_col(e.span().start);
        StepError::invalid(format!("{e} (at {}:{line}:{col})", self.file.name()))
    }

    /// A template as text.
    pub fn text(&self, t: &Template) -> Result<String, StepError> {
        self.env
            .render(t, self.scope)
            .map(|v| value_to_text(&v))
            .map_err(|e| self.error(e))
    }

    /// A template in a credential position (`auth`, `headers`) as text: the one place
    /// secrets are readable.
    pub fn credential_text(&self, t: &Template) -> Result<String, StepError> {
        self.env
            .render(t, self.credentials)
            .map(|v| value_to_text(&v))
            .map_err(|e| self.error(e))
    }

    /// A value tree.
    pub fn value(&self, v: &ValueTemplate) -> Result<Value, StepError> {
        v.render(self.env, self.scope).map_err(|e| self.error(e))
    }

    /// Each piece of a template on its own.
    pub fn pieces(&self, t: &Template) -> Result<Vec<(bool, String)>, StepError> {
        self.env
            .render_pieces(t, self.scope)
            .map_err(|e| self.error(e))
    }
}
