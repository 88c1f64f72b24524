//! Collecting a run: feeding stdin, reading both output streams while the script runs, waiting
//! for it (ending it past its timeout), and draining what the pipes still hold afterwards.
//!
//! Why a stage of its own: the script, its output, its timeout and a cancel request have to
//! be watched at once, in the run's own task (a run costs no extra tasks for its output).
//! Every piece of output read is also handed to the run's [`LiveRun`] as it arrives, for
//! streamed answers and followers.
//!
//! Invariants:
//! - Both streams are read while the script runs, so it never stalls on a full pipe; each keeps
//!   at most the output cap and marks what it dropped.
//! - Once the script has exited (or been ended), the answer waits for the pipes only while they
//!   still deliver: a pipe silent for [`DRAIN_IDLE`] is let go, and none is read for more than
//!   [`DRAIN_MAX`]. Whoever still holds it then is a leftover being ended or a process that
//!   left the group; the answer waits for neither.
//!
//! Must not: block on stdin (a script that never reads it must still finish), or lose output
//! that was already in a pipe when the script exited.

use super::spawn::Spawned;
use crate::daemon::live::LiveRun;
use bytes::Bytes;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// How long a pipe may stay silent after the script has exited before it is let go.
const DRAIN_IDLE: Duration = Duration::from_millis(100);
/// The longest the pipes are read after the script has exited.
const DRAIN_MAX: Duration = Duration::from_secs(2);

/// The bounds of one run.
pub(super) struct Limits {
    pub timeout: Duration,
    /// Bytes kept per output stream.
    pub output: usize,
}

/// What was seen of a run.
pub(super) struct Collected {
    pub exit: Option<ExitStatus>,
    pub timed_out: bool,
    /// Ended by `runs cancel`: the uid that asked (when known).
    pub cancelled: Option<Option<u32>>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub(super) async fn collect(
    run: Spawned,
    body: &Bytes,
    limits: Limits,
    live: &Arc<LiveRun>,
) -> Collected {
    let Spawned {
        mut child,
        group,
        body_file,
        value_files,
    } = run;
    if let Some(mut stdin) = child.stdin.take() {
        let body = body.clone();
        // A script that never reads stdin must not block the run: write in the background and
        // let a broken pipe end it.
        tokio::spawn(async move {
            let _ = stdin.write_all(&body).await;
        });
    }
    let mut out = Capture::new(child.stdout.take(), limits.output, Some(live.clone()));
    let mut err = Capture::new(child.stderr.take(), limits.output, Some(live.clone()));
    let (exit, timed_out, cancelled) = {
        let mut waited = std::pin::pin!(async {
            tokio::select! {
                s = child.wait() => (s.ok(), false, None),
                _ = tokio::time::sleep(limits.timeout) => (group.end(&mut child).await, true, None),
                uid = live.cancelled() => (group.end(&mut child).await, false, Some(uid)),
            }
        });
        loop {
            tokio::select! {
                _ = out.read_some(), if out.open() => {}
                _ = err.read_some(), if err.open() => {}
                w = &mut waited => break w,
            }
        }
    };
    group.end_leftovers();
    drain(&mut out, &mut err).await;
    drop(body_file);
    drop(value_files);
    Collected {
        exit,
        timed_out,
        cancelled,
        stdout: out.finish(),
        stderr: err.finish(),
    }
}

/// Reads what the pipes still deliver after the script has exited (see the module's rules).
async fn drain<A, B>(out: &mut Capture<A>, err: &mut Capture<B>)
where
    A: AsyncRead + Unpin,
    B: AsyncRead + Unpin,
{
    let deadline = Instant::now() + DRAIN_MAX;
    while out.open() || err.open() {
        let quiet = (Instant::now() + DRAIN_IDLE).min(deadline);
        let read = tokio::time::timeout_at(quiet, async {
            tokio::select! {
                biased;
                _ = out.read_some(), if out.open() => {}
                _ = err.read_some(), if err.open() => {}
            }
        })
        .await;
        if read.is_err() {
            out.let_go();
            err.let_go();
            return;
        }
    }
}

/// One output stream: read to its end, keeping at most `cap` bytes and counting the rest.
struct Capture<R> {
    r: Option<R>,
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
    /// The stream was let go before its end.
    cut: bool,
    /// Where each piece read goes as well, as it arrives.
    tap: Option<Arc<LiveRun>>,
}

impl<R: AsyncRead + Unpin> Capture<R> {
    fn new(r: Option<R>, cap: usize, tap: Option<Arc<LiveRun>>) -> Capture<R> {
        Capture {
            r,
            buf: Vec::new(),
            cap,
            dropped: 0,
            cut: false,
            tap,
        }
    }

    fn open(&self) -> bool {
        self.r.is_some()
    }

    /// Reads once. Cancel-safe: dropped before it completes, it has read nothing.
    async fn read_some(&mut self) {
        let Some(r) = self.r.as_mut() else {
            return std::future::pending().await;
        };
        let read = if self.buf.len() < self.cap {
            // Straight into the kept output, growing it as it fills, never past the cap.
            let room = self.cap - self.buf.len();
            if self.buf.capacity() == self.buf.len() {
                self.buf.reserve(room.min(self.buf.len().max(1024)));
            }
            let before = self.buf.len();
            let n = r.take(room as u64).read_buf(&mut self.buf).await;
            if let Some(tap) = &self.tap {
                tap.push(&self.buf[before..]);
            }
            n
        } else {
            let mut discard = [0u8; 4096];
            let n = r.read(&mut discard).await;
            if let Ok(n) = n {
                self.dropped += n as u64;
                if let Some(tap) = &self.tap {
                    tap.push(&discard[..n]);
                }
            }
            n
        };
        if matches!(read, Ok(0) | Err(_)) {
            self.r = None;
        }
    }

    /// Stops reading a stream that has not ended.
    fn let_go(&mut self) {
        if self.r.take().is_some() {
            self.cut = true;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.dropped > 0 {
            let note = format!(
                "\n[hookd: output truncated: {} more bytes not kept]\n",
                self.dropped
            );
            self.buf.extend_from_slice(note.as_bytes());
        }
        if self.cut {
            self.buf.extend_from_slice(
                b"\n[hookd: output not complete: a process still held the pipe when the run ended]\n",
            );
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn capped_reads_drain_everything() {
        let data = vec![b'x'; 100_000];
        let mut c = Capture::new(Some(&data[..]), 10, None);
        while c.open() {
            c.read_some().await;
        }
        let out = c.finish();
        assert!(out.starts_with(b"xxxxxxxxxx\n[hookd: output truncated: 99990 more"));
    }
}
