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
mod hints;
mod mapping;
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
