//! Rack-style bracket form decoding into a nested parameter tree, as Stripe's v1 API does.
//!
//! `line_items[0][price_data][currency]=inr` becomes
//! `{line_items: {"0": {price_data: {currency: "inr"}}}}`. Brackets may arrive literal or
//! percent-encoded (`%5B`/`%5D`), spaces as `+` or `%20`; the form decoder handles both
//! before the key is split. Lists stay maps keyed by index until a validator asks for a
//! list ([`Node::as_list`]), which is where the sequential-index rule is enforced: only the
//! schema knows whether `metadata[0]` is a hash key or a list index.
//!
//! Never panics: malformed percent-encoding decodes as literal text, invalid UTF-8 is
//! replaced (lossy), and nesting depth is bounded so a hostile key cannot blow the stack.

use super::errors::ApiError;

/// Deeper nesting than any Stripe parameter needs; bounds recursion on hostile input.
const MAX_DEPTH: usize = 32;

/// A parameter value: a string, or a hash of named children (lists are hashes keyed by
/// index until [`Node::as_list`] turns them into lists).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Value(String),
    Map(Vec<(String, Node)>),
}

/// Splits `a[b][0]` into `("a", ["b", "0"])`. A name that does not follow the bracket
/// grammar (e.g. `a[b`, `a]`, `a[b]c`) is kept whole as a literal top-level name, as Rack
/// does, so that it surfaces as an unknown parameter rather than being guessed at.
fn split_name(name: &str) -> (String, Vec<String>) {
    let Some(open) = name.find('[') else {
        return (name.to_string(), Vec::new());
    };
    if open == 0 {
        return (name.to_string(), Vec::new());
    }
    let head = &name[..open];
    let mut segments = Vec::new();
    let mut rest = &name[open..];
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return (name.to_string(), Vec::new());
        };
        let Some(close) = inner.find(']') else {
            return (name.to_string(), Vec::new());
        };
        segments.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    (head.to_string(), segments)
}

/// Builds the top-level parameter hash from decoded pairs. A later scalar for the same name
/// replaces an earlier one (Rack's rule); a name used both as a scalar and as a hash is an
/// error, since either reading would be a guess.
pub(crate) fn build_tree(pairs: &[(String, String)]) -> Result<Vec<(String, Node)>, ApiError> {
    let mut root: Vec<(String, Node)> = Vec::new();
    for (name, value) in pairs {
        let (head, segments) = split_name(name);
        if segments.len() > MAX_DEPTH {
            return Err(ApiError::invalid(format!(
                "Invalid request: parameter {head} is nested more than {MAX_DEPTH} levels deep."
            ))
            .param(head));
        }
        let mut path = vec![head];
        path.extend(segments);
        insert(&mut root, &path, value, 0)?;
    }
    Ok(root)
}

/// The bracket name of the first `depth + 1` segments of `path`, for error messages.
fn display_name(path: &[String], upto: usize) -> String {
    let mut s = path[0].clone();
    for seg in &path[1..=upto.min(path.len() - 1)] {
        s.push('[');
        s.push_str(seg);
        s.push(']');
    }
    s
}

fn insert(
    map: &mut Vec<(String, Node)>,
    path: &[String],
    value: &str,
    depth: usize,
) -> Result<(), ApiError> {
    let mut key = path[depth].clone();
    let last = depth + 1 == path.len();
    if key.is_empty() && depth > 0 {
        // `a[]`: append. With more segments (`a[][b]`), Rack reuses the last element when
        // it is a hash that does not have that key yet, else starts a new element.
        let next = path.get(depth + 1);
        let reuse = match (map.last(), next) {
            (Some((_, Node::Map(m))), Some(next)) => !m.iter().any(|(k, _)| k == next),
            _ => false,
        };
        key = if reuse {
            map.len().saturating_sub(1).to_string()
        } else {
            map.len().to_string()
        };
    }
    let pos = map.iter().position(|(k, _)| *k == key);
    if last {
        match pos {
            Some(i) => match &mut map[i].1 {
                Node::Value(v) => *v = value.to_string(),
                Node::Map(_) => return Err(ApiError::invalid_hash(&display_name(path, depth))),
            },
            None => map.push((key, Node::Value(value.to_string()))),
        }
        return Ok(());
    }
    let i = match pos {
        Some(i) => i,
        None => {
            map.push((key, Node::Map(Vec::new())));
            map.len() - 1
        }
    };
    match &mut map[i].1 {
        Node::Map(child) => insert(child, path, value, depth + 1),
        Node::Value(_) => Err(ApiError::invalid_hash(&display_name(path, depth))),
    }
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Value(s) => Some(s),
            Node::Map(_) => None,
        }
    }

    /// The children of a hash; a scalar where a hash is expected is Stripe's
    /// "Invalid hash" (param = `name`).
    pub(crate) fn as_map(&self, name: &str) -> Result<&[(String, Node)], ApiError> {
        match self {
            Node::Map(m) => Ok(m),
            // An empty string means "unset" in Stripe's encoding, i.e. an empty hash.
            Node::Value(v) if v.is_empty() => Ok(&[]),
            Node::Value(_) => Err(ApiError::invalid_hash(name)),
        }
    }

    /// The elements of a list, in index order. The indices must be exactly 0, 1, 2, ...
    /// (decimal, no sign or leading zeros); anything else is "Invalid array".
    pub(crate) fn as_list(&self, name: &str) -> Result<Vec<&Node>, ApiError> {
        let map = match self {
            Node::Map(m) => m,
            Node::Value(v) if v.is_empty() => return Ok(Vec::new()),
            Node::Value(_) => return Err(ApiError::invalid_array(name)),
        };
        let mut indexed = Vec::with_capacity(map.len());
        for (k, v) in map {
            let canonical = !k.is_empty()
                && k.bytes().all(|b| b.is_ascii_digit())
                && (k == "0" || !k.starts_with('0'));
            let idx: usize = match k.parse() {
                Ok(i) if canonical => i,
                _ => return Err(ApiError::invalid_array(name)),
            };
            indexed.push((idx, v));
        }
        indexed.sort_by_key(|(i, _)| *i);
        if indexed.iter().enumerate().any(|(pos, (i, _))| pos != *i) {
            return Err(ApiError::invalid_array(name));
        }
        Ok(indexed.into_iter().map(|(_, v)| v).collect())
    }
}

/// Looks a key up in a hash.
pub(crate) fn get<'a>(map: &'a [(String, Node)], key: &str) -> Option<&'a Node> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::form_pairs as decode_pairs;

    fn tree(body: &str) -> Result<Vec<(String, Node)>, ApiError> {
        build_tree(&decode_pairs(body.as_bytes()))
    }

    fn v(s: &str) -> Node {
        Node::Value(s.to_string())
    }

    #[test]
    fn nested_and_encoded_brackets() {
        let t = tree("a%5Bb%5D%5Bc%5D=x+y&a[b][d]=%20z&top=1").unwrap();
        assert_eq!(
            t,
            vec![
                (
                    "a".to_string(),
                    Node::Map(vec![(
                        "b".into(),
                        Node::Map(vec![("c".into(), v("x y")), ("d".into(), v(" z"))])
                    )])
                ),
                ("top".to_string(), v("1")),
            ]
        );
    }

    #[test]
    fn lists_must_be_sequential() {
        let t = tree("l[1][x]=b&l[0][x]=a").unwrap();
        let list = get(&t, "l").unwrap().as_list("l").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], &Node::Map(vec![("x".into(), v("a"))]));
        let t = tree("l[0][x]=a&l[2][x]=b").unwrap();
        assert_eq!(
            get(&t, "l").unwrap().as_list("l").unwrap_err().message,
            "Invalid array"
        );
        let t = tree("l[1]=a").unwrap();
        assert!(get(&t, "l").unwrap().as_list("l").is_err());
        let t = tree("l[00]=a").unwrap();
        assert!(get(&t, "l").unwrap().as_list("l").is_err());
        let t = tree("l[x]=a").unwrap();
        assert!(get(&t, "l").unwrap().as_list("l").is_err());
        let t = tree("l=a").unwrap();
        assert!(get(&t, "l").unwrap().as_list("l").is_err());
    }

    #[test]
    fn empty_brackets_append() {
        let t = tree("l[]=a&l[]=b").unwrap();
        let list = get(&t, "l").unwrap().as_list("l").unwrap();
        assert_eq!(list, vec![&v("a"), &v("b")]);
        let t = tree("l[][x]=1&l[][y]=2&l[][x]=3").unwrap();
        let list = get(&t, "l").unwrap().as_list("l").unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn conflicts_and_garbage_do_not_panic() {
        assert_eq!(tree("a=1&a[b]=2").unwrap_err().message, "Invalid hash");
        assert_eq!(tree("a[b]=2&a=1").unwrap_err().message, "Invalid hash");
        let t = tree("a[b=1&]x=2&[y]=3&c[d]e=4&%ZZ=%G0&%FF%FE=%C3").unwrap();
        let names: Vec<&str> = t.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            vec!["a[b", "]x", "[y]", "c[d]e", "%ZZ", "\u{fffd}\u{fffd}"]
        );
        let deep = format!("a{}=1", "[x]".repeat(10_000));
        assert!(tree(&deep).is_err());
        let t = tree("mode=a&mode=b").unwrap();
        assert_eq!(get(&t, "mode"), Some(&v("b")));
    }
}
