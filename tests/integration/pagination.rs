//! `paginate:` through the real binary: a list of seven items, three a page, followed by
//! Stripe's cursor (`starting_after` while `has_more`), by a `Link: <...>; rel="next"` header
//! and by page numbers, against a loopback stub; the page cap stopping it and what the report
//! says then; and the sandbox's own Checkout Session list paged by cursor.

use crate::raw_http::request;
use crate::stub_api::{ITEMS, StubApi};
use crate::support::{Scratch, TestSandbox, flowstep, report, run, run_with_key, step_record};
use flowstep_sandbox::SANDBOX_SECRET_KEY;
use serde_json::{Value, json};

/// A flow whose step `list` reads `path` of the stub with `paginate` (YAML lines indented
/// under `paginate:`) and maps the collection, and whose message says what it got.
fn flow(base: &str, path: &str, paginate: &str) -> String {
    format!(
        r#"flow: pages
steps:
  - id: list
    type: http
    url: {base}{path}
    paginate:
{paginate}
    response:
      map:
        ids: $.items[*].id
        pages: $.pages
        capped: $.capped
        last_status: status
  - id: tell
    type: message
    text: "<<json ids>> pages=<<pages>> capped=<<capped>> status=<<last_status>>"
"#
    )
}

fn messages(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

fn all_ids() -> String {
    serde_json::to_string(&ITEMS).unwrap()
}

#[test]
fn a_stripe_style_cursor_is_followed_while_has_more() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "cursor.yaml",
        &flow(
            &api.url(),
            "/cursor?limit=3",
            "      cursor: { param: starting_after, from: \"$.data[-1].id\", while: $.has_more }\n      items: $.data",
        ),
    );
    let out = run(dir.path(), &["run", "cursor.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(
        messages(&v),
        [format!("{} pages=3 capped=false status=200", all_ids())]
    );
    assert_eq!(
        api.requests(),
        [
            "/cursor?limit=3",
            "/cursor?limit=3&starting_after=it_3",
            "/cursor?limit=3&starting_after=it_6"
        ]
    );
    let record = step_record(&v, "list");
    let p = &record["pagination"];
    assert_eq!(
        (
            &p["by"],
            &p["pages"],
            &p["items"],
            &p["capped"],
            &p["max_pages"]
        ),
        (
            &json!("by cursor `starting_after`"),
            &json!(3),
            &json!(7),
            &json!(false),
            &json!(10)
        )
    );
    assert_eq!(p["requests"].as_array().unwrap().len(), 3);
    assert_eq!(
        record["response"]["body"]["items"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(record["attempts"], 3, "one attempt per page: {record}");

    // The text report says how many pages and items there were.
    let out = run(dir.path(), &["run", "cursor.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
    let line = report(&out)
        .lines()
        .find(|l| l.contains("list (http)"))
        .unwrap()
        .to_owned();
    assert_eq!(
        line,
        format!(
            "  ok   list (http) GET {}/cursor?limit=3 -> 200, 3 pages, 7 items, 3 attempts [_ ms]",
            api.url()
        )
    );
}

#[test]
fn a_link_header_is_followed_to_its_next_page() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "link.yaml",
        &flow(&api.url(), "/link", "      link: next\n      items: $"),
    );
    let out = run(dir.path(), &["run", "link.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        messages(&out.json()),
        [format!("{} pages=3 capped=false status=200", all_ids())]
    );
    assert_eq!(api.requests(), ["/link", "/link?page=2", "/link?page=3"]);
}

#[test]
fn page_numbers_count_up_until_a_page_is_empty() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "numbered.yaml",
        &flow(
            &api.url(),
            "/numbered?per_page=3",
            "      page: page\n      items: $.results",
        ),
    );
    let out = run(dir.path(), &["run", "numbered.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    // The fourth page is the empty one that says the list is over.
    assert_eq!(
        messages(&out.json()),
        [format!("{} pages=4 capped=false status=200", all_ids())]
    );
    assert_eq!(
        api.requests(),
        [
            "/numbered?per_page=3&page=1",
            "/numbered?per_page=3&page=2",
            "/numbered?per_page=3&page=3",
            "/numbered?per_page=3&page=4"
        ]
    );
}

#[test]
fn the_page_cap_stops_it_and_the_report_says_more_pages_were_left() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "capped.yaml",
        &flow(
            &api.url(),
            "/cursor?limit=3",
            "      cursor: { param: starting_after, from: \"$.data[-1].id\", while: $.has_more }\n      items: $.data\n      max_pages: 2",
        ),
    );
    let out = run(dir.path(), &["run", "capped.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(
        messages(&v),
        [r#"["it_1","it_2","it_3","it_4","it_5","it_6"] pages=2 capped=true status=200"#]
    );
    assert_eq!(step_record(&v, "list")["pagination"]["capped"], true);
    assert_eq!(api.requests().len(), 2);

    let out = run(dir.path(), &["run", "capped.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        report(&out).contains(&format!(
            "  ok   list (http) GET {}/cursor?limit=3 -> 200, 2 pages, 6 items, stopped at max_pages 2 with more pages left, 2 attempts [_ ms]\n",
            api.url()
        )),
        "{out:?}"
    );
    let out = run(dir.path(), &["run", "capped.yaml", "-v"]);
    assert!(
        out.stderr
            .contains("list: stopped after max_pages (2) pages; the API had more"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dry_run_shows_the_first_page_and_how_the_rest_would_be_followed() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "dry.yaml",
        &flow(
            &api.url(),
            "/numbered",
            "      page: { param: p, start: 0 }\n      items: $.results\n      max_pages: 5",
        ),
    );
    let out = run(dir.path(), &["run", "dry.yaml", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("\n  then follows pages by page number `p`, at most 5 in all\n"),
        "{}",
        out.stdout
    );
    assert!(api.requests().is_empty(), "nothing is sent in a dry run");
}

#[test]
fn a_failing_page_names_its_number_and_a_link_to_another_origin_is_refused() {
    let api = StubApi::start();
    let dir = Scratch::new();
    // The items path points at nothing on the first page.
    dir.write(
        "bad_items.yaml",
        &flow(
            &api.url(),
            "/cursor",
            "      link: next\n      items: $.results",
        ),
    );
    let out = run(dir.path(), &["run", "bad_items.yaml", "--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    let e = &step_record(&v, "list")["error"];
    assert_eq!(
        e["message"],
        "page 1: `paginate.items` ($.results) matched nothing in the page"
    );
    // The stub links to itself by the Host header it was sent: `localhost` is another origin
    // than `127.0.0.1`, so the second page is not requested with the step's credentials.
    let port = api.url().rsplit(':').next().unwrap().to_owned();
    dir.write(
        "elsewhere.yaml",
        &flow(&api.url(), "/link", "      link: next\n      items: $").replace(
            "    paginate:",
            &format!("    headers: {{ Host: \"localhost:{port}\" }}\n    paginate:"),
        ),
    );
    let out = run(dir.path(), &["run", "elsewhere.yaml", "--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    let e = &step_record(&v, "list")["error"];
    assert_eq!(
        e["message"],
        format!(
            "page 1: the Link header's next page is on http://localhost:{port}, another origin \
             than {}; pages are followed on the step's own origin only, since each request \
             carries the step's credentials",
            api.url()
        )
    );
    assert_eq!(api.requests(), ["/cursor", "/link"]);
}

#[test]
fn the_sandbox_lists_checkout_sessions_page_by_page() {
    let sandbox = TestSandbox::start();
    let mut created = Vec::new();
    for i in 0..5 {
        let answer = request(
            "POST",
            &format!("{}/v1/checkout/sessions", sandbox.url()),
            &[
                ("Authorization", &format!("Bearer {SANDBOX_SECRET_KEY}")),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            format!(
                "mode=payment&line_items[0][price_data][currency]=inr&line_items[0][price_data][product_data][name]=Tea{i}&line_items[0][price_data][unit_amount]=5000&line_items[0][quantity]=1&success_url=https://example.com/ok"
            )
            .as_bytes(),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let v: Value = serde_json::from_str(&answer.body).unwrap();
        created.push(v["id"].as_str().unwrap().to_owned());
    }
    let dir = Scratch::new();
    dir.write(
        "sessions.yaml",
        r#"flow: sessions
secrets: [STRIPE_SECRET_KEY]
steps:
  - id: list
    type: http
    url: https://api.stripe.com/v1/checkout/sessions
    auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
    query: { limit: 2 }
    paginate:
      cursor: { param: starting_after, from: "$.data[-1].id", while: $.has_more }
      items: $.data
    response:
      map:
        ids: $.items[*].id
        pages: $.pages
"#,
    );
    let out = run_with_key(
        dir.path(),
        SANDBOX_SECRET_KEY,
        &[
            "run",
            "sessions.yaml",
            "--route",
            &sandbox.route(),
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let mut ids: Vec<String> = v["variables"]["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(v["variables"]["pages"], 3);
    ids.sort();
    created.sort();
    assert_eq!(ids, created, "every session, once");
    let p = &step_record(&v, "list")["pagination"];
    let urls: Vec<&str> = p["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls[0],
        "https://api.stripe.com/v1/checkout/sessions?limit=2"
    );
    assert!(
        urls[1]
            .starts_with("https://api.stripe.com/v1/checkout/sessions?limit=2&starting_after=cs_"),
        "{urls:?}"
    );
}

#[test]
fn each_page_is_retried_like_a_single_request() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "flaky.yaml",
        &flow(
            &api.url(),
            "/cursor?flaky=1",
            "      cursor: { param: starting_after, from: \"$.data[-1].id\", while: $.has_more }\n      items: $.data",
        )
        .replace("    paginate:", "    retry: { base_delay: 10ms }\n    paginate:"),
    );
    let out = run(dir.path(), &["run", "flaky.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(
        messages(&v),
        [format!("{} pages=3 capped=false status=200", all_ids())]
    );
    // Every page answered 503 once and was asked for again.
    assert_eq!(
        api.requests(),
        [
            "/cursor?flaky=1",
            "/cursor?flaky=1",
            "/cursor?flaky=1&starting_after=it_3",
            "/cursor?flaky=1&starting_after=it_3",
            "/cursor?flaky=1&starting_after=it_6",
            "/cursor?flaky=1&starting_after=it_6"
        ]
    );
    assert_eq!(step_record(&v, "list")["attempts"], 6);
}

#[test]
fn a_query_credential_goes_to_every_page_and_is_never_shown() {
    const KEY: &str = "pk_live_pagesQueryCredential9931";
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "keyed.yaml",
        &flow(&api.url(), "/link", "      link: next\n      items: $")
            .replace("flow: pages\n", "flow: pages\nsecrets: [LIST_KEY]\n")
            .replace(
                "    paginate:",
                "    auth: { type: query, name: api_key, value: \"<<secrets.LIST_KEY>>\" }\n    paginate:",
            ),
    );
    for args in [
        &["run", "keyed.yaml", "--output", "json", "-vv"][..],
        &["run", "keyed.yaml"][..],
    ] {
        let out: crate::support::Run = flowstep(dir.path())
            .env("LIST_KEY", KEY)
            .args(args)
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!out.all_output().contains(KEY), "{out:?}");
        assert!(!out.all_output().contains("QueryCredential"), "{out:?}");
    }
    // The API's links leave the key out; the step adds it back on every page.
    assert_eq!(
        &api.requests()[..3],
        [
            format!("/link?api_key={KEY}"),
            format!("/link?page=2&api_key={KEY}"),
            format!("/link?page=3&api_key={KEY}")
        ]
    );
}

/// A `Link` back to a page already read is refused, not followed round until the cap: the
/// stub's `rel="last"` on its last page points at that page itself.
#[test]
fn a_link_back_to_a_page_already_read_is_refused() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "circle.yaml",
        &flow(&api.url(), "/link", "      link: last\n      items: $"),
    );
    let out = run(dir.path(), &["run", "circle.yaml", "--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(
        step_record(&v, "list")["error"]["message"],
        "page 2: the Link header's next page is a page already read (/link); following it \
         would request the same pages again"
    );
    assert_eq!(api.requests().len(), 2, "{:?}", api.requests());
}
