//! [`Renderer`]: renders a step's templates against its scope (the one with secrets only for
//! credential positions); an error points at its expression.

use flowstep_engine::{SourcePos, StepError};
use flowstep_spec::template::value_to_text;
use flowstep_spec::{
    Rendered, Scope, SourceFile, Span, Template, TemplateEnv, TemplateError, ValueTemplate,
};
use std::sync::Arc;

/// Renders templates for one step run: the flow's compiled expressions, the step's scope, and
/// the file for error positions.
pub struct Renderer<'a> {
    /// The flow's compiled expressions.
    pub env: &'a TemplateEnv,
    /// The variables, without the secrets: for every position but credentials.
    pub scope: &'a Scope,
    /// The variables with `secrets`: for `auth` and `headers` only.
    pub credentials: &'a Scope,
    /// The flow file, so that an error points at the failing expression in it.
    pub file: &'a Arc<SourceFile>,
}

impl Renderer<'_> {
    fn error(&self, e: TemplateError) -> StepError {
        StepError::invalid(e.to_string()).located_at(self.position(e.span()))
    }

    /// A place in the flow file, for an error about what was written there.
    pub fn position(&self, span: Span) -> SourcePos {
        SourcePos::new(self.file.clone(), span)
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

    /// A value tree with literal numbers as written, for encoding a body or a query.
    pub fn tree(&self, v: &ValueTemplate) -> Result<Rendered, StepError> {
        v.render_tree(self.env, self.scope)
            .map_err(|e| self.error(e))
    }

    /// Each piece of a template on its own.
    pub fn pieces(&self, t: &Template) -> Result<Vec<(bool, String)>, StepError> {
        self.env
            .render_pieces(t, self.scope)
            .map_err(|e| self.error(e))
    }
}
