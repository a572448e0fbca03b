//! The engine: a registry of step kinds, and compiling a [`Flow`] into a runnable [`Plan`]
//! (every step bound to its kind, every variable checked).

use crate::step::{Step, StepKind};
use flowstep_spec::check::check_variables;
use flowstep_spec::{Diagnostic, Diagnostics, Flow, SourceFile, help_did_you_mean, read_partial};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Step kinds by YAML `type`. Starts with `message`; the embedder adds `http` and its own.
pub struct Engine {
    kinds: BTreeMap<String, Arc<dyn StepKind>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("kinds", &self.kinds.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Engine {
    /// An engine that knows the built-in `message` step.
    pub fn new() -> Self {
        let mut engine = Engine {
            kinds: BTreeMap::new(),
        };
        engine.register("message", crate::message_step::bind);
        engine
    }

    /// Registers (or replaces) the kind for YAML `type: <name>`.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        kind: impl StepKind + 'static,
    ) -> &mut Self {
        self.kinds.insert(name.into(), Arc::new(kind));
        self
    }

    /// The registered type names.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
    }

    /// Reads and compiles a flow file in one pass, reporting every problem in it at once (the
    /// format, step types, variables), sorted by position. Warnings come back with the plan.
    pub fn compile_source(
        &self,
        file: SourceFile,
    ) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
        let partial = read_partial(file);
        let Some(flow) = partial.flow else {
            return Err(partial.diagnostics);
        };
        let mut diags = Diagnostics::new();
        diags.extend(partial.diagnostics);
        let warnings = flow.warnings.clone();
        // An unknown step type hides what that step defines: variable errors would echo it.
        let types_known = flow
            .steps
            .iter()
            .all(|s| self.kinds.contains_key(&s.kind.value));
        match self.bind(flow, partial.all_steps_read && types_known) {
            Ok(plan) if !diags.has_errors() => Ok((plan, warnings)),
            Ok(_) => Err(diags.sorted()),
            Err(ds) => {
                diags.extend(ds);
                Err(diags.sorted())
            }
        }
    }

    /// Binds every step of a flow that was read without errors and checks every variable; all
    /// problems at once, sorted by position.
    pub fn compile(&self, flow: Flow) -> Result<Plan, Vec<Diagnostic>> {
        self.bind(flow, true)
    }

    fn bind(&self, flow: Flow, check_variables_too: bool) -> Result<Plan, Vec<Diagnostic>> {
        let mut diags = Diagnostics::new();
        let mut steps = Vec::new();
        let mut plugin_defines = Vec::new();
        for decl in &flow.steps {
            let Some(kind) = self.kinds.get(&decl.kind.value) else {
                let help = help_did_you_mean(&decl.kind.value, self.kinds()).unwrap_or_else(|| {
                    format!(
                        "step types are: {}",
                        self.kinds().collect::<Vec<_>>().join(", ")
                    )
                });
                diags.push(
                    Diagnostic::error(
                        "E008",
                        format!("unknown step type `{}`", decl.kind.value),
                        decl.kind.span,
                    )
                    .with_help(help),
                );
                plugin_defines.push(Vec::new());
                continue;
            };
            match kind.bind(decl, &flow) {
                Ok(step) => {
                    plugin_defines.push(step.defines());
                    steps.push(step);
                }
                Err(ds) => {
                    diags.extend(ds);
                    plugin_defines.push(Vec::new());
                }
            }
        }
        // When a step could not be read, variable errors would only echo that error.
        if check_variables_too {
            diags.extend(check_variables(&flow, &plugin_defines));
        }
        if diags.has_errors() {
            return Err(diags.sorted());
        }
        Ok(Plan { flow, steps })
    }
}

/// A flow with every step bound: ready to run any number of times.
pub struct Plan {
    pub(crate) flow: Flow,
    pub(crate) steps: Vec<Box<dyn Step>>,
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
}
