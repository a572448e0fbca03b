//! [`Plans`]: compiled flows by hash, so that a run is resumed with the flow it started with
//! (stored beside it) even after the server's flows were reloaded.

use crate::flows::FlowSet;
use flowstep_engine::{Engine, Plan};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// More cached plans than this and the cache starts again (flows edited many times).
const MAX_CACHED: usize = 256;

/// The engine, the current flows, and every plan compiled from a stored source.
pub(crate) struct Plans {
    engine: Arc<Engine>,
    current: RwLock<Arc<FlowSet>>,
    by_hash: Mutex<HashMap<String, Arc<Plan>>>,
}

impl Plans {
    pub(crate) fn new(engine: Arc<Engine>, flows: FlowSet) -> Self {
        Plans {
            engine,
            current: RwLock::new(Arc::new(flows)),
            by_hash: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The flows runs start with now.
    pub(crate) fn current(&self) -> Arc<FlowSet> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the flows new runs start with; runs already stored keep theirs.
    pub(crate) fn replace(&self, flows: FlowSet) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(flows);
    }

    /// The plan of a stored run's flow: one of the current flows when the hash matches, else
    /// compiled from the stored source (and kept).
    pub(crate) fn for_run(
        &self,
        hash: &str,
        file: &str,
        source: &str,
    ) -> Result<Arc<Plan>, String> {
        if let Some(flow) = self.current().iter().find(|f| f.hash == hash) {
            return Ok(flow.plan.clone());
        }
        if let Some(plan) = self.cache().get(hash) {
            return Ok(plan.clone());
        }
        let plan = Arc::new(
            self.engine
                .compile_text(file, source)
                .map_err(|e| e.to_string())?,
        );
        let mut cache = self.cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(hash.to_owned(), plan.clone());
        Ok(plan)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Plan>>> {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }
}
