//! Runs in progress as watchers see them: their output so far, their phase, a cancel request.
//!
//! Why: a streamed call, `runs show --follow` and `runs wait` are told what happens by the
//! run itself (pushed), not by reading the store again and again. Each run this process has
//! queued or started has one [`LiveRun`] in [`LiveRuns`] until its outcome is recorded.
//!
//! Invariants:
//! - The combined output (both streams in arrival order) is kept up to the output cap and no
//!   further, so a watcher can join late and still see everything from the start, and a run
//!   that writes without end costs no more memory than the cap. Past the cap a watcher is told
//!   the output was cut; the run goes on.
//! - The phases only move forward: queued, running, exited (the script is over: streams send
//!   their last line), recorded (the outcome is in the store: followers read it there). A run
//!   leaves the registry when recorded, also when its task ends without recording (the
//!   [`Recorder`] guard), so no watcher waits for a run that is gone.
//! - Watchers subscribe before they look, so no change falls between the two; a slow watcher
//!   never holds up the run (it reads the kept output at its own pace).

use crate::proto::RunStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// How a run's script ended, as a stream's last line reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Queued,
    Running,
    Exited,
    Recorded,
}

struct State {
    phase: Phase,
    /// How the script ended, kept past `Recorded` so a watcher that was slow still hears it.
    end: Option<End>,
    output: Vec<u8>,
    /// Output arrived past the cap and was not kept here.
    cut: bool,
    /// `Some(uid)` once a cancel was asked for (the uid, when known).
    cancel: Option<Option<u32>>,
}

/// One run in progress.
pub struct LiveRun {
    pub id: i64,
    pub hook_id: i64,
    cap: usize,
    state: Mutex<State>,
    changed: watch::Sender<()>,
}

/// What a watcher learns next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Output(Vec<u8>),
    /// The output reached the cap; what follows is not kept (told once).
    Cut,
    Exited(End),
    Recorded,
}

/// The longest piece of output one [`Watcher::next`] hands out.
const PIECE: usize = 64 * 1024;

impl LiveRun {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.send_replace(());
    }

    /// Output the script wrote (either stream).
    pub fn push(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.update(|s| {
            if s.cut {
                return;
            }
            let room = self.cap.saturating_sub(s.output.len());
            let take = bytes.len().min(room);
            s.output.extend_from_slice(&bytes[..take]);
            if take < bytes.len() {
                s.cut = true;
            }
        });
    }

    /// The combined output kept so far (both streams in arrival order, up to the cap).
    pub fn output(&self) -> Vec<u8> {
        self.lock().output.clone()
    }

    pub fn started(&self) {
        self.update(|s| {
            if s.phase == Phase::Queued {
                s.phase = Phase::Running;
            }
        });
    }

    pub fn exited(&self, end: End) {
        self.update(|s| {
            if matches!(s.phase, Phase::Queued | Phase::Running) {
                s.phase = Phase::Exited;
                s.end = Some(end);
            }
        });
    }

    /// Asks the run to stop. False when its script is already over.
    pub fn cancel(&self, uid: Option<u32>) -> bool {
        let mut accepted = false;
        self.update(|s| {
            if matches!(s.phase, Phase::Queued | Phase::Running) {
                s.cancel.get_or_insert(uid);
                accepted = true;
            }
        });
        accepted
    }

    /// Resolves once a cancel is asked for, with the uid that asked.
    pub async fn cancelled(&self) -> Option<u32> {
        let mut rx = self.changed.subscribe();
        loop {
            if let Some(uid) = self.lock().cancel {
                return uid;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// The most output watchers see.
    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn is_queued(&self) -> bool {
        self.lock().phase == Phase::Queued
    }

    /// A watcher from the start of the output.
    pub fn watch(self: &Arc<Self>) -> Watcher {
        Watcher {
            rx: self.changed.subscribe(),
            run: self.clone(),
            offset: 0,
            told_cut: false,
            told_exit: false,
        }
    }
}

/// Reads one run's output and phases in order, each once.
pub struct Watcher {
    run: Arc<LiveRun>,
    rx: watch::Receiver<()>,
    offset: usize,
    told_cut: bool,
    told_exit: bool,
}

impl Watcher {
    pub async fn next(&mut self) -> Next {
        loop {
            self.rx.mark_unchanged();
            if let Some(next) = self.look() {
                return next;
            }
            if self.rx.changed().await.is_err() {
                return Next::Recorded;
            }
        }
    }

    fn look(&mut self) -> Option<Next> {
        let s = self.run.lock();
        if self.offset < s.output.len() {
            let end = s.output.len().min(self.offset + PIECE);
            let piece = s.output[self.offset..end].to_vec();
            self.offset = end;
            return Some(Next::Output(piece));
        }
        if s.cut && !self.told_cut {
            self.told_cut = true;
            return Some(Next::Cut);
        }
        if let Some(end) = s.end
            && !self.told_exit
        {
            self.told_exit = true;
            return Some(Next::Exited(end));
        }
        (s.phase == Phase::Recorded).then_some(Next::Recorded)
    }
}

/// The runs this process has queued or started, by id.
#[derive(Default)]
pub struct LiveRuns {
    runs: Mutex<HashMap<i64, Arc<LiveRun>>>,
}

impl LiveRuns {
    /// Lists a run just stored (queued or running); the [`Recorder`] takes it out again.
    pub fn register(self: &Arc<Self>, id: i64, hook_id: i64, queued: bool, cap: usize) -> Recorder {
        let (changed, _) = watch::channel(());
        let run = Arc::new(LiveRun {
            id,
            hook_id,
            cap,
            state: Mutex::new(State {
                phase: if queued {
                    Phase::Queued
                } else {
                    Phase::Running
                },
                end: None,
                output: Vec::new(),
                cut: false,
                cancel: None,
            }),
            changed,
        });
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, run.clone());
        Recorder {
            run,
            runs: self.clone(),
        }
    }

    pub fn get(&self, id: i64) -> Option<Arc<LiveRun>> {
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }
}

/// Held by the task that owns a run; dropped once the run's outcome is stored (or the task
/// gave up), it marks the run recorded and takes it out of the registry.
pub struct Recorder {
    pub run: Arc<LiveRun>,
    runs: Arc<LiveRuns>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.runs
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.run.id);
        self.run.update(|s| s.phase = Phase::Recorded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_late_watcher_sees_everything_in_order() {
        let runs = Arc::new(LiveRuns::default());
        let rec = runs.register(1, 7, false, 8);
        rec.run.push(b"hello ");
        rec.run.push(b"world");
        let mut w = runs.get(1).unwrap().watch();
        assert_eq!(w.next().await, Next::Output(b"hello wo".to_vec()));
        assert_eq!(w.next().await, Next::Cut);
        let end = End {
            status: RunStatus::Success,
            exit_code: Some(0),
            duration_ms: 3,
        };
        rec.run.exited(end);
        // Recorded before the watcher looked again: it still hears how the script ended.
        drop(rec);
        assert_eq!(w.next().await, Next::Exited(end));
        assert_eq!(w.next().await, Next::Recorded);
        assert!(runs.get(1).is_none());
    }

    #[tokio::test]
    async fn cancel_is_heard_once_asked_and_refused_after_exit() {
        let runs = Arc::new(LiveRuns::default());
        let rec = runs.register(2, 7, true, 8);
        let run = rec.run.clone();
        let waiter = tokio::spawn(async move { run.cancelled().await });
        assert!(rec.run.cancel(Some(1000)));
        assert_eq!(waiter.await.unwrap(), Some(1000));
        rec.run.exited(End {
            status: RunStatus::Cancelled,
            exit_code: None,
            duration_ms: 0,
        });
        assert!(!rec.run.cancel(Some(1)));
    }
}
