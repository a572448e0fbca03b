//! [`StandardEngine`]: an [`Engine`] with the standard steps and the bundled presets, in one
//! call.

use flowstep_engine::{Engine, FlowLoader};
use flowstep_http::HttpConfig;
use flowstep_spec::{SourceFile, did_you_mean};

/// `Engine::standard()`: the engine with every step type flowstep ships, for a program that
/// has `use flowstep_embed::prelude::*;` (or this trait) in scope.
///
/// ```
/// use flowstep_embed::prelude::*;
///
/// let engine = Engine::standard();
/// let kinds: Vec<&str> = engine.kinds().collect();
/// assert_eq!(kinds, ["http", "message", "set", "wait", "flow"]);
/// let plan = engine.compile_text("pay.yaml", "flow: pay\nsteps:\n  - id: pay\n    type: flow\n    use: stripe-checkout\n    with: { product_name: Tea, amount_paise: 5000, success_url: https://shop.example/thanks }\n");
/// assert!(plan.is_ok(), "{}", plan.unwrap_err());
/// ```
pub trait StandardEngine {
    /// The built-in `message`, `set`, `wait` and `flow` steps, the `http` step with
    /// [`HttpConfig::default`] (which refuses private networks: your users write the flows),
    /// and `flow` steps that use the bundled presets by name ([`presets_loader`]).
    fn standard() -> Engine;

    /// [`StandardEngine::standard`] with your http configuration: routes, the network policy
    /// (`allow_hosts`, `allow_cidrs`), the resolver, the response size cap.
    fn standard_with(http: HttpConfig) -> Engine;
}

impl StandardEngine for Engine {
    fn standard() -> Engine {
        Self::standard_with(HttpConfig::default())
    }

    fn standard_with(http: HttpConfig) -> Engine {
        let mut engine = Engine::new();
        engine.register("http", flowstep_http::kind(http));
        engine.with_flow_loader(presets_loader());
        engine
    }
}

/// A [`FlowLoader`] that finds the bundled presets by name (`use: stripe-checkout`). It reads
/// no files; give the engine a loader of your own
/// ([`Engine::with_flow_loader`](flowstep_engine::Engine::with_flow_loader)) to let flows
/// use flows you store.
pub fn presets_loader() -> impl FlowLoader + 'static {
    |reference: &str, _from: &SourceFile| match flowstep_presets::get(reference) {
        Some(p) => Ok(SourceFile::new(p.file, p.source)),
        None => Err(match did_you_mean(reference, flowstep_presets::names()) {
            Some(s) => format!("no preset named `{reference}`; did you mean `{s}`?"),
            None => format!(
                "no preset named `{reference}` (presets: {})",
                flowstep_presets::names().collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}
