//! Checks that are the same wherever a mistake is written, through the real binary: `{{ }}`
//! templates are flagged, response headers are readable, outputs that cannot be rendered fail
//! the run, vars files are typed like defaults and `--var`, and every file read is bounded.
//! The check-time errors themselves are pinned in the bad-flow corpus (`diagnostics.rs`).

use crate::support::{Scratch, TestSandbox, run, run_with_key, step_record};

#[test]
fn double_braces_are_a_warning_and_the_flow_still_runs() {
    let dir = Scratch::new();
    dir.write(
        "hello.yaml",
        "flow: hello\ninputs:\n  name: { type: string }\nsteps:\n  - id: greet\n    type: message\n    text: \"Hi {{name}}, your code is {{1}}\"\n",
    );
    let out = run(dir.path(), &["check", "hello.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr,
        "warning[W003]: `{{name}}` is sent as written: flowstep templates are written `<< >>`
 --> hello.yaml:7:15
  |
7 |     text: \"Hi {{name}}, your code is {{1}}\"
  |               --------
  |
  = help: write `<<name>>` to read a value; leave the braces if they are meant as literal text

warning: hello.yaml: 1 warning
"
    );
    assert_eq!(out.stdout, "hello.yaml: ok\n");
    // A preset has no file of the user's to name.
    let out = run(dir.path(), &["check", "stripe-checkout"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "stripe-checkout (preset): ok\n"),
        "{out:?}"
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "hello.yaml",
            "--var",
            "name=Asha",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.json()["messages"][0]["text"],
        "Hi {{name}}, your code is {{1}}"
    );
}

#[test]
fn response_headers_are_readable_in_any_case() {
    let sandbox = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(
        "headers.yaml",
        r#"flow: headers
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
  - id: tell
    type: message
    text: "<<steps.create.http_status>> <<steps.create.headers.Request-Id>> <<upper steps.create.headers.request-ID>>"
"#,
    );
    let out = run_with_key(
        dir.path(),
        "sk_test_51HheadersHeadersHeaders4242",
        &[
            "run",
            "headers.yaml",
            "--route",
            &sandbox.route(),
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let id = step_record(&v, "create")["response"]["headers"]["request-id"]
        .as_str()
        .expect("the sandbox sends Request-Id")
        .to_owned();
    assert!(id.starts_with("req_"), "{id}");
    assert_eq!(
        v["messages"][0]["text"],
        format!("200 {id} {}", id.to_uppercase())
    );
}

#[test]
fn an_output_that_cannot_be_rendered_fails_the_run_with_the_reason() {
    let dir = Scratch::new();
    dir.write(
        "price.yaml",
        "flow: price\ninputs:\n  amount: { type: decimal }\nsteps:\n  - id: note\n    type: message\n    text: \"Rs <<amount>>\"\noutputs:\n  paise: <<minor_units amount \"inr\">>\n",
    );
    let out = run(dir.path(), &["run", "price.yaml", "--var", "amount=19.999"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.ends_with(
            "error[run]: output `paise` could not be rendered: `<<minor_units amount \"inr\">>` failed: `minor_units`: 19.999 INR has more than 2 decimals; it would have to be rounded
 --> price.yaml:9:10
  |
9 |   paise: <<minor_units amount \"inr\">>
  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |

failed
"
        ),
        "{}",
        out.stdout
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "price.yaml",
            "--var",
            "amount=19.999",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["outputs"], serde_json::json!({}));
    assert_eq!(
        v["error_at"],
        serde_json::json!({"file": "price.yaml", "line": 9, "column": 10})
    );
    // With an amount it can convert, the same flow succeeds with the output.
    let out = run(
        dir.path(),
        &[
            "run",
            "price.yaml",
            "--var",
            "amount=19.99",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["outputs"]["paise"], 1999);
    // A dry run shows the output as written rather than failing on placeholders.
    let out = run(
        dir.path(),
        &[
            "run",
            "price.yaml",
            "--var",
            "amount=19.999",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.json()["outputs"]["paise"],
        "<<minor_units amount \"inr\">>"
    );
}

/// A flow with an integer, a string, a boolean and a decimal input, for the typing rule.
const ORDER: &str = "flow: order
inputs:
  quantity: { type: integer, minimum: 1 }
  phone: { type: string }
  gift: { type: boolean, default: \"false\" }
  price: { type: decimal, default: 19.90 }
steps:
  - id: say
    type: message
    text: \"<<quantity>> for <<phone>>, gift <<gift>>, Rs <<price>>\"
";

#[test]
fn vars_files_defaults_and_var_read_values_by_one_rule() {
    let dir = Scratch::new();
    dir.write("order.yaml", ORDER);
    // Quoted or not, YAML or JSON or --var: the text is read by the input's type.
    for (file, text) in [
        ("quoted.yaml", "quantity: \"2\"\nphone: +919000090000\n"),
        ("plain.yaml", "quantity: 2\nphone: \"+919000090000\"\n"),
        (
            "vars.json",
            "{\"quantity\": \"2\", \"phone\": \"+919000090000\"}",
        ),
    ] {
        dir.write(file, text);
        let out = run(
            dir.path(),
            &["run", "order.yaml", "--vars", file, "--output", "json"],
        );
        assert_eq!(out.code, 0, "{file}: {out:?}");
        let v = out.json();
        assert_eq!(v["variables"]["quantity"], 2, "{file}");
        assert_eq!(v["variables"]["phone"], "+919000090000", "{file}");
        assert_eq!(v["variables"]["gift"], false, "{file}");
        assert_eq!(v["variables"]["price"], "19.90", "{file}");
        assert_eq!(
            v["messages"][0]["text"],
            "2 for +919000090000, gift false, Rs 19.90"
        );
    }
    let out = run(
        dir.path(),
        &[
            "run",
            "order.yaml",
            "--var",
            "quantity=2",
            "--var",
            "phone=+919000090000",
            "--var",
            "gift=true",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["variables"]["quantity"], 2);
    assert_eq!(out.json()["variables"]["gift"], true);
}

#[test]
fn vars_file_mistakes_are_drawn_at_their_line_and_column() {
    let dir = Scratch::new();
    dir.write("order.yaml", ORDER);
    dir.write(
        "bad.yaml",
        "quantity: two\nphon: \"+919000090000\"\nphone: [1]\n",
    );
    let out = run(dir.path(), &["run", "order.yaml", "--vars", "bad.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error[E011]: invalid input quantity: \"two\" is not an integer
 --> bad.yaml:1:11
  |
1 | quantity: two
  |           ^^^
  |

error[E002]: unknown input `phon`
 --> bad.yaml:2:1
  |
2 | phon: \"+919000090000\"
  | ^^^^
  |
  = help: did you mean `phone`?

error[E011]: invalid input phone: a list is not a string
 --> bad.yaml:3:8
  |
3 | phone: [1]
  |        ^^
  |

help: set inputs with --var NAME=VALUE; order.yaml declares them under `inputs:` (from line 3)
"
    );
    // `--var` wins over the file, so the file's value for that input is not read at all.
    let out = run(
        dir.path(),
        &[
            "run",
            "order.yaml",
            "--vars",
            "bad.yaml",
            "--var",
            "quantity=3",
            "--var",
            "phone=+91",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.stderr.contains("quantity"), "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown input `phon`"),
        "{}",
        out.stderr
    );
    // A tab in a vars file is found at the tab, like in a flow.
    dir.write("tab.yaml", "quantity: 3\n\tphone: x\n");
    let out = run(dir.path(), &["run", "order.yaml", "--vars", "tab.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error[E001]: a tab is used for indentation
 --> tab.yaml:2:1
  |
2 |     phone: x
  | ^ tab
  |
  = help: YAML forbids tabs for indentation: indent with spaces

"
    );
}

#[test]
fn every_file_read_must_be_a_small_regular_file() {
    let dir = Scratch::new();
    dir.write("order.yaml", ORDER);
    let started = std::time::Instant::now();
    let out = run(dir.path(), &["check", "/dev/urandom"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: cannot read flow file /dev/urandom: it is not a regular file (a device or a pipe, which could be read forever)\n"
    );
    let out = run(dir.path(), &["run", "order.yaml", "--vars", "/dev/zero"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: cannot read vars file /dev/zero: it is not a regular file (a device or a pipe, which could be read forever)\n"
    );
    // A named pipe no one writes to would block a plain read.
    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    dir.write(
        "uses.yaml",
        "flow: uses\nsteps:\n  - id: sub\n    type: flow\n    use: ./pipe.yaml\n",
    );
    let out = run(dir.path(), &["check", "uses.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with("error[E013]: cannot use flow `./pipe.yaml`: cannot read flow file pipe.yaml: it is not a regular file (a device or a pipe, which could be read forever)\n"),
        "{}",
        out.stderr
    );
    // Over the size cap: refused without reading it all.
    let big = format!("flow: big\n# {}\n", "x".repeat(1024 * 1024));
    dir.write("big.yaml", &big);
    let out = run(dir.path(), &["check", "big.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: cannot read flow file big.yaml: it is larger than 1024 KiB, the most a file may be\n"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "refusing must be quick"
    );
}

#[test]
fn a_used_flow_must_stay_in_the_using_flow_s_directory() {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("flows/shared")).unwrap();
    dir.write(
        "flows/shared/hello.yaml",
        "flow: hello\nsteps:\n  - id: hi\n    type: message\n    text: hi\n",
    );
    dir.write(
        "secret.yaml",
        "flow: secret\nsteps:\n  - id: s\n    type: message\n    text: s\n",
    );
    let check = |uses: &str| {
        dir.write(
            "flows/main.yaml",
            &format!("flow: main\nsteps:\n  - id: sub\n    type: flow\n    use: {uses}\n"),
        );
        run(dir.path(), &["check", "flows/main.yaml"])
    };
    let out = check("./shared/hello.yaml");
    assert_eq!(out.code, 0, "{out:?}");
    for uses in [
        "../secret.yaml",
        "shared/../../secret.yaml",
        "/etc/hostname.yaml",
    ] {
        let out = check(uses);
        assert_eq!(out.code, 2, "{uses}: {out:?}");
        assert!(
            out.stderr.starts_with(&format!(
                "error[E013]: cannot use flow `{uses}`: `{uses}` is outside the directory of the flow that uses it; a used flow must be in that directory or below it\n"
            )),
            "{uses}: {}",
            out.stderr
        );
    }
    // A link inside the directory to a file outside it is refused too.
    std::os::unix::fs::symlink(
        dir.path().join("secret.yaml"),
        dir.path().join("flows/link.yaml"),
    )
    .unwrap();
    let out = check("./link.yaml");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with("error[E013]: cannot use flow `./link.yaml`: `./link.yaml` is a link to a file outside the directory of the flow that uses it"),
        "{}",
        out.stderr
    );
}

#[test]
fn arithmetic_helpers_are_exact_in_a_run() {
    let dir = Scratch::new();
    dir.write(
        "cart.yaml",
        r#"flow: cart
inputs:
  price: { type: decimal }
  quantity: { type: integer }
  split: { type: integer }
steps:
  - id: items
    type: set
    values:
      lines: [{ sku: A1, price: "19.99" }, { sku: B2, price: 0.01 }]
  - id: total
    type: message
    text: '<<mul price quantity>> is <<minor_units (mul price quantity) "inr">> paise; lines <<sum lines "price">>; each <<div (mul price quantity) split 2>>; <<add 0.1 0.2>>; <<round (sub price "0.005") 2>>'
  - id: per_person
    type: message
    text: <<div 100 split>>
"#,
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "cart.yaml",
            "--var",
            "price=19.99",
            "--var",
            "quantity=3",
            "--var",
            "split=3",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(
        v["messages"][0]["text"],
        "59.97 is 5997 paise; lines 20.00; each 19.99; 0.3; 19.99"
    );
    // 100 / 3 has no exact decimal value: the step fails saying how to round it.
    assert_eq!(
        step_record(&v, "per_person")["error"]["message"],
        "`<<div 100 split>>` failed: `div`: 100 / 3 has no exact decimal value; give the decimals to round to, like `div A B 2`"
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "cart.yaml",
            "--var",
            "price=19.99",
            "--var",
            "quantity=3",
            "--var",
            "split=0",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        step_record(&out.json(), "total")["error"]["message"],
        "`<<div (mul price quantity) split 2>>` failed: `div`: division by zero (59.97 / 0)"
    );
}

#[test]
fn every_helper_is_listed_where_the_docs_list_helpers() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let templating = std::fs::read_to_string(docs.join("templating.md")).unwrap();
    let table = templating
        .split("## Helpers")
        .nth(1)
        .and_then(|t| t.split("\n\n").nth(1))
        .expect("the helper table");
    let format = std::fs::read_to_string(docs.join("flow-format.md")).unwrap();
    let list = format
        .split("Available: ")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .expect("the helper list");
    for h in flowstep_spec::helpers::HELPERS {
        let named = |text: &str| {
            text.contains(&format!("`{} ", h.name)) || text.contains(&format!("`{}`", h.name))
        };
        assert!(named(table), "`{}` is not in templating.md's table", h.name);
        assert!(named(list), "`{}` is not in flow-format.md's list", h.name);
    }
}
