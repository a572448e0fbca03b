//! The JSON Schema that `flowstep schema` prints, checked with a real validator: every bundled
//! flow and every complete flow example in the docs fits it, and the mistakes it exists to
//! catch in an editor are rejected.

use crate::support::{Scratch, run};
use flowstep_spec::SourceFile;
use flowstep_spec::yaml::{self, Node, NodeKind};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(flowstep_spec::FLOW_SCHEMA).unwrap();
    jsonschema::draft202012::new(&schema).expect("the schema is a valid 2020-12 schema")
}

/// YAML text to JSON the way flowstep types scalars (`007` stays a string, `yes` too).
fn to_json(name: &str, text: &str) -> Value {
    let file = SourceFile::new(name, text);
    let node = yaml::parse(&file).unwrap_or_else(|d| panic!("{name} is not YAML: {}", d.message));
    convert(&node)
}

fn convert(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Scalar(..) => node.scalar_value().unwrap_or(Value::Null),
        NodeKind::Seq(items) => Value::Array(items.iter().map(convert).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), convert(v)))
                .collect(),
        ),
    }
}

/// The errors the schema reports for a flow, one line each (empty when it fits).
fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(yaml_files(&p));
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Fenced ```yaml blocks of a Markdown file that hold a whole flow (`flow:` and `steps:`),
/// with the line they start on. Blocks with a `...` line are excerpts and are left out.
fn flow_examples(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut block {
            None if line.trim_start().starts_with("```yaml") => {
                block = Some((i + 1, String::new()))
            }
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                let (at, text) = block.take().unwrap();
                let has = |key: &str| text.lines().any(|l| l.starts_with(key));
                let excerpt = text.lines().any(|l| l.trim() == "...");
                if has("flow:") && has("steps:") && !excerpt {
                    out.push((at, text));
                }
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    out
}

#[test]
fn every_bundled_flow_fits_the_schema() {
    let v = validator();
    let flows = yaml_files(&root().join("flows"));
    assert!(!flows.is_empty());
    for path in flows {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let errs = errors(&v, &to_json(&name, &text));
        assert!(
            errs.is_empty(),
            "{name} does not fit the schema:\n{}",
            errs.join("\n")
        );
    }
}

#[test]
fn every_flow_example_in_the_docs_fits_the_schema() {
    let v = validator();
    let mut docs = Vec::new();
    for dir in ["docs", "docs/guides"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "md") {
                docs.push(p);
            }
        }
    }
    docs.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in docs {
        let markdown = std::fs::read_to_string(&path).unwrap();
        for (line, text) in flow_examples(&markdown) {
            let name = format!("{}:{line}", path.strip_prefix(root()).unwrap().display());
            let errs = errors(&v, &to_json(&name, &text));
            if !errs.is_empty() {
                failures.push(format!("{name}:\n{}", errs.join("\n")));
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "only {checked} complete flow examples found in the docs"
    );
    assert!(
        failures.is_empty(),
        "docs examples that do not fit the schema:\n{}",
        failures.join("\n\n")
    );
}

/// A change that turns the valid flow into a mistake.
type Edit = Box<dyn FnOnce(&mut Value)>;

fn step(flow: &mut Value, i: usize) -> &mut Value {
    &mut flow["steps"][i]
}

/// A small valid flow, changed by `edit` into a mistake.
fn flow_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut flow = to_json(
        "base.yaml",
        r#"
flow: demo
inputs:
  amount: { type: decimal, minimum: 0.5, pattern: "x", enum: ["1"] }
  phone: { type: string, pattern: "^[0-9]+$", min_length: 7, max_length: 15 }
secrets: [KEY, { name: STRIPE_SECRET_KEY, hosts: [api.stripe.com, "api.example.com:8443", "http://localhost:8080", "http://[::1]:8080/"] }]
steps:
  - id: pay
    type: http
    method: POST
    url: https://api.stripe.com/v1/checkout/sessions
    auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
    body_type: form
    body: { unit_amount: "<<minor_units amount \"inr\">>" }
    response: { map: { url: $.url, rid: header:Request-Id, code: status, coupon: { path: $.discount.coupon, default: null } } }
    retry: { max_attempts: 3, base_delay: 500ms }
    idempotency: auto
    on_error: sorry
    next: done
  - id: sorry
    type: message
    text: We could not create your payment link.
  - id: done
    type: set
    values: { ok: true }
  - id: sub
    type: flow
    use: stripe-checkout
    with: { amount_paise: 100 , success_url: https://shop.example/thanks}
    when: "<<ok>>"
  - id: custom
    type: lookup_order
    anything: goes
outputs: { url: "<<url>>" }
"#,
    );
    edit(&mut flow);
    flow
}

#[test]
fn the_schema_rejects_the_mistakes_it_is_for() {
    let v = validator();
    assert_eq!(errors(&v, &flow_with(|_| {})), Vec::<String>::new());
    let cases: Vec<(&str, Edit)> = vec![
        (
            "unknown key in an http step",
            Box::new(|f| {
                step(f, 0)["metod"] = "POST".into();
            }),
        ),
        (
            "http step without url",
            Box::new(|f| {
                step(f, 0).as_object_mut().unwrap().remove("url");
            }),
        ),
        (
            "a when: that is text, not one << >> expression",
            Box::new(|f| {
                step(f, 3)["when"] = "status == \"paid\"".into();
            }),
        ),
        (
            "a when: in another tool's braces",
            Box::new(|f| {
                step(f, 3)["when"] = "{{ ok }}".into();
            }),
        ),
        (
            "a constant when:",
            Box::new(|f| {
                step(f, 3)["when"] = false.into();
            }),
        ),
        (
            "paginate with more than 100 pages",
            Box::new(|f| {
                step(f, 0)["paginate"] =
                    serde_json::json!({"link": "next", "items": "$", "max_pages": 500});
            }),
        ),
        (
            "paginate with two ways to find the next page",
            Box::new(|f| {
                step(f, 0)["paginate"] =
                    serde_json::json!({"link": "next", "page": "page", "items": "$"});
            }),
        ),
        (
            "a binary body that is not a file",
            Box::new(|f| {
                step(f, 0)["body_type"] = "binary".into();
                step(f, 0)["body"] = "raw bytes".into();
            }),
        ),
        (
            "a multipart file part without its path",
            Box::new(|f| {
                step(f, 0)["body_type"] = "multipart".into();
                step(f, 0)["body"] = serde_json::json!({"file": {"filename": "r.pdf"}});
            }),
        ),
        (
            "a response mapping from an unknown source",
            Box::new(|f| {
                step(f, 0)["response"]["map"]["id"] = "headers:Request-Id".into();
            }),
        ),
        (
            "a response mapping that reads two places",
            Box::new(|f| {
                step(f, 0)["response"]["map"]["id"] =
                    serde_json::json!({"path": "$.id", "header": "Request-Id"});
            }),
        ),
        (
            "unknown auth type",
            Box::new(|f| {
                step(f, 0)["auth"]["type"] = "oauth".into();
            }),
        ),
        (
            "a key of another auth type",
            Box::new(|f| {
                step(f, 0)["auth"]["username"] = "x".into();
            }),
        ),
        (
            "an oauth2 auth without its client secret",
            Box::new(|f| {
                step(f, 0)["auth"] = serde_json::json!({
                    "type": "oauth2", "token_url": "https://auth.example/t", "client_id": "app"
                });
            }),
        ),
        (
            "an oauth2 client secret written into the file",
            Box::new(|f| {
                step(f, 0)["auth"] = serde_json::json!({
                    "type": "oauth2", "token_url": "https://auth.example/t", "client_id": "app",
                    "client_secret": "cs_live_in_the_file"
                });
            }),
        ),
        (
            "an oauth2 token URL that is not a URL",
            Box::new(|f| {
                step(f, 0)["auth"] = serde_json::json!({
                    "type": "oauth2", "token_url": "auth.example/t", "client_id": "app",
                    "client_secret": "<<secrets.STRIPE_SECRET_KEY>>"
                });
            }),
        ),
        (
            "body_type not in the enum",
            Box::new(|f| {
                step(f, 0)["body_type"] = "xml".into();
            }),
        ),
        (
            "body without body_type",
            Box::new(|f| {
                step(f, 0).as_object_mut().unwrap().remove("body_type");
            }),
        ),
        (
            "input type not in the enum",
            Box::new(|f| {
                f["inputs"]["amount"]["type"] = "money".into();
            }),
        ),
        (
            "unknown input key",
            Box::new(|f| {
                f["inputs"]["phone"]["regex"] = "x".into();
            }),
        ),
        (
            "steps not a list",
            Box::new(|f| {
                f["steps"] = serde_json::json!({"pay": {}});
            }),
        ),
        (
            "no steps",
            Box::new(|f| {
                f["steps"] = serde_json::json!([]);
            }),
        ),
        (
            "unknown top-level key",
            Box::new(|f| {
                f["output"] = serde_json::json!({});
            }),
        ),
        (
            "message without text",
            Box::new(|f| {
                step(f, 1).as_object_mut().unwrap().remove("text");
            }),
        ),
        (
            "set step without values",
            Box::new(|f| {
                step(f, 2).as_object_mut().unwrap().remove("values");
            }),
        ),
        (
            "unknown key in a flow step",
            Box::new(|f| {
                step(f, 3)["inputs"] = serde_json::json!({});
            }),
        ),
        (
            "a bad duration",
            Box::new(|f| {
                step(f, 0)["timeout"] = "30 seconds".into();
            }),
        ),
        (
            "retry attempts out of range",
            Box::new(|f| {
                step(f, 0)["retry"]["max_attempts"] = 50.into();
            }),
        ),
        (
            "a step without id",
            Box::new(|f| {
                step(f, 1).as_object_mut().unwrap().remove("id");
            }),
        ),
        (
            "a secret with an unknown key",
            Box::new(|f| {
                f["secrets"][1]["host"] = "x".into();
            }),
        ),
        (
            "a secret host with a path",
            Box::new(|f| {
                f["secrets"][1]["hosts"] = serde_json::json!(["https://api.stripe.com/v1"]);
            }),
        ),
        (
            "a secret host with another scheme",
            Box::new(|f| {
                f["secrets"][1]["hosts"] = serde_json::json!(["ftp://files.example.com"]);
            }),
        ),
        (
            "a hint that matches nothing",
            Box::new(|f| {
                step(f, 0)["hints"] = serde_json::json!([{"cause": "c", "fix": "f"}]);
            }),
        ),
    ];
    for (what, edit) in cases {
        let flow = flow_with(edit);
        assert!(
            !errors(&v, &flow).is_empty(),
            "the schema accepts a flow with {what}"
        );
    }
}

#[test]
fn schema_command_prints_the_schema() {
    let dir = Scratch::new();
    let out = run(dir.path(), &["schema"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, flowstep_spec::FLOW_SCHEMA);
    let v = out.json();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
}
