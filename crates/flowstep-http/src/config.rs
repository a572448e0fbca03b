//! How the embedder configures the http step: routes (send `https://api.stripe.com` to a local
//! sandbox), the network policy and resolver, the response size cap and the User-Agent.

use crate::connection::ClientOptions;
use crate::network::NetworkPolicy;
use crate::resolve::Resolver;
use crate::wire_log::WireLog;
use flowstep_engine::SharedRateLimiter;
use flowstep_spec::Rate;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Whether steps may read and write files: the files of `multipart` and `binary` bodies and
/// `response.save_to`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileAccess {
    /// No step reads or writes a file (a flow that would fails at check time): what an
    /// embedder that runs flows written by others gets unless it chooses.
    #[default]
    Denied,
    /// Files in the flow file's directory or below it (no absolute paths, no `..` above it,
    /// no link out of it), as `flowstep run` and `flowstep check` allow.
    BesideFlow,
}

/// The default cap on a response body: 10 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;

/// Settings shared by every `http` step of an engine.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// URL prefixes to rewrite before sending, first match wins. Their targets are always
    /// allowed by the network policy.
    pub routes: Vec<Route>,
    /// Which addresses requests (and their redirects) may reach, checked after DNS
    /// resolution. Private networks are denied by default.
    pub network: NetworkPolicy,
    /// How host names are resolved: the system's resolver unless set.
    pub resolver: Resolver,
    /// The largest response body read; a larger one fails the step.
    pub max_response_bytes: usize,
    /// The `User-Agent` sent unless the step sets its own.
    pub user_agent: String,
    /// The most requests per unit of time that all the steps of this kind send together
    /// (every attempt counts); none when `None`. Steps add limits per host (`rate_limit:`).
    pub rate_limit: Option<Rate>,
    /// Where the steps' per-host limits (`rate_limit:`) are held in common with other
    /// processes (the workers of one deployment, through their Postgres run store); each
    /// process's own limiter when `None`. The process-wide `rate_limit` above and the slowing
    /// down after a 429 stay per process.
    pub shared_limits: Option<Arc<dyn SharedRateLimiter>>,
    /// Where each attempt's request and response are shown (`flowstep run -v`); nowhere when
    /// `None`.
    pub wire_log: Option<WireLog>,
    /// The TLS, proxy and HTTP version settings every step starts from (`flowstep run
    /// --cacert`, `--insecure`, `--proxy`); a flow's `http:` block and a step's own keys
    /// override them one by one.
    pub connection: ClientOptions,
    /// Whether steps may read files for bodies and save responses to files.
    pub files: FileAccess,
}

impl Default for HttpConfig {
    /// No routes, private networks denied ([`NetworkPolicy::default`]), the system's
    /// resolver, a 10 MiB cap, `User-Agent: flowstep/<version>`, no rate limit, no wire log,
    /// the system's root certificates and the environment's proxy settings, and no file access.
    fn default() -> Self {
        HttpConfig {
            routes: Vec::new(),
            network: NetworkPolicy::default(),
            resolver: Resolver::system(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            user_agent: format!("flowstep/{}", env!("CARGO_PKG_VERSION")),
            rate_limit: None,
            shared_limits: None,
            wire_log: None,
            connection: ClientOptions::default(),
            files: FileAccess::Denied,
        }
    }
}

/// Sends requests for one base URL to another, e.g. `https://api.stripe.com` to
/// `http://127.0.0.1:12111`. Secret host bindings and redirect checks still use the URL as
/// written, so routing to a sandbox never changes what a secret may be sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The prefix as written in flows (`https://api.stripe.com`).
    pub from: String,
    /// What it is replaced with (`http://127.0.0.1:12111`).
    pub to: String,
}

/// Why a `FROM=TO` route could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError(String);

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RouteError {}

impl FromStr for Route {
    type Err = RouteError;

    /// Reads `FROM=TO`, both absolute http(s) URLs without a query or fragment.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((from, to)) = s.split_once('=') else {
            return Err(RouteError(format!(
                "route `{s}` has no `=`: write FROM=TO, e.g. https://api.stripe.com=http://127.0.0.1:12111"
            )));
        };
        let check = |which: &str, url: &str| -> Result<String, RouteError> {
            let url = url.trim();
            let parsed = reqwest::Url::parse(url).map_err(|e| {
                RouteError(format!(
                    "route {which} `{url}` is not a URL ({e}): write it like https://api.stripe.com"
                ))
            })?;
            // Credentials in a route would be sent beside the step's own `Authorization`, and
            // printed in the routing note: refused, and not shown.
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let mut shown = parsed.clone();
                let _ = shown.set_username("");
                let _ = shown.set_password(None);
                return Err(RouteError(format!(
                    "route {which} `{}` has a user name or password in it (`USER:PASSWORD@`); a route only says where requests go: give their credentials in the step's `auth:`",
                    shown.as_str().trim_end_matches('/')
                )));
            }
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(RouteError(format!(
                    "route {which} `{url}` must start with http:// or https://"
                )));
            }
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(RouteError(format!("route {which} `{url}` has no host")));
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(RouteError(format!(
                    "route {which} `{url}` must not have a query or fragment"
                )));
            }
            // A trailing slash would make `https://a.com/` miss `https://a.com?x`; prefixes are
            // compared without it.
            Ok(url.trim_end_matches('/').to_owned())
        };
        Ok(Route {
            from: check("FROM", from)?,
            to: check("TO", to)?,
        })
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.from, self.to)
    }
}

/// Whether `url` starts with `prefix` at a boundary, so that `https://api.stripe.com` does not
/// match `https://api.stripe.com.evil.example`.
fn strip_prefix_at_boundary<'u>(url: &'u str, prefix: &str) -> Option<&'u str> {
    let prefix = prefix.trim_end_matches('/');
    let rest = url.get(..prefix.len())?;
    if !rest.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = &url[prefix.len()..];
    (rest.is_empty() || rest.starts_with(['/', '?', '#'])).then_some(rest)
}

/// The URL to contact for `url`: the first matching route's `to` plus the rest, or `None`
/// when no route matches.
pub fn route(routes: &[Route], url: &str) -> Option<String> {
    routes
        .iter()
        .find_map(|r| strip_prefix_at_boundary(url, &r.from).map(|rest| format!("{}{rest}", r.to)))
}

/// The reverse of [`route`]: a URL on a route's target (a redirect `Location` from a sandbox)
/// seen as the URL the flow meant, so that host checks compare like with like.
pub fn unroute(routes: &[Route], url: &str) -> Option<String> {
    routes
        .iter()
        .find_map(|r| strip_prefix_at_boundary(url, &r.to).map(|rest| format!("{}{rest}", r.from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_say_what_is_wrong() {
        let r: Route = "https://api.stripe.com=http://127.0.0.1:12111/"
            .parse()
            .unwrap();
        assert_eq!(r.from, "https://api.stripe.com");
        assert_eq!(r.to, "http://127.0.0.1:12111");
        let e = "https://api.stripe.com".parse::<Route>().unwrap_err();
        assert!(e.to_string().contains("has no `=`"), "{e}");
        let e = "api.stripe.com=http://x".parse::<Route>().unwrap_err();
        assert!(
            e.to_string()
                .contains("route FROM `api.stripe.com` is not a URL"),
            "{e}"
        );
        let e = "ftp://a.com=http://x".parse::<Route>().unwrap_err();
        assert!(e.to_string().contains("must start with http"), "{e}");
        let e = "https://a.com=http://x?y=1".parse::<Route>().unwrap_err();
        assert!(e.to_string().contains("TO"), "{e}");
        // Credentials: refused, and the password is not shown.
        let e = "https://api.stripe.com=http://user:pw@127.0.0.1:18432"
            .parse::<Route>()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "route TO `http://127.0.0.1:18432` has a user name or password in it (`USER:PASSWORD@`); a route only says where requests go: give their credentials in the step's `auth:`"
        );
    }

    #[test]
    fn routing_matches_prefixes_at_a_boundary_only() {
        let routes = vec![Route {
            from: "https://api.stripe.com".into(),
            to: "http://127.0.0.1:9".into(),
        }];
        assert_eq!(
            route(&routes, "https://api.stripe.com/v1/x?a=1").as_deref(),
            Some("http://127.0.0.1:9/v1/x?a=1")
        );
        assert_eq!(
            route(&routes, "https://api.stripe.com.evil.example/v1"),
            None
        );
        assert_eq!(route(&routes, "http://api.stripe.com/v1"), None);
        assert_eq!(
            unroute(&routes, "http://127.0.0.1:9/v1/y").as_deref(),
            Some("https://api.stripe.com/v1/y")
        );
    }
}
