//! The `flowstep` binary: parses arguments and hands over to a command; exit codes mean
//! 0 succeeded, 1 the flow ran and failed, 2 invalid flow, inputs or arguments.

mod args;
mod batch;
mod commands;
mod connection_flags;
mod delivery;
mod dotenv;
mod exit;
mod files;
mod import;
mod json_log;
mod load;
mod logging;
mod out;
mod problems;
mod report;
mod sandbox_defaults;
mod secrets;
mod terminal_channel;
mod vars;
mod wiring;

use crate::out::errln;
use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than the C library's allocator: a run builds and drops many small JSON
/// values, and the server's store frees on its writer thread what the runs allocated on
/// theirs; mimalloc took a quarter off the CPU of a run in the benches (docs/design.md,
/// "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    // ring rather than AWS-LC (reqwest's default) for TLS: AWS-LC seeds its random generator
    // from jitter entropy on first use, which cost a one-shot https run ~50 ms of CPU
    // (docs/performance.md). Err means a provider is installed already: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let redactor = std::sync::Arc::new(flowstep_engine::Redactor::new());
    // A serving sandbox says when it cannot deliver an event (a warning) without -v.
    let quiet = match &cli.command {
        args::Command::Sandbox(a) if a.action.is_none() => "warn",
        _ => "error",
    };
    // `serve --log-format json`: the log and the server's own lines as JSON objects.
    let json =
        matches!(&cli.command, args::Command::Serve(a) if a.log_format == args::LogFormat::Json);
    if json {
        out::stderr_as_json();
    }
    logging::init(cli.verbose, quiet, redactor.clone(), json);
    match commands::dispatch(cli, redactor) {
        Ok(code) => code.into(),
        Err(e) => {
            errln!("error: {e:#}");
            exit::Exit::Invalid.into()
        }
    }
}
