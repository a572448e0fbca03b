//! Finding a flow (a file or a bundled preset), reading it, and compiling it with the engine.

use crate::files::{self, Unreadable};
use crate::out::{err, errln};
use flowstep_engine::Engine;
use flowstep_spec::{Diagnostic, SourceFile, did_you_mean, render_all};
use std::path::{Component, Path, PathBuf};

/// Reads FLOW: a path to a file, the name of a bundled preset, or `-` for stdin.
pub fn source(flow: &str) -> Result<SourceFile, Unreadable> {
    if flow == "-" {
        return files::read_stdin("flow");
    }
    let path = Path::new(flow);
    if looks_like_path(flow) {
        return files::read(path, flow, "flow file");
    }
    if let Some(p) = flowstep_presets::get(flow) {
        return Ok(SourceFile::new(p.file, p.source));
    }
    Err(Unreadable::Refused(
        match did_you_mean(flow, flowstep_presets::names()) {
            Some(s) => {
                format!("no flow file or preset named `{flow}`; did you mean the preset `{s}`?")
            }
            None => format!(
                "no flow file or preset named `{flow}`; presets are: {}",
                flowstep_presets::names().collect::<Vec<_>>().join(", ")
            ),
        },
    ))
}

/// Whether FLOW names a file (or stdin) rather than a preset: it exists, or looks like a path.
fn looks_like_path(flow: &str) -> bool {
    flow == "-"
        || Path::new(flow).exists()
        || flow.contains('/')
        || flow.contains('\\')
        || flow.ends_with(".yaml")
        || flow.ends_with(".yml")
}

/// Whether [`source`] reads FLOW from the bundled presets (not from a file).
pub fn is_preset(flow: &str) -> bool {
    !looks_like_path(flow) && flowstep_presets::get(flow).is_some()
}

/// Prints why a file could not be read: a drawn diagnostic for a problem in its text (not
/// UTF-8, invalid YAML), else one `error:` line.
pub fn print_unreadable(e: &Unreadable) {
    match e {
        Unreadable::Drawn(d, file) => errln!("{}\n", d.render(file)),
        Unreadable::Refused(message) => errln!("error: {message}"),
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
///
/// A path may not leave the using flow's directory (no absolute paths, no `..` above it, no
/// link to a file outside it): a flow file may come from someone else, and must not be able
/// to make `flowstep` read other files.
fn load_used_flow(reference: &str, from: &SourceFile) -> Result<SourceFile, String> {
    let looks_like_path =
        reference.contains('/') || reference.ends_with(".yaml") || reference.ends_with(".yml");
    if looks_like_path {
        let base = Path::new(from.name()).parent().unwrap_or(Path::new(""));
        let path = inside(base, reference)?;
        return files::read(&path, &path.display().to_string(), "flow file")
            .map_err(|e| e.to_string());
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

/// `reference` joined to `base`, when it stays inside `base` (after following links).
fn inside(base: &Path, reference: &str) -> Result<PathBuf, String> {
    let leaves = || {
        format!(
            "`{reference}` is outside the directory of the flow that uses it; a used flow must be in that directory or below it"
        )
    };
    let relative = Path::new(reference);
    if relative.has_root() || relative.is_absolute() {
        return Err(leaves());
    }
    let relative = normalize(relative);
    if matches!(relative.components().next(), Some(Component::ParentDir)) {
        return Err(leaves());
    }
    let path = normalize(&base.join(&relative));
    // A link inside the directory may point outside it: compare where both really are.
    let real_base = std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .map_err(|e| format!("cannot read {}: {e}", base.display()))?;
    let real =
        std::fs::canonicalize(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !real.starts_with(&real_base) {
        return Err(format!(
            "`{reference}` is a link to a file outside the directory of the flow that uses it; a used flow must be in that directory or below it"
        ));
    }
    Ok(path)
}

/// Prints diagnostics to stderr.
pub fn print_diagnostics(ds: &[Diagnostic], file: &SourceFile) {
    if !ds.is_empty() {
        err!("{}", render_all(ds, file));
    }
}

/// `a/./b/../c.yaml` as `a/c.yaml`, without touching the file system, so that the same file
/// reached two ways has one name (cycles are found by name).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
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
