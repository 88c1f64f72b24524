//! Starting a run: its files, its environment and the child process itself.
//!
//! Why: everything a script receives is decided here, in one place, before it starts.
//!
//! Invariants:
//! - The environment is cleared to a fixed set plus `HOOKD_*` and the hook's own `env`.
//!   Request headers become `HOOKD_HEADER_*` only when their names are `A-Za-z0-9-`; headers
//!   that map to the same variable are joined with `, ` in arrival order, so no header can
//!   silently replace another one's value.
//! - The child gets its own process group and keeps no descriptor but 0–2. A run as another
//!   user also drops to that user (supplementary groups, gid, uid, in that order) and asks to
//!   be killed when hookd dies.
//! - The group is registered ([`Group`]) as soon as the child exists.
//!
//! - A command hook (`--exec`) is started directly, with no shell: each `--arg` value is one
//!   argv item, whatever it holds. `--env-from` and `--file-from` values are set for script
//!   and command hooks alike; a missing value sets no variable and writes no file.
//!
//! Must not: put request data anywhere but the environment, stdin, the body and value files
//! and a command hook's own argv (never in the script text or a shell's command line), or do anything between fork and exec that is not an
//! async-signal-safe system call.

use super::files::BodyFile;
use super::kill::Group;
use super::{RunAs, Runner};
use crate::config::Config;
use crate::hook::Hook;
use crate::run::Invocation;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A started run.
pub(super) struct Spawned {
    pub child: tokio::process::Child,
    pub group: Group,
    /// Removed when dropped, after the run, as are the `--file-from` files.
    pub body_file: BodyFile,
    pub value_files: Vec<BodyFile>,
}

pub(super) fn spawn(
    config: &Config,
    hook: &Hook,
    run_id: i64,
    inv: &Invocation,
    user: &RunAs,
    runner: &Runner,
) -> Result<Spawned, String> {
    let written = |e: std::io::Error| format!("cannot write the run's files: {e}");
    let body_file = runner
        .files
        .body(run_id, &inv.body, user)
        .map_err(written)?;
    let opts = &hook.options;
    let wants_values = opts.args.is_some() || opts.env_from.is_some() || opts.file_from.is_some();
    let vars = wants_values.then(|| crate::hook::refs::request_vars(hook, inv));
    let (args, env_from) = match &vars {
        Some(v) => crate::hook::refs::command_values(hook, v).map_err(|(_, why)| why)?,
        None => Default::default(),
    };
    let mut cmd = match &opts.exec {
        Some(program) => {
            let mut c = tokio::process::Command::new(program);
            c.args(&args);
            c
        }
        None => script_command(config, hook, runner, user).map_err(written)?,
    };
    environment(&mut cmd, hook, run_id, inv, user, body_file.path())?;
    cmd.envs(env_from);
    let mut value_files = Vec::new();
    for (var, bytes) in vars
        .as_ref()
        .map(|v| crate::hook::refs::file_values(hook, v))
        .unwrap_or_default()
    {
        let f = runner.files.value(run_id, &bytes, user).map_err(written)?;
        cmd.env(var, f.path());
        value_files.push(f);
    }
    // With no body there is nothing to write: /dev/null spares a pipe and its bookkeeping.
    let stdin = if inv.body.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    cmd.current_dir(cwd(hook, user))
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if user.switch {
        child_setup(&mut cmd, user);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the script: {e}"))?;
    let leader = child.id().unwrap_or(0) as i32;
    let group = Group::register(leader, runner.files.mark_group(leader), &runner.live);
    Ok(Spawned {
        child,
        group,
        body_file,
        value_files,
    })
}

/// The shell running the hook's script file, or the file itself when it starts with `#!`.
fn script_command(
    config: &Config,
    hook: &Hook,
    runner: &Runner,
    user: &RunAs,
) -> std::io::Result<tokio::process::Command> {
    let script = hook.options.script.as_deref().unwrap_or_default();
    let script_path = runner.files.script(script, user)?;
    if script.starts_with("#!") {
        return Ok(tokio::process::Command::new(&script_path));
    }
    let mut c = tokio::process::Command::new(&config.scripts.shell);
    c.arg(&script_path);
    Ok(c)
}

fn environment(
    cmd: &mut tokio::process::Command,
    hook: &Hook,
    run_id: i64,
    inv: &Invocation,
    user: &RunAs,
    body_file: &Path,
) -> Result<(), String> {
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
        .env("HOOKD_BODY_FILE", body_file);
    cmd.envs(header_vars(&inv.headers));
    for (name, value) in &inv.params {
        cmd.env(format!("HOOKD_PARAM_{}", name.to_ascii_uppercase()), value);
    }
    if let Some(uid) = inv.test_uid {
        cmd.env("HOOKD_TEST_UID", uid.to_string());
    }
    for (name, value) in hook.options.env.iter().flatten() {
        let value = crate::secret::resolve(value).map_err(|e| format!("--env {name}: {e}"))?;
        cmd.env(name, value.as_ref());
    }
    Ok(())
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

/// Whether a header may reach a script: names of letters, digits and `-` only, so that no two
/// differently spelled names (`X-User`, `X_User`) can claim the same variable.
fn passes(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The `HOOKD_HEADER_*` variables of a request, repeated headers joined with `, ` in arrival
/// order (the list form HTTP gives a repeated header).
fn header_vars(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers.iter().filter(|(n, _)| passes(n)) {
        let var = header_var(name);
        match vars.iter_mut().find(|(v, _)| *v == var) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            None => vars.push((var, value.clone())),
        }
    }
    vars
}

fn cwd(hook: &Hook, user: &RunAs) -> PathBuf {
    match &hook.options.cwd {
        Some(dir) => PathBuf::from(dir),
        None if user.home.is_dir() => user.home.clone(),
        None => PathBuf::from("/"),
    }
}

/// For a run as another user, what the child does between fork and exec: become the run
/// user, die with hookd, and mark every descriptor above 2 close-on-exec.
///
/// Runs as hookd's own user have no such step: a closure here makes the standard library fork
/// instead of spawning with `posix_spawn`, which costs hookd most of its sync run rate. Their
/// descriptors are covered by [`no_inherited_descriptors`] and hookd's own close-on-exec
/// descriptors, and what is left of them after a crash is ended at the next start.
fn child_setup(cmd: &mut tokio::process::Command, user: &RunAs) {
    let (uid, gid, groups) = (user.uid, user.gid, user.groups.clone());
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe system
    // calls on values prepared before forking (the group list was resolved before, too).
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setgroups(&groups)?;
            nix::unistd::setgid(gid)?;
            nix::unistd::setuid(uid)?;
            // After the uid change: changing credentials clears the parent-death signal.
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // hookd died before the line above: there is nobody left to run for.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            if !cloexec_above_2() {
                cloexec_up_to_limit();
            }
            Ok(())
        });
    }
}

/// Marks every descriptor above 2 close-on-exec in one call (Linux 5.11 and later).
/// Close-on-exec rather than closed: the standard library reports a failed exec through one.
fn cloexec_above_2() -> bool {
    let flags = libc::CLOSE_RANGE_CLOEXEC as libc::c_long;
    // SAFETY: a plain system call on descriptor numbers, async-signal-safe.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            flags,
        ) == 0
    }
}

/// The same on older kernels, between fork and exec: one descriptor at a time.
fn cloexec_up_to_limit() {
    // SAFETY: plain system calls on descriptor numbers, async-signal-safe.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1 << 16) as libc::c_int
        } else {
            1024
        };
        for fd in 3..max {
            let f = libc::fcntl(fd, libc::F_GETFD);
            if f >= 0 && f & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, f | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Marks every descriptor hookd holds above 2 close-on-exec, once at start: whatever hookd
/// inherited from the process that started it must not reach scripts, and everything hookd
/// opens itself is close-on-exec already.
pub(super) fn no_inherited_descriptors() {
    if cloexec_above_2() {
        return;
    }
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return cloexec_up_to_limit();
    };
    let fds: Vec<i32> = fds
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: fcntl on a descriptor number; one that is gone by now fails harmlessly.
        unsafe {
            let f = libc::fcntl(fd, libc::F_GETFD);
            if f >= 0 {
                libc::fcntl(fd, libc::F_SETFD, f | libc::FD_CLOEXEC);
            }
        }
    }
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

    #[test]
    fn odd_names_are_dropped_and_repeats_joined() {
        let h = |n: &str, v: &str| (n.to_string(), v.to_string());
        let vars = header_vars(&[
            h("x-user", "alice"),
            h("x_user", "mallory"),
            h("x.user", "mallory"),
            h("accept", "a"),
            h("x-user", "bob"),
        ]);
        assert_eq!(
            vars,
            [
                h("HOOKD_HEADER_X_USER", "alice, bob"),
                h("HOOKD_HEADER_ACCEPT", "a")
            ]
        );
    }
}
