//! Log entries: every incoming call, outgoing attempt and management action.
//!
//! Entries are appended, never edited, and pruned by age (`log_retention`). Readers get rows
//! back in the protocol's view shape.

use crate::store::{Direction, NewLog, Result};
use rusqlite::{Connection, params};

pub fn insert(conn: &Connection, l: &NewLog) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO logs (time, direction, hook, method, url, status, error, duration_ms, remote_addr,
                           run_id, delivery_id, attempt, uid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        l.time,
        l.direction.as_str(),
        l.hook,
        l.method,
        l.url,
        l.status,
        l.error,
        l.duration_ms,
        l.remote_addr,
        l.run_id,
        l.delivery_id,
        l.attempt,
        l.uid
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The newest `limit` entries matching `q`, returned oldest first (the way `tail` shows them).
pub fn query(conn: &Connection, q: &crate::proto::LogQuery) -> Result<Vec<crate::proto::LogView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, time, direction, hook, method, url, status, error, duration_ms, remote_addr, run_id,
                delivery_id, attempt, uid
         FROM logs
         WHERE (?1 IS NULL OR hook = ?1) AND (?2 IS NULL OR direction = ?2) AND (?3 IS NULL OR time >= ?3)
           AND (?4 = 0 OR status >= 400 OR (status IS NULL AND error IS NOT NULL))
         ORDER BY id DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![q.hook, q.direction, q.since_ms, q.failed, q.limit],
        |r| {
            let direction: String = r.get(2)?;
            let entry = NewLog {
                time: r.get(1)?,
                direction: Direction::parse(&direction).unwrap_or(Direction::Admin),
                hook: r.get(3)?,
                method: r.get(4)?,
                url: r.get(5)?,
                status: r.get(6)?,
                error: r.get(7)?,
                duration_ms: r.get(8)?,
                remote_addr: r.get(9)?,
                run_id: r.get(10)?,
                delivery_id: r.get(11)?,
                attempt: r.get(12)?,
                uid: r.get(13)?,
            };
            Ok(entry.view(r.get(0)?))
        },
    )?;
    let mut out: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// Deletes log entries and finished runs older than `cutoff`; returns how many rows went.
pub fn prune(conn: &Connection, cutoff: i64) -> Result<usize> {
    let logs = conn.execute("DELETE FROM logs WHERE time < ?1", [cutoff])?;
    let runs = conn.execute(
        "DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?1",
        [cutoff],
    )?;
    Ok(logs + runs)
}
