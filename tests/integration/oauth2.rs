//! `auth: {type: oauth2}` through the binary, against a token endpoint and an API the tests
//! start on loopback (the token URL written as `https://auth.example/...` and routed there):
//! one token for every step of a run, a new one once on a 401, the endpoint's refusals in
//! clear words, the client secret and the token nowhere in what is printed, and mistakes
//! found by `flowstep check` at their line and column.

use crate::raw_http::{RawServer, Received, reply};
use crate::support::{Run, Scratch, flowstep, step_record};
use base64::Engine as _;

const CLIENT_ID: &str = "orders-app-7f3a";
const CLIENT_SECRET: &str = "cs_SNTL0'/+ x~&Q7clientSecretValue99";
const TOKEN_A: &str = "tok_eyJhbGciOiJIUzI1NiJ9.firstTokenPayload.sigA1111";
const TOKEN_B: &str = "tok_eyJhbGciOiJIUzI1NiJ9.secondTokenPayload.sigB2222";
const TOKEN_URL: &str = "https://auth.example/oauth/token";

/// A token endpoint's answer.
fn token(value: &str) -> crate::raw_http::Reply {
    reply(
        "200 OK",
        &[("Content-Type", "application/json")],
        &format!(r#"{{"access_token":"{value}","token_type":"Bearer","expires_in":3600}}"#),
    )
}

fn ok() -> crate::raw_http::Reply {
    reply(
        "200 OK",
        &[("Content-Type", "application/json")],
        r#"{"orders":2}"#,
    )
}

fn unauthorized() -> crate::raw_http::Reply {
    reply(
        "401 Unauthorized",
        &[("Content-Type", "application/json")],
        r#"{"error":"invalid_token","message":"The access token is not valid"}"#,
    )
}

/// A flow whose steps (`ids`) each GET the API with the same OAuth2 client.
fn flow(api: &str, ids: &[&str]) -> String {
    let mut text = String::from(
        "flow: orders\nsecrets:\n  - ORDERS_CLIENT_ID\n  - { name: ORDERS_CLIENT_SECRET, hosts: [auth.example] }\nsteps:\n",
    );
    for id in ids {
        text.push_str(&format!(
            r#"  - id: {id}
    type: http
    url: {api}/v1/orders
    auth:
      type: oauth2
      token_url: {TOKEN_URL}
      client_id: "<<secrets.ORDERS_CLIENT_ID>>"
      client_secret: "<<secrets.ORDERS_CLIENT_SECRET>>"
      scope: "orders:read orders:write"
"#
        ));
    }
    text
}

/// Runs the flow with the client's secrets set and the token URL routed to `auth`.
fn run_flow(dir: &Scratch, auth: &RawServer, args: &[&str]) -> Run {
    flowstep(dir.path())
        .env("ORDERS_CLIENT_ID", CLIENT_ID)
        .env("ORDERS_CLIENT_SECRET", CLIENT_SECRET)
        .args([
            "run",
            "o.yaml",
            "--route",
            &auth.route_from("https://auth.example"),
        ])
        .args(args)
        .output()
        .expect("flowstep runs")
        .into()
}

/// Neither the client secret (in any form it was sent in) nor a token is in what was printed.
fn assert_nothing_leaked(out: &Run) {
    let all = out.all_output();
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        enc(CLIENT_ID),
        enc(CLIENT_SECRET)
    ));
    for (what, value) in [
        ("the client secret", CLIENT_SECRET.to_owned()),
        ("the client secret, form-encoded", enc(CLIENT_SECRET)),
        ("the Basic credentials", basic),
        ("token A", TOKEN_A.to_owned()),
        ("token B", TOKEN_B.to_owned()),
        ("a token's payload", "TokenPayload".to_owned()),
    ] {
        assert!(!all.contains(&value), "{what} was printed:\n{all}");
    }
}

fn bearer(r: &Received) -> Option<&str> {
    r.header("Authorization")
}

#[test]
fn one_token_is_fetched_for_every_step_of_a_run_and_never_shown() {
    let auth = RawServer::start(vec![token(TOKEN_A)]);
    let api = RawServer::start(vec![ok()]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow(&api.url(), &["first", "second"]));
    let out = run_flow(&dir, &auth, &["-vv", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");

    // The client credentials grant, once (RFC 6749 §4.4), the client by HTTP Basic.
    let asked = auth.requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let t = &asked[0];
    assert_eq!(
        (t.method.as_str(), t.path.as_str()),
        ("POST", "/oauth/token")
    );
    assert_eq!(
        t.body,
        "grant_type=client_credentials&scope=orders%3Aread+orders%3Awrite"
    );
    assert_eq!(
        t.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!(
        "{CLIENT_ID}:{}",
        form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect::<String>()
    ));
    assert_eq!(
        t.header("Authorization"),
        Some(format!("Basic {encoded}").as_str())
    );

    // Both API calls carry it; the secret never goes to the API.
    let calls = api.requests();
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert_eq!(bearer(call), Some(format!("Bearer {TOKEN_A}").as_str()));
        assert!(!format!("{call:?}").contains("clientSecret"), "{call:?}");
    }

    let outcome = out.json();
    assert_eq!(
        step_record(&outcome, "first")["oauth2"],
        serde_json::json!({"token_url": TOKEN_URL, "token": "fetched"})
    );
    assert_eq!(step_record(&outcome, "second")["oauth2"]["token"], "cached");
    // The token request is in the wire log, credentials hidden.
    assert!(
        out.stderr.contains(
            "* first (OAuth2 token): attempt 1 of 3\n> POST https://auth.example/oauth/token\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("> Authorization: Basic [redacted]\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("> grant_type=client_credentials&scope="),
        "{}",
        out.stderr
    );
    assert_nothing_leaked(&out);
}

#[test]
fn a_401_gets_a_new_token_once_and_the_request_is_tried_again() {
    let auth = RawServer::start(vec![token(TOKEN_A), token(TOKEN_B)]);
    let api = RawServer::start(vec![unauthorized(), ok()]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow(&api.url(), &["list"]));
    let out = run_flow(&dir, &auth, &["-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(auth.requests().len(), 2);
    let calls = api.requests();
    assert_eq!(
        calls.iter().map(bearer).collect::<Vec<_>>(),
        [
            Some(format!("Bearer {TOKEN_A}").as_str()),
            Some(format!("Bearer {TOKEN_B}").as_str())
        ]
    );
    assert!(
        out.stderr.contains(
            "* list: the API answered 401 Unauthorized to the OAuth2 token; asking the token \
             endpoint for a new one and trying once more\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("* list: attempt 2 of 4\n"),
        "{}",
        out.stderr
    );
    assert_nothing_leaked(&out);
}

#[test]
fn a_second_401_stands_and_the_token_endpoint_is_asked_exactly_twice() {
    let auth = RawServer::start(vec![token(TOKEN_A), token(TOKEN_B)]);
    let api = RawServer::start(vec![unauthorized()]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow(&api.url(), &["list"]));
    let out = run_flow(&dir, &auth, &["-vv", "--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(auth.requests().len(), 2);
    assert_eq!(api.requests().len(), 2);
    let outcome = out.json();
    let error = &step_record(&outcome, "list")["error"];
    assert_eq!(error["kind"], "rejected", "{error}");
    assert_eq!(error["http_status"], 401);
    assert_eq!(
        error["message"],
        "The access token is not valid; a new OAuth2 token from \
         https://auth.example/oauth/token was refused too, so the client may not be allowed to \
         call this API: check its `scope` and `audience`"
    );
    assert_nothing_leaked(&out);
}

#[test]
fn a_401_whose_new_token_is_refused_says_both() {
    let auth = RawServer::start(vec![
        token(TOKEN_A),
        reply(
            "400 Bad Request",
            &[("Content-Type", "application/json")],
            r#"{"error":"unauthorized_client"}"#,
        ),
    ]);
    let api = RawServer::start(vec![unauthorized()]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow(&api.url(), &["list"]));
    let out = run_flow(&dir, &auth, &["--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(api.requests().len(), 1);
    let outcome = out.json();
    let list = step_record(&outcome, "list");
    assert_eq!(list["attempts"], 1);
    assert_eq!(
        list["error"]["message"],
        "the API answered 401 Unauthorized to the OAuth2 token, and a new one could not be \
         had, so the request was not sent again: the OAuth2 token endpoint \
         https://auth.example/oauth/token refused the token request with HTTP 400 Bad Request: \
         `unauthorized_client`. The client may not use the client credentials grant: allow it \
         at the provider."
    );
    assert_eq!(list["error"]["code"], "unauthorized_client");
    assert_nothing_leaked(&out);
}

#[test]
fn a_refused_client_is_a_clear_error_naming_the_token_url_and_the_oauth_code() {
    let auth = RawServer::start(vec![reply(
        "401 Unauthorized",
        &[("Content-Type", "application/json")],
        &format!(
            r#"{{"error":"invalid_client","error_description":"Client authentication failed for {CLIENT_SECRET}"}}"#
        ),
    )]);
    let api = RawServer::start(vec![ok()]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow(&api.url(), &["list"]));

    let out = run_flow(&dir, &auth, &["-vv", "--output", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    // A refusal is not retried, and the API is never called.
    assert_eq!(auth.requests().len(), 1);
    assert!(api.requests().is_empty());
    let outcome = out.json();
    let error = &step_record(&outcome, "list")["error"];
    assert_eq!(error["kind"], "rejected", "{error}");
    assert_eq!(error["code"], "invalid_client");
    assert_eq!(error["http_status"], 401);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the OAuth2 token endpoint https://auth.example/oauth/token refused the token \
             request with HTTP 401 Unauthorized: `invalid_client`: Client authentication failed \
             for "
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "; the API request was not sent. Check the client id and secret; a server that \
             takes them only in the form body needs `client_auth: body`."
        ),
        "{message}"
    );
    assert_nothing_leaked(&out);

    // As a person reads it: at the token URL in the flow.
    let out = run_flow(&dir, &auth, &["-vv"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.all_output().contains(" --> o.yaml:11:18\n"),
        "{}",
        out.all_output()
    );
    assert_nothing_leaked(&out);
}

#[test]
fn a_token_endpoint_that_is_down_for_a_moment_is_asked_again() {
    let auth = RawServer::start(vec![
        reply("503 Service Unavailable", &[], "busy"),
        token(TOKEN_A),
    ]);
    let api = RawServer::start(vec![ok()]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow(&api.url(), &["list"]));
    let out = run_flow(&dir, &auth, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(auth.requests().len(), 2);
    assert_eq!(
        bearer(&api.requests()[0]),
        Some(format!("Bearer {TOKEN_A}").as_str())
    );
}

#[test]
fn a_dry_run_asks_the_token_endpoint_nothing() {
    let auth = RawServer::start(vec![token(TOKEN_A)]);
    let dir = Scratch::new();
    dir.write("o.yaml", &flow("https://api.example.com", &["list"]));
    let out = run_flow(&dir, &auth, &["--dry-run", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(auth.requests().is_empty());
    assert_eq!(
        step_record(&out.json(), "list")["request"]["headers"]["Authorization"],
        "Bearer <OAuth2 token from https://auth.example/oauth/token>"
    );
}

#[test]
fn check_finds_oauth2_mistakes_at_their_place() {
    let dir = Scratch::new();
    // Shapes: a missing key, a secret written into the file, an unknown key.
    dir.write(
        "shape.yaml",
        r#"flow: shape
secrets: [CS]
steps:
  - id: missing
    type: http
    url: https://api.example.com/x
    auth: { type: oauth2, token_url: "https://auth.example/t", client_id: app }
  - id: literal
    type: http
    url: https://api.example.com/x
    auth:
      type: oauth2
      token_url: https://auth.example/t
      client_id: app
      client_secret: cs_live_written_in_the_file
      scopes: read
"#,
    );
    let out = crate::support::run(dir.path(), &["check", "shape.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    for (at, text) in [
        (
            " --> shape.yaml:7:13",
            "error[E003]: missing `client_secret` in `auth`",
        ),
        (
            "  --> shape.yaml:15:22",
            "error[E012]: `auth.client_secret` must be a declared secret, written \
             `<<secrets.NAME>>`",
        ),
        (
            "  --> shape.yaml:16:7",
            "error[E002]: unknown key `scopes` in `auth` of type `oauth2`",
        ),
    ] {
        assert!(
            out.stderr.contains(&format!("{text}\n{at}\n")),
            "{text} at {at}:\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr.contains("help: did you mean `scope`?"),
        "{}",
        out.stderr
    );

    // Where the secret goes: plain http to another machine, a host it is not bound to.
    dir.write(
        "bound.yaml",
        r#"flow: bound
secrets:
  - { name: CS, hosts: [auth.example] }
steps:
  - id: plain
    type: http
    url: https://api.example.com/x
    auth: { type: oauth2, token_url: "http://auth.example/t", client_id: app, client_secret: "<<secrets.CS>>" }
  - id: elsewhere
    type: http
    url: https://api.example.com/x
    auth: { type: oauth2, token_url: "https://login.example/t", client_id: app, client_secret: "<<secrets.CS>>" }
"#,
    );
    let out = crate::support::run(dir.path(), &["check", "bound.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    for (at, text) in [
        (
            " --> bound.yaml:8:38",
            "error[E010]: `auth.token_url` must be https: the client secret would cross the \
             network to http://auth.example unencrypted",
        ),
        (
            "  --> bound.yaml:12:97",
            "error[E012]: secret `CS` may only be sent to https://auth.example; the OAuth2 \
             token request goes to https://login.example",
        ),
    ] {
        assert!(
            out.stderr.contains(&format!("{text}\n{at}\n")),
            "{text} at {at}:\n{}",
            out.stderr
        );
    }
}

/// A page of a page-numbered list.
fn page(ids: &[u32]) -> crate::raw_http::Reply {
    let items: Vec<String> = ids.iter().map(|i| format!(r#"{{"id":{i}}}"#)).collect();
    reply(
        "200 OK",
        &[("Content-Type", "application/json")],
        &format!(r#"{{"results":[{}]}}"#, items.join(",")),
    )
}

#[test]
fn every_page_carries_the_token_and_a_401_on_a_later_page_gets_a_new_one() {
    let auth = RawServer::start(vec![token(TOKEN_A), token(TOKEN_B)]);
    let api = RawServer::start(vec![page(&[1, 2]), unauthorized(), page(&[3]), page(&[])]);
    let dir = Scratch::new();
    let text = flow(&api.url(), &["list"]).replace(
        "      scope: \"orders:read orders:write\"\n",
        "      scope: \"orders:read orders:write\"\n    paginate:\n      page: page\n      \
         items: $.results\n    response:\n      map:\n        ids: $.items[*].id\n",
    );
    dir.write("o.yaml", &text);
    let out = run_flow(&dir, &auth, &["-v", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(auth.requests().len(), 2);
    let calls = api.requests();
    let seen: Vec<(&str, Option<&str>)> =
        calls.iter().map(|r| (r.path.as_str(), bearer(r))).collect();
    let (a, b) = (format!("Bearer {TOKEN_A}"), format!("Bearer {TOKEN_B}"));
    assert_eq!(
        seen,
        [
            ("/v1/orders?page=1", Some(a.as_str())),
            ("/v1/orders?page=2", Some(a.as_str())),
            ("/v1/orders?page=2", Some(b.as_str())),
            ("/v1/orders?page=3", Some(b.as_str())),
        ]
    );
    let v = out.json();
    let record = step_record(&v, "list");
    assert_eq!(record["attempts"], 4, "{record}");
    assert_eq!(
        record["response"]["body"]["items"],
        serde_json::json!([{"id": 1}, {"id": 2}, {"id": 3}]),
        "{record}"
    );
    assert_nothing_leaked(&out);
}
