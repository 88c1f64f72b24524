//! Deliveries handed to the delivery worker in memory.
//!
//! While the worker keeps up (its last look in the database found nothing more due), a write
//! that creates deliveries stores them already claimed (`sending`) and, once committed, hands
//! them over here with their event: the worker sends them without looking for them in the
//! database and without reading their event back. What the database holds is the same as
//! for a delivery the worker claimed itself, so a crash leaves `sending` rows that start-up
//! (or, on a shared database, the node's lapsed lease) turns back into pending ones.
//!
//! Places are bounded ([`Handoff::open`]): a write reserves one per delivery before it writes
//! the row; a write that fails or does not commit gives its places back
//! ([`Handed`]'s drop). When no place is free the delivery is written pending, as without
//! this path, and the worker claims it from the database.

use super::Claimed;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Handoff {
    queue: Mutex<VecDeque<Claimed>>,
    /// Places in use: queued, or reserved by a write not yet committed.
    taken: AtomicUsize,
    /// Places there are; 0 while closed.
    room: AtomicUsize,
    /// Woken when deliveries were handed over.
    pub ready: tokio::sync::Notify,
}

impl Handoff {
    /// Lets writes hand over up to `room` deliveries at once (0 closes: new deliveries are
    /// written pending; those already handed over stay queued).
    pub fn open(&self, room: usize) {
        self.room.store(room, Ordering::Relaxed);
    }

    /// Takes a place for one delivery about to be written as claimed; false when none is free.
    pub(crate) fn reserve(&self) -> bool {
        let room = self.room.load(Ordering::Relaxed);
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |t| {
                (t < room).then_some(t + 1)
            })
            .is_ok()
    }

    fn give_back(&self, n: usize) {
        if n > 0 {
            self.taken.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// Up to `max` handed-over deliveries, oldest first; their places are free again.
    pub fn take(&self, max: usize) -> Vec<Claimed> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let n = q.len().min(max);
        let out: Vec<Claimed> = q.drain(..n).collect();
        drop(q);
        self.give_back(out.len());
        out
    }

    /// Deliveries queued and not yet taken.
    pub fn queued(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Deliveries a write stored as claimed, to be handed over once it has committed; dropped
/// without [`Handed::deliver`], their places are given back.
pub(crate) struct Handed {
    handoff: Arc<Handoff>,
    claimed: Vec<Claimed>,
    reserved: usize,
    /// Deliveries the write stored pending instead (no place was free).
    pub(crate) pending: usize,
}

impl Handed {
    pub(crate) fn new(handoff: Arc<Handoff>) -> Handed {
        Handed {
            handoff,
            claimed: Vec::new(),
            reserved: 0,
            pending: 0,
        }
    }

    /// Reserves a place for the next delivery; false when it must be written pending.
    pub(crate) fn reserve(&mut self) -> bool {
        let ok = self.handoff.reserve();
        self.reserved += usize::from(ok);
        ok
    }

    /// The delivery whose place [`Handed::reserve`] took, as written.
    pub(crate) fn push(&mut self, c: Claimed) {
        self.claimed.push(c);
    }

    /// Announces the committed write this reserved for: its log entries to followers, a wake-up
    /// for the deliveries it wrote pending, and the claimed ones handed to the worker.
    pub(crate) fn announce<'a>(
        self,
        feeds: &super::Feeds,
        logs: impl IntoIterator<Item = (i64, &'a super::NewLog)>,
    ) {
        feeds.committed(logs, self.pending > 0);
        self.deliver();
    }

    /// Hands the deliveries to the worker (the write committed).
    fn deliver(mut self) {
        let claimed = std::mem::take(&mut self.claimed);
        let n = claimed.len();
        // A place reserved for a delivery that was not written after all is given back.
        self.handoff.give_back(self.reserved - n);
        self.reserved = 0;
        if n > 0 {
            self.handoff
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(claimed);
            self.handoff.ready.notify_one();
        }
    }
}

impl Drop for Handed {
    fn drop(&mut self) {
        self.handoff.give_back(self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn claimed(id: i64) -> Claimed {
        Claimed {
            id,
            hook_id: 1,
            hook: "out".into(),
            attempts: 0,
            event: Event::new("test", serde_json::json!({})),
        }
    }

    #[test]
    fn places_are_bounded_and_given_back_by_failed_writes() {
        let h = Arc::new(Handoff::default());
        assert!(!h.reserve(), "closed until the worker opens it");
        h.open(2);
        let mut w = Handed::new(h.clone());
        assert!(w.reserve() && w.reserve());
        assert!(!w.reserve(), "two places only");
        drop(w);
        let mut w = Handed::new(h.clone());
        assert!(w.reserve(), "a write that failed gave its places back");
        w.push(claimed(7));
        assert!(w.reserve());
        w.push(claimed(8));
        w.deliver();
        assert_eq!(h.queued(), 2);
        assert!(!h.reserve(), "queued deliveries hold their places");
        let got: Vec<i64> = h.take(1).into_iter().map(|c| c.id).collect();
        assert_eq!(got, [7]);
        assert!(h.reserve(), "a taken delivery frees its place");
        h.give_back(1);
        h.open(0);
        assert!(!h.reserve());
        assert_eq!(h.take(10).len(), 1, "closing keeps what was handed over");
    }
}
