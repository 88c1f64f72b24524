//! What every part of the running daemon shares: config, store, hook registry, runner, log feed.
//!
//! The registry is an in-memory map from token hash to the enabled incoming hook it opens, kept
//! in step with the store by the control handlers (every mutation upserts or removes the one
//! hook it touched). The HTTP path therefore never waits on SQLite to answer a 404. The config
//! sits behind a lock that is only ever held to clone an `Arc`, so a reload swaps it atomically.

use crate::config::Config;
use crate::daemon::runner::Runner;
use crate::hook::{Context, Defaults, Hook};
use crate::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use subtle::ConstantTimeEq;

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
}

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
        })
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

#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_token: HashMap<[u8; 32], Arc<Hook>>,
    token_of: HashMap<i64, [u8; 32]>,
    /// Enabled outgoing hooks with their compiled `match_path`.
    outgoing: HashMap<i64, (Arc<Hook>, Option<regex::Regex>)>,
}

impl Registry {
    pub fn load(&self, hooks: Vec<Hook>) {
        let mut inner = Inner::default();
        for h in hooks {
            inner.insert(h);
        }
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = inner;
    }

    /// Puts the current state of one hook in place of whatever was there for its id.
    pub fn upsert(&self, hook: Hook) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.remove(hook.id);
        inner.insert(hook);
    }

    pub fn remove(&self, id: i64) {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// The enabled incoming hook this token opens. Unknown and disabled look the same. The map
    /// is keyed by the token's SHA-256, which a caller cannot steer, and the final check is a
    /// constant-time comparison of the full hash.
    pub fn lookup(&self, token: &str) -> Option<Arc<Hook>> {
        if !token.starts_with(crate::token::PREFIX) || token.len() > crate::token::MAX_LEN {
            return None;
        }
        let hash = crate::token::hash(token);
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let hook = inner.by_token.get(&hash)?;
        let stored = hook.token_hash.as_ref()?;
        bool::from(stored.ct_eq(&hash)).then(|| hook.clone())
    }

    /// Whether any enabled outgoing hook exists (if not, events need not even be built).
    /// Whether any enabled outgoing hook subscribes to events of this type (before filters on
    /// their data), so callers build events only when someone may receive them.
    pub fn wants(&self, event_type: &str) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .outgoing
            .values()
            .any(|(h, _)| crate::events::subscribes_to(h, event_type))
    }

    /// The enabled outgoing hooks that receive `event`, as (id, name).
    pub fn subscribers(&self, event: &crate::events::Event) -> Vec<(i64, String)> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(i64, String)> = inner
            .outgoing
            .values()
            .filter(|(h, re)| crate::events::subscribed(h, event, re.as_ref()))
            .map(|(h, _)| (h.id, h.name.clone()))
            .collect();
        out.sort();
        out
    }

    /// The enabled outgoing hook with this id.
    pub fn outgoing(&self, id: i64) -> Option<Arc<Hook>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .outgoing
            .get(&id)
            .map(|(h, _)| h.clone())
    }

    /// The live hook with this id, if it is enabled and reachable.
    pub fn get_by_id(&self, id: i64) -> Option<Arc<Hook>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .token_of
            .get(&id)
            .and_then(|t| inner.by_token.get(t))
            .cloned()
    }
}

impl Inner {
    fn insert(&mut self, h: Hook) {
        if !h.enabled {
            return;
        }
        if h.kind == crate::proto::HookKind::Outgoing {
            // Validated at create/edit, so a pattern that no longer compiles cannot occur; if it
            // somehow did, the filter is dropped rather than the hook.
            let re = h
                .options
                .match_path
                .as_deref()
                .and_then(|p| regex::Regex::new(p).ok());
            self.outgoing.insert(h.id, (Arc::new(h), re));
        } else if let Some(hash) = h.token_hash {
            self.token_of.insert(h.id, hash);
            self.by_token.insert(hash, Arc::new(h));
        }
    }
    fn remove(&mut self, id: i64) {
        self.outgoing.remove(&id);
        if let Some(hash) = self.token_of.remove(&id) {
            self.by_token.remove(&hash);
        }
    }
}
