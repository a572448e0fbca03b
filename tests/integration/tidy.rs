//! The architecture's invariants, checked (after rust-analyzer's tidy test): which crate may
//! depend on which, and every Rust file says what it is for in its first line.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `[dependencies]` names of a crate (not dev-dependencies).
fn dependencies(krate: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps
            && let Some((name, _)) = line.split_once(['=', '.'])
            && !name.trim().is_empty()
            && !name.starts_with('#')
        {
            deps.push(name.trim().to_owned());
        }
    }
    deps
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    let forbidden: &[(&str, &[&str])] = &[
        // The format knows no I/O, HTTP or async runtime.
        (
            "flowstep-spec",
            &[
                "tokio",
                "reqwest",
                "hyper",
                "flowstep-engine",
                "flowstep-http",
                "flowstep-sandbox",
            ],
        ),
        // The engine knows only the Step trait: no HTTP, no CLI, no sandbox.
        (
            "flowstep-engine",
            &[
                "reqwest",
                "hyper",
                "clap",
                "anyhow",
                "flowstep-http",
                "flowstep-sandbox",
                "flowstep-presets",
                "tracing-subscriber",
            ],
        ),
        // The http step is a plugin: it may know the engine, never the CLI or the sandbox.
        (
            "flowstep-http",
            &["clap", "anyhow", "flowstep-sandbox", "flowstep-presets"],
        ),
        // The sandbox stands alone: nothing of the product's runtime.
        (
            "flowstep-sandbox",
            &["flowstep-engine", "flowstep-spec", "flowstep-http"],
        ),
        // The WhatsApp channel is a plugin of the engine: no CLI, no http step, no sandbox.
        (
            "flowstep-whatsapp",
            &[
                "flowstep",
                "clap",
                "anyhow",
                "flowstep-http",
                "flowstep-sandbox",
                "flowstep-presets",
            ],
        ),
    ];
    for (krate, banned) in forbidden {
        let deps = dependencies(krate);
        for b in *banned {
            assert!(
                !deps.iter().any(|d| d == b),
                "{krate} must not depend on {b} (see docs/architecture.md)"
            );
        }
    }
    assert!(
        dependencies("flowstep-presets").is_empty(),
        "flowstep-presets must not depend on anything"
    );
}

#[test]
fn library_crates_do_not_use_anyhow() {
    for krate in [
        "flowstep-spec",
        "flowstep-engine",
        "flowstep-http",
        "flowstep-presets",
        "flowstep-sandbox",
        "flowstep-whatsapp",
    ] {
        assert!(
            !dependencies(krate).iter().any(|d| d == "anyhow"),
            "{krate}: libraries return typed errors"
        );
    }
}

#[test]
fn every_rust_file_opens_with_a_doc_line() {
    let mut missing = Vec::new();
    for dir in ["crates", "tests"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.starts_with("//!") {
                missing.push(file.strip_prefix(root()).unwrap().display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` first line: {missing:?}"
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                out.extend(rust_files(&p));
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}
