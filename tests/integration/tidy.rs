//! The architecture's invariants, checked (after rust-analyzer's tidy test): which crate may
//! depend on which, and every Rust file says what it is for in its first line.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `[dependencies]` names of a crate (not dev-dependencies).
fn dependencies(krate: &str) -> Vec<String> {
    dependencies_in(&root().join("crates").join(krate).join("Cargo.toml"))
}

/// The `[dependencies]` names in the manifest at `manifest`.
fn dependencies_in(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
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
                "flowstep-store",
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
        // The run store keeps what the engine hands its journal: no HTTP, no CLI, no sandbox.
        (
            "flowstep-store",
            &[
                "flowstep",
                "clap",
                "anyhow",
                "reqwest",
                "hyper",
                "flowstep-http",
                "flowstep-sandbox",
                "flowstep-presets",
                "tracing-subscriber",
            ],
        ),
        // The server runs flows over the store's trait: no CLI, no sandbox, no HTTP client of
        // its own (the http step is handed to it in the engine), no database client.
        (
            "flowstep-server",
            &[
                "flowstep",
                "clap",
                "anyhow",
                "reqwest",
                "flowstep-http",
                "flowstep-sandbox",
                "flowstep-whatsapp",
                "tracing-subscriber",
            ],
        ),
        // The signature schemes are pure functions over bytes, shared by the server that
        // verifies and the sandbox that signs: no I/O, no runtime, no other flowstep crate.
        (
            "flowstep-webhook-signature",
            &[
                "tokio",
                "axum",
                "hyper",
                "reqwest",
                "serde_json",
                "flowstep-engine",
                "flowstep-server",
                "flowstep-sandbox",
                "flowstep-store",
            ],
        ),
        // What a verified webhook body carries is read by a parser of its own, fuzzed without
        // the server: JSON in, events out, no I/O, no runtime, no store.
        (
            "flowstep-webhook-events",
            &[
                "tokio",
                "axum",
                "hyper",
                "reqwest",
                "sqlx",
                "flowstep-engine",
                "flowstep-server",
                "flowstep-sandbox",
                "flowstep-store",
            ],
        ),
        // The embedding crate gathers the libraries: no CLI, no sandbox.
        (
            "flowstep-embed",
            &[
                "flowstep",
                "clap",
                "anyhow",
                "flowstep-sandbox",
                "tracing-subscriber",
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
    // The tests' Postgres server is driven through Debian's binaries with std::process: no
    // database client (only flowstep-store talks to a database), nothing of flowstep.
    assert!(
        dependencies("flowstep-test-postgres").is_empty(),
        "flowstep-test-postgres must not depend on anything"
    );
}

/// The `[dependencies]` names of every crate in `crates/` and of the root package (the CLI).
fn every_crates_dependencies() -> Vec<(String, Vec<String>)> {
    let mut crates: Vec<(String, Vec<String>)> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let deps = dependencies(&name);
            (name, deps)
        })
        .collect();
    crates.push((
        "flowstep".into(),
        dependencies_in(&root().join("Cargo.toml")),
    ));
    crates.sort();
    crates
}

#[test]
fn only_the_store_talks_to_a_database() {
    // sqlx (and any SQL client) stays behind the RunStore trait: the engine runs a `RunState`
    // and hands it to a `Journal`; where it is kept is the store's business alone.
    let database_clients = [
        "sqlx",
        "rusqlite",
        "libsqlite3-sys",
        "tokio-postgres",
        "postgres",
    ];
    let crates = every_crates_dependencies();
    assert!(
        crates.iter().any(|(name, _)| name == "flowstep-engine"),
        "the check found the crates"
    );
    for (krate, deps) in &crates {
        for client in database_clients {
            assert!(
                krate == "flowstep-store" || !deps.iter().any(|d| d == client),
                "{krate} must not depend on {client}: only flowstep-store talks to a database (see docs/architecture.md)"
            );
        }
    }
    assert!(
        dependencies("flowstep-store").iter().any(|d| d == "sqlx"),
        "flowstep-store is the crate with the SQLite and Postgres backends"
    );
    assert!(
        !dependencies("flowstep-engine")
            .iter()
            .any(|d| d == "flowstep-store" || d == "sqlx"),
        "flowstep-engine never depends on the store or a database"
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
        "flowstep-embed",
        "flowstep-store",
        "flowstep-server",
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

/// The module a file is, as `crate::` paths name it: `src/lib.rs` is the root (`""`),
/// `src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is `a::b`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::`/`super::` path a source text names, as segment lists from the crate root,
/// with `use` groups (`crate::{a, b::{c, d}}`) expanded. Test modules (from the first
/// `#[cfg(test)]` on) are left out: tests may reach anything.
fn crate_paths(text: &str, module: &str) -> Vec<Vec<String>> {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    // Drop comments so that a doc link is not a dependency.
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let prev_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let base: Option<(Vec<String>, usize)> = if prev_ident {
            None
        } else if rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if rest.starts_with("super::") {
            // `super` of `a::b` is `a`; in `a/mod.rs` (module `a`) it is the root.
            let mut here: Vec<String> = module
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let mut len = 0;
            while code[i + len..].starts_with("super::") {
                here.pop();
                len += "super::".len();
            }
            Some((here, len))
        } else {
            None
        };
        match base {
            Some((prefix, len)) => {
                let (paths, used) = parse_use_tree(&code[i + len..]);
                for p in paths {
                    let mut full = prefix.clone();
                    full.extend(p);
                    out.push(full);
                }
                i += len + used.max(1);
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// Parses `a::b::{c, d::e}` at the start of `s`: the paths it names and the bytes it used.
fn parse_use_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let mut segs = Vec::new();
    let mut i = 0;
    loop {
        let ident: String = s[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if s[i..].starts_with('{') {
                let mut paths = Vec::new();
                i += 1;
                loop {
                    let skip = s[i..].len() - s[i..].trim_start().len();
                    i += skip;
                    if s[i..].starts_with('}') || i >= s.len() {
                        i += 1;
                        break;
                    }
                    let (inner, used) = parse_use_tree(&s[i..]);
                    for p in inner {
                        let mut full = segs.clone();
                        full.extend(p);
                        paths.push(full);
                    }
                    i += used.max(1);
                    let skip = s[i..].len() - s[i..].trim_start().len();
                    i += skip;
                    if s[i..].starts_with(',') {
                        i += 1;
                    }
                }
                return (paths, i);
            }
            return (vec![segs], i);
        }
        i += ident.len();
        segs.push(ident);
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![segs], i);
        }
    }
}

/// The module graph of one crate: module → the other modules of the crate it names.
fn module_graph(
    src: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let files = rust_files(src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    // Names the root re-exports (`pub use a::{B, c::D};`) resolve to the module that defines them.
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        if module_of(src, f).is_empty() {
            let text = std::fs::read_to_string(f).unwrap();
            for line in text.split(';') {
                let line = line.trim();
                if let Some(rest) = line.strip_prefix("pub use ") {
                    for path in parse_use_tree(rest).0 {
                        if let Some((name, module)) = path.split_last() {
                            reexports.insert(name.clone(), module.join("::"));
                        }
                    }
                }
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let module = module_of(src, f);
        let text = std::fs::read_to_string(f).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for path in crate_paths(&text, &module) {
            // The longest prefix of the path that is a module of this crate.
            let mut target = None;
            for n in (1..=path.len()).rev() {
                let candidate = path[..n].join("::");
                if modules.contains(&candidate) {
                    target = Some(candidate);
                    break;
                }
            }
            let target = target.or_else(|| path.first().and_then(|n| reexports.get(n).cloned()));
            if let Some(t) = target
                && !t.is_empty()
                && t != module
                // A module naming its own submodule, or a submodule its parent, is nesting.
                && !t.starts_with(&format!("{module}::"))
                && !(module.is_empty())
            {
                edges.insert(t);
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the list of modules around it, if there is one.
fn find_cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut cycles = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    crates.sort();
    for dir in crates {
        let src = if dir.join("src").is_dir() {
            dir.join("src")
        } else {
            dir.clone()
        };
        let graph = module_graph(&src);
        assert!(!graph.is_empty(), "{}: found no Rust files", src.display());
        if let Some(cycle) = find_cycle(&graph) {
            cycles.push(format!(
                "{}: {}",
                dir.file_name().unwrap().to_string_lossy(),
                cycle.join(" -> ")
            ));
        }
    }
    assert!(
        cycles.is_empty(),
        "module cycles (docs/architecture.md: modules form a DAG; move the shared piece into a leaf module):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_module_cycle_check_finds_a_cycle() {
    let dir = std::env::temp_dir().join(format!("flowstep-tidy-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(
        dir.join("lib.rs"),
        "//! root\nmod a;\nmod b;\npub use b::Thing;\n",
    )
    .unwrap();
    std::fs::write(dir.join("a.rs"), "//! a\nuse crate::{b::c::C, Thing};\n").unwrap();
    std::fs::write(dir.join("b/mod.rs"), "//! b\nmod c;\npub struct Thing;\n").unwrap();
    std::fs::write(
        dir.join("b/c.rs"),
        "//! c\nuse super::super::a::A;\n// crate::nothing\n",
    )
    .unwrap();
    let cycle = find_cycle(&module_graph(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        cycle,
        Some(vec!["a".to_owned(), "b::c".to_owned(), "a".to_owned()])
    );
}
