//! Finding a flow (a file or a bundled preset), reading it, and compiling it with the engine.

use anyhow::{Context, bail};
use flowstep_engine::Engine;
use flowstep_spec::{Diagnostic, SourceFile, did_you_mean, render_all};
use std::path::Path;

/// Reads FLOW: a path to a file, or the name of a bundled preset.
pub fn source(flow: &str) -> anyhow::Result<SourceFile> {
    let path = Path::new(flow);
    let looks_like_path = path.exists()
        || flow.contains('/')
        || flow.contains('\\')
        || flow.ends_with(".yaml")
        || flow.ends_with(".yml");
    if looks_like_path {
        let text = std::fs::read(path).with_context(|| format!("cannot read flow file {flow}"))?;
        let text = String::from_utf8(text)
            .with_context(|| format!("flow file {flow} is not UTF-8 text"))?;
        return Ok(SourceFile::new(flow, text));
    }
    if let Some(p) = flowstep_presets::get(flow) {
        return Ok(SourceFile::new(p.file, p.source));
    }
    match did_you_mean(flow, flowstep_presets::names()) {
        Some(s) => bail!("no flow file or preset named `{flow}`; did you mean the preset `{s}`?"),
        None => bail!(
            "no flow file or preset named `{flow}`; presets are: {}",
            flowstep_presets::names().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The engine with every step kind the CLI knows.
pub fn engine(http: flowstep_http::HttpConfig) -> Engine {
    let mut engine = Engine::new();
    engine.register("http", flowstep_http::kind(http));
    engine
}

/// Prints diagnostics to stderr.
pub fn print_diagnostics(ds: &[Diagnostic], file: &SourceFile) {
    if !ds.is_empty() {
        eprint!("{}", render_all(ds, file));
    }
}
