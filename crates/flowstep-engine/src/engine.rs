//! The engine: a registry of step kinds, and compiling a [`Flow`] into a runnable [`Plan`]
//! (every step bound to its kind, every variable checked).

use crate::compile_error::CompileError;
use crate::flow_sources::{FlowSources, FlowUse, StoredLoader};
use crate::flow_step::FlowStep;
use crate::inputs::InputValue;
use crate::loader::FlowLoader;
use crate::plan::{DEFAULT_MAX_STEPS, Plan};
use crate::step::{Step, StepKind};
use flowstep_spec::check::{BoundStep, check_variables};
use flowstep_spec::steps::{FlowUseSpec, StepDecl, StepSpec};
use flowstep_spec::{
    Diagnostic, Diagnostics, Flow, SourceFile, ValueTemplate, help_did_you_mean, read_partial,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Step kinds by YAML `type`. Starts with the built-in `message`, `set` and `flow` steps; the
/// embedder adds `http` and its own.
///
/// ```
/// use flowstep_engine::{Engine, Step, StepContext, StepError};
/// use flowstep_spec::{Diagnostic, Flow, steps::StepDecl};
///
/// struct Noop;
/// #[async_trait::async_trait]
/// impl Step for Noop {
///     async fn run(&self, _cx: &mut StepContext<'_>) -> Result<(), StepError> {
///         Ok(())
///     }
/// }
///
/// let mut engine = Engine::new();
/// // Any `Fn(&StepDecl, &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>>` is a step kind.
/// engine.register("noop", |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
///     Ok(Box::new(Noop))
/// });
/// assert!(engine.kinds().any(|k| k == "noop"));
/// assert!(engine.kinds().any(|k| k == "message"));
/// ```
pub struct Engine {
    kinds: BTreeMap<String, Arc<dyn StepKind>>,
    loader: Option<Arc<dyn FlowLoader>>,
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

/// The step types the engine handles itself rather than through the registry.
const FLOW_TYPE: &str = "flow";

impl Engine {
    /// An engine that knows the built-in `message` and `set` steps (and `flow` steps, once a
    /// loader is set with [`Engine::with_flow_loader`]).
    pub fn new() -> Self {
        let mut engine = Engine {
            kinds: BTreeMap::new(),
            loader: None,
        };
        engine.register("message", crate::message_step::bind);
        engine.register("set", crate::set_step::bind);
        engine.register("wait", crate::wait_step::bind);
        engine
    }

    /// Registers (or replaces) the kind for YAML `type: <name>`: a function or closure that
    /// checks a step's declaration and builds the step. A closure's argument types are
    /// inferred, so `|decl, flow| ...` needs no annotations:
    ///
    /// ```
    /// use flowstep_engine::{Engine, Step, StepContext, StepError};
    ///
    /// struct Hello;
    /// #[async_trait::async_trait]
    /// impl Step for Hello {
    ///     async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
    ///         cx.set_var("greeting", "hello")
    ///     }
    ///     fn defines(&self) -> Vec<String> {
    ///         vec!["greeting".into()]
    ///     }
    /// }
    ///
    /// let mut engine = Engine::new();
    /// engine.register("hello", |_decl, _flow| Ok(Box::new(Hello)));
    /// assert!(engine.kinds().any(|k| k == "hello"));
    /// ```
    ///
    /// A kind that is a value of your own type (implementing [`StepKind`]) is registered with
    /// [`Engine::register_kind`], as is a [`step_fn`](crate::step_fn).
    pub fn register<F>(&mut self, name: impl Into<String>, kind: F) -> &mut Self
    where
        F: Fn(&StepDecl, &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> + Send + Sync + 'static,
    {
        self.register_kind(name, kind)
    }

    /// Registers (or replaces) a [`StepKind`] value for YAML `type: <name>`: a type of your own
    /// that binds declarations, or a [`step_fn`](crate::step_fn) with typed keys.
    pub fn register_kind(
        &mut self,
        name: impl Into<String>,
        kind: impl StepKind + 'static,
    ) -> &mut Self {
        self.kinds.insert(name.into(), Arc::new(kind));
        self
    }

    /// Lets `flow` steps find the flows they use (the engine reads no files itself).
    pub fn with_flow_loader(&mut self, loader: impl FlowLoader + 'static) -> &mut Self {
        self.loader = Some(Arc::new(loader));
        self
    }

    /// The registered type names.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.kinds
            .keys()
            .map(String::as_str)
            .chain(self.loader.as_ref().map(|_| FLOW_TYPE))
    }

    /// Reads and compiles a flow file in one pass, reporting every problem in it at once (the
    /// format, step types, variables), sorted by position. Warnings come back with the plan.
    ///
    /// ```
    /// use flowstep_engine::Engine;
    /// use flowstep_spec::{SourceFile, render_all};
    ///
    /// let ok = "flow: hi\nsteps:\n  - id: say\n    type: message\n    text: Hello\n";
    /// let (plan, warnings) = Engine::new().compile_source(SourceFile::new("hi.yaml", ok)).unwrap();
    /// assert_eq!(plan.flow().name.value, "hi");
    /// assert!(warnings.is_empty());
    ///
    /// // Every problem at once, each with its position; render_all draws them like rustc.
    /// let bad = "flow: hi\nsteps:\n  - id: say\n    type: mesage\n    text: <<nme>>\n";
    /// let file = SourceFile::new("bad.yaml", bad);
    /// let diagnostics = Engine::new().compile_source(file.clone()).unwrap_err();
    /// let text = render_all(&diagnostics, &file);
    /// assert!(text.contains("unknown step type `mesage`"), "{text}");
    /// assert!(text.contains("bad.yaml:4:11"), "{text}");
    /// ```
    pub fn compile_source(
        &self,
        file: SourceFile,
    ) -> Result<(Plan, Vec<Diagnostic>), CompileError> {
        let shown = Arc::new(file.clone());
        self.compile_nested(file, self.loader.as_deref(), &mut Vec::new())
            .map_err(|ds| CompileError::new(shown, ds))
    }

    /// Reads and compiles flow text in one call: [`Engine::compile_source`] for the text of a
    /// file shown as `name` in diagnostics. The warnings stay with the plan
    /// ([`Plan::warnings`]); the error draws every problem when displayed.
    ///
    /// ```
    /// use flowstep_engine::Engine;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let plan = Engine::new().compile_text("hi.yaml", "flow: hi\nsteps:\n  - id: say\n    type: message\n    text: Hello\n")?;
    /// assert_eq!(plan.flow().name.value, "hi");
    /// # Ok(()) }
    /// ```
    pub fn compile_text(
        &self,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<Plan, CompileError> {
        let (mut plan, warnings) = self.compile_source(SourceFile::new(name, text))?;
        plan.warnings = warnings;
        Ok(plan)
    }

    /// Compiles a flow from the files it was compiled from before ([`Plan::sources`]), as
    /// stored beside a run: every `flow` step finds the file its `use:` found then, among
    /// `sources`, and the engine's own loader is not asked. So the plan is the flow as it
    /// was, whatever the files on disk or the presets say now. The warnings stay with the
    /// plan.
    ///
    /// ```
    /// use flowstep_engine::Engine;
    /// use flowstep_spec::SourceFile;
    ///
    /// let mut engine = Engine::new();
    /// let inner = std::sync::Mutex::new("flow: inner\nsteps:\n  - id: say\n    type: message\n    text: Old\n".to_owned());
    /// let inner = std::sync::Arc::new(inner);
    /// let shared = inner.clone();
    /// engine.with_flow_loader(move |_: &str, _: &SourceFile| {
    ///     Ok(SourceFile::new("inner.yaml", shared.lock().unwrap().clone()))
    /// });
    /// let outer = "flow: outer\nsteps:\n  - id: inner\n    type: flow\n    use: ./inner.yaml\n";
    /// let sources = engine.compile_text("outer.yaml", outer).unwrap().sources();
    ///
    /// // The file changes; the stored sources still compile to the old flow.
    /// *inner.lock().unwrap() = "flow: inner\nsteps:\n  - id: say\n    type: message\n    text: New\n".to_owned();
    /// let again = engine.compile_sources(&sources).unwrap();
    /// assert_eq!(again.sources(), sources);
    /// assert!(again.source_file("inner.yaml").unwrap().text().contains("Old"));
    /// ```
    pub fn compile_sources(&self, sources: &FlowSources) -> Result<Plan, CompileError> {
        let file = SourceFile::new(sources.main.name.clone(), sources.main.text.clone());
        let shown = Arc::new(file.clone());
        let loader = StoredLoader {
            used: &sources.used,
        };
        let (mut plan, warnings) = self
            .compile_nested(file, Some(&loader), &mut Vec::new())
            .map_err(|ds| CompileError::new(shown, ds))?;
        plan.warnings = warnings;
        Ok(plan)
    }

    fn compile_nested(
        &self,
        file: SourceFile,
        loader: Option<&dyn FlowLoader>,
        stack: &mut Vec<String>,
    ) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
        let partial = read_partial(file);
        let Some(flow) = partial.flow else {
            return Err(partial.diagnostics);
        };
        let mut diags = Diagnostics::new();
        diags.extend(partial.diagnostics);
        // Variables are checked even when a step could not be read or has an unknown type, so
        // that every problem is reported in one pass; what such a step would have set is left
        // out of the check (`Flow::unusable_names`), so that its error is not echoed.
        match self.bind(flow, loader, stack) {
            Ok((plan, warnings)) if !diags.has_errors() => {
                diags.extend(warnings);
                Ok((plan, diags.sorted()))
            }
            Ok((_, warnings)) => {
                diags.extend(warnings);
                Err(diags.sorted())
            }
            Err(ds) => {
                diags.extend(ds);
                Err(diags.sorted())
            }
        }
    }

    /// Binds every step of a flow that was read without errors and checks every variable; all
    /// problems at once, sorted by position. Warnings are dropped; use
    /// [`Engine::compile_source`] to see them.
    pub fn compile(&self, flow: Flow) -> Result<Plan, CompileError> {
        let file = flow.file.clone();
        self.bind(flow, self.loader.as_deref(), &mut Vec::new())
            .map(|(plan, _)| plan)
            .map_err(|ds| CompileError::new(file, ds))
    }

    fn bind(
        &self,
        flow: Flow,
        loader: Option<&dyn FlowLoader>,
        stack: &mut Vec<String>,
    ) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut diags = Diagnostics::new();
        let mut steps: Vec<Box<dyn Step>> = Vec::new();
        let mut bound: Vec<BoundStep> = Vec::with_capacity(flow.steps.len());
        let mut required_secrets: Vec<String> =
            flow.secrets.iter().map(|s| s.name.value.clone()).collect();
        let mut files = vec![flow.file.clone()];
        let mut uses: Vec<FlowUse> = Vec::new();
        stack.push(flow.file.name().to_owned());
        // Where the first step whose kind could not bind it (and cannot say what it sets) is.
        let mut not_bound_from: Option<usize> = None;
        for decl in &flow.steps {
            bound.push(BoundStep::default());
            if let (StepSpec::Flow(spec), Some(loader)) = (&decl.spec, loader) {
                match self.bind_flow_step(spec, &flow, loader, stack) {
                    Ok(step) if step.plan.has_wait() => diags.push(
                        Diagnostic::error(
                            "E008",
                            format!(
                                "flow `{}` has a `wait` step, and a wait cannot be inside a used flow",
                                step.plan.flow.name.value
                            ),
                            decl.kind.span,
                        )
                        .with_help("put the `wait` step in this flow, after this step"),
                    ),
                    Ok(step) => {
                        required_secrets.extend(step.plan.required_secrets.iter().cloned());
                        uses.push(FlowUse {
                            from: flow.file.name().to_owned(),
                            reference: spec.target.value.clone(),
                            file: step.plan.flow.file.name().to_owned(),
                        });
                        uses.extend(step.plan.uses.iter().cloned());
                        files.extend(step.plan.files.iter().cloned());
                        if let Some(last) = bound.last_mut() {
                            last.fields = step.fields();
                        }
                        steps.push(Box::new(step));
                    }
                    Err(ds) => diags.extend(ds),
                }
                continue;
            }
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
                if let Some(last) = bound.last_mut() {
                    last.kind_unknown = true;
                }
                continue;
            };
            match kind.bind(decl, &flow) {
                Ok(step) => {
                    if let Some(last) = bound.last_mut() {
                        *last = BoundStep {
                            defines: step.defines(),
                            fields: step.fields(),
                            kind_unknown: false,
                        };
                    }
                    steps.push(step);
                }
                Err(ds) => {
                    diags.extend(ds);
                    // What a plugin step would have set, if its kind says without a step;
                    // else a read of a variable it might have set is not reported as
                    // undefined, so that the step's own error is not echoed further down.
                    // (A built-in step's variables are known from the file.)
                    let defines = kind.defines();
                    let plugin = matches!(decl.spec, StepSpec::Plugin(_));
                    if plugin && defines.is_empty() && not_bound_from.is_none() {
                        not_bound_from = Some(decl.span.start);
                    }
                    if let Some(last) = bound.last_mut() {
                        last.defines = defines;
                    }
                }
            }
        }
        stack.pop();
        diags.extend(
            check_variables(&flow, &bound)
                .into_iter()
                .filter(|d| match not_bound_from {
                    Some(from) => {
                        !(d.span.start > from && d.message.starts_with("undefined variable"))
                    }
                    None => true,
                }),
        );
        let has_errors = diags.has_errors();
        let all = diags.sorted();
        if has_errors {
            return Err(all);
        }
        required_secrets.sort();
        required_secrets.dedup();
        Ok((
            Plan {
                flow,
                steps,
                required_secrets,
                max_steps: DEFAULT_MAX_STEPS,
                files,
                uses,
                warnings: Vec::new(),
            },
            all,
        ))
    }

    /// Compiles the flow a `flow` step uses, refusing cycles.
    fn bind_flow_step(
        &self,
        spec: &FlowUseSpec,
        flow: &Flow,
        loader: &dyn FlowLoader,
        stack: &mut Vec<String>,
    ) -> Result<FlowStep, Vec<Diagnostic>> {
        let target = &spec.target;
        let source = loader.load(&target.value, &flow.file).map_err(|e| {
            vec![Diagnostic::error(
                "E013",
                format!("cannot use flow `{}`: {e}", target.value),
                target.span,
            )]
        })?;
        if let Some(first) = stack.iter().position(|f| f == source.name()) {
            let mut cycle: Vec<&str> = stack[first..].iter().map(String::as_str).collect();
            cycle.push(source.name());
            return Err(vec![
                Diagnostic::error(
                    "E013",
                    format!(
                        "flow `{}` uses itself: {}",
                        target.value,
                        cycle.join(" -> ")
                    ),
                    target.span,
                )
                .with_help("a flow may not use a flow that uses it back"),
            ]);
        }
        let sub_file = source.clone();
        let (plan, _) = self
            .compile_nested(source, Some(loader), stack)
            .map_err(|ds| {
                let first = ds
                    .iter()
                    .find(|d| d.severity == flowstep_spec::Severity::Error)
                    .or(ds.first());
                let detail = first.map_or_else(String::new, |d| {
                    let (line, col) = d.line_col(&sub_file);
                    format!(": {} (at {}:{line}:{col})", d.message, sub_file.name())
                });
                vec![
                    Diagnostic::error(
                        "E013",
                        format!("flow `{}` used here has errors{detail}", target.value),
                        target.span,
                    )
                    .with_help(format!(
                        "run `flowstep check {}` to see them all",
                        sub_file.name()
                    )),
                ]
            })?;
        let problems = check_with(spec, plan.flow());
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(FlowStep {
            plan: Arc::new(plan),
            with: spec
                .with
                .iter()
                .map(|(k, v)| (k.value.clone(), v.clone()))
                .collect(),
            messages: spec.messages,
        })
    }
}

/// Checks a `flow` step's `with:` against the used flow's inputs: unknown names, literal values
/// that contradict an input's type or rules, and required inputs left out.
fn check_with(spec: &FlowUseSpec, used: &Flow) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let names: Vec<&str> = used.inputs.iter().map(|i| i.name.value.as_str()).collect();
    for (name, value) in &spec.with {
        let Some(decl) = used.input(&name.value) else {
            out.push(
                Diagnostic::error(
                    "E002",
                    format!("flow `{}` has no input `{}`", spec.target.value, name.value),
                    name.span,
                )
                .with_help(
                    help_did_you_mean(&name.value, names.iter().copied())
                        .unwrap_or_else(|| format!("its inputs are: {}", names.join(", "))),
                ),
            );
            continue;
        };
        let checked = match literal_value(value) {
            Some(InputValue::Text(text)) => Some(decl.parse_text(&text)),
            Some(InputValue::Typed(v)) => Some(decl.check(v)),
            None => None,
        };
        if let Some(Err(e)) = checked {
            out.push(Diagnostic::error(
                "E011",
                format!("input {e} (flow `{}`)", spec.target.value),
                name.span,
            ));
        }
    }
    let given: std::collections::HashSet<&str> =
        spec.with.iter().map(|(n, _)| n.value.as_str()).collect();
    for decl in &used.inputs {
        if !given.contains(decl.name.value.as_str()) && decl.default.is_none() {
            out.push(
                Diagnostic::error(
                    "E003",
                    format!(
                        "missing input `{}` for flow `{}`",
                        decl.name.value, spec.target.value
                    ),
                    spec.target.span,
                )
                .with_help(match &decl.description {
                    Some(d) => format!("add `{}:` under `with:` ({d})", decl.name.value),
                    None => format!("add `{}:` under `with:`", decl.name.value),
                }),
            );
        }
    }
    out
}

/// The value of a `with:` entry when it is written literally (no `<< >>` in it). A number is
/// handed on as its text, so that the input's type reads it (`19.90` stays `19.90` for a
/// `decimal`), as `--var` does.
fn literal_value(value: &ValueTemplate) -> Option<InputValue> {
    match value {
        ValueTemplate::Number(n) => Some(InputValue::Text(n.text().to_owned())),
        ValueTemplate::Null => Some(InputValue::Typed(serde_json::Value::Null)),
        ValueTemplate::Bool(b) => Some(InputValue::Typed(serde_json::Value::Bool(*b))),
        ValueTemplate::String(t) => t
            .as_literal()
            .map(|s| InputValue::Typed(serde_json::Value::String(s.to_owned()))),
        ValueTemplate::List(_) | ValueTemplate::Map(_) => None,
    }
}
