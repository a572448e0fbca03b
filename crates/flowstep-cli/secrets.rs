//! Secrets for a run: from environment variables of the same name, else from `.env` in the
//! working directory (read literally, see `dotenv.rs`). Values are wrapped in [`Secret`] as
//! soon as they are read; `-v` says where each came from.

use crate::dotenv::{DotEnv, DotEnvError};
use flowstep_engine::Secret;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What was found for the names asked for.
#[derive(Debug)]
pub struct Found {
    /// The values that are set.
    pub values: BTreeMap<String, Secret>,
    /// The names that are not set (or set to nothing).
    pub missing: Vec<String>,
    /// The `.env` file that was (or would have been) read.
    pub dotenv_path: PathBuf,
    /// Whether that file exists.
    pub dotenv_exists: bool,
}

impl Found {
    /// How to set `name`, naming the `.env` file: for "missing secret" errors.
    pub fn how_to_set(&self, name: &str) -> String {
        let file = self.dotenv_path.display();
        let state = if self.dotenv_exists {
            "which does not set it"
        } else {
            "which does not exist"
        };
        format!("set the environment variable {name} (or add {name}=... to {file}, {state})")
    }
}

/// The values of the named secrets that are set, and the names of those that are not. A
/// malformed `.env` is an error naming its path and line.
pub fn read(names: &[String]) -> Result<Found, DotEnvError> {
    let dotenv_path = std::env::current_dir().unwrap_or_default().join(".env");
    let mut dotenv: Option<Option<DotEnv>> = None;
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for name in names {
        if let Some(v) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
            tracing::info!("secret {name}: from the environment variable {name}");
            values.insert(name.clone(), Secret::new(v));
            continue;
        }
        // Read only when the environment does not have a value, so an unrelated `.env` does
        // not stand in the way of a run that does not need it.
        let file = match &dotenv {
            Some(f) => f,
            None => {
                let f = DotEnv::read(&dotenv_path)?;
                match &f {
                    Some(_) => tracing::info!("reading secrets from {}", dotenv_path.display()),
                    None => tracing::info!("no {} to read secrets from", dotenv_path.display()),
                }
                dotenv.insert(f)
            }
        };
        match file.as_ref().and_then(|f| f.get(name)) {
            Some((v, line)) if !v.is_empty() => {
                tracing::info!("secret {name}: from {}:{line}", dotenv_path.display());
                values.insert(name.clone(), Secret::new(v));
            }
            _ => missing.push(name.clone()),
        }
    }
    let dotenv_exists = dotenv_path.is_file();
    Ok(Found {
        values,
        missing,
        dotenv_path,
        dotenv_exists,
    })
}
