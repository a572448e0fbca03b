//! What `<<steps.ID.FIELD>>` can read of a step that ran: the fields every step has (`status`,
//! `attempts`, `error`) and those its kind adds (an http step's `body`, `http_status` and
//! `headers`), so that a misspelt field is a check-time error with a "did you mean".

/// The fields of a value a template can read below `steps.ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// Anything: not checked (a response body, a plugin step that does not declare its fields).
    Any,
    /// Exactly these names, each with what is below it. A value with no fields (`status`) is
    /// `Named(vec![])`.
    Named(Vec<(String, Fields)>),
}

impl Fields {
    /// A value with no fields of its own (text, a number).
    pub fn leaf() -> Fields {
        Fields::Named(Vec::new())
    }

    /// Named fields, from `(name, fields)` pairs.
    pub fn named<'a>(fields: impl IntoIterator<Item = (&'a str, Fields)>) -> Fields {
        Fields::Named(
            fields
                .into_iter()
                .map(|(name, f)| (name.to_owned(), f))
                .collect(),
        )
    }

    /// The fields every step has, whatever its kind, as the run records them.
    pub fn common() -> Vec<(String, Fields)> {
        let error = Fields::named([
            ("kind", Fields::leaf()),
            ("message", Fields::leaf()),
            ("http_status", Fields::leaf()),
            ("code", Fields::leaf()),
            ("type", Fields::leaf()),
            ("param", Fields::leaf()),
            (
                "hint",
                Fields::named([("cause", Fields::leaf()), ("fix", Fields::leaf())]),
            ),
        ]);
        vec![
            ("status".to_owned(), Fields::leaf()),
            ("attempts".to_owned(), Fields::leaf()),
            ("error".to_owned(), error),
        ]
    }

    /// The fields of a step whose kind adds `own` to the common ones.
    pub fn of_step(own: Fields) -> Fields {
        match own {
            Fields::Any => Fields::Any,
            Fields::Named(own) => {
                let mut all = Self::common();
                all.extend(own);
                Fields::Named(all)
            }
        }
    }

    /// Follows `path` down the fields: `Ok(())` when it can be read, else the index of the
    /// first segment that is not a field, and the names that were possible there.
    pub fn check<'a>(&'a self, path: &[String]) -> Result<(), (usize, Vec<&'a str>)> {
        let mut here = self;
        for (i, segment) in path.iter().enumerate() {
            match here {
                Fields::Any => return Ok(()),
                Fields::Named(names) => match names.iter().find(|(n, _)| n == segment) {
                    Some((_, below)) => here = below,
                    None => return Err((i, names.iter().map(|(n, _)| n.as_str()).collect())),
                },
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn fields_are_followed_down_and_the_first_wrong_one_is_named() {
        let http = Fields::of_step(Fields::named([
            ("body", Fields::Any),
            ("http_status", Fields::leaf()),
        ]));
        assert_eq!(http.check(&path("body.items.0.sku")), Ok(()));
        assert_eq!(http.check(&path("error.kind")), Ok(()));
        let (at, names) = http.check(&path("bdy")).unwrap_err();
        assert_eq!(at, 0);
        assert!(names.contains(&"body"));
        let (at, names) = http.check(&path("error.knd")).unwrap_err();
        assert_eq!((at, names.contains(&"kind")), (1, true));
        let (at, names) = http.check(&path("status.x")).unwrap_err();
        assert_eq!((at, names.len()), (1, 0));
        assert_eq!(
            Fields::of_step(Fields::Any).check(&path("anything")),
            Ok(())
        );
    }
}
