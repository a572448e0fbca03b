//! `flowstep serve`: opens the run store, loads the flows, starts the API and the run loop,
//! and stops on SIGTERM or Ctrl-C (reloading the flows on SIGHUP).

use crate::args::{ServeArgs, ServeChannel};
use crate::exit::Exit;
use crate::out::errln;
use crate::{delivery, load, sandbox_defaults, secrets, wiring};
use flowstep_engine::{Channel, DiscardChannel, Redactor, Secret};
use flowstep_http::{HttpConfig, NetworkPolicy};
use flowstep_server::{
    ApiToken, FlowSet, SecretSource, Server, ServerConfig, ServerError, WorkerConfig,
};
use flowstep_store::RunStore;
use flowstep_store::postgres::PostgresStore;
use flowstep_store::sqlite::SqliteStore;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// The environment variable the API token is read from.
const TOKEN_VAR: &str = "FLOWSTEP_API_TOKEN";

pub fn serve(args: ServeArgs, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    // Whatever --db holds, a password in it is never printed: also when the URL is mistyped
    // (`postgress://`) or read as a file path.
    let passwords = db_passwords(&args.db);
    for password in &passwords {
        redactor.add(password);
    }
    let hide = |text: String| hide_passwords(text, &passwords);
    let db = match store_at(&args.db) {
        Ok(p) => p,
        Err(e) => {
            errln!("{}", hide(format!("error: --db {}: {e}", args.db)));
            return Ok(Exit::Invalid);
        }
    };
    let routes = wiring::parse_routes(&args.routes)?;
    let (token, generated) = match ApiToken::for_addr(std::env::var(TOKEN_VAR).ok(), args.addr) {
        Ok(t) => t,
        Err(e) => {
            errln!("error: {e}");
            return Ok(Exit::Invalid);
        }
    };
    redactor.add(token.expose());
    super::runtime()?.block_on(async move {
        // The standalone sandbox's port, when free, so that `flowstep sandbox say` finds it.
        let prefer = ([127, 0, 0, 1], flowstep_sandbox::DEFAULT_PORT).into();
        let routing = wiring::routing_at(args.sandbox, routes, prefer).await?;
        let graph_url = routing.graph_url();
        let wiring::Routing { sandbox, routes } = routing;
        // `routing_at` always starts a sandbox of its own: the server forwards its events.
        let sandbox = match sandbox {
            Some(wiring::SandboxAt::Here(s)) => Some(s),
            _ => None,
        };
        let network = if args.allow_private_networks {
            NetworkPolicy::allow_all()
        } else {
            NetworkPolicy::deny_private()
        };
        let http = HttpConfig {
            routes,
            network,
            ..HttpConfig::default()
        };
        let engine = Arc::new(load::engine(http.clone()));
        // Under --sandbox, messages go to the sandbox's WhatsApp unless told otherwise.
        let channel_kind = args.channel.unwrap_or(match sandbox.is_some() {
            true => ServeChannel::Whatsapp,
            false => ServeChannel::Record,
        });
        let channel: Arc<dyn Channel> = match channel_kind {
            ServeChannel::Record => Arc::new(DiscardChannel),
            ServeChannel::Whatsapp => {
                match delivery::whatsapp_channel(
                    sandbox.is_some(),
                    graph_url,
                    &args.whatsapp_graph_version,
                    &redactor,
                ) {
                    Ok(c) => {
                        errln!("note: messages go to WhatsApp through {}", c.config().base_url);
                        Arc::new(c)
                    }
                    Err(problems) => {
                        for p in problems {
                            errln!("error: {p}");
                        }
                        return Ok(Exit::Invalid);
                    }
                }
            }
        };
        // The same directory named twice would define each of its flows twice.
        let mut dirs: Vec<PathBuf> = Vec::new();
        for d in &args.flows {
            let key = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
            if !dirs
                .iter()
                .any(|k| std::fs::canonicalize(k).unwrap_or_else(|_| k.clone()) == key)
            {
                dirs.push(d.clone());
            }
        }
        let flows: Arc<flowstep_server::api::FlowLoader> =
            Arc::new(move |engine| FlowSet::load(engine, &dirs, true));
        // The flows are checked before the store is opened, so that a refused start leaves no
        // database file behind. (`Server::start` reads them again; a compile takes microseconds.)
        if let Err(e) = flows(&engine) {
            for p in e.problems {
                errln!("{p}");
            }
            errln!("error: flowstep serve did not start: the flows could not be loaded (above)");
            return Ok(Exit::Invalid);
        }
        let opened: Result<(Arc<dyn RunStore>, String), _> = match &db {
            StoreAt::Sqlite(path) => SqliteStore::open(path)
                .await
                .map(|s| (Arc::new(s) as Arc<dyn RunStore>, format!("sqlite://{}", path.display()))),
            StoreAt::Postgres(url) => PostgresStore::open(url).await.map(|s| {
                let shown = s.location().to_owned();
                (Arc::new(s) as Arc<dyn RunStore>, shown)
            }),
        };
        let (store, store_shown) = match opened {
            Ok(s) => s,
            Err(e) => {
                errln!("{}", hide(format!("error: {e}")));
                return Ok(Exit::Invalid);
            }
        };
        // Workers sharing a Postgres store share the steps' per-host rate limits too.
        let engine = match store.shared_rate_limiter() {
            Some(shared) => Arc::new(load::engine(HttpConfig {
                shared_limits: Some(shared),
                ..http
            })),
            None => engine,
        };
        let secrets = Arc::new(EnvSecrets {
            sandbox: sandbox.is_some(),
            redactor: redactor.clone(),
            read: Default::default(),
        });
        let mut config = ServerConfig::new(
            store,
            engine,
            flows,
            secrets.clone(),
            channel,
            token.clone(),
        );
        config.redactor = redactor.clone();
        config.needs_recipient = channel_kind == ServeChannel::Whatsapp;
        config.max_body_bytes = usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX);
        config.header_timeout = args.header_timeout;
        config.worker = WorkerConfig {
            max_concurrent_runs: usize::from(args.max_concurrent_runs),
            lease: args.lease,
            shutdown_grace: args.shutdown_grace,
            ..WorkerConfig::default()
        };
        let server = match Server::start(config, args.addr).await {
            Ok(s) => s,
            Err(ServerError::Flows(e)) => {
                for p in e.problems {
                    errln!("{p}");
                }
                errln!("error: flowstep serve did not start: the flows could not be loaded (above)");
                return Ok(Exit::Invalid);
            }
            Err(e) => {
                errln!("error: {e}");
                return Ok(Exit::Failed);
            }
        };
        if let Some(s) = &sandbox {
            let faults = flowstep_sandbox::DeliveryFaults {
                rate: args.forward_faults.unwrap_or(0.0),
                seed: args.forward_faults_seed,
            };
            forward_to_self(s, server.addr(), &secrets, faults);
        }
        if generated {
            errln!(
                "note: {TOKEN_VAR} is not set, so this server made its own API token (shown once, valid until it stops): {}",
                token.expose()
            );
        }
        let signals = match Signals::watch() {
            Ok(s) => s,
            Err(e) => {
                errln!("error: flowstep serve cannot watch SIGTERM, SIGINT and SIGHUP: {e}");
                return Ok(Exit::Failed);
            }
        };
        errln!(
            "flowstep serve: listening on http://{} (store {store_shown}, at most {} runs at once)",
            server.addr(),
            args.max_concurrent_runs
        );
        let stop = server.shutdown_handle();
        let signals = tokio::spawn(watch_signals(signals, stop, server_reloader(&server)));
        let result = server.wait().await;
        signals.abort();
        if let Some(s) = sandbox {
            s.shutdown();
        }
        match result {
            Ok(()) => {
                errln!("flowstep serve: stopped");
                Ok(Exit::Success)
            }
            Err(e) => {
                errln!("error: {e}");
                Ok(Exit::Failed)
            }
        }
    })
}

/// `serve --sandbox`: the sandbox sends its events to this server's own webhook endpoints,
/// signed with the secrets the endpoints verify with (the sandbox's own when unset, as
/// `EnvSecrets` answers under `--sandbox`).
fn forward_to_self(
    sandbox: &flowstep_sandbox::Sandbox,
    addr: SocketAddr,
    secrets: &EnvSecrets,
    faults: flowstep_sandbox::DeliveryFaults,
) {
    // An unspecified bind address is reached on loopback.
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let base_url = format!("http://{}", SocketAddr::new(ip, addr.port()));
    let secrets = sandbox_defaults::webhook_secrets(|name| {
        secrets
            .secret(name)
            .map(|s| s.expose().to_owned())
            .unwrap_or_default()
    });
    errln!(
        "note: the sandbox sends its events to this server: {base_url}/webhooks/stripe, /webhooks/razorpay and /webhooks/whatsapp, signed"
    );
    if faults.rate > 0.0 {
        errln!(
            "note: --forward-faults: {:.1}% of those deliveries fail on purpose (seed {}) and are retried",
            faults.rate * 100.0,
            faults.seed
        );
    }
    sandbox.forward_to(Some(flowstep_sandbox::Forwarding {
        base_url,
        secrets,
        retry: flowstep_sandbox::RetrySchedule::default(),
        faults,
    }));
}

/// Where `--db` keeps the runs.
enum StoreAt {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A Postgres database, by its URL (which may hold a password).
    Postgres(String),
}

/// `sqlite://PATH` or a plain path, to a file; or `postgres://...` (`postgresql://...`), to a
/// database.
fn store_at(db: &str) -> Result<StoreAt, String> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return Ok(StoreAt::Postgres(db.to_owned()));
    }
    // `--db postgres` or `postgres:/...` meant the database, not a SQLite file of that name
    // that no other worker would share.
    let lower = db.trim().to_ascii_lowercase();
    if ["postgres", "postgresql"]
        .iter()
        .any(|p| lower == *p || lower.starts_with(&format!("{p}:")))
    {
        return Err(
            "a Postgres run store is a URL: postgres://USER@HOST:PORT/DB (a file named like that would be a SQLite store; write sqlite://postgres for one)"
                .into(),
        );
    }
    db_path(db).map(StoreAt::Sqlite)
}

/// The password in a Postgres URL, as written and percent-decoded (for the redactor: it must
/// never be printed).
fn db_passwords(db: &str) -> Vec<String> {
    // The user information of a URL is what comes before its last `@`, back to the `/` before
    // it (`postgres://USER:PASSWORD@HOST`); the password follows its first `:`. Read so
    // loosely that a mistyped scheme (`postgress://`, `postgres:/`) is covered too.
    let Some((before, _)) = db.rsplit_once('@') else {
        return Vec::new();
    };
    let userinfo = before.rsplit('/').next().unwrap_or("");
    match userinfo.split_once(':') {
        Some((_, password)) if !password.is_empty() => {
            let decoded = percent_encoding::percent_decode_str(password)
                .decode_utf8_lossy()
                .into_owned();
            vec![password.to_owned(), decoded]
        }
        _ => Vec::new(),
    }
}

/// `text` with every password of `--db` replaced by `***`.
fn hide_passwords(mut text: String, passwords: &[String]) -> String {
    for p in passwords {
        text = text.replace(p.as_str(), "***");
    }
    text
}

/// `sqlite://PATH` or a plain path, to a file.
fn db_path(db: &str) -> Result<PathBuf, String> {
    let path = match db.strip_prefix("sqlite://") {
        Some(path) => path,
        None if db.contains("://") || db.starts_with("sqlite:") => {
            return Err(
                "the run store is `sqlite://PATH`, a file path, or `postgres://USER@HOST:PORT/DB`"
                    .into(),
            );
        }
        None => db,
    };
    if path.is_empty() {
        return Err("the run store needs a file path, like sqlite://flowstep.db".into());
    }
    if path == ":memory:" || path.contains("mode=memory") {
        return Err(
            "the run store is a file (an in-memory database would lose every run when the server stops); give a path like sqlite://flowstep.db".into(),
        );
    }
    if path.starts_with("file:") {
        return Err(format!(
            "give the run store as sqlite://PATH or a plain path, not a `file:` URI (`{path}`)"
        ));
    }
    if let Some((_, query)) = path.split_once('?') {
        return Err(format!(
            "the run store takes no options (`?{query}`): give only its path, like sqlite://flowstep.db; flowstep sets how it opens the file"
        ));
    }
    let path = PathBuf::from(path);
    // SQLite says only "unable to open database file" for a directory that is not there.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(format!(
            "the directory of the run store, {}, does not exist; create it, or give a path in one that does",
            dir.display()
        ));
    }
    Ok(path)
}

type Reload = Box<dyn Fn() + Send + Sync>;

fn server_reloader(server: &Server) -> Reload {
    let reload = server.reloader();
    Box::new(move || match reload() {
        Ok(names) => errln!("flowstep serve: flows reloaded ({names})"),
        Err(e) => {
            for p in e.problems {
                errln!("{p}");
            }
            errln!(
                "error: flows not reloaded: a flow failed its check (above); the flows served are unchanged"
            );
        }
    })
}

/// The signals a server acts on, watched from before it says it listens: a SIGTERM or SIGHUP
/// that arrives as soon as the address is printed must not meet the default action (which
/// ends the process at once, with no shutdown).
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn watch() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

/// Ctrl-C and SIGTERM shut the server down; SIGHUP reloads the flows.
async fn watch_signals(mut signals: Signals, stop: flowstep_server::Shutdown, reload: Reload) {
    loop {
        tokio::select! {
            _ = signals.int.recv() => break,
            _ = signals.term.recv() => break,
            _ = signals.hup.recv() => reload(),
        }
    }
    errln!(
        "flowstep serve: shutting down (runs under way stop at their next checkpoint; a second Ctrl-C or SIGTERM stops at once)"
    );
    stop.trigger();
    // A second signal stops the process where it is: the runs it held resume from their last
    // checkpoint once their leases expire, as after a crash.
    tokio::select! {
        _ = signals.int.recv() => {}
        _ = signals.term.recv() => {}
    }
    errln!(
        "flowstep serve: stopped at once; runs under way resume at the next start, once their leases expire"
    );
    std::process::exit(130);
}

/// Secrets from the environment or `.env`, read the first time a run needs each one and kept
/// for the life of the process, with the sandbox's test credentials for unset ones under
/// `--sandbox`. Each value read joins the log writer's redactor.
struct EnvSecrets {
    sandbox: bool,
    redactor: Arc<Redactor>,
    read: std::sync::Mutex<std::collections::HashMap<String, Secret>>,
}

impl SecretSource for EnvSecrets {
    fn secret(&self, name: &str) -> Option<Secret> {
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(value) = read.get(name) {
            return Some(value.clone());
        }
        let found = secrets::read(&[name.to_owned()]).ok()?;
        let value = found.values.into_values().next().or_else(|| {
            sandbox_defaults::get(name)
                .filter(|_| self.sandbox)
                .map(|d| Secret::new(d.value))
        })?;
        self.redactor.add(value.expose());
        read.insert(name.to_owned(), value.clone());
        Some(value)
    }

    fn how_to_set(&self, name: &str) -> String {
        match secrets::read(&[name.to_owned()]) {
            Ok(found) => format!("{} before starting flowstep serve", found.how_to_set(name)),
            Err(e) => format!("fix the .env file ({e})"),
        }
    }
}
