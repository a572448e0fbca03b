//! The runs page (`/ui`) of a real `flowstep serve --sandbox`, in a real headless Chromium
//! (`browser`): log in with the token, list and filter the runs, a run's page with its
//! request's secret key shown masked as stored (the key itself nowhere in the page), a flow value that tries
//! to inject HTML shown as text with no script run, cancel a waiting run, retry a failed run
//! with the same run id, and a screenshot. Actions from another origin are refused.

use crate::browser::Browser;
use crate::raw_http;
use crate::serve_support::{Serve, TOKEN};
use crate::support::Scratch;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What a flow value tries to inject.
const XSS: &str = r#"<script>window.__xss=1</script><img src=x onerror="window.__xss=2">"#;

const HELLO: &str = "flow: hello\ninputs:\n  name: { type: string, default: world }\nsteps:\n  - id: greet\n    type: set\n    values: { greeting: \"hello <<name>>\" }\noutputs:\n  greeting: <<greeting>>\n";

/// Waits a day for a Stripe event that never comes.
const AWAIT: &str = "flow: await-payment\ninputs:\n  session_id: { type: string }\nsteps:\n  - id: await_payment\n    type: wait\n    for: [stripe.checkout.session.completed]\n    match: { data.object.id: <<session_id>> }\n    timeout: 24h\n";

fn order(run_id: &str) -> Value {
    json!({
        "flow": "stripe-checkout",
        "run_id": run_id,
        "to": "+919000090000",
        "inputs": {"product_name": "Blue T-shirt", "amount_paise": 50000, "success_url": "https://shop.example/thanks"},
    })
}

/// Waits (at most 20 s) until run `run_id` has status `status`.
fn wait_for_status(serve: &Serve, run_id: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let run = serve.run(run_id);
        if run["status"] == status {
            return run;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "run {run_id} is not {status}: {run}\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The sandbox `serve --sandbox` started, from its log.
fn sandbox_url(serve: &Serve) -> String {
    let log = serve.log();
    let at = log
        .split("built-in sandbox at ")
        .nth(1)
        .unwrap_or_else(|| panic!("no sandbox address in:\n{log}"));
    at.split_whitespace().next().unwrap().to_owned()
}

/// Clicks `#button` and waits (at most 10 s) for the page it leads to, known by an element
/// matching `then`: a click may return before the new page is loaded.
async fn click_to(c: &Client, button: &str, then: &str) {
    c.find(Locator::Id(button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(then))
        .await
        .unwrap_or_else(|e| panic!("after #{button}, no `{then}`: {e}"));
}

#[test]
fn the_runs_page_in_headless_chromium() {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write("flows/hello.yaml", HELLO);
    dir.write("flows/await.yaml", AWAIT);
    let flows = dir.path().join("flows");
    let serve = Serve::start(
        dir.path(),
        &["--sandbox", "--flows", flows.to_str().unwrap()],
        &[],
    );
    // A run that succeeds, its request carrying the sandbox's secret key.
    assert_eq!(serve.start_run(&order("order-ok")).0, 201);
    wait_for_status(&serve, "order-ok", "succeeded");
    // A run that fails: the sandbox answers its one request 400 (not retried).
    let fault = json!({"path_prefix": "/v1/checkout/sessions", "count": 1, "action": "status", "status": 400});
    let injected = raw_http::request(
        "POST",
        &format!("{}/__sandbox/faults", sandbox_url(&serve)),
        &[("Content-Type", "application/json")],
        fault.to_string().as_bytes(),
    );
    assert!(injected.status < 300, "{}", injected.body);
    assert_eq!(serve.start_run(&order("order-failed")).0, 201);
    wait_for_status(&serve, "order-failed", "failed");
    // A waiting run, and a run whose input tries to inject HTML.
    let waiting = json!({"flow": "await-payment", "run_id": "waits-1", "inputs": {"session_id": "cs_test_1"}});
    assert_eq!(serve.start_run(&waiting).0, 201);
    wait_for_status(&serve, "waits-1", "waiting");
    let xss = json!({"flow": "hello", "run_id": "xss-1", "inputs": {"name": XSS}});
    assert_eq!(serve.start_run(&xss).0, 201);
    wait_for_status(&serve, "xss-1", "succeeded");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Some(browser) = Browser::start("serve_ui::the_runs_page_in_headless_chromium").await
        else {
            return;
        };
        let c = &browser.client;
        let url = |path: &str| format!("{}{path}", serve.url);

        // Without the cookie, the login form; a wrong token is refused.
        c.goto(&url("/ui")).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/ui/login");
        c.find(Locator::Id("token"))
            .await
            .unwrap()
            .send_keys("wrong-token-0123456789")
            .await
            .unwrap();
        click_to(c, "login", "p.problem").await;
        let source = c.source().await.unwrap();
        assert!(
            source.contains("not this server&#39;s API token")
                || source.contains("not this server's API token"),
            "{} {source}\n{}",
            c.current_url().await.unwrap(),
            serve.log()
        );
        c.find(Locator::Id("token"))
            .await
            .unwrap()
            .send_keys(TOKEN)
            .await
            .unwrap();
        click_to(c, "login", "#runs").await;
        assert_eq!(c.current_url().await.unwrap().path(), "/ui");
        // The session cookie is out of any script's reach, and is not the token.
        let cookie = c.get_named_cookie("flowstep_session").await.unwrap();
        assert_eq!(cookie.http_only(), Some(true));
        assert_ne!(cookie.value(), TOKEN);
        assert_eq!(
            c.execute("return document.cookie", vec![]).await.unwrap(),
            json!("")
        );

        // The list, newest first.
        let rows = c.find_all(Locator::Css("#runs tbody tr")).await.unwrap();
        let mut ids = Vec::new();
        for row in &rows {
            ids.push(row.attr("data-run-id").await.unwrap().unwrap());
        }
        assert_eq!(ids, ["xss-1", "waits-1", "order-failed", "order-ok"]);

        // Filter by status, then by flow.
        c.find(Locator::Id("status"))
            .await
            .unwrap()
            .select_by_value("failed")
            .await
            .unwrap();
        click_to(c, "filter", r#"#status option[value="failed"][selected]"#).await;
        let rows = c.find_all(Locator::Css("#runs tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].attr("data-run-id").await.unwrap().as_deref(),
            Some("order-failed")
        );
        c.find(Locator::Id("status"))
            .await
            .unwrap()
            .select_by_value("")
            .await
            .unwrap();
        c.find(Locator::Id("flow"))
            .await
            .unwrap()
            .select_by_value("stripe-checkout")
            .await
            .unwrap();
        click_to(
            c,
            "filter",
            r#"#flow option[value="stripe-checkout"][selected]"#,
        )
        .await;
        let rows = c.find_all(Locator::Css("#runs tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 2, "{}", c.source().await.unwrap());

        // A run's page: its steps and request, the secret key redacted as stored.
        c.find(Locator::LinkText("order-ok"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("steps"))
            .await
            .unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/ui/runs/order-ok");
        let source = c.source().await.unwrap();
        assert!(
            !source.contains(flowstep_sandbox::SANDBOX_SECRET_KEY),
            "the secret key is on the page"
        );
        // The key is shown as the store holds it, masked (`Bearer sk_test_...4242`).
        let stored = serve.run("order-ok");
        let marker = stored["outcome"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "create_session")
            .map(|s| {
                s["request"]["headers"]["Authorization"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .unwrap();
        assert!(
            marker.starts_with("Bearer ") && marker.contains("..."),
            "{marker}"
        );
        assert!(source.contains(&marker), "no `{marker}` in {source}");
        assert!(source.contains("/v1/checkout/sessions"), "{source}");
        let steps = c.find_all(Locator::Css("#steps tr.step")).await.unwrap();
        assert!(!steps.is_empty());
        let messages = c
            .find(Locator::Id("messages"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(messages.contains("+919000090000"), "{messages}");

        // A flow value that tries to inject HTML is shown as text, and nothing of it runs.
        c.goto(&url("/ui/runs/xss-1")).await.unwrap();
        let shown = c
            .find(Locator::Id("inputs"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(shown.contains(XSS.replace('"', "\\\"").as_str()), "{shown}");
        let outputs = c
            .find(Locator::Id("outputs"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            outputs.contains("<script>window.__xss=1</script>"),
            "{outputs}"
        );
        assert_eq!(
            c.execute("return typeof window.__xss", vec![])
                .await
                .unwrap(),
            json!("undefined")
        );
        assert!(
            c.find_all(Locator::Css("main img, main script"))
                .await
                .unwrap()
                .is_empty()
        );

        // Cancel the waiting run: what it waits for and until when, then cancelled.
        c.goto(&url("/ui/runs/waits-1")).await.unwrap();
        let waiting = c
            .find(Locator::Id("waiting"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            waiting.contains("stripe.checkout.session.completed") && waiting.contains("cs_test_1"),
            "{waiting}"
        );
        click_to(c, "cancel", "#notice").await;
        let status = c
            .find(Locator::Id("run-status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status, "cancelled");
        assert_eq!(serve.run("waits-1")["status"], "cancelled");

        // Retry the failed run: the same run id, queued again, then succeeded.
        c.goto(&url("/ui/runs/order-failed")).await.unwrap();
        assert!(
            c.find_all(Locator::Id("cancel")).await.unwrap().is_empty(),
            "an ended run has no cancel"
        );
        click_to(c, "retry", "#notice").await;
        let notice = c
            .find(Locator::Id("notice"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(notice.contains("queued again"), "{notice}");
        let run = wait_for_status(&serve, "order-failed", "succeeded");
        assert_eq!(run["attempt"], 2, "{run}");
        c.refresh().await.unwrap();
        let status = c
            .find(Locator::Id("run-status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status, "succeeded");

        // A screenshot of the page, a PNG.
        let png = c.screenshot().await.unwrap();
        let shot = dir.path().join("run-page.png");
        std::fs::write(&shot, &png).unwrap();
        let written = std::fs::read(&shot).unwrap();
        assert!(
            written.len() > 1000 && written.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} bytes",
            written.len()
        );

        // An action from another origin, with the session cookie, is refused.
        let session = format!("flowstep_session={}", cookie.value());
        let forged = raw_http::request(
            "POST",
            &url("/ui/runs/order-ok/retry"),
            &[("Cookie", &session), ("Origin", "http://evil.example")],
            b"",
        );
        assert_eq!(forged.status, 403, "{}", forged.body);

        // A run id that is not UTF-8 once decoded: the page that says no run has it, as the
        // API's 404 does, not axum's plain-text rejection.
        let odd = raw_http::request("GET", &url("/ui/runs/%FF"), &[("Cookie", &session)], b"");
        assert_eq!(odd.status, 404, "{}", odd.body);
        assert!(
            odd.body.contains(
                "no run has the id in this path: it is not UTF-8 once its %-escapes are decoded"
            ) && odd.body.contains("<html"),
            "{}",
            odd.body
        );

        browser.close().await;
    });
}
