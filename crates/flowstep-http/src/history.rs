//! What a step's attempts, taken together, say about whether the request took effect.
//!
//! A failed step's kind tells a flow whether anything may have happened. The last attempt
//! alone cannot say: when the first attempt's answer was lost after the API created the
//! session and a retry was then refused (429) or failed (503), the last attempt says "nothing
//! happened" while a session exists. So the step keeps the first attempt that may have taken
//! effect, and a failure that would otherwise read `rejected` or `transient` becomes `unknown`.

use crate::send::status_line;
use flowstep_engine::{ErrorKind, StepError};

/// The first attempt that may have taken effect, if any.
#[derive(Debug, Default)]
pub struct History {
    executed: Option<(u32, String)>,
}

impl History {
    /// Notes that attempt `attempt` was sent and may have taken effect; `what` completes
    /// "attempt 1 was sent and ..." (`got no response within 30s`). The first one is kept.
    pub fn may_have_executed(&mut self, attempt: u32, what: String) {
        self.executed.get_or_insert((attempt, what));
    }

    /// Whether some attempt may have taken effect.
    pub fn any_executed(&self) -> bool {
        self.executed.is_some()
    }

    /// The step's error given the whole history: a `rejected` or `transient` failure of the
    /// last attempt (number `last`) after an attempt that may have taken effect is `unknown`,
    /// says both, and ends with `advice` (how to re-run safely). Anything else is unchanged.
    pub fn conclude(&self, mut error: StepError, last: u32, advice: &str) -> StepError {
        let Some((first, what)) = &self.executed else {
            return error;
        };
        if !matches!(error.kind, ErrorKind::Rejected | ErrorKind::Transient) || *first == last {
            return error;
        }
        // The sentence goes on after the message: its own full stop would double up.
        let said = error.message.trim_end_matches('.');
        let then = match error.http_status {
            Some(status) => format!(
                "attempt {last} was answered HTTP {}: {said}",
                status_line(status)
            ),
            None => format!("attempt {last}: {said}"),
        };
        error.message = format!(
            "the request may have taken effect: attempt {first} was sent and {what}; then {then}. \
             {advice}"
        );
        error.kind = ErrorKind::Unknown;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> StepError {
        let mut e = StepError::new(ErrorKind::Rejected, "Too many requests.");
        e.http_status = Some(429);
        e.code = Some("rate_limit".into());
        e
    }

    #[test]
    fn a_refusal_after_a_lost_answer_is_unknown_and_keeps_what_the_api_said() {
        let mut h = History::default();
        assert_eq!(h.conclude(refused(), 2, "Re-run."), refused());
        h.may_have_executed(1, "the connection ended without a response (closed)".into());
        h.may_have_executed(2, "got no response within 30s".into());
        let e = h.conclude(refused(), 3, "Re-run with the same run id.");
        assert_eq!(e.kind, ErrorKind::Unknown);
        assert_eq!(
            e.message,
            "the request may have taken effect: attempt 1 was sent and the connection ended \
             without a response (closed); then attempt 3 was answered HTTP 429 Too Many \
             Requests: Too many requests. Re-run with the same run id."
        );
        assert_eq!(
            (e.http_status, e.code.as_deref()),
            (Some(429), Some("rate_limit"))
        );
        let e = h.conclude(
            StepError::new(ErrorKind::Transient, "could not connect to x: refused"),
            3,
            "Re-run.",
        );
        assert_eq!(
            e.message,
            "the request may have taken effect: attempt 1 was sent and the connection ended \
             without a response (closed); then attempt 3: could not connect to x: refused. Re-run."
        );
    }

    #[test]
    fn kinds_that_already_say_what_may_have_happened_are_kept() {
        let mut h = History::default();
        h.may_have_executed(1, "got no response within 30s".into());
        for kind in [ErrorKind::Timeout, ErrorKind::Unknown, ErrorKind::Invalid] {
            let e = StepError::new(kind, "m");
            assert_eq!(h.conclude(e.clone(), 2, "Re-run."), e);
        }
        // The attempt that may have executed is the last one: its own message says so.
        assert_eq!(h.conclude(refused(), 1, "Re-run."), refused());
    }
}
