//! `flowstep import curl`: prints a flow whose http step sends what a curl command sends.

use crate::args::ImportAction;
use crate::exit::Exit;
use crate::import::{curl_command, http_step};
use crate::out::{errln, out};

/// Reads the command (one argument, or `-` for stdin), splits it as a shell would, and
/// prints the flow on stdout and notes on stderr.
pub fn import(action: ImportAction) -> anyhow::Result<Exit> {
    let ImportAction::Curl { command, flow, id } = action;
    let words = if command == "-" {
        curl_command::split(&std::io::read_to_string(std::io::stdin())?)?
    } else {
        curl_command::split(&command)?
    };
    let cmd = curl_command::parse(&words)?;
    let imported = http_step::flow(
        &cmd,
        http_step::Names {
            flow: &flow,
            step: &id,
        },
    )?;
    out!("{}", imported.yaml);
    for note in &imported.notes {
        errln!("note: {note}");
    }
    Ok(Exit::Success)
}
