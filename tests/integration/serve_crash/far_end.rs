//! What the crash tests share: a server routed to a sandbox (Stripe and WhatsApp), the run they
//! start, and what the sandbox saw (session requests by idempotency key, messages).

use crate::serve_support::Serve;
use crate::support::TestSandbox;
use flowstep_sandbox::{
    Fault, FaultAction, SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
    SANDBOX_WHATSAPP_TOKEN,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// Who every run's messages go to.
pub const TO: &str = "+919000090000";

/// The path Checkout Sessions are created at.
pub const SESSIONS: &str = "/v1/checkout/sessions";

/// The path WhatsApp messages are sent to.
pub fn messages_path() -> String {
    format!(
        "/{}/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages",
        flowstep_whatsapp::DEFAULT_API_VERSION
    )
}

/// `flowstep serve` with Stripe and WhatsApp routed to `sandbox`, a lease of 1 s (a killed
/// server's runs are claimed again a second later), messages sent on WhatsApp, and `extra`.
pub fn serve(dir: &Path, sandbox: &TestSandbox, extra: &[&str]) -> Serve {
    let stripe = format!("https://api.stripe.com={}", sandbox.url());
    let graph = format!("https://graph.facebook.com={}", sandbox.url());
    let mut args = vec![
        "--route",
        &stripe,
        "--route",
        &graph,
        "--lease",
        "1s",
        "--channel",
        "whatsapp",
    ];
    args.extend_from_slice(extra);
    Serve::start(
        dir,
        &args,
        &[
            ("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY),
            ("WHATSAPP_TOKEN", SANDBOX_WHATSAPP_TOKEN),
            ("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID),
        ],
    )
}

/// `POST /v1/runs` for an order of `flow`: its run id is also the session's
/// `client_reference_id`, so the sandbox's requests say which run sent them.
pub fn order_of(flow: &str, run_id: &str) -> Value {
    let mut order = json!({
        "flow": flow,
        "run_id": run_id,
        "to": TO,
        "inputs": {
            "product_name": "Blue T-shirt",
            "amount_paise": 50000,
            "client_reference_id": run_id,
        },
    });
    // The preset's own input (and its copies'); `outer`, which uses the preset, passes its
    // own page on.
    if flow != "outer" {
        order["inputs"]["success_url"] = json!("https://shop.example/thanks");
    }
    order
}

/// [`order_of`] the Stripe preset.
pub fn order(run_id: &str) -> Value {
    order_of("stripe-checkout", run_id)
}

/// `count` requests to paths starting with `path` wait `ms` before they are processed.
pub fn delay(sandbox: &TestSandbox, path: &str, count: usize, ms: u64) {
    sandbox.sandbox.inject(Fault {
        path_prefix: Some(path.to_owned()),
        count,
        action: FaultAction::Delay { ms },
    });
}

/// Waits (at most `limit`) until `done` holds.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The idempotency keys of the session creates each run sent (by `client_reference_id`), in
/// arrival order, one per request.
pub fn session_keys(sandbox: &TestSandbox) -> BTreeMap<String, Vec<String>> {
    let mut by_run: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in sandbox.sandbox.requests() {
        if r.method != "POST" || r.path != SESSIONS {
            continue;
        }
        let reference = r
            .form
            .iter()
            .flatten()
            .find(|(k, _)| k == "client_reference_id")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let key = r
            .headers
            .iter()
            .find(|(k, _)| k == "idempotency-key")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        by_run.entry(reference).or_default().push(key);
    }
    by_run
}

/// How many requests reached paths starting with `path`.
pub fn requests_to(sandbox: &TestSandbox, method: &str, path: &str) -> usize {
    sandbox
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(path))
        .count()
}

/// The WhatsApp messages the sandbox accepted that carry `payment_url` (a run's link).
pub fn messages_with(sandbox: &TestSandbox, payment_url: &str) -> usize {
    sandbox
        .sandbox
        .whatsapp_messages()
        .iter()
        .filter(|m| m.text.contains(payment_url))
        .count()
}

/// The distinct keys in `keys`.
pub fn distinct(keys: &[String]) -> BTreeSet<&str> {
    keys.iter().map(String::as_str).collect()
}
