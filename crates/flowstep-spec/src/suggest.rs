//! "Did you mean" suggestions for misspelled keys, step types and variable names.

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let word_chars = word.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            // Allow about one edit per three characters, and always at least one.
            let allowed = (c.len().max(word.len()) / 3).max(1);
            // The distance is at least the difference in length: most candidates are ruled
            // out without computing it, which keeps a file with thousands of misspelt keys
            // fast.
            if word_chars.abs_diff(c.chars().count()) > allowed {
                return None;
            }
            let distance = strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase());
            (distance <= allowed).then_some((distance, c))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// `help: did you mean `x`?` text, when there is a close candidate.
pub fn help_did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["method", "url", "headers", "body_type"];
        assert_eq!(did_you_mean("metod", keys), Some("method"));
        assert_eq!(did_you_mean("header", keys), Some("headers"));
        assert_eq!(did_you_mean("bodytype", keys), Some("body_type"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
    }
}
