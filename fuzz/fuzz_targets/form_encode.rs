//! Fuzzes the form encoder with arbitrary rendered trees (keys and values of any text, numbers
//! as written, nested lists and maps) and checks what a server would read back: exactly the
//! flattened pairs, in order, so that no value can add, drop or change a field.
#![no_main]

use arbitrary::Arbitrary;
use flowstep_spec::Rendered;
use flowstep_spec::literal_number::LiteralNumber;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A tree the fuzzer builds; converted to the spec's `Rendered`.
#[derive(Arbitrary, Debug)]
enum Tree {
    Null,
    Bool(bool),
    Text(String),
    Int(i64),
    Float(f64),
    Written(String),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
    Json(Vec<(String, String)>),
}

fn rendered(tree: Tree, depth: usize) -> Rendered {
    if depth > 16 {
        return Rendered::Value(Value::Null);
    }
    match tree {
        Tree::Null => Rendered::Value(Value::Null),
        Tree::Bool(b) => Rendered::Value(Value::Bool(b)),
        Tree::Text(s) => Rendered::Value(Value::String(s)),
        Tree::Int(i) => Rendered::Value(Value::from(i)),
        Tree::Float(f) => Rendered::Value(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        // Numbers written in the flow: only text the spec accepts as a number.
        Tree::Written(s) => LiteralNumber::parse(&s).map_or(Rendered::Value(Value::String(s)), Rendered::Number),
        Tree::List(items) => Rendered::List(items.into_iter().map(|t| rendered(t, depth + 1)).collect()),
        Tree::Map(entries) => {
            // A mapping written in a flow has no key twice.
            let mut seen = std::collections::HashSet::new();
            Rendered::Map(
                entries
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .map(|(k, t)| (k, rendered(t, depth + 1)))
                    .collect(),
            )
        }
        Tree::Json(entries) => Rendered::Value(Value::Object(
            entries.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
        )),
    }
}

fuzz_target!(|entries: Vec<(String, Tree)>| {
    let mut seen = std::collections::HashSet::new();
    let body = Rendered::Map(
        entries
            .into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .map(|(k, t)| (k, rendered(t, 0)))
            .collect(),
    );
    let (pairs, encoded) = flowstep_http::fuzzing::form_body(&body);
    let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
    assert_eq!(decoded, pairs, "the server reads back exactly the fields sent");
    assert!(
        encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"*-._+%&=".contains(&b)),
        "the body is plain URL-encoded ASCII: {encoded:?}"
    );
});
