//! End-to-end tests: start the sandbox on 127.0.0.1:0 and drive it with a real HTTP client,
//! asserting only what a client can observe (status, headers, JSON, connection behaviour).

use std::time::{Duration, Instant};

use flowstep_sandbox::{Fault, FaultAction, SANDBOX_SECRET_KEY, Sandbox};
use serde_json::{Value, json};

const KEY: &str = SANDBOX_SECRET_KEY;
const FORM: &str = "application/x-www-form-urlencoded";

/// The preset's request, as the flowstep http step sends it.
const GOOD: &str = "mode=payment\
&line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=inr\
&line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Blue+T-shirt\
&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=50000\
&line_items%5B0%5D%5Bquantity%5D=1\
&success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D\
&cancel_url=https%3A%2F%2Fexample.com%2Fcancel";

/// The same request with literal brackets.
fn good_literal() -> String {
    [
        "mode=payment",
        "line_items[0][price_data][currency]=inr",
        "line_items[0][price_data][product_data][name]=Blue%20T-shirt",
        "line_items[0][price_data][unit_amount]=50000",
        "line_items[0][quantity]=1",
        "success_url=https://example.com/success",
    ]
    .join("&")
}

async fn start() -> (Sandbox, reqwest::Client) {
    let sb = Sandbox::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (sb, client)
}

fn sessions_url(sb: &Sandbox) -> String {
    format!("{}/v1/checkout/sessions", sb.base_url())
}

async fn create(
    client: &reqwest::Client,
    sb: &Sandbox,
    body: &str,
    idem: Option<&str>,
) -> reqwest::Response {
    send_create(client, sb, body, idem).await.unwrap()
}

/// Creates a session, returning the transport error too (for faults that close the connection).
async fn send_create(
    client: &reqwest::Client,
    sb: &Sandbox,
    body: &str,
    idem: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut req = client
        .post(sessions_url(sb))
        .bearer_auth(KEY)
        .header("Content-Type", FORM)
        .body(body.to_string());
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await
}

async fn json_of(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap();
    (status, headers, body)
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn assert_request_id(h: &reqwest::header::HeaderMap) {
    let id = header(h, "request-id").expect("Request-Id header");
    assert!(id.starts_with("req_"), "{id}");
    assert_eq!(id.len(), 18, "{id}");
    assert!(id[4..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
}

/// Asserts a 400 error with this message and param.
async fn assert_error(
    resp: reqwest::Response,
    status: u16,
    message: &str,
    param: Option<&str>,
) -> Value {
    let (st, h, body) = json_of(resp).await;
    assert_eq!(st, status, "{body}");
    assert_eq!(header(&h, "content-type"), Some("application/json"));
    assert_request_id(&h);
    assert_eq!(body["error"]["message"], message, "{body}");
    assert_eq!(body["error"]["param"].as_str(), param, "{body}");
    body
}

#[tokio::test]
async fn missing_api_key() {
    let (sb, client) = start().await;
    let resp = client
        .post(sessions_url(&sb))
        .header("Content-Type", FORM)
        .body(GOOD)
        .send()
        .await
        .unwrap();
    let body = assert_error(
        resp,
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        None,
    )
    .await;
    assert_eq!(
        body,
        json!({"error": {"message": body["error"]["message"], "type": "invalid_request_error"}})
    );
    assert_eq!(sb.sessions_created(), 0);
}

#[tokio::test]
async fn invalid_keys() {
    let (sb, client) = start().await;
    for (key, masked) in [
        ("sk_test_bad1234", "sk_test_****1234"),
        ("sk_live_abcdefghijkl5678", "sk_live_****5678"),
        ("rk_live_abcdefghijkl0000", "rk_live_****0000"),
        ("not-a-stripe-key-9999", "****9999"),
        ("sk_test_has-a-dash-here-4321", "sk_test_****4321"),
    ] {
        let resp = client
            .post(sessions_url(&sb))
            .bearer_auth(key)
            .header("Content-Type", FORM)
            .body(GOOD)
            .send()
            .await
            .unwrap();
        // A live key is refused with the sandbox's reason after Stripe's words.
        let live = if masked.contains("_live_") {
            ". The flowstep sandbox never takes live keys: use a test key (sk_test_... or rk_test_...)."
        } else {
            ""
        };
        assert_error(
            resp,
            401,
            &format!("Invalid API Key provided: {masked}{live}"),
            None,
        )
        .await;
    }
    let resp = client
        .post(sessions_url(&sb))
        .bearer_auth("pk_test_abcdefghijkl")
        .header("Content-Type", FORM)
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        403,
        "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
        None,
    )
    .await;
    // Basic auth with the key as user name and an empty password works; so does an rk key.
    let resp = client
        .post(sessions_url(&sb))
        .basic_auth(KEY, Some(""))
        .header("Content-Type", FORM)
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client
        .post(sessions_url(&sb))
        .bearer_auth("rk_test_0123456789")
        .header("Content-Type", FORM)
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sb.sessions_created(), 2);
}

#[tokio::test]
async fn wrong_content_type() {
    let (sb, client) = start().await;
    let resp = client
        .post(sessions_url(&sb))
        .bearer_auth(KEY)
        .header("Content-Type", "application/json")
        .body(r#"{"mode":"payment"}"#)
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        400,
        "Invalid request: unsupported Content-Type application/json. If error persists and you need assistance, please contact support@stripe.com.",
        None,
    )
    .await;
    // A charset parameter on the form type is fine.
    let resp = client
        .post(sessions_url(&sb))
        .bearer_auth(KEY)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn good_request_creates_a_realistic_session() {
    let (sb, client) = start().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (status, h, s) = json_of(create(&client, &sb, GOOD, None).await).await;
    assert_eq!(status, 200, "{s}");
    assert_request_id(&h);
    assert_eq!(header(&h, "content-type"), Some("application/json"));
    let id = s["id"].as_str().unwrap();
    assert!(id.starts_with("cs_test_a1"), "{id}");
    assert_eq!(id.len(), 66);
    assert_eq!(s["object"], "checkout.session");
    assert_eq!(s["status"], "open");
    assert_eq!(s["payment_status"], "unpaid");
    assert_eq!(s["mode"], "payment");
    assert_eq!(s["currency"], "inr");
    assert_eq!(s["amount_subtotal"], 50000);
    assert_eq!(s["amount_total"], 50000);
    assert_eq!(s["payment_intent"], Value::Null);
    assert_eq!(s["livemode"], false);
    assert_eq!(s["ui_mode"], "hosted");
    assert_eq!(s["metadata"], json!({}));
    assert_eq!(s["client_reference_id"], Value::Null);
    assert_eq!(s["customer_email"], Value::Null);
    assert_eq!(
        s["success_url"],
        "https://example.com/success?session_id={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(s["cancel_url"], "https://example.com/cancel");
    let created = s["created"].as_i64().unwrap();
    assert!(created >= before && created <= before + 5);
    assert_eq!(s["expires_at"].as_i64().unwrap(), created + 86400);
    let url = s["url"].as_str().unwrap();
    let prefix = format!("{}/c/pay/{id}#", sb.base_url());
    assert!(url.starts_with(&prefix), "{url}");
    let fragment = &url[prefix.len()..];
    assert!(
        fragment.starts_with("fid") && fragment.contains("%2F"),
        "{fragment}"
    );
    assert_eq!(sb.sessions_created(), 1);

    // Literal brackets and %20 decode the same way; several items add up.
    let body = format!(
        "{}&line_items[1][price_data][currency]=inr&line_items[1][price_data][product_data][name]=Cap&line_items[1][price_data][unit_amount]=1999&line_items[1][quantity]=3&client_reference_id=order-42&customer_email=a%40example.com&metadata[order]=42&expires_at={}",
        good_literal(),
        before + 3600
    );
    let (status, _, s) = json_of(create(&client, &sb, &body, None).await).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["amount_total"], 50000 + 3 * 1999);
    assert_eq!(s["client_reference_id"], "order-42");
    assert_eq!(s["customer_email"], "a@example.com");
    assert_eq!(s["metadata"], json!({"order": "42"}));
    assert_eq!(s["expires_at"], before + 3600);
    assert_eq!(s["cancel_url"], Value::Null);
    assert_eq!(sb.sessions_created(), 2);
}

#[tokio::test]
async fn missing_params_name_the_full_bracket_param() {
    let (sb, client) = start().await;
    let base = good_literal();
    let cases = [
        ("mode=payment&", "mode"),
        ("&success_url=https://example.com/success", "success_url"),
        (
            "&line_items[0][price_data][currency]=inr",
            "line_items[0][price_data][currency]",
        ),
        (
            "&line_items[0][price_data][product_data][name]=Blue%20T-shirt",
            "line_items[0][price_data][product_data][name]",
        ),
        (
            "&line_items[0][price_data][unit_amount]=50000",
            "line_items[0][price_data][unit_amount]",
        ),
    ];
    for (remove, param) in cases {
        let body = base.replace(remove, "");
        assert_ne!(body, base, "{remove}");
        let resp = create(&client, &sb, &body, None).await;
        let err = assert_error(
            resp,
            400,
            &format!("Missing required param: {param}."),
            Some(param),
        )
        .await;
        assert_eq!(err["error"]["code"], "parameter_missing");
        assert_eq!(err["error"]["type"], "invalid_request_error");
        assert_eq!(
            err["error"]["doc_url"],
            "https://stripe.com/docs/error-codes/parameter-missing"
        );
    }
    // line_items entirely absent.
    let resp = create(
        &client,
        &sb,
        "mode=payment&success_url=https://example.com/s",
        None,
    )
    .await;
    assert_error(
        resp,
        400,
        "Missing required param: line_items.",
        Some("line_items"),
    )
    .await;
    // quantity: Stripe's own wording for this one.
    let body = base.replace("&line_items[0][quantity]=1", "");
    let resp = create(&client, &sb, &body, None).await;
    let err = assert_error(
        resp,
        400,
        "Quantity is required. Add `quantity` to `line_items[0]`",
        Some("line_items[0][quantity]"),
    )
    .await;
    assert_eq!(err["error"]["code"], "parameter_missing");
    // A price id instead of price_data: the sandbox has no prices.
    let resp = create(
        &client,
        &sb,
        "mode=payment&line_items[0][price]=price_123&line_items[0][quantity]=1&success_url=https://e.com/s",
        None,
    )
    .await;
    let err = assert_error(
        resp,
        400,
        "No such price: 'price_123'",
        Some("line_items[0][price]"),
    )
    .await;
    assert_eq!(err["error"]["code"], "resource_missing");
    assert_eq!(sb.sessions_created(), 0);
}

#[tokio::test]
async fn invalid_values() {
    let (sb, client) = start().await;
    let base = good_literal();
    let resp = create(&client, &sb, &base.replace("=50000", "=19.99"), None).await;
    let err = assert_error(
        resp,
        400,
        "Invalid integer: 19.99",
        Some("line_items[0][price_data][unit_amount]"),
    )
    .await;
    assert_eq!(err["error"]["code"], "parameter_invalid_integer");

    let resp = create(&client, &sb, &base.replace("=50000", "=49"), None).await;
    assert_error(
        resp,
        400,
        "The Checkout Session's total amount due must add up to at least ₹0.50 inr",
        None,
    )
    .await;

    let resp = create(&client, &sb, &base.replace("=inr", "=xyz"), None).await;
    let (st, _, body) = json_of(resp).await;
    assert_eq!(st, 400);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(
            "Invalid currency: xyz. Stripe currently supports these currencies: usd, aed,"
        ),
        "{msg}"
    );
    assert_eq!(
        body["error"]["param"],
        "line_items[0][price_data][currency]"
    );

    let resp = create(
        &client,
        &sb,
        &base.replace("mode=payment", "mode=pay"),
        None,
    )
    .await;
    assert_error(
        resp,
        400,
        "Invalid mode: must be one of payment, setup, or subscription",
        Some("mode"),
    )
    .await;

    let resp = create(
        &client,
        &sb,
        &base.replace("quantity]=1", "quantity]=0"),
        None,
    )
    .await;
    assert_error(
        resp,
        400,
        "This value must be greater than or equal to 1.",
        Some("line_items[0][quantity]"),
    )
    .await;

    let resp = create(
        &client,
        &sb,
        &base.replace("https://example.com/success", "not a url"),
        None,
    )
    .await;
    let err = assert_error(resp, 400, "Not a valid URL", Some("success_url")).await;
    assert_eq!(err["error"]["code"], "url_invalid");

    let long = format!("{}&client_reference_id={}", base, "x".repeat(201));
    let resp = create(&client, &sb, &long, None).await;
    let (st, _, body) = json_of(resp).await;
    assert_eq!(
        (st, body["error"]["param"].as_str()),
        (400, Some("client_reference_id"))
    );

    let mut many = base.clone();
    for i in 0..51 {
        many.push_str(&format!("&metadata[k{i}]=v"));
    }
    let resp = create(&client, &sb, &many, None).await;
    assert_error(
        resp,
        400,
        "Metadata can have up to 50 keys, but you've set 51. Email us at support+metadata@stripe.com for more information.",
        Some("metadata"),
    )
    .await;

    let resp = create(&client, &sb, &format!("{base}&expires_at=12"), None).await;
    assert_error(
        resp,
        400,
        "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        Some("expires_at"),
    )
    .await;
    assert_eq!(sb.sessions_created(), 0);
}

#[tokio::test]
async fn unknown_params_and_index_gaps() {
    let (sb, client) = start().await;
    let base = good_literal();
    let resp = create(&client, &sb, &format!("{base}&colour=blue"), None).await;
    let err = assert_error(
        resp,
        400,
        "Received unknown parameter: colour",
        Some("colour"),
    )
    .await;
    assert_eq!(err["error"]["code"], "parameter_unknown");

    let resp = create(&client, &sb, &format!("{base}&line_items[0][foo]=1"), None).await;
    assert_error(
        resp,
        400,
        "Received unknown parameter: line_items[0][foo]",
        Some("line_items[0][foo]"),
    )
    .await;

    let resp = create(
        &client,
        &sb,
        &format!("{base}&line_items[0][price_data][product_data][colour]=red"),
        None,
    )
    .await;
    assert_error(
        resp,
        400,
        "Received unknown parameter: line_items[0][price_data][product_data][colour]",
        Some("line_items[0][price_data][product_data][colour]"),
    )
    .await;

    // Known parameters the sandbox does not model are accepted.
    let resp = create(
        &client,
        &sb,
        &format!(
            "{base}&billing_address_collection=required&payment_method_types[0]=card&locale=auto"
        ),
        None,
    )
    .await;
    assert_eq!(resp.status(), 200);

    let gap = base.replace("line_items[0]", "line_items[1]");
    let resp = create(&client, &sb, &gap, None).await;
    assert_error(resp, 400, "Invalid array", Some("line_items")).await;
    assert_eq!(sb.sessions_created(), 1);
}

#[tokio::test]
async fn idempotent_replay() {
    let (sb, client) = start().await;
    let (st1, h1, s1) = json_of(create(&client, &sb, GOOD, Some("order-1")).await).await;
    assert_eq!(st1, 200);
    assert_eq!(header(&h1, "idempotent-replayed"), None);
    let (st2, h2, s2) = json_of(create(&client, &sb, GOOD, Some("order-1")).await).await;
    assert_eq!(st2, 200);
    assert_eq!(header(&h2, "idempotent-replayed"), Some("true"));
    assert_eq!(header(&h2, "original-request"), header(&h1, "request-id"));
    assert_ne!(header(&h2, "request-id"), header(&h1, "request-id"));
    assert_eq!(s1, s2);
    assert_eq!(sb.sessions_created(), 1);

    // Same params in another order and with literal brackets are the same params.
    let reordered: Vec<&str> = GOOD.split('&').rev().collect();
    let (st3, h3, s3) =
        json_of(create(&client, &sb, &reordered.join("&"), Some("order-1")).await).await;
    assert_eq!(
        (st3, header(&h3, "idempotent-replayed")),
        (200, Some("true"))
    );
    assert_eq!(s3["id"], s1["id"]);

    // Keys are per API key: another key may use the same idempotency key.
    let resp = client
        .post(sessions_url(&sb))
        .bearer_auth("sk_test_another_account_key")
        .header("Content-Type", FORM)
        .header("Idempotency-Key", "order-1")
        .body(GOOD)
        .send()
        .await
        .unwrap();
    let (st4, h4, s4) = json_of(resp).await;
    assert_eq!((st4, header(&h4, "idempotent-replayed")), (200, None));
    assert_ne!(s4["id"], s1["id"]);
    assert_eq!(sb.sessions_created(), 2);
}

#[tokio::test]
async fn same_key_different_params_is_refused() {
    let (sb, client) = start().await;
    assert_eq!(create(&client, &sb, GOOD, Some("k-42")).await.status(), 200);
    let other = GOOD.replace("=50000", "=60000");
    let err = assert_error(
        create(&client, &sb, &other, Some("k-42")).await,
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'k-42' if you meant to execute a different request.",
        None,
    )
    .await;
    assert_eq!(err["error"]["type"], "idempotency_error");
    assert_eq!(sb.sessions_created(), 1);

    // A key longer than 255 characters is refused.
    let long = "k".repeat(256);
    let resp = create(&client, &sb, GOOD, Some(&long)).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn validation_failures_are_not_stored() {
    let (sb, client) = start().await;
    let bad = GOOD.replace("=50000", "=abc");
    assert_eq!(
        create(&client, &sb, &bad, Some("fix-me")).await.status(),
        400
    );
    let (st, h, _) = json_of(create(&client, &sb, GOOD, Some("fix-me")).await).await;
    assert_eq!((st, header(&h, "idempotent-replayed")), (200, None));
    assert_eq!(sb.sessions_created(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_same_key_gets_409() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: Some("/v1/checkout/sessions".into()),
        count: 1,
        action: FaultAction::Delay { ms: 3000 },
    });
    let first = {
        let client = client.clone();
        let url = sessions_url(&sb);
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(KEY)
                .header("Content-Type", FORM)
                .header("Idempotency-Key", "slow")
                .body(GOOD)
                .send()
                .await
                .unwrap()
        })
    };
    // Wait until the first request has arrived (and claimed the key), however loaded the machine.
    for _ in 0..100 {
        if !sb.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let err = assert_error(
        create(&client, &sb, GOOD, Some("slow")).await,
        409,
        "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): slow. Please try again later.",
        None,
    )
    .await;
    assert_eq!(err["error"]["type"], "idempotency_error");
    assert_eq!(err["error"]["code"], "idempotency_key_in_use");
    let first = first.await.unwrap();
    assert_eq!(first.status(), 200);
    let (st, h, _) = json_of(create(&client, &sb, GOOD, Some("slow")).await).await;
    assert_eq!((st, header(&h, "idempotent-replayed")), (200, Some("true")));
    assert_eq!(sb.sessions_created(), 1);
}

#[tokio::test]
async fn fault_status_answers_without_processing() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::Status {
            status: 503,
            body: None,
            headers: vec![
                ("Stripe-Should-Retry".into(), "true".into()),
                ("Retry-After".into(), "1".into()),
            ],
        },
    });
    let (st, h, body) = json_of(create(&client, &sb, GOOD, Some("k")).await).await;
    assert_eq!(st, 503);
    assert_request_id(&h);
    assert_eq!(header(&h, "stripe-should-retry"), Some("true"));
    assert_eq!(header(&h, "retry-after"), Some("1"));
    assert_eq!(body["error"]["type"], "api_error");
    assert_eq!(sb.sessions_created(), 0);
    // Not stored for idempotency: the retry is processed for real.
    let (st, h, _) = json_of(create(&client, &sb, GOOD, Some("k")).await).await;
    assert_eq!((st, header(&h, "idempotent-replayed")), (200, None));
    assert_eq!(sb.sessions_created(), 1);

    // A custom body, and path_prefix filtering.
    sb.inject(Fault {
        path_prefix: Some("/v1/customers".into()),
        count: 1,
        action: FaultAction::Status {
            status: 500,
            body: None,
            headers: vec![],
        },
    });
    sb.inject(Fault {
        path_prefix: Some("/v1/checkout".into()),
        count: 1,
        action: FaultAction::Status {
            status: 429,
            body: Some(json!({"error": {"type": "invalid_request_error", "code": "lock_timeout"}})),
            headers: vec![],
        },
    });
    let (st, _, body) = json_of(create(&client, &sb, GOOD, None).await).await;
    assert_eq!((st, &body["error"]["code"]), (429, &json!("lock_timeout")));
}

#[tokio::test]
async fn fault_close_before_processing() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::CloseBeforeProcessing,
    });
    let err = send_create(&client, &sb, GOOD, Some("c1"))
        .await
        .expect_err("the connection is closed with no response");
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(sb.sessions_created(), 0);
    // The request arrived (it is recorded) but nothing was created or stored.
    assert_eq!(sb.requests().len(), 1);
    let (st, h, _) = json_of(create(&client, &sb, GOOD, Some("c1")).await).await;
    assert_eq!((st, header(&h, "idempotent-replayed")), (200, None));
    assert_eq!(sb.sessions_created(), 1);
}

#[tokio::test]
async fn fault_drop_response_then_retry_gets_the_replay() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: Some("/v1/checkout/sessions".into()),
        count: 1,
        action: FaultAction::DropResponse,
    });
    let err = send_create(&client, &sb, GOOD, Some("lost-1"))
        .await
        .expect_err("the response is lost");
    assert!(!err.is_status(), "{err:?}");
    // The session WAS created...
    assert_eq!(sb.sessions_created(), 1);
    // ...and the retry with the same key gets it back instead of a second one.
    let (st, h, s) = json_of(create(&client, &sb, GOOD, Some("lost-1")).await).await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "idempotent-replayed"), Some("true"));
    assert_eq!(s["status"], "open");
    assert_eq!(sb.sessions_created(), 1);
}

#[tokio::test]
async fn fault_delay() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::Delay { ms: 1500 },
    });
    let t = Instant::now();
    assert_eq!(create(&client, &sb, GOOD, None).await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(1500));
    // A wide margin, not a speed check: only a second delay of 1.5 s could reach it.
    let t = Instant::now();
    assert_eq!(create(&client, &sb, GOOD, None).await.status(), 200);
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "the fault is used up"
    );
    assert_eq!(sb.sessions_created(), 2);
}

#[tokio::test]
async fn retrieve_expire_and_pay() {
    let (sb, client) = start().await;
    let (_, _, s) = json_of(create(&client, &sb, GOOD, None).await).await;
    let id = s["id"].as_str().unwrap().to_string();
    let url = s["url"].as_str().unwrap().to_string();

    // Retrieve.
    let resp = client
        .get(format!("{}/{id}", sessions_url(&sb)))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let (st, _, got) = json_of(resp).await;
    assert_eq!(st, 200);
    assert_eq!(got, s);
    let resp = client
        .get(format!("{}/cs_test_nope", sessions_url(&sb)))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let err = assert_error(
        resp,
        404,
        "No such checkout.session: 'cs_test_nope'",
        Some("session"),
    )
    .await;
    assert_eq!(err["error"]["code"], "resource_missing");

    // The checkout page (the fragment is never sent to the server).
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("flowstep sandbox checkout — no real payment"),
        "{html}"
    );
    assert!(html.contains("Blue T-shirt"));
    assert!(html.contains("₹500.00 INR"));
    assert!(html.contains("Pay (sandbox)"));
    assert!(html.contains("open"));

    // Pay.
    let pay_url = url.split('#').next().unwrap().to_string();
    let paid = client.post(&pay_url).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    let html = paid.text().await.unwrap();
    assert!(html.contains("Payment complete"), "{html}");
    let resp = client
        .get(format!("{}/{id}", sessions_url(&sb)))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let (_, _, got) = json_of(resp).await;
    assert_eq!(got["status"], "complete");
    assert_eq!(got["payment_status"], "paid");
    assert_eq!(got["url"], Value::Null);
    assert!(got["payment_intent"].as_str().unwrap().starts_with("pi_"));

    // A complete session cannot be expired.
    let resp = client
        .post(format!("{}/{id}/expire", sessions_url(&sb)))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        400,
        "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of `complete`.",
        None,
    )
    .await;

    // Expire an open one: url becomes null and the page says it is gone.
    let (_, _, s2) = json_of(create(&client, &sb, GOOD, None).await).await;
    let id2 = s2["id"].as_str().unwrap();
    let resp = client
        .post(format!("{}/{id2}/expire", sessions_url(&sb)))
        .bearer_auth(KEY)
        .header("Content-Type", FORM)
        .send()
        .await
        .unwrap();
    let (st, _, e) = json_of(resp).await;
    assert_eq!(st, 200);
    assert_eq!(e["status"], "expired");
    assert_eq!(e["url"], Value::Null);
    let page = client
        .get(format!("{}/c/pay/{id2}", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("expired"));
    let paid = client
        .post(format!("{}/c/pay/{id2}", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 410);
    let page = client
        .get(format!("{}/c/pay/cs_test_unknown", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);

    // List, newest first.
    let resp = client
        .get(sessions_url(&sb))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let (st, _, list) = json_of(resp).await;
    assert_eq!(st, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_routes() {
    let (sb, client) = start().await;
    let resp = client
        .post(format!("{}/v1/charges", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        404,
        "Unrecognized request URL (POST: /v1/charges). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        None,
    )
    .await;
    let resp = client
        .get(format!("{}/v1/checkout/sessions/", sb.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        404,
        "Unrecognized request URL (GET: /v1/checkout/sessions/). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        None,
    )
    .await;
}

#[tokio::test]
async fn admin_routes() {
    let (sb, client) = start().await;
    let base = sb.base_url();
    create(&client, &sb, GOOD, None).await;

    let stats: Value = client
        .get(format!("{base}/__sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"sessions_created": 1, "requests": 1, "payment_links_created": 0, "whatsapp_messages": 0})
    );

    // Faults over HTTP, in the derived (nested) form and the flat form.
    let fault = Fault {
        path_prefix: Some("/v1/checkout/sessions".into()),
        count: 1,
        action: FaultAction::Status {
            status: 502,
            body: None,
            headers: vec![],
        },
    };
    let resp = client
        .post(format!("{base}/__sandbox/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = client
        .post(format!("{base}/__sandbox/faults"))
        .header("Content-Type", "application/json")
        .body(r#"{"count": 1, "action": "status", "status": 504}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = client
        .post(format!("{base}/__sandbox/faults"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(create(&client, &sb, GOOD, None).await.status(), 502);
    assert_eq!(create(&client, &sb, GOOD, None).await.status(), 504);

    // The request log: API requests only, with decoded form pairs.
    let reqs: Value = client
        .get(format!("{base}/__sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reqs = reqs.as_array().unwrap();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0]["method"], "POST");
    assert_eq!(reqs[0]["path"], "/v1/checkout/sessions");
    let form = reqs[0]["form"].as_array().unwrap();
    assert!(form.contains(&json!([
        "line_items[0][price_data][product_data][name]",
        "Blue T-shirt"
    ])));
    assert!(
        reqs[0]["headers"]
            .as_array()
            .unwrap()
            .contains(&json!(["authorization", format!("Bearer {KEY}")]))
    );
    assert_eq!(sb.requests().len(), 3);

    // Echo.
    let echo: Value = client
        .post(format!("{base}/__sandbox/echo?x=1"))
        .header("Content-Type", "application/json")
        .header("X-Test", "yes")
        .body(r#"{"a": [1, 2]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/__sandbox/echo");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["headers"]["x-test"], "yes");
    assert_eq!(echo["json"], json!({"a": [1, 2]}));
    assert_eq!(echo["form"], Value::Null);
    let echo: Value = client
        .put(format!("{base}/__sandbox/echo"))
        .header("Content-Type", FORM)
        .body("a%5Bb%5D=1+2&c=")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["form"], json!([["a[b]", "1 2"], ["c", ""]]));
    assert_eq!(echo["body"], "a%5Bb%5D=1+2&c=");
    assert_eq!(echo["json"], Value::Null);
}

#[tokio::test]
async fn hostile_input_never_breaks_the_server() {
    let (sb, client) = start().await;
    let bodies: Vec<Vec<u8>> = vec![
        b"%ZZ=%G0&mode=payment&%".to_vec(),
        vec![
            0xff, 0xfe, b'=', 0xc3, b'&', b'm', b'o', b'd', b'e', b'=', 0x80,
        ],
        format!("{}=1", "k".repeat(100_000)).into_bytes(),
        format!("a{}=1", "[x]".repeat(50_000)).into_bytes(),
        b"line_items=abc&mode=payment&success_url=https://e.com".to_vec(),
        b"line_items[0]=abc&mode=payment&success_url=https://e.com".to_vec(),
        b"mode=payment&mode[x]=1".to_vec(),
        b"line_items[99999999999999999999999][x]=1&mode=payment".to_vec(),
        b"metadata=abc&mode=payment".to_vec(),
    ];
    for body in bodies {
        let resp = client
            .post(sessions_url(&sb))
            .bearer_auth(KEY)
            .header("Content-Type", FORM)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }
    // Over the 1 MiB limit: a clean 413.
    let resp = client
        .post(sessions_url(&sb))
        .bearer_auth(KEY)
        .header("Content-Type", FORM)
        .body(vec![b'a'; 2 * 1024 * 1024])
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 413);
    }
    // Still serving.
    assert_eq!(create(&client, &sb, GOOD, None).await.status(), 200);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (sb, client) = start().await;
    let url = sessions_url(&sb);
    assert_eq!(create(&client, &sb, GOOD, None).await.status(), 200);
    sb.shutdown();
    // The listener closes as the server task ends; allow a loaded machine a while for that.
    let fresh = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..50 {
        if fresh.post(url.clone()).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the sandbox still answers after shutdown");
}

/// Sends one raw HTTP/1.1 request and returns every byte the server sent before closing.
async fn raw_exchange(sb: &Sandbox, request: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(sb.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    out
}

fn raw_post(body: &str, idem: &str) -> Vec<u8> {
    format!(
        "POST /v1/checkout/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Type: {FORM}\r\nIdempotency-Key: {idem}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn close_faults_send_no_bytes_at_all() {
    let (sb, _client) = start().await;
    for action in [
        FaultAction::CloseBeforeProcessing,
        FaultAction::DropResponse,
    ] {
        sb.inject(Fault {
            path_prefix: None,
            count: 1,
            action,
        });
        let got = raw_exchange(&sb, &raw_post(GOOD, "raw-1")).await;
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    }
    // Only DropResponse processed the request.
    assert_eq!(sb.sessions_created(), 1);
    // Oversized bodies get a real 413 answer.
    let big = "a".repeat(1024 * 1024 + 1);
    let got = raw_exchange(&sb, &raw_post(&big, "raw-2")).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
}

#[tokio::test]
async fn a_client_that_gives_up_mid_request_releases_its_key() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::Delay { ms: 2_000 },
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = impatient
        .post(sessions_url(&sb))
        .bearer_auth(KEY)
        .header("Content-Type", FORM)
        .header("Idempotency-Key", "gave-up")
        .body(GOOD)
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    // The server notices the closed connection soon after; until then the key is in use (409).
    let mut answer = create(&client, &sb, GOOD, Some("gave-up")).await;
    for _ in 0..50 {
        if answer.status() != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = create(&client, &sb, GOOD, Some("gave-up")).await;
    }
    let (st, h, _) = json_of(answer).await;
    assert_eq!((st, header(&h, "idempotent-replayed")), (200, None));
    assert_eq!(sb.sessions_created(), 1);
}

/// `Stripe-Version`: a documented version is accepted and echoed; an unknown one is Stripe's
/// 400 "Invalid Stripe API version: <as sent>" with no code (stripe-java #682 quotes it for
/// `2019-2-19`, stripity-stripe #613 for two values, and ThumbGate #2053 for a made-up
/// `2025-09-30.acacia`, a date of the clover train).
#[tokio::test]
async fn stripe_version_header_is_checked() {
    let (sb, client) = start().await;
    let send = |version: &'static str| {
        client
            .post(sessions_url(&sb))
            .bearer_auth(KEY)
            .header("Content-Type", FORM)
            .header("Stripe-Version", version)
            .body(GOOD)
            .send()
    };
    for good in [
        flowstep_sandbox::PINNED_STRIPE_VERSION,
        "2025-03-31.basil",
        "2024-06-20",
    ] {
        let resp = send(good).await.unwrap();
        assert_eq!(resp.status(), 200, "{good}");
        assert_eq!(header(resp.headers(), "stripe-version"), Some(good));
    }
    for bad in ["2019-2-19", "2025-09-30.acacia", "2019-05-16, 2019-12-03"] {
        let resp = send(bad).await.unwrap();
        let body = assert_error(
            resp,
            400,
            &format!("Invalid Stripe API version: {bad}"),
            None,
        )
        .await;
        assert_eq!(
            body,
            json!({"error": {"message": body["error"]["message"], "type": "invalid_request_error"}})
        );
    }
    // Retrieving is checked too.
    let resp = client
        .get(sessions_url(&sb))
        .bearer_auth(KEY)
        .header("Stripe-Version", "2019-2-19")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(sb.sessions_created(), 3);
}

/// A no-cost order: Checkout takes a total of 0 in payment mode (Stripe's "no-cost orders",
/// https://docs.stripe.com/payments/checkout/no-cost-orders, API version 2023-08-16), and it
/// completes with `payment_status` `no_payment_required` and no PaymentIntent. A total that is
/// due is still held to the minimum (₹0.50, facts file).
#[tokio::test]
async fn zero_amount_sessions_are_no_cost_orders() {
    let (sb, client) = start().await;
    let free = GOOD.replace("unit_amount%5D=50000", "unit_amount%5D=0");
    let (st, _, s) = json_of(create(&client, &sb, &free, None).await).await;
    assert_eq!(st, 200, "{s}");
    assert_eq!(
        (&s["amount_total"], &s["status"]),
        (&json!(0), &json!("open"))
    );
    assert_eq!(s["payment_method_collection"], "if_required");
    let id = s["id"].as_str().unwrap().to_string();
    let page = client
        .get(format!("{}/c/pay/{id}", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let paid = client
        .post(format!("{}/c/pay/{id}", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let resp = client
        .get(format!("{}/{id}", sessions_url(&sb)))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let (_, _, done) = json_of(resp).await;
    assert_eq!(done["status"], "complete");
    assert_eq!(done["payment_status"], "no_payment_required");
    assert_eq!(done["payment_intent"], Value::Null);

    let one = GOOD.replace("unit_amount%5D=50000", "unit_amount%5D=1");
    let resp = create(&client, &sb, &one, None).await;
    assert_error(
        resp,
        400,
        "The Checkout Session's total amount due must add up to at least ₹0.50 inr",
        None,
    )
    .await;
}

/// An unknown parameter close to a known one gets Stripe's "Did you mean" (the form real
/// responses quote: "Received unknown parameter: ... Did you mean recurring?"); `param` and
/// `code` stay as for any unknown parameter, and a name close to nothing gets no suggestion.
#[tokio::test]
async fn unknown_params_close_to_a_known_one_get_did_you_mean() {
    let (sb, client) = start().await;
    let base = good_literal();
    for (extra, param, known) in [
        ("sucess_url=https://e.com/x", "sucess_url", "success_url"),
        (
            "client_refrence_id=o1",
            "client_refrence_id",
            "client_reference_id",
        ),
        (
            "line_items[0][price_data][product_data][nmae]=x",
            "line_items[0][price_data][product_data][nmae]",
            "name",
        ),
        (
            "line_items[0][quantiy]=1",
            "line_items[0][quantiy]",
            "quantity",
        ),
    ] {
        let resp = create(&client, &sb, &format!("{base}&{extra}"), None).await;
        let err = assert_error(
            resp,
            400,
            &format!("Received unknown parameter: {param}. Did you mean {known}?"),
            Some(param),
        )
        .await;
        assert_eq!(err["error"]["code"], "parameter_unknown");
    }
    let resp = create(&client, &sb, &format!("{base}&colour=blue"), None).await;
    assert_error(
        resp,
        400,
        "Received unknown parameter: colour",
        Some("colour"),
    )
    .await;
    assert_eq!(sb.sessions_created(), 0);
}
