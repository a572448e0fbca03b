//! The subcommands.

mod batch;
mod check;
mod import;
mod presets;
mod run;
mod sandbox;
mod sandbox_say;
mod schema;
mod serve;

use crate::args::{Cli, Command, SandboxAction};
use crate::exit::Exit;
use flowstep_engine::Redactor;
use std::sync::Arc;

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Run(args) => run::run(args, cli.verbose, redactor),
        Command::Batch(args) => batch::batch(args, cli.verbose, redactor),
        Command::Check(args) => check::check(args),
        Command::Presets { action } => presets::presets(action),
        Command::Serve(args) => serve::serve(args, redactor),
        Command::Sandbox(args) => match args.action {
            Some(SandboxAction::Say {
                to,
                from,
                name,
                text,
            }) => sandbox_say::say(&to, &from, name.as_deref(), &text),
            None => sandbox::sandbox(&args, redactor),
        },
        Command::Schema => schema::schema(),
        Command::Import { action } => import::import(action),
    }
}

/// A tokio runtime for the commands that do I/O.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
