//! Finishing a run: what the caller is told, from what [`collect`](super::collect) saw.
//!
//! Invariants: a cancelled run is `cancelled` and a run that timed out is `timeout`, whatever
//! their exit status; `success` is exit
//! code 0 and nothing else; a run that could not even start is `failed` with the reason on
//! stderr, prefixed `hookd:` so it cannot be mistaken for the script's own words.
//!
//! Must not: touch the store or shape HTTP answers (callers do), or see request data.

use super::collect::Collected;
use crate::proto::RunStatus;
use crate::run::Outcome;
use std::time::Instant;

/// When a run started, on the wall clock (for the record) and the monotonic one (for its
/// duration).
pub(super) struct Clock {
    started_at: i64,
    at: Instant,
}

impl Clock {
    pub(super) fn start() -> Clock {
        Clock {
            started_at: crate::time::now_ms(),
            at: Instant::now(),
        }
    }

    fn duration_ms(&self) -> i64 {
        self.at.elapsed().as_millis() as i64
    }

    /// A run that could not start.
    pub(super) fn failed(&self, msg: String) -> Outcome {
        Outcome {
            status: RunStatus::Failed,
            exit_code: None,
            stdout: Vec::new(),
            stderr: format!("hookd: {msg}\n").into_bytes(),
            started_at: self.started_at,
            duration_ms: self.duration_ms(),
            cancelled_by: None,
        }
    }

    pub(super) fn outcome(&self, c: Collected) -> Outcome {
        let exit_code = c.exit.and_then(|s| s.code());
        let status = if c.cancelled.is_some() {
            RunStatus::Cancelled
        } else if c.timed_out {
            RunStatus::Timeout
        } else if exit_code == Some(0) {
            RunStatus::Success
        } else {
            RunStatus::Failed
        };
        Outcome {
            status,
            exit_code,
            stdout: c.stdout,
            stderr: c.stderr,
            started_at: self.started_at,
            duration_ms: self.duration_ms(),
            cancelled_by: c.cancelled.flatten(),
        }
    }
}
