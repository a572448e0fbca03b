//! The step's `hints:` matched against a failure: the first hint whose every set field matches
//! explains it.

use flowstep_engine::{HintNote, StepError};
use flowstep_spec::steps::Hint;

/// Whether every field `hint` sets matches `error`. `message_contains` ignores case: authors
/// copy messages from docs that capitalise differently.
pub fn matches(hint: &Hint, error: &StepError) -> bool {
    hint.status.is_none_or(|s| error.http_status == Some(s))
        && hint
            .code
            .as_ref()
            .is_none_or(|c| error.code.as_deref() == Some(c.as_str()))
        && hint
            .kind
            .as_ref()
            .is_none_or(|k| k.eq_ignore_ascii_case(&error.kind.to_string()))
        && hint
            .message_contains
            .as_ref()
            .is_none_or(|m| error.message.to_lowercase().contains(&m.to_lowercase()))
}

/// Puts the first matching hint into `error.hint`.
pub fn attach(hints: &[Hint], error: &mut StepError) {
    if let Some(h) = hints.iter().find(|h| matches(h, error)) {
        error.hint = Some(Box::new(HintNote {
            cause: h.cause.clone(),
            fix: h.fix.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_engine::ErrorKind;

    fn hint(
        status: Option<u16>,
        code: Option<&str>,
        kind: Option<&str>,
        msg: Option<&str>,
        cause: &str,
    ) -> Hint {
        Hint {
            status,
            code: code.map(Into::into),
            kind: kind.map(Into::into),
            message_contains: msg.map(Into::into),
            cause: cause.into(),
            fix: "fix it".into(),
        }
    }

    #[test]
    fn the_first_hint_whose_fields_all_match_wins() {
        let mut e = StepError::new(ErrorKind::Rejected, "Missing required param: line_items.");
        e.http_status = Some(400);
        e.code = Some("parameter_missing".into());
        let hints = [
            hint(Some(401), None, None, None, "auth"),
            hint(
                Some(400),
                Some("parameter_invalid_integer"),
                None,
                None,
                "integer",
            ),
            hint(
                Some(400),
                Some("parameter_missing"),
                Some("rejected"),
                Some("missing REQUIRED"),
                "missing",
            ),
            hint(Some(400), None, None, None, "any 400"),
        ];
        attach(&hints, &mut e);
        assert_eq!(e.hint.as_ref().map(|h| h.cause.as_str()), Some("missing"));
        let mut t = StepError::new(ErrorKind::Timeout, "no response");
        attach(&hints, &mut t);
        assert_eq!(t.hint, None);
        attach(&[hint(None, None, Some("timeout"), None, "slow")], &mut t);
        assert_eq!(t.hint.map(|h| h.cause), Some("slow".into()));
    }
}
