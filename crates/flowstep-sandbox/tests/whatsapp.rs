//! End-to-end tests of the WhatsApp Cloud API stand-in: start the sandbox on 127.0.0.1:0
//! and drive it with a real HTTP client, asserting only what a client can observe
//! (status, headers, JSON) and what the sandbox recorded.

use std::time::Duration;

use flowstep_sandbox::{
    Fault, FaultAction, ReceivedWhatsApp, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN,
    Sandbox,
};
use serde_json::{Value, json};

/// Hindi, an emoji (outside the BMP), and a URL whose fragment must survive.
const TEXT: &str = "नमस्ते 🙏 आपका ऑर्डर तैयार है: https://example.com/orders/42?src=wa#pay-now";

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

fn messages_url(sb: &Sandbox, phone_number_id: &str) -> String {
    format!("{}/v21.0/{phone_number_id}/messages", sb.base_url())
}

fn text_body(to: &str, text: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": true, "body": text}
    })
}

async fn send(client: &reqwest::Client, sb: &Sandbox, body: &Value) -> reqwest::Response {
    client
        .post(messages_url(sb, SANDBOX_WHATSAPP_PHONE_NUMBER_ID))
        .bearer_auth(SANDBOX_WHATSAPP_TOKEN)
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

/// Asserts a Graph error: status, message, type and code, and a plausible fbtrace_id.
/// Returns the error object for further checks.
async fn assert_graph_error(
    resp: reqwest::Response,
    status: u16,
    message: &str,
    kind: &str,
    code: u64,
) -> (reqwest::header::HeaderMap, Value) {
    let (st, h, body) = json_of(resp).await;
    assert_eq!(st, status, "{body}");
    let err = body["error"].clone();
    assert_eq!(err["message"], message, "{body}");
    assert_eq!(err["type"], kind, "{body}");
    assert_eq!(err["code"], code, "{body}");
    let trace = err["fbtrace_id"].as_str().unwrap();
    assert!(trace.starts_with('A') && trace.len() == 23, "{trace}");
    (h, err)
}

#[tokio::test]
async fn a_text_message_is_accepted_and_recorded_byte_for_byte() {
    let (sb, client) = start().await;
    let (st, h, v) = json_of(send(&client, &sb, &text_body("+919000090000", TEXT)).await).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        h.get("facebook-api-version").and_then(|v| v.to_str().ok()),
        Some("v21.0")
    );
    let id = v["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("wamid."), "{id}");
    assert!(
        id[6..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
        "{id}"
    );
    assert_eq!(
        v,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+919000090000", "wa_id": "919000090000"}],
            "messages": [{"id": id}]
        })
    );

    // The same text sent with every non-ASCII character JSON-escaped (surrogate pair for
    // the emoji) is stored identically; `to` without `+` works too.
    let escaped = serde_json::to_string(&text_body("919000090000", TEXT))
        .unwrap()
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect::<String>();
    assert!(escaped.is_ascii());
    let resp = client
        .post(messages_url(&sb, SANDBOX_WHATSAPP_PHONE_NUMBER_ID))
        .bearer_auth(SANDBOX_WHATSAPP_TOKEN)
        .header("Content-Type", "application/json")
        .body(escaped.clone())
        .send()
        .await
        .unwrap();
    let (st, _, v2) = json_of(resp).await;
    assert_eq!(st, 200, "{v2}");
    assert_eq!(
        v2["contacts"],
        json!([{"input": "919000090000", "wa_id": "919000090000"}])
    );
    let id2 = v2["messages"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(id, id2);

    let got = sb.whatsapp_messages();
    assert_eq!(
        got,
        vec![
            // The customer never wrote: both are accepted, then fail outside the 24-hour
            // window with 131047.
            ReceivedWhatsApp {
                phone_number_id: SANDBOX_WHATSAPP_PHONE_NUMBER_ID.into(),
                to: "+919000090000".into(),
                text: TEXT.into(),
                id: id.clone(),
                kind: "text".into(),
                body: serde_json::to_string(&text_body("+919000090000", TEXT)).unwrap(),
                status: "failed".into(),
                error_code: Some(131047),
            },
            ReceivedWhatsApp {
                phone_number_id: SANDBOX_WHATSAPP_PHONE_NUMBER_ID.into(),
                to: "919000090000".into(),
                text: TEXT.into(),
                id: id2.clone(),
                kind: "text".into(),
                body: escaped,
                status: "failed".into(),
                error_code: Some(131047),
            },
        ]
    );
    assert_eq!(got[0].text.as_bytes(), TEXT.as_bytes());

    // The admin route answers the same list, and the stats count it.
    let base = sb.base_url();
    let listed: Value = client
        .get(format!("{base}/__sandbox/whatsapp/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed,
        json!([
            {"phone_number_id": SANDBOX_WHATSAPP_PHONE_NUMBER_ID, "to": "+919000090000", "text": TEXT, "id": id,
             "type": "text", "body": got[0].body, "status": "failed", "error_code": 131047},
            {"phone_number_id": SANDBOX_WHATSAPP_PHONE_NUMBER_ID, "to": "919000090000", "text": TEXT, "id": id2,
             "type": "text", "body": got[1].body, "status": "failed", "error_code": 131047},
        ])
    );
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
        json!({"sessions_created": 0, "requests": 2, "payment_links_created": 0, "whatsapp_messages": 2})
    );
    // Both sends are in the request log (the admin calls are not).
    let reqs = sb.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/v21.0/100000000000001/messages");
    assert!(reqs[0].body.contains(TEXT));
}

#[tokio::test]
async fn other_versions_and_the_query_token() {
    let (sb, client) = start().await;
    for version in ["v19.0", "v22.0", "v1"] {
        let resp = client
            .post(format!(
                "{}/{version}/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages?access_token={SANDBOX_WHATSAPP_TOKEN}",
                sb.base_url()
            ))
            .json(&text_body("16505551234", "hello"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{version}");
        assert_eq!(
            resp.headers()
                .get("facebook-api-version")
                .and_then(|v| v.to_str().ok()),
            Some(version)
        );
    }
    assert_eq!(sb.whatsapp_messages().len(), 3);
}

#[tokio::test]
async fn bad_or_missing_token() {
    let (sb, client) = start().await;
    let body = text_body("919000090000", "hi");
    for token in ["EAAnotTheSandboxToken", "garbage"] {
        let resp = client
            .post(messages_url(&sb, SANDBOX_WHATSAPP_PHONE_NUMBER_ID))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (h, err) = assert_graph_error(
            resp,
            401,
            "Invalid OAuth access token - Cannot parse access token",
            "OAuthException",
            190,
        )
        .await;
        assert!(err.get("error_subcode").is_none());
        assert_eq!(
            h.get("www-authenticate").and_then(|v| v.to_str().ok()),
            Some(
                "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token - Cannot parse access token\""
            )
        );
    }
    let resp = client
        .post(messages_url(&sb, SANDBOX_WHATSAPP_PHONE_NUMBER_ID))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_graph_error(
        resp,
        401,
        "An access token is required to request this resource.",
        "OAuthException",
        104,
    )
    .await;
    // The token is checked before the phone number id.
    let resp = client
        .post(messages_url(&sb, "999"))
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(sb.whatsapp_messages().is_empty());
}

#[tokio::test]
async fn unknown_phone_number_id() {
    let (sb, client) = start().await;
    let resp = client
        .post(messages_url(&sb, "123456789012345"))
        .bearer_auth(SANDBOX_WHATSAPP_TOKEN)
        .json(&text_body("919000090000", "hi"))
        .send()
        .await
        .unwrap();
    let (_, err) = assert_graph_error(
        resp,
        400,
        "Unsupported post request. Object with ID '123456789012345' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "GraphMethodException",
        100,
    )
    .await;
    assert_eq!(err["error_subcode"], 33);
    assert!(sb.whatsapp_messages().is_empty());
}

#[tokio::test]
async fn bad_recipient_numbers() {
    let (sb, client) = start().await;
    for to in [
        "not-a-number",
        "0091 90000 90000",
        "+91-90000-90000",
        "12345",
        "00919000090000",
    ] {
        let (_, err) = assert_graph_error(
            send(&client, &sb, &text_body(to, "hi")).await,
            400,
            "(#100) Invalid parameter",
            "OAuthException",
            100,
        )
        .await;
        assert_eq!(
            err["error_data"],
            json!({"messaging_product": "whatsapp", "details": "Parameter Invalid"}),
            "{to}"
        );
    }
    assert!(sb.whatsapp_messages().is_empty());
}

#[tokio::test]
async fn parameter_errors() {
    let (sb, client) = start().await;
    let long = "क".repeat(4097);
    let cases = [
        (
            json!({"to": "919000090000", "type": "text", "text": {"body": "hi"}}),
            "(#100) The parameter messaging_product is required.",
        ),
        (
            json!({"messaging_product": "sms", "to": "919000090000", "text": {"body": "hi"}}),
            "(#100) Param messaging_product must be one of {WHATSAPP} - got \"sms\".",
        ),
        (
            json!({"messaging_product": "whatsapp", "text": {"body": "hi"}}),
            "(#100) The parameter to is required.",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "919000090000", "type": "text", "text": {}}),
            "(#100) The parameter text['body'] is required.",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "919000090000", "text": {"body": ""}}),
            "(#100) The parameter text['body'] is required.",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "919000090000", "text": {"body": long}}),
            "(#100) Param text['body'] must be at most 4096 characters long.",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "919000090000", "type": "text"}),
            "(#100) Invalid parameter",
        ),
    ];
    for (body, message) in cases {
        assert_graph_error(
            send(&client, &sb, &body).await,
            400,
            message,
            "OAuthException",
            100,
        )
        .await;
    }
    // A body that is not JSON: Graph cannot read any parameter.
    let resp = client
        .post(messages_url(&sb, SANDBOX_WHATSAPP_PHONE_NUMBER_ID))
        .bearer_auth(SANDBOX_WHATSAPP_TOKEN)
        .header("Content-Type", "text/plain")
        .body(text_body("919000090000", "hi").to_string())
        .send()
        .await
        .unwrap();
    assert_graph_error(
        resp,
        400,
        "(#100) The parameter messaging_product is required.",
        "OAuthException",
        100,
    )
    .await;
    // Exactly 4096 characters is fine.
    let max = "क".repeat(4096);
    assert_eq!(
        send(&client, &sb, &text_body("919000090000", &max))
            .await
            .status(),
        200
    );
    assert_eq!(sb.whatsapp_messages().len(), 1);
}

#[tokio::test]
async fn faults_apply_to_the_messages_path() {
    let (sb, client) = start().await;
    sb.inject(Fault {
        path_prefix: Some("/v21.0/".into()),
        count: 2,
        action: FaultAction::Status {
            status: 500,
            body: None,
            headers: vec![],
        },
    });
    for _ in 0..2 {
        let (_, err) = assert_graph_error(
            send(&client, &sb, &text_body("919000090000", "hi")).await,
            500,
            "An unexpected error has occurred. Please retry your request later.",
            "OAuthException",
            2,
        )
        .await;
        assert_eq!(err["is_transient"], true);
    }
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::Status {
            status: 429,
            body: None,
            headers: vec![("Retry-After".into(), "1".into())],
        },
    });
    let resp = send(&client, &sb, &text_body("919000090000", "hi")).await;
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_graph_error(
        resp,
        429,
        "(#130429) Rate limit hit",
        "OAuthException",
        130429,
    )
    .await;
    // A delayed request still goes through.
    sb.inject(Fault {
        path_prefix: Some("/v21.0/".into()),
        count: 1,
        action: FaultAction::Delay { ms: 200 },
    });
    let started = std::time::Instant::now();
    assert_eq!(
        send(&client, &sb, &text_body("919000090000", "late"))
            .await
            .status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Only the message that was processed is recorded; all four requests are logged.
    assert_eq!(sb.whatsapp_messages().len(), 1);
    assert_eq!(sb.whatsapp_messages()[0].text, "late");
    assert_eq!(sb.requests().len(), 4);
}

#[tokio::test]
async fn an_oversized_body_gets_a_graph_shaped_413() {
    let (sb, client) = start().await;
    let resp = client
        .post(messages_url(&sb, SANDBOX_WHATSAPP_PHONE_NUMBER_ID))
        .bearer_auth(SANDBOX_WHATSAPP_TOKEN)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await;
    // The server may close before the client finished writing; when an answer arrives it
    // is Graph-shaped.
    if let Ok(resp) = resp {
        let (st, _, v) = json_of(resp).await;
        assert_eq!(st, 413);
        assert_eq!(v["error"]["type"], "OAuthException");
        assert!(v["error"]["fbtrace_id"].is_string());
    }
    assert!(sb.whatsapp_messages().is_empty());
}
