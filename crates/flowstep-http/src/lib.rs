//! The External API Request step (`type: http`) for flowstep: renders a request from an
//! [`HttpSpec`](flowstep_spec::steps::HttpSpec) (auth, form/JSON/text bodies, URL templating
//! that keeps substituted values inside one path segment), checks it (header injection, secret
//! host bindings), sends it with reqwest (timeouts, size cap, redirects by hand, retries that
//! never replay a POST without an idempotency key), and maps the response into variables.
//!
//! It is a plugin like any other; the embedder registers it:
//!
//! ```
//! use flowstep_engine::Engine;
//! use flowstep_http::{HttpConfig, kind};
//! let mut engine = Engine::new();
//! engine.register("http", kind(HttpConfig::default()));
//! ```

// Functions here fail with the engine's `StepError`, the type the `Step` trait returns; boxing
// it inside the crate only to unbox it at that seam would buy nothing on a network-bound path.
#![allow(clippy::result_large_err)]

mod api_error;
mod auth;
mod binding;
mod config;
mod dry_run;
mod form;
mod headers;
mod hints;
mod history;
mod mapping;
mod render;
mod request;
mod retry;
mod send;
mod step;
mod url;

pub use config::{DEFAULT_MAX_RESPONSE_BYTES, HttpConfig, Route, RouteError};

use flowstep_engine::{Step, StepKind};
use flowstep_spec::steps::{StepDecl, StepSpec};
use flowstep_spec::{Diagnostic, Flow};
use std::sync::Arc;

/// The step kind to register: `engine.register("http", flowstep_http::kind(config))`. Every
/// step bound by it shares one configuration and one connection pool.
///
/// A dry run builds each request, routes and all, and records it without sending anything:
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flowstep_engine::{Engine, RecordingChannel, Redactor, RunMode, RunRequest, Secret};
/// use flowstep_http::{HttpConfig, Route, kind};
/// use flowstep_spec::SourceFile;
/// use std::sync::Arc;
///
/// let mut engine = Engine::new();
/// let route: Route = "https://api.stripe.com=http://127.0.0.1:12111".parse().unwrap();
/// engine.register("http", kind(HttpConfig { routes: vec![route], ..HttpConfig::default() }));
///
/// let yaml = r#"flow: refund
/// secrets: [STRIPE_SECRET_KEY]
/// steps:
///   - id: refund
///     type: http
///     method: POST
///     url: https://api.stripe.com/v1/refunds
///     auth: { type: bearer, token: "<<secrets.STRIPE_SECRET_KEY>>" }
///     body_type: form
///     body: { payment_intent: pi_123, amount: 5000 }
/// "#;
/// let (plan, _) = engine.compile_source(SourceFile::new("refund.yaml", yaml)).unwrap();
/// let secrets = [("STRIPE_SECRET_KEY".to_owned(), Secret::new("sk_test_abcdefghijklmnop4242"))];
/// let channel = RecordingChannel::new();
/// let outcome = plan.run(RunRequest {
///     inputs: Default::default(), secrets: secrets.into(), run_id: None,
///     mode: RunMode::DryRun, channel: &channel, redactor: Arc::new(Redactor::new()),
/// }).await.unwrap();
/// let request = &outcome.steps[0].details["request"];
/// assert_eq!(request["url"], "https://api.stripe.com/v1/refunds");
/// assert_eq!(request["body"], "payment_intent=pi_123&amount=5000");
/// assert_eq!(request["headers"]["Authorization"], "Bearer sk_test_...4242");
/// # });
/// ```
pub fn kind(config: HttpConfig) -> impl StepKind + 'static {
    let shared = Arc::new(step::Shared {
        config,
        clients: send::Clients::default(),
    });
    move |decl: &StepDecl, _flow: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
        let StepSpec::Http(spec) = &decl.spec else {
            return Err(vec![Diagnostic::error(
                "E008",
                "the `http` step kind was given a step that is not an http step",
                decl.kind.span,
            )]);
        };
        if let Some(text) = spec.url.as_literal()
            && let Err(e) = url::build_url(&[(false, text.to_owned())], |_| String::new())
        {
            return Err(vec![Diagnostic::error(
                "E010",
                format!("`url`: {e}"),
                spec.url.span(),
            )]);
        }
        Ok(Box::new(step::HttpStep {
            shared: shared.clone(),
            spec: (**spec).clone(),
        }))
    }
}
