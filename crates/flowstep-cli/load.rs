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

/// The engine with every step kind the CLI knows; `flow` steps find presets by name and files
/// relative to the flow that uses them.
pub fn engine(http: flowstep_http::HttpConfig) -> Engine {
    let mut engine = Engine::new();
    engine.register("http", flowstep_http::kind(http));
    engine.with_flow_loader(load_used_flow);
    engine
}

/// Finds the flow a `flow` step's `use:` names: a path relative to the using file (when it
/// looks like a path), else a bundled preset.
fn load_used_flow(reference: &str, from: &SourceFile) -> Result<SourceFile, String> {
    let looks_like_path =
        reference.contains('/') || reference.ends_with(".yaml") || reference.ends_with(".yml");
    if looks_like_path {
        let base = Path::new(from.name()).parent().unwrap_or(Path::new(""));
        let path = normalize(&base.join(reference));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return Ok(SourceFile::new(path.display().to_string(), text));
    }
    match flowstep_presets::get(reference) {
        Some(p) => Ok(SourceFile::new(p.file, p.source)),
        None => Err(match did_you_mean(reference, flowstep_presets::names()) {
            Some(s) => format!("no preset named `{reference}`; did you mean `{s}`?"),
            None => format!(
                "no preset named `{reference}` (presets: {}); write a path like `./other.yaml` for a file",
                flowstep_presets::names().collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// Prints diagnostics to stderr.
pub fn print_diagnostics(ds: &[Diagnostic], file: &SourceFile) {
    if !ds.is_empty() {
        eprint!("{}", render_all(ds, file));
    }
}

/// `a/./b/../c.yaml` as `a/c.yaml`, without touching the file system, so that the same file
/// reached two ways has one name (cycles are found by name).
fn normalize(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
