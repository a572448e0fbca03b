//! `flowstep sandbox say`: play a WhatsApp customer. Posts the message to a running sandbox's
//! `POST /__sandbox/whatsapp/inbound`, which sends it to its receiver as an inbound webhook,
//! and prints the message id (`wamid....`) on stdout.

use crate::exit::Exit;
use crate::out::{errln, outln};
use serde_json::{Value, json};
use std::time::Duration;

pub fn say(to: &str, from: &str, name: Option<&str>, text: &str) -> anyhow::Result<Exit> {
    let base = match super::sandbox::receiver_url(to) {
        Ok(u) => u,
        Err(e) => {
            errln!("error: --to: {}", e.replace("receiver's", "sandbox's"));
            return Ok(Exit::Invalid);
        }
    };
    let digits = from.strip_prefix('+').unwrap_or(from);
    if !(7..=15).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0')
    {
        errln!(
            "error: --from {from:?}: give the customer's WhatsApp number with the country code, 7 to 15 digits (like 919812345678)"
        );
        return Ok(Exit::Invalid);
    }
    if text.trim().is_empty() {
        errln!("error: the message text is empty");
        return Ok(Exit::Invalid);
    }
    let mut body = json!({"from": digits, "text": text});
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    let url = format!("{base}/__sandbox/whatsapp/inbound");
    super::runtime()?.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()?;
        let resp = match client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let cause = std::error::Error::source(&e)
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default();
                errln!(
                    "error: cannot reach the sandbox at {base}{cause} (is `flowstep sandbox` or `flowstep serve --sandbox` running there?)"
                );
                return Ok(Exit::Failed);
            }
        };
        let status = resp.status().as_u16();
        let answer: Option<Value> = match resp.bytes().await {
            Ok(b) => serde_json::from_slice(&b).ok(),
            Err(_) => None,
        };
        match (status, answer) {
            (200, Some(a)) if a["id"].is_string() => {
                outln!("{}", a["id"].as_str().unwrap_or_default());
                if a["forwarded"] == json!(false) {
                    errln!(
                        "note: the sandbox at {base} forwards its events to nobody, so no server got this message (start it with --forward-to URL, or use flowstep serve --sandbox)"
                    );
                }
                Ok(Exit::Success)
            }
            (400, Some(a)) => {
                let why = a["error"]["message"].as_str().unwrap_or("a bad request");
                errln!("error: the sandbox refused the message: {why}");
                Ok(Exit::Invalid)
            }
            (status, _) => {
                errln!(
                    "error: {url} answered {status}, not a message id: is {base} a flowstep sandbox?"
                );
                Ok(Exit::Failed)
            }
        }
    })
}
