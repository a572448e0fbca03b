//! Command-line surfaces not covered elsewhere: inputs from a vars file, Basic auth against the
//! sandbox, nested form bodies as they arrive, and `flowstep sandbox` serving until stopped.

use crate::support::{Scratch, TestSandbox, flowstep, preset_with, run, run_with_key};
use flowstep_sandbox::SANDBOX_SECRET_KEY;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

#[test]
fn inputs_come_from_a_vars_file_and_var_wins() {
    let dir = Scratch::new();
    dir.write(
        "inputs.yaml",
        "product_name: \"Green Tea\"\namount_paise: 50000\nsuccess_url: https://shop.example/thanks\n",
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--vars",
            "inputs.yaml",
            "--var",
            "amount_paise=75000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["variables"]["product_name"], "Green Tea");
    assert_eq!(v["variables"]["amount_paise"], 75000);
    dir.write("bad.json", "{\"amount_paise\": \"lots\"}");
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--vars",
            "bad.json",
            "--var",
            "product_name=Tea",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(
            "error[E011]: invalid input amount_paise: \"lots\" is not an integer\n --> bad.json:1:18\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn basic_auth_with_the_key_as_user_name_is_accepted_by_the_sandbox() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = preset_with(
        "auth: { type: bearer, token: \"<<secrets.STRIPE_SECRET_KEY>>\" }",
        "auth: { type: basic, username: \"<<secrets.STRIPE_SECRET_KEY>>\" }",
    );
    let path = dir.write("basic.yaml", &flow);
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            path.to_str().unwrap(),
            "--route",
            &sb.route(),
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let auth = sb.sandbox.requests()[0]
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .unwrap()
        .1
        .clone();
    assert!(auth.starts_with("Basic "), "{auth}");
    let recorded = out.json()["steps"][0]["request"]["headers"].to_string();
    assert!(
        !recorded.contains(&auth[6..]),
        "the Basic credentials leaked: {recorded}"
    );
}

#[test]
fn nested_form_bodies_arrive_as_bracket_keys() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = format!(
        r#"flow: nested
steps:
  - id: post
    type: http
    method: POST
    url: {}/__sandbox/echo
    body_type: form
    body:
      mode: payment
      line_items:
        - price_data: {{ currency: inr, unit_amount: 100, product_data: {{ name: "Chai & Co" }} }}
          quantity: 2
        - price: price_123
      metadata: {{ order_id: "A-1", clear_me: "" , dropped: null }}
      allow_promotion_codes: true
"#,
        sb.url()
    );
    let path = dir.write("nested.yaml", &flow);
    let out = run(
        dir.path(),
        &["run", path.to_str().unwrap(), "--output", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.json()["steps"][0]["response"]["body"]["form"],
        json!([
            ["mode", "payment"],
            ["line_items[0][price_data][currency]", "inr"],
            ["line_items[0][price_data][unit_amount]", "100"],
            ["line_items[0][price_data][product_data][name]", "Chai & Co"],
            ["line_items[0][quantity]", "2"],
            ["line_items[1][price]", "price_123"],
            ["metadata[order_id]", "A-1"],
            ["metadata[clear_me]", ""],
            ["allow_promotion_codes", "true"]
        ])
    );
}

#[test]
fn the_sandbox_command_serves_until_stopped() {
    let dir = Scratch::new();
    let mut child = flowstep(dir.path())
        .args(["sandbox", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("flowstep sandbox listening on http://127.0.0.1:"),
        "{first}"
    );
    let addr = first
        .split("http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /__sandbox/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    let stats: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(stats["sessions_created"], 0);
}
