//! `flowstep import curl`: a curl command becomes a flow with one http step whose request is
//! the same, with credentials as declared secrets whose values are never printed.

use crate::support::{Run, Scratch, flowstep, run};

/// The lines of step `id`'s block in a dry run's report: the request, headers, body and curl.
fn step_block(report: &str, id: &str) -> String {
    let start = report
        .find(&format!("step {id} (http)"))
        .unwrap_or_else(|| panic!("no step {id} in:\n{report}"));
    let rest = &report[start..];
    let end = rest[1..].find("\nstep ").map_or(rest.len(), |e| e + 1);
    rest[..end].trim_end().to_owned()
}

/// The `curl ...` line of a dry run's report.
fn curl_line(report: &str) -> String {
    report
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl line in:\n{report}"))
        .to_owned()
}

#[test]
fn importing_the_stripe_presets_dry_run_curl_gives_the_same_request() {
    let dir = Scratch::new();
    let vars = [
        "--var",
        "product_name=O'Brien's \"Tee\" & <<not_a_var>> 100%",
        "--var",
        "amount_paise=50000",
        "--var",
        "success_url=https://shop.example/thanks",
        "--var",
        "customer_email=a+b@example.com",
        "--var",
        "order_id=ord_42",
    ];
    let mut args = vec!["run", "stripe-checkout", "--dry-run", "--run-id", "r1"];
    args.extend(vars);
    let preset = run(dir.path(), &args);
    assert_eq!(preset.code, 0, "{}", preset.all_output());
    let curl = curl_line(&preset.stdout);

    let imported = run(
        dir.path(),
        &["import", "curl", "--id", "create_session", &curl],
    );
    assert_eq!(imported.code, 0, "{}", imported.all_output());
    assert!(
        imported
            .stdout
            .contains("secrets:\n  - name: STRIPE_SECRET_KEY\n    hosts: [api.stripe.com]\n"),
        "{}",
        imported.stdout
    );
    assert!(
        imported.stdout.contains("    idempotency: auto\n"),
        "{}",
        imported.stdout
    );
    let flow = dir.write("imported.yaml", &imported.stdout);

    let again = run(
        dir.path(),
        &["run", flow.to_str().unwrap(), "--dry-run", "--run-id", "r1"],
    );
    assert_eq!(again.code, 0, "{}", again.all_output());
    assert_eq!(
        step_block(&again.stdout, "create_session"),
        step_block(&preset.stdout, "create_session")
    );
    assert_eq!(curl_line(&again.stdout), curl);
}

fn import_with_key(key: &str, command: &str) -> Run {
    let dir = Scratch::new();
    // The key is also in the environment, as it would be on an author's machine.
    flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", key)
        .args(["import", "curl", command])
        .output()
        .expect("flowstep runs")
        .into()
}

#[test]
fn a_key_becomes_a_bound_secret_and_is_never_printed() {
    let key = "sk_test_51Hx9zQkT3yAbCdEfGhIjKl";
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{key}:"),
    );
    for command in [
        format!(
            "curl -X POST https://api.stripe.com/v1/checkout/sessions -u {key}: -d mode=payment \
             -d 'line_items[0][price]=price_1' -d 'line_items[0][quantity]=1'"
        ),
        format!(
            "curl https://api.stripe.com/v1/checkout/sessions -H 'Authorization: Bearer {key}' -d mode=payment"
        ),
        format!(
            "curl https://api.stripe.com/v1/checkout/sessions -H \"Authorization: Basic {basic}\" -d mode=payment"
        ),
    ] {
        let out = import_with_key(key, &command);
        assert_eq!(out.code, 0, "{}", out.all_output());
        assert!(!out.all_output().contains(key), "{}", out.all_output());
        assert!(!out.all_output().contains(&basic), "{}", out.all_output());
        assert!(
            out.stdout
                .contains("secrets:\n  - name: STRIPE_SECRET_KEY\n    hosts: [api.stripe.com]\n"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("<<secrets.STRIPE_SECRET_KEY>>"),
            "{}",
            out.stdout
        );
        // What it printed is a flow that checks clean.
        let dir = Scratch::new();
        let flow = dir.write("f.yaml", &out.stdout);
        let check = run(dir.path(), &["check", flow.to_str().unwrap()]);
        assert_eq!(check.code, 0, "{}", check.all_output());
    }

    // Malformed commands holding the key: refused without repeating it.
    for command in [
        format!("curl https://api.example.com/x -H 'Authorization Bearer {key}'"),
        format!("curl --frobnicate={key} https://api.example.com/x"),
        format!("curl https://api.example.com/x {key}"),
    ] {
        let out = import_with_key(key, &command);
        assert_eq!(out.code, 2, "{command}: {}", out.all_output());
        assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
        assert!(!out.all_output().contains(key), "{}", out.all_output());
        assert!(!out.all_output().contains("51Hx9z"), "{}", out.all_output());
    }

    // Also written in the data: refused, and still not printed.
    let out = import_with_key(
        key,
        &format!("curl https://api.stripe.com/v1/x -u {key}: --json '{{\"note\": \"{key}\"}}'"),
    );
    assert_eq!(out.code, 2, "{}", out.all_output());
    assert!(!out.all_output().contains(key), "{}", out.all_output());
    assert!(
        out.stderr.starts_with(
            "error: the credential that became secret STRIPE_SECRET_KEY also appears elsewhere"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn options_import_cannot_carry_over_exit_2_naming_them() {
    let dir = Scratch::new();
    for (command, message) in [
        (
            "curl -F file=@a.png https://api.example.com/upload",
            "error: curl option `-F` is not carried over: it sends multipart/form-data, which \
             the http step does not send; for a urlencoded form use -d name=value\n",
        ),
        (
            "curl --retry-all-errors https://api.example.com/",
            "error: curl option `--retry-all-errors` is not one import reads; it takes -X, -H, \
             -d, --data-raw, --data-binary, --data-urlencode, --json, -u, -G, -I, --url, -A, -e, \
             -b, --oauth2-bearer, -m and --connect-timeout (and ignores output options like -s, \
             -v, -L)\n",
        ),
        (
            "curl -u alice https://api.example.com/",
            "error: `-u` gives a user name and no password, so curl would ask for one; write \
             `-u USER:PASSWORD` (`-u KEY:` for an API key with an empty password, as Stripe takes)\n",
        ),
    ] {
        let out = run(dir.path(), &["import", "curl", command]);
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{command}");
        assert_eq!(out.stderr, message, "{command}");
    }
}

#[test]
fn json_and_get_queries() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "import",
            "curl",
            "curl --json '{\"amount\": 19.90, \"tags\": [\"a\", \"b\"], \"ok\": true}' https://api.example.com/orders",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert!(
        out.stdout.ends_with(
            "    method: POST\n    url: https://api.example.com/orders\n    body_type: json\n    \
             body:\n      amount: 19.90\n      tags:\n        - a\n        - b\n      ok: true\n"
        ),
        "{}",
        out.stdout
    );
    let out = run(
        dir.path(),
        &[
            "import",
            "curl",
            "curl -G https://api.example.com/search --data-urlencode 'q=blue shirt' -d limit=10",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert!(
        out.stdout.ends_with(
            "    url: https://api.example.com/search\n    query:\n      q: \"blue shirt\"\n      limit: \"10\"\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn commands_whose_flow_check_would_refuse_or_that_hold_a_key_elsewhere_exit_2() {
    let dir = Scratch::new();
    let key = "sk_test_abcdefghijklmnop1234";
    for (command, message) in [
        (
            "curl https://api.example.com/x -m 7200".to_owned(),
            "error: curl option `-m 7200` is not a number of seconds the http step takes: more \
             than 0 (at least 0.001) and at most 3600 (like 30 or 2.5)\n",
        ),
        (
            "curl https://api.example.com/x --connect-timeout 0".to_owned(),
            "error: curl option `--connect-timeout 0` is not a number of seconds the http step \
             takes: more than 0 (at least 0.001) and at most 3600 (like 30 or 2.5)\n",
        ),
        (
            "curl https://api.example.com/x -H 'Bad Name: v'".to_owned(),
            "error: `Bad Name` is not a header name the http step can send (letters, digits and \
             !#$%&'*+-.^_`|~, no spaces); fix the -H\n",
        ),
        (
            "curl https://api.example.com/x -u k1: -u k2:".to_owned(),
            "error: curl option `-u` is given twice; keep one credential\n",
        ),
        (
            "curl https://api.example.com/x -H 'X-Api-Key: k1' -H 'X-Api-Key: k2'".to_owned(),
            "error: the curl command sends the `X-Api-Key` header twice, and it carries a \
             credential; keep one\n",
        ),
        (
            format!("curl 'https://api.example.com/x?api_key={key}'"),
            "error: the query parameter `api_key` looks like a credential, and import does not \
             copy credentials into a file; take it out of the command, then add `auth: {type: \
             query, name: api_key, value: \"<<secrets.NAME>>\"}` and declare the secret\n",
        ),
        (
            format!("curl https://api.example.com/x -d note={key}"),
            "error: the form field `note` looks like a credential, and import does not copy \
             credentials into a file; the http step sends secrets only in `auth:` and headers (a \
             secret in a body is refused, E012): send it as a header if the API takes one\n",
        ),
        (
            "wget https://api.example.com/x".to_owned(),
            "error: import reads a curl command, and this one starts with `wget`, not `curl`\n",
        ),
        (
            "curl -I -d a=1 https://api.example.com/x".to_owned(),
            "error: -I (a HEAD request) with data: a HEAD request has no body, and curl refuses \
             this too\n",
        ),
    ] {
        let out = run(dir.path(), &["import", "curl", &command]);
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{command}");
        assert_eq!(out.stderr, message, "{command}");
    }
    // A short credential is not "found" inside another word (`k` in `Token`).
    let out = run(
        dir.path(),
        &[
            "import",
            "curl",
            "curl https://api.example.com/x -H 'Authorization: Token abcdefgh' -H 'X-Api-Key: k'",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all_output());
    // A key in a header whose name says nothing is a credential by its shape.
    let key = "sk_test_SECRETSECRET1234567890";
    let out = run(
        dir.path(),
        &[
            "import",
            "curl",
            &format!("curl https://api.example.com/x -H 'X-Weird: {key}'"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert!(!out.all_output().contains(key), "{}", out.all_output());
    assert!(
        out.stdout.contains(
            "auth: { type: header, name: X-Weird, value: \"<<secrets.EXAMPLE_SECRET_KEY>>\" }"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_header_given_twice_becomes_one_that_check_accepts() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "import",
            "curl",
            "curl -H 'X-Tag: a' -H 'x-tag: b' -H 'X-Other: c' -H 'X-Tag: d' https://api.example.com/v1/things",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert!(
        out.stderr.contains(
            "the curl command sends the `X-Tag` header more than once; the flow sends its values as one header, `a, b, d`, which HTTP reads the same (RFC 9110, section 5.3)"
        ),
        "{}",
        out.stderr
    );
    let flow = dir.write("things.yaml", &out.stdout);
    let checked = run(dir.path(), &["check", flow.to_str().unwrap()]);
    assert_eq!(checked.code, 0, "{}\n{}", out.stdout, checked.all_output());
    let headers: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("X-"))
        .map(str::trim)
        .collect();
    assert_eq!(
        headers,
        ["X-Tag: \"a, b, d\"", "X-Other: c"],
        "{}",
        out.stdout
    );
}
