//! The outbox on PostgreSQL: events and their deliveries.
//!
//! Same life cycle as the embedded backend's. Claims take due rows with `FOR UPDATE SKIP
//! LOCKED`, so several nodes claiming at once never take the same delivery.

use crate::events::Event;
use crate::proto::{DeliveryView, EndpointView};
use crate::store::rows::{ClaimedRow, DeliveryRow, endpoint_view};
use crate::store::{Attempt, DeliveryFilter, DeliveryStatus, Emitted, Redelivery, Result};
use deadpool_postgres::GenericClient;

/// Stores an event; `data` is its data already serialized.
pub async fn insert_event(c: &impl GenericClient, e: &Event, data: &str) -> Result<()> {
    let stmt = c
        .prepare_cached("INSERT INTO events (id, type, time, data) VALUES ($1, $2, $3, $4)")
        .await?;
    c.execute(&stmt, &[&e.id, &e.event_type, &e.time, &data])
        .await?;
    Ok(())
}

/// A pending delivery of `event_id` to hook `hook_id`, due now.
pub async fn insert_delivery(
    c: &impl GenericClient,
    event_id: &str,
    hook_id: i64,
    hook: &str,
    now: i64,
) -> Result<i64> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO deliveries (event_id, hook_id, hook, status, next_attempt_at, created_at)
             VALUES ($1, $2, $3, 'pending', $4, $4) RETURNING id",
        )
        .await?;
    Ok(c.query_one(&stmt, &[&event_id, &hook_id, &hook, &now])
        .await?
        .get(0))
}

/// Marks up to `limit` due deliveries `sending` and returns them with their events, oldest due
/// first, and when the next pending one is due when fewer than `limit` were due.
pub async fn claim_due(
    c: &impl GenericClient,
    now: i64,
    limit: u32,
    node: &str,
) -> Result<(Vec<ClaimedRow>, Option<i64>)> {
    let stmt = c
        .prepare_cached(
            "WITH claimed AS (
                 UPDATE deliveries d SET status = 'sending', claimed_by = $3
                 FROM (SELECT id FROM deliveries
                       WHERE status = 'pending' AND next_attempt_at <= $1
                       ORDER BY next_attempt_at LIMIT $2
                       FOR UPDATE SKIP LOCKED) due
                 WHERE d.id = due.id
                 RETURNING d.id, d.hook_id, d.hook, d.attempts, d.event_id, d.next_attempt_at)
             SELECT c.id, c.hook_id, c.hook, c.attempts, c.event_id, e.type, e.time, e.data
             FROM claimed c JOIN events e ON e.id = c.event_id
             ORDER BY c.next_attempt_at",
        )
        .await?;
    let rows = c.query(&stmt, &[&now, &i64::from(limit), &node]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(ClaimedRow {
            id: r.try_get(0)?,
            hook_id: r.try_get(1)?,
            hook: r.try_get(2)?,
            attempts: r.try_get::<_, i32>(3)? as u32,
            event_id: r.try_get(4)?,
            event_type: r.try_get(5)?,
            time: r.try_get(6)?,
            data: r.try_get(7)?,
        });
    }
    let next = if out.len() < limit as usize {
        next_due(c).await?
    } else {
        None
    };
    Ok((out, next))
}

pub async fn record_attempt(c: &impl GenericClient, id: i64, a: &Attempt) -> Result<()> {
    let finished = (a.status != DeliveryStatus::Pending).then_some(a.at);
    let stmt = c
        .prepare_cached(
            "UPDATE deliveries SET status = $2, attempts = attempts + 1, last_status = $3,
                                   last_error = $4, next_attempt_at = $5, finished_at = $6,
                                   claimed_by = NULL, slot = NULL
             WHERE id = $1",
        )
        .await?;
    c.execute(
        &stmt,
        &[
            &id,
            &a.status.as_str(),
            &a.http_status.map(i32::from),
            &a.error,
            &a.next_attempt_at,
            &finished,
        ],
    )
    .await?;
    Ok(())
}

/// When the next pending delivery is due, if any.
pub async fn next_due(c: &impl GenericClient) -> Result<Option<i64>> {
    let stmt = c
        .prepare_cached("SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending'")
        .await?;
    Ok(c.query_one(&stmt, &[]).await?.try_get(0)?)
}

pub async fn count_pending(c: &impl GenericClient) -> Result<u64> {
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')",
            &[],
        )
        .await?
        .get(0);
    Ok(n as u64)
}

/// Sends a stored delivery again, now.
pub async fn redeliver(c: &impl GenericClient, id: i64, now: i64) -> Result<Redelivery> {
    let row = c
        .query_opt(
            "SELECT status, hook FROM deliveries WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Redelivery::NotFound);
    };
    let status: String = row.try_get(0)?;
    if status == "sending" {
        return Ok(Redelivery::InFlight);
    }
    c.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $2, finished_at = NULL
         WHERE id = $1",
        &[&id, &now],
    )
    .await?;
    Ok(Redelivery::Queued(row.try_get(1)?))
}

/// Outgoing hooks with deliveries pending or being sent, or with failing attempts.
pub async fn endpoints(c: &impl GenericClient) -> Result<Vec<EndpointView>> {
    let rows = c
        .query(
            "SELECT h.name, coalesce(b.n, 0), h.failing_since
             FROM hooks h
             LEFT JOIN (SELECT hook_id, count(*) AS n FROM deliveries
                        WHERE status IN ('pending', 'sending') GROUP BY hook_id) b
                    ON b.hook_id = h.id
             WHERE h.kind = 'outgoing' AND (b.n > 0 OR h.failing_since IS NOT NULL)
             ORDER BY h.name",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(endpoint_view(
                r.try_get(0)?,
                r.try_get::<_, i64>(1)? as u64,
                r.try_get(2)?,
            ))
        })
        .collect()
}

/// Claimed deliveries back to pending, each due at its instant.
pub async fn defer(c: &impl GenericClient, deferred: &[(i64, i64)]) -> Result<()> {
    if deferred.is_empty() {
        return Ok(());
    }
    // Rows are locked in id order, so two nodes deferring at once wait rather than deadlock.
    let mut deferred = deferred.to_vec();
    deferred.sort_unstable();
    let (ids, ats): (Vec<i64>, Vec<i64>) = deferred.into_iter().unzip();
    c.execute(
        "UPDATE deliveries d SET status = 'pending', next_attempt_at = v.at, claimed_by = NULL
         FROM unnest($1::BIGINT[], $2::BIGINT[]) AS v(id, at)
         WHERE d.id = v.id AND d.status = 'sending'",
        &[&ids, &ats],
    )
    .await?;
    Ok(())
}

/// A hook's pending deliveries due before `until`, due at `until`.
pub async fn park(c: &impl GenericClient, hook_id: i64, until: i64) -> Result<()> {
    c.execute(
        "UPDATE deliveries d SET next_attempt_at = $2
         FROM (SELECT id FROM deliveries
               WHERE hook_id = $1 AND status = 'pending' AND next_attempt_at < $2
               ORDER BY id FOR UPDATE SKIP LOCKED) p
         WHERE d.id = p.id",
        &[&hook_id, &until],
    )
    .await?;
    Ok(())
}

/// A hook's pending deliveries due later than `at`, due at `at`.
pub async fn release(c: &impl GenericClient, hook_id: i64, at: i64) -> Result<u64> {
    Ok(c.execute(
        "UPDATE deliveries d SET next_attempt_at = $2
         FROM (SELECT id FROM deliveries
               WHERE hook_id = $1 AND status = 'pending' AND next_attempt_at > $2
               ORDER BY id FOR UPDATE) r
         WHERE d.id = r.id",
        &[&hook_id, &at],
    )
    .await?)
}

/// Failed deliveries (of `hook`, last attempt at or after `since`) back to pending, due `now`.
pub async fn redeliver_failed(
    c: &impl GenericClient,
    hook: Option<&str>,
    since: Option<i64>,
    now: i64,
) -> Result<u64> {
    Ok(c.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $3, finished_at = NULL
         WHERE status = 'failed' AND ($1::TEXT IS NULL OR hook = $1)
           AND ($2::BIGINT IS NULL OR coalesce(finished_at, created_at) >= $2)",
        &[&hook, &since, &now],
    )
    .await?)
}

/// Takes one specific pending delivery for sending right now (`hookctl test`).
pub async fn claim_one(c: &impl GenericClient, id: i64, node: &str) -> Result<bool> {
    Ok(c.execute(
        "UPDATE deliveries SET status = 'sending', claimed_by = $2
         WHERE id = $1 AND status = 'pending'",
        &[&id, &node],
    )
    .await?
        == 1)
}

/// Newest first.
pub async fn list(c: &impl GenericClient, f: &DeliveryFilter) -> Result<Vec<DeliveryView>> {
    let status = f.status.map(DeliveryStatus::as_str);
    let stmt = c
        .prepare_cached(
            "SELECT d.id, d.hook, d.event_id, e.type, d.status, d.attempts, d.last_status,
                    d.last_error, d.next_attempt_at, d.created_at
             FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE ($1::TEXT IS NULL OR d.hook = $1)
               AND ($2::TEXT IS NULL OR d.status = $2 OR ($2 = 'pending' AND d.status = 'sending'))
             ORDER BY d.id DESC LIMIT $3",
        )
        .await?;
    let rows = c
        .query(&stmt, &[&f.hook, &status, &i64::from(f.limit)])
        .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.try_get(0)?,
                hook: r.try_get(1)?,
                event_id: r.try_get(2)?,
                event_type: r.try_get(3)?,
                status: r.try_get(4)?,
                attempts: r.try_get::<_, i32>(5)? as u32,
                last_status: r.try_get::<_, Option<i32>>(6)?.map(|s| s as u16),
                last_error: r.try_get(7)?,
                next_attempt_at: r.try_get(8)?,
                created_at: r.try_get(9)?,
            }
            .view())
        })
        .collect()
}

/// Remembers when an endpoint started failing (kept on later failures, cleared by a success).
pub async fn set_failing_since(
    c: &impl GenericClient,
    hook_id: i64,
    failing: Option<i64>,
) -> Result<Option<i64>> {
    match failing {
        None => {
            c.execute(
                "UPDATE hooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
                &[&hook_id],
            )
            .await?;
            Ok(None)
        }
        Some(now) => {
            let row = c
                .query_opt(
                    "UPDATE hooks SET failing_since = coalesce(failing_since, $2) WHERE id = $1
                     RETURNING failing_since",
                    &[&hook_id, &now],
                )
                .await?;
            Ok(match row {
                Some(r) => r.try_get(0)?,
                None => None,
            })
        }
    }
}

/// Deletes events (and their deliveries) older than `cutoff` whose deliveries are all done.
pub async fn prune(c: &impl GenericClient, cutoff: i64) -> Result<u64> {
    Ok(c.execute(
        "DELETE FROM events WHERE time < $1
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.event_id = events.id AND d.status IN ('pending', 'sending'))",
        &[&cutoff],
    )
    .await?)
}

/// The event an idempotency key made at or after `since`.
pub async fn emitted(c: &impl GenericClient, key: &str, since: i64) -> Result<Option<Emitted>> {
    let row = c
        .query_opt(
            "SELECT event_id, deliveries FROM emit_keys WHERE key = $1 AND time >= $2",
            &[&key, &since],
        )
        .await?;
    row.map(|r| {
        Ok(Emitted {
            id: r.try_get(0)?,
            deliveries: r.try_get::<_, i64>(1)? as u64,
            duplicate: true,
        })
    })
    .transpose()
}

/// Records the event a key made (replacing a use of it that has expired).
pub async fn remember_key(
    c: &impl GenericClient,
    key: &str,
    event_id: &str,
    deliveries: u64,
    at: i64,
) -> Result<()> {
    c.execute(
        "INSERT INTO emit_keys (key, event_id, deliveries, time) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET event_id = EXCLUDED.event_id,
             deliveries = EXCLUDED.deliveries, time = EXCLUDED.time",
        &[&key, &event_id, &(deliveries as i64), &at],
    )
    .await?;
    Ok(())
}

pub async fn prune_keys(c: &impl GenericClient, cutoff: i64) -> Result<u64> {
    Ok(
        c.execute("DELETE FROM emit_keys WHERE time < $1", &[&cutoff])
            .await?,
    )
}

/// The `--rate` slots of deliveries `ids` (in that order): the one each holds, else hook
/// `hook_id`'s next free ones (the hook's slots are `spacing_ms` apart, never earlier than
/// `now`), which each then holds until its attempt is recorded. A held slot more than
/// `spacing_ms` past has lapsed (the delivery was held up, say behind a failing endpoint's
/// probe) and is replaced, so deliveries held up together never go together.
pub async fn rate_slots(
    c: &mut deadpool_postgres::Object,
    (hook_id, ids): (i64, &[i64]),
    spacing_ms: i64,
    now: i64,
) -> Result<Vec<i64>> {
    let tx = c.transaction().await?;
    let held: std::collections::HashMap<i64, i64> = tx
        .query(
            "SELECT id, slot FROM deliveries WHERE id = ANY($1) AND slot >= $2
             ORDER BY id FOR UPDATE",
            &[&ids, &(now - spacing_ms)],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let wanted = ids.iter().filter(|id| !held.contains_key(id)).count() as i64;
    let mut next = 0;
    if wanted > 0 {
        let span = wanted * spacing_ms;
        next = tx
            .query_one(
                "INSERT INTO rate_slots (hook_id, next_free) VALUES ($1, $2::BIGINT + $3::BIGINT)
                 ON CONFLICT (hook_id) DO UPDATE
                     SET next_free = GREATEST(rate_slots.next_free, $2::BIGINT) + $3::BIGINT
                 RETURNING next_free - $3::BIGINT",
                &[&hook_id, &now, &span],
            )
            .await?
            .get(0);
    }
    let mut slots = Vec::with_capacity(ids.len());
    let mut taken: (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for id in ids {
        match held.get(id) {
            Some(slot) => slots.push(*slot),
            None => {
                slots.push(next);
                taken.0.push(*id);
                taken.1.push(next);
                next += spacing_ms;
            }
        }
    }
    if !taken.0.is_empty() {
        tx.execute(
            "UPDATE deliveries d SET slot = s.slot
             FROM unnest($1::BIGINT[], $2::BIGINT[]) AS s (id, slot) WHERE d.id = s.id",
            &[&taken.0, &taken.1],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(slots)
}
