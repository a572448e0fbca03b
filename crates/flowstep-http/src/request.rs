//! Rendering an [`HttpSpec`] into a [`PreparedRequest`]: method, URL, headers, body bytes and
//! idempotency key, all checked before anything is sent. Pure: no I/O, so it is tested directly.

use crate::auth::{self, Credentials};
use crate::files::{self, MAX_FILE_BYTES};
use crate::form;
use crate::headers::{Headers, check_header_value};
use crate::multipart::{self, Part};
use crate::query;
use crate::render::Renderer;
use crate::upload::Upload;
use crate::url::build_url;
use flowstep_engine::{Redactor, SourcePos, StepError};
use flowstep_spec::steps::http::is_header_name;
use flowstep_spec::steps::{Body, FileRef, HttpSpec, Idempotency, PartValue};
use flowstep_spec::{Rendered, Template, ValueTemplate};
use reqwest::Url;
use serde_json::{Value, json};
use std::path::Path;

/// The longest idempotency key Stripe accepts.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// A request ready to send: everything rendered, encoded and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL as the flow means it, before any route rewrites it.
    pub url: Url,
    /// Every header, in the order they are sent.
    pub headers: Headers,
    /// The encoded body, if any.
    pub body: Option<String>,
    /// A body of bytes read from files (`multipart`, `binary`), instead of `body`.
    pub upload: Option<Upload>,
    /// The idempotency key the request carries (whoever set it), if any.
    pub idempotency_key: Option<String>,
    /// Where credentials went, for redirects to another host.
    pub credentials: Credentials,
}

impl PreparedRequest {
    /// The request as recorded in the step's `request` detail (values are redacted by the
    /// runner afterwards).
    pub fn to_record(&self, routed_to: Option<&str>) -> Value {
        let mut headers = serde_json::Map::new();
        for (k, v) in &self.headers.0 {
            headers.insert(k.clone(), Value::String(v.clone()));
        }
        let mut record = json!({
            "method": self.method,
            "url": self.url.as_str(),
        });
        if let Some(to) = routed_to {
            record["routed_to"] = json!(to);
        }
        record["headers"] = Value::Object(headers);
        record["body"] = match &self.upload {
            Some(u) => u.shown.clone(),
            None => self.body.clone().map_or(Value::Null, Value::String),
        };
        record
    }

    /// Whether replaying the request cannot do the work twice: it carries an idempotency key,
    /// or its method is idempotent by definition (RFC 9110).
    pub fn replay_safe(&self) -> bool {
        self.idempotency_key.is_some()
            || matches!(
                self.method.as_str(),
                "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS"
            )
    }
}

/// Everything a request is built from besides the spec.
pub struct PrepareInput<'a> {
    /// Templates and variables.
    pub renderer: Renderer<'a>,
    /// Where credentials are registered.
    pub redactor: &'a Redactor,
    /// The run id, for `idempotency: auto`.
    pub run_id: &'a str,
    /// The step id, for `idempotency: auto`.
    pub step_id: &'a str,
    /// `User-Agent` unless the step sets one.
    pub user_agent: &'a str,
    /// The directory the flow's files are in, when the runner lets steps read files.
    pub files: Option<&'a Path>,
}

/// Renders, encodes and checks the request. Any failure is `invalid` and nothing is sent.
pub fn prepare(spec: &HttpSpec, input: &PrepareInput<'_>) -> Result<PreparedRequest, StepError> {
    let r = &input.renderer;
    let pieces = r.pieces(&spec.url)?;
    let mut url = build_url(&pieces, |i| describe_piece(&spec.url, &pieces, i)).map_err(|e| {
        StepError::invalid(format!("url: {e}"))
            .located_at(SourcePos::new(r.file.clone(), spec.url.span()))
    })?;

    let mut headers = Headers::default();
    headers.set("User-Agent", input.user_agent.to_owned());
    headers.set("Accept", "application/json".to_owned());

    // Bodies are encoded from the rendered tree, so a number written in the flow is sent as
    // written (`19.90`, `1e3`), in JSON as in forms.
    let body = match &spec.body {
        None => None,
        Some(Body::Form(v)) => {
            let tree = r.tree(v)?;
            if !matches!(tree, Rendered::Map(_) | Rendered::Value(Value::Object(_))) {
                return Err(StepError::invalid(format!(
                    "a form body must be a mapping of field names to values; it rendered to {}",
                    tree.kind_name()
                )));
            }
            Some((
                form::encode(&form::flatten(&tree)),
                "application/x-www-form-urlencoded",
            ))
        }
        Some(Body::Json(v)) => {
            let mut tree = r.tree(v)?;
            if spec.omit_nulls {
                drop_nulls(&mut tree);
            }
            Some((tree.to_json_text(), "application/json"))
        }
        Some(Body::Text(t)) => Some((r.text(t)?, "text/plain; charset=utf-8")),
        Some(Body::Multipart(_) | Body::Binary(_)) => None,
    };
    if let Some((_, content_type)) = &body {
        headers.set("Content-Type", (*content_type).to_owned());
    }
    let upload = match &spec.body {
        Some(Body::Multipart(parts)) => {
            let base = files_dir(input)?;
            let mut rendered = Vec::with_capacity(parts.len());
            let mut left = MAX_FILE_BYTES;
            for p in parts {
                let name = p.name.value.clone();
                rendered.push(match &p.value {
                    PartValue::Text(t) => Part::Text {
                        name,
                        value: r.text(t)?,
                    },
                    PartValue::File(f) => {
                        let (path, bytes) = read_file(f, r, base, left)?;
                        left -= bytes.len();
                        let filename = match &f.filename {
                            Some(t) => r.text(t)?,
                            None => last_component(&path),
                        };
                        if filename.chars().any(char::is_control) {
                            return Err(StepError::invalid(
                                "a multipart file name contains a line break or control character",
                            )
                            .located_at(r.position(f.path.span())));
                        }
                        let content_type = match &f.content_type {
                            Some(ct) => {
                                check_header_value(
                                    "Content-Type",
                                    "a part's `content_type`",
                                    &ct.value,
                                )?;
                                ct.value.clone()
                            }
                            None => multipart::guess_type(&filename).to_owned(),
                        };
                        Part::File {
                            name,
                            path: files::shown(base, &path),
                            filename,
                            content_type,
                            bytes,
                        }
                    }
                });
            }
            let (upload, content_type) = multipart::build(&rendered);
            headers.set("Content-Type", content_type);
            Some(upload)
        }
        Some(Body::Binary(f)) => {
            let base = files_dir(input)?;
            let (path, bytes) = read_file(f, r, base, MAX_FILE_BYTES)?;
            headers.set("Content-Type", "application/octet-stream".to_owned());
            Some(multipart::binary(&files::shown(base, &path), bytes))
        }
        _ => None,
    };

    for (name, template) in &spec.headers {
        let value = r.credential_text(template)?;
        check_header_value(&name.value, "the value", &value)
            .map_err(|e| e.located_at(r.position(template.span())))?;
        headers.set(&name.value, value);
    }
    if let Some(ct) = &spec.content_type {
        check_header_value("Content-Type", "`content_type`", &ct.value)?;
        headers.set("Content-Type", ct.value.clone());
    }

    let mut query = query::pairs(&r.tree(&spec.query)?, spec.query_lists).map_err(|p| {
        let e = StepError::invalid(p.message);
        match &spec.query {
            ValueTemplate::Map(entries) => match entries.get(p.index) {
                Some((key, _)) => e.located_at(r.position(key.span())),
                None => e,
            },
            _ => e,
        }
    })?;
    let mut auth_query = Vec::new();
    let credentials = auth::apply(&spec.auth, r, input.redactor, &mut headers, &mut auth_query)?;
    query.extend(
        auth_query
            .into_iter()
            .map(|(k, v)| (k, query::QueryValue::One(v))),
    );
    query::append(&mut url, &query);

    let key_header = spec.idempotency_header.as_str();
    if !is_header_name(key_header) {
        return Err(StepError::invalid(format!(
            "`idempotency_header: {key_header}` is not a valid header name"
        )));
    }
    match &spec.idempotency {
        Idempotency::Off => {}
        Idempotency::Auto => {
            let key = auto_key(input.run_id, input.step_id);
            check_key(&key, "the run id")?;
            headers.set(key_header, key);
        }
        Idempotency::Key(t) => {
            let key = r.text(t)?;
            check_key(&key, "`idempotency`")?;
            headers.set(key_header, key);
        }
    }
    // A key the author set by hand in `headers:` counts too: it makes retries safe.
    let idempotency_key = headers.get(key_header).map(str::to_owned);

    Ok(PreparedRequest {
        method: spec.method.value.clone(),
        url,
        headers,
        body: body.map(|(b, _)| b),
        upload,
        idempotency_key,
        credentials,
    })
}

/// The flow's directory, or why files cannot be read.
fn files_dir<'a>(input: &PrepareInput<'a>) -> Result<&'a Path, StepError> {
    input.files.ok_or_else(|| {
        StepError::invalid(
            "this step's body reads a file, and this runner does not let flows read files \
             (`HttpConfig::files`)",
        )
    })
}

/// A file a body reads, rendered and read (at most `cap` bytes): its path as rendered, and
/// its bytes.
fn read_file(
    f: &FileRef,
    r: &Renderer<'_>,
    base: &Path,
    cap: usize,
) -> Result<(String, Vec<u8>), StepError> {
    let path = r.text(&f.path)?;
    let bytes = files::read(base, &path, cap)
        .map_err(|e| StepError::invalid(e).located_at(r.position(f.path.span())))?;
    Ok((path, bytes))
}

/// `receipt.pdf` for `./docs/receipt.pdf`.
fn last_component(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// `<<session_id>>` for expression piece `i`, found by position in the template source.
fn describe_piece(t: &Template, pieces: &[(bool, String)], i: usize) -> String {
    let n = pieces[..i].iter().filter(|(e, _)| *e).count();
    let source = t.source();
    let mut rest = source.as_str();
    let mut seen = 0;
    while let Some(open) = rest.find("<<") {
        let Some(close) = rest[open..].find(">>") else {
            break;
        };
        if seen == n {
            return format!("`{}`", &rest[open..open + close + 2]);
        }
        seen += 1;
        rest = &rest[open + close + 2..];
    }
    "a value".to_owned()
}

/// The key `idempotency: auto` sends: the same for every attempt of this step in this run,
/// and again when the run is repeated with the same `--run-id`.
pub fn auto_key(run_id: &str, step_id: &str) -> String {
    let key = format!("flowstep-{run_id}-{step_id}");
    if key.len() <= MAX_IDEMPOTENCY_KEY {
        return key;
    }
    // Too long for the API: keep a readable start and make the rest a stable hash (FNV-1a,
    // fixed by definition, unlike std's hasher) so that distinct runs keep distinct keys.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut cut = MAX_IDEMPOTENCY_KEY - 17;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{h:016x}", &key[..cut])
}

fn check_key(key: &str, from: &str) -> Result<(), StepError> {
    if key.is_empty() {
        return Err(StepError::invalid(format!(
            "the idempotency key from {from} is empty"
        )));
    }
    if key.len() > MAX_IDEMPOTENCY_KEY {
        return Err(StepError::invalid(format!(
            "the idempotency key from {from} is {} bytes long; APIs accept at most {MAX_IDEMPOTENCY_KEY}",
            key.len()
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(StepError::invalid(format!(
            "the idempotency key from {from} contains a line break or control character"
        )));
    }
    Ok(())
}

/// Removes mapping fields whose value is null, and mappings that this leaves empty (an optional
/// `customer: {name: <<customer_name>>}` with no name given is "no customer", not `{}`).
fn drop_nulls(tree: &mut Rendered) {
    match tree {
        Rendered::Value(v) => drop_null_values(v),
        Rendered::Map(entries) => entries.retain_mut(|(_, v)| {
            let was_empty = is_empty_map(v);
            drop_nulls(v);
            !v.is_null() && (was_empty || !is_empty_map(v))
        }),
        Rendered::List(items) => items.iter_mut().for_each(drop_nulls),
        Rendered::Number(_) => {}
    }
}

fn is_empty_map(tree: &Rendered) -> bool {
    match tree {
        Rendered::Map(entries) => entries.is_empty(),
        Rendered::Value(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

fn drop_null_values(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| {
                let was_empty = v.as_object().is_some_and(serde_json::Map::is_empty);
                drop_null_values(v);
                !v.is_null() && (was_empty || !v.as_object().is_some_and(serde_json::Map::is_empty))
            });
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_values),
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flowstep_engine::ErrorKind;
    use flowstep_spec::steps::StepSpec;
    use flowstep_spec::{Flow, Scope, SourceFile, read_flow};

    /// A flow with one http step written as `step` (indented under `steps:`).
    pub(crate) fn flow(step: &str) -> Flow {
        let yaml = format!(
            "flow: t\ninputs:\n  v: {{ type: string }}\n  n: {{ type: integer }}\nsecrets: [KEY]\nsteps:\n  - id: s\n    type: http\n{step}"
        );
        read_flow(SourceFile::new("t.yaml", yaml)).unwrap_or_else(|d| panic!("{d:?}"))
    }

    pub(crate) fn spec(flow: &Flow) -> &HttpSpec {
        match &flow.steps[0].spec {
            StepSpec::Http(h) => h,
            _ => unreachable!(),
        }
    }

    pub(crate) fn prepare_with(
        flow: &Flow,
        vars: Value,
        redactor: &Redactor,
    ) -> Result<PreparedRequest, StepError> {
        let scope = Scope::new(vars);
        let input = PrepareInput {
            renderer: Renderer {
                env: &flow.templates,
                scope: &scope,
                credentials: &scope,
                file: &flow.file,
            },
            redactor,
            run_id: "run_1",
            step_id: "s",
            user_agent: "flowstep/test",
            files: None,
        };
        prepare(spec(flow), &input)
    }

    #[test]
    fn a_stripe_form_post_is_built_in_file_order_with_default_headers() {
        let f = flow(
            "    method: POST\n    url: https://api.stripe.com/v1/checkout/sessions\n    auth: { type: bearer, token: \"<<secrets.KEY>>\" }\n    idempotency: auto\n    body_type: form\n    body:\n      mode: payment\n      line_items[0][price_data][unit_amount]: <<n>>\n      line_items[0][price_data][product_data][name]: <<v>>\n      line_items[0][quantity]: 1\n      metadata:\n        note: \"\"\n",
        );
        let redactor = Redactor::new();
        let req = prepare_with(
            &f,
            json!({"v": "Tea & cake=1", "n": 50000, "secrets": {"KEY": "sk_test_abcdefghijklmnop"}}),
            &redactor,
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.url.as_str(),
            "https://api.stripe.com/v1/checkout/sessions"
        );
        assert_eq!(
            req.body.as_deref(),
            Some(
                "mode=payment&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=50000\
                 &line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Tea+%26+cake%3D1\
                 &line_items%5B0%5D%5Bquantity%5D=1&metadata%5Bnote%5D="
            )
        );
        let names: Vec<&str> = req.headers.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "User-Agent",
                "Accept",
                "Content-Type",
                "Authorization",
                "Idempotency-Key"
            ]
        );
        assert_eq!(
            req.headers.get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(req.idempotency_key.as_deref(), Some("flowstep-run_1-s"));
        assert_eq!(
            redactor.redact("Bearer sk_test_abcdefghijklmnop"),
            "Bearer sk_test_...mnop"
        );
    }

    #[test]
    fn omit_nulls_leaves_out_null_fields_and_the_objects_they_empty() {
        let mut v = json!({"a": 1, "b": null, "customer": {"name": null, "email": null}, "notes": {}, "list": [null, {"x": null, "y": 2}]});
        drop_null_values(&mut v);
        assert_eq!(v, json!({"a": 1, "notes": {}, "list": [null, {"y": 2}]}));
        let mut tree = Rendered::Map(vec![
            ("a".into(), Rendered::Value(json!(null))),
            (
                "c".into(),
                Rendered::Map(vec![("n".into(), Rendered::Value(json!(null)))]),
            ),
            ("notes".into(), Rendered::Map(vec![])),
            ("v".into(), Rendered::Value(json!({"x": null, "y": 1}))),
        ]);
        drop_nulls(&mut tree);
        assert_eq!(tree.to_json_text(), r#"{"notes":{},"v":{"y":1}}"#);
    }

    #[test]
    fn json_bodies_keep_types_and_text_bodies_default_to_plain_text() {
        let f = flow(
            "    method: POST\n    url: https://x.example/m\n    body_type: json\n    body:\n      amount: <<n>>\n      name: \"<<v>>\"\n      tags: [a, <<v>>]\n",
        );
        let req = prepare_with(&f, json!({"v": "q\"x", "n": 7}), &Redactor::new()).unwrap();
        assert_eq!(
            req.body.as_deref(),
            Some(r#"{"amount":7,"name":"q\"x","tags":["a","q\"x"]}"#)
        );
        assert_eq!(req.headers.get("Content-Type"), Some("application/json"));
        let f = flow(
            "    method: POST\n    url: https://x.example/m\n    body_type: text\n    body: \"hi <<v>>\"\n    content_type: text/csv\n",
        );
        let req = prepare_with(&f, json!({"v": "there", "n": 1}), &Redactor::new()).unwrap();
        assert_eq!(req.body.as_deref(), Some("hi there"));
        assert_eq!(req.headers.get("Content-Type"), Some("text/csv"));
    }

    #[test]
    fn whole_body_expressions_and_object_values_are_encoded_as_trees() {
        let f = flow(
            "    method: POST\n    url: https://x.example/m\n    body_type: json\n    body: \"<<v>>\"\n",
        );
        let req =
            prepare_with(&f, json!({"v": {"a": [1, true]}, "n": 1}), &Redactor::new()).unwrap();
        assert_eq!(req.body.as_deref(), Some(r#"{"a":[1,true]}"#));
        let f = flow(
            "    method: POST\n    url: https://x.example/m\n    body_type: form\n    body:\n      metadata: <<v>>\n      n: <<n>>\n",
        );
        let req = prepare_with(
            &f,
            json!({"v": {"order": "A&1", "gift": false, "skip": null}, "n": 2}),
            &Redactor::new(),
        )
        .unwrap();
        assert_eq!(
            req.body.as_deref(),
            Some("metadata%5Border%5D=A%261&metadata%5Bgift%5D=false&n=2")
        );
        let f = flow(
            "    method: POST\n    url: https://x.example/m\n    body_type: form\n    body:\n      a: <<v>>\n",
        );
        assert!(prepare_with(&f, json!({"v": "x", "n": 1}), &Redactor::new()).is_ok());
    }

    #[test]
    fn header_values_with_line_breaks_fail_without_echoing_the_value() {
        let f = flow("    url: https://x.example/\n    headers:\n      X-Customer: \"<<v>>\"\n");
        for bad in ["a\r\nX-Evil: 1", "a\nb", "a\u{7f}", "a\u{0}"] {
            let e = prepare_with(&f, json!({"v": bad, "n": 1}), &Redactor::new()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert!(e.message.contains("header `X-Customer`"), "{}", e.message);
            assert!(!e.message.contains("Evil"), "{}", e.message);
        }
        assert!(prepare_with(&f, json!({"v": "a\tb", "n": 1}), &Redactor::new()).is_ok());
    }

    #[test]
    fn path_values_are_encoded_and_query_and_auth_query_are_appended() {
        let f = flow(
            "    url: https://api.example.com/v1/sessions/<<v>>\n    query:\n      expand[]: line_items\n      q: <<v>>\n    auth: { type: query, name: api_key, value: \"<<secrets.KEY>>\" }\n",
        );
        let req = prepare_with(
            &f,
            json!({"v": "../x?y", "n": 1, "secrets": {"KEY": "k&1"}}),
            &Redactor::new(),
        )
        .unwrap();
        assert_eq!(
            req.url.as_str(),
            "https://api.example.com/v1/sessions/..%2Fx%3Fy?expand%5B%5D=line_items&q=..%2Fx%3Fy&api_key=k%261"
        );
        assert_eq!(req.credentials.query.as_deref(), Some("api_key"));
        let e = prepare_with(
            &f,
            json!({"v": "..", "n": 1, "secrets": {"KEY": "k"}}),
            &Redactor::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "url: `<<v>>` renders to `..` in the URL path, which would change which endpoint is called"
        );
    }

    #[test]
    fn basic_auth_registers_the_password_and_the_encoded_pair() {
        let f = flow(
            "    url: https://x.example/\n    auth: { type: basic, username: \"<<v>>\", password: \"<<secrets.KEY>>\" }\n",
        );
        let redactor = Redactor::new();
        let req = prepare_with(
            &f,
            json!({"v": "u", "n": 1, "secrets": {"KEY": "pw"}}),
            &redactor,
        )
        .unwrap();
        assert_eq!(req.headers.get("Authorization"), Some("Basic dTpwdw=="));
        assert_eq!(redactor.redact("Basic dTpwdw=="), "Basic [redacted]");
    }

    #[test]
    fn idempotency_keys_are_checked() {
        let f = flow("    method: POST\n    url: https://x.example/\n    idempotency: \"<<v>>\"\n");
        let ok = prepare_with(&f, json!({"v": "order-1", "n": 1}), &Redactor::new()).unwrap();
        assert_eq!(ok.headers.get("Idempotency-Key"), Some("order-1"));
        assert!(ok.replay_safe());
        for bad in ["", "a\nb", &"k".repeat(256)] {
            let e = prepare_with(&f, json!({"v": bad, "n": 1}), &Redactor::new()).unwrap_err();
            assert!(
                e.message.starts_with("the idempotency key"),
                "{}",
                e.message
            );
        }
        let long = auto_key(&"r".repeat(300), "s");
        assert_eq!(long.len(), MAX_IDEMPOTENCY_KEY);
        assert_eq!(long, auto_key(&"r".repeat(300), "s"));
        assert_ne!(long, auto_key(&"r".repeat(301), "s"));
        let f = flow("    method: POST\n    url: https://x.example/\n");
        assert!(
            !prepare_with(&f, json!({"n": 1}), &Redactor::new())
                .unwrap()
                .replay_safe()
        );
    }
}
