//! The External API Request step (`type: http`) for flowstep: renders a request from an
//! [`HttpSpec`] (auth, form/JSON/text/multipart/binary bodies, URL templating that keeps
//! substituted values inside one path segment and host values inside the host),
//! checks it (header injection, secrets bound to origins), sends it with reqwest under a
//! network policy applied after DNS resolution (timeouts, size cap, redirects by hand that
//! drop every secret on the way to another origin, retries that never replay a POST without
//! an idempotency key), and maps the response into variables.
//!
//! It is a plugin like any other; the embedder registers it:
//!
//! ```
//! use flowstep_engine::Engine;
//! use flowstep_http::{HttpConfig, kind};
//! let mut engine = Engine::new();
//! engine.register("http", kind(HttpConfig::default()));
//! ```
//!
//! `HttpConfig::default()` denies private networks (loopback, RFC 1918, link-local, ...):
//! flows an embedder runs may be written by someone else. Allow what you need:
//!
//! ```
//! use flowstep_http::{HttpConfig, NetworkPolicy};
//! let config = HttpConfig {
//!     network: NetworkPolicy {
//!         allow_hosts: vec!["orders.internal".into()],
//!         allow_cidrs: vec!["10.20.0.0/16".parse().unwrap()],
//!         ..NetworkPolicy::default()
//!     },
//!     ..HttpConfig::default()
//! };
//! ```

// Functions here fail with the engine's `StepError`, the type the `Step` trait returns; boxing
// it inside the crate only to unbox it at that seam would buy nothing on a network-bound path.
#![allow(clippy::result_large_err)]

mod api_error;
mod auth;
mod binary;
mod binding;
mod config;
mod connection;
mod dns_guard;
mod dry_run;
mod files;
mod form;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod hints;
mod history;
mod ip_ranges;
mod mapping;
mod multipart;
mod network;
mod paginate;
mod query;
mod rate_limit;
mod render;
mod request;
mod resolve;
mod retry;
mod secret_reads;
mod send;
mod shell;
mod sizes;
mod step;
mod token_cache;
mod token_request;
mod token_url;
mod upload;
mod url;
mod wire_log;

pub use config::{DEFAULT_MAX_RESPONSE_BYTES, FileAccess, HttpConfig, Route, RouteError};
pub use connection::{ClientOptions, Pem, ProxyChoice};
pub use files::MAX_FILE_BYTES;
pub use ip_ranges::{Cidr, CidrError, PRIVATE_RANGES, PrivateRange, private_range};
pub use network::{Denied, NetworkPolicy};
pub use resolve::{Resolve, Resolver, StaticResolver, SystemResolver};
pub use wire_log::{BODY_SHOWN_CHARS, WireLog};

use flowstep_engine::Step;
use flowstep_spec::steps::{Auth, HttpSpec, StepDecl, StepSpec};
use flowstep_spec::{Diagnostic, Flow};
use std::sync::Arc;

/// The step kind to register: `engine.register("http", flowstep_http::kind(config))`. Every
/// step bound by it shares one configuration and one connection pool.
///
/// A dry run builds each request, routes and all, and records it without sending anything:
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flowstep_engine::{Engine, RunRequest};
/// use flowstep_http::{HttpConfig, Route, kind};
/// use flowstep_spec::SourceFile;
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
/// let request = RunRequest::new().secret("STRIPE_SECRET_KEY", "sk_test_abcdefghijklmnop4242");
/// let outcome = plan.run(request.dry_run()).await.unwrap();
/// let request = &outcome.steps[0].details["request"];
/// assert_eq!(request["url"], "https://api.stripe.com/v1/refunds");
/// assert_eq!(request["body"], "payment_intent=pi_123&amount=5000");
/// assert_eq!(request["headers"]["Authorization"], "Bearer sk_test_...4242");
/// # });
/// ```
pub fn kind(
    config: HttpConfig,
) -> impl Fn(&StepDecl, &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> + Send + Sync + 'static {
    let shared = Arc::new(step::Shared {
        clients: send::Clients::new(config.network.clone(), config.resolver.clone()),
        limits: rate_limit::Limits::new(config.rate_limit, config.shared_limits.clone()),
        tokens: token_cache::TokenCache::default(),
        config,
    });
    move |decl: &StepDecl, flow: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
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
        let problems = check_files(spec, flow, shared.config.files);
        if !problems.is_empty() {
            return Err(problems);
        }
        let connection = connection::resolve(
            &spec.network,
            &flow.http,
            &shared.config.connection,
            &flow.file,
        )?;
        let token_url = match &spec.auth {
            Auth::OAuth2(o) => Some(token_url::check(o, flow)?),
            _ => None,
        };
        let profile = shared.clients.profile(connection.client.clone());
        let declared: Vec<&str> = flow.secrets.iter().map(|s| s.name.value.as_str()).collect();
        Ok(Box::new(step::HttpStep {
            shared: shared.clone(),
            connection,
            profile,
            token_reads: match &spec.auth {
                Auth::OAuth2(o) => secret_reads::token_reads(o, &declared),
                _ => Vec::new(),
            },
            token_url,
            reads: secret_reads::reads(spec, &declared),
            spec: (**spec).clone(),
        }))
    }
}

/// The files a step names literally, checked when it is bound (`flowstep check`): each body
/// file exists in the flow's directory, is a regular file and fits [`MAX_FILE_BYTES`] (all
/// of them together); `response.save_to` can be written. A templated path is checked when
/// it is rendered.
fn check_files(spec: &HttpSpec, flow: &Flow, access: FileAccess) -> Vec<Diagnostic> {
    let base = files::base_dir(flow.file.name());
    let mut out = Vec::new();
    let body_files = spec.body.as_ref().map(|b| b.files()).unwrap_or_default();
    let mut paths: Vec<(&flowstep_spec::Template, bool)> =
        body_files.iter().map(|f| (&f.path, false)).collect();
    paths.extend(spec.save_to.iter().map(|t| (t, true)));
    let mut total: u64 = 0;
    for (template, write) in paths {
        if access == FileAccess::Denied {
            out.push(
                Diagnostic::error(
                    "E016",
                    format!(
                        "this runner does not let flows {} files",
                        if write { "write" } else { "read" }
                    ),
                    template.span(),
                )
                .with_help(
                    "an embedder allows it with `HttpConfig { files: FileAccess::BesideFlow, .. }`",
                ),
            );
            continue;
        }
        let Some(path) = template.as_literal() else {
            continue;
        };
        let checked = if write {
            files::check_writable(&base, path).map(|_| 0)
        } else {
            files::check(&base, path, MAX_FILE_BYTES)
        };
        match checked {
            Ok(size) => total += size,
            Err(e) => out.push(
                Diagnostic::error("E016", e, template.span()).with_help(if write {
                    "a response is saved in the flow file's directory or below it, in a \
                     directory that exists"
                } else {
                    "a path is relative to the flow file's directory, and names a regular file \
                     in it or below it"
                }),
            ),
        }
    }
    if total > MAX_FILE_BYTES as u64
        && let Some(first) = body_files.first()
    {
        out.push(Diagnostic::error(
            "E016",
            format!(
                "the body's files are {total} bytes together, more than the {} a request body \
                 may read",
                sizes::human_size(MAX_FILE_BYTES)
            ),
            first.path.span(),
        ));
    }
    out
}
