//! The one integration test binary: drives the real `flowstep` binary against a sandbox on
//! loopback that the tests start themselves. Nothing here reaches the internet.

mod batch;
mod bodies;
mod bounds;
mod checks;
mod cli;
mod cli_paper_cuts;
mod control_flow;
mod diagnostics;
mod durations;
mod echo_server;
mod embedding;
mod error_types;
mod example_flows;
mod format_rules;
mod long_values;
mod network_policy;
mod outcomes;
mod preset_runs;
mod presets;
mod raw_http;
mod raw_request;
mod recorder;
mod reliability;
mod runtime_errors;
mod schema;
mod secret_faults;
mod secret_matrix;
mod serve_support;
mod stripe_checkout;
mod support;
mod terminal_output;
mod tidy;
mod values;
mod whatsapp_channel;
mod wire_secrets;
