//! Secrets for a run: from environment variables of the same name, else from `.env` in the
//! working directory. Values are wrapped in [`Secret`] as soon as they are read.

use flowstep_engine::Secret;
use std::collections::BTreeMap;

/// The values of the named secrets that are set, and the names of those that are not.
pub fn read(names: &[String]) -> (BTreeMap<String, Secret>, Vec<String>) {
    let dotenv: BTreeMap<String, String> = dotenvy::from_path_iter(".env")
        .map(|iter| iter.filter_map(Result::ok).collect())
        .unwrap_or_default();
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    for name in names {
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
