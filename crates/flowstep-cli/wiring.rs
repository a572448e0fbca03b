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
            r.parse::<Route>()
                .map_err(|e| anyhow::anyhow!("--route {r:?}: {e}"))
        })
        .collect()
}

/// Where requests go: the sandbox when one was started, and every route.
pub struct Routing {
    /// The built-in sandbox (`--sandbox`), serving until dropped.
    pub sandbox: Option<flowstep_sandbox::Sandbox>,
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
}

/// Starts the sandbox when asked, before the engine is built so that its route is known, and
/// says on stderr where requests go.
pub async fn routing(sandbox: bool, routes: Vec<Route>) -> anyhow::Result<Routing> {
    routing_at(sandbox, routes, None).await
}

/// [`routing`] with the sandbox on `prefer` when that address is free (a free port otherwise):
/// a server's sandbox stays where people and `flowstep sandbox say` expect it.
pub async fn routing_at(
    sandbox: bool,
    mut routes: Vec<Route>,
    prefer: Option<std::net::SocketAddr>,
) -> anyhow::Result<Routing> {
    let sandbox = if sandbox {
        let preferred = match prefer {
            Some(addr) => flowstep_sandbox::Sandbox::start(addr).await.ok(),
            None => None,
        };
        let sandbox = match preferred {
            Some(s) => s,
            None => {
                let s = flowstep_sandbox::Sandbox::start(([127, 0, 0, 1], 0).into())
                    .await
                    .context("cannot start the sandbox")?;
                if let Some(addr) = prefer {
                    errln!(
                        "note: {addr} is taken (another sandbox?), so this one is at {url}: play the customer with `flowstep sandbox say --to {url} ...`, and read the chat at {url}/__sandbox/whatsapp/messages",
                        url = s.base_url()
                    );
                }
                s
            }
        };
        errln!(
            "note: using the built-in sandbox at {} (no real payments)",
            sandbox.base_url()
        );
        // Prepended, so that the sandbox wins over a --route for the same API.
        for (i, api) in sandbox_defaults::APIS.iter().enumerate() {
            routes.insert(
                i,
                Route {
                    from: (*api).to_owned(),
                    to: sandbox.base_url(),
                },
            );
        }
        Some(sandbox)
    } else {
        None
    };
    for r in &routes {
        errln!("note: routing {} to {}", r.from, r.to);
    }
    Ok(Routing { sandbox, routes })
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
        read.missing
            .retain(|name| match sandbox_defaults::get(name) {
                Some(d) => {
                    errln!("{}", sandbox_defaults::note(d));
                    read.values.insert(name.clone(), Secret::new(d.value));
                    false
                }
                None => true,
            });
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
