//! `flowstep presets` and `flowstep presets show NAME`.

use crate::args::PresetsAction;
use crate::exit::Exit;
use crate::out::{out, outln};
use anyhow::bail;
use flowstep_spec::did_you_mean;

pub fn presets(action: Option<PresetsAction>) -> anyhow::Result<Exit> {
    match action {
        None => {
            let width = flowstep_presets::names().map(str::len).max().unwrap_or(0);
            for p in flowstep_presets::PRESETS {
                outln!("{:width$}  {}", p.name, p.summary);
            }
        }
        Some(PresetsAction::Show { name }) => match flowstep_presets::get(&name) {
            Some(p) => out!("{}", p.source),
            None => match did_you_mean(&name, flowstep_presets::names()) {
                Some(s) => bail!("no preset named `{name}`; did you mean `{s}`?"),
                None => bail!("no preset named `{name}`; run `flowstep presets` to list them"),
            },
        },
    }
    Ok(Exit::Success)
}
