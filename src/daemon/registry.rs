//! The hook registry: the enabled hooks as the serving paths need them, in memory.
//!
//! Incoming hooks are found by the SHA-256 of their token, outgoing hooks by id. The control
//! handlers keep it in step with the store (every change upserts or removes the one hook it
//! touched), so the HTTP path never waits on storage to answer a 404. Each hook is held as a
//! [`LiveHook`]: its options parsed once, when it enters the registry, into the typed values
//! the gate and the subscriptions use (CIDRs, rate limit, verification kind, path filter,
//! condition).

use crate::hook::Hook;
use crate::netaddr::Cidr;
use crate::proto::HookKind;
use crate::signature::{Keys, Verifier, VerifyKind};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;

/// A hook with its options parsed for serving. Derefs to the stored [`Hook`].
#[derive(Debug)]
pub struct LiveHook {
    pub hook: Hook,
    /// `--allow-ip`: callers outside these networks are refused.
    pub allow_ip: Option<Vec<Cidr>>,
    /// `--rate-limit`: calls per period of seconds.
    pub rate_limit: Option<(u32, u32)>,
    /// `--verify`, with the keys it checks against.
    pub verifier: Option<Box<Verifier>>,
    /// The `--verify` kind (also when its verifier is built per call: a secret reference).
    pub verify_kind: Option<VerifyKind>,
    /// `--match-path` of an outgoing hook.
    pub match_path: Option<regex::Regex>,
    /// `--rate` of an outgoing hook: deliveries per period in ms.
    pub rate: Option<(u32, u32)>,
    /// `--if` of an incoming hook, parsed once here so a call only evaluates it.
    pub condition: Option<crate::template::Condition>,
    /// The URL of an outgoing hook, parsed once here so a delivery only sends.
    pub target: crate::daemon::sender::Target,
}

impl LiveHook {
    /// Parses what the serving paths need; the error names the hook and the option.
    pub fn compile(hook: Hook) -> Result<LiveHook, (String, String)> {
        let o = &hook.options;
        let fail = |e: String| (hook.name.clone(), e);
        let allow_ip = match &o.allow_ip {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|c| {
                        c.parse::<Cidr>()
                            .map_err(|e| fail(format!("--allow-ip: {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let rate_limit = o
            .rate_limit
            .as_deref()
            .map(crate::hook::parse_rate_limit)
            .transpose()
            .map_err(fail)?;
        let rate = o
            .rate
            .as_deref()
            .map(crate::hook::parse_rate)
            .transpose()
            .map_err(fail)?;
        let verify_kind = match o.verify.as_deref() {
            None => None,
            Some(v) => {
                Some(VerifyKind::parse(v).ok_or_else(|| fail(format!("unknown --verify {v:?}")))?)
            }
        };
        // A secret given as a reference is read at each call, so its verifier is built then.
        let by_reference = [&o.secret, &o.basic_auth]
            .into_iter()
            .flatten()
            .any(|s| crate::secret::is_reference(&s.0));
        let verifier = match (verify_kind, o.verify.as_deref()) {
            (Some(kind), Some(v)) if !by_reference => {
                let keys = Keys {
                    secret: o.secret.as_ref().map(|s| s.0.as_str()),
                    signature_header: o.signature_header.as_deref(),
                    public_key: o.public_key.as_deref(),
                    basic_auth: o.basic_auth.as_ref().map(|s| s.0.as_str()),
                };
                let verifier = Verifier::new(kind, keys);
                Some(Box::new(
                    verifier.map_err(|e| fail(format!("--verify {v}: {e}")))?,
                ))
            }
            _ => None,
        };
        let match_path = match o.match_path.as_deref() {
            None => None,
            Some(p) => Some(regex::Regex::new(p).map_err(|e| fail(format!("--match-path: {e}")))?),
        };
        let condition = match o.condition.as_deref() {
            None => None,
            Some(c) => {
                Some(crate::template::Condition::parse(c).map_err(|e| fail(format!("--if: {e}")))?)
            }
        };
        Ok(LiveHook {
            target: crate::daemon::sender::Target::of(&hook),
            condition,
            allow_ip,
            rate_limit,
            verifier,
            verify_kind,
            match_path,
            rate,
            hook,
        })
    }
}

impl std::ops::Deref for LiveHook {
    type Target = Hook;
    fn deref(&self) -> &Hook {
        &self.hook
    }
}

#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_token: HashMap<[u8; 32], Arc<LiveHook>>,
    token_of: HashMap<i64, [u8; 32]>,
    /// Enabled outgoing hooks.
    outgoing: HashMap<i64, Arc<LiveHook>>,
    /// Enabled incoming hooks with a fixed `--path`, by path, and the path of each by id.
    by_path: HashMap<String, Arc<LiveHook>>,
    path_of: HashMap<i64, String>,
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
    pub fn lookup(&self, token: &str) -> Option<Arc<LiveHook>> {
        if !token.starts_with(crate::token::PREFIX) || token.len() > crate::token::MAX_LEN {
            return None;
        }
        let hash = crate::token::hash(token);
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let hook = inner.by_token.get(&hash)?;
        let stored = hook.token_hash.as_ref()?;
        bool::from(stored.ct_eq(&hash)).then(|| hook.clone())
    }

    /// The enabled incoming hook served at this fixed path (`/hooks/NAME`).
    pub fn lookup_path(&self, path: &str) -> Option<Arc<LiveHook>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .by_path
            .get(path)
            .cloned()
    }

    /// Whether any enabled outgoing hook subscribes to events of this type (before filters on
    /// their data), so callers build events only when someone may receive them.
    pub fn wants(&self, event_type: &str) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .outgoing
            .values()
            .any(|h| crate::events::subscribes_to(h, event_type))
    }

    /// The enabled outgoing hooks that receive `event`, as (id, name).
    pub fn subscribers(&self, event: &crate::events::Event) -> Vec<(i64, String)> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(i64, String)> = inner
            .outgoing
            .values()
            .filter(|h| crate::events::subscribed(h, event, h.match_path.as_ref()))
            .map(|h| (h.id, h.name.clone()))
            .collect();
        out.sort();
        out
    }

    /// The enabled outgoing hook with this id.
    pub fn outgoing(&self, id: i64) -> Option<Arc<LiveHook>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .outgoing
            .get(&id)
            .cloned()
    }

    /// The live hook with this id, if it is enabled and reachable.
    pub fn get_by_id(&self, id: i64) -> Option<Arc<LiveHook>> {
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
        let live = match LiveHook::compile(h) {
            Ok(l) => Arc::new(l),
            Err((name, e)) => {
                // Validated at create/edit, so this means the stored row was changed behind
                // hookd's back: the hook stays out of service, and says why.
                tracing::error!(hook = %name, "hook not served: {e}");
                return;
            }
        };
        if live.kind == HookKind::Outgoing {
            self.outgoing.insert(live.id, live);
        } else if let Some(hash) = live.token_hash {
            if let Some(path) = live.options.path.clone() {
                self.path_of.insert(live.id, path.clone());
                self.by_path.insert(path, live.clone());
            }
            self.token_of.insert(live.id, hash);
            self.by_token.insert(hash, live);
        }
    }
    fn remove(&mut self, id: i64) {
        self.outgoing.remove(&id);
        if let Some(hash) = self.token_of.remove(&id) {
            self.by_token.remove(&hash);
        }
        if let Some(path) = self.path_of.remove(&id) {
            self.by_path.remove(&path);
        }
    }
}
