//! Hook rows: insert, fetch, update, delete, and call accounting.
//!
//! Options are stored as one JSON column so new options need no migration; everything queried
//! by (name, token hash) or shown in listings has its own column. Functions take a connection or
//! transaction and are called from the store's owner thread.

use crate::hook::Hook;
use crate::proto::HookKind;
use crate::store::rows::{self, HookRow};
use crate::store::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str = "id, name, kind, description, enabled, token_hash, token_prefix, options, \
                       call_count, last_call_at, last_status, created_at, updated_at, revision, \
                       options_format, failing_since";

fn from_row(r: &Row) -> rusqlite::Result<std::result::Result<Hook, String>> {
    Ok(HookRow {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        description: r.get(3)?,
        enabled: r.get(4)?,
        token_hash: r.get(5)?,
        token_prefix: r.get(6)?,
        options: r.get(7)?,
        call_count: r.get(8)?,
        last_call_at: r.get(9)?,
        last_status: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        revision: r.get(13)?,
        options_format: r.get(14)?,
        failing_since: r.get(15)?,
    }
    .into_hook())
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<Hook>> {
    let sql = format!("SELECT {COLUMNS} FROM hooks WHERE name = ?1");
    match conn
        .prepare_cached(&sql)?
        .query_row([name], from_row)
        .optional()?
    {
        None => Ok(None),
        Some(r) => r.map(Some).map_err(StoreError::Corrupt),
    }
}

pub fn list(conn: &Connection, kind: Option<HookKind>) -> Result<Vec<Hook>> {
    list_map(conn, kind, Ok)
}

/// Like [`list`], turning each hook into `T` as it is read, so a large listing never holds
/// every `Hook` at once.
pub fn list_map<T>(
    conn: &Connection,
    kind: Option<HookKind>,
    mut f: impl FnMut(Hook) -> Result<T>,
) -> Result<Vec<T>> {
    let kind = kind.map(HookKind::as_str);
    // Sized up front: grown by doubling, a list of 10,000 views would briefly hold room for
    // 24,576 of them (the old buffer and the new) where 10,000 will do.
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM hooks WHERE ?1 IS NULL OR kind = ?1")?
        .query_row([kind], |r| r.get(0))?;
    let sql = format!("SELECT {COLUMNS} FROM hooks WHERE ?1 IS NULL OR kind = ?1 ORDER BY name");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([kind], from_row)?;
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for row in rows {
        out.push(f(row?.map_err(StoreError::Corrupt)?)?);
    }
    Ok(out)
}

/// Inserts a new hook; `Ok(None)` when the name is taken.
pub fn insert(conn: &Connection, h: &Hook) -> Result<Option<i64>> {
    let options = rows::stored(h)?;
    let res = conn.prepare_cached(
        "INSERT INTO hooks (name, kind, description, enabled, token_hash, token_prefix, options, created_at, updated_at,
                            options_format)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        h.name,
        h.kind.as_str(),
        h.description,
        h.enabled,
        h.token_hash.as_ref().map(|x| x.as_slice()),
        h.token_prefix,
        options,
        h.created_at,
        h.updated_at,
        rows::FORMAT
    ]);
    match res {
        Ok(_) => Ok(Some(conn.last_insert_rowid())),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes back everything an admin can change, if the stored row is still at `h.revision`
/// ([`StoreError::Conflict`] otherwise); the revision goes one up.
pub fn update(conn: &Connection, h: &Hook) -> Result<()> {
    let options = rows::stored(h)?;
    let n = conn
        .prepare_cached(
            "UPDATE hooks SET description = ?2, enabled = ?3, token_hash = ?4, token_prefix = ?5,
                          options = ?6, updated_at = ?7, revision = revision + 1
             WHERE id = ?1 AND revision = ?8",
        )?
        .execute(params![
            h.id,
            h.description,
            h.enabled,
            h.token_hash.as_ref().map(|x| x.as_slice()),
            h.token_prefix,
            options,
            h.updated_at,
            h.revision
        ])?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Deletes the hook `h` as read (same id and revision; [`StoreError::Conflict`] otherwise).
pub fn delete(conn: &Connection, h: &Hook) -> Result<()> {
    let n = conn
        .prepare_cached("DELETE FROM hooks WHERE id = ?1 AND revision = ?2")?
        .execute(params![h.id, h.revision])?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Counts a call and remembers how it was answered.
/// Counts a call of hook `id`. The counters of a batch are added up here and written by
/// [`flush_calls`] just before the batch commits: one row update per hook and commit, not
/// per call (a hook's row holds its options, and every update rewrites it).
pub fn record_call(id: i64, at: i64, status: u16) {
    CALLS.with(|calls| {
        let mut calls = calls.borrow_mut();
        let c = calls.entry(id).or_insert((0, at, status));
        c.0 += 1;
        if at >= c.1 {
            (c.1, c.2) = (at, status);
        }
    });
}

thread_local! {
    /// Calls counted in the open batch, by hook: how many, and the last one's time and status.
    /// Only the database thread counts, and only inside a batch.
    static CALLS: std::cell::RefCell<std::collections::HashMap<i64, (i64, i64, u16)>> =
        std::cell::RefCell::default();
}

/// Writes the calls [`record_call`] counted in this batch.
pub fn flush_calls(conn: &Connection) -> Result<()> {
    let calls = CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()));
    for (id, (n, at, status)) in calls {
        conn.prepare_cached(
            "UPDATE hooks SET call_count = call_count + ?2, last_call_at = ?3, last_status = ?4
             WHERE id = ?1",
        )?
        .execute(params![id, n, at, status.to_string()])?;
    }
    Ok(())
}

/// Forgets the calls counted in a batch that was rolled back.
pub fn discard_calls() {
    CALLS.with(|c| c.borrow_mut().clear());
}

/// Remembers a sender's delivery id; false when the same id was seen for this hook since
/// `since` (a replay).
pub fn first_delivery(
    conn: &Connection,
    hook_id: i64,
    delivery_id: &str,
    now: i64,
    since: i64,
) -> Result<bool> {
    let seen: Option<i64> = conn
        .prepare_cached("SELECT time FROM seen_deliveries WHERE hook_id = ?1 AND delivery_id = ?2")?
        .query_row(params![hook_id, delivery_id], |r| r.get(0))
        .optional()?;
    if seen.is_some_and(|t| t >= since) {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO seen_deliveries (hook_id, delivery_id, time) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![hook_id, delivery_id, now])?;
    Ok(true)
}

pub fn prune_seen(conn: &Connection, cutoff: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM seen_deliveries WHERE time < ?1", [cutoff])?)
}

pub fn count(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT count(*) FROM hooks", [], |r| r.get::<_, i64>(0))? as u64)
}

pub fn get_by_id(conn: &Connection, id: i64) -> Result<Option<Hook>> {
    let sql = format!("SELECT {COLUMNS} FROM hooks WHERE id = ?1");
    match conn
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?
    {
        None => Ok(None),
        Some(r) => r.map(Some).map_err(StoreError::Corrupt),
    }
}

/// Disables a hook on hookd's own initiative (an endpoint that is gone or keeps failing).
pub fn disable(conn: &Connection, id: i64, at: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE hooks SET enabled = 0, updated_at = ?2, revision = revision + 1
             WHERE id = ?1 AND enabled = 1",
        )?
        .execute(params![id, at])?
        > 0)
}
