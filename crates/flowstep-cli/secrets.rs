//! Secrets for a run: from environment variables of the same name, else from `.env` in the
//! working directory. Values are wrapped in [`Secret`] as soon as they are read.

use flowstep_engine::Secret;
use flowstep_spec::Flow;
use std::collections::BTreeMap;

/// The values of the flow's declared secrets that are set, and the names of those that are not.
pub fn read(flow: &Flow) -> (BTreeMap<String, Secret>, Vec<String>) {
    let dotenv: BTreeMap<String, String> = dotenvy::from_path_iter(".env")
        .map(|iter| iter.filter_map(Result::ok).collect())
        .unwrap_or_default();
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    for s in &flow.secrets {
        let name = &s.name.value;
        let value = std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| dotenv.get(name).cloned().filter(|v| !v.is_empty()));
        match value {
            Some(v) => {
                found.insert(name.clone(), Secret::new(v));
            }
            None => missing.push(name.clone()),
        }
    }
    (found, missing)
}
