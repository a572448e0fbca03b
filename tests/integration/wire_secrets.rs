//! Where a secret may go on the wire, through the real binary (issue 8, faults 1, 2, 3 and 8):
//! a binding is an origin and holds in every auth form, a cross-origin redirect carries no
//! secret, and a value cannot move a request to another host. Every server is a recorder on
//! 127.0.0.1, so each test says exactly what reached it.

use crate::recorder::{Recorder, json_ok, response};
use crate::support::{Run, Scratch, flowstep, report};

/// The key every flow here is given, as `API_KEY`.
const KEY: &str = "sk_live_WireSentinel0123456789";

/// Writes `wire.yaml`, a flow with `inputs` (YAML lines), `secrets` (the YAML list) and one
/// http step `call` (`step` holds its keys after `type: http`, indented by four), and runs it
/// as run `r1` with `API_KEY` set.
fn run_flow(dir: &Scratch, inputs: &str, secrets: &str, step: &str, args: &[&str]) -> Run {
    let yaml = format!(
        "flow: wire\n{inputs}secrets: {secrets}\nsteps:\n  - id: call\n    type: http\n{step}    retry: off\n"
    );
    dir.write("wire.yaml", &yaml);
    flowstep(dir.path())
        .env("API_KEY", KEY)
        .args(["run", "wire.yaml", "--run-id", "r1"])
        .args(args)
        .output()
        .expect("flowstep runs")
        .into()
}

/// The key in no output, as is or as Basic credentials.
fn assert_key_hidden(out: &Run) {
    use base64::Engine as _;
    let all = out.all_output();
    assert!(!all.contains(KEY), "the key leaked: {all}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
    assert!(!all.contains(&basic), "the Basic credentials leaked: {all}");
}

#[test]
fn basic_auth_cannot_carry_a_bound_key_to_another_origin() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let dir = Scratch::new();
    let out = run_flow(
        &dir,
        "",
        "[{ name: API_KEY, hosts: [api.stripe.com] }]",
        &format!(
            "    url: {}\n    auth: {{ type: basic, username: \"<<secrets.API_KEY>>\", password: \"\" }}\n",
            server.url("/ok")
        ),
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        format!(
            r#"flow wire (run r1)
  FAIL call (http) [_ ms]
error[invalid]: secret `API_KEY` may only be sent to https://api.stripe.com; this request goes to http://127.0.0.1:{} (`auth` reads it)
 --> wire.yaml:7:37
  |
7 |     auth: {{ type: basic, username: "<<secrets.API_KEY>>", password: "" }}
  |                                     ^^^^^^^^^^^^^^^^^^^
  |

failed
"#,
            server.port()
        )
    );
    assert_eq!(server.requests(), Vec::<String>::new());
    assert_key_hidden(&out);
}

#[test]
fn a_binding_is_an_origin_so_another_scheme_or_port_is_refused() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let dir = Scratch::new();
    let bearer = "    auth: { type: bearer, token: \"<<secrets.API_KEY>>\" }\n";
    // Routed to the recorder, but written as http://api.stripe.com:8080: not https on 443.
    let route = format!("http://api.stripe.com:8080={}", server.url(""));
    let out = run_flow(
        &dir,
        "",
        "[{ name: API_KEY, hosts: [api.stripe.com] }]",
        &format!("    url: http://api.stripe.com:8080/v1/balance\n{bearer}"),
        &["--route", &route],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow wire (run r1)
  FAIL call (http) [_ ms]
error[invalid]: secret `API_KEY` may only be sent to https://api.stripe.com; this request goes to http://api.stripe.com:8080 (`auth` reads it)
 --> wire.yaml:7:35
  |
7 |     auth: { type: bearer, token: "<<secrets.API_KEY>>" }
  |                                   ^^^^^^^^^^^^^^^^^^^
  |

failed
"#
    );
    assert_eq!(server.requests(), Vec::<String>::new());
    assert_key_hidden(&out);
    // An origin written out with its scheme and port is where the key may go.
    let out = run_flow(
        &dir,
        "",
        &format!(
            "[{{ name: API_KEY, hosts: [\"http://127.0.0.1:{}\"] }}]",
            server.port()
        ),
        &format!("    url: {}\n{bearer}", server.url("/v1/balance")),
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].contains(&format!("authorization: Bearer {KEY}\r\n")),
        "{}",
        requests[0]
    );
}

#[test]
fn a_secret_header_does_not_follow_a_redirect_to_another_origin() {
    let b = Recorder::start(vec![json_ok(r#"{"ok": true}"#)]);
    let a = Recorder::start(vec![response(
        "302 Found",
        &[(
            "Location",
            &format!("http://localhost:{}/final?x=1", b.port()),
        )],
        "",
    )]);
    let dir = Scratch::new();
    let out = run_flow(
        &dir,
        "",
        "[API_KEY]",
        &format!(
            "    url: {}\n    headers:\n      X-Api-Key: \"<<secrets.API_KEY>>\"\n      X-Request-Source: flowstep\n",
            a.url("/start")
        ),
        &["--output", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["status"], "succeeded");
    let at_a = a.requests();
    assert!(
        at_a[0].contains(&format!("x-api-key: {KEY}\r\n")),
        "{}",
        at_a[0]
    );
    let at_b = b.requests();
    assert_eq!(at_b.len(), 1);
    assert!(
        at_b[0].starts_with("GET /final?x=1 HTTP/1.1\r\n"),
        "{}",
        at_b[0]
    );
    assert!(
        at_b[0].contains("x-request-source: flowstep\r\n"),
        "{}",
        at_b[0]
    );
    assert!(
        !at_b[0].contains(KEY),
        "the key followed the redirect: {}",
        at_b[0]
    );
    assert!(
        !at_b[0].to_ascii_lowercase().contains("x-api-key"),
        "{}",
        at_b[0]
    );
    assert_key_hidden(&out);
}

#[test]
fn a_value_cannot_rewrite_the_urls_host() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let dir = Scratch::new();
    let out = run_flow(
        &dir,
        "inputs:\n  shop: { type: string }\n",
        "[API_KEY]",
        "    url: http://<<shop>>.myshopify.example/admin/orders.json\n    headers: { X-Shopify-Access-Token: \"<<secrets.API_KEY>>\" }\n",
        &["--var", &format!("shop=127.0.0.1:{}/ok?", server.port())],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        r#"flow wire (run r1)
  FAIL call (http) [_ ms]
error[invalid]: url: `<<shop>>` renders into the URL's host, where only letters, digits, `-`, `_` and `.` may stand, and the value holds `:`; it could send the request to another host
 --> wire.yaml:8:10
  |
8 |     url: http://<<shop>>.myshopify.example/admin/orders.json
  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |

failed
"#
    );
    assert_eq!(server.requests(), Vec::<String>::new());
    assert_key_hidden(&out);
}

/// A secret passed through a helper (`<<upper secrets.KEY>>`) is the secret in another form:
/// the whole header value is hidden, in the report, `-vv`, JSON and the dry run.
#[test]
fn a_secret_through_a_helper_in_a_header_is_hidden_everywhere() {
    let server = Recorder::start(vec![json_ok("{}"), json_ok("{}")]);
    let dir = Scratch::new();
    let step = format!(
        "    url: {}\n    headers:\n      X-Up: \"<<upper secrets.API_KEY>>\"\n",
        server.url("/ok")
    );
    let secrets = format!(
        "[{{ name: API_KEY, hosts: [\"http://127.0.0.1:{}\"] }}]",
        server.port()
    );
    let upper = KEY.to_uppercase();
    for args in [&["-vv"][..], &["-vv", "--format", "json"], &["--dry-run"]] {
        let out = run_flow(&dir, "", &secrets, &step, args);
        assert!(out.code == 0, "{args:?}: {out:?}");
        assert!(
            !out.all_output().contains(&upper),
            "{args:?}: {}",
            out.all_output()
        );
        assert!(
            out.all_output().contains("X-Up: [redacted]"),
            "{args:?}: {}",
            out.all_output()
        );
    }
    // It was sent as written.
    assert!(
        server.requests()[0].contains(&format!("x-up: {upper}")),
        "{:?}",
        server.requests()
    );
}
