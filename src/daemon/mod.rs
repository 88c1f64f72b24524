//! The daemon: start-up, the tasks that serve, signals, and an orderly stop.
//!
//! Start-up order matters: take the sockets systemd passed (before any thread exists), load the
//! TLS certificate, open and migrate the store, load hooks, recover runs a previous process
//! left, bind the HTTP port (unless one was passed) and the control socket, and only then report
//! ready. On SIGTERM/SIGINT the listeners stop accepting, in-flight calls get
//! [`SHUTDOWN_GRACE`] to finish, scripts still running after that have their process groups
//! ended, and the process exits 0. SIGHUP re-reads the config and the certificate; an invalid
//! file is logged and the running config and certificate stay.

pub mod activation;
pub mod answer;
pub mod cluster_slot;
pub mod conn_limits;
pub mod control;
pub mod delivery;
pub mod gate;
pub mod handlers;
pub mod http;
pub mod incoming;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod outbox;
pub mod pacing;
pub mod registry;
pub mod respond;
pub mod runner;
pub mod scrape;
pub mod sender;
pub mod signal;
pub mod state;
pub mod stream;
pub mod systemd;
pub mod tls;

use crate::config::{self, Config, Loaded, Overrides};
use crate::store::{self, Store};
use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long in-flight calls (and the scripts they wait on) get when hookd is asked to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How often old logs and runs are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Socket(#[from] control::SocketError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start: {0}")]
    Runtime(std::io::Error),
    #[error("invalid configuration: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("socket activation: {0}")]
    Activation(#[from] activation::ActivationError),
}

/// Runs the daemon until it is told to stop.
pub fn run(loaded: Loaded, overrides: Overrides) -> Result<(), DaemonError> {
    // Before any thread exists: the passed descriptors are taken once, then made close-on-exec
    // with everything else hookd inherited.
    let passed = activation::take()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    rt.block_on(serve(loaded, overrides, passed))
}

async fn serve(
    loaded: Loaded,
    overrides: Overrides,
    passed: activation::Passed,
) -> Result<(), DaemonError> {
    let Loaded { mut config, file } = loaded;
    let mut signals = signal::listen().map_err(DaemonError::Runtime)?;
    let tls = tls::load(&config)?;
    let passed_http = passed
        .http
        .map(|l| Http::passed(l, &mut config))
        .transpose()?;
    let store = Store::open_configured(&config).await?;
    let sender =
        sender::Sender::new().map_err(|e| DaemonError::Runtime(std::io::Error::other(e)))?;
    let shared = Shared::new(config.clone(), file.clone(), store, sender);
    shared.tls.set(tls);
    shared.registry.load(shared.store.list_hooks(None).await?);
    follow_other_nodes(&shared);
    resume_runs(&shared).await?;
    let resumed = shared.store.reset_in_flight().await?;
    if resumed > 0 {
        tracing::info!(
            "{resumed} deliveries were in flight when hookd last stopped; sending them again"
        );
    }

    let mut http = match passed_http {
        Some(h) => h,
        None => Http::bind(config.listen).await?,
    };
    http.serve(&shared);
    let socket = control::bind(&config.socket, config.socket_group.as_deref())?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let control_task = tokio::spawn(control::serve(socket, shared.clone(), stop_rx.clone()));
    tokio::spawn(prune_loop(shared.clone(), stop_rx.clone()));
    tokio::spawn(delivery::worker(shared.clone(), stop_rx.clone()));
    if let Some(listener) = metrics_listener(passed.metrics, config.metrics_listen).await? {
        tokio::spawn(scrape::serve(listener, shared.clone(), stop_rx.clone()));
    }
    tracing::info!(
        listen = %http.addr,
        scheme = if shared.config().tls() { "https" } else { "http" },
        socket = %config.socket.display(),
        database = %shared.store.location(),
        config = %file.as_ref().map(|f| f.display().to_string()).unwrap_or_else(|| "(none, defaults)".into()),
        "hookd {} ready",
        env!("CARGO_PKG_VERSION")
    );
    systemd::ready();

    while let Some(sig) = signals.recv().await {
        match sig {
            signal::Signal::Reload => {
                systemd::reloading();
                reload(&shared, &overrides, &mut http).await;
                systemd::ready();
            }
            signal::Signal::Shutdown => break,
        }
    }
    shut_down(&shared, stop_tx, http, control_task).await;
    tracing::info!("stopped");
    Ok(())
}

/// Stops taking calls, waits up to [`SHUTDOWN_GRACE`] for the calls and runs in flight, ends
/// the runs still going, and records what did not finish.
async fn shut_down<T>(
    shared: &Arc<Shared>,
    stop_tx: watch::Sender<bool>,
    http: Http,
    control_task: tokio::task::JoinHandle<T>,
) {
    systemd::stopping();
    tracing::info!("stopping: no new calls; waiting up to {SHUTDOWN_GRACE:?} for calls in flight");
    let _ = stop_tx.send(true);
    let _ = http.stop.send(true);
    let _ = control_task.await;
    let _ = std::fs::remove_file(&shared.config().socket);
    // Async runs hold no HTTP request open, so wait for the scripts themselves as well.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    if let Some(task) = http.task {
        let _ = tokio::time::timeout_at(deadline, task).await;
    }
    while shared.runner.running() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = shared.runner.signal_all(nix::sys::signal::Signal::SIGTERM);
    if left > 0 {
        tracing::warn!("ending {left} script run(s) still going after the grace period");
        tokio::time::sleep(runner::KILL_GRACE).await;
        shared.runner.signal_all(nix::sys::signal::Signal::SIGKILL);
    }
    shared.runner.remove_files();
    // Calls answered before their records were written (a false `--if`): let those finish.
    let _ = tokio::time::timeout(Duration::from_secs(5), shared.unwritten_done()).await;
    let now = crate::time::now_ms();
    // Anything still marked running did not finish under this process.
    let _ = shared.store.recover_runs(now).await;
}

/// Marks runs a dead process left `running` as interrupted and runs the queued async ones.
async fn resume_runs(shared: &Arc<Shared>) -> Result<(), DaemonError> {
    let queued = shared.store.recover_runs(crate::time::now_ms()).await?;
    for run in queued {
        start_queued(shared, run).await?;
    }
    Ok(())
}

/// Puts a stored queued run in line here, or marks it interrupted when its hook is gone.
async fn start_queued(shared: &Arc<Shared>, run: store::QueuedRun) -> Result<(), DaemonError> {
    let store::QueuedRun { id, hook_id, inv } = run;
    match shared.registry.get_by_id(hook_id) {
        Some(hook) => {
            if let Ok(place) = shared.runner.admit(&hook, true) {
                incoming::spawn_async_run(shared.clone(), hook, id, inv, (place, None));
            }
        }
        None => {
            tracing::warn!(
                run = id,
                "queued run's hook is gone or disabled; marking it interrupted"
            );
            shared.store.abandon_run(id, crate::time::now_ms()).await?;
        }
    }
    Ok(())
}

/// On a shared database: the registry follows hooks changed through other nodes, and queued
/// runs taken over from a node that died are run here.
fn follow_other_nodes(shared: &Arc<Shared>) {
    let mut changes = shared.store.feeds().hooks_changed.subscribe();
    let s = shared.clone();
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let change = match changes.recv().await {
                Ok(c) => c,
                Err(RecvError::Lagged(_)) => store::HookChanged::All,
                Err(RecvError::Closed) => return,
            };
            let done = match change {
                store::HookChanged::One(id) => s.store.hook_by_id(id).await.map(|h| match h {
                    Some(h) => s.registry.upsert(h),
                    None => s.registry.remove(id),
                }),
                store::HookChanged::All => s.store.list_hooks(None).await.map(|hooks| {
                    s.registry.load(hooks);
                }),
            };
            if let Err(e) = done {
                tracing::warn!("cannot read hooks changed elsewhere: {e}");
            }
        }
    });
    if let Some(mut adopted) = shared.store.feeds().take_adopted() {
        let s = shared.clone();
        tokio::spawn(async move {
            while let Some(run) = adopted.recv().await {
                if let Err(e) = start_queued(&s, run).await {
                    tracing::warn!("cannot take over a queued run: {e}");
                }
            }
        });
    }
}

/// The HTTP side on one address; replaced as a whole when a reload changes `listen`.
struct Http {
    addr: SocketAddr,
    /// A socket systemd passed: `listen` is not ours to change.
    passed: bool,
    listener: Option<tokio::net::TcpListener>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Http {
    async fn bind(addr: SocketAddr) -> Result<Http, DaemonError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DaemonError::Listen { addr, source: e })?;
        Http::new(listener, addr, false)
    }

    /// The socket systemd passed; `config.listen` becomes its address, so printed URLs and
    /// `hookctl status` show where hookd really is.
    fn passed(listener: std::net::TcpListener, config: &mut Config) -> Result<Http, DaemonError> {
        let addr = config.listen;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| DaemonError::Listen { addr, source: e })?;
        let http = Http::new(listener, addr, true)?;
        tracing::info!(
            "serving webhooks on the socket systemd passed ({}); listen ({addr}) is not bound",
            http.addr
        );
        config.listen = http.addr;
        Ok(http)
    }

    fn new(
        listener: tokio::net::TcpListener,
        addr: SocketAddr,
        passed: bool,
    ) -> Result<Http, DaemonError> {
        let addr = listener
            .local_addr()
            .map_err(|e| DaemonError::Listen { addr, source: e })?;
        let (stop, _) = watch::channel(false);
        Ok(Http {
            addr,
            passed,
            listener: Some(listener),
            stop,
            task: None,
        })
    }

    /// Starts accepting calls.
    fn serve(&mut self, shared: &Arc<Shared>) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        let task = tokio::spawn(http::serve(
            listener,
            shared.clone(),
            self.stop.subscribe(),
            SHUTDOWN_GRACE,
        ));
        self.task = Some(task);
    }
}

/// The metrics listener: the socket systemd passed for it, else `metrics_listen` bound.
async fn metrics_listener(
    passed: Option<std::net::TcpListener>,
    configured: Option<SocketAddr>,
) -> Result<Option<tokio::net::TcpListener>, DaemonError> {
    let fallback = SocketAddr::from(([0, 0, 0, 0], 0));
    let listener = match (passed, configured) {
        (Some(l), _) => tokio::net::TcpListener::from_std(l).map_err(|e| DaemonError::Listen {
            addr: configured.unwrap_or(fallback),
            source: e,
        })?,
        (None, Some(addr)) => tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DaemonError::Listen { addr, source: e })?,
        (None, None) => return Ok(None),
    };
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("metrics on http://{addr}/metrics");
    }
    Ok(Some(listener))
}

/// Re-reads the config. An invalid file changes nothing; a new `listen` address is bound before
/// the old one is let go, so a failed rebind keeps hookd reachable where it was.
async fn reload(shared: &Arc<Shared>, overrides: &Overrides, http: &mut Http) {
    let mut ov = overrides.clone();
    if ov.config.is_none() {
        ov.config = shared.config_file.clone();
    }
    let mut new = match config::load(&ov) {
        Ok(loaded) => loaded.config,
        Err(e) => {
            tracing::error!("configuration not reloaded, keeping the running one: {e}");
            return;
        }
    };
    // Checked before anything changes: bad certificate files keep the whole running config.
    let tls = match tls::load(&new) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(
                "configuration not reloaded, keeping the running one and its certificate: {e}"
            );
            return;
        }
    };
    let old = shared.config();
    if http.passed {
        // The socket systemd passed stays; `listen` describes it, whatever the file says.
        new.listen = old.listen;
    }
    if new.socket != old.socket || new.state_dir != old.state_dir {
        tracing::warn!("socket and state_dir changes take effect at the next restart");
        new.socket = old.socket.clone();
        new.state_dir = old.state_dir.clone();
    }
    if new.listen != old.listen {
        match Http::bind(new.listen).await {
            Ok(mut fresh) => {
                fresh.serve(shared);
                let previous = std::mem::replace(http, fresh);
                let _ = previous.stop.send(true);
                tracing::info!("now listening on {} (was {})", http.addr, previous.addr);
            }
            Err(e) => {
                tracing::error!("keeping {}: {e}", old.listen);
                new.listen = old.listen;
            }
        }
    }
    shared.tls.set(tls);
    shared.set_config(new);
    tracing::info!("configuration reloaded");
}

async fn prune_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let cutoff = crate::time::now_ms() - shared.config().log_retention.as_millis();
        let day_ago = crate::time::now_ms() - 24 * 3600 * 1000;
        match shared.store.prune(cutoff, day_ago).await {
            Ok(n) if n > 0 => {
                tracing::info!("pruned {n} old log entries, runs and delivered events")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("pruning old logs failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
