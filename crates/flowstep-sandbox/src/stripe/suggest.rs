//! Stripe's "Did you mean" for an unknown parameter: the known name closest to a misspelt one.
//!
//! Stripe answers an unknown parameter that is close to a known one with "Received unknown
//! parameter: PARAM. Did you mean NAME?" (as real responses quote it, e.g.
//! microsoft/azure-api-management-monetization #57, "Did you mean recurring?"), and without the
//! second sentence otherwise. How close Stripe requires is not documented; the sandbox
//! suggests a name at most a third of its length away in edits (at least 1, at most 3), and
//! only when exactly one name is closest, so that a suggestion is never a coin toss.

/// The known name closest to `unknown`, if one is close enough (see the module docs).
pub(crate) fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    let mut tie = false;
    let len = unknown.chars().count();
    for &name in known {
        let limit = (name.chars().count() / 3).clamp(1, 3);
        // The length difference is a lower bound on the distance: a name far longer or
        // shorter (a 100 000-character key) is not compared at all.
        if len.abs_diff(name.chars().count()) > limit {
            continue;
        }
        // Optimal string alignment: insertions, deletions, substitutions and swaps of two
        // neighbouring characters each count 1 (`currnecy` is one swap from `currency`).
        let d = strsim::osa_distance(unknown, name);
        if d > limit {
            continue;
        }
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, name));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        let known = [
            "success_url",
            "cancel_url",
            "line_items",
            "currency",
            "unit_amount",
        ];
        assert_eq!(closest("sucess_url", &known), Some("success_url"));
        assert_eq!(closest("line_item", &known), Some("line_items"));
        assert_eq!(closest("currnecy", &known), Some("currency"));
        assert_eq!(closest("unit_ammount", &known), Some("unit_amount"));
        assert_eq!(closest("colour", &known), None);
        assert_eq!(closest("amount", &known), None);
    }

    #[test]
    fn a_tie_suggests_nothing() {
        assert_eq!(closest("ab", &["aa", "bb"]), None);
    }
}
