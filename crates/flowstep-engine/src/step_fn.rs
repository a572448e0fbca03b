//! [`step_fn`]: a step kind made of a closure and the type of its keys, the keys checked when
//! the flow is compiled and read for the closure when the step runs.

use crate::error::StepError;
use crate::plugin_keys::check_keys;
use crate::step::{Step, StepContext, StepKind};
use async_trait::async_trait;
use flowstep_spec::steps::StepDecl;
use flowstep_spec::{Diagnostic, Fields, Flow};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;

/// A step kind from a closure: `f(cx, keys)` runs the step, with the step's keys read into
/// `K` (a type that derives `serde::Deserialize`; `()` for a step with no keys of its own).
/// When the flow is compiled, the keys are checked against `K` ([`crate::check_keys`]): an
/// unknown key, a missing one or a literal value of the wrong type is a diagnostic at its
/// position, before anything runs. Declare the variables the closure sets with
/// [`StepFn::defines`] so that later steps may read them, and register it with
/// [`Engine::register_kind`](crate::Engine::register_kind).
///
/// The closure runs in dry runs too: check [`StepContext::mode`] before doing anything a dry
/// run must not do.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flowstep_engine::{Engine, RunRequest, step_fn};
///
/// #[derive(serde::Deserialize)]
/// struct Discount { percent: u8, code: Option<String> }
///
/// let mut engine = Engine::new();
/// let discount = step_fn(|cx, keys: Discount| {
///     let code = keys.code.unwrap_or_else(|| "WELCOME".into());
///     cx.set_var("offer", format!("{}% off with {code}", keys.percent))
/// });
/// engine.register_kind("discount", discount.defines(["offer"]));
///
/// let yaml = "flow: f\nsteps:\n  - id: d\n    type: discount\n    percent: 15\n  - id: m\n    type: message\n    text: <<offer>>\n";
/// let outcome = engine.compile_text("f.yaml", yaml).unwrap().run(RunRequest::new()).await.unwrap();
/// assert_eq!(outcome.messages[0].text, "15% off with WELCOME");
///
/// let typo = "flow: f\nsteps:\n  - id: d\n    type: discount\n    percnt: 15\n";
/// let err = engine.compile_text("f.yaml", typo).unwrap_err().to_string();
/// assert!(err.contains("unknown key `percnt` in the `discount` step"), "{err}");
/// assert!(err.contains("did you mean `percent`?"), "{err}");
/// # });
/// ```
pub fn step_fn<K, F>(f: F) -> StepFn<K, F>
where
    K: DeserializeOwned + 'static,
    F: Fn(&mut StepContext<'_>, K) -> Result<(), StepError> + Send + Sync + 'static,
{
    StepFn {
        f: Arc::new(f),
        defines: Vec::new(),
        fields: Fields::Any,
        keys: PhantomData,
    }
}

/// The step kind [`step_fn`] makes.
pub struct StepFn<K, F> {
    f: Arc<F>,
    defines: Vec<String>,
    fields: Fields,
    keys: PhantomData<fn() -> K>,
}

impl<K, F> std::fmt::Debug for StepFn<K, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepFn")
            .field("keys", &std::any::type_name::<K>())
            .field("defines", &self.defines)
            .finish_non_exhaustive()
    }
}

impl<K, F> StepFn<K, F> {
    /// The variables the closure sets, so that later steps may read them (see
    /// [`Step::defines`]).
    pub fn defines<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.defines = names.into_iter().map(Into::into).collect();
        self
    }

    /// The fields the closure makes readable as `<<steps.ID.FIELD>>` with
    /// [`StepContext::expose`] (see [`Step::fields`]); unchecked by default.
    pub fn fields(mut self, fields: Fields) -> Self {
        self.fields = fields;
        self
    }
}

impl<K, F> StepKind for StepFn<K, F>
where
    K: DeserializeOwned + 'static,
    F: Fn(&mut StepContext<'_>, K) -> Result<(), StepError> + Send + Sync + 'static,
{
    fn bind(&self, step: &StepDecl, _flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> {
        check_keys::<K>(step)?;
        Ok(Box::new(FnStep {
            f: self.f.clone(),
            defines: self.defines.clone(),
            fields: self.fields.clone(),
            keys: PhantomData::<fn() -> K>,
        }))
    }

    fn defines(&self) -> Vec<String> {
        self.defines.clone()
    }
}

/// A step bound by a [`StepFn`].
struct FnStep<K, F> {
    f: Arc<F>,
    defines: Vec<String>,
    fields: Fields,
    keys: PhantomData<fn() -> K>,
}

#[async_trait]
impl<K, F> Step for FnStep<K, F>
where
    K: DeserializeOwned + 'static,
    F: Fn(&mut StepContext<'_>, K) -> Result<(), StepError> + Send + Sync + 'static,
{
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let keys = cx.keys::<K>()?;
        (self.f)(cx, keys)
    }

    fn defines(&self) -> Vec<String> {
        self.defines.clone()
    }

    fn fields(&self) -> Fields {
        self.fields.clone()
    }
}
