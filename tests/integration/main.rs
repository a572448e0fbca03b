//! The one integration test binary: drives the real `flowstep` binary against a sandbox on
//! loopback that the tests start themselves. Nothing here reaches the internet.

mod bodies;
mod checks;
mod cli;
mod control_flow;
mod diagnostics;
mod embedding;
mod example_flows;
mod preset_runs;
mod presets;
mod raw_http;
mod reliability;
mod runtime_errors;
mod schema;
mod stripe_checkout;
mod support;
mod tidy;
mod whatsapp_channel;
