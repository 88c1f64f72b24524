//! What every part of the running daemon shares: config, store, hook registry, runner, metrics.
//!
//! The config sits behind a lock that is only ever held to clone an `Arc`, so a reload swaps it
//! atomically. The store announces what it commits (log entries, due deliveries) itself.

use crate::config::Config;
use crate::daemon::registry::Registry;
use crate::daemon::runner::Runner;
use crate::hook::{Context, Defaults};
use crate::store::Store;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

pub struct Shared {
    config: RwLock<Arc<Config>>,
    pub config_file: Option<PathBuf>,
    pub store: Store,
    pub registry: Registry,
    pub runner: Runner,
    pub started: Instant,
    pub daemon_uid: u32,
    pub daemon_user: String,
    pub sender: crate::daemon::sender::Sender,
    pub metrics: crate::daemon::metrics::Metrics,
    pub rate_limits: crate::daemon::limits::RateLimiter,
    pub pacer: crate::daemon::pacing::Pacer,
    /// Runs queued or started by this process, for streams, followers and cancels.
    pub live: Arc<crate::daemon::live::LiveRuns>,
    /// The certificate new HTTPS connections get (none: plain HTTP); a reload swaps it.
    pub tls: crate::daemon::tls::Slot,
    /// Bounds the log entries of answered calls still being written after their answer.
    pub unwritten: Arc<tokio::sync::Semaphore>,
}

/// How many answered calls' log entries may wait to be written before a new such call waits
/// for room (a database slower than the callers slows the callers, not the memory).
const UNWRITTEN: usize = 4096;

impl Shared {
    pub fn new(
        config: Config,
        config_file: Option<PathBuf>,
        store: Store,
        sender: crate::daemon::sender::Sender,
    ) -> Arc<Shared> {
        let uid = nix::unistd::geteuid();
        let daemon_user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        let runner = Runner::new(&config);
        Arc::new(Shared {
            config: RwLock::new(Arc::new(config)),
            config_file,
            store,
            registry: Registry::default(),
            runner,
            started: Instant::now(),
            daemon_uid: uid.as_raw(),
            daemon_user,
            sender,
            metrics: Default::default(),
            rate_limits: Default::default(),
            pacer: Default::default(),
            live: Default::default(),
            tls: Default::default(),
            unwritten: Arc::new(tokio::sync::Semaphore::new(UNWRITTEN)),
        })
    }

    /// Waits until every call record written behind its answer is written.
    pub async fn unwritten_done(&self) {
        let _ = self.unwritten.acquire_many(UNWRITTEN as u32).await;
    }

    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_config(&self, config: Config) {
        self.runner.reconfigure(&config);
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    }

    pub fn context(&self) -> Context {
        Context {
            daemon_uid: self.daemon_uid,
        }
    }

    pub fn defaults(&self) -> Defaults {
        let c = self.config();
        Defaults {
            run_user: if c.scripts.default_user.is_empty() {
                self.daemon_user.clone()
            } else {
                c.scripts.default_user.clone()
            },
            script_timeout: c.scripts.timeout,
            delivery_timeout: c.deliveries.timeout,
        }
    }
}
