//! A compiled flow: every step bound to its kind, ready to run any number of times. Running
//! it lives in `run.rs`; compiling it in `engine.rs`.

use crate::flow_sources::{FlowSources, FlowText, FlowUse, UsedFlows};
use crate::step::Step;
use flowstep_spec::steps::StepSpec;
use flowstep_spec::{Diagnostic, Flow, SourceFile};
use std::sync::Arc;

/// How many steps a run may execute before it is stopped as a probable loop.
pub const DEFAULT_MAX_STEPS: usize = 1000;

/// A flow with every step bound: ready to run any number of times.
pub struct Plan {
    pub(crate) flow: Flow,
    pub(crate) steps: Vec<Box<dyn Step>>,
    pub(crate) required_secrets: Vec<String>,
    pub(crate) max_steps: usize,
    /// The flow's file and those of the flows its `flow` steps use, so that the positions in
    /// a saved [`crate::RunState`] can be drawn again when the run is resumed.
    pub(crate) files: Vec<Arc<SourceFile>>,
    /// Every `use:` of its `flow` steps (and theirs) with the file it found.
    pub(crate) uses: Vec<FlowUse>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("flow", &self.flow.name.value)
            .field("steps", &self.steps.len())
            .finish()
    }
}

impl Plan {
    /// The flow the plan runs.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// Whether the flow has a `wait` step: a run of it may suspend until an event, which
    /// needs a journal that parks it (`flowstep serve`'s run store).
    pub fn has_wait(&self) -> bool {
        self.flow
            .steps
            .iter()
            .any(|s| matches!(s.spec, StepSpec::Wait(_)))
    }

    /// The shapes of the flow's waits: for each event type a `wait` step awaits, the sorted
    /// paths it matches on. A store makes an event's keys for these shapes
    /// ([`crate::event_keys`]), so that an event that arrives before its wait is found when
    /// the wait is registered.
    pub fn wait_shapes(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for step in &self.flow.steps {
            if let StepSpec::Wait(w) = &step.spec {
                let mut paths: Vec<String> =
                    w.matches.iter().map(|(p, _)| p.value.clone()).collect();
                paths.sort();
                for event in &w.events {
                    out.push((event.value.clone(), paths.clone()));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Every secret a run needs: the flow's own and those of the flows its `flow` steps use.
    pub fn required_secrets(&self) -> &[String] {
        &self.required_secrets
    }

    /// The file named `name`: the flow's own or one its `flow` steps use.
    pub fn source_file(&self, name: &str) -> Option<&Arc<SourceFile>> {
        self.files.iter().find(|f| f.name() == name)
    }

    /// Every file the plan was compiled from: the flow's own and those its `flow` steps use
    /// (recursively), with what each `use:` found. Store them beside a run to compile the
    /// same flow again later with [`crate::Engine::compile_sources`], whatever the files say
    /// by then.
    pub fn sources(&self) -> FlowSources {
        let main = &self.files[0];
        let mut files: Vec<FlowText> = Vec::new();
        for file in &self.files[1..] {
            if file.name() != main.name() && !files.iter().any(|f| f.name == file.name()) {
                files.push(FlowText {
                    name: file.name().to_owned(),
                    text: file.text().to_owned(),
                });
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let mut uses = self.uses.clone();
        uses.sort_by(|a, b| (&a.from, &a.reference).cmp(&(&b.from, &b.reference)));
        uses.dedup_by(|a, b| a.from == b.from && a.reference == b.reference);
        FlowSources {
            main: FlowText {
                name: main.name().to_owned(),
                text: main.text().to_owned(),
            },
            used: UsedFlows { files, uses },
        }
    }

    /// The warnings found when the plan was compiled by [`crate::Engine::compile_text`]
    /// ([`crate::Engine::compile_source`] returns them beside the plan instead).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Sets how many steps a run may execute before it is stopped as a probable loop
    /// (default [`DEFAULT_MAX_STEPS`]).
    pub fn set_max_steps(&mut self, max_steps: usize) {
        self.max_steps = max_steps;
    }
}
