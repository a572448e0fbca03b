//! `flowstep sandbox`: serve the local Stripe-compatible API until Ctrl-C.

use crate::exit::Exit;
use crate::out::outln;
use anyhow::Context;
use flowstep_sandbox::{SANDBOX_SECRET_KEY, Sandbox};
use std::net::SocketAddr;

pub fn sandbox(addr: SocketAddr) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(async {
        let sandbox = Sandbox::start(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let base = sandbox.base_url();
        outln!("flowstep sandbox listening on {base} (no real payments)");
        outln!("  Stripe: POST {base}/v1/checkout/sessions, test key {SANDBOX_SECRET_KEY}");
        outln!("  try:    flowstep run stripe-checkout --route https://api.stripe.com={base} --var product_name=Tea --var amount_paise=50000");
        outln!("  admin:  GET {base}/__sandbox/stats, POST {base}/__sandbox/faults");
        outln!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        sandbox.shutdown();
        Ok(Exit::Success)
    })
}
