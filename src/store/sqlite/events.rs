//! The outbox: events and their deliveries.
//!
//! Invariants: an event and all its delivery rows are written in the transaction of whatever
//! caused them, before that cause is acknowledged. A delivery moves pending → sending → pending
//! (retry) / succeeded / failed; `sending` rows found at start-up belong to a dead process and go
//! back to pending, so every accepted event is delivered at least once.

use crate::events::Event;
use crate::proto::{DeliveryView, EndpointView};
use crate::store::rows::{ClaimedRow, DeliveryRow, endpoint_view};
use crate::store::{
    Attempt, DeliveryFilter, DeliveryStatus, Emitted, Redelivery, Result, StoreError,
};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores an event; `data` is its data already serialized (outside the database thread).
pub fn insert_event(conn: &Connection, e: &Event, data: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO events (id, type, time, data) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![e.id, e.event_type, e.time, data])?;
    Ok(())
}

/// A delivery of `event_id` to hook `hook_id`, due now: pending, or already claimed
/// (`sending`) when it is handed to the worker in memory.
pub fn insert_delivery(
    conn: &Connection,
    (event_id, hook_id, hook): (&str, i64, &str),
    now: i64,
    claimed: bool,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO deliveries (event_id, hook_id, hook, status, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?5, ?4, ?4)",
    )?
    .execute(params![
        event_id,
        hook_id,
        hook,
        now,
        if claimed { "sending" } else { "pending" }
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Marks up to `limit` due deliveries `sending` and returns them, oldest due first, with the
/// time the next pending one is due when fewer than `limit` were due (one job for the worker's
/// whole round).
pub fn claim_due(
    conn: &Connection,
    now: i64,
    limit: u32,
) -> Result<(Vec<ClaimedRow>, Option<i64>)> {
    let mut stmt = conn.prepare_cached(
        "UPDATE deliveries SET status = 'sending'
         WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?1
                      ORDER BY next_attempt_at LIMIT ?2)
         RETURNING id, hook_id, hook, attempts, event_id",
    )?;
    let rows: Vec<(i64, i64, String, u32, String)> = stmt
        .query_map(params![now, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut event = conn.prepare_cached("SELECT type, time, data FROM events WHERE id = ?1")?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, hook_id, hook, attempts, event_id) in rows {
        let (event_type, time, data) = event
            .query_row([&event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("delivery {id} has no event {event_id}")))?;
        out.push(ClaimedRow {
            id,
            hook_id,
            hook,
            attempts,
            event_id,
            event_type,
            time,
            data,
        });
    }
    let next = if out.len() < limit as usize {
        next_due(conn)?
    } else {
        None
    };
    Ok((out, next))
}

pub fn record_attempt(conn: &Connection, id: i64, a: &Attempt) -> Result<()> {
    let finished = (a.status != DeliveryStatus::Pending).then_some(a.at);
    conn.prepare_cached(
        "UPDATE deliveries SET status = ?2, attempts = attempts + 1, last_status = ?3, last_error = ?4,
                               next_attempt_at = ?5, finished_at = ?6
         WHERE id = ?1",
    )?
    .execute(params![id, a.status.as_str(), a.http_status, a.error, a.next_attempt_at, finished])?;
    Ok(())
}

/// At start-up: deliveries a dead process was sending are due again.
pub fn reset_in_flight(conn: &Connection) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE deliveries SET status = 'pending' WHERE status = 'sending'",
        [],
    )?)
}

/// When the next pending delivery is due, if any.
pub fn next_due(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?)
}

pub fn count_pending(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// Sends a stored delivery again, now.
pub fn redeliver(conn: &Connection, id: i64, now: i64) -> Result<Redelivery> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT status, hook FROM deliveries WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(Redelivery::NotFound),
        Some((status, _)) if status == "sending" => Ok(Redelivery::InFlight),
        Some((_, hook)) => {
            conn.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, finished_at = NULL WHERE id = ?1",
                params![id, now],
            )?;
            Ok(Redelivery::Queued(hook))
        }
    }
}

/// Outgoing hooks with deliveries pending or being sent, or with failing attempts.
pub fn endpoints(conn: &Connection) -> Result<Vec<EndpointView>> {
    let mut stmt = conn.prepare_cached(
        // Pending rows are counted along their partial index, already in hook order: grouping
        // a backlog of millions through a sorter would hold it all in memory (temp_store).
        // Rows being sent are few.
        "SELECT h.name, coalesce(p.n, 0) + coalesce(s.n, 0), h.failing_since
         FROM hooks h
         LEFT JOIN (SELECT hook_id, count(*) AS n FROM deliveries
                    WHERE status = 'pending' GROUP BY hook_id) p ON p.hook_id = h.id
         LEFT JOIN (SELECT hook_id, count(*) AS n FROM deliveries
                    WHERE status = 'sending' GROUP BY hook_id) s ON s.hook_id = h.id
         WHERE h.kind = 'outgoing' AND (p.n > 0 OR s.n > 0 OR h.failing_since IS NOT NULL)
         ORDER BY h.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(endpoint_view(
            r.get(0)?,
            r.get::<_, i64>(1)? as u64,
            r.get(2)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Claimed deliveries back to pending, each due at its instant.
pub fn defer(conn: &Connection, deferred: &[(i64, i64)]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2
         WHERE id = ?1 AND status = 'sending'",
    )?;
    for (id, at) in deferred {
        stmt.execute(params![id, at])?;
    }
    Ok(())
}

/// A hook's pending deliveries due before `until`, due at `until`.
pub fn park(conn: &Connection, hook_id: i64, until: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = ?2
         WHERE hook_id = ?1 AND status = 'pending' AND next_attempt_at < ?2",
    )?
    .execute(params![hook_id, until])?;
    Ok(())
}

/// A hook's pending deliveries due later than `at`, due at `at`.
pub fn release(conn: &Connection, hook_id: i64, at: i64) -> Result<u64> {
    Ok(conn.execute(
        "UPDATE deliveries SET next_attempt_at = ?2
         WHERE hook_id = ?1 AND status = 'pending' AND next_attempt_at > ?2",
        params![hook_id, at],
    )? as u64)
}

/// Failed deliveries (of `hook`, last attempt at or after `since`) back to pending, due `now`.
pub fn redeliver_failed(
    conn: &Connection,
    hook: Option<&str>,
    since: Option<i64>,
    now: i64,
) -> Result<u64> {
    Ok(conn.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?3, finished_at = NULL
         WHERE status = 'failed' AND (?1 IS NULL OR hook = ?1)
           AND (?2 IS NULL OR coalesce(finished_at, created_at) >= ?2)",
        params![hook, since, now],
    )? as u64)
}

/// Takes one specific pending delivery for sending right now (`hookctl test`).
pub fn claim_one(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE deliveries SET status = 'sending' WHERE id = ?1 AND status = 'pending'",
        [id],
    )? == 1)
}

/// Newest first.
pub fn list(conn: &Connection, f: &DeliveryFilter) -> Result<Vec<DeliveryView>> {
    let status = f.status.map(DeliveryStatus::as_str);
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.hook, d.event_id, e.type, d.status, d.attempts, d.last_status, d.last_error,
                d.next_attempt_at, d.created_at
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE (?1 IS NULL OR d.hook = ?1)
           AND (?2 IS NULL OR d.status = ?2 OR (?2 = 'pending' AND d.status = 'sending'))
         ORDER BY d.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![f.hook, status, f.limit], |r| {
        Ok(DeliveryRow {
            id: r.get(0)?,
            hook: r.get(1)?,
            event_id: r.get(2)?,
            event_type: r.get(3)?,
            status: r.get(4)?,
            attempts: r.get(5)?,
            last_status: r.get(6)?,
            last_error: r.get(7)?,
            next_attempt_at: r.get(8)?,
            created_at: r.get(9)?,
        }
        .view())
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Remembers when an endpoint started failing (kept on later failures, cleared by a success).
pub fn set_failing_since(
    conn: &Connection,
    hook_id: i64,
    failing: Option<i64>,
) -> Result<Option<i64>> {
    match failing {
        None => {
            // Only a failing hook's row changes: a success at a healthy endpoint writes nothing.
            conn.prepare_cached(
                "UPDATE hooks SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL",
            )?
            .execute([hook_id])?;
            Ok(None)
        }
        Some(now) => {
            conn.prepare_cached(
                "UPDATE hooks SET failing_since = coalesce(failing_since, ?2) WHERE id = ?1",
            )?
            .execute(params![hook_id, now])?;
            Ok(conn
                .query_row(
                    "SELECT failing_since FROM hooks WHERE id = ?1",
                    [hook_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten())
        }
    }
}

/// Deletes events (and their deliveries) older than `cutoff` whose deliveries are all done.
pub fn prune(conn: &Connection, cutoff: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM events WHERE time < ?1
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status IN ('pending', 'sending'))",
        [cutoff],
    )?)
}

/// The event an idempotency key made at or after `since`.
pub fn emitted(conn: &Connection, key: &str, since: i64) -> Result<Option<Emitted>> {
    Ok(conn
        .prepare_cached("SELECT event_id, deliveries FROM emit_keys WHERE key = ?1 AND time >= ?2")?
        .query_row(params![key, since], |r| {
            Ok(Emitted {
                id: r.get(0)?,
                deliveries: r.get::<_, i64>(1)? as u64,
                duplicate: true,
            })
        })
        .optional()?)
}

/// Records the event a key made (replacing a use of it that has expired).
pub fn remember_key(
    conn: &Connection,
    key: &str,
    event_id: &str,
    deliveries: u64,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO emit_keys (key, event_id, deliveries, time) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![key, event_id, deliveries as i64, at])?;
    Ok(())
}

pub fn prune_keys(conn: &Connection, cutoff: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM emit_keys WHERE time < ?1", [cutoff])?)
}
