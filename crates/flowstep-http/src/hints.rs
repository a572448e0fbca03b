//! The step's `hints:` matched against a failure: the first hint whose every set field matches
//! explains it. When none does, an API's refusal or failure gets a generic hint for its status
//! class, so that a 401, 404 or 500 still says where to look.

use flowstep_engine::{ErrorKind, HintNote, StepError};
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

/// Puts the first matching hint of the flow into `error.hint`; else keeps the hint the error
/// already carries (the step's own advice, e.g. for a non-ASCII header), or else gives the
/// generic one for its status.
pub fn attach(hints: &[Hint], error: &mut StepError) {
    let note = match hints.iter().find(|h| matches(h, error)) {
        Some(h) => Some(HintNote {
            cause: h.cause.clone(),
            fix: h.fix.clone(),
        }),
        None if error.hint.is_some() => return,
        None => generic(error),
    };
    error.hint = note.map(Box::new);
}

/// The hint for an API's refusal (`rejected`) or failure (`transient`) by its status class:
/// 401/403 credentials, 404 the URL, 409/422 the request's content, 429 the rate, 5xx the
/// provider. Other failures carry their own advice in the message (`unknown` says how to
/// re-run safely) or are too varied to guess about (another 4xx: the API's message says).
pub fn generic(error: &StepError) -> Option<HintNote> {
    if !matches!(error.kind, ErrorKind::Rejected | ErrorKind::Transient) {
        return None;
    }
    let (cause, fix) = match error.http_status? {
        401 | 403 => (
            "the API did not accept the credentials, or they may not do this",
            "check the secret the step sends in `auth` or `headers`: that it is set, whole, for \
             the right account and mode (test or live), and allowed to make this request",
        ),
        404 => (
            "the API has nothing at this URL",
            "check the URL's path and every id in it against the API's documentation (a typo, \
             another API version, or an id from another account or mode)",
        ),
        409 | 422 => (
            "the API refused the content of the request",
            "compare the body and query with the API's documentation; the API's message and the \
             response body say which field",
        ),
        429 => (
            "the API is limiting how fast requests may be sent",
            "wait, then run again with the same run id; or send fewer requests",
        ),
        500..=599 => (
            "the API failed on its side",
            "try again later with the same run id; if it goes on, check the provider's status \
             page",
        ),
        _ => return None,
    };
    Some(HintNote {
        cause: cause.to_owned(),
        fix: fix.to_owned(),
    })
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

    #[test]
    fn without_a_matching_hint_the_status_class_gives_one() {
        let cause = |kind: ErrorKind, status: Option<u16>| {
            let mut e = StepError::new(kind, "m");
            e.http_status = status;
            attach(&[hint(Some(400), None, None, None, "mine")], &mut e);
            e.hint.map(|h| h.cause)
        };
        let rejected = |s| cause(ErrorKind::Rejected, Some(s));
        assert_eq!(
            rejected(400),
            Some("mine".into()),
            "the flow's own hint wins"
        );
        for (status, want) in [
            (
                401,
                "the API did not accept the credentials, or they may not do this",
            ),
            (
                403,
                "the API did not accept the credentials, or they may not do this",
            ),
            (404, "the API has nothing at this URL"),
            (409, "the API refused the content of the request"),
            (422, "the API refused the content of the request"),
            (429, "the API is limiting how fast requests may be sent"),
        ] {
            assert_eq!(rejected(status).as_deref(), Some(want), "{status}");
        }
        assert_eq!(
            cause(ErrorKind::Transient, Some(503)).as_deref(),
            Some("the API failed on its side")
        );
        assert_eq!(rejected(402), None, "another 4xx: the API's message says");
        assert_eq!(cause(ErrorKind::Transient, None), None, "no answer at all");
        assert_eq!(
            cause(ErrorKind::Unknown, Some(429)),
            None,
            "`unknown` says how to re-run in its message"
        );
        assert_eq!(cause(ErrorKind::Invalid, Some(200)), None);
    }
}
