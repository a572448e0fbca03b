//! `flowstep schema`: prints the flow format's JSON Schema, for pointing an editor's YAML
//! language server at it (`flowstep schema > flow.schema.json`).

use crate::exit::Exit;
use crate::out::out;

pub fn schema() -> anyhow::Result<Exit> {
    out!("{}", flowstep_spec::FLOW_SCHEMA);
    Ok(Exit::Success)
}
