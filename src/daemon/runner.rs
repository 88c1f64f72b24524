//! Script runs: admission to per-hook queues, running as a user, timeouts, output capture.
//!
//! This file admits calls and resolves run users; a run itself goes through one module per
//! stage: [`spawn`] (files, environment, the child), [`collect`] (output and the wait),
//! [`kill`] (ending process groups, now and after a crash), [`finish`] (the outcome), with
//! [`files`] owning the run directory.
//!
//! Invariants:
//! - Request data reaches a script only through its environment, stdin and the body file; the
//!   script text is written to a file verbatim and never has anything spliced into it.
//! - Every run has its own process group. When the script exits or times out, whatever is left
//!   in the group gets SIGTERM, then SIGKILL after the grace period, so no process of a run
//!   outlives it (a process that deliberately leaves the group with `setsid` is out of reach).
//!   No run outlives the daemon past its next start: that start ends what is left of the
//!   groups a dead daemon recorded (a run as another user dies with the daemon at once).
//! - Output is capped per stream but always drained, so a chatty script never stalls on a full
//!   pipe and the run still completes.
//! - Each hook has a FIFO of `concurrency` slots with `queue_limit` waiting places; all hooks
//!   together share `scripts.max_concurrent` slots. Admission fails fast when the queue is full.
//!
//! - A cancelled run (its [`LiveRun`] asks) is ended like one that timed out.
//!
//! The runner knows nothing about HTTP or the store: callers record runs and shape answers.

use crate::config::Config;
use crate::daemon::live::LiveRun;
use crate::hook::Hook;
pub use crate::run::{Invocation, Outcome};
use nix::sys::signal::Signal;
use nix::unistd::{Gid, Pid, Uid};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

mod collect;
mod files;
mod finish;
mod kill;
mod spawn;

pub use files::BodyFile;
pub use kill::KILL_GRACE;
pub use spawn::header_var;

/// Why a call could not get in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    QueueFull,
}

/// Held while a run occupies its hook slot and a global slot; dropping it frees both.
pub struct Ticket {
    _hook: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
    running: Arc<AtomicU64>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A place in a hook's queue, taken at admission so that admission can refuse synchronously.
pub struct Place {
    slots: Arc<Slots>,
    global: Arc<Semaphore>,
    running: Arc<AtomicU64>,
    queued: Arc<AtomicU64>,
}

impl Place {
    /// Waits (FIFO) for a hook slot, then a global slot.
    pub async fn wait(self) -> Ticket {
        let hook = self
            .slots
            .sem
            .clone()
            .acquire_owned()
            .await
            .expect("hook semaphores are never closed");
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("the global semaphore is never closed");
        self.running.fetch_add(1, Ordering::Relaxed);
        Ticket {
            _hook: hook,
            _global: global,
            running: self.running.clone(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.slots.waiting.fetch_sub(1, Ordering::Relaxed);
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Slots {
    concurrency: u32,
    sem: Arc<Semaphore>,
    /// Calls admitted and not yet holding a slot.
    waiting: AtomicU32,
}

pub struct Runner {
    slots: Mutex<HashMap<i64, Arc<Slots>>>,
    /// Process groups of runs in progress, so shutdown can end them.
    live: kill::Live,
    global: Mutex<(Arc<Semaphore>, u32)>,
    running: Arc<AtomicU64>,
    queued: Arc<AtomicU64>,
    files: files::RunFiles,
    /// Recently looked-up run users, by name (`None`: the daemon's own user).
    users: Mutex<HashMap<Option<String>, CachedUser>>,
}

/// A run user and when it was looked up.
type CachedUser = (Instant, Arc<RunAs>);

/// How long a looked-up run user is reused: the user database is read at most this often per
/// user instead of on every run, and changes to it apply to runs within this time.
const USER_CACHE: Duration = Duration::from_secs(2);

impl Runner {
    pub fn new(config: &Config) -> Runner {
        let n = config.scripts.max_concurrent;
        spawn::no_inherited_descriptors();
        let stale = files::remove_stale();
        if stale > 0 {
            tracing::info!(
                "removed {stale} run directory(ies) left by a hookd that is no longer running, \
                 and ended what was left of their runs"
            );
        }
        Runner {
            slots: Mutex::new(HashMap::new()),
            live: Default::default(),
            global: Mutex::new((Arc::new(Semaphore::new(n as usize)), n)),
            running: Arc::new(AtomicU64::new(0)),
            queued: Arc::new(AtomicU64::new(0)),
            files: files::RunFiles::default(),
            users: Mutex::new(HashMap::new()),
        }
    }

    /// A spill file for a request body being received (see [`files`]).
    pub fn spill_file(&self) -> std::io::Result<(std::fs::File, BodyFile)> {
        self.files.spill()
    }

    /// Removes the scripts' and bodies' directory (at shutdown, once no run is left).
    pub fn remove_files(&self) {
        self.files.remove();
    }

    /// Applies a new `max_concurrent`; runs already holding slots keep them.
    pub fn reconfigure(&self, config: &Config) {
        let mut g = self.global.lock().unwrap_or_else(|e| e.into_inner());
        let want = config.scripts.max_concurrent;
        if want > g.1 {
            g.0.add_permits((want - g.1) as usize);
        } else if want < g.1 {
            g.0.forget_permits((g.1 - want) as usize);
        }
        g.1 = want;
    }

    pub fn running(&self) -> u64 {
        self.running.load(Ordering::Relaxed)
    }

    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Takes a place in the hook's queue, or refuses when `queue_limit` calls already wait.
    /// `force` admits regardless (queued runs resumed after a restart were already accepted).
    pub fn admit(&self, hook: &Hook, force: bool) -> Result<Place, Refused> {
        let slots = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let entry = map
                .entry(hook.id)
                .or_insert_with(|| new_slots(hook.concurrency()));
            if entry.concurrency != hook.concurrency() {
                // The hook was edited: new calls use the new width; runs in the old one finish.
                *entry = new_slots(hook.concurrency());
            }
            entry.clone()
        };
        let waiting = slots.waiting.fetch_add(1, Ordering::Relaxed);
        if !force && slots.sem.available_permits() == 0 && waiting >= hook.queue_limit() {
            slots.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(Refused::QueueFull);
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        let global = self
            .global
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone();
        Ok(Place {
            slots,
            global,
            running: self.running.clone(),
            queued: self.queued.clone(),
        })
    }

    pub fn forget(&self, hook_id: i64) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&hook_id);
    }

    /// Drops the queues of hooks that no longer exist.
    pub fn retain(&self, live: &HashSet<i64>) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| live.contains(id));
    }

    /// Sends `sig` to the process group of every run in progress (shutdown).
    pub fn signal_all(&self, sig: Signal) -> usize {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.iter()
            .filter(|p| kill::signal_group(Pid::from_raw(**p), sig))
            .count()
    }

    /// Runs a hook's script once, to completion, and reports what happened. Never panics on
    /// the script's behaviour; failing to even start is a `failed` outcome with the reason on
    /// stderr.
    pub async fn execute(
        &self,
        config: &Config,
        hook: &Hook,
        run_id: i64,
        inv: &Invocation,
        live: &Arc<LiveRun>,
    ) -> Outcome {
        execute(config, hook, (run_id, live), inv, self).await
    }

    /// The run user, from the cache when it was looked up less than [`USER_CACHE`] ago.
    /// Failures are not cached: a user created a moment ago is found on the next run.
    fn user(&self, wanted: Option<&str>) -> Result<Arc<RunAs>, String> {
        let key = wanted.map(str::to_string);
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, user)) = users.get(&key)
            && at.elapsed() < USER_CACHE
        {
            return Ok(user.clone());
        }
        let user = Arc::new(resolve_user(wanted)?);
        users.insert(key, (Instant::now(), user.clone()));
        Ok(user)
    }
}

fn new_slots(concurrency: u32) -> Arc<Slots> {
    Arc::new(Slots {
        concurrency,
        sem: Arc::new(Semaphore::new(concurrency as usize)),
        waiting: AtomicU32::new(0),
    })
}

/// Who a script runs as, resolved before forking (NSS lookups are not safe after fork).
struct RunAs {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
    name: String,
    home: PathBuf,
    shell: PathBuf,
    switch: bool,
}

fn resolve_user(wanted: Option<&str>) -> Result<RunAs, String> {
    let me = Uid::effective();
    let user = match wanted {
        Some(name) => nix::unistd::User::from_name(name)
            .map_err(|e| format!("cannot look up user {name}: {e}"))?
            .ok_or_else(|| format!("user {name} does not exist"))?,
        None => nix::unistd::User::from_uid(me)
            .map_err(|e| format!("cannot look up uid {me}: {e}"))?
            .ok_or_else(|| format!("uid {me} has no passwd entry"))?,
    };
    let switch = user.uid != me;
    if switch && !me.is_root() {
        return Err(format!(
            "running as {} needs hookd to run as root",
            user.name
        ));
    }
    let groups = if switch {
        let cname =
            CString::new(user.name.clone()).map_err(|_| "user name contains NUL".to_string())?;
        nix::unistd::getgrouplist(&cname, user.gid)
            .map_err(|e| format!("cannot list groups of {}: {e}", user.name))?
    } else {
        Vec::new()
    };
    Ok(RunAs {
        uid: user.uid,
        gid: user.gid,
        groups,
        name: user.name,
        home: user.dir,
        shell: user.shell,
        switch,
    })
}

/// The run user a hook names, else `scripts.default_user`, else `None` (hookd's own user).
fn run_user<'a>(config: &'a Config, hook: &'a Hook) -> Option<&'a str> {
    let default_user = config.scripts.default_user.as_str();
    hook.options
        .user
        .as_deref()
        .or((!default_user.is_empty()).then_some(default_user))
}

/// One run, stage by stage: resolve the user, write the files and start the script
/// ([`spawn`]), read its output while it runs and end it on timeout ([`collect`], [`kill`]),
/// and shape what happened ([`finish`]).
async fn execute(
    config: &Config,
    hook: &Hook,
    (run_id, live): (i64, &Arc<LiveRun>),
    inv: &Invocation,
    runner: &Runner,
) -> Outcome {
    let clock = finish::Clock::start();
    let user = match runner.user(run_user(config, hook)) {
        Ok(u) => u,
        Err(e) => return clock.failed(e),
    };
    let run = match spawn::spawn(config, hook, run_id, inv, &user, runner) {
        Ok(r) => r,
        Err(e) => return clock.failed(e),
    };
    let limits = collect::Limits {
        timeout: hook.options.timeout.unwrap_or(config.scripts.timeout).0,
        output: config.scripts.max_output_bytes as usize,
    };
    let collected = collect::collect(run, &inv.body, limits, live).await;
    clock.outcome(collected)
}
