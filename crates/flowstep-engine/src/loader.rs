//! [`FlowLoader`]: how the embedder hands the engine the source of a flow a `flow` step uses.

use flowstep_spec::SourceFile;

/// Finds the flow a `flow` step uses: a preset name or a path relative to the using file. The
/// engine reads no files itself; the embedder (the CLI) supplies this.
pub trait FlowLoader: Send + Sync {
    /// The source of the flow `reference` names, as seen from the file `from`.
    fn load(&self, reference: &str, from: &SourceFile) -> Result<SourceFile, String>;
}

impl<F> FlowLoader for F
where
    F: Fn(&str, &SourceFile) -> Result<SourceFile, String> + Send + Sync,
{
    fn load(&self, reference: &str, from: &SourceFile) -> Result<SourceFile, String> {
        self(reference, from)
    }
}
