//! Putting events in the outbox: find the subscribers, then write the event and one delivery
//! per subscriber inside the caller's transaction.
//!
//! Staging (matching subscribers) happens before the transaction, from the in-memory registry;
//! writing happens inside it, so an event is stored exactly when the thing it reports is. An
//! event nobody subscribes to is not stored at all. After the caller commits it calls
//! [`committed`] so the delivery worker wakes up.

use crate::daemon::state::Shared;
use crate::events::Event;
use crate::store::{self, Result};

/// An event with the hooks it goes to.
#[derive(Debug, Clone)]
pub struct Staged {
    pub event: Event,
    pub targets: Vec<(i64, String)>,
    /// The event's data as JSON, serialized when staged (only when it has targets).
    data: String,
}

pub fn stage(shared: &Shared, event: Event) -> Staged {
    let targets = shared.registry.subscribers(&event);
    let data = if targets.is_empty() {
        String::new()
    } else {
        event.data.to_string()
    };
    Staged {
        event,
        targets,
        data,
    }
}

/// Only to the given hook, whatever it subscribes to (`hookctl test`).
pub fn stage_to(event: Event, hook_id: i64, hook: &str) -> Staged {
    Staged {
        data: event.data.to_string(),
        event,
        targets: vec![(hook_id, hook.to_string())],
    }
}

/// Writes staged events; returns the ids of the deliveries created.
pub fn write(tx: &rusqlite::Connection, staged: &[Staged], now: i64) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for s in staged.iter().filter(|s| !s.targets.is_empty()) {
        store::events::insert_event(tx, &s.event, &s.data)?;
        for (hook_id, hook) in &s.targets {
            ids.push(store::events::insert_delivery(
                tx,
                &s.event.id,
                *hook_id,
                hook,
                now,
            )?);
        }
    }
    Ok(ids)
}

/// Tells the delivery worker that deliveries were committed.
pub fn committed(shared: &Shared, staged: &[Staged]) {
    if has_deliveries(staged) {
        shared.deliveries_due.notify_one();
    }
}

/// Whether writing `staged` creates any delivery: accepted work, which must reach the disk
/// before the cause is acknowledged ([`store::Durability::Disk`]).
pub fn has_deliveries(staged: &[Staged]) -> bool {
    staged.iter().any(|s| !s.targets.is_empty())
}
