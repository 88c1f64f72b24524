//! Ending a run's process group: on timeout, once the script has exited, and after a crash.
//!
//! Why: a script's children share its process group, and they must not outlive the run (nor
//! the daemon). A [`Group`] stands for one run's group while anything of it may be alive: it
//! is listed in the runner's live set (so shutdown can signal it) and recorded by a marker file
//! in the run directory (so the next start can end it if this daemon dies without cleaning up).
//!
//! Invariants:
//! - A group leaves the live set and loses its marker only when it is dropped, and it is
//!   dropped only once nothing of it answers a signal any more (or after SIGKILL).
//! - Ending leftovers never delays the run's answer: the wait for them happens in a task of
//!   its own, and only when something was left.
//! - A recorded group of a dead daemon is killed only when its number still belongs to it: a
//!   leader alive with another start time means the number was reused, and it is left alone.
//!
//! Must not: signal anything but a process group (a bare pid 0 or negative number would reach
//! hookd's own group or every process), or wait on the async runtime without a bound.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Time a process group gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(5);
/// How often a group told to end is looked at again.
const POLL: Duration = Duration::from_millis(20);

/// Process groups of runs in progress.
pub(super) type Live = Arc<Mutex<HashSet<i32>>>;

/// One run's process group, from the start of the script until nothing of it is left.
pub(super) struct Group {
    pgid: Pid,
    marker: Option<PathBuf>,
    live: Live,
}

impl Group {
    /// Lists the group whose leader is `leader` as live; `marker` records it on disk.
    pub(super) fn register(leader: i32, marker: Option<PathBuf>, live: &Live) -> Group {
        live.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(leader);
        Group {
            pgid: Pid::from_raw(leader),
            marker,
            live: live.clone(),
        }
    }

    fn signal(&self, sig: Signal) -> bool {
        signal_group(self.pgid, sig)
    }

    /// Ends a run past its timeout: SIGTERM to the group, SIGKILL after [`KILL_GRACE`] if the
    /// script has not exited by then. Returns the script's exit status.
    pub(super) async fn end(&self, child: &mut tokio::process::Child) -> Option<ExitStatus> {
        self.signal(Signal::SIGTERM);
        match tokio::time::timeout(KILL_GRACE, child.wait()).await {
            Ok(s) => s.ok(),
            Err(_) => {
                self.signal(Signal::SIGKILL);
                child.wait().await.ok()
            }
        }
    }

    /// Once the script has exited: SIGTERM to whatever it left in its group, then (in the
    /// background, only if something was left) SIGKILL after the grace period.
    pub(super) fn end_leftovers(self) {
        if !self.signal(Signal::SIGTERM) {
            return;
        }
        tokio::spawn(async move {
            let deadline = Instant::now() + KILL_GRACE;
            while Instant::now() < deadline {
                tokio::time::sleep(POLL).await;
                if killpg(self.pgid, None).is_err() {
                    return;
                }
            }
            self.signal(Signal::SIGKILL);
        });
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.pgid.as_raw());
        if let Some(marker) = &self.marker {
            let _ = std::fs::remove_file(marker);
        }
    }
}

/// Sends `sig` to the process group `pgid`; false when there is no such group (or `pgid` is
/// not a group number at all).
pub fn signal_group(pgid: Pid, sig: Signal) -> bool {
    pgid.as_raw() > 1 && killpg(pgid, sig).is_ok()
}

/// When process `pid` started (clock ticks since boot), from `/proc`; `None` when there is no
/// such process.
pub(super) fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain anything, so split at its last ')'):
    // the state is field 3, the start time field 22.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// The name of the marker file recording the group led by `leader`, started at `start`.
pub(super) fn marker_name(leader: i32, start: u64) -> String {
    format!("group-{leader}-{start}")
}

/// Kills the process groups recorded in a dead daemon's run directory, except those whose
/// number now belongs to another group. Returns how many were signalled.
pub(super) fn end_recorded(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut ended = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((leader, start)) = name
            .to_str()
            .and_then(|n| n.strip_prefix("group-"))
            .and_then(|n| n.split_once('-'))
            .and_then(|(l, s)| Some((l.parse::<i32>().ok()?, s.parse::<u64>().ok()?)))
        else {
            continue;
        };
        // A live process with the leader's number that started at another time is a new
        // process: the old group is gone and its number was given out again.
        if start_time(leader).is_some_and(|now| now != start) {
            continue;
        }
        if signal_group(Pid::from_raw(leader), Signal::SIGKILL) {
            ended += 1;
        }
    }
    ended
}
