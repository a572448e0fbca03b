//! [`FlowSet`]: the flows a server runs, by name: the bundled presets and every `.yaml`/`.yml`
//! file under the `--flows` directories, each compiled and checked when the set is loaded.

use flowstep_engine::{Engine, FlowSources, FlowText, Plan, UsedFlows};
use flowstep_store::sources_hash;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One flow the server can start runs of.
#[derive(Debug, Clone)]
pub struct LoadedFlow {
    /// Its name (`flow:`), which `POST /v1/runs` names.
    pub name: String,
    /// The file it was read from (`flows/stripe-checkout.yaml` for a preset); positions in its
    /// runs name it.
    pub file: String,
    /// Its YAML, stored with each run so that a run finishes with the version it started with.
    pub source: String,
    /// The flows it uses through `flow` steps (recursively), as they were read when it was
    /// loaded: stored with each run too.
    pub used_flows: UsedFlows,
    /// `sha256:` and the hash of `source` and `used_flows` (`flowstep_store::sources_hash`).
    pub hash: String,
    /// Whether it is a bundled preset.
    pub preset: bool,
    /// The compiled flow.
    pub plan: Arc<Plan>,
}

impl LoadedFlow {
    /// Every file the flow is made of, as stored with a run of it.
    pub fn sources(&self) -> FlowSources {
        FlowSources {
            main: FlowText {
                name: self.file.clone(),
                text: self.source.clone(),
            },
            used: self.used_flows.clone(),
        }
    }
}

/// Why a set of flows could not be loaded: every problem, drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct LoadError {
    /// One entry per problem: a file that cannot be read, a flow's drawn diagnostics, two
    /// files with one flow name.
    pub problems: Vec<String>,
}

/// The flows a server runs, by name.
#[derive(Debug, Clone, Default)]
pub struct FlowSet {
    flows: BTreeMap<String, Arc<LoadedFlow>>,
}

/// More files than this under the `--flows` directories is refused (a directory given by
/// mistake, like `/`).
pub const MAX_FLOW_FILES: usize = 10_000;

impl FlowSet {
    /// The presets (when `presets`) and every flow file under `dirs` (searched recursively,
    /// hidden entries skipped), each compiled with `engine`. A file's flow replaces a preset
    /// of the same name; two files with one name are an error. Every problem is returned at
    /// once.
    pub fn load(engine: &Engine, dirs: &[PathBuf], presets: bool) -> Result<FlowSet, LoadError> {
        let mut set = FlowSet::default();
        let mut problems = Vec::new();
        if presets {
            for p in flowstep_presets::PRESETS {
                match set.compile(engine, p.file.to_owned(), p.source.to_owned(), true) {
                    Ok(flow) => {
                        set.flows.insert(flow.name.clone(), Arc::new(flow));
                    }
                    Err(e) => problems.push(e),
                }
            }
        }
        let mut files = Vec::new();
        for dir in dirs {
            if let Err(e) = flow_files(dir, &mut files) {
                problems.push(e);
            }
        }
        files.sort();
        if files.len() > MAX_FLOW_FILES {
            problems.push(format!(
                "the --flows directories hold {} flow files, more than the {MAX_FLOW_FILES} a server loads; point --flows at the directory of your flows",
                files.len()
            ));
            files.clear();
        }
        let mut from_files: BTreeMap<String, String> = BTreeMap::new();
        for path in files {
            let name = path.display().to_string();
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("error: cannot read flow file {name}: {e}"));
                    continue;
                }
            };
            match set.compile(engine, name.clone(), source, false) {
                Ok(flow) => {
                    if let Some(first) = from_files.insert(flow.name.clone(), name.clone()) {
                        problems.push(format!(
                            "error: {name} and {first} both define the flow `{}`; flow names must be unique, since `POST /v1/runs` starts a flow by name",
                            flow.name
                        ));
                        continue;
                    }
                    if set.flows.get(&flow.name).is_some_and(|f| f.preset) {
                        tracing::info!(flow = %flow.name, file = %name, "a flow file replaces the preset of the same name");
                    }
                    set.flows.insert(flow.name.clone(), Arc::new(flow));
                }
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(LoadError { problems })
        }
    }

    /// A set of the given flows' sources (an embedder's, a test's), compiled with `engine`.
    pub fn from_sources(
        engine: &Engine,
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<FlowSet, LoadError> {
        let mut set = FlowSet::default();
        let mut problems = Vec::new();
        for (file, source) in sources {
            match set.compile(engine, file, source, false) {
                Ok(flow) => {
                    set.flows.insert(flow.name.clone(), Arc::new(flow));
                }
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(LoadError { problems })
        }
    }

    fn compile(
        &self,
        engine: &Engine,
        file: String,
        source: String,
        preset: bool,
    ) -> Result<LoadedFlow, String> {
        let plan = engine
            .compile_text(file.clone(), source.clone())
            .map_err(|e| e.to_string())?;
        let used_flows = plan.sources().used;
        Ok(LoadedFlow {
            name: plan.flow().name.value.clone(),
            hash: sources_hash(&source, &used_flows),
            used_flows,
            file,
            source,
            preset,
            plan: Arc::new(plan),
        })
    }

    /// The flow named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedFlow>> {
        self.flows.get(name)
    }

    /// Every flow, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedFlow>> {
        self.flows.values()
    }

    /// Every flow's name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.flows.keys().map(String::as_str)
    }

    /// How many flows there are.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }
}

/// Collects the `.yaml`/`.yml` files under `dir`, hidden entries left out.
fn flow_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "error: cannot read the flows directory {}: {e}",
            dir.display()
        )
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("error: cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| format!("error: cannot read {}: {e}", path.display()))?;
        if kind.is_dir() {
            if out.len() <= MAX_FLOW_FILES {
                flow_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}
