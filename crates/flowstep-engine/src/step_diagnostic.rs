//! A failed step drawn the way check-time diagnostics are: `error[KIND]: message`,
//! `--> file:line:col`, the line with a caret, then what the API said and the matching hint.

use crate::error::StepError;
use flowstep_spec::{Diagnostic, Span};
use std::fmt::Write as _;

impl StepError {
    /// The failure as a [`Diagnostic`] at [`StepError::at`] (at the start of the file when
    /// there is no position): the kind as its code, the HTTP status under the caret, the API's
    /// `code` and `param` and the hint's cause as notes, the hint's fix as help.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let span = self.at.as_ref().map_or_else(Span::default, |at| at.span);
        let mut d = Diagnostic::error(self.kind.as_str(), &self.message, span);
        if let Some(status) = self.http_status {
            d = d.with_label(format!("HTTP {status}"));
        }
        if let Some(code) = &self.code {
            let param = self
                .param
                .as_ref()
                .map(|p| format!(", param {p}"))
                .unwrap_or_default();
            d = d.with_note(format!("code: {code}{param}"));
        }
        if let Some(hint) = &self.hint {
            d = d
                .with_note(format!("cause: {}", hint.cause))
                .with_help(hint.fix.clone());
        }
        d
    }

    /// Draws the failure with the renderer check-time diagnostics use. Without a position (a
    /// `StepError` made outside a run), the headline, notes and help only.
    ///
    /// ```
    /// use flowstep_engine::{SourcePos, StepError};
    /// use flowstep_spec::{SourceFile, Span};
    /// use std::sync::Arc;
    ///
    /// let file = Arc::new(SourceFile::new("f.yaml", "flow: f\nsteps:\n  - id: pay\n    type: pay\n"));
    /// let e = StepError::invalid("card declined").located_at(SourcePos::new(file, Span::new(19, 26)));
    /// assert_eq!(e.render(), "error[invalid]: card declined\n --> f.yaml:3:5\n  |\n3 |   - id: pay\n  |     ^^^^^^^\n  |");
    /// assert_eq!(StepError::invalid("card declined").render(), "error[invalid]: card declined");
    /// ```
    pub fn render(&self) -> String {
        let d = self.to_diagnostic();
        if let Some(at) = &self.at {
            return d.render(&at.file);
        }
        let mut out = format!("error[{}]: {}", d.code, d.message);
        if let Some(label) = &d.label {
            let _ = write!(out, " ({label})");
        }
        for note in d.notes() {
            let _ = write!(out, "\n  = note: {note}");
        }
        if let Some(help) = &d.help {
            let _ = write!(out, "\n  = help: {help}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{ErrorKind, HintNote, StepError};
    use crate::position::SourcePos;
    use flowstep_spec::{SourceFile, Span};
    use std::sync::Arc;

    fn rejected() -> StepError {
        StepError {
            http_status: Some(400),
            code: Some("parameter_missing".into()),
            param: Some("amount".into()),
            hint: Some(Box::new(HintNote {
                cause: "the amount was left out".into(),
                fix: "pass --var amount=...".into(),
            })),
            ..StepError::new(ErrorKind::Rejected, "Missing required param: amount.")
        }
    }

    #[test]
    fn an_api_refusal_is_drawn_at_the_step_with_its_status_code_and_hint() {
        let text = "flow: pay\nsteps:\n  - id: charge\n    type: http\n";
        let file = Arc::new(SourceFile::new("pay.yaml", text));
        let e = rejected().located_at(SourcePos::new(file, Span::new(21, text.len())));
        assert_eq!(
            e.render(),
            "error[rejected]: Missing required param: amount.
 --> pay.yaml:3:5
  |
3 |   - id: charge
  |     ^^^^^^^^^^ HTTP 400
  |
  = note: code: parameter_missing, param amount
  = note: cause: the amount was left out
  = help: pass --var amount=..."
        );
    }

    #[test]
    fn without_a_position_the_headline_notes_and_help_remain() {
        assert_eq!(
            rejected().render(),
            "error[rejected]: Missing required param: amount. (HTTP 400)
  = note: code: parameter_missing, param amount
  = note: cause: the amount was left out
  = help: pass --var amount=..."
        );
    }
}
