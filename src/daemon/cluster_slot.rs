//! A hook's run slot in the database, for a store several nodes share: with it, a hook's
//! `concurrency` holds across nodes (a `concurrency 1` hook called on three nodes still runs
//! once at a time). The runner's own slots come first (so a node never asks for more than the
//! hook allows); this slot is taken after them and let go when the run ends. On a store only
//! this process uses there is no such slot: the runner's slots are the limit.

use crate::hook::Hook;
use crate::store::{Store, StoreError};
use std::time::Duration;

/// How often a run waiting for a slot held on another node asks again.
const POLL: Duration = Duration::from_millis(100);

/// A held slot; released (in the background) when dropped.
pub struct ClusterSlot {
    store: Store,
    hook_id: i64,
    slot: i32,
}

impl Drop for ClusterSlot {
    fn drop(&mut self) {
        let (store, hook_id, slot) = (self.store.clone(), self.hook_id, self.slot);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.release_run_slot(hook_id, slot).await {
                    // The slot is freed when this node's heartbeat stops at the latest.
                    tracing::warn!(hook = hook_id, "cannot release a run slot: {e}");
                }
            });
        }
    }
}

/// Waits for one of `hook`'s slots; `None` when the store has none to give (one process).
/// The call's waiting place, if it holds one, is given back with the slot, in the same step.
pub async fn take(
    store: &Store,
    hook: &Hook,
    queued: &mut Option<QueuePlace>,
) -> Result<Option<ClusterSlot>, StoreError> {
    loop {
        let leave = queued.is_some();
        match store
            .take_run_slot(hook.id, hook.concurrency(), leave)
            .await?
        {
            None => return Ok(None),
            Some(Some(slot)) => {
                if let Some(mut place) = queued.take() {
                    place.left = true;
                }
                return Ok(Some(ClusterSlot {
                    store: store.clone(),
                    hook_id: hook.id,
                    slot,
                }));
            }
            Some(None) => tokio::time::sleep(POLL).await,
        }
    }
}

/// [`take`] for a run already accepted (queued): a store that cannot be reached is asked again
/// until it answers.
pub async fn take_patiently(
    store: &Store,
    hook: &Hook,
    queued: &mut Option<QueuePlace>,
) -> Option<ClusterSlot> {
    loop {
        match take(store, hook, queued).await {
            Ok(slot) => return slot,
            Err(e) => {
                tracing::warn!(hook = %hook.name, "waiting for a run slot: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// A waiting place in a hook's queue held in a store several nodes share; given back (in the
/// background) when dropped, which the call does once it holds its run slot or gives up.
pub struct QueuePlace {
    store: Store,
    hook_id: i64,
    /// Given back already, with the run slot it waited for.
    left: bool,
}

impl Drop for QueuePlace {
    fn drop(&mut self) {
        if self.left {
            return;
        }
        let (store, hook_id) = (self.store.clone(), self.hook_id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.leave_queue(hook_id).await {
                    // The place goes when this node's heartbeat stops at the latest.
                    tracing::warn!(hook = hook_id, "cannot leave a queue: {e}");
                }
            });
        }
    }
}

/// How a call fared in a hook's queue across nodes.
pub enum Entered {
    /// The store is this process's alone: the runner's queue was the only one.
    Alone,
    Waiting(QueuePlace),
    /// `queue_limit` calls wait already across the nodes, and every run slot is held.
    Full,
}

/// Enters `hook`'s queue across the nodes sharing the store (after the runner admitted the
/// call to this node's queue).
pub async fn enter_queue(store: &Store, hook: &Hook) -> Result<Entered, StoreError> {
    Ok(
        match store
            .enter_queue(hook.id, hook.concurrency(), hook.queue_limit())
            .await?
        {
            None => Entered::Alone,
            Some(true) => Entered::Waiting(QueuePlace {
                store: store.clone(),
                hook_id: hook.id,
                left: false,
            }),
            Some(false) => Entered::Full,
        },
    )
}
