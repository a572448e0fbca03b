//! `query:` parameters: a rendered mapping to (name, value) pairs. A list is sent in the
//! step's `query_lists` style (`tags=a&tags=b` by default), a mapping as `name[key]=value`
//! (like a form body), `null` not at all; numbers written in the flow as written.

use crate::form::flatten_rendered;
use flowstep_spec::Rendered;
use flowstep_spec::steps::QueryLists;
use flowstep_spec::template::value_to_text;
use serde_json::Value;

/// Why one parameter cannot be sent: its index in `query:` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryProblem {
    /// The parameter's position in `query:`.
    pub index: usize,
    /// What is wrong, naming the parameter.
    pub message: String,
}

/// The pairs of a rendered `query:` mapping, in file order.
pub fn pairs(query: &Rendered, style: QueryLists) -> Result<Vec<(String, String)>, QueryProblem> {
    let mut out = Vec::new();
    let Rendered::Map(entries) = query else {
        return Ok(out);
    };
    for (index, (name, value)) in entries.iter().enumerate() {
        let problem = |what: &str| QueryProblem {
            index,
            message: format!(
                "query parameter `{name}`: a list in `query:` holds text, numbers or booleans, not {what}"
            ),
        };
        let items: Vec<String> = match value {
            Rendered::Value(Value::Null) => continue,
            Rendered::Value(Value::Object(_)) | Rendered::Map(_) => {
                flatten_rendered(name.clone(), value, &mut out);
                continue;
            }
            Rendered::Value(Value::Array(items)) => items
                .iter()
                .filter(|i| !i.is_null())
                .map(|i| match i {
                    Value::Array(_) => Err(problem("a list")),
                    Value::Object(_) => Err(problem("a mapping")),
                    scalar => Ok(value_to_text(scalar)),
                })
                .collect::<Result<_, _>>()?,
            Rendered::List(items) => items
                .iter()
                .filter(|i| !i.is_null())
                .map(|i| match i {
                    Rendered::Number(n) => Ok(n.text().to_owned()),
                    Rendered::Value(Value::Array(_)) | Rendered::List(_) => Err(problem("a list")),
                    Rendered::Value(Value::Object(_)) | Rendered::Map(_) => {
                        Err(problem("a mapping"))
                    }
                    Rendered::Value(scalar) => Ok(value_to_text(scalar)),
                })
                .collect::<Result<_, _>>()?,
            Rendered::Number(n) => {
                out.push((name.clone(), n.text().to_owned()));
                continue;
            }
            Rendered::Value(scalar) => {
                out.push((name.clone(), value_to_text(scalar)));
                continue;
            }
        };
        match style {
            QueryLists::Repeat => out.extend(items.into_iter().map(|i| (name.clone(), i))),
            QueryLists::Brackets => out.extend(items.into_iter().map(|i| (format!("{name}[]"), i))),
            QueryLists::Comma if items.is_empty() => {}
            QueryLists::Comma => out.push((name.clone(), items.join(","))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_spec::literal_number::LiteralNumber;
    use serde_json::json;

    fn query() -> Rendered {
        Rendered::Map(vec![
            (
                "tags".into(),
                Rendered::Value(json!(["financial", "investment"])),
            ),
            (
                "ids".into(),
                Rendered::List(vec![
                    Rendered::Number(LiteralNumber::parse("10.50").unwrap()),
                    Rendered::Value(json!("b,c")),
                    Rendered::Value(json!(null)),
                ]),
            ),
            ("empty".into(), Rendered::Value(json!([]))),
            ("skip".into(), Rendered::Value(json!(null))),
            ("filter".into(), Rendered::Value(json!({"status": "open"}))),
            (
                "page".into(),
                Rendered::Number(LiteralNumber::parse("2").unwrap()),
            ),
        ])
    }

    fn p(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn lists_are_repeated_by_default_and_other_styles_are_chosen() {
        assert_eq!(
            pairs(&query(), QueryLists::Repeat).unwrap(),
            p(&[
                ("tags", "financial"),
                ("tags", "investment"),
                ("ids", "10.50"),
                ("ids", "b,c"),
                ("filter[status]", "open"),
                ("page", "2"),
            ])
        );
        assert_eq!(
            pairs(&query(), QueryLists::Brackets).unwrap()[..4],
            p(&[
                ("tags[]", "financial"),
                ("tags[]", "investment"),
                ("ids[]", "10.50"),
                ("ids[]", "b,c"),
            ])[..]
        );
        assert_eq!(
            pairs(&query(), QueryLists::Comma).unwrap()[..2],
            p(&[("tags", "financial,investment"), ("ids", "10.50,b,c")])[..]
        );
    }

    #[test]
    fn a_list_of_lists_names_the_parameter() {
        let q = Rendered::Map(vec![
            ("a".into(), Rendered::Value(json!("x"))),
            ("nested".into(), Rendered::Value(json!([[1]]))),
        ]);
        assert_eq!(
            pairs(&q, QueryLists::Repeat),
            Err(QueryProblem {
                index: 1,
                message: "query parameter `nested`: a list in `query:` holds text, numbers or booleans, not a list".into()
            })
        );
    }
}
