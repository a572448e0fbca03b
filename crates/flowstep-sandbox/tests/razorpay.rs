//! End-to-end tests of the Razorpay Payment Links stand-in: start the sandbox on
//! 127.0.0.1:0 and drive it with a real HTTP client, asserting only what a client can
//! observe (status, headers, JSON, the hosted page).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flowstep_sandbox::{
    Fault, FaultAction, SANDBOX_RAZORPAY_KEY_ID, SANDBOX_RAZORPAY_KEY_SECRET, Sandbox,
};
use serde_json::{Value, json};

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

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn links_url(sb: &Sandbox) -> String {
    format!("{}/v1/payment_links", sb.base_url())
}

/// The reference's own create example, with an expiry an hour away.
fn reference_body() -> Value {
    json!({
        "amount": 50000,
        "currency": "INR",
        "accept_partial": true,
        "first_min_partial_amount": 100,
        "expire_by": now() + 3600,
        "reference_id": "TS1989",
        "description": "Payment for policy no #23456",
        "customer": {
            "name": "Gaurav Kumar",
            "contact": "+919000090000",
            "email": "gaurav.kumar@example.com"
        },
        "notify": {"sms": true, "email": true},
        "reminder_enable": true,
        "notes": {"policy_name": "Jeevan Bima"},
        "callback_url": "https://example-callback-url.com/",
        "callback_method": "get"
    })
}

async fn create(client: &reqwest::Client, sb: &Sandbox, body: &Value) -> reqwest::Response {
    client
        .post(links_url(sb))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn json_of(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap();
    (status, headers, body)
}

/// Asserts a full-envelope Razorpay error with this status, description and field.
async fn assert_error(
    resp: reqwest::Response,
    status: u16,
    description: &str,
    field: Option<&str>,
) {
    let (st, h, body) = json_of(resp).await;
    assert_eq!(st, status, "{body}");
    assert_eq!(
        h.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let mut expected = json!({
        "code": "BAD_REQUEST_ERROR",
        "description": description,
        "source": "NA",
        "step": "NA",
        "reason": "NA",
        "metadata": {}
    });
    if let Some(f) = field {
        expected["field"] = json!(f);
    }
    assert_eq!(body, json!({ "error": expected }), "{body}");
}

#[tokio::test]
async fn create_answers_the_payment_link_entity() {
    let (sb, client) = start().await;
    let body = reference_body();
    let before = now();
    let (st, _, link) = json_of(create(&client, &sb, &body).await).await;
    assert_eq!(st, 200, "{link}");
    let id = link["id"].as_str().unwrap();
    assert!(id.starts_with("plink_") && id.len() == 20, "{id}");
    assert!(id[6..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    let short_url = link["short_url"].as_str().unwrap();
    let prefix = format!("{}/rzp/i/", sb.base_url());
    assert!(short_url.starts_with(&prefix), "{short_url}");
    assert_eq!(short_url.len(), prefix.len() + 7, "{short_url}");
    let created_at = link["created_at"].as_i64().unwrap();
    assert!(created_at >= before && created_at <= now());
    assert_eq!(
        link,
        json!({
            "accept_partial": true,
            "amount": 50000,
            "amount_paid": 0,
            "callback_method": "get",
            "callback_url": "https://example-callback-url.com/",
            "cancelled_at": 0,
            "created_at": created_at,
            "currency": "INR",
            "customer": {
                "contact": "+919000090000",
                "email": "gaurav.kumar@example.com",
                "name": "Gaurav Kumar"
            },
            "description": "Payment for policy no #23456",
            "expire_by": body["expire_by"],
            "expired_at": 0,
            "first_min_partial_amount": 100,
            "id": id,
            "notes": {"policy_name": "Jeevan Bima"},
            "notify": {"email": true, "sms": true},
            "payments": null,
            "reference_id": "TS1989",
            "reminder_enable": true,
            "reminders": [],
            "short_url": short_url,
            "status": "created",
            "updated_at": created_at,
            "upi_link": false,
            "user_id": ""
        })
    );
    // Keys come alphabetically, like the reference's samples.
    let keys: Vec<_> = link.as_object().unwrap().keys().cloned().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(sb.payment_links_created(), 1);

    // Fetch answers the same entity.
    let (st, _, fetched) = json_of(
        client
            .get(format!("{}/{id}", links_url(&sb)))
            .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(fetched, link);

    // The reference's curl posts to the collection with a trailing slash; a minimal body
    // gets the documented defaults.
    let (st, _, minimal) = json_of(
        client
            .post(format!("{}/", links_url(&sb)))
            .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
            .header("Content-Type", "application/json; charset=utf-8")
            .body(r#"{"amount": 100}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{minimal}");
    assert_eq!(minimal["currency"], "INR");
    assert_eq!(minimal["accept_partial"], false);
    assert_eq!(minimal["expire_by"], 0);
    assert_eq!(minimal["reference_id"], "");
    assert_eq!(minimal["notes"], Value::Null);
    assert_eq!(minimal["customer"], json!({}));
    assert_eq!(minimal["notify"], json!({"email": false, "sms": false}));
    assert_ne!(minimal["id"], link["id"]);
    assert_ne!(minimal["short_url"], link["short_url"]);
    assert_eq!(sb.payment_links_created(), 2);
}

#[tokio::test]
async fn authentication() {
    let (sb, client) = start().await;
    let body = json!({"amount": 1000});
    // No credentials at all.
    let (st, _, v) = json_of(
        client
            .post(links_url(&sb))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 401);
    assert_eq!(
        v,
        json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Please provide your api key for authentication purposes"}})
    );
    // Wrong secret, another test key id, a live key id, an empty secret, a bearer token.
    let failed =
        json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}});
    for (id, secret) in [
        (SANDBOX_RAZORPAY_KEY_ID, "wrongwrongwrongwrongwron"),
        ("rzp_test_someoneElse12", SANDBOX_RAZORPAY_KEY_SECRET),
        (SANDBOX_RAZORPAY_KEY_ID, ""),
    ] {
        let (st, _, v) = json_of(
            client
                .post(links_url(&sb))
                .basic_auth(id, Some(secret))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((st, &v), (401, &failed), "{id}:{secret}");
    }
    // A live key id: refused, saying why (the sandbox plays test mode only).
    let (st, _, v) = json_of(
        client
            .post(links_url(&sb))
            .basic_auth(
                "rzp_live_flowstepSandbox1",
                Some(SANDBOX_RAZORPAY_KEY_SECRET),
            )
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, v),
        (
            401,
            json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed: the flowstep sandbox never takes live keys; use a test key id (rzp_test_...)"}})
        )
    );
    let (st, _, v) = json_of(
        client
            .get(format!("{}/plink_whatever", links_url(&sb)))
            .bearer_auth(SANDBOX_RAZORPAY_KEY_SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, &v), (401, &failed));
    assert_eq!(sb.payment_links_created(), 0);
}

#[tokio::test]
async fn amount_errors() {
    let (sb, client) = start().await;
    let cases = [
        (json!({"currency": "INR"}), "The amount field is required."),
        (json!({"amount": null}), "The amount field is required."),
        (json!({"amount": "1000"}), "The amount must be an integer."),
        (json!({"amount": 100.5}), "The amount must be an integer."),
        (json!({"amount": true}), "The amount must be an integer."),
        (json!({"amount": 99}), "The amount must be atleast INR 1.00"),
        (json!({"amount": 0}), "The amount must be atleast INR 1.00"),
        (
            json!({"amount": -500}),
            "The amount must be atleast INR 1.00",
        ),
    ];
    for (body, description) in cases {
        assert_error(
            create(&client, &sb, &body).await,
            400,
            description,
            Some("amount"),
        )
        .await;
    }
    assert_eq!(sb.payment_links_created(), 0);
    // The minimum itself is fine.
    assert_eq!(
        create(&client, &sb, &json!({"amount": 100})).await.status(),
        200
    );
}

#[tokio::test]
async fn body_must_be_json() {
    let (sb, client) = start().await;
    // A form-encoded body, as an SDK defaulting to forms sends it: Razorpay's JSON-only
    // service answers with a syntax error quoting the body.
    let resp = client
        .post(links_url(&sb))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("amount=100&currency=INR")
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        400,
        "syntax error but provided amount=100&currency=INR",
        None,
    )
    .await;
    // JSON that is not an object.
    let resp = client
        .post(links_url(&sb))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .header("Content-Type", "application/json")
        .body("[100]")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "syntax error but provided [100]", None).await;
    // Good JSON under the wrong Content-Type.
    let resp = client
        .post(links_url(&sb))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .header("Content-Type", "text/plain")
        .body(r#"{"amount": 100}"#)
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        400,
        "Content-Type must be application/json, got text/plain",
        None,
    )
    .await;
    assert_eq!(sb.payment_links_created(), 0);
}

#[tokio::test]
async fn field_errors() {
    let (sb, client) = start().await;
    let long_note = "x".repeat(256);
    let many_notes: serde_json::Map<String, Value> =
        (0..16).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        (
            json!({"amount": 100, "expire_by": now() + 60}),
            "expire_by: timestamp must be atleast 15 minutes in future",
            "expire_by",
        ),
        (
            json!({"amount": 100, "expire_by": now() - 10}),
            "expire_by: timestamp must be atleast 15 minutes in future",
            "expire_by",
        ),
        (
            json!({"amount": 100, "colour": "blue"}),
            "colour is/are not required and should not be sent",
            "colour",
        ),
        (
            json!({"amount": 100, "customer": {"name": "A", "age": 3}}),
            "customer.age is/are not required and should not be sent",
            "customer.age",
        ),
        (
            json!({"amount": 100, "notes": {"k": long_note}}),
            "value: the length must not be greater than 255.",
            "notes",
        ),
        (
            json!({"amount": 100, "notes": many_notes}),
            "notes may contain a maximum of 15 key-value pairs",
            "notes",
        ),
        (
            json!({"amount": 100, "callback_url": "https://example.com/done"}),
            "The callback method field is required when callback url is present.",
            "callback_method",
        ),
        (
            json!({"amount": 100, "callback_url": "https://example.com/done", "callback_method": "post"}),
            "The selected callback method is invalid.",
            "callback_method",
        ),
        (
            json!({"amount": 100, "upi_link": true}),
            "UPI Payment Links is not supported in Test Mode. Please experience the product in Live Mode.",
            "upi_link",
        ),
        (
            json!({"amount": 100, "currency": "USD"}),
            "Currency USD is not supported",
            "currency",
        ),
        (
            json!({"amount": 100, "reference_id": "r".repeat(41)}),
            "The reference id may not be greater than 40 characters.",
            "reference_id",
        ),
        (
            json!({"amount": 100, "accept_partial": "yes"}),
            "The accept partial field must be true or false.",
            "accept_partial",
        ),
    ];
    for (body, description, field) in cases {
        assert_error(
            create(&client, &sb, &body).await,
            400,
            description,
            Some(field),
        )
        .await;
    }
    assert_eq!(sb.payment_links_created(), 0);
    // 255 characters and 15 notes are fine.
    let mut ok_notes: serde_json::Map<String, Value> =
        (0..14).map(|i| (format!("k{i}"), json!(i))).collect();
    ok_notes.insert("long".into(), json!("x".repeat(255)));
    assert_eq!(
        create(&client, &sb, &json!({"amount": 100, "notes": ok_notes}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn duplicate_reference_id_is_refused() {
    let (sb, client) = start().await;
    let body = json!({"amount": 1000, "reference_id": "ORDER-42"});
    let (st, _, first) = json_of(create(&client, &sb, &body).await).await;
    assert_eq!(st, 200);
    assert_error(
        create(
            &client,
            &sb,
            &json!({"amount": 2000, "reference_id": "ORDER-42"}),
        )
        .await,
        400,
        "payment link creation with reference ID already attempted",
        Some("reference_id"),
    )
    .await;
    // Still refused after the first link is cancelled.
    let id = first["id"].as_str().unwrap();
    let resp = client
        .post(format!("{}/{id}/cancel", links_url(&sb)))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(create(&client, &sb, &body).await.status(), 400);
    // Another reference id, or none, is fine.
    assert_eq!(
        create(
            &client,
            &sb,
            &json!({"amount": 1000, "reference_id": "ORDER-43"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        create(&client, &sb, &json!({"amount": 1000}))
            .await
            .status(),
        200
    );
    assert_eq!(
        create(&client, &sb, &json!({"amount": 1000}))
            .await
            .status(),
        200
    );
    assert_eq!(sb.payment_links_created(), 4);
}

#[tokio::test]
async fn unknown_ids_and_routes() {
    let (sb, client) = start().await;
    let get = client
        .get(format!("{}/plink_doesNotExist01", links_url(&sb)))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .send()
        .await
        .unwrap();
    assert_error(get, 400, "The id provided does not exist", None).await;
    let cancel = client
        .post(format!("{}/plink_doesNotExist01/cancel", links_url(&sb)))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .send()
        .await
        .unwrap();
    assert_error(cancel, 400, "The id provided does not exist", None).await;
    // A method or path Razorpay does not serve, even without credentials.
    let delete = client
        .delete(format!("{}/plink_x", links_url(&sb)))
        .send()
        .await
        .unwrap();
    assert_error(
        delete,
        400,
        "The requested URL was not found on the server.",
        None,
    )
    .await;
    // Stripe's routes are untouched by the Razorpay ones.
    let stripe = client
        .post(format!("{}/v1/charges", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(stripe.status(), 404);
    let v: Value = stripe.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

async fn page(client: &reqwest::Client, url: &str, pay: bool) -> (u16, String) {
    let req = if pay {
        client.post(url)
    } else {
        client.get(url)
    };
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn the_short_url_page_pays_the_link() {
    let (sb, client) = start().await;
    let (_, _, link) = json_of(create(&client, &sb, &reference_body()).await).await;
    let id = link["id"].as_str().unwrap();
    let short_url = link["short_url"].as_str().unwrap();

    let (st, html) = page(&client, short_url, false).await;
    assert_eq!(st, 200);
    assert!(
        html.contains("flowstep sandbox — Razorpay payment link, no real payment"),
        "{html}"
    );
    assert!(html.contains("₹500.00 INR"), "{html}");
    assert!(html.contains("Payment for policy no #23456"), "{html}");
    assert!(html.contains("Pay (sandbox)"), "{html}");
    assert!(html.contains(id), "{html}");
    assert!(
        html.contains("<strong id=\"status\">created</strong>"),
        "{html}"
    );

    let (st, html) = page(&client, short_url, true).await;
    assert_eq!(st, 200);
    assert!(html.contains("Payment successful"), "{html}");
    assert!(
        html.contains("<strong id=\"status\">paid</strong>"),
        "{html}"
    );
    assert!(html.contains("https://example-callback-url.com/"), "{html}");
    // Paying twice changes nothing.
    let (st, html) = page(&client, short_url, true).await;
    assert_eq!(st, 200);
    assert!(html.contains("already been paid"), "{html}");

    let (st, _, paid) = json_of(
        client
            .get(format!("{}/{id}", links_url(&sb)))
            .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_paid"], 50000);
    let payments = paid["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["status"], "captured");
    assert_eq!(payments[0]["plink_id"], id);
    assert_eq!(payments[0]["amount"], 50000);
    assert!(
        payments[0]["payment_id"]
            .as_str()
            .unwrap()
            .starts_with("pay_")
    );

    // A paid link cannot be cancelled.
    let resp = client
        .post(format!("{}/{id}/cancel", links_url(&sb)))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        400,
        "cannot cancel or expire an already paid/partially paid link",
        None,
    )
    .await;

    // An unknown code.
    let (st, html) = page(&client, &format!("{}/rzp/i/nope123", sb.base_url()), false).await;
    assert_eq!(st, 404);
    assert!(html.contains("nope123"), "{html}");
}

#[tokio::test]
async fn cancel_then_the_page_refuses_payment() {
    let (sb, client) = start().await;
    let (_, _, link) = json_of(create(&client, &sb, &json!({"amount": 2500})).await).await;
    let id = link["id"].as_str().unwrap();
    let (st, _, cancelled) = json_of(
        client
            .post(format!("{}/{id}/cancel", links_url(&sb)))
            .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["cancelled_at"].as_i64().unwrap() >= link["created_at"].as_i64().unwrap());
    let resp = client
        .post(format!("{}/{id}/cancel", links_url(&sb)))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "cannot cancel an already cancelled link", None).await;
    let (st, html) = page(&client, link["short_url"].as_str().unwrap(), true).await;
    assert_eq!(st, 410);
    assert!(html.contains("cancelled"), "{html}");
}

#[tokio::test]
async fn faults_and_the_request_log() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: Some("/v1/payment_links".into()),
        count: 1,
        action: FaultAction::Status {
            status: 503,
            body: None,
            headers: vec![],
        },
    });
    let (st, _, v) = json_of(create(&client, &sb, &json!({"amount": 100})).await).await;
    assert_eq!(st, 503);
    assert_eq!(
        v,
        json!({"error": {
            "code": "SERVER_ERROR",
            "description": "The server encountered an error. The incident has been reported to admins.",
            "source": "NA", "step": "NA", "reason": "NA", "metadata": {}
        }})
    );
    assert_eq!(sb.payment_links_created(), 0);

    // A Stripe-only fault does not touch Razorpay paths.
    sb.inject(Fault {
        path_prefix: Some("/v1/checkout".into()),
        count: 1,
        action: FaultAction::CloseBeforeProcessing,
    });
    assert_eq!(
        create(&client, &sb, &json!({"amount": 100})).await.status(),
        200
    );

    // A lost response: the link is created, the client sees the connection close.
    sb.inject(Fault {
        path_prefix: Some("/v1/payment_links".into()),
        count: 1,
        action: FaultAction::DropResponse,
    });
    let lost = client
        .post(links_url(&sb))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .json(&json!({"amount": 100, "reference_id": "lost-1"}))
        .send()
        .await;
    assert!(lost.is_err());
    assert_eq!(sb.payment_links_created(), 2);
    // The retry with the same reference id shows the first attempt did land.
    assert_eq!(
        create(
            &client,
            &sb,
            &json!({"amount": 100, "reference_id": "lost-1"})
        )
        .await
        .status(),
        400
    );

    // The hosted page honours faults too.
    sb.inject(Fault {
        path_prefix: Some("/rzp/i/".into()),
        count: 1,
        action: FaultAction::Status {
            status: 502,
            body: Some(json!({"down": true})),
            headers: vec![],
        },
    });
    let resp = client
        .get(format!("{}/rzp/i/abc", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);

    // Every request is in the log, body and Basic auth header included.
    let reqs = sb.requests();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1/payment_links");
    assert_eq!(reqs[0].body, r#"{"amount":100}"#);
    assert!(
        reqs[0]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.starts_with("Basic "))
    );
    assert_eq!(reqs[4].path, "/rzp/i/abc");

    let stats: Value = client
        .get(format!("{}/__sandbox/stats", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"sessions_created": 0, "requests": 5, "payment_links_created": 2, "whatsapp_messages": 0})
    );
}

/// The default per-transaction ceiling, Rs 5,00,000 (Razorpay's Payment Pages FAQ, quoted in
/// razorpay-php #192), answered as razorpay-node #431 quotes it for a payment link.
#[tokio::test]
async fn the_amount_ceiling_is_rs_5_lakh() {
    let (sb, client) = start().await;
    assert_error(
        create(&client, &sb, &json!({"amount": 50_000_001})).await,
        400,
        "amount exceeds maximum amount allowed.",
        Some("amount"),
    )
    .await;
    assert_eq!(sb.payment_links_created(), 0);
    let at = create(&client, &sb, &json!({"amount": 50_000_000})).await;
    assert_eq!(at.status(), 200);
}

/// `GET /v1/payment_links?reference_id=...` (Razorpay's "Fetch all Payment Links", facts file):
/// `{"payment_links": [...]}` with the links created with that reference, and an empty list
/// for a reference nothing was created with; a cancelled link is listed as cancelled.
#[tokio::test]
async fn fetch_by_reference_id_and_cancel() {
    let (sb, client) = start().await;
    let (_, _, made) = json_of(create(&client, &sb, &reference_body()).await).await;
    let mut other = reference_body();
    other["reference_id"] = json!("TS1990");
    assert_eq!(create(&client, &sb, &other).await.status(), 200);
    let by_ref = |r: &str| {
        client
            .get(format!("{}?reference_id={r}", links_url(&sb)))
            .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
            .send()
    };
    let (st, _, list) = json_of(by_ref("TS1989").await.unwrap()).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list, json!({"payment_links": [made]}));
    let (_, _, none) = json_of(by_ref("nothing-here").await.unwrap()).await;
    assert_eq!(none, json!({"payment_links": []}));
    // Without credentials, Razorpay's 401.
    let anon = client
        .get(format!("{}?reference_id=TS1989", links_url(&sb)))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);

    let id = made["id"].as_str().unwrap();
    let cancel = client
        .post(format!("{}/{id}/cancel", links_url(&sb)))
        .basic_auth(SANDBOX_RAZORPAY_KEY_ID, Some(SANDBOX_RAZORPAY_KEY_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    let (_, _, list) = json_of(by_ref("TS1989").await.unwrap()).await;
    assert_eq!(list["payment_links"][0]["status"], "cancelled");
}

/// After paying, the page links to `callback_url` with Razorpay's `razorpay_*` parameters and
/// a `razorpay_signature` (hex HMAC-SHA256 of "link_id|reference_id|status|payment_id" under
/// the key secret, facts file) that the helper verifies; a forged status does not verify.
#[tokio::test]
async fn the_callback_redirect_carries_a_verifiable_signature() {
    use flowstep_webhook_signature::razorpay_callback;
    let (sb, client) = start().await;
    let (_, _, link) = json_of(create(&client, &sb, &reference_body()).await).await;
    let short_url = link["short_url"].as_str().unwrap();
    let (st, html) = page(&client, short_url, true).await;
    assert_eq!(st, 200);
    let href = html
        .split("<a id=\"callback\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no callback link in {html}"))
        .replace("&amp;", "&");
    let (base, query) = href.split_once('?').unwrap();
    assert_eq!(base, "https://example-callback-url.com/");
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "razorpay_payment_id",
            "razorpay_payment_link_id",
            "razorpay_payment_link_reference_id",
            "razorpay_payment_link_status",
            "razorpay_signature"
        ]
    );
    let cb = razorpay_callback::verify(&pairs, SANDBOX_RAZORPAY_KEY_SECRET).unwrap();
    assert_eq!(cb.payment_link_id, link["id"].as_str().unwrap());
    assert_eq!(cb.reference_id, "TS1989");
    assert_eq!(cb.status, "paid");
    assert!(cb.payment_id.starts_with("pay_"), "{}", cb.payment_id);
    let mut forged = pairs.clone();
    forged[3].1 = "partially_paid".into();
    assert!(razorpay_callback::verify(&forged, SANDBOX_RAZORPAY_KEY_SECRET).is_err());
}
