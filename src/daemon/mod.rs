//! The daemon: start-up, the tasks that serve, signals, and an orderly stop.
//!
//! Start-up order matters: open and migrate the store, load hooks, recover runs a previous
//! process left, bind the HTTP port and the control socket, and only then report ready. On
//! SIGTERM/SIGINT the listeners stop accepting, in-flight calls get [`SHUTDOWN_GRACE`] to finish,
//! scripts still running after that have their process groups ended, and the process exits 0.
//! SIGHUP re-reads the config; an invalid file is logged and the running config stays.

pub mod control;
pub mod delivery;
pub mod http;
pub mod incoming;
pub mod manage;
pub mod outbox;
pub mod runner;
pub mod signal;
pub mod state;

use crate::config::{self, Loaded, Overrides};
use crate::store::{self, Store};
use state::Shared;
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
        delivery::Sender::new().map_err(|e| DaemonError::Runtime(std::io::Error::other(e)))?;
    let shared = Shared::new(config.clone(), file.clone(), store, sender);
    shared
        .registry
        .load(shared.store.call(|c| store::hooks::list(c, None)).await?);
    resume_runs(&shared).await?;
    let resumed = shared
        .store
        .write(|tx| store::events::reset_in_flight(tx))
        .await?;
    if resumed > 0 {
        tracing::info!(
            "{resumed} deliveries were in flight when hookd last stopped; sending them again"
        );
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| DaemonError::Listen {
            addr: config.listen,
            source: e,
        })?;
    let local = listener.local_addr().map_err(|e| DaemonError::Listen {
        addr: config.listen,
        source: e,
    })?;
    let socket = control::bind(&config.socket, config.socket_group.as_deref())?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let http_task = tokio::spawn(http::serve(
        listener,
        shared.clone(),
        stop_rx.clone(),
        SHUTDOWN_GRACE,
    ));
    let control_task = tokio::spawn(control::serve(socket, shared.clone(), stop_rx.clone()));
    tokio::spawn(prune_loop(shared.clone(), stop_rx.clone()));
    tokio::spawn(delivery::worker(shared.clone(), stop_rx.clone()));
    tracing::info!(
        listen = %local,
        socket = %config.socket.display(),
        database = %config.db_path().display(),
        config = %file.as_ref().map(|f| f.display().to_string()).unwrap_or_else(|| "(none, defaults)".into()),
        "hookd {} ready",
        env!("CARGO_PKG_VERSION")
    );

    while let Some(sig) = signals.recv().await {
        match sig {
            signal::Signal::Reload => reload(&shared, &overrides),
            signal::Signal::Shutdown => break,
        }
    }
    tracing::info!("stopping: no new calls; waiting up to {SHUTDOWN_GRACE:?} for calls in flight");
    let _ = stop_tx.send(true);
    let _ = control_task.await;
    let _ = std::fs::remove_file(&shared.config().socket);
    // Async runs hold no HTTP request open, so wait for the scripts themselves as well.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    let _ = tokio::time::timeout_at(deadline, http_task).await;
    while shared.runner.running() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = shared.runner.signal_all(nix::sys::signal::Signal::SIGTERM);
    if left > 0 {
        tracing::warn!("ending {left} script run(s) still going after the grace period");
        tokio::time::sleep(runner::KILL_GRACE).await;
        shared.runner.signal_all(nix::sys::signal::Signal::SIGKILL);
    }
    let now = crate::time::now_ms();
    // Anything still marked running did not finish under this process.
    let _ = shared
        .store
        .call(move |c| store::runs::recover(c, now).map(|_| ()))
        .await;
    tracing::info!("stopped");
    Ok(())
}

/// Marks runs a dead process left `running` as interrupted and runs the queued async ones.
async fn resume_runs(shared: &Arc<Shared>) -> Result<(), DaemonError> {
    let now = crate::time::now_ms();
    let queued = shared
        .store
        .call(move |c| store::runs::recover(c, now))
        .await?;
    for (id, hook_id, inv) in queued {
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
                shared
                    .store
                    .call(move |c| store::runs::abandon(c, id, now))
                    .await?;
            }
        }
    }
    Ok(())
}

fn reload(shared: &Arc<Shared>, overrides: &Overrides) {
    let mut ov = overrides.clone();
    if ov.config.is_none() {
        ov.config = shared.config_file.clone();
    }
    match config::load(&ov) {
        Ok(loaded) => {
            let old = shared.config();
            if loaded.config.listen != old.listen
                || loaded.config.socket != old.socket
                || loaded.config.state_dir != old.state_dir
            {
                tracing::warn!(
                    "listen, socket and state_dir changes take effect at the next restart"
                );
            }
            let mut new = loaded.config;
            new.listen = old.listen;
            new.socket = old.socket.clone();
            new.state_dir = old.state_dir.clone();
            shared.set_config(new);
            tracing::info!("configuration reloaded");
        }
        Err(e) => tracing::error!("configuration not reloaded, keeping the running one: {e}"),
    }
}

async fn prune_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let cutoff = crate::time::now_ms() - shared.config().log_retention.as_millis();
        match shared
            .store
            .write(move |tx| {
                let day_ago = crate::time::now_ms() - 24 * 3600 * 1000;
                Ok(store::logs::prune(tx, cutoff)?
                    + store::events::prune(tx, cutoff)?
                    + store::hooks::prune_seen(tx, day_ago)?)
            })
            .await
        {
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
