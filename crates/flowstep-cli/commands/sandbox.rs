//! `flowstep sandbox`: serve the local Stripe, Razorpay and WhatsApp stand-ins until Ctrl-C,
//! with `--forward-to` sending their events as signed webhooks to a receiver.

use crate::args::SandboxArgs;
use crate::exit::Exit;
use crate::out::{errln, outln};
use crate::{sandbox_defaults, secrets, wiring};
use anyhow::Context;
use flowstep_engine::Redactor;
use flowstep_sandbox::{
    DeliveryFaults, Forwarding, RetrySchedule, SANDBOX_RAZORPAY_KEY_ID,
    SANDBOX_RAZORPAY_KEY_SECRET, SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
    SANDBOX_WHATSAPP_TOKEN, Sandbox,
};
use std::sync::Arc;

pub fn sandbox(args: &SandboxArgs, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    let addr = args.addr;
    // It takes any test key and has no login of its own: reachable from this machine only.
    if !addr.ip().is_loopback() {
        errln!(
            "error: --addr {addr}: the sandbox listens on loopback only (127.0.0.1 or ::1), since it takes any test key and asks for no login; give an address like 127.0.0.1:{}",
            addr.port()
        );
        return Ok(Exit::Invalid);
    }
    let faults = DeliveryFaults {
        rate: args.forward_faults.unwrap_or(0.0),
        seed: args.forward_faults_seed,
    };
    let forwarding = match args.forward_to.as_deref().map(receiver_url).transpose() {
        Ok(url) => url,
        Err(e) => {
            errln!("error: --forward-to: {e}");
            return Ok(Exit::Invalid);
        }
    };
    let forwarding = match forwarding {
        Some(base_url) => {
            let found = secrets::read(&names())?;
            let secrets = sandbox_defaults::webhook_secrets(|name| match found.values.get(name) {
                Some(v) => v.expose().to_owned(),
                None => {
                    let d = sandbox_defaults::get(name).expect("a sandbox default");
                    errln!("{}", sandbox_defaults::note(d));
                    d.value.to_owned()
                }
            });
            for s in [&secrets.stripe, &secrets.razorpay, &secrets.whatsapp] {
                redactor.add(s);
            }
            Some(Forwarding {
                base_url,
                secrets,
                retry: RetrySchedule::default(),
                faults,
            })
        }
        None => None,
    };
    let templates = match &args.whatsapp_templates {
        None => Vec::new(),
        Some(path) => match crate::files::read_bytes(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_owned())
            })
            .and_then(|text| flowstep_sandbox::read_templates(&text))
        {
            Ok(t) => t,
            Err(e) => {
                errln!("error: --whatsapp-templates {}: {e}", path.display());
                return Ok(Exit::Invalid);
            }
        },
    };
    super::runtime()?.block_on(async {
        let sandbox = Sandbox::start(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        sandbox.add_whatsapp_templates(templates);
        sandbox.accept_any_test_key();
        // Forwarding is set up before the banner says the sandbox listens: an event caused the
        // moment a reader sees the first line must be sent too.
        let forwarding_to = forwarding.as_ref().map(|f| f.base_url.clone());
        sandbox.forward_to(forwarding);
        let base = sandbox.base_url();
        outln!("flowstep sandbox listening on {base} (no real payments; test keys only, live keys are refused)");
        outln!("  Stripe:    POST {base}/v1/checkout/sessions; any sk_test_/rk_test_ key, e.g. {SANDBOX_SECRET_KEY}");
        outln!("  Razorpay:  POST {base}/v1/payment_links; any rzp_test_ key id with a secret, e.g. {SANDBOX_RAZORPAY_KEY_ID}:{SANDBOX_RAZORPAY_KEY_SECRET}");
        outln!("  WhatsApp:  POST {base}/{{version}}/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages; token {SANDBOX_WHATSAPP_TOKEN}");
        if wiring::sandbox_addr() == Some(sandbox.addr()) {
            outln!("  try:       flowstep run stripe-checkout --sandbox --var product_name=Tea --var amount_paise=50000");
            outln!("             (in another terminal: run --sandbox uses this sandbox, so its links stay open)");
        } else {
            outln!("  try:       STRIPE_SECRET_KEY={SANDBOX_SECRET_KEY} flowstep run stripe-checkout --route https://api.stripe.com={base} --var product_name=Tea --var amount_paise=50000 --var success_url={base}/c/success");
        }
        outln!("  customer:  flowstep sandbox say --to {base} --from 919812345678 \"buy Blue T-shirt\"");
        outln!("  admin:     GET  {base}/__sandbox/stats        counts of sessions, links, messages, requests");
        outln!("             GET  {base}/__sandbox/requests     every request received");
        outln!("             GET  {base}/__sandbox/whatsapp/messages   the chat: messages sent and received");
        outln!("             GET  {base}/__sandbox/events       events and their webhook deliveries");
        outln!("             POST {base}/__sandbox/faults       make the next requests fail (docs/sandbox.md)");
        outln!("             POST {base}/c/pay/{{session id}}    pay a Checkout Session (or open its url and press Pay)");
        match &forwarding_to {
            Some(to) => outln!(
                "  events:    sent signed to {to}/webhooks/stripe, {to}/webhooks/razorpay, {to}/webhooks/whatsapp (retried for about 5 minutes)"
            ),
            None => outln!("  events:    listed only; add --forward-to URL to send them as webhooks"),
        }
        if faults.rate > 0.0 {
            outln!(
                "  faults:    {:.1}% of delivery attempts fail on purpose (seed {}); POST {base}/__sandbox/forward-faults changes it",
                faults.rate * 100.0,
                faults.seed
            );
        }
        let names: Vec<String> = sandbox.whatsapp_templates().into_iter().map(|t| t.name).collect();
        outln!("  WhatsApp templates: {} (--whatsapp-templates FILE adds more)", names.join(", "));
        outln!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        sandbox.shutdown();
        Ok(Exit::Success)
    })
}

fn names() -> Vec<String> {
    let secrets = sandbox_defaults::webhook_secrets(|name| name.to_owned());
    vec![secrets.stripe, secrets.razorpay, secrets.whatsapp]
}

/// A receiver's base URL: `http` or `https` with a host, no query or fragment; a trailing `/`
/// is dropped (the paths `/webhooks/...` go under it).
pub(super) fn receiver_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        format!(
            "{text:?} is not a URL ({e}); give the receiver's base URL, like http://127.0.0.1:8080"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{text:?} is not an http(s) URL with a host; give the receiver's base URL, like http://127.0.0.1:8080"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?} has a query or a fragment; give only the base URL (the sandbox adds /webhooks/stripe, ...)"
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}
