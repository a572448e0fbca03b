//! `POST /v1/runs/{run_id}/retry` through a real `flowstep serve --sandbox`: a run whose
//! Checkout Session request the sandbox refused is queued again under the same run id and
//! succeeds, its request sent again with the same idempotency key; a run that has not failed
//! is `409 run_not_failed`, an unknown one `404`.

use crate::raw_http;
use crate::serve_support::Serve;
use crate::support::Scratch;
use serde_json::{Value, json};
use std::time::Duration;

fn order(run_id: &str) -> Value {
    json!({
        "flow": "stripe-checkout",
        "run_id": run_id,
        "to": "+919000090000",
        "inputs": {"product_name": "Blue T-shirt", "amount_paise": 50000, "success_url": "https://shop.example/thanks"},
    })
}

#[test]
fn a_failed_run_is_retried_with_the_same_run_id_and_idempotency_key() {
    let dir = Scratch::new();
    let serve = Serve::start(dir.path(), &["--sandbox"], &[]);
    let log = serve.log();
    let sandbox = log
        .split("built-in sandbox at ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{log}"))
        .to_owned();
    let fault = json!({"path_prefix": "/v1/checkout/sessions", "count": 1, "action": "status", "status": 400});
    let injected = raw_http::request(
        "POST",
        &format!("{sandbox}/__sandbox/faults"),
        &[("Content-Type", "application/json")],
        fault.to_string().as_bytes(),
    );
    assert!(injected.status < 300, "{}", injected.body);
    assert_eq!(serve.start_run(&order("order-7")).0, 201);
    let failed = serve.wait_for_end("order-7", Duration::from_secs(20));
    assert_eq!(failed["status"], "failed", "{failed}");

    let (status, unknown) = serve.call("POST", "/v1/runs/no-such-run/retry", None);
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (404, Some("run_not_found"))
    );
    let (status, queued) = serve.call("POST", "/v1/runs/order-7/retry", None);
    assert_eq!(status, 200, "{queued}");
    assert!(
        matches!(
            queued["status"].as_str(),
            Some("queued" | "running" | "succeeded")
        ),
        "{queued}"
    );
    let done = serve.wait_for_end("order-7", Duration::from_secs(20));
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempt"], 2);
    // One record per step: the failed attempt's record gave way to the retry's.
    let steps = done["outcome"]["steps"].as_array().unwrap();
    let sessions: Vec<&Value> = steps
        .iter()
        .filter(|s| s["id"] == "create_session")
        .collect();
    assert_eq!(sessions.len(), 1, "{steps:?}");
    assert_eq!(
        sessions[0]["request"]["headers"]["Idempotency-Key"],
        "flowstep-order-7-create_session"
    );
    let (status, again) = serve.call("POST", "/v1/runs/order-7/retry", None);
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("run_not_failed")),
        "{again}"
    );
}
