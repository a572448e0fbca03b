//! The sandbox as a newcomer meets it: `run --sandbox` uses a running `flowstep sandbox` so
//! the link it prints can be opened, paid and looked up from later commands; without one it
//! says the link dies with the command; one note names the APIs the flow uses; the
//! standalone sandbox takes any test key, refuses live ones, and its banner's `try:` line
//! works as printed from a clean shell.

use crate::raw_http;
use crate::support::{Run, Scratch, flowstep};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

/// A `flowstep sandbox` child, killed on drop, with its banner.
struct Standalone {
    child: Child,
    url: String,
    banner: Vec<String>,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `flowstep sandbox --addr ADDR` with FLOWSTEP_SANDBOX_ADDR set to `looked_up`, and
/// reads its banner up to "Press Ctrl-C to stop.".
fn standalone(dir: &Scratch, addr: &str, looked_up: &str) -> Standalone {
    standalone_with(dir, &["--addr", addr], looked_up)
}

/// `flowstep sandbox ARGS` with FLOWSTEP_SANDBOX_ADDR set to `looked_up`, its banner read.
fn standalone_with(dir: &Scratch, args: &[&str], looked_up: &str) -> Standalone {
    let mut child = flowstep(dir.path())
        .arg("sandbox")
        .args(args)
        .env("FLOWSTEP_SANDBOX_ADDR", looked_up)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "{banner:?}");
        let line = line.trim_end().to_owned();
        let done = line == "Press Ctrl-C to stop.";
        banner.push(line);
        if done {
            break;
        }
    }
    let url = banner[0]
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_owned();
    Standalone { child, url, banner }
}

/// A loopback port nothing listens on right now.
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// `flowstep ARGS` with FLOWSTEP_SANDBOX_ADDR set to `looked_up`.
fn run_looking_at(dir: &Scratch, looked_up: &str, args: &[&str]) -> Run {
    flowstep(dir.path())
        .env("FLOWSTEP_SANDBOX_ADDR", looked_up)
        .args(args)
        .output()
        .unwrap()
        .into()
}

fn notes(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("note:")).collect()
}

/// The README's commands for a link that stays open, read from the README and run in order
/// (`cargo run --release --` is the binary): start the sandbox, create a link with `run
/// --sandbox`, open it, pay it, and look it up with the status preset.
#[test]
fn the_readme_steps_give_a_link_that_can_be_opened_paid_and_looked_up() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("That sandbox stops with the command")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("the README's block for a link that stays open");
    let commands: Vec<Vec<String>> = block
        .lines()
        .filter_map(|l| l.strip_prefix("cargo run --release -- "))
        .map(|l| words(l.split(" #").next().unwrap()))
        .collect();
    assert_eq!(commands.len(), 3, "{block}");
    assert_eq!(commands[0], ["sandbox"], "{block}");

    let dir = Scratch::new();
    let addr = free_addr();
    // The README's `sandbox` listens where run --sandbox looks: here, FLOWSTEP_SANDBOX_ADDR.
    let sb = standalone_with(&dir, &[], &addr);
    assert_eq!(sb.url, format!("http://{addr}"));
    let mut create = commands[1].clone();
    create.extend(["--output".into(), "json".into()]);
    let created = run_looking_at(
        &dir,
        &addr,
        &create.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(
        notes(&created.stderr)[0],
        format!(
            "note: requests to api.stripe.com go to the running `flowstep sandbox` at {} (no real payments)",
            sb.url
        )
    );
    assert!(
        !created.stderr.contains("stop working"),
        "{}",
        created.stderr
    );
    let v = created.json();
    let url = v["outputs"]["payment_url"].as_str().unwrap();
    let id = v["outputs"]["session_id"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/c/pay/{id}", sb.url)), "{url}");
    // The command is over; the link still opens, and pays.
    let page_url = url.split('#').next().unwrap();
    let page = raw_http::send("GET", page_url, None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Pay (sandbox)"), "{}", page.body);
    let paid = raw_http::send("POST", page_url, None);
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert!(paid.body.contains("Payment complete"), "{}", paid.body);
    // The success page the sandbox filled in is served, with the session's id.
    let success = format!("{}/c/success?session_id={id}", sb.url);
    assert!(paid.body.contains(&success), "{}", paid.body);
    let landed = raw_http::send("GET", &success, None);
    assert_eq!(landed.status, 200);
    assert!(landed.body.contains(id), "{}", landed.body);
    let status: Vec<String> = commands[2]
        .iter()
        .map(|w| w.replace("cs_test_...", id))
        .chain(["--output".into(), "json".into()])
        .collect();
    let status = run_looking_at(
        &dir,
        &addr,
        &status.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(status.code, 0, "{status:?}");
    assert_eq!(status.json()["outputs"]["payment_status"], "paid");
}

/// A command line's words, as a shell splits them: spaces separate, double quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

#[test]
fn without_a_running_sandbox_run_sandbox_says_its_link_dies_with_the_command() {
    let dir = Scratch::new();
    let out = run_looking_at(
        &dir,
        &free_addr(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=5000",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let notes = notes(&out.stderr);
    assert!(
        notes[0].starts_with(
            "note: requests to api.stripe.com go to the built-in sandbox at http://127.0.0.1:"
        ),
        "{notes:?}"
    );
    assert_eq!(
        notes[1..],
        [
            "note: success_url and cancel_url not given, so the sandbox's own pages are used",
            "note: STRIPE_SECRET_KEY is not set, so the sandbox's test key is used",
            "note: the sandbox links above stop working when this command ends; to open and pay them, start `flowstep sandbox` in another terminal and run this again (run --sandbox then uses it)",
        ]
    );
}

#[test]
fn one_note_names_only_the_apis_the_flow_uses() {
    let dir = Scratch::new();
    let out = run_looking_at(
        &dir,
        "127.0.0.1:1",
        &[
            "run",
            "razorpay-payment-link",
            "--sandbox",
            "--dry-run",
            "--var",
            "amount_paise=5000",
            "--var",
            "description=Tea",
            "--var",
            "reference_id=A-1",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let notes = notes(&out.stderr);
    assert!(
        notes[0].starts_with("note: requests to api.razorpay.com go to the built-in sandbox"),
        "{notes:?}"
    );
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.starts_with("note: requests to") || n.starts_with("note: routing"))
            .count(),
        1,
        "{notes:?}"
    );
}

/// The standalone sandbox takes any well-formed test key (as stripe-mock does) and refuses a
/// live one, saying why.
#[test]
fn the_standalone_sandbox_takes_any_test_key_and_refuses_live_ones() {
    let dir = Scratch::new();
    let sb = standalone(&dir, "127.0.0.1:0", "127.0.0.1:1");
    let create = |auth: &str| {
        let body = "mode=payment&line_items[0][price_data][currency]=inr&line_items[0][price_data][product_data][name]=Tea&line_items[0][price_data][unit_amount]=5000&line_items[0][quantity]=1&success_url=https://shop.example/thanks";
        let a = raw_http::request(
            "POST",
            &format!("{}/v1/checkout/sessions", sb.url),
            &[
                ("Authorization", auth),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        );
        let v: Value = serde_json::from_str(&a.body).unwrap();
        (a.status, v)
    };
    let (status, _) = create("Bearer sk_test_MyOwnTestKey0123456789");
    assert_eq!(status, 200);
    let (status, _) = create("Bearer rk_test_MyRestrictedKey01234");
    assert_eq!(status, 200);
    let (status, v) = create("Bearer sk_live_MyRealKey0123456789abcd");
    assert_eq!(status, 401);
    assert_eq!(
        v["error"]["message"],
        "Invalid API Key provided: sk_live_****abcd. The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...)."
    );
    let link = |user: &str, secret: &str| {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
        let a = raw_http::request(
            "POST",
            &format!("{}/v1/payment_links", sb.url),
            &[
                ("Authorization", &format!("Basic {basic}")),
                ("Content-Type", "application/json"),
            ],
            br#"{"amount": 5000, "currency": "INR", "description": "Tea"}"#,
        );
        let v: Value = serde_json::from_str(&a.body).unwrap();
        (a.status, v)
    };
    let (status, v) = link("rzp_test_MyOwnKeyId01", "my_own_secret_0123456789");
    assert_eq!(status, 200, "{v}");
    let (status, v) = link("rzp_live_MyRealKeyId1", "a_real_secret_0123456789");
    assert_eq!(status, 401);
    assert_eq!(
        v["error"]["description"],
        "Authentication failed: the flowstep sandbox never takes live keys; use a test key id (rzp_test_...)"
    );
    let (status, _) = link("rzp_test_MyOwnKeyId01", "");
    assert_eq!(status, 401, "a key id without its secret");
}

/// The banner lists every provider's credentials and the admin endpoints, and its `try:`
/// line runs as printed in a shell with nothing set.
#[test]
fn the_banner_lists_credentials_and_admin_endpoints_and_its_try_line_works_as_printed() {
    let dir = Scratch::new();
    // Looked up elsewhere (the line routes to it) and where run --sandbox looks (it uses it).
    let here = free_addr();
    for (addr, looked_up) in [
        ("127.0.0.1:0", "127.0.0.1:1"),
        (here.as_str(), here.as_str()),
    ] {
        let sb = standalone(&dir, addr, looked_up);
        let text = sb.banner.join("\n");
        for wanted in [
            flowstep_sandbox::SANDBOX_SECRET_KEY,
            flowstep_sandbox::SANDBOX_RAZORPAY_KEY_ID,
            flowstep_sandbox::SANDBOX_RAZORPAY_KEY_SECRET,
            flowstep_sandbox::SANDBOX_WHATSAPP_TOKEN,
            flowstep_sandbox::SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
            "/__sandbox/stats",
            "/__sandbox/requests",
            "/__sandbox/whatsapp/messages",
            "/__sandbox/events",
            "/__sandbox/faults",
            "live keys are refused",
        ] {
            assert!(text.contains(wanted), "{wanted} missing from:\n{text}");
        }
        let try_line = sb
            .banner
            .iter()
            .find_map(|l| l.trim_start().strip_prefix("try:"))
            .unwrap_or_else(|| panic!("{text}"));
        let mut words = try_line.split_whitespace();
        let mut cmd = flowstep(dir.path());
        cmd.env("FLOWSTEP_SANDBOX_ADDR", looked_up);
        for word in words.by_ref() {
            match word.split_once('=') {
                Some((k, v)) if word != "flowstep" => {
                    cmd.env(k, v);
                }
                _ => {
                    assert_eq!(word, "flowstep", "{try_line}");
                    break;
                }
            }
        }
        let out: Run = cmd.args(words).output().unwrap().into();
        assert_eq!(out.code, 0, "{try_line}: {out:?}");
        assert!(
            out.stdout.contains(&format!("{}/c/pay/cs_test_", sb.url)),
            "{out:?}"
        );
    }
}

/// A fault the sandbox cannot read is refused with the shape it takes, not serde's words.
#[test]
fn a_bad_fault_is_refused_with_the_shape_it_takes() {
    let dir = Scratch::new();
    let sb = standalone(&dir, "127.0.0.1:0", "127.0.0.1:1");
    let a = raw_http::request(
        "POST",
        &format!("{}/__sandbox/faults", sb.url),
        &[("Content-Type", "application/json")],
        br#"{"count": 1, "action": "bogus"}"#,
    );
    assert_eq!(a.status, 400, "{}", a.body);
    let v: Value = serde_json::from_str(&a.body).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid fault JSON (")
            && message.contains(r#"Expected {"count": N (at least 1)"#)
            && message.ends_with("see docs/sandbox.md"),
        "{message}"
    );
}

#[test]
fn the_sandbox_refuses_to_listen_beyond_loopback() {
    let dir = Scratch::new();
    for addr in ["0.0.0.0:18431", "[::]:18431"] {
        let out: Run = flowstep(dir.path())
            .args(["sandbox", "--addr", addr])
            .output()
            .unwrap()
            .into();
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
        assert_eq!(
            out.stderr,
            format!(
                "error: --addr {addr}: the sandbox listens on loopback only (127.0.0.1 or ::1), since it takes any test key and asks for no login; give an address like 127.0.0.1:18431\n"
            )
        );
    }
}
