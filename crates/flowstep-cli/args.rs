//! Command-line arguments.

use clap::{Parser, Subcommand, ValueEnum};
use flowstep_http::Cidr;
use std::path::PathBuf;

/// Run declarative YAML flows that call HTTP APIs and send messages.
#[derive(Debug, Parser)]
#[command(name = "flowstep", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works.
    /// Secrets are redacted at every level.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a flow (a file path or the name of a bundled preset).
    Run(RunArgs),
    /// Check flow files without running them; every problem is reported at once.
    Check(CheckArgs),
    /// Run a flow once per row of a CSV or JSON Lines file, results streamed to JSONL.
    Batch(BatchArgs),
    /// List the bundled flows, or print one with `presets show NAME`.
    Presets {
        /// `show`.
        #[command(subcommand)]
        action: Option<PresetsAction>,
    },
    /// Serve the runs API: start, watch and cancel durable runs kept in a database, resumed
    /// after a crash or restart (see docs/server.md).
    Serve(ServeArgs),
    /// Serve the local sandbox (Stripe, Razorpay and WhatsApp stand-ins) until stopped
    /// (Ctrl-C), or play a WhatsApp customer with `sandbox say`.
    Sandbox(SandboxArgs),
    /// Print the JSON Schema (draft 2020-12) of the flow format, for editors' YAML support.
    Schema,
    /// Print a flow with one http step made from another tool's request (`import curl`).
    Import {
        /// `curl`.
        #[command(subcommand)]
        action: ImportAction,
    },
}

/// `import curl`.
#[derive(Debug, Subcommand)]
pub enum ImportAction {
    /// Read a curl command (quoted as one argument, or `-` to read it from stdin) and print
    /// a flow that sends the same request. Credentials become declared secrets bound to the
    /// request's host; their values are never printed.
    Curl {
        /// The curl command as one argument (quoted, like
        /// `'curl -X POST https://api.example.com/v1/x -d a=1'`), or `-` for stdin.
        #[arg(allow_hyphen_values = true)]
        command: String,
        /// The flow's name.
        #[arg(long, default_value = "imported")]
        flow: String,
        /// The step's id (an automatic idempotency key is derived from it).
        #[arg(long, default_value = "request")]
        id: String,
    },
}

/// `flowstep sandbox`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    /// `say`.
    #[command(subcommand)]
    pub action: Option<SandboxAction>,
    /// Address to listen on: loopback only (127.0.0.1 or ::1); another is refused.
    #[arg(long, env = "FLOWSTEP_SANDBOX_ADDR", default_value = "127.0.0.1:12111")]
    pub addr: std::net::SocketAddr,
    /// Send the sandbox's events as signed webhooks to the receiver at this base URL: POST
    /// URL/webhooks/stripe, URL/webhooks/razorpay and URL/webhooks/whatsapp, signed with
    /// STRIPE_WEBHOOK_SECRET, RAZORPAY_WEBHOOK_SECRET and WHATSAPP_APP_SECRET (the sandbox's
    /// own when unset), retried for about 5 minutes.
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,
    /// Make this fraction (0 to 1, like 0.1) of the attempts to deliver events fail on purpose
    /// (half not sent, half with the answer lost), so that retries and the receiver's
    /// de-duplication are exercised. Which attempts fail follows --forward-faults-seed.
    #[arg(long, value_name = "RATE", requires = "forward_to", value_parser = parse_fault_rate)]
    pub forward_faults: Option<f64>,
    /// Picks which delivery attempts --forward-faults fails: the same seed fails the same.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 0,
        requires = "forward_faults"
    )]
    pub forward_faults_seed: u64,
    /// A JSON file of WhatsApp message templates the sandbox treats as approved, besides its
    /// own (docs/sandbox.md): [{"name", "language", "body", "url_button"?}].
    #[arg(long, value_name = "FILE")]
    pub whatsapp_templates: Option<std::path::PathBuf>,
}

/// A fraction of delivery attempts, from 0 to 1.
fn parse_fault_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number; give a fraction from 0 to 1, like 0.1"))?;
    flowstep_sandbox::DeliveryFaults::new(rate, 0).map(|f| f.rate)
}

/// `sandbox say`.
#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Send the business a WhatsApp text message as a customer: the sandbox at --to sends it
    /// as an inbound webhook to its receiver. Prints the message id.
    Say {
        /// The running sandbox's base URL (`flowstep sandbox`, or the one `serve --sandbox`
        /// prints).
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:12111")]
        to: String,
        /// The customer's WhatsApp number, with the country code (919812345678).
        #[arg(long, value_name = "NUMBER")]
        from: String,
        /// The customer's profile name.
        #[arg(long)]
        name: Option<String>,
        /// The message text.
        text: String,
    },
}

/// `presets show NAME`.
#[derive(Debug, Subcommand)]
pub enum PresetsAction {
    /// Print a preset's YAML.
    Show {
        /// The preset's name.
        name: String,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// `flowstep run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A flow file, the name of a bundled preset (see `flowstep presets`), or `-` to read the
    /// flow from stdin.
    pub flow: String,
    /// Set an input: NAME=VALUE, converted to the input's declared type (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read inputs from a YAML or JSON file of NAME: VALUE pairs (--var wins on conflicts).
    #[arg(long = "vars", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Start the built-in sandbox and send Stripe (api.stripe.com), Razorpay (api.razorpay.com)
    /// and WhatsApp Cloud API (graph.facebook.com) requests to it; uses the sandbox's test
    /// credentials for STRIPE_SECRET_KEY, RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and
    /// WHATSAPP_TOKEN when they are unset.
    #[arg(long)]
    pub sandbox: bool,
    /// Send requests whose URL starts with FROM to TO instead (repeatable).
    #[arg(long = "route", value_name = "FROM=TO")]
    pub routes: Vec<String>,
    /// The run id idempotency keys derive from; reuse it to re-run safely. 1 to 128 ASCII
    /// letters, digits, '-', '_' and '.', starting with a letter or digit (default: a fresh one).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Build every request and print it without sending anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format: with json, the outcome is one JSON document on stdout, and so is every
    /// problem that stops the run before it starts (exit 2). `--output` is the older spelling.
    #[arg(long, visible_alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Where `message` steps deliver: printed on the terminal, or sent on WhatsApp through the
    /// Cloud API (WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID from the environment or .env).
    #[arg(long, value_enum, default_value_t = ChannelKind::Terminal)]
    pub channel: ChannelKind,
    /// The customer's WhatsApp number with country code, for --channel whatsapp (+919000090000).
    #[arg(long, value_name = "PHONE")]
    pub to: Option<String>,
    /// The Graph API version WhatsApp messages are sent with (--channel whatsapp), like v26.0.
    #[arg(
        long,
        value_name = "VERSION",
        env = "WHATSAPP_GRAPH_VERSION",
        default_value = flowstep_whatsapp::DEFAULT_API_VERSION,
        value_parser = graph_version
    )]
    pub whatsapp_graph_version: String,
    /// Refuse to connect to private networks: loopback, RFC 1918, link-local (169.254.169.254
    /// included), carrier-grade NAT, unique-local IPv6 and unspecified addresses, checked after
    /// DNS resolution and on every redirect. --route and --sandbox targets stay allowed.
    #[arg(long)]
    pub deny_private_networks: bool,
    /// With --deny-private-networks: a host name that may reach private addresses anyway;
    /// `*.example.internal` allows every name under a domain (repeatable).
    #[arg(
        long = "allow-host",
        value_name = "HOST",
        requires = "deny_private_networks",
        value_parser = host_name
    )]
    pub allow_hosts: Vec<String>,
    /// With --deny-private-networks: an address range that may be reached anyway, like
    /// 10.1.0.0/16 or 127.0.0.1 (repeatable).
    #[arg(
        long = "allow-cidr",
        value_name = "CIDR",
        requires = "deny_private_networks"
    )]
    pub allow_cidrs: Vec<Cidr>,
    /// TLS and proxy defaults for every http step.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `--cacert`, `--cert`/`--key`, `--insecure`, `--proxy`: the run-wide TLS and proxy defaults
/// of `run` and `batch`, which a flow's `http:` block and a step's own keys override.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// Trust the certificates in this PEM file besides the system's, in every http step that
    /// does not set its own `tls.ca`.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Send this client certificate (PEM) to servers that ask for one (mutual TLS), in every
    /// http step that does not set its own; with --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of --cert. Its contents are never shown.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Do not check servers' TLS certificates, in every http step that does not set
    /// `tls.insecure: false`. Warned about on every run.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Send requests through this proxy (http:// or https://; NO_PROXY still applies), or
    /// `off` to ignore HTTPS_PROXY and HTTP_PROXY, in every http step that does not set its
    /// own `proxy:`.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
}

/// Checks a `--whatsapp-graph-version` value (`v26.0`).
fn graph_version(s: &str) -> Result<String, String> {
    flowstep_whatsapp::check_graph_version(s).map(|()| s.to_owned())
}

/// Checks an `--allow-host` value: a host name, or `*.` and a domain.
fn host_name(s: &str) -> Result<String, String> {
    let name = s.strip_prefix("*.").unwrap_or(s);
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{s}` is not a host name: write it without a scheme, port or path, like localhost, \
             orders.internal or *.svc.cluster.local (allow addresses with --allow-cidr)"
        ))
    }
}

/// Message channels the CLI offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelKind {
    /// Print each message.
    Terminal,
    /// Send each message as a WhatsApp text message (and print it).
    Whatsapp,
}

/// `flowstep check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Flow files or preset names; `-` reads one flow from stdin.
    #[arg(required = true)]
    pub flows: Vec<String>,
    /// Output format (`--output` is accepted too, as `run` once spelled it).
    #[arg(long, alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `flowstep batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// A flow file, or the name of a bundled preset (see `flowstep presets`).
    pub flow: String,
    /// The rows: a CSV file with a header line naming the columns, or JSON Lines (one object
    /// per line); `-` reads them from standard input (with --input-format). Each row's values
    /// are its inputs, converted to their types as --var is.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// How --input is written (default: from its extension, .csv or .jsonl).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<crate::batch::rows::InputFormat>,
    /// Write each row's result (one JSON object per line) to FILE as its run finishes
    /// (default: stdout). Running the same batch again with the same FILE skips the rows
    /// that succeeded and runs the others again with the same run ids.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many runs at once (1 to 1024).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// At most this many requests in all, to any host, like 50/s, 3000/m or 100/h (every
    /// attempt counts). A step's own `rate_limit:` applies too.
    #[arg(long, value_name = "RATE", value_parser = flowstep_spec::rate::parse_rate)]
    pub rate: Option<flowstep_spec::Rate>,
    /// The column whose value is each row's run id (idempotency keys derive from it), like
    /// order_id. Default: `row-N-` and a hash of the row, so the file must not change between
    /// a batch and its resumption.
    #[arg(long, value_name = "COLUMN")]
    pub id_column: Option<String>,
    /// Set an input for every row that does not give it: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Start the built-in sandbox and send Stripe, Razorpay and WhatsApp Cloud API requests
    /// to it, with its test credentials for secrets that are unset (as `run --sandbox`).
    #[arg(long)]
    pub sandbox: bool,
    /// Send requests whose URL starts with FROM to TO instead (repeatable).
    #[arg(long = "route", value_name = "FROM=TO")]
    pub routes: Vec<String>,
    /// TLS and proxy defaults for every http step.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `flowstep serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address the API listens on. Without FLOWSTEP_API_TOKEN only a loopback address is
    /// allowed, and a token is generated and printed once.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// The run store: `sqlite://PATH` (or a plain PATH), created when missing; or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, an existing database that many `serve`
    /// processes share (the password may come from PGPASSWORD instead).
    #[arg(long, default_value = "sqlite://flowstep.db", value_name = "URL")]
    pub db: String,
    /// A directory whose `.yaml`/`.yml` files (searched recursively) are served beside the
    /// presets; a file's flow replaces a preset of the same name (repeatable).
    #[arg(long = "flows", value_name = "DIR")]
    pub flows: Vec<PathBuf>,
    /// How many runs execute at once; more wait in the store, queued.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max_concurrent_runs: u16,
    /// How long a worker's claim on a run lasts without renewal: after a crash, its runs are
    /// resumed once this passes (like 30s or 2m; at least 1s: it is renewed every third).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_lease)]
    pub lease: std::time::Duration,
    /// How long a shutdown (SIGTERM, Ctrl-C) waits for runs to reach a checkpoint before it
    /// stops them where they are (they resume at the next start).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = flowstep_spec::duration::parse_duration)]
    pub shutdown_grace: std::time::Duration,
    /// How long a client may take to send a request's headers, from when its connection is
    /// ready for a request (so also how long a kept-alive connection may stay idle) before
    /// the connection is closed (like 10s; at least 100ms).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_header_timeout)]
    pub header_timeout: std::time::Duration,
    /// The largest request body the API takes, in bytes; larger is 413.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1024..=64 << 20))]
    pub max_body_bytes: u64,
    /// Start the built-in sandbox in this process and send Stripe, Razorpay and WhatsApp Cloud
    /// API requests to it, with its test credentials for secrets that are unset.
    #[arg(long)]
    pub sandbox: bool,
    /// With --sandbox: make this fraction (0 to 1, like 0.1) of the attempts to deliver the
    /// sandbox's events to this server fail on purpose (half not sent, half with the answer
    /// lost); they are retried. Which attempts fail follows --forward-faults-seed.
    #[arg(long, value_name = "RATE", requires = "sandbox", value_parser = parse_fault_rate)]
    pub forward_faults: Option<f64>,
    /// Picks which delivery attempts --forward-faults fails: the same seed fails the same.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 0,
        requires = "forward_faults"
    )]
    pub forward_faults_seed: u64,
    /// Send requests whose URL starts with FROM to TO instead (repeatable).
    #[arg(long = "route", value_name = "FROM=TO")]
    pub routes: Vec<String>,
    /// Where `message` steps deliver: recorded in the run only, or sent on WhatsApp to each
    /// run's `to` (WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID from the environment or .env).
    /// Default: `whatsapp` with --sandbox (its WhatsApp), `record` otherwise.
    #[arg(long, value_enum)]
    pub channel: Option<ServeChannel>,
    /// The Graph API version WhatsApp messages are sent with, like v26.0.
    #[arg(
        long,
        value_name = "VERSION",
        env = "WHATSAPP_GRAPH_VERSION",
        default_value = flowstep_whatsapp::DEFAULT_API_VERSION,
        value_parser = graph_version
    )]
    pub whatsapp_graph_version: String,
    /// Let runs reach private networks (loopback, RFC 1918, link-local, ...). By default a
    /// server refuses them, after DNS resolution and on every redirect; --route and --sandbox
    /// targets stay allowed.
    #[arg(long)]
    pub allow_private_networks: bool,
    /// How stderr is written: `text` for people, or `json`: one JSON object per line (the
    /// log, with `run_id` and `step_id` on the lines about a run, and the server's own lines).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How `flowstep serve` writes stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where a server's runs deliver their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeChannel {
    /// Kept in the run's outcome only.
    Record,
    /// Sent as WhatsApp text messages through the Cloud API.
    Whatsapp,
}

/// `--header-timeout`: a duration of at least 100 ms (a shorter one would close connections
/// before a client on a slow network sent its first line).
/// `--lease`: a duration of at least 1 s (the worker renews it every third; a shorter one would
/// spend the store's writes on renewals).
fn parse_lease(text: &str) -> Result<std::time::Duration, String> {
    let lease = flowstep_spec::duration::parse_duration(text)?;
    if lease < std::time::Duration::from_secs(1) {
        return Err(format!(
            "`{text}` is too short: a lease is renewed every third of it, so give at least 1s (like 30s)"
        ));
    }
    Ok(lease)
}

fn parse_header_timeout(text: &str) -> Result<std::time::Duration, String> {
    let d = flowstep_spec::duration::parse_duration(text)?;
    if d < std::time::Duration::from_millis(100) {
        return Err(format!(
            "`{text}` is too short: give at least 100ms (like 10s)"
        ));
    }
    Ok(d)
}
