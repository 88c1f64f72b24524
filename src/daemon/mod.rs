//! The daemon: start-up, the tasks that serve, signals, and an orderly stop.
//!
//! Start-up order matters: open and migrate the store, load hooks, recover runs a previous
//! process left, bind the HTTP port and the control socket, and only then report ready. On
//! SIGTERM/SIGINT the listeners stop accepting, in-flight calls get [`SHUTDOWN_GRACE`] to finish,
//! scripts still running after that have their process groups ended, and the process exits 0.
//! SIGHUP re-reads the config; an invalid file is logged and the running config stays.

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

use crate::config::{self, Loaded, Overrides};
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
}

/// Runs the daemon until it is told to stop.
pub fn run(loaded: Loaded, overrides: Overrides) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    rt.block_on(serve(loaded, overrides))
}

async fn serve(loaded: Loaded, overrides: Overrides) -> Result<(), DaemonError> {
    let Loaded { config, file } = loaded;
    let mut signals = signal::listen().map_err(DaemonError::Runtime)?;
    let store = Store::open(&config.db_path())?;
    let sender =
        sender::Sender::new().map_err(|e| DaemonError::Runtime(std::io::Error::other(e)))?;
    let shared = Shared::new(config.clone(), file.clone(), store, sender);
    shared.registry.load(shared.store.list_hooks(None).await?);
    resume_runs(&shared).await?;
    let resumed = shared.store.reset_in_flight().await?;
    if resumed > 0 {
        tracing::info!(
            "{resumed} deliveries were in flight when hookd last stopped; sending them again"
        );
    }

    let mut http = Http::start(config.listen, &shared).await?;
    let socket = control::bind(&config.socket, config.socket_group.as_deref())?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let control_task = tokio::spawn(control::serve(socket, shared.clone(), stop_rx.clone()));
    tokio::spawn(prune_loop(shared.clone(), stop_rx.clone()));
    tokio::spawn(delivery::worker(shared.clone(), stop_rx.clone()));
    if let Some(addr) = config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DaemonError::Listen { addr, source: e })?;
        tracing::info!("metrics on http://{addr}/metrics");
        tokio::spawn(scrape::serve(listener, shared.clone(), stop_rx.clone()));
    }
    tracing::info!(
        listen = %http.addr,
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
    systemd::stopping();
    tracing::info!("stopping: no new calls; waiting up to {SHUTDOWN_GRACE:?} for calls in flight");
    let _ = stop_tx.send(true);
    let _ = http.stop.send(true);
    let _ = control_task.await;
    let _ = std::fs::remove_file(&shared.config().socket);
    // Async runs hold no HTTP request open, so wait for the scripts themselves as well.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    let _ = tokio::time::timeout_at(deadline, http.task).await;
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
    let now = crate::time::now_ms();
    // Anything still marked running did not finish under this process.
    let _ = shared.store.recover_runs(now).await;
    tracing::info!("stopped");
    Ok(())
}

/// Marks runs a dead process left `running` as interrupted and runs the queued async ones.
async fn resume_runs(shared: &Arc<Shared>) -> Result<(), DaemonError> {
    let now = crate::time::now_ms();
    let queued = shared.store.recover_runs(now).await?;
    for store::QueuedRun { id, hook_id, inv } in queued {
        match shared.registry.get_by_id(hook_id) {
            Some(hook) => {
                let place = match shared.runner.admit(&hook, true) {
                    Ok(p) => p,
                    Err(_) => continue,
                };
                incoming::spawn_async_run(shared.clone(), hook, id, inv, place);
            }
            None => {
                tracing::warn!(
                    run = id,
                    "queued run's hook is gone or disabled; marking it interrupted"
                );
                shared.store.abandon_run(id, now).await?;
            }
        }
    }
    Ok(())
}

/// The HTTP side on one address; replaced as a whole when a reload changes `listen`.
struct Http {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Http {
    async fn start(addr: SocketAddr, shared: &Arc<Shared>) -> Result<Http, DaemonError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DaemonError::Listen { addr, source: e })?;
        let addr = listener
            .local_addr()
            .map_err(|e| DaemonError::Listen { addr, source: e })?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(http::serve(
            listener,
            shared.clone(),
            stop_rx,
            SHUTDOWN_GRACE,
        ));
        Ok(Http { addr, stop, task })
    }
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
    let old = shared.config();
    if new.socket != old.socket || new.state_dir != old.state_dir {
        tracing::warn!("socket and state_dir changes take effect at the next restart");
        new.socket = old.socket.clone();
        new.state_dir = old.state_dir.clone();
    }
    if new.listen != old.listen {
        match Http::start(new.listen, shared).await {
            Ok(fresh) => {
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
