//! Script runs: admission to per-hook queues, running as a user, timeouts, output capture.
//!
//! Invariants:
//! - Request data reaches a script only through its environment, stdin and the body file; the
//!   script text is written to a file verbatim and never has anything spliced into it.
//! - Every run has its own process group. When the script exits or times out, whatever is left
//!   in the group gets SIGTERM, then SIGKILL after the grace period, so no process of a run
//!   outlives it (a process that deliberately leaves the group with `setsid` is out of reach).
//! - Output is capped per stream but always drained, so a chatty script never stalls on a full
//!   pipe and the run still completes.
//! - Each hook has a FIFO of `concurrency` slots with `queue_limit` waiting places; all hooks
//!   together share `scripts.max_concurrent` slots. Admission fails fast when the queue is full.
//!
//! The runner knows nothing about HTTP or the store: callers record runs and shape answers.

use crate::config::Config;
use crate::hook::Hook;
use crate::proto::RunStatus;
pub use crate::run::{Invocation, Outcome};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Gid, Pid, Uid};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

mod files;

/// Time a process group gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(5);
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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
    live: Mutex<HashSet<i32>>,
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
        Runner {
            slots: Mutex::new(HashMap::new()),
            live: Mutex::new(HashSet::new()),
            global: Mutex::new((Arc::new(Semaphore::new(n as usize)), n)),
            running: Arc::new(AtomicU64::new(0)),
            queued: Arc::new(AtomicU64::new(0)),
            files: files::RunFiles::default(),
            users: Mutex::new(HashMap::new()),
        }
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
            .filter(|p| signal_group(Pid::from_raw(**p), sig))
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
    ) -> Outcome {
        execute(config, hook, run_id, inv, self).await
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

/// `X-Hub-Signature-256` → `HOOKD_HEADER_X_HUB_SIGNATURE_256`.
pub fn header_var(name: &str) -> String {
    let mut v = String::with_capacity(13 + name.len());
    v.push_str("HOOKD_HEADER_");
    v.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    v
}

async fn execute(
    config: &Config,
    hook: &Hook,
    run_id: i64,
    inv: &Invocation,
    runner: &Runner,
) -> Outcome {
    let (live, files) = (&runner.live, &runner.files);
    let started_at = crate::time::now_ms();
    let clock = Instant::now();
    let failed = |msg: String| Outcome {
        status: RunStatus::Failed,
        exit_code: None,
        stdout: Vec::new(),
        stderr: format!("hookd: {msg}\n").into_bytes(),
        started_at,
        duration_ms: clock.elapsed().as_millis() as i64,
    };
    let default_user = config.scripts.default_user.as_str();
    let wanted = hook
        .options
        .user
        .as_deref()
        .or((!default_user.is_empty()).then_some(default_user));
    let user = match runner.user(wanted) {
        Ok(u) => u,
        Err(e) => return failed(e),
    };
    let script = hook.options.script.as_deref().unwrap_or_default();
    let prepared = files
        .script(script, &user)
        .and_then(|s| Ok((s, files.body(run_id, &inv.body, &user)?)));
    let (script_path, body_file) = match prepared {
        Ok(p) => p,
        Err(e) => return failed(format!("cannot write the run's files: {e}")),
    };
    let mut cmd = if script.starts_with("#!") {
        tokio::process::Command::new(&script_path)
    } else {
        let mut c = tokio::process::Command::new(&config.scripts.shell);
        c.arg(&script_path);
        c
    };
    cmd.env_clear()
        .env("PATH", PATH)
        .env("HOME", &user.home)
        .env("USER", &user.name)
        .env("LOGNAME", &user.name)
        .env("SHELL", &user.shell)
        .env(
            "LANG",
            std::env::var("LANG").unwrap_or_else(|_| "C.UTF-8".into()),
        )
        .env("HOOKD_HOOK", &hook.name)
        .env("HOOKD_RUN_ID", run_id.to_string())
        .env("HOOKD_METHOD", &inv.method)
        .env("HOOKD_QUERY", &inv.query)
        .env("HOOKD_REMOTE_ADDR", &inv.remote_addr)
        .env("HOOKD_CONTENT_TYPE", &inv.content_type)
        .env("HOOKD_BODY_FILE", body_file.path());
    for (name, value) in &inv.headers {
        cmd.env(header_var(name), value);
    }
    for (name, value) in &inv.params {
        cmd.env(format!("HOOKD_PARAM_{}", name.to_ascii_uppercase()), value);
    }
    if let Some(env) = &hook.options.env {
        cmd.envs(env);
    }
    let cwd = hook
        .options
        .cwd
        .clone()
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            if user.home.is_dir() {
                user.home.clone()
            } else {
                PathBuf::from("/")
            }
        });
    // With no body there is nothing to write: /dev/null spares a pipe and its bookkeeping.
    let stdin = if inv.body.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    cmd.current_dir(cwd)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if user.switch {
        let (uid, gid, groups) = (user.uid, user.gid, user.groups.clone());
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
        // system calls; the group list was resolved before forking.
        unsafe {
            cmd.pre_exec(move || {
                nix::unistd::setgroups(&groups)?;
                nix::unistd::setgid(gid)?;
                nix::unistd::setuid(uid)?;
                Ok(())
            });
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot start the script: {e}")),
    };
    let pgid = Pid::from_raw(child.id().unwrap_or(0) as i32);
    live.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pgid.as_raw());
    let cap = config.scripts.max_output_bytes as usize;
    // Both streams are read while the script runs (so it never stalls on a full pipe), in this
    // task: a run costs no extra tasks.
    let mut stdout = std::pin::pin!(read_stream(child.stdout.take(), cap));
    let mut stderr = std::pin::pin!(read_stream(child.stderr.take(), cap));
    let (mut out, mut err) = (None, None);
    if let Some(mut stdin) = child.stdin.take() {
        let body = inv.body.clone();
        // A script that never reads stdin must not block the run: write in the background and
        // let a broken pipe end it.
        tokio::spawn(async move {
            let _ = stdin.write_all(&body).await;
        });
    }
    let timeout = hook.options.timeout.unwrap_or(config.scripts.timeout).0;
    let mut waited = std::pin::pin!(async {
        tokio::select! {
            s = child.wait() => (s.ok(), false),
            _ = tokio::time::sleep(timeout) => {
                signal_group(pgid, Signal::SIGTERM);
                let s = match tokio::time::timeout(KILL_GRACE, child.wait()).await {
                    Ok(s) => s.ok(),
                    Err(_) => {
                        signal_group(pgid, Signal::SIGKILL);
                        child.wait().await.ok()
                    }
                };
                (s, true)
            }
        }
    });
    let (status, timed_out) = loop {
        tokio::select! {
            o = &mut stdout, if out.is_none() => out = Some(o),
            e = &mut stderr, if err.is_none() => err = Some(e),
            w = &mut waited => break w,
        }
    };
    clear_group(pgid).await;
    live.lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&pgid.as_raw());
    // A process that escaped the group may still hold a pipe; don't wait on it forever.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let out = match out {
        Some(o) => o,
        None => finish_stream(deadline, stdout).await,
    };
    let err = match err {
        Some(e) => e,
        None => finish_stream(deadline, stderr).await,
    };
    drop(body_file);
    let exit_code = status.and_then(|s| s.code());
    let status = if timed_out {
        RunStatus::Timeout
    } else if exit_code == Some(0) {
        RunStatus::Success
    } else {
        RunStatus::Failed
    };
    Outcome {
        status,
        exit_code,
        stdout: out,
        stderr: err,
        started_at,
        duration_ms: clock.elapsed().as_millis() as i64,
    }
}

fn signal_group(pgid: Pid, sig: Signal) -> bool {
    pgid.as_raw() > 0 && killpg(pgid, sig).is_ok()
}

/// Ends whatever the script left in its process group: SIGTERM, then SIGKILL after the grace.
async fn clear_group(pgid: Pid) {
    if !signal_group(pgid, Signal::SIGTERM) {
        return;
    }
    let deadline = Instant::now() + KILL_GRACE;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if killpg(pgid, None).is_err() {
            return;
        }
    }
    signal_group(pgid, Signal::SIGKILL);
}

async fn read_stream<R: AsyncRead + Unpin>(r: Option<R>, cap: usize) -> Vec<u8> {
    match r {
        Some(r) => read_capped(r, cap).await,
        None => Vec::new(),
    }
}

async fn finish_stream(
    deadline: tokio::time::Instant,
    read: std::pin::Pin<&mut impl std::future::Future<Output = Vec<u8>>>,
) -> Vec<u8> {
    tokio::time::timeout_at(deadline, read)
        .await
        .unwrap_or_else(|_| {
            b"\n[hookd: output not complete: a process outside the run still holds the pipe]\n"
                .to_vec()
        })
}

/// Reads a stream to its end, keeping at most `cap` bytes and marking what was cut.
async fn read_capped<R: AsyncRead + Unpin>(mut r: R, cap: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut dropped: u64 = 0;
    let mut discard = [0u8; 4096];
    loop {
        let read = if buf.len() < cap {
            // Straight into the kept output, growing it as it fills, never past the cap.
            let room = cap - buf.len();
            if buf.capacity() == buf.len() {
                buf.reserve(room.min(buf.len().max(1024)));
            }
            (&mut r).take(room as u64).read_buf(&mut buf).await
        } else {
            let n = r.read(&mut discard).await;
            if let Ok(n) = n {
                dropped += n as u64;
            }
            n
        };
        if matches!(read, Ok(0) | Err(_)) {
            break;
        }
    }
    if dropped > 0 {
        buf.extend_from_slice(
            format!("\n[hookd: output truncated: {dropped} more bytes not kept]\n").as_bytes(),
        );
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_become_variables() {
        assert_eq!(
            header_var("X-Hub-Signature-256"),
            "HOOKD_HEADER_X_HUB_SIGNATURE_256"
        );
        assert_eq!(header_var("content.type"), "HOOKD_HEADER_CONTENT_TYPE");
    }

    #[tokio::test]
    async fn capped_reads_drain_everything() {
        let data = vec![b'x'; 100_000];
        let out = read_capped(&data[..], 10).await;
        assert!(out.starts_with(b"xxxxxxxxxx\n[hookd: output truncated: 99990 more"));
    }
}
