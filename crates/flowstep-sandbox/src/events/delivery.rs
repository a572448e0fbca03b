//! Delivering events: one background task per lane with events waiting, each event tried on
//! the [`RetrySchedule`](super::RetrySchedule) until a receiver answers 2xx, signed afresh at
//! every attempt (Stripe's signed timestamp must be recent), with the same id and body each
//! time, as the providers re-deliver.
//!
//! At least once: a receiver that stored an event but answered late is sent it again, and
//! de-duplicates by the id. Redirects are not followed (a 3xx is a failed attempt, as with
//! Stripe). No secret is ever logged.
//!
//! With [`DeliveryFaults`](super::DeliveryFaults) set, an attempt may fail on purpose: not
//! sent (as if the connection dropped), or sent with its answer thrown away (as if the
//! answer was lost), and is then retried like any failed attempt.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flowstep_webhook_signature::{razorpay, stripe, whatsapp};

use super::{Attempt, DeliveryState, Forwarding, InjectedFault, Outbox, Provider, now_ms};
use crate::api::lock;

/// Queues event `seq` at the end of `lane`, starting the lane's task when it was idle.
pub(super) fn enqueue(outbox: &Arc<Outbox>, forwarding: Arc<Forwarding>, lane: String, seq: u64) {
    let start = {
        let mut lanes = lock(&outbox.lanes);
        let queue = lanes.entry(lane.clone()).or_default();
        queue.push_back(seq);
        queue.len() == 1
    };
    if !start {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(drain(Arc::clone(outbox), forwarding, lane));
        }
        Err(_) => {
            // Every emitter runs on the sandbox's runtime; this is a guard, not a path.
            tracing::warn!("sandbox event {seq} not delivered: no tokio runtime to deliver it on");
        }
    }
}

/// Delivers the lane's events one after another until it is empty.
async fn drain(outbox: Arc<Outbox>, forwarding: Arc<Forwarding>, lane: String) {
    loop {
        let next = lock(&outbox.lanes)
            .get(&lane)
            .and_then(|q| q.front().copied());
        let Some(seq) = next else { return };
        if !deliver(&outbox, &forwarding, seq).await {
            // The sandbox is stopping: what is left in the lane is abandoned.
            let left = lock(&outbox.lanes).remove(&lane).unwrap_or_default();
            let mut log = lock(&outbox.log);
            for seq in left {
                if let Some(l) = log.get_mut(seq) {
                    l.event.delivery = DeliveryState::Abandoned;
                }
            }
            return;
        }
        let mut lanes = lock(&outbox.lanes);
        let Some(queue) = lanes.get_mut(&lane) else {
            return;
        };
        queue.pop_front();
        if queue.is_empty() {
            lanes.remove(&lane);
            return;
        }
    }
}

/// Tries event `seq` until it is delivered or the schedule is spent. `false` when the sandbox
/// stopped first.
async fn deliver(outbox: &Outbox, forwarding: &Forwarding, seq: u64) -> bool {
    let Some((provider, id, body)) = lock(&outbox.log)
        .get_mut(seq)
        .map(|l| (l.event.provider, l.event.id.clone(), l.body.clone()))
    else {
        return true;
    };
    let url = format!("{}{}", forwarding.base_url, provider.path());
    let client = match client(forwarding) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("sandbox cannot deliver events: no HTTP client ({e})");
            set_state(outbox, seq, DeliveryState::Failed);
            return true;
        }
    };
    let mut shutdown = outbox.shutdown.clone();
    let schedule = forwarding.retry;
    let attempts = schedule.attempts.max(1);
    for n in 1..=attempts {
        if n > 1 {
            let wait = schedule.delay_before(n);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return false,
            }
        }
        let Ok(_slot) = outbox.slots.acquire().await else {
            return false;
        };
        let at_ms = now_ms();
        let started = Instant::now();
        let fault = outbox.faults().decide(&id, n);
        let (status, error) = if fault == Some(InjectedFault::DropRequest) {
            (
                None,
                Some("injected fault: the connection dropped before the request was sent".into()),
            )
        } else {
            let request = signed(&client, &url, provider, &id, &body, &forwarding.secrets);
            let answer = tokio::select! {
                answer = request.send() => answer,
                _ = shutdown.changed() => return false,
            };
            match &answer {
                Ok(resp) => (Some(resp.status().as_u16()), None),
                Err(e) => (None, Some(failure(e))),
            }
        };
        let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        // A lost answer is recorded with the status the receiver gave, and is not a delivery.
        let (status, error) = match (fault, status) {
            (Some(InjectedFault::LoseResponse), Some(s)) => (
                Some(s),
                Some(format!(
                    "injected fault: the answer ({s}) was lost on the way back"
                )),
            ),
            _ => (status, error),
        };
        let delivered = error.is_none() && status.is_some_and(|s| (200..300).contains(&s));
        {
            let mut log = lock(&outbox.log);
            if let Some(l) = log.get_mut(seq) {
                l.event.attempts.push(Attempt {
                    at_ms,
                    status,
                    error: error.clone(),
                    took_ms,
                    fault,
                });
                if delivered {
                    l.event.delivery = DeliveryState::Delivered;
                }
            }
        }
        if delivered {
            tracing::info!(%id, %url, attempt = n, "sandbox event delivered");
            return true;
        }
        let what = match (status, &error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) => format!("answered {s}"),
            (None, None) => "failed".to_owned(),
        };
        if n < attempts {
            tracing::warn!(
                %id, %url, attempt = n,
                "sandbox event not delivered ({what}); next attempt in {:.1} s",
                schedule.delay_before(n + 1).as_secs_f64()
            );
        } else {
            tracing::warn!(
                %id, %url, attempt = n,
                "sandbox event not delivered ({what}); giving up after {attempts} attempts"
            );
        }
    }
    set_state(outbox, seq, DeliveryState::Failed);
    true
}

fn set_state(outbox: &Outbox, seq: u64, state: DeliveryState) {
    if let Some(l) = lock(&outbox.log).get_mut(seq) {
        l.event.delivery = state;
    }
}

/// One client per receiver setting: its connection pool is reused by every delivery.
fn client(forwarding: &Forwarding) -> reqwest::Result<reqwest::Client> {
    static CLIENTS: std::sync::Mutex<Vec<(Duration, reqwest::Client)>> =
        std::sync::Mutex::new(Vec::new());
    let timeout = forwarding.retry.timeout;
    let mut clients = lock(&CLIENTS);
    if let Some((_, c)) = clients.iter().find(|(t, _)| *t == timeout) {
        return Ok(c.clone());
    }
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A receiver on loopback must not be sent through a proxy from the environment.
        .no_proxy()
        .build()?;
    clients.push((timeout, client.clone()));
    Ok(client)
}

/// The request for one attempt, with the provider's headers and a fresh signature.
fn signed(
    client: &reqwest::Client,
    url: &str,
    provider: Provider,
    id: &str,
    body: &bytes::Bytes,
    secrets: &super::WebhookSecrets,
) -> reqwest::RequestBuilder {
    let request = client.post(url).body(body.clone());
    match provider {
        Provider::Stripe => {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            request
                .header("content-type", "application/json; charset=utf-8")
                .header(
                    "user-agent",
                    "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                )
                .header(stripe::HEADER, stripe::sign(body, &secrets.stripe, t))
        }
        Provider::Razorpay => request
            .header("content-type", "application/json")
            .header("user-agent", "Razorpay-Webhook/v1")
            .header(razorpay::HEADER, razorpay::sign(body, &secrets.razorpay))
            .header(razorpay::EVENT_ID_HEADER, id),
        Provider::WhatsApp => request
            .header("content-type", "application/json")
            .header("user-agent", "facebookexternalua")
            .header(whatsapp::HEADER, whatsapp::sign(body, &secrets.whatsapp)),
    }
}

/// Why an attempt got no answer, in a few words (reqwest's text names the URL already
/// given in the log line, and its source chain says the cause).
fn failure(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "no answer"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}
