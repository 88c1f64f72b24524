//! The delivery worker: sends due deliveries, records every attempt, retries on schedule.
//!
//! Invariants:
//! - A delivery is claimed (`sending`) before it is sent and its attempt is recorded in one
//!   transaction with the log entry and any follow-up events; a crash in between leaves it
//!   `sending`, which start-up turns back into `pending` (at-least-once).
//! - Every attempt of one event carries the same `webhook-id` (the event id), so receivers
//!   can deduplicate; how one attempt is sent is [`crate::daemon::sender`]'s part.
//! - Alarms do not cascade: a delivery of an alarm (`delivery.failed`, `endpoint.disabled`)
//!   that itself fails raises no further `delivery.failed`.

use crate::daemon::outbox;
use crate::daemon::pacing::{HookPacing, Pace};
use crate::daemon::registry::LiveHook;
use crate::daemon::sender::{Sent, Target, retry_delay, send};
use crate::daemon::state::Shared;
use crate::event_catalogue as catalogue;
use crate::events::Event;
use crate::hook::Hook;
use crate::store::{Attempt, AttemptRecord, Claimed, Deferred, DeliveryStatus, Direction, NewLog};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

/// Runs until `stop` flips: claims due deliveries and sends them, at most `max_in_flight` at
/// once, paced per hook ([`crate::daemon::pacing`]).
pub async fn worker(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let in_flight = shared.config().deliveries.max_in_flight as usize;
    let slots = Arc::new(Semaphore::new(in_flight));
    let feeds = shared.store.feeds();
    // Whether the database may hold due deliveries this worker has not claimed, and when the
    // next one it knows of is due.
    let mut look = true;
    let mut next: Option<i64> = None;
    loop {
        let want = slots.available_permits().clamp(1, 256);
        let mut batch = Vec::new();
        // The database first, so what waits there is never starved by new deliveries.
        if look {
            let (claimed, due) = match shared
                .store
                .claim_due(crate::time::now_ms(), want as u32)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!("cannot claim deliveries: {e}");
                    (Vec::new(), None)
                }
            };
            look = claimed.len() == want;
            // New deliveries skip the database only while nothing older is due there.
            feeds.handoff.open(if look { 0 } else { in_flight });
            next = due;
            batch = claimed;
        }
        batch.extend(feeds.handoff.take(want - batch.len()));
        let full = batch.len() == want;
        let send = pace(&shared, batch, &mut next).await;
        for (claimed, hook) in send {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                match hook {
                    Some(h) => {
                        deliver(&shared, claimed, (&h, &h.target), true).await;
                    }
                    None => attempt(&shared, claimed).await,
                }
                drop(permit);
            });
        }
        if full {
            continue;
        }
        let wait = next
            .map(|t| Duration::from_millis((t - crate::time::now_ms()).clamp(0, 60_000) as u64))
            .unwrap_or(Duration::from_secs(60));
        tokio::select! {
            _ = feeds.deliveries_due.notified() => look = true,
            _ = feeds.handoff.ready.notified() => {}
            _ = tokio::time::sleep(wait) => look = true,
            _ = stop.changed() => {
                feeds.handoff.open(0);
                return;
            }
        }
    }
}

/// Paces a claimed batch: returns what may be sent now, with its hook (none when the hook is
/// gone); the rest is handed back to the store, due later (or its hook's backlog parked),
/// before anything is sent, and `next` learns when it is due.
async fn pace(
    shared: &Arc<Shared>,
    batch: Vec<Claimed>,
    next: &mut Option<i64>,
) -> Vec<(Claimed, Option<Arc<LiveHook>>)> {
    let batch: Vec<_> = batch
        .into_iter()
        .map(|c| {
            let hook = shared.registry.outgoing(c.hook_id);
            (c, hook)
        })
        .collect();
    let rate_slots = shared_rate_slots(shared, &batch).await;
    let mut deferred = Deferred::default();
    let mut send = Vec::with_capacity(batch.len());
    for (claimed, hook) in batch {
        let pace = hook
            .as_ref()
            .map(|h| admit(shared, h, &claimed, &rate_slots));
        if let Some(Pace::Defer(at) | Pace::Park(at)) = pace {
            *next = Some(next.map_or(at, |n| n.min(at)));
            deferred.deliveries.push((claimed.id, at));
            if let Some(Pace::Park(_)) = pace {
                deferred.hooks.insert(claimed.hook_id, at);
            }
            continue;
        }
        send.push((claimed, hook));
    }
    // Parked before anything is sent: an attempt that ends at once and brings its hook's
    // backlog forward must find the backlog parked already, not be overtaken by the park.
    if !deferred.deliveries.is_empty()
        && let Err(e) = shared.store.defer_deliveries(deferred).await
    {
        tracing::error!("cannot defer deliveries: {e}");
    }
    send
}

/// The `--rate` slots of a batch's deliveries, by delivery id, from a store several nodes
/// share (one request per hook, so the first delivery is not held up by the others' slots);
/// `Err` where the store could not give one. Empty on a store this process has alone.
async fn shared_rate_slots(
    shared: &Shared,
    batch: &[(Claimed, Option<Arc<LiveHook>>)],
) -> HashMap<i64, Result<i64, ()>> {
    let mut by_hook: HashMap<i64, (&LiveHook, Vec<i64>)> = HashMap::new();
    for (c, hook) in batch {
        if let Some(h) = hook.as_deref().filter(|h| h.rate.is_some()) {
            by_hook.entry(h.id).or_insert((h, Vec::new())).1.push(c.id);
        }
    }
    let mut slots = HashMap::new();
    for (hook, ids) in by_hook.into_values() {
        let Some((n, per_ms)) = hook.rate else {
            continue;
        };
        let spacing = i64::from(per_ms) / i64::from(n.max(1));
        let now = crate::time::now_ms();
        match shared
            .store
            .rate_slots(hook.id, ids.clone(), spacing, now)
            .await
        {
            Ok(None) => return HashMap::new(),
            Ok(Some(got)) => slots.extend(ids.into_iter().zip(got.into_iter().map(Ok))),
            Err(e) => {
                tracing::warn!(hook = %hook.name, "cannot take --rate slots: {e}");
                slots.extend(ids.into_iter().map(|id| (id, Err(()))));
            }
        }
    }
    slots
}

/// Whether a claimed delivery goes now. On a store several nodes share, `--rate` slots come
/// from the store ([`shared_rate_slots`]), so the rate holds across the nodes; this node's
/// pacer then minds only a failing endpoint.
fn admit(
    shared: &Shared,
    hook: &LiveHook,
    c: &Claimed,
    slots: &HashMap<i64, Result<i64, ()>>,
) -> Pace {
    // The time now, not the claim's: a slow claim must not make slots look early.
    let now = crate::time::now_ms();
    let rate = match slots.get(&c.id) {
        None => hook.rate,
        Some(Ok(slot)) if *slot > now => return Pace::Defer(*slot),
        Some(Ok(_)) => None,
        Some(Err(())) => return Pace::Defer(now + 1000),
    };
    let pacing = HookPacing {
        id: hook.id,
        rate,
        failing: hook.failing_since.is_some(),
        revision: hook.revision,
    };
    shared.pacer.admit(pacing, c.id, now)
}

/// Fails a claimed delivery whose hook is gone or disabled.
async fn attempt(shared: &Arc<Shared>, c: Claimed) {
    let sent = Sent::failed(
        "the outgoing hook is disabled or deleted".into(),
        Instant::now(),
    );
    finish(shared, &c, None, &sent, Decision::Fail).await;
}

/// Sends a claimed delivery to `hook` and records the outcome with its consequences; without
/// `retry` a failure is final (`hookctl test`).
pub async fn deliver(
    shared: &Arc<Shared>,
    c: Claimed,
    (hook, target): (&Hook, &Target),
    retry: bool,
) -> Sent {
    let config = shared.config();
    let sent = send(&shared.sender, &config, (hook, target), &c.event).await;
    let n = c.attempts as usize + 1;
    let decision = if sent.ok() {
        Decision::Succeed
    } else if sent.status == Some(410) {
        Decision::Disable("the receiver answered 410 Gone".into())
    } else if !retry {
        Decision::Fail
    } else if sent.final_failure {
        // No retry can mend it: give up now, with the alarm that retries running out raises.
        Decision::Exhausted
    } else {
        match retry_delay(&config.deliveries.retry_schedule, n) {
            Some(d) => Decision::Retry(d.max(sent.retry_after.unwrap_or_default())),
            None => Decision::Exhausted,
        }
    };
    if retry {
        pace_after(shared, hook.id, &decision).await;
    }
    finish(shared, &c, Some((hook, target)), &sent, decision).await;
    sent
}

/// Tells the pacer how an admitted attempt went, and brings the hook's waiting deliveries
/// forward when it says so.
async fn pace_after(shared: &Shared, hook_id: i64, decision: &Decision) {
    let now = crate::time::now_ms();
    let next = match decision {
        Decision::Retry(d) => Some(now + d.as_millis() as i64),
        _ => None,
    };
    let succeeded = matches!(decision, Decision::Succeed);
    if let Some(at) = shared.pacer.finished(hook_id, succeeded, next, now)
        && let Err(e) = shared.store.release_deliveries(hook_id, at).await
    {
        tracing::error!("cannot bring an endpoint's waiting deliveries forward: {e}");
    }
}

#[derive(Debug, Clone)]
enum Decision {
    Succeed,
    Retry(Duration),
    Exhausted,
    Fail,
    Disable(String),
}

impl Decision {
    /// The attempt row that follows from the decision.
    fn attempt(&self, sent: &Sent, now: i64) -> Attempt {
        let (status, next_attempt_at) = match self {
            Decision::Succeed => (DeliveryStatus::Succeeded, None),
            Decision::Retry(d) => (DeliveryStatus::Pending, Some(now + d.as_millis() as i64)),
            _ => (DeliveryStatus::Failed, None),
        };
        Attempt {
            status,
            http_status: sent.status,
            error: (status != DeliveryStatus::Succeeded)
                .then(|| sent.error.clone())
                .flatten(),
            next_attempt_at,
            at: now,
        }
    }

    /// The outcome label of the delivery metrics.
    fn outcome(&self) -> &'static str {
        match self {
            Decision::Succeed => "succeeded",
            Decision::Retry(_) => "retried",
            _ => "failed",
        }
    }
}

/// Records an attempt with its consequences: the attempt row and log entry, `delivery.failed`
/// when the retries are used up, and disabling the endpoint when it answered 410 or has been
/// failing for `disable_after`.
async fn finish(
    shared: &Arc<Shared>,
    c: &Claimed,
    hook: Option<(&Hook, &Target)>,
    sent: &Sent,
    decision: Decision,
) {
    let now = crate::time::now_ms();
    shared.metrics.delivery(&c.hook, decision.outcome());
    let follow_up = match decision {
        Decision::Exhausted if catalogue::cascades(&c.event.event_type) => {
            Some(failed_event(c, sent))
        }
        _ => None,
    };
    let record = AttemptRecord {
        delivery_id: c.id,
        attempt: decision.attempt(sent, now),
        log: attempt_log(c, hook, sent, now),
        endpoint: hook.map(|(h, _)| h.id),
        routine: shared
            .sender
            .routine(c.hook_id, matches!(decision, Decision::Succeed)),
    };
    let finished = match shared
        .store
        .finish_attempt(record, outbox::stage(shared, follow_up))
        .await
    {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(delivery = c.id, "cannot record a delivery attempt: {e}");
            return;
        }
    };
    let disable_after = shared.config().deliveries.disable_after.as_millis();
    let reason = match decision {
        Decision::Disable(reason) => Some(reason),
        _ => finished
            .failing_since
            .filter(|since| now - since >= disable_after)
            .map(|since| {
                format!(
                    "failing for {}",
                    crate::time::Dur(Duration::from_millis((now - since) as u64))
                )
            }),
    };
    if let Some(reason) = reason {
        disable(shared, c, reason, now).await;
    }
}

/// The log entry of one attempt.
fn attempt_log(c: &Claimed, hook: Option<(&Hook, &Target)>, sent: &Sent, now: i64) -> NewLog {
    NewLog {
        time: now,
        direction: Direction::Out,
        hook: Some(c.hook.clone()),
        method: Some(
            hook.and_then(|(h, _)| h.options.method.clone())
                .unwrap_or_else(|| "POST".into()),
        ),
        url: hook.and_then(|(_, t)| t.shown.clone()),
        status: sent.status,
        error: sent.error.clone(),
        duration_ms: Some(sent.duration.as_millis() as i64),
        delivery_id: Some(c.id.to_string()),
        attempt: Some(c.attempts + 1),
        ..NewLog::default()
    }
}

fn failed_event(c: &Claimed, sent: &Sent) -> Event {
    Event::new(
        "delivery.failed",
        json!({
            "hook": c.hook,
            "delivery_id": c.id.to_string(),
            "event_id": c.event.id,
            "event_type": c.event.event_type,
            "attempts": c.attempts + 1,
            "last_status": sent.status,
            "last_error": sent.error,
        }),
    )
}

/// Disables the endpoint of `c` and announces it, unless it was disabled meanwhile.
async fn disable(shared: &Arc<Shared>, c: &Claimed, reason: String, now: i64) {
    let event = Event::new(
        "endpoint.disabled",
        json!({"hook": c.hook, "reason": reason}),
    );
    match shared
        .store
        .disable_endpoint(c.hook_id, now, outbox::stage(shared, [event]))
        .await
    {
        Ok(Some(hook)) => {
            tracing::warn!(hook = %c.hook, "outgoing hook disabled: {reason}");
            shared.registry.upsert(hook);
        }
        Ok(None) => {}
        Err(e) => tracing::error!(hook = %c.hook, "cannot disable the outgoing hook: {e}"),
    }
}
