//! What `run` and `batch` set up alike before a flow runs: the built-in sandbox and the
//! routes (the sandbox's own first), and the flow's secrets, with the sandbox's test
//! credentials standing in for the ones that are not set.

use crate::out::errln;
use crate::problems::Problems;
use crate::{sandbox_defaults, secrets};
use anyhow::Context;
use flowstep_engine::redact::{SHORT_SECRET_CHARS, is_short};
use flowstep_engine::{Redactor, Secret};
use flowstep_http::Route;
use std::collections::BTreeMap;

/// `--route FROM=TO` values, read.
pub fn parse_routes(routes: &[String]) -> anyhow::Result<Vec<Route>> {
    routes
        .iter()
        .map(|r| {
            // The message quotes the part that is wrong, and never a password in it.
            r.parse::<Route>()
                .map_err(|e| anyhow::anyhow!("--route: {e}"))
        })
        .collect()
}

/// The sandbox `--sandbox` sends requests to.
pub enum SandboxAt {
    /// Started by this command; it stops when the command ends, and links it gave go dead.
    Here(flowstep_sandbox::Sandbox),
    /// A `flowstep sandbox` that was already running at [`SANDBOX_ADDR_VAR`] (or
    /// [`DEFAULT_SANDBOX_ADDR`]): it keeps its sessions after this command, so the links it
    /// gave can be opened and paid, and looked up with the status presets.
    Running(String),
}

impl SandboxAt {
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        match self {
            SandboxAt::Here(s) => s.base_url(),
            SandboxAt::Running(url) => url.clone(),
        }
    }

    /// Stops the sandbox this command started; a running one is left alone.
    pub fn shutdown(self) {
        if let SandboxAt::Here(s) = self {
            s.shutdown();
        }
    }
}

/// Where `run --sandbox` and `batch --sandbox` look for a running `flowstep sandbox` (and where
/// `flowstep sandbox` listens by default), as `HOST:PORT`.
pub const SANDBOX_ADDR_VAR: &str = "FLOWSTEP_SANDBOX_ADDR";

/// The sandbox's address when [`SANDBOX_ADDR_VAR`] is not set.
pub const DEFAULT_SANDBOX_ADDR: &str = "127.0.0.1:12111";

/// Where requests go: the sandbox when one is used, and every route.
pub struct Routing {
    /// The sandbox (`--sandbox`).
    pub sandbox: Option<SandboxAt>,
    /// The routes, the sandbox's first.
    pub routes: Vec<Route>,
}

impl Routing {
    /// Where graph.facebook.com goes, for a WhatsApp channel that talks to Graph directly.
    pub fn graph_url(&self) -> Option<String> {
        self.routes
            .iter()
            .find(|r| r.from == flowstep_whatsapp::DEFAULT_BASE_URL)
            .map(|r| r.to.clone())
    }

    /// Says on stderr where requests go: one note for the sandbox, naming the APIs of
    /// [`sandbox_defaults::APIS`] for which `uses` is true (all when none is), then one for
    /// each route the user gave.
    pub fn announce(&self, uses: impl Fn(&str) -> bool) {
        let mut user_routes = &self.routes[..];
        if let Some(sandbox) = &self.sandbox {
            user_routes = &self.routes[sandbox_defaults::APIS.len()..];
            let mut used: Vec<&str> = sandbox_defaults::APIS
                .iter()
                .copied()
                .filter(|api| uses(api))
                .collect();
            if used.is_empty() {
                used = sandbox_defaults::APIS.to_vec();
            }
            let hosts: Vec<&str> = used
                .iter()
                .map(|api| api.trim_start_matches("https://"))
                .collect();
            let which = match sandbox {
                SandboxAt::Here(_) => "the built-in sandbox",
                SandboxAt::Running(_) => "the running `flowstep sandbox`",
            };
            errln!(
                "note: requests to {} go to {which} at {} (no real payments)",
                sandbox_defaults::and_list(&hosts),
                sandbox.base_url()
            );
        }
        for r in user_routes {
            errln!("note: routing {} to {}", r.from, r.to);
        }
    }
}

/// Whether the flow of `plan` (its own file or one its `flow` steps use) names the API at
/// `api` (`https://api.stripe.com`) outside a comment, or sends messages through it (the
/// WhatsApp channel talks to Graph): what [`Routing::announce`] lists.
pub fn flow_uses(plan: &flowstep_engine::Plan, whatsapp_channel: bool) -> impl Fn(&str) -> bool {
    let sources = plan.sources();
    let mut texts = vec![sources.main.text];
    texts.extend(sources.used.files.into_iter().map(|f| f.text));
    let code: String = texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    move |api: &str| {
        let host = api.trim_start_matches("https://");
        code.contains(host) || (whatsapp_channel && api == flowstep_whatsapp::DEFAULT_BASE_URL)
    }
}

/// Uses the sandbox when asked, before the engine is built so that its route is known: a
/// running `flowstep sandbox` (see [`SandboxAt::Running`]) when one answers, else one started
/// here. Nothing is printed: [`Routing::announce`] says where requests go once the flow is
/// known.
pub async fn routing(sandbox: bool, routes: Vec<Route>) -> anyhow::Result<Routing> {
    if !sandbox {
        return Ok(Routing {
            sandbox: None,
            routes,
        });
    }
    let at = match running_sandbox().await {
        Some(url) => SandboxAt::Running(url),
        None => SandboxAt::Here(
            flowstep_sandbox::Sandbox::start(([127, 0, 0, 1], 0).into())
                .await
                .context("cannot start the sandbox")?,
        ),
    };
    Ok(with_sandbox(at, routes))
}

/// Where `run --sandbox` looks for a running sandbox: [`SANDBOX_ADDR_VAR`], else
/// [`DEFAULT_SANDBOX_ADDR`]; `None` when the variable holds no address.
pub fn sandbox_addr() -> Option<std::net::SocketAddr> {
    let addr = std::env::var(SANDBOX_ADDR_VAR).unwrap_or_else(|_| DEFAULT_SANDBOX_ADDR.into());
    addr.trim().parse().ok()
}

/// A `flowstep sandbox` answering at [`SANDBOX_ADDR_VAR`] (default
/// [`DEFAULT_SANDBOX_ADDR`]): its base URL. Asked with one short request that only a
/// flowstep sandbox answers with its header, so another program on the port is not taken
/// for one.
async fn running_sandbox() -> Option<String> {
    let addr = sandbox_addr()?;
    let wait = std::time::Duration::from_millis(500);
    // Nothing listening (the usual case) is refused at once, before any HTTP client is built.
    tokio::time::timeout(wait, tokio::net::TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    let url = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(wait)
        .build()
        .ok()?;
    let resp = client
        .get(format!("{url}/__sandbox/stats"))
        .send()
        .await
        .ok()?;
    resp.headers()
        .contains_key(flowstep_sandbox::SANDBOX_HEADER)
        .then_some(url)
}

/// [`routing`] for `serve`: a sandbox of its own, on `prefer` when that address is free (a
/// free port otherwise), so that it stays where people and `flowstep sandbox say` expect it;
/// every API is announced.
pub async fn routing_at(
    sandbox: bool,
    routes: Vec<Route>,
    prefer: std::net::SocketAddr,
) -> anyhow::Result<Routing> {
    if !sandbox {
        let routing = Routing {
            sandbox: None,
            routes,
        };
        routing.announce(|_| true);
        return Ok(routing);
    }
    let s = match flowstep_sandbox::Sandbox::start(prefer).await {
        Ok(s) => s,
        Err(_) => {
            let s = flowstep_sandbox::Sandbox::start(([127, 0, 0, 1], 0).into())
                .await
                .context("cannot start the sandbox")?;
            errln!(
                "note: {prefer} is taken (another sandbox?), so this one is at {url}: play the customer with `flowstep sandbox say --to {url} ...`, and read the chat at {url}/__sandbox/whatsapp/messages",
                url = s.base_url()
            );
            s
        }
    };
    let routing = with_sandbox(SandboxAt::Here(s), routes);
    routing.announce(|_| true);
    Ok(routing)
}

/// The sandbox's routes, before the user's so that the sandbox wins over a --route for the
/// same API.
fn with_sandbox(at: SandboxAt, mut routes: Vec<Route>) -> Routing {
    for (i, api) in sandbox_defaults::APIS.iter().enumerate() {
        routes.insert(
            i,
            Route {
                from: (*api).to_owned(),
                to: at.base_url(),
            },
        );
    }
    Routing {
        sandbox: Some(at),
        routes,
    }
}

/// A flow's secrets, read.
pub struct Secrets {
    /// Their values by name.
    pub values: BTreeMap<String, Secret>,
    /// How to set each one, for a message about it.
    pub how_to_set: Vec<(String, String)>,
}

/// Reads the secrets `names` from the environment or `.env`, with the sandbox's test
/// credentials for unset ones when `sandbox`. Each value joins `redactor` (the process's
/// log writer's), and a short one is warned about. `None` when some are missing, each added
/// to `problems` with how to set it.
pub fn read_secrets(
    names: &[String],
    sandbox: bool,
    dry_run: bool,
    redactor: &Redactor,
    problems: &mut Problems,
) -> anyhow::Result<Option<Secrets>> {
    let mut read = secrets::read(names)?;
    if sandbox {
        let mut used = Vec::new();
        read.missing
            .retain(|name| match sandbox_defaults::get(name) {
                Some(d) => {
                    used.push(d);
                    read.values.insert(name.clone(), Secret::new(d.value));
                    false
                }
                None => true,
            });
        if !used.is_empty() {
            errln!("{}", sandbox_defaults::notes(&used));
        }
    }
    // A dry run sends nothing: a secret that is not set is shown as `<NAME>` where it would
    // go. The stand-in holds nothing secret, and a live run refuses it.
    let mut stand_ins = Vec::new();
    if dry_run {
        for name in std::mem::take(&mut read.missing) {
            errln!(
                "note: secret {name} is not set; this dry run shows <{name}> where it would go (a live run needs it: {})",
                read.how_to_set(&name)
            );
            stand_ins.push((name.clone(), Secret::placeholder(&name)));
        }
    }
    if !read.missing.is_empty() {
        for name in &read.missing {
            problems.error(format!("missing secret {name}: {}", read.how_to_set(name)));
        }
        if read
            .missing
            .iter()
            .any(|m| sandbox_defaults::get(m).is_some())
            && !sandbox
        {
            problems.help("to try the flow without a key, add --sandbox");
        }
        return Ok(None);
    }
    for (name, value) in &read.values {
        let chars = value.expose().chars().count();
        if is_short(value.expose()) {
            errln!(
                "warning: secret {name} is only {chars} character{} long: a secret shorter than {SHORT_SECRET_CHARS} characters is hidden only where it stands as a whole word, so text that merely contains it is shown as it is (see docs/security.md)",
                if chars == 1 { "" } else { "s" }
            );
        }
    }
    // The CLI's shared redactor (the log writer's) keeps the secrets for good: reports drawn
    // after a run quote the flow file's lines, which a run's own redactor, gone by then,
    // cannot cover.
    for value in read.values.values() {
        redactor.add(value.expose());
    }
    let how_to_set = names
        .iter()
        .map(|n| (n.clone(), read.how_to_set(n)))
        .collect();
    let mut values = read.values;
    values.extend(stand_ins);
    Ok(Some(Secrets { values, how_to_set }))
}
