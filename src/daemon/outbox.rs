//! Staging events for the outbox: find their subscribers and serialize their data, before any
//! storage operation runs.
//!
//! Staging reads the in-memory registry and does the JSON work here, off the database; the
//! storage operation that records the event's cause writes the staged [`Outbox`] in the same
//! commit, picks the durability it needs and wakes the delivery worker (see
//! [`crate::store`]). So the only step left to callers is this one, and it yields the value the
//! operation takes: an event cannot be half-committed.

use crate::daemon::state::Shared;
use crate::events::Event;
use crate::store::{Outbox, StagedEvent};

/// Stages `events` for the outgoing hooks that subscribe to them; events nobody receives are
/// dropped here.
pub fn stage(shared: &Shared, events: impl IntoIterator<Item = Event>) -> Outbox {
    Outbox::new(events.into_iter().filter_map(|event| {
        let targets = shared.registry.subscribers(&event);
        (!targets.is_empty()).then(|| StagedEvent {
            data: event.data.to_string(),
            event,
            targets,
        })
    }))
}

/// Stages `event` only for the given hook, whatever it subscribes to (`hookctl test`).
pub fn stage_to(event: Event, hook_id: i64, hook: &str) -> Outbox {
    Outbox::new([StagedEvent {
        data: event.data.to_string(),
        event,
        targets: vec![(hook_id, hook.to_string())],
    }])
}
