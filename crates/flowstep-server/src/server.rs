//! [`Server`]: binds the API, starts the run loop, and stops both on shutdown.

use crate::api::{self, AppState, FlowLoader, Shared};
use crate::flows::LoadError;
use crate::listener;
use crate::metrics::Metrics;
use crate::plans::Plans;
use crate::secrets::SecretSource;
use crate::shutdown::Shutdown;
use crate::timed_store::TimedStore;
use crate::token::ApiToken;
use crate::worker::{Worker, WorkerConfig};
use flowstep_engine::{Channel, Engine, Redactor};
use flowstep_store::RunStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The default [`ServerConfig::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a server is made of.
pub struct ServerConfig {
    /// Where runs are kept.
    pub store: Arc<dyn RunStore>,
    /// Compiles flows (with every step kind the server offers).
    pub engine: Arc<Engine>,
    /// Reads the flows (at start and on reload).
    pub flows: Arc<FlowLoader>,
    /// Where the runs' secrets come from.
    pub secrets: Arc<dyn SecretSource>,
    /// Where messages go.
    pub channel: Arc<dyn Channel>,
    /// The redactor shared with the log writer.
    pub redactor: Arc<Redactor>,
    /// The token `/v1` requests carry.
    pub token: ApiToken,
    /// The run loop's settings.
    pub worker: WorkerConfig,
    /// The largest request body taken (default 1 MiB); larger is `413`.
    pub max_body_bytes: usize,
    /// How long a request may take before `408` (default 30 s), once its headers are in.
    pub request_timeout: Duration,
    /// How long a connection may take to send a request's headers, counted from when it is
    /// ready for one (accepted, or done with its previous answer), before it is closed
    /// without an answer (default 10 s): so also how long a kept-alive connection may stay
    /// idle. A client that trickles its headers cannot hold a connection longer.
    pub header_timeout: Duration,
    /// Whether the channel needs each run's recipient (a WhatsApp channel does): a start of
    /// a flow that may send a message is then refused without `to` (default `false`).
    pub needs_recipient: bool,
}

impl ServerConfig {
    /// A configuration with the defaults for everything not given.
    pub fn new(
        store: Arc<dyn RunStore>,
        engine: Arc<Engine>,
        flows: Arc<FlowLoader>,
        secrets: Arc<dyn SecretSource>,
        channel: Arc<dyn Channel>,
        token: ApiToken,
    ) -> Self {
        ServerConfig {
            store,
            engine,
            flows,
            secrets,
            channel,
            redactor: Arc::new(Redactor::new()),
            token,
            worker: WorkerConfig::default(),
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            needs_recipient: false,
        }
    }
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A flow failed its check.
    #[error("{0}")]
    Flows(#[from] LoadError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

/// A started server: the API is listening and the run loop is claiming runs.
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    api: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    worker: tokio::task::JoinHandle<()>,
    shutdown: Shutdown,
}

impl Server {
    /// Loads the flows (every problem at once), binds `addr`, and starts the API and the run
    /// loop. Runs left unfinished by an earlier process are claimed as their leases expire
    /// (at once for runs that process handed back).
    pub async fn start(config: ServerConfig, addr: SocketAddr) -> Result<Server, ServerError> {
        let flows = (config.flows)(&config.engine)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let plans = Arc::new(Plans::new(config.engine.clone(), flows));
        let metrics = Arc::new(Metrics::new());
        // Every store call the API and the run loop make is timed.
        let store: Arc<dyn RunStore> =
            Arc::new(TimedStore::new(config.store.clone(), metrics.clone()));
        let worker = Arc::new(Worker::new(
            store.clone(),
            plans.clone(),
            config.secrets.clone(),
            config.channel.clone(),
            config.redactor.clone(),
            config.worker.clone(),
            metrics.clone(),
        ));
        let state = AppState(Arc::new(Shared {
            store,
            plans,
            worker: worker.clone(),
            secrets: config.secrets.clone(),
            token: config.token.clone(),
            load_flows: config.flows.clone(),
            needs_recipient: config.needs_recipient,
            missing_webhook_secrets: Default::default(),
            metrics,
        }));
        let shutdown = Shutdown::new();
        let router = api::router(
            state.clone(),
            crate::ui::router(state.clone()),
            config.max_body_bytes,
            config.request_timeout,
        );
        let stop_api = shutdown.clone();
        let header_timeout = config.header_timeout.max(Duration::from_millis(1));
        let api = tokio::spawn(listener::serve(listener, router, header_timeout, stop_api));
        let worker_task = tokio::spawn(worker.run(shutdown.clone()));
        Ok(Server {
            addr,
            state,
            api,
            worker: worker_task,
            shutdown,
        })
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reads the flows again (what `SIGHUP` does).
    pub fn reload(&self) -> Result<(), LoadError> {
        self.state.reload().map(|_| ())
    }

    /// A function that reloads the flows, for a signal handler that outlives the borrow:
    /// returns the names of the flows now served.
    pub fn reloader(&self) -> impl Fn() -> Result<String, LoadError> + Send + Sync + 'static {
        let state = self.state.clone();
        move || {
            state
                .reload()
                .map(|set| set.names().collect::<Vec<_>>().join(", "))
        }
    }

    /// A handle that shuts the server down when triggered.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Stops taking requests and runs, brings the runs under way to a checkpoint (within the
    /// worker's `shutdown_grace`), hands back what is unfinished, and returns.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.shutdown.trigger();
        self.wait().await
    }

    /// Waits until the server has stopped (after its shutdown handle was triggered).
    pub async fn wait(self) -> Result<(), ServerError> {
        let served = self.api.await;
        let _ = self.worker.await;
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServerError::Serve(e)),
            Err(e) => Err(ServerError::Serve(std::io::Error::other(e))),
        }
    }
}
