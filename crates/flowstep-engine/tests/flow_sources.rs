//! `Plan::sources` and `Engine::compile_sources`: every file of a flow (its own and those its
//! `flow` steps use, recursively) is kept, and compiling them again gives the flow as it was,
//! without asking the loader, whatever the files say by then.

use flowstep_engine::{Engine, FlowSources, RecordingChannel, RunRequest, RunStatus};
use flowstep_spec::SourceFile;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

const OUTER: &str = "flow: outer
steps:
  - id: first
    type: flow
    use: ./mid.yaml
  - id: again
    type: flow
    use: ./inner.yaml
";

const MID: &str = "flow: mid
steps:
  - id: deeper
    type: flow
    use: ./inner.yaml
";

fn inner(text: &str) -> String {
    format!("flow: inner\nsteps:\n  - id: say\n    type: message\n    text: {text}\n")
}

/// An engine whose loader reads from `files` (what a disk would hold) and counts its calls.
fn engine(files: &Arc<Mutex<BTreeMap<String, String>>>, calls: &Arc<AtomicUsize>) -> Engine {
    let (files, calls) = (files.clone(), calls.clone());
    let mut engine = Engine::new();
    engine.with_flow_loader(move |reference: &str, _from: &SourceFile| {
        calls.fetch_add(1, Ordering::SeqCst);
        let name = reference.trim_start_matches("./");
        files
            .lock()
            .unwrap()
            .get(name)
            .map(|text| SourceFile::new(name, text.clone()))
            .ok_or_else(|| format!("no file {name}"))
    });
    engine
}

fn messages(engine: &Engine, sources: &FlowSources) -> Vec<String> {
    let plan = engine.compile_sources(sources).unwrap();
    let channel = RecordingChannel::new();
    let outcome = block_on(plan.run(RunRequest::new().channel(&channel))).unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    outcome.messages.iter().map(|m| m.text.clone()).collect()
}

#[test]
fn a_flows_sources_hold_every_used_file_once_and_compile_without_the_loader() {
    let files = Arc::new(Mutex::new(BTreeMap::from([
        ("mid.yaml".to_owned(), MID.to_owned()),
        ("inner.yaml".to_owned(), inner("old text")),
    ])));
    let calls = Arc::new(AtomicUsize::new(0));
    let engine = engine(&files, &calls);
    let plan = engine.compile_text("outer.yaml", OUTER).unwrap();
    let sources = plan.sources();
    assert_eq!(sources.main.name, "outer.yaml");
    assert_eq!(sources.main.text, OUTER);
    let names: Vec<&str> = sources.used.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["inner.yaml", "mid.yaml"], "each file once, sorted");
    let uses: Vec<(&str, &str, &str)> = sources
        .used
        .uses
        .iter()
        .map(|u| (u.from.as_str(), u.reference.as_str(), u.file.as_str()))
        .collect();
    assert_eq!(
        uses,
        [
            ("mid.yaml", "./inner.yaml", "inner.yaml"),
            ("outer.yaml", "./inner.yaml", "inner.yaml"),
            ("outer.yaml", "./mid.yaml", "mid.yaml"),
        ]
    );

    // The files change; the stored sources compile to the flow as it was, reading nothing.
    files
        .lock()
        .unwrap()
        .insert("inner.yaml".into(), inner("new text"));
    files.lock().unwrap().remove("mid.yaml");
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(messages(&engine, &sources), ["old text", "old text"]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before,
        "the loader was not asked"
    );
    let again = engine.compile_sources(&sources).unwrap();
    assert_eq!(again.sources(), sources, "the same files again");

    // The same sources through JSON (as a store keeps them).
    let json = serde_json::to_string(&sources).unwrap();
    let back: FlowSources = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sources);

    // Compiled afresh, the flow has the new text.
    files.lock().unwrap().insert("mid.yaml".into(), MID.into());
    let fresh = engine.compile_text("outer.yaml", OUTER).unwrap().sources();
    assert_ne!(fresh, sources);
    assert_eq!(messages(&engine, &fresh), ["new text", "new text"]);
}

#[test]
fn sources_missing_a_used_file_say_which_and_where() {
    let files = Arc::new(Mutex::new(BTreeMap::from([
        ("mid.yaml".to_owned(), MID.to_owned()),
        ("inner.yaml".to_owned(), inner("old text")),
    ])));
    let calls = Arc::new(AtomicUsize::new(0));
    let engine = engine(&files, &calls);
    let mut sources = engine.compile_text("outer.yaml", OUTER).unwrap().sources();
    sources.used.files.retain(|f| f.name != "inner.yaml");
    let err = engine.compile_sources(&sources).unwrap_err().to_string();
    assert!(
        err.contains("the stored files of this flow do not hold inner.yaml, which `use: ./inner.yaml` in outer.yaml found"),
        "{err}"
    );
    sources.used.uses.clear();
    let err = engine.compile_sources(&sources).unwrap_err().to_string();
    assert!(
        err.contains(
            "the stored files of this flow hold no flow for `use: ./mid.yaml` in outer.yaml"
        ),
        "{err}"
    );
}

#[test]
fn a_flow_that_uses_none_has_no_used_files() {
    let plan = Engine::new()
        .compile_text("hi.yaml", inner("hello").as_str())
        .unwrap();
    let sources = plan.sources();
    assert_eq!(sources, FlowSources::single("hi.yaml", inner("hello")));
    assert!(sources.used.is_empty());
    assert_eq!(messages(&Engine::new(), &sources), ["hello"]);
}
