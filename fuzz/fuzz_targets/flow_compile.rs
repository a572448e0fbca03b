//! Fuzzes the whole of `flowstep check`: the YAML reader, the flow format, templates, JSONPaths,
//! `when:` expressions, the http step's checks and nested flows (presets only, no files), then
//! draws every diagnostic as the CLI prints it.
#![no_main]

use flowstep_engine::Engine;
use flowstep_spec::{SourceFile, render_all};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let mut engine = Engine::new();
    engine.register("http", flowstep_http::kind(flowstep_http::HttpConfig::default()));
    engine.with_flow_loader(|reference: &str, _from: &SourceFile| {
        flowstep_presets::get(reference)
            .map(|p| SourceFile::new(p.file, p.source))
            .ok_or_else(|| format!("no preset named `{reference}`"))
    });
    engine
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.yaml", text);
    let diagnostics = match ENGINE.compile_source(file.clone()) {
        Ok((_, warnings)) => warnings,
        Err(errors) => {
            assert!(!errors.is_empty(), "a failed compile must say why");
            std::hint::black_box(errors.to_string());
            errors.into_diagnostics()
        }
    };
    let drawn = render_all(&diagnostics, &file);
    for d in &diagnostics {
        let (line, column) = d.line_col(&file);
        assert!(line >= 1 && column >= 1, "positions are 1-based");
    }
    std::hint::black_box(drawn);
});
