//! [`Plans`]: compiled flows by hash, so that a run is resumed with the flow it started with
//! (its file and the flows it uses, stored beside it) even after the server's flows were
//! reloaded or their files changed.

use crate::flows::FlowSet;
use flowstep_engine::{Engine, Plan};
use flowstep_store::Claimed;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// More cached plans than this and the cache starts again (flows edited many times).
const MAX_CACHED: usize = 256;

/// Event types with the sorted paths a wait for each matches on.
pub(crate) type WaitShapes = Vec<(String, Vec<String>)>;

fn shapes_of(flows: &FlowSet) -> WaitShapes {
    let mut shapes: WaitShapes = flows.iter().flat_map(|f| f.plan.wait_shapes()).collect();
    shapes.sort();
    shapes.dedup();
    shapes
}

/// The engine, the current flows, and every plan compiled from a stored source.
pub(crate) struct Plans {
    engine: Arc<Engine>,
    current: RwLock<Arc<FlowSet>>,
    /// The current flows' wait shapes, worked out once per set of flows (every webhook reads
    /// them).
    shapes: RwLock<Arc<WaitShapes>>,
    by_hash: Mutex<HashMap<String, Arc<Plan>>>,
}

impl Plans {
    pub(crate) fn new(engine: Arc<Engine>, flows: FlowSet) -> Self {
        Plans {
            engine,
            shapes: RwLock::new(Arc::new(shapes_of(&flows))),
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

    /// The waits of the current flows (event type, sorted paths): the keys a received event
    /// is kept under, so that a run that reaches its wait later finds it.
    pub(crate) fn wait_shapes(&self) -> Arc<WaitShapes> {
        self.shapes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the flows new runs start with; runs already stored keep theirs.
    pub(crate) fn replace(&self, flows: FlowSet) {
        *self.shapes.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(shapes_of(&flows));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(flows);
    }

    /// The plan of a stored run's flow: one of the current flows when the hash matches (the
    /// hash covers every file the flow is made of), else compiled from the files stored with
    /// the run (and kept). A run stored before the store kept the flows a flow uses is
    /// compiled from its stored source, its used flows found by the engine's loader as they
    /// are now.
    pub(crate) fn for_run(&self, claimed: &Claimed) -> Result<Arc<Plan>, String> {
        let hash = claimed.flow_hash.as_str();
        if let Some(flow) = self.current().iter().find(|f| f.hash == hash) {
            return Ok(flow.plan.clone());
        }
        if let Some(plan) = self.cache().get(hash) {
            return Ok(plan.clone());
        }
        let compiled = match claimed.sources() {
            Some(sources) => self.engine.compile_sources(&sources),
            None => self
                .engine
                .compile_text(&claimed.flow_file, &claimed.flow_source),
        };
        let plan = Arc::new(compiled.map_err(|e| e.to_string())?);
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
