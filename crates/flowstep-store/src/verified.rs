//! The flows whose hash a store has checked: a run of the same files is not hashed again
//! (comparing the text costs far less than hashing it), and a wrong hash is refused. Shared by
//! every backend's `create_run`.

use crate::error::StoreError;
use crate::model::{NewRun, sources_hash};
use flowstep_engine::UsedFlows;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// More checked flows than this and the cache starts again (flows edited many times).
const MAX_VERIFIED: usize = 256;

/// A flow whose hash was checked: its files, and the used flows as stored.
#[derive(Debug)]
struct Verified {
    source: String,
    used: UsedFlows,
    used_json: String,
}

/// Checked flows by hash.
#[derive(Debug, Default)]
pub(crate) struct VerifiedFlows(Mutex<HashMap<String, Arc<Verified>>>);

impl VerifiedFlows {
    /// The used flows of `run` as stored (JSON), once its hash is known to be its files'.
    pub(crate) fn check(&self, run: &NewRun) -> Result<String, StoreError> {
        let known = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&run.flow_hash)
            .filter(|v| v.source == run.flow_source && v.used == run.used_flows)
            .cloned();
        if let Some(v) = known {
            return Ok(v.used_json.clone());
        }
        if run.flow_hash != sources_hash(&run.flow_source, &run.used_flows) {
            return Err(StoreError::Invalid(format!(
                "run `{}`: the flow hash `{}` is not the hash of its source and used flows (use NewRun::new, NewRun::of_sources or sources_hash)",
                run.run_id, run.flow_hash
            )));
        }
        let used_json = serde_json::to_string(&run.used_flows).map_err(|e| {
            StoreError::Invalid(format!(
                "the flows the run's flow uses cannot be written as JSON: {e}"
            ))
        })?;
        let mut verified = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(
            run.flow_hash.clone(),
            Arc::new(Verified {
                source: run.flow_source.clone(),
                used: run.used_flows.clone(),
                used_json: used_json.clone(),
            }),
        );
        Ok(used_json)
    }
}
