//! [`FlowSources`]: every file a compiled flow is made of (its own and those its `flow` steps
//! use, recursively) and which `use:` found which file, so that an embedder can store them
//! beside a run and compile the same flow again later without reading anything
//! ([`crate::Engine::compile_sources`]).

use crate::loader::FlowLoader;
use flowstep_spec::SourceFile;
use serde::{Deserialize, Serialize};

/// One file's name and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowText {
    /// The name the file was compiled under (positions in a saved state name it).
    pub name: String,
    /// Its YAML.
    pub text: String,
}

/// What one `flow` step's `use:` found: the file named `file` (one of
/// [`UsedFlows::files`]), when `reference` was read in the file named `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowUse {
    /// The file whose `flow` step names the flow.
    pub from: String,
    /// What its `use:` says (`./inner.yaml`, `stripe-checkout`).
    pub reference: String,
    /// The name of the file the loader gave for it.
    pub file: String,
}

/// The flows a flow uses through its `flow` steps, recursively: each file once, and every
/// `use:` with the file it found. Empty for a flow with no `flow` step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedFlows {
    /// Each used file once, sorted by name.
    pub files: Vec<FlowText>,
    /// Every `use:`, sorted by the file it is in and what it says.
    pub uses: Vec<FlowUse>,
}

impl UsedFlows {
    /// Whether the flow uses no other flow.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.uses.is_empty()
    }
}

/// Every file of a compiled flow ([`crate::Plan::sources`]): compiling them again with
/// [`crate::Engine::compile_sources`] gives the same flow, whatever the files on disk (or the
/// bundled presets) say by then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowSources {
    /// The flow's own file.
    pub main: FlowText,
    /// The flows it uses.
    pub used: UsedFlows,
}

impl FlowSources {
    /// The sources of a flow that uses no other.
    pub fn single(name: impl Into<String>, text: impl Into<String>) -> Self {
        FlowSources {
            main: FlowText {
                name: name.into(),
                text: text.into(),
            },
            used: UsedFlows::default(),
        }
    }
}

/// The loader [`crate::Engine::compile_sources`] compiles with: it finds a `use:` in the stored
/// links only, and reads nothing.
pub(crate) struct StoredLoader<'a> {
    pub(crate) used: &'a UsedFlows,
}

impl FlowLoader for StoredLoader<'_> {
    fn load(&self, reference: &str, from: &SourceFile) -> Result<SourceFile, String> {
        let link = self
            .used
            .uses
            .iter()
            .find(|u| u.from == from.name() && u.reference == reference)
            .ok_or_else(|| {
                format!(
                    "the stored files of this flow hold no flow for `use: {reference}` in {}",
                    from.name()
                )
            })?;
        let file = self
            .used
            .files
            .iter()
            .find(|f| f.name == link.file)
            .ok_or_else(|| {
                format!(
                    "the stored files of this flow do not hold {}, which `use: {reference}` in {} found",
                    link.file,
                    from.name()
                )
            })?;
        Ok(SourceFile::new(file.name.clone(), file.text.clone()))
    }
}
