//! `flowstep run --deny-private-networks` and its allow flags, through the real binary: the
//! default reaches loopback (the user's own machine), the flag refuses it (redirects too) with
//! a message that says how to allow it, and routes and the sandbox stay allowed. Every server
//! is a recorder on 127.0.0.1.

use crate::recorder::{Recorder, json_ok, response};
use crate::support::{Run, Scratch, report, run};

/// Writes `get.yaml`, a flow that GETs `url` once, and runs it as run `r1` with `args`.
fn get(dir: &Scratch, url: &str, args: &[&str]) -> Run {
    dir.write(
        "get.yaml",
        &format!(
            "flow: get\nsteps:\n  - id: call\n    type: http\n    url: {url}\n    retry: off\n"
        ),
    );
    let mut all = vec!["run", "get.yaml", "--run-id", "r1"];
    all.extend_from_slice(args);
    run(dir.path(), &all)
}

#[test]
fn deny_private_networks_refuses_loopback_until_it_is_allowed() {
    let server = Recorder::start(vec![json_ok("{}")]);
    let dir = Scratch::new();
    let url = server.url("/ok");
    // Today's behaviour by default.
    assert_eq!(get(&dir, &url, &[]).code, 0);
    assert_eq!(server.requests().len(), 1);

    let out = get(&dir, &url, &["--deny-private-networks"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        format!(
            r#"flow get (run r1)
  FAIL call (http) GET {url} [_ ms]
error[invalid]: refused to connect to 127.0.0.1: 127.0.0.1 is in the loopback range 127.0.0.0/8, and this run denies private networks; nothing was sent. To allow it: `--allow-cidr 127.0.0.1/32` (flowstep run), `--allow-private-networks` (flowstep serve), or `allow_cidrs` in the NetworkPolicy (embedding)
 --> get.yaml:5:10
  |
5 |     url: {url}
  |          {}
  |

failed
"#,
            "^".repeat(url.len())
        )
    );
    assert_eq!(server.requests().len(), 1);

    let out = get(
        &dir,
        &url,
        &["--deny-private-networks", "--allow-cidr", "127.0.0.0/8"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.requests().len(), 2);

    // A name is judged by the addresses it resolves to.
    let by_name = format!("http://localhost:{}/ok", server.port());
    let out = get(&dir, &by_name, &["--deny-private-networks"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("error[invalid]: refused to connect to localhost: it resolves to "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("127.0.0.1 (in the loopback range 127.0.0.0/8)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("To allow it: `--allow-host localhost` or"),
        "{}",
        out.stdout
    );
    assert_eq!(server.requests().len(), 2);
    let out = get(
        &dir,
        &by_name,
        &["--deny-private-networks", "--allow-host", "localhost"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_redirect_to_a_private_address_is_refused() {
    let inner = Recorder::start(vec![json_ok("{}")]);
    let outer = Recorder::start(vec![response(
        "302 Found",
        &[("Location", &inner.url("/admin"))],
        "",
    )]);
    let dir = Scratch::new();
    // The first host is allowed by name; the redirect's address is not.
    let out = get(
        &dir,
        &format!("http://localhost:{}/start", outer.port()),
        &["--deny-private-networks", "--allow-host", "localhost"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        report(&out),
        format!(
            r#"flow get (run r1)
  FAIL call (http) GET http://localhost:{}/start [_ ms]
error[invalid]: following the redirect to http://127.0.0.1:{}: refused to connect to 127.0.0.1: 127.0.0.1 is in the loopback range 127.0.0.0/8, and this run denies private networks; nothing was sent. To allow it: `--allow-cidr 127.0.0.1/32` (flowstep run), `--allow-private-networks` (flowstep serve), or `allow_cidrs` in the NetworkPolicy (embedding)
 --> get.yaml:3:5
  |
3 |   - id: call
  |     ^^^^^^^^
  |

failed
"#,
            outer.port(),
            inner.port()
        )
    );
    assert_eq!(outer.requests().len(), 1);
    assert_eq!(inner.requests(), Vec::<String>::new());
}

#[test]
fn routes_and_the_sandbox_stay_allowed() {
    let dir = Scratch::new();
    let out = run(
        dir.path(),
        &[
            "run",
            "stripe-checkout",
            "--sandbox",
            "--deny-private-networks",
            "--var",
            "product_name=Tea",
            "--var",
            "amount_paise=50000",
            "--var",
            "success_url=https://shop.example/thanks",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let server = Recorder::start(vec![json_ok("{}")]);
    let out = get(
        &dir,
        "https://api.example.com/v1/ping",
        &[
            "--deny-private-networks",
            "--route",
            &format!("https://api.example.com={}", server.url("")),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn allow_flags_need_deny_and_bad_values_say_what_is_wrong() {
    let dir = Scratch::new();
    let out = get(&dir, "http://127.0.0.1:9/", &["--allow-host", "localhost"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--deny-private-networks"),
        "{}",
        out.stderr
    );
    let out = get(
        &dir,
        "http://127.0.0.1:9/",
        &["--deny-private-networks", "--allow-cidr", "10.0.0/8"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "`10.0.0/8` is not an address range: write an address with an optional prefix \
             length, like 10.0.0.0/8, 127.0.0.1 or fd00::/8"
        ),
        "{}",
        out.stderr
    );
    let out = get(
        &dir,
        "http://127.0.0.1:9/",
        &[
            "--deny-private-networks",
            "--allow-host",
            "http://localhost:8080",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "`http://localhost:8080` is not a host name: write it without a scheme, port or \
             path, like localhost, orders.internal or *.svc.cluster.local (allow addresses \
             with --allow-cidr)"
        ),
        "{}",
        out.stderr
    );
}
