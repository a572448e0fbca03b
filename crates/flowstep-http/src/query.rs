//! `query:` parameters: a rendered mapping to (name, value) pairs. A list is sent in the
//! step's `query_lists` style (`tags=a&tags=b` by default), a mapping as `name[key]=value`
//! (like a form body), `null` not at all; numbers written in the flow as written.

use crate::form::flatten_rendered;
use flowstep_spec::Rendered;
use flowstep_spec::steps::QueryLists;
use flowstep_spec::template::value_to_text;
use serde_json::Value;

/// A parameter's value: one text, or (`query_lists: comma`) a list sent as its items
/// separated by literal commas, each item encoded on its own, so that a comma inside an item
/// (`%2C`) cannot be read as a separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryValue {
    /// `name=value`.
    One(String),
    /// `name=a,b%2Cc`.
    Joined(Vec<String>),
}

/// Why one parameter cannot be sent: its index in `query:` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryProblem {
    /// The parameter's position in `query:`.
    pub index: usize,
    /// What is wrong, naming the parameter.
    pub message: String,
}

/// The pairs of a rendered `query:` mapping, in file order.
pub fn pairs(
    query: &Rendered,
    style: QueryLists,
) -> Result<Vec<(String, QueryValue)>, QueryProblem> {
    let mut out: Vec<(String, QueryValue)> = Vec::new();
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
                let mut flat = Vec::new();
                flatten_rendered(name.clone(), value, &mut flat);
                out.extend(flat.into_iter().map(|(k, v)| (k, QueryValue::One(v))));
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
                out.push((name.clone(), QueryValue::One(n.text().to_owned())));
                continue;
            }
            Rendered::Value(scalar) => {
                out.push((name.clone(), QueryValue::One(value_to_text(scalar))));
                continue;
            }
        };
        match style {
            QueryLists::Repeat => out.extend(
                items
                    .into_iter()
                    .map(|i| (name.clone(), QueryValue::One(i))),
            ),
            QueryLists::Brackets => out.extend(
                items
                    .into_iter()
                    .map(|i| (format!("{name}[]"), QueryValue::One(i))),
            ),
            QueryLists::Comma if items.is_empty() => {}
            QueryLists::Comma => out.push((name.clone(), QueryValue::Joined(items))),
        }
    }
    Ok(out)
}

/// Appends the pairs to `url`'s query, encoded as `application/x-www-form-urlencoded` (as
/// `Url::query_pairs_mut` does), a [`QueryValue::Joined`] list with literal commas between its
/// encoded items.
pub fn append(url: &mut reqwest::Url, pairs: &[(String, QueryValue)]) {
    if pairs.is_empty() {
        return;
    }
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut q = url.query().unwrap_or_default().to_owned();
    for (name, value) in pairs {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&enc(name));
        q.push('=');
        match value {
            QueryValue::One(v) => q.push_str(&enc(v)),
            QueryValue::Joined(items) => {
                let encoded: Vec<String> = items.iter().map(|i| enc(i)).collect();
                q.push_str(&encoded.join(","));
            }
        }
    }
    url.set_query(Some(&q));
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

    fn p(v: &[(&str, &str)]) -> Vec<(String, QueryValue)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), QueryValue::One((*b).to_owned())))
            .collect()
    }

    fn joined(name: &str, items: &[&str]) -> (String, QueryValue) {
        let items = items.iter().map(|i| (*i).to_owned()).collect();
        (name.to_owned(), QueryValue::Joined(items))
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
            [
                joined("tags", &["financial", "investment"]),
                joined("ids", &["10.50", "b,c"])
            ]
        );
        // The separator is a literal comma; a comma inside an item is encoded.
        let mut url = reqwest::Url::parse("https://api.example.com/x?a=1").unwrap();
        append(&mut url, &pairs(&query(), QueryLists::Comma).unwrap());
        assert_eq!(
            url.query(),
            Some("a=1&tags=financial,investment&ids=10.50,b%2Cc&filter%5Bstatus%5D=open&page=2")
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
