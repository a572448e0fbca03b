//! The Stripe preset end to end: the README's main command, and the errors the guide's
//! troubleshooting table is about, as a flow author sees them.

use crate::support::{
    Run, Scratch, TestSandbox, flowstep, preset_with, run, run_with_key, run_within,
};
use flowstep_sandbox::{PINNED_STRIPE_VERSION, SANDBOX_SECRET_KEY};

const README_ARGS: &[&str] = &[
    "run",
    "stripe-checkout",
    "--sandbox",
    "--var",
    "product_name=Blue T-shirt",
    "--var",
    "amount_paise=50000",
    "--var",
    "success_url=https://shop.example/thanks",
];

/// `flowstep run stripe-checkout` routed to `sb` with `STRIPE_SECRET_KEY=key`, each of `vars`
/// as a `--var`, the shop's success page, then `extra`.
fn checkout(dir: &Scratch, sb: &TestSandbox, key: &str, vars: &[&str], extra: &[&str]) -> Run {
    let route = sb.route();
    let mut args = vec!["run", "stripe-checkout", "--route", route.as_str()];
    for v in vars
        .iter()
        .chain(&["success_url=https://shop.example/thanks"])
    {
        args.extend(["--var", v]);
    }
    args.extend(extra);
    run_with_key(dir.path(), key, &args)
}

#[test]
fn readme_main_command_sends_the_payment_link() {
    let dir = Scratch::new();
    let out = run(dir.path(), README_ARGS);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "note: requests to api.stripe.com go to the built-in sandbox at http://127.0.0.1:"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("note: STRIPE_SECRET_KEY is not set, so the sandbox's test key is used"),
        "{}",
        out.stderr
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("Please complete your payment here:"))
        .expect("message printed");
    let url = line
        .split("here: ")
        .nth(1)
        .unwrap()
        .split(". This link")
        .next()
        .unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:")
            && url.contains("/c/pay/cs_test_")
            && url.contains('#'),
        "{url}"
    );
    assert!(line.ends_with("This link expires in 24 hours."), "{line}");
    assert!(
        out.stdout.contains(&format!("payment_url: {url}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.trim_end().ends_with("succeeded"),
        "{}",
        out.stdout
    );
    assert!(
        !out.all_output().contains(SANDBOX_SECRET_KEY),
        "the key leaked:\n{}",
        out.all_output()
    );
}

#[test]
fn json_output_has_the_outcome_with_the_request_and_response() {
    let dir = Scratch::new();
    let mut args = README_ARGS.to_vec();
    args.extend(["--output", "json"]);
    let out = run(dir.path(), &args);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "succeeded");
    let url = v["outputs"]["payment_url"].as_str().unwrap();
    assert_eq!(v["messages"][0]["step"], "send_link");
    assert_eq!(
        v["messages"][0]["text"],
        format!("Please complete your payment here: {url}. This link expires in 24 hours.")
    );
    let session_id = v["outputs"]["session_id"].as_str().unwrap();
    assert!(session_id.starts_with("cs_test_"), "{session_id}");
    assert_eq!(v["variables"]["session_id"], session_id);
    assert_eq!(v["variables"]["amount_paise"], 50000);
    let step = crate::support::step_record(&v, "create_session");
    assert_eq!(step["id"], "create_session");
    assert_eq!(step["type"], "http");
    assert_eq!(step["status"], "succeeded");
    assert_eq!(step["attempts"], 1);
    assert!(step["duration_ms"].is_u64());
    assert_eq!(step["request"]["method"], "POST");
    assert_eq!(
        step["request"]["url"],
        "https://api.stripe.com/v1/checkout/sessions"
    );
    let body = step["request"]["body"].as_str().unwrap();
    assert!(
        body.contains("line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=50000"),
        "{body}"
    );
    assert_eq!(step["response"]["status"], 200);
    assert_eq!(step["response"]["body"]["amount_total"], 50000);
    assert_eq!(step["response"]["body"]["currency"], "inr");
    let created = step["response"]["body"]["created"].as_i64().unwrap();
    assert_eq!(
        v["outputs"]["expires_at"].as_i64().unwrap(),
        created + 86400
    );
    let text = out.all_output();
    assert!(
        !text.contains(SANDBOX_SECRET_KEY),
        "the key leaked:\n{text}"
    );
    let auth = step["request"]["headers"]["authorization"]
        .as_str()
        .or(step["request"]["headers"]["Authorization"].as_str())
        .unwrap();
    assert_eq!(auth, "Bearer sk_test_...4242");
}

#[test]
fn missing_secret_is_exit_2_naming_the_variable() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("error: missing secret STRIPE_SECRET_KEY: set the environment variable STRIPE_SECRET_KEY"), "{}", out.stderr);
    assert!(out.stderr.contains("add --sandbox"), "{}", out.stderr);
}

#[test]
fn secret_is_read_from_dot_env() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    dir.write(".env", &format!("STRIPE_SECRET_KEY={SANDBOX_SECRET_KEY}\n"));
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--route",
            &sb.route(),
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sb.sandbox.sessions_created(), 1);
    assert!(
        out.stderr.contains(&format!(
            "note: routing https://api.stripe.com to {}",
            sb.url()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dot_env_or_templates_file_that_is_a_device_or_a_pipe_is_refused_at_once() {
    let dir = Scratch::new();
    let within_30s = |cmd| {
        let out = run_within(cmd, std::time::Duration::from_secs(30));
        (out.code, out.stderr)
    };
    let env = dir.path().join(".env");
    let refused = "cannot read the file: it is not a regular file (a device or a pipe, which could be read forever)";
    // Endless bytes, then a named pipe no one writes to.
    std::os::unix::fs::symlink("/dev/urandom", &env).unwrap();
    for make_fifo in [false, true] {
        if make_fifo {
            std::fs::remove_file(&env).unwrap();
            let made = std::process::Command::new("mkfifo")
                .arg(&env)
                .status()
                .unwrap();
            assert!(made.success());
        }
        let mut cmd = flowstep(dir.path());
        cmd.args(["run", "stripe-checkout", "--sandbox"]).args([
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=5000",
        ]);
        let (code, stderr) = within_30s(cmd);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&format!("error: {}: {refused}", env.display())),
            "{stderr}"
        );
    }
    let mut cmd = flowstep(dir.path());
    cmd.args(["sandbox", "--addr", "127.0.0.1:0"])
        .args(["--whatsapp-templates", "/dev/urandom"]);
    let (code, stderr) = within_30s(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "error: --whatsapp-templates /dev/urandom: it is not a regular file (a device or a pipe, which could be read forever)\n"
    );
}

#[test]
fn missing_api_key_fails_with_stripes_message() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let flow = preset_with(
        "auth: { type: bearer, token: \"<<secrets.STRIPE_SECRET_KEY>>\" }",
        "auth: { type: none }",
    )
    .replace(
        "secrets:\n  - name: STRIPE_SECRET_KEY\n    hosts: [api.stripe.com]\n",
        "",
    );
    let path = dir.write("no-auth.yaml", &flow);
    let out = run(
        dir.path(),
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
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("error[rejected]: You did not provide an API key. "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("^ HTTP 401\n"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("  = note: cause: Stripe did not accept the secret key"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.trim_end().ends_with("failed"));
    assert_eq!(sb.sandbox.sessions_created(), 0);
}

#[test]
fn invalid_api_key_fails_with_stripes_message_and_the_key_stays_hidden() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let key = "sk_live_thisIsNotAValidKeyAtAll9876";
    let out: crate::support::Run = flowstep(dir.path())
        .env("STRIPE_SECRET_KEY", key)
        .args([
            "run",
            "stripe-checkout",
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
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "failed");
    let err = &crate::support::step_record(&v, "create_session")["error"];
    assert_eq!(err["kind"], "rejected");
    assert_eq!(err["http_status"], 401);
    assert_eq!(
        err["message"],
        "Invalid API Key provided: sk_live_****9876. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...)."
    );
    assert!(
        err["hint"]["fix"]
            .as_str()
            .unwrap()
            .contains("STRIPE_SECRET_KEY")
    );
    assert!(!out.all_output().contains(key), "the key leaked");
}

#[test]
fn missing_required_field_fails_with_the_param_and_a_hint() {
    let dir = Scratch::new();
    let path = dir.write(
        "no-success-url.yaml",
        &preset_with("      success_url: <<success_url>>\n", ""),
    );
    let out = run(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--sandbox",
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
    assert_eq!(out.code, 1, "{out:?}");
    let outcome = out.json();
    let err = &crate::support::step_record(&outcome, "create_session")["error"];
    assert_eq!(err["message"], "Missing required param: success_url.");
    assert_eq!(err["code"], "parameter_missing");
    assert_eq!(err["param"], "success_url");
    assert_eq!(err["type"], "invalid_request_error");
    assert!(
        err["hint"]["fix"].as_str().unwrap().contains("success_url"),
        "{err}"
    );
}

#[test]
fn amount_in_rupees_is_caught_by_the_minimum_with_the_paise_hint() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=5",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    // 0 is a no-cost order (allowed), so 1 to 49 paise reach Stripe, which refuses them.
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(
            "error[rejected]: The Checkout Session's total amount due must add up to at least ₹0.50 inr"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("amount_paise is in paise, so Rs 500 is 50000"),
        "{}",
        out.stdout
    );
}

/// A no-cost order: amount 0 creates a session (Stripe allows it in payment mode,
/// https://docs.stripe.com/payments/checkout/no-cost-orders) and, once completed, the status
/// preset says there was nothing to pay (`payment_status` `no_payment_required`).
#[test]
fn a_zero_amount_is_a_no_cost_order() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = checkout(
        &dir,
        &sb,
        SANDBOX_SECRET_KEY,
        &["product_name=Free sample", "amount_paise=0"],
        &["--output", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let session = v["outputs"]["session_id"].as_str().unwrap().to_string();
    let url = v["outputs"]["payment_url"].as_str().unwrap().to_string();
    let paid = crate::raw_http::send("POST", url.split('#').next().unwrap(), None);
    assert_eq!(paid.status, 200, "{}", paid.body);
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            "stripe-checkout-status",
            "--route",
            &sb.route(),
            "--var",
            &format!("session_id={session}"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("Thank you: your order is confirmed; there was nothing to pay."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("payment_status: no_payment_required"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("being processed"), "{}", out.stdout);
}

#[test]
fn an_amount_beyond_64_bits_is_above_the_maximum_not_a_non_integer() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=99999999999999999999999",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "error: invalid input amount_paise: 99999999999999999999999 is more than the maximum 99999999"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_inputs_are_exit_2_with_every_problem_named() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "amount_paise=500.5",
            "--var",
            "prodct_name=Tea",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("error: unknown input `prodct_name`; did you mean `product_name`?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("error: invalid input amount_paise: \"500.5\" is not an integer"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "error: missing required input `product_name` (Name of what is being paid for)"
        ),
        "{}",
        out.stderr
    );
}

/// The preset pins the API version Stripe's SDKs pin (facts file: names look like
/// `2026-03-25.dahlia`; https://docs.stripe.com/api/versioning), and the sandbox accepts it.
#[test]
fn the_preset_pins_the_stripe_version_header() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let out = checkout(
        &dir,
        &sb,
        SANDBOX_SECRET_KEY,
        &["product_name=Tea", "amount_paise=50000"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = sb.sandbox.requests();
    let sent: Vec<&str> = reqs[0]
        .headers
        .iter()
        .filter(|(k, _)| k == "stripe-version")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(sent, ["2026-03-25.dahlia"]);
    assert_eq!(PINNED_STRIPE_VERSION, "2026-03-25.dahlia");
}

/// A version Stripe does not know is Stripe's 400 (the message real responses quote for
/// `2019-2-19`, stripe-java #682), with the preset's hint.
#[test]
fn an_unknown_stripe_version_is_stripes_400_with_a_hint() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
            "--var",
            "stripe_version=2019-2-19",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    let err = &crate::support::step_record(&v, "create_session")["error"];
    assert_eq!(err["http_status"], 400, "{err}");
    assert_eq!(err["message"], "Invalid Stripe API version: 2019-2-19");
    assert_eq!(err["type"], "invalid_request_error");
    assert!(
        err["hint"]["fix"]
            .as_str()
            .unwrap()
            .contains("https://docs.stripe.com/upgrades"),
        "{err}"
    );
}

/// A publishable key is Stripe's 403 "This API call cannot be made with a publishable API
/// key" (https://docs.stripe.com/keys; 403 as stripe-php reports it), and gets the preset's
/// hint for that, not the 401 one.
#[test]
fn a_publishable_key_gets_the_403_hint() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let key = "pk_test_51HxYzAbCdEfGhIjKlMnOp";
    let out = checkout(
        &dir,
        &sb,
        key,
        &["product_name=Tea", "amount_paise=50000"],
        &["--output", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    let err = &crate::support::step_record(&v, "create_session")["error"];
    assert_eq!(err["http_status"], 403, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("This API call cannot be made with a publishable API key."),
        "{err}"
    );
    assert!(
        err["hint"]["cause"]
            .as_str()
            .unwrap()
            .contains("holds a publishable key"),
        "{err}"
    );
    assert!(!out.all_output().contains(key), "the key leaked");
}

/// Stripe's idempotency error does not say what changed; the preset's hint names what can:
/// the inputs given with --var, or expires_in_minutes.
#[test]
fn reusing_a_run_id_with_another_amount_gets_a_hint_naming_the_inputs() {
    let sb = TestSandbox::start();
    let dir = Scratch::new();
    let route = sb.route();
    let args = |amount: &'static str| {
        [
            "run",
            "stripe-checkout",
            "--route",
            route.as_str(),
            "--run-id",
            "order-1042",
            "--var",
            "product_name=Tea",
            "--var",
            amount,
            "--var",
            "success_url=https://shop.example/thanks",
            "--output",
            "json",
        ]
    };
    let first = run_with_key(dir.path(), SANDBOX_SECRET_KEY, &args("amount_paise=50000"));
    assert_eq!(first.code, 0, "{first:?}");
    let again = run_with_key(dir.path(), SANDBOX_SECRET_KEY, &args("amount_paise=50000"));
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(sb.sandbox.sessions_created(), 1);
    let changed = run_with_key(dir.path(), SANDBOX_SECRET_KEY, &args("amount_paise=60000"));
    assert_eq!(changed.code, 1, "{changed:?}");
    let v = changed.json();
    let err = &crate::support::step_record(&v, "create_session")["error"];
    assert_eq!(err["type"], "idempotency_error", "{err}");
    let cause = err["hint"]["cause"].as_str().unwrap();
    assert!(
        cause.contains("a --var differs from that run") && cause.contains("amount_paise"),
        "{cause}"
    );
    assert!(
        err["hint"]["fix"]
            .as_str()
            .unwrap()
            .contains("exactly the same --var values"),
        "{err}"
    );
    assert_eq!(sb.sandbox.sessions_created(), 1);
}
