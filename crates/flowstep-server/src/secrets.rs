//! Where the server finds a flow's secrets when a run starts or resumes: never in the store,
//! always handed to each run afresh.

use flowstep_engine::Secret;
use std::collections::BTreeMap;

/// Looks secrets up by name, each time a run is claimed (a value changed in the environment
/// is used by the next run that starts or resumes).
pub trait SecretSource: Send + Sync {
    /// The secret `name`, if it is set.
    fn secret(&self, name: &str) -> Option<Secret>;

    /// How an operator sets `name`, for the error that says it is missing.
    fn how_to_set(&self, name: &str) -> String {
        format!("set the environment variable {name} in the server's environment")
    }
}

/// Secrets held in memory, read once (by an embedder, or a test).
#[derive(Debug, Clone, Default)]
pub struct StaticSecrets(pub BTreeMap<String, Secret>);

impl SecretSource for StaticSecrets {
    fn secret(&self, name: &str) -> Option<Secret> {
        self.0.get(name).cloned()
    }
}
