//! What a run id may be: 1 to [`MAX_RUN_ID_LEN`] ASCII letters, digits, `-`, `_` and `.`,
//! starting with a letter or digit.
//!
//! Idempotency keys derive from the run id (`flowstep-<run id>-<step id>`), so two runs with
//! the same id are one run to the API: an empty id would make every run that gives one share
//! its keys, and a later customer would get an earlier customer's payment link.

/// The longest run id a caller may give. Ids of runs that `flow` steps start (`<run id>.<step
/// id>`) may be longer; idempotency keys stay within what APIs accept either way.
pub const MAX_RUN_ID_LEN: usize = 128;

/// The rule, as every refusal states it.
const RULE: &str = "a run id is 1 to 128 ASCII letters, digits, `-`, `_` and `.`, \
                    starting with a letter or digit";

/// Why a run id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunIdError {
    /// `""`.
    #[error("the run id is empty; {RULE}")]
    Empty,
    /// More than [`MAX_RUN_ID_LEN`] characters (the id is not echoed: it may be anything).
    #[error("the run id is {len} characters long; {RULE}")]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// A character outside the set, or a first character that is not a letter or digit.
    #[error("the run id {id:?} has {found:?} at character {position}; {RULE}")]
    BadCharacter {
        /// The id as given.
        id: String,
        /// The first character refused.
        found: char,
        /// Its 1-based position in characters.
        position: usize,
    },
}

/// Checks a run id given to a run (`--run-id`, [`crate::RunRequest::run_id`]).
///
/// ```
/// use flowstep_engine::{RunIdError, check_run_id};
///
/// assert_eq!(check_run_id("order-1042.retry_2"), Ok(()));
/// assert_eq!(check_run_id(""), Err(RunIdError::Empty));
/// assert!(matches!(check_run_id("order 7"), Err(RunIdError::BadCharacter { found: ' ', position: 6, .. })));
/// ```
pub fn check_run_id(id: &str) -> Result<(), RunIdError> {
    if id.is_empty() {
        return Err(RunIdError::Empty);
    }
    let len = id.chars().count();
    if len > MAX_RUN_ID_LEN {
        return Err(RunIdError::TooLong { len });
    }
    let allowed =
        |i: usize, c: char| c.is_ascii_alphanumeric() || (i > 0 && matches!(c, '-' | '_' | '.'));
    match id.chars().enumerate().find(|&(i, c)| !allowed(i, c)) {
        None => Ok(()),
        Some((i, found)) => Err(RunIdError::BadCharacter {
            id: id.to_owned(),
            found,
            position: i + 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_character_set_and_length_are_enforced_with_the_rule_stated() {
        for good in ["r1", "order-1042", "0f8e.retry_2", "A", &"a".repeat(128)] {
            assert_eq!(check_run_id(good), Ok(()), "{good}");
        }
        assert_eq!(
            check_run_id("").unwrap_err().to_string(),
            "the run id is empty; a run id is 1 to 128 ASCII letters, digits, `-`, `_` and `.`, \
             starting with a letter or digit"
        );
        assert_eq!(
            check_run_id(&"a".repeat(129)),
            Err(RunIdError::TooLong { len: 129 })
        );
        assert_eq!(
            check_run_id("order#7").unwrap_err().to_string(),
            "the run id \"order#7\" has '#' at character 6; a run id is 1 to 128 ASCII letters, \
             digits, `-`, `_` and `.`, starting with a letter or digit"
        );
        for (bad, found, position) in [
            ("-x", '-', 1),
            (".", '.', 1),
            ("a\nb", '\n', 2),
            ("café", 'é', 4),
            ("a b", ' ', 2),
            ("a/b", '/', 2),
        ] {
            assert_eq!(
                check_run_id(bad),
                Err(RunIdError::BadCharacter {
                    id: bad.to_owned(),
                    found,
                    position
                }),
                "{bad:?}"
            );
        }
    }
}
