//! Script run rows: queued → running → success/failed/timeout, or interrupted by a restart.
//!
//! An async run is stored as `queued` together with its request before the caller gets 202, so
//! a restart can still run it. A sync run is stored when it starts: if the daemon dies, nobody
//! is left waiting for it, so at start-up it is marked `interrupted` rather than run again.
//! Every run keeps its request (for `runs rerun`) until the run itself is pruned. A cancelled
//! run is `cancelled`, with the uid that asked in `cancelled_by`.

use crate::proto::RunView;
use crate::run::{Invocation, Outcome};
use crate::store::rows::RunRow;
use crate::store::{NewRun, QueuedRun, Result, RunFilter, StoreError, StoredRequest};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Stores a run with its encoded request: `queued` (async) or `running` from `at` (sync).
pub fn insert(conn: &Connection, run: &NewRun, request: &[u8], queued: bool) -> Result<i64> {
    let (status, started) = match queued {
        true => ("queued", None),
        false => ("running", Some(run.at)),
    };
    conn.prepare_cached(
        "INSERT INTO runs (hook_id, hook, status, queued_at, started_at, request, rerun_of)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        run.hook_id,
        run.hook,
        status,
        run.at,
        started,
        request,
        run.rerun_of
    ])?;
    Ok(conn.last_insert_rowid())
}

pub fn mark_running(conn: &Connection, id: i64, at: i64) -> Result<()> {
    conn.prepare_cached("UPDATE runs SET status = 'running', started_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

pub fn finish(conn: &Connection, id: i64, o: &Outcome) -> Result<()> {
    conn.prepare_cached(
        "UPDATE runs SET status = ?2, exit_code = ?3, started_at = ?4, finished_at = ?5, stdout = ?6, stderr = ?7,
                         cancelled_by = ?8
         WHERE id = ?1",
    )?
    .execute(params![id, o.status.as_str(), o.exit_code, o.started_at, o.started_at + o.duration_ms, o.stdout, o.stderr, o.cancelled_by])?;
    Ok(())
}

/// A queued run cancelled before it started; false when it was no longer queued.
pub fn cancel_queued(conn: &Connection, id: i64, at: i64, uid: Option<u32>) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE runs SET status = 'cancelled', finished_at = ?2, cancelled_by = ?3
             WHERE id = ?1 AND status = 'queued'",
        )?
        .execute(params![id, at, uid])?
        > 0)
}

/// The request a run was started with, if the run still exists.
pub fn request(conn: &Connection, id: i64) -> Result<Option<StoredRequest>> {
    let row = conn
        .prepare_cached("SELECT hook_id, request FROM runs WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })
        .optional()?;
    let Some((hook_id, request)) = row else {
        return Ok(None);
    };
    let inv = match request {
        Some(bytes) => {
            Some(serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        }
        None => None,
    };
    Ok(Some(StoredRequest { hook_id, inv }))
}

/// At start-up: runs that were running when the daemon died are `interrupted`; the queued async
/// runs are returned (oldest first) to be run now.
pub fn recover(conn: &Connection, now: i64) -> Result<Vec<QueuedRun>> {
    conn.execute(
        "UPDATE runs SET status = 'interrupted', finished_at = ?1 WHERE status = 'running'",
        [now],
    )?;
    let mut stmt =
        conn.prepare("SELECT id, hook_id, request FROM runs WHERE status = 'queued' ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, hook_id, request) = row?;
        match request.as_deref().map(serde_json::from_slice::<Invocation>) {
            Some(Ok(inv)) => out.push(QueuedRun { id, hook_id, inv }),
            _ => {
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
            }
        }
    }
    Ok(out)
}

/// Marks a queued run whose hook is gone or disabled as interrupted.
pub fn abandon(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE runs SET status = 'interrupted', finished_at = ?2, request = NULL WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

fn view(r: &Row, with_output: bool) -> rusqlite::Result<RunView> {
    Ok(RunRow {
        id: r.get(0)?,
        hook: r.get(1)?,
        status: r.get(2)?,
        exit_code: r.get(3)?,
        queued_at: r.get(4)?,
        started_at: r.get(5)?,
        finished_at: r.get(6)?,
        rerun_of: r.get(7)?,
        cancelled_by: r.get(8)?,
        output: if with_output {
            Some((r.get(9)?, r.get(10)?))
        } else {
            None
        },
    }
    .view())
}

const COLUMNS: &str =
    "id, hook, status, exit_code, queued_at, started_at, finished_at, rerun_of, cancelled_by";

/// Newest first.
pub fn list(conn: &Connection, f: &RunFilter) -> Result<Vec<RunView>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM runs WHERE (?1 IS NULL OR hook_id = ?1) AND (?2 IS NULL OR hook = ?2)
           AND (?4 IS NULL OR status = ?4)
         ORDER BY id DESC LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let status = f.status.map(|s| s.as_str());
    let rows = stmt.query_map(params![f.hook_id, f.hook, f.limit, status], |r| {
        view(r, false)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One run with its output; with `hook_id`, only if it is a run of that hook.
pub fn get(conn: &Connection, id: i64, hook_id: Option<i64>) -> Result<Option<RunView>> {
    let sql = format!(
        "SELECT {COLUMNS}, stdout, stderr FROM runs WHERE id = ?1 AND (?2 IS NULL OR hook_id = ?2)"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![id, hook_id], |r| view(r, true))
        .optional()?)
}

pub fn count_queued(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM runs WHERE status = 'queued'",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}
