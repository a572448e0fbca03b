//! Values keep what was written (issue 9, A): a scalar in the flow arrives as written in forms,
//! queries, headers, messages and `set` variables; numbers keep their form in JSON bodies;
//! JSONPaths map singular queries to a value and others to a list; query lists repeat; keys
//! render; `\<<` writes a literal `<<`; non-ASCII header values are refused before sending.
//! Each test reads the exact bytes a loopback server received.

use crate::raw_request::{RawRequest, decode_pairs};
use crate::recorder::{Recorder, json_ok};
use crate::support::{Scratch, run};
use serde_json::{Value, json};

/// Runs `flow` (with `{base}` replaced by the server's URL) with `args`, JSON output.
fn run_flow(server: &Recorder, flow: &str, args: &[&str]) -> crate::support::Run {
    let dir = Scratch::new();
    let path = dir.write("flow.yaml", &flow.replace("{base}", &server.url("")));
    let mut all = vec!["run", path.to_str().unwrap(), "--output", "json"];
    all.extend_from_slice(args);
    run(dir.path(), &all)
}

/// What the server has received so far, taken apart.
fn requests(server: &Recorder) -> Vec<RawRequest> {
    server
        .requests()
        .iter()
        .map(|r| RawRequest::parse(r))
        .collect()
}

fn messages(out: &Value) -> Vec<String> {
    out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

const WRITTEN: &str = r#"flow: written
steps:
  - id: keep
    type: set
    values:
      price: 19.90
      phone: +919000090000
      n: 50000
  - id: form
    type: http
    method: POST
    url: "{base}/form"
    headers:
      X-Phone: +919000090000
      X-Price: 19.90
      X-Stored: <<price>>
    query:
      phone: +919000090000
      price: 19.90
      big: 12345678901234567890123
    body_type: form
    body:
      phone: +919000090000
      price: 19.90
      zero: 007
      flag: True
      e: 1e3
      big: 12345678901234567890123
      stored: <<price>>
      text: Rs <<price>> to <<phone>>
  - id: json
    type: http
    method: POST
    url: "{base}/json"
    body_type: json
    body:
      phone: +919000090000
      price: 19.90
      e: 1e3
      big: 12345678901234567890123
      n: 50000
      stored: <<price>>
      stored_n: <<n>>
      list: [0.10, -0, <<price>>]
  - id: say
    type: message
    text: Pay Rs <<price>> from <<phone>>; written +919000090000 19.90
outputs:
  price: <<price>>
  phone: <<phone>>
"#;

#[test]
fn a_scalar_keeps_its_written_text_in_every_place_it_is_sent() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let out = run_flow(&server, WRITTEN, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = requests(&server);
    assert_eq!(reqs.len(), 2);
    let form = &reqs[0];
    assert_eq!(
        form.target(),
        "/form?phone=%2B919000090000&price=19.90&big=12345678901234567890123"
    );
    assert_eq!(form.header("x-phone"), Some("+919000090000"));
    assert_eq!(form.header("x-price"), Some("19.90"));
    assert_eq!(form.header("x-stored"), Some("19.90"));
    assert_eq!(
        form.body,
        "phone=%2B919000090000&price=19.90&zero=007&flag=True&e=1e3\
         &big=12345678901234567890123&stored=19.90&text=Rs+19.90+to+%2B919000090000"
    );
    // JSON: numbers exactly as written, also once stored in a variable; text that only looks
    // like a number is text.
    assert_eq!(
        reqs[1].body,
        r#"{"phone":"+919000090000","price":19.90,"e":1e3,"big":12345678901234567890123,"n":50000,"stored":19.90,"stored_n":50000,"list":[0.10,-0,19.90]}"#
    );
    let outcome = out.json();
    assert_eq!(
        messages(&outcome),
        ["Pay Rs 19.90 from +919000090000; written +919000090000 19.90"]
    );
    assert_eq!(
        outcome["outputs"],
        json!({"price": serde_json::from_str::<serde_json::Value>("19.90").unwrap(), "phone": "+919000090000"})
    );
}

#[test]
fn numbers_from_responses_inputs_and_vars_files_keep_their_digits_and_form() {
    let server = Recorder::start(vec![
        json_ok(r#"{"amount": 12345678901234567890123, "price": 19.90, "e": 1e3, "tiny": 1e-400}"#),
        json_ok("{}"),
        json_ok("{}"),
    ]);
    let flow = r#"flow: numbers
inputs:
  ratio: { type: number }
  fee: { type: number }
steps:
  - id: read
    type: http
    method: GET
    url: "{base}/order"
    response: { map: { amount: $.amount, price: $.price, e: $.e, tiny: $.tiny } }
  - id: json
    type: http
    method: POST
    url: "{base}/json"
    body_type: json
    body: { amount: <<amount>>, price: <<price>>, e: <<e>>, tiny: <<tiny>>, ratio: <<ratio>>, fee: <<fee>> }
  - id: form
    type: http
    method: POST
    url: "{base}/form"
    body_type: form
    body: { amount: <<amount>>, price: <<price>>, ratio: <<ratio>>, fee: <<fee>> }
outputs:
  amount: <<amount>>
  ratio: <<ratio>>
"#;
    let dir = Scratch::new();
    dir.write("vars.yaml", "fee: 0.30\n");
    let vars = dir.path().join("vars.yaml");
    let out = run_flow(
        &server,
        flow,
        &["--var", "ratio=2.50e1", "--vars", vars.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = requests(&server);
    assert_eq!(
        reqs[1].body,
        // Every digit is kept; serde_json spells an exponent with its sign (`1e3` is `1e+3`).
        r#"{"amount":12345678901234567890123,"price":19.90,"e":1e+3,"tiny":1e-400,"ratio":2.50e+1,"fee":0.30}"#
    );
    assert_eq!(
        reqs[2].body,
        "amount=12345678901234567890123&price=19.90&ratio=2.50e%2B1&fee=0.30"
    );
    assert!(
        out.stdout.contains(r#""amount": 12345678901234567890123"#)
            && out.stdout.contains(r#""ratio": 2.50e+1"#),
        "{}",
        out.stdout
    );
}

#[test]
fn check_warns_where_a_literal_is_ambiguous_and_only_there() {
    let dir = Scratch::new();
    let path = dir.write(
        "ambiguous.yaml",
        "flow: ambiguous\nsteps:\n  - id: keep\n    type: set\n    values:\n      price: 19.90\n      phone: +919000090000\n      quoted: \"+919000090000\"\n      n: 50000\n  - id: post\n    type: http\n    method: POST\n    url: https://api.example.com/x\n    query: { phone: +919000090000 }\n    body_type: form\n    body: { phone: +919000090000, price: 19.90, ok: yes }\n",
    );
    assert!(path.exists());
    let out = run(dir.path(), &["check", "ambiguous.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr,
        r#"warning[W002]: `+919000090000` is the text "+919000090000" here
 --> ambiguous.yaml:7:14
  |
7 |       phone: +919000090000
  |              ------------- other YAML readers take this as the number 919000090000
  |
  = help: quote it (`"+919000090000"`) to say it is text; write `919000090000` for a number

warning: ambiguous.yaml: 1 warning
"#
    );
}

#[test]
fn a_non_singular_jsonpath_always_maps_to_a_list_and_a_singular_one_to_a_value() {
    let server = Recorder::start(vec![
        json_ok(r#"{"id": "o_1", "items": [{"sku": "A1"}]}"#),
        json_ok(r#"{"id": "o_2", "items": []}"#),
        json_ok(r#"{"id": "o_3"}"#),
    ]);
    let flow = r#"flow: paths
steps:
  - id: one
    type: http
    method: POST
    url: "{base}/orders"
    response: { map: { skus: "$.items[*].sku", order: $.id, first: "$.items[0].sku" } }
  - id: say_one
    type: message
    text: "<<order>>: <<len skus>> item(s) <<json skus>>, first <<first>>"
  - id: none
    type: http
    method: POST
    url: "{base}/orders"
    response: { map: { none_skus: "$.items[*].sku", all_ids: $..id } }
  - id: say_none
    type: message
    text: "<<len none_skus>> item(s) <<json none_skus>>, ids <<json all_ids>>"
  - id: missing
    type: http
    method: POST
    url: "{base}/orders"
    response: { map: { url: $.url } }
"#;
    let out = run_flow(&server, flow, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let outcome = out.json();
    assert_eq!(
        messages(&outcome),
        [
            r#"o_1: 1 item(s) ["A1"], first A1"#,
            r#"0 item(s) [], ids ["o_2"]"#
        ]
    );
    let step = crate::support::step_record(&outcome, "missing");
    assert_eq!(step["status"], "failed");
    assert_eq!(
        step["error"]["message"],
        "response.map `url`: `$.url` matched nothing in the response (top-level keys: id); the request succeeded (HTTP 200) and took effect; only reading its response failed"
    );
    assert_eq!(requests(&server).len(), 3);
}

#[test]
fn a_list_in_query_is_sent_as_repeated_parameters_or_the_chosen_style() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let flow = r#"flow: lists
steps:
  - id: tags
    type: set
    values: { tags: [financial, investment] }
  - id: repeat
    type: http
    url: "{base}/r"
    query: { tags: <<tags>>, written: [a, 2, 19.90], skipped: null, page: 1 }
  - id: brackets
    type: http
    url: "{base}/b"
    query_lists: brackets
    query: { tags: <<tags>>, written: [a, b] }
  - id: comma
    type: http
    url: "{base}/c"
    query_lists: comma
    query: { tags: <<tags>>, written: [a, "b,c"] }
"#;
    let out = run_flow(&server, flow, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let targets: Vec<String> = requests(&server)
        .iter()
        .map(|r| r.target().to_owned())
        .collect();
    assert_eq!(
        targets,
        [
            "/r?tags=financial&tags=investment&written=a&written=2&written=19.90&page=1",
            "/b?tags%5B%5D=financial&tags%5B%5D=investment&written%5B%5D=a&written%5B%5D=b",
            // Literal commas between items; a comma inside an item is encoded, so the server
            // reads two items, not three.
            "/c?tags=financial,investment&written=a,b%2Cc",
        ]
    );
}

#[test]
fn templates_in_keys_render_in_json_bodies_forms_and_queries() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let flow = r#"flow: keys
inputs:
  field: { type: string }
steps:
  - id: form
    type: http
    method: POST
    url: "{base}/f"
    query: { "filter[<<field>>]": open }
    body_type: form
    body:
      metadata[<<field>>]: A-1
      metadata:
        "<<field>>_note": nested
  - id: json
    type: http
    method: POST
    url: "{base}/j"
    body_type: json
    body: { "<<field>>": 1, fixed: { "k_<<field>>": true } }
"#;
    let out = run_flow(&server, flow, &["--var", "field=order_id"]);
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = requests(&server);
    assert_eq!(reqs[0].target(), "/f?filter%5Border_id%5D=open");
    assert_eq!(
        decode_pairs(&reqs[0].body),
        [
            ("metadata[order_id]".to_owned(), "A-1".to_owned()),
            ("metadata[order_id_note]".to_owned(), "nested".to_owned())
        ]
    );
    assert_eq!(
        reqs[1].body,
        r#"{"order_id":1,"fixed":{"k_order_id":true}}"#
    );
}

#[test]
fn a_key_that_renders_to_a_key_already_there_fails_before_sending() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let flow = r#"flow: clash
inputs:
  field: { type: string }
steps:
  - id: post
    type: http
    method: POST
    url: "{base}/j"
    body_type: json
    body:
      amount: 1
      "<<field>>": 2
"#;
    let dir = Scratch::new();
    let path = dir.write("clash.yaml", &flow.replace("{base}", &server.url("")));
    assert!(path.exists());
    let out = run(dir.path(), &["run", "clash.yaml", "--var", "field=amount"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(requests(&server).is_empty());
    assert!(
        out.stdout.contains(
            "error[invalid]: the key `<<field>>` renders to `amount`, a key this mapping already has
  --> clash.yaml:12:7
   |
12 |       \"<<field>>\": 2
   |       ^^^^^^^^^^^"
        ),
        "{out:?}"
    );
}

#[test]
fn a_backslash_writes_a_literal_open_in_messages_and_bodies() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let flow = r#"flow: escape
steps:
  - id: code
    type: http
    method: POST
    url: "{base}/t"
    body_type: text
    body: |
      std::cout \<< "Price \<< 500 >> only" \<< std::endl;
  - id: say
    type: message
    text: "Price \\<< 500 >> only"
  - id: backslash
    type: message
    text: Price \<< 500 >> only, a \\\<<b stays
"#;
    let out = run_flow(&server, flow, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        requests(&server)[0].body,
        "std::cout << \"Price << 500 >> only\" << std::endl;\n"
    );
    assert_eq!(
        messages(&out.json()),
        [
            "Price << 500 >> only",
            r"Price << 500 >> only, a \<<b stays"
        ]
    );
}

#[test]
fn a_header_value_with_non_ascii_text_is_refused_before_sending() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let flow = r#"flow: region
inputs:
  region: { type: string }
steps:
  - id: post
    type: http
    url: "{base}/r"
    headers:
      X-Region: <<region>>
    query: { region: <<region>> }
"#;
    let dir = Scratch::new();
    dir.write("region.yaml", &flow.replace("{base}", &server.url("")));
    let out = run(
        dir.path(),
        &[
            "run",
            "region.yaml",
            "--var",
            "region=Île-de-France",
            "--run-id",
            "r1",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(requests(&server).is_empty(), "nothing may be sent");
    assert_eq!(
        crate::support::report(&out),
        "flow region (run r1)
  FAIL post (http) [_ ms]
error[invalid]: the value (header `X-Region`) contains non-ASCII text after rendering (character 1 is U+00CE); header values must be ASCII
 --> region.yaml:9:17
  |
9 |       X-Region: <<region>>
  |                 ^^^^^^^^^^
  |
  = note: cause: HTTP sends header values as bytes, and servers read UTF-8 text as Latin-1 or refuse it
  = help: percent-encode the value, or use RFC 8187's `UTF-8''` form where the API takes it (`filename*=UTF-8''%C3%8Ele.pdf`); text for the API to read can go in the body or `query:`, which are encoded for you

failed
"
    );
    // The same text in the query is encoded, and arrives.
    let ok = flow.replace("    headers:\n      X-Region: <<region>>\n", "");
    let path = dir.write("region-query.yaml", &ok.replace("{base}", &server.url("")));
    let out = run(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--var",
            "region=Île-de-France",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(requests(&server)[0].query(), "region=%C3%8Ele-de-France");
}

/// A small deterministic generator (xorshift), so that a failure names a reproducible scalar.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// Scalars of the kinds people paste into flows: phone numbers, prices, ids, codes, words,
/// with signs, zeros, exponents, separators and non-ASCII text.
fn generated_scalars(count: usize) -> Vec<String> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let starts = [
        "+", "-", "0", "00", "1", "9", "+91", "0.", ".", "A-", "ord_", "₹", "é", "x", "e", "1e",
        "-0", "19.", "0x", "0o", "1_", "Île", "yes", "True", "NULL", "~x", "%", "12:",
    ];
    let parts = [
        "0",
        "1",
        "5",
        "9",
        "00",
        "90",
        "99",
        "123",
        "4567",
        "9000090000",
        ".",
        ".0",
        ".90",
        "e3",
        "E-2",
        "e+7",
        "_000",
        "-",
        "+",
        "/",
        ",",
        ":30",
        "ab",
        "Z",
        "₹",
        " ",
        "&",
        "=",
        "?",
        "#",
        "%20",
        "'",
        "\"",
        "日本",
    ];
    let mut out = Vec::new();
    while out.len() < count {
        let mut s = g.pick(&starts).to_owned();
        for _ in 0..(g.next() % 4) {
            s.push_str(g.pick(&parts));
        }
        out.push(s);
    }
    out
}

/// Whether `text`, written plain as a mapping value, is read back by flowstep's YAML reader as
/// exactly that text and not as null (the cases the property covers).
fn survives_plain(text: &str) -> bool {
    let file = flowstep_spec::SourceFile::new("p.yaml", format!("k: {text}\n"));
    let Ok(root) = flowstep_spec::yaml::parse(&file) else {
        return false;
    };
    let Some([(_, v)]) = root.as_map() else {
        return false;
    };
    v.as_str() == Some(text)
        && !v.is_null()
        && matches!(
            v.kind,
            flowstep_spec::yaml::NodeKind::Scalar(_, flowstep_spec::yaml::Style::Plain)
        )
        && !text.contains("<<")
}

#[test]
fn any_scalar_written_in_a_flow_arrives_byte_for_byte_in_form_query_and_message_text() {
    let scalars: Vec<String> = generated_scalars(600)
        .into_iter()
        .filter(|s| survives_plain(s))
        .take(300)
        .collect();
    assert!(
        scalars.len() >= 200,
        "only {} scalars survived",
        scalars.len()
    );
    let server = Recorder::start(vec![json_ok("{}")]);
    let mut flow =
        String::from("flow: property\nsteps:\n  - id: keep\n    type: set\n    values:\n");
    for (i, s) in scalars.iter().enumerate() {
        flow.push_str(&format!("      v{i}: {s}\n"));
    }
    flow.push_str(
        "  - id: post\n    type: http\n    method: POST\n    url: \"{base}/p\"\n    query:\n",
    );
    for (i, s) in scalars.iter().enumerate() {
        flow.push_str(&format!("      q{i}: {s}\n"));
    }
    flow.push_str("    body_type: form\n    body:\n");
    for (i, s) in scalars.iter().enumerate() {
        flow.push_str(&format!("      f{i}: {s}\n      s{i}: <<v{i}>>\n"));
    }
    for (i, s) in scalars.iter().enumerate() {
        flow.push_str(&format!(
            "  - id: m{i}\n    type: message\n    text: {s}\n  - id: t{i}\n    type: message\n    text: <<v{i}>>\n"
        ));
    }
    let out = run_flow(&server, &flow, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let req = &requests(&server)[0];
    let query = decode_pairs(req.query());
    let form = decode_pairs(&req.body);
    let texts = messages(&out.json());
    for (i, s) in scalars.iter().enumerate() {
        assert_eq!(
            query[i],
            (format!("q{i}"), s.clone()),
            "query, scalar {s:?}"
        );
        assert_eq!(
            form[2 * i],
            (format!("f{i}"), s.clone()),
            "form, scalar {s:?}"
        );
        assert_eq!(
            form[2 * i + 1],
            (format!("s{i}"), s.clone()),
            "form through set, scalar {s:?}"
        );
        assert_eq!(&texts[2 * i], s, "message, scalar {s:?}");
        assert_eq!(&texts[2 * i + 1], s, "message through set, scalar {s:?}");
    }
}
