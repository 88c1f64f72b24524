//! `emit`: an admin's own event (`hookctl emit backup.done`), published through the same
//! subscriptions, templates, formats, signing and retries as hookd's own events: it is staged
//! by the one outbox door and its deliveries are on the disk before the answer.
//!
//! An idempotency key makes a retried emit (a cron job run twice, a script retrying after a
//! lost answer) harmless: within [`KEY_WINDOW_MS`] the same key answers with the first event's
//! id and queues nothing.

use super::internal;
use crate::daemon::outbox;
use crate::daemon::state::Shared;
use crate::events::Event;
use crate::proto::{EmitEvent, ErrorBody, Response};
use crate::store::{Direction, Emission, NewLog};
use std::sync::Arc;

/// How long an idempotency key is remembered.
pub const KEY_WINDOW_MS: i64 = 24 * 3600 * 1000;
const MAX_KEY_LEN: usize = 200;

pub(super) async fn emit(
    shared: &Arc<Shared>,
    req: EmitEvent,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    crate::event_catalogue::valid_custom_type(&req.event_type).map_err(ErrorBody::invalid)?;
    if let Some(k) = &req.idempotency_key
        && (k.is_empty() || k.len() > MAX_KEY_LEN || k.chars().any(char::is_control))
    {
        return Err(ErrorBody::invalid(format!(
            "--idempotency-key: use 1-{MAX_KEY_LEN} characters without control characters"
        )));
    }
    let max = shared.config().deliveries.max_payload_bytes;
    let size = req.data.to_string().len() as u64;
    if size > max {
        return Err(ErrorBody::invalid(format!(
            "--data is {size} bytes, more than deliveries.max_payload_bytes ({max})"
        )));
    }
    let event = Event::new(&req.event_type, req.data);
    let event_id = event.id.clone();
    let staged = outbox::stage(shared, [event]);
    let deliveries = staged.delivery_count();
    let now = crate::time::now_ms();
    let log = NewLog {
        time: now,
        direction: Direction::Admin,
        method: Some("emit".into()),
        url: Some(format!(
            "{} {event_id} ({deliveries} deliveries)",
            req.event_type
        )),
        uid,
        ..NewLog::default()
    };
    let emission = Emission {
        event_id,
        key: req.idempotency_key.map(|k| (k, now - KEY_WINDOW_MS)),
        outbox: staged,
        log,
    };
    let emitted = shared.store.emit(emission).await.map_err(internal)?;
    Ok(Response::Emitted {
        id: emitted.id,
        deliveries: emitted.deliveries,
        duplicate: emitted.duplicate,
    })
}
