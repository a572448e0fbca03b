//! `response.map` beyond the JSON body: a header (Stripe's `Request-Id` from the sandbox), the
//! status, the whole text of a non-JSON body, a regex over an HTML page, and the default that
//! stands in for a value the response does not have; bad sources are refused at check time
//! at their line and column.

use crate::raw_http::{RawServer, reply};
use crate::support::{Scratch, TestSandbox, run, run_with_key, step_record};

fn texts(v: &serde_json::Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn stripe_request_id_status_and_a_default_are_mapped_from_the_sandbox() {
    let sandbox = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "ids.yaml",
        r#"flow: ids
secrets: [STRIPE_SECRET_KEY]
steps:
  - id: create
    type: http
    method: POST
    url: https://api.stripe.com/v1/checkout/sessions
    auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
    body_type: form
    body:
      mode: payment
      line_items[0][price_data][currency]: inr
      line_items[0][price_data][product_data][name]: Tea
      line_items[0][price_data][unit_amount]: 5000
      line_items[0][quantity]: 1
      success_url: https://example.com/ok
    response:
      map:
        request_id: header:request-ID
        code: status
        session: $.id
        coupon: { path: $.discount.coupon, default: none }
        note: { header: X-Not-Sent, default: null }
  - id: tell
    type: message
    text: "<<code>> <<request_id>> <<session>> <<coupon>> <<json note>>"
"#,
    );
    let out = run_with_key(
        dir.path(),
        "sk_test_51HmapHeadersMapHeaders4242",
        &[
            "run",
            "ids.yaml",
            "--route",
            &sandbox.route(),
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let response = &step_record(&v, "create")["response"];
    let id = response["headers"]["request-id"].as_str().unwrap();
    assert!(id.starts_with("req_"), "{id}");
    let session = response["body"]["id"].as_str().unwrap();
    assert!(response["body"].get("discount").is_none());
    assert_eq!(
        texts(&v),
        [format!("200 {id} {session} none null")],
        "the variables hold the sandbox's own Request-Id and session id"
    );
}

#[test]
fn a_text_body_maps_whole_and_an_html_page_by_regex() {
    let server = RawServer::start(vec![
        reply("200 OK", &[("Content-Type", "text/plain")], "OK 7d1f-ab\n"),
        reply(
            "201 Created",
            &[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Location", "/orders/A-1042"),
            ],
            "<html><head><title>Order A-1042 received</title></head><body>Total: Rs 500.00</body></html>",
        ),
    ]);
    let dir = Scratch::new();
    dir.write(
        "text.yaml",
        &format!(
            r#"flow: text
steps:
  - id: ping
    type: http
    url: {base}/ping
    response: {{ map: {{ reply: $ }} }}
  - id: order
    type: http
    method: POST
    url: {base}/orders
    response:
      map:
        title: 'regex:<title>(.*?)</title>'
        total: 'regex:Rs [0-9.]+'
        where: header:location
        missing: {{ regex: 'Coupon: (\w+)', default: none }}
  - id: tell
    type: message
    text: "<<json reply>> | <<title>> | <<total>> | <<where>> | <<missing>>"
"#,
            base = server.url()
        ),
    );
    let out = run(dir.path(), &["run", "text.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        texts(&out.json()),
        [r#""OK 7d1f-ab\n" | Order A-1042 received | Rs 500.00 | /orders/A-1042 | none"#]
    );
}

#[test]
fn a_value_the_response_lacks_fails_without_a_default_and_says_the_request_took_effect() {
    let server = RawServer::start(vec![reply(
        "200 OK",
        &[("Content-Type", "text/html")],
        "<p>no title here</p>",
    )]);
    let dir = Scratch::new();
    dir.write(
        "lack.yaml",
        &format!(
            "flow: lack\nsteps:\n  - id: page\n    type: http\n    url: {}/p\n    response: {{ map: {{ title: 'regex:<title>(.*)</title>' }} }}\n",
            server.url()
        ),
    );
    let out = run(dir.path(), &["run", "lack.yaml", "--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        step_record(&out.json(), "page")["error"]["message"],
        "response.map `title`: `<title>(.*)</title>` matched nothing in the response body (20 bytes); the request succeeded (HTTP 200) and took effect; only reading its response failed"
    );
}

#[test]
fn bad_sources_are_refused_at_check_time_at_their_place() {
    let dir = Scratch::new();
    dir.write(
        "bad.yaml",
        "flow: bad\nsteps:\n  - id: s\n    type: http\n    url: https://api.example.com/x\n    response:\n      map:\n        a: 'regex:(unclosed'\n        b: headers:Request-Id\n        c: { path: $.c, header: Location }\n",
    );
    let out = run(dir.path(), &["check", "bad.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error[E007]: invalid regex `(unclosed`
 --> bad.yaml:8:12
  |
8 |         a: 'regex:(unclosed'
  |            ^^^^^^^^^^^^^^^^^ unclosed group
  |
  = help: regexes use Rust's `regex` syntax (no look-around or back-references); the first group `( )` is the value: `regex:<title>(.*?)</title>`

error[E010]: unknown response source `headers:`
 --> bad.yaml:9:12
  |
9 |         b: headers:Request-Id
  |            ^^^^^^^^^^^^^^^^^^
  |
  = help: did you mean `header:`? a mapping reads `$.path` (the JSON body; `$` alone is the whole body, as text when it is not JSON), `header:NAME`, `status` or `regex:PATTERN` (over the body text)

error[E010]: `response.map.c` has more than one of `path`, `header` and `regex`
  --> bad.yaml:10:25
   |
10 |         c: { path: $.c, header: Location }
   |                         ^^^^^^
   |
   = help: a variable reads one place; map another variable for the other

error: could not compile bad.yaml: 3 errors
"
    );
}

#[test]
fn a_dry_run_shows_a_later_step_reading_the_status_headers_or_body_as_depending_on_the_response() {
    let dir = Scratch::new();
    let flow = dir.write(
        "dr.yaml",
        "flow: dr
steps:
  - id: a
    type: http
    method: GET
    url: https://api.example.com/x
  - id: b
    type: message
    when: <<eq steps.a.http_status 200>>
    text: \"status <<steps.a.http_status>>, type <<steps.a.headers.content-type>>, a <<steps.a.status>>\"
",
    );
    let out = run(dir.path(), &["run", flow.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert!(
        out.stdout.contains(
            "step b (message): runs only if its `when:` holds, which depends on the response of a\n  \
             message (not sent): status <http_status from a>, type <steps.a.headers.content-type: \
             depends on the response of a>, a succeeded\n"
        ),
        "{}",
        out.stdout
    );
}
