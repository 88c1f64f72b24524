//! Socket activation: listening sockets systemd (or `systemd-socket-activate`) passes in
//! `LISTEN_FDS`, used instead of binding `listen` and `metrics_listen`.
//!
//! The passed descriptors start at 3 and are ours only when `LISTEN_PID` is this process; with
//! no such variables, or another process's, nothing was passed and hookd binds as configured.
//! Which descriptor is which: one named `http` (`FileDescriptorName=http`, in
//! `LISTEN_FDNAMES`) serves webhooks and one named `metrics` serves `/metrics` (the first of
//! each name, as one unit's name covers all its sockets); the other descriptors (systemd names
//! them after their socket unit by default) fill what is left in order, webhooks first, then
//! metrics. A descriptor that is not a listening TCP socket stops start-up
//! with an error naming it; more than two are left alone with a warning. This runs before any
//! thread is started, and takes each descriptor at most once.

use std::net::TcpListener;
use std::os::fd::{FromRawFd, RawFd};

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST_FD: RawFd = 3;

#[derive(Debug, thiserror::Error)]
#[error("the socket passed as descriptor {fd} ({name}) {problem}")]
pub struct ActivationError {
    fd: RawFd,
    name: String,
    problem: &'static str,
}

/// Listeners systemd passed; `None` where hookd binds the configured address itself.
#[derive(Debug, Default)]
pub struct Passed {
    pub http: Option<TcpListener>,
    pub metrics: Option<TcpListener>,
}

/// Takes the sockets passed to this process, if any.
pub fn take() -> Result<Passed, ActivationError> {
    let env = |k: &str| std::env::var(k).ok();
    let fds = match passed_fds(
        env("LISTEN_PID").as_deref(),
        env("LISTEN_FDS").as_deref(),
        env("LISTEN_FDNAMES").as_deref(),
        std::process::id(),
    ) {
        Some(fds) => fds,
        None => return Ok(Passed::default()),
    };
    let mut passed = Passed::default();
    for (fd, name, role) in assign(&fds) {
        let Some(role) = role else {
            tracing::warn!(
                "ignoring the socket passed as descriptor {fd} ({name}): hookd uses two at most, one for webhooks and one for metrics"
            );
            continue;
        };
        let listener = listener(fd, &name)?;
        match role {
            Role::Http => passed.http = Some(listener),
            Role::Metrics => passed.metrics = Some(listener),
        }
    }
    Ok(passed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Http,
    Metrics,
}

/// The descriptors and their names when `LISTEN_PID` is `pid`; names are `unknown` when
/// `LISTEN_FDNAMES` is absent or does not list one per descriptor.
fn passed_fds(
    pid: Option<&str>,
    count: Option<&str>,
    names: Option<&str>,
    own: u32,
) -> Option<Vec<(RawFd, String)>> {
    if pid?.trim().parse::<u32>().ok()? != own {
        return None;
    }
    let n: RawFd = count?.trim().parse().ok().filter(|n| *n > 0)?;
    let names: Vec<&str> = names.map(|s| s.split(':').collect()).unwrap_or_default();
    let named = names.len() == n as usize;
    Some(
        (0..n)
            .map(|i| {
                let name = if named { names[i as usize] } else { "unknown" };
                (FIRST_FD + i, name.to_string())
            })
            .collect(),
    )
}

/// Names first (`http`, `metrics`, each taken by its first descriptor), then the others in
/// order: webhooks, then metrics.
fn assign(fds: &[(RawFd, String)]) -> Vec<(RawFd, String, Option<Role>)> {
    let by_name = |fd: RawFd, role: Role| {
        fds.iter()
            .find(|(_, n)| n == role_name(role))
            .map(|(f, _)| *f)
            == Some(fd)
    };
    let mut free: Vec<Role> = [Role::Http, Role::Metrics]
        .into_iter()
        .filter(|r| !fds.iter().any(|(_, n)| n == role_name(*r)))
        .collect();
    fds.iter()
        .map(|(fd, name)| {
            let role = match [Role::Http, Role::Metrics]
                .into_iter()
                .find(|r| by_name(*fd, *r))
            {
                Some(r) => Some(r),
                None if free.is_empty() => None,
                None => Some(free.remove(0)),
            };
            (*fd, name.clone(), role)
        })
        .collect()
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Http => "http",
        Role::Metrics => "metrics",
    }
}

/// Checks that `fd` is a listening TCP socket and takes ownership of it.
fn listener(fd: RawFd, name: &str) -> Result<TcpListener, ActivationError> {
    let fail = |problem| ActivationError {
        fd,
        name: name.to_string(),
        problem,
    };
    let mut listening: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `listening`; a descriptor that is not
    // a socket (or not open) makes it fail without touching anything.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&mut listening as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(fail("is not a socket"));
    }
    if listening == 0 {
        return Err(fail("is not listening (use ListenStream=)"));
    }
    // SAFETY: systemd hands the descriptor to this process to own; `assign` yields each
    // descriptor once, so nothing else wraps or closes it.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    if listener.local_addr().is_err() {
        // Not an IP socket: give the descriptor back untouched rather than close it.
        std::mem::forget(listener);
        return Err(fail(
            "is not a TCP socket (hookd needs ListenStream=PORT or ADDR:PORT)",
        ));
    }
    listener
        .set_nonblocking(true)
        .map_err(|_| fail("cannot be made non-blocking"))?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fds(names: &[&str]) -> Vec<(RawFd, String)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (FIRST_FD + i as RawFd, n.to_string()))
            .collect()
    }

    fn roles(names: &[&str]) -> Vec<Option<Role>> {
        assign(&fds(names)).into_iter().map(|(_, _, r)| r).collect()
    }

    #[test]
    fn only_this_process_takes_them() {
        assert_eq!(passed_fds(Some("7"), Some("1"), None, 8), None);
        assert_eq!(passed_fds(None, Some("1"), None, 8), None);
        assert_eq!(passed_fds(Some("8"), Some("0"), None, 8), None);
        assert_eq!(passed_fds(Some("8"), Some("x"), None, 8), None);
        let two = passed_fds(Some("8"), Some("2"), Some("hookd.socket:metrics"), 8).unwrap();
        assert_eq!(two, fds(&["hookd.socket", "metrics"]));
        // A name list that does not match the count is ignored.
        let odd = passed_fds(Some("8"), Some("2"), Some("http"), 8).unwrap();
        assert_eq!(odd, fds(&["unknown", "unknown"]));
    }

    #[test]
    fn names_win_then_order() {
        use Role::{Http, Metrics};
        assert_eq!(roles(&["hookd.socket"]), [Some(Http)]);
        assert_eq!(roles(&["a", "b"]), [Some(Http), Some(Metrics)]);
        assert_eq!(roles(&["metrics", "http"]), [Some(Metrics), Some(Http)]);
        assert_eq!(roles(&["x", "http"]), [Some(Metrics), Some(Http)]);
        assert_eq!(
            roles(&["metrics", "x", "y"]),
            [Some(Metrics), Some(Http), None]
        );
    }
}
