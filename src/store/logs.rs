//! Log entries: every incoming call, outgoing attempt and management action.
//!
//! Entries are appended, never edited, and pruned by age (`log_retention`). The entry type is
//! [`crate::proto`]-free on purpose: the daemon fills [`NewLog`], readers get rows back in the
//! protocol's view shape.

use super::Result;
use rusqlite::{Connection, params};

/// A log entry about to be written. Fields that do not apply stay `None`.
#[derive(Debug, Clone, Default)]
pub struct NewLog {
    pub time: i64,
    /// `in`, `out` or `admin`.
    pub direction: &'static str,
    pub hook: Option<String>,
    /// HTTP method, or for admin entries the action (`create`, `delete`, …).
    pub method: Option<String>,
    /// Incoming: the path with the token redacted. Outgoing: the URL without credentials.
    pub url: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub remote_addr: Option<String>,
    pub run_id: Option<i64>,
    pub delivery_id: Option<String>,
    pub attempt: Option<u32>,
    pub uid: Option<u32>,
}

pub fn insert(conn: &Connection, l: &NewLog) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO logs (time, direction, hook, method, url, status, error, duration_ms, remote_addr,
                           run_id, delivery_id, attempt, uid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        l.time,
        l.direction,
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

pub fn view(id: i64, l: &NewLog) -> crate::proto::LogView {
    crate::proto::LogView {
        id: id.to_string(),
        time: crate::time::rfc3339(l.time),
        direction: l.direction.to_string(),
        hook: l.hook.clone(),
        method: l.method.clone(),
        url: l.url.clone(),
        status: l.status,
        error: l.error.clone(),
        duration_ms: l.duration_ms,
        remote_addr: l.remote_addr.clone(),
        run_id: l.run_id.map(|r| r.to_string()),
        delivery_id: l.delivery_id.clone(),
        attempt: l.attempt,
        uid: l.uid,
    }
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
                direction: match direction.as_str() {
                    "in" => "in",
                    "out" => "out",
                    _ => "admin",
                },
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
            Ok(view(r.get(0)?, &entry))
        },
    )?;
    let mut out: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// Whether an entry passes the filters of `q` (for streamed entries).
pub fn matches(q: &crate::proto::LogQuery, l: &crate::proto::LogView) -> bool {
    q.hook.as_ref().is_none_or(|h| l.hook.as_ref() == Some(h))
        && q.direction.as_ref().is_none_or(|d| &l.direction == d)
        && (!q.failed
            || l.status.is_some_and(|s| s >= 400)
            || (l.status.is_none() && l.error.is_some()))
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
