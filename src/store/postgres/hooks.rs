//! Hook rows on PostgreSQL: insert, fetch, update, delete, and call accounting.

use crate::hook::Hook;
use crate::proto::HookKind;
use crate::store::rows::{self, HookRow};
use crate::store::{Result, StoreError};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

const COLUMNS: &str = "id, name, kind, description, enabled, token_hash, token_prefix, options, \
                       call_count, last_call_at, last_status, created_at, updated_at, revision, \
                       options_format, failing_since";

fn from_row(r: &Row) -> Result<Hook> {
    HookRow {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        kind: r.try_get(2)?,
        description: r.try_get(3)?,
        enabled: r.try_get(4)?,
        token_hash: r.try_get(5)?,
        token_prefix: r.try_get(6)?,
        options: r.try_get(7)?,
        call_count: r.try_get(8)?,
        last_call_at: r.try_get(9)?,
        last_status: r.try_get(10)?,
        created_at: r.try_get(11)?,
        updated_at: r.try_get(12)?,
        revision: r.try_get(13)?,
        options_format: r.try_get::<_, i32>(14)?.into(),
        failing_since: r.try_get(15)?,
    }
    .into_hook()
    .map_err(StoreError::Corrupt)
}

pub async fn get(c: &impl GenericClient, name: &str) -> Result<Option<Hook>> {
    let sql = format!("SELECT {COLUMNS} FROM hooks WHERE name = $1");
    let stmt = c.prepare_cached(&sql).await?;
    c.query_opt(&stmt, &[&name])
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

pub async fn get_by_id(c: &impl GenericClient, id: i64) -> Result<Option<Hook>> {
    let sql = format!("SELECT {COLUMNS} FROM hooks WHERE id = $1");
    let stmt = c.prepare_cached(&sql).await?;
    c.query_opt(&stmt, &[&id])
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

/// Every hook (of `kind`), by name, each turned into `T` as it is decoded.
pub async fn list_map<T>(
    c: &impl GenericClient,
    kind: Option<HookKind>,
    mut f: impl FnMut(Hook) -> Result<T>,
) -> Result<Vec<T>> {
    let sql =
        format!("SELECT {COLUMNS} FROM hooks WHERE $1::TEXT IS NULL OR kind = $1 ORDER BY name");
    let stmt = c.prepare_cached(&sql).await?;
    let kind = kind.map(HookKind::as_str);
    let rows = c.query(&stmt, &[&kind]).await?;
    rows.iter().map(|r| f(from_row(r)?)).collect()
}

/// Inserts a new hook; `Ok(None)` when the name (or token) is taken.
pub async fn insert(c: &impl GenericClient, h: &Hook) -> Result<Option<i64>> {
    let options = rows::stored(h)?;
    let stmt = c
        .prepare_cached(
            "INSERT INTO hooks (name, kind, description, enabled, token_hash, token_prefix, options,
                                created_at, updated_at, options_format)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .await?;
    let row = c
        .query_opt(
            &stmt,
            &[
                &h.name,
                &h.kind.as_str(),
                &h.description,
                &h.enabled,
                &h.token_hash.as_ref().map(|x| x.as_slice()),
                &h.token_prefix,
                &options,
                &h.created_at,
                &h.updated_at,
                &(rows::FORMAT as i32),
            ],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Writes back everything an admin can change, if the stored row is still at `h.revision`.
pub async fn update(c: &impl GenericClient, h: &Hook) -> Result<()> {
    let options = rows::stored(h)?;
    let stmt = c
        .prepare_cached(
            "UPDATE hooks SET description = $2, enabled = $3, token_hash = $4, token_prefix = $5,
                              options = $6, updated_at = $7, revision = revision + 1
             WHERE id = $1 AND revision = $8",
        )
        .await?;
    let n = c
        .execute(
            &stmt,
            &[
                &h.id,
                &h.description,
                &h.enabled,
                &h.token_hash.as_ref().map(|x| x.as_slice()),
                &h.token_prefix,
                &options,
                &h.updated_at,
                &h.revision,
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Deletes the hook `h` as read (same id and revision; [`StoreError::Conflict`] otherwise).
pub async fn delete(c: &impl GenericClient, h: &Hook) -> Result<()> {
    let stmt = c
        .prepare_cached("DELETE FROM hooks WHERE id = $1 AND revision = $2")
        .await?;
    if c.execute(&stmt, &[&h.id, &h.revision]).await? == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Counts `n` calls and remembers how the last one (at `at`) was answered.
pub async fn count_calls(
    c: &impl GenericClient,
    id: i64,
    n: i64,
    at: i64,
    status: u16,
) -> Result<()> {
    let stmt = c
        .prepare_cached(
            "UPDATE hooks SET call_count = call_count + $2,
                              last_status = CASE WHEN last_call_at IS NULL OR last_call_at <= $3
                                                 THEN $4 ELSE last_status END,
                              last_call_at = greatest(coalesce(last_call_at, $3), $3)
             WHERE id = $1",
        )
        .await?;
    c.execute(&stmt, &[&id, &n, &at, &status.to_string()])
        .await?;
    Ok(())
}

/// Remembers a sender's delivery id; false when the same id was seen for this hook since
/// `since` (a replay). One statement, so two nodes racing on one id cannot both win.
pub async fn first_delivery(
    c: &impl GenericClient,
    hook_id: i64,
    delivery_id: &str,
    now: i64,
    since: i64,
) -> Result<bool> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO seen_deliveries AS s (hook_id, delivery_id, time) VALUES ($1, $2, $3)
             ON CONFLICT (hook_id, delivery_id) DO UPDATE SET time = EXCLUDED.time
             WHERE s.time < $4
             RETURNING 1",
        )
        .await?;
    Ok(c.query_opt(&stmt, &[&hook_id, &delivery_id, &now, &since])
        .await?
        .is_some())
}

pub async fn prune_seen(c: &impl GenericClient, cutoff: i64) -> Result<u64> {
    Ok(
        c.execute("DELETE FROM seen_deliveries WHERE time < $1", &[&cutoff])
            .await?,
    )
}

pub async fn count(c: &impl GenericClient) -> Result<u64> {
    let n: i64 = c.query_one("SELECT count(*) FROM hooks", &[]).await?.get(0);
    Ok(n as u64)
}

/// Disables a hook on hookd's own initiative (an endpoint that is gone or keeps failing).
pub async fn disable(c: &impl GenericClient, id: i64, at: i64) -> Result<bool> {
    Ok(c.execute(
        "UPDATE hooks SET enabled = FALSE, updated_at = $2, revision = revision + 1
         WHERE id = $1 AND enabled",
        &[&id, &at],
    )
    .await?
        > 0)
}

/// Takes a token of a hook's rate limit in one statement (so nodes racing for the last token
/// cannot both get it): the bucket holds up to `calls` tokens and refills at `calls` per
/// `per_secs`; an edited limit starts a full bucket. `Err(seconds)` until the next token.
pub async fn rate_token(
    c: &impl GenericClient,
    hook_id: i64,
    calls: u32,
    per_secs: u32,
    at: i64,
) -> Result<std::result::Result<(), u64>> {
    // `refill`: the tokens the bucket holds now, before this call takes one.
    const REFILL: &str = "least(EXCLUDED.calls::FLOAT8, b.tokens \
        + greatest(EXCLUDED.at - b.at, 0) * EXCLUDED.calls::FLOAT8 / EXCLUDED.per_ms)";
    const EDITED: &str = "(b.calls <> EXCLUDED.calls OR b.per_ms <> EXCLUDED.per_ms)";
    let sql = format!(
        "INSERT INTO rate_buckets AS b (hook_id, calls, per_ms, tokens, at, taken)
         VALUES ($1, $2::INTEGER, $3, $2::INTEGER - 1, $4, TRUE)
         ON CONFLICT (hook_id) DO UPDATE SET
             tokens = CASE WHEN {EDITED} THEN EXCLUDED.calls::FLOAT8 - 1
                           WHEN {REFILL} >= 1 THEN {REFILL} - 1
                           ELSE {REFILL} END,
             taken = {EDITED} OR {REFILL} >= 1,
             calls = EXCLUDED.calls, per_ms = EXCLUDED.per_ms,
             at = greatest(b.at, EXCLUDED.at)
         RETURNING taken, tokens"
    );
    let stmt = c.prepare_cached(&sql).await?;
    let per_ms = i64::from(per_secs) * 1000;
    let row = c
        .query_one(&stmt, &[&hook_id, &(calls as i32), &per_ms, &at])
        .await?;
    if row.try_get::<_, bool>(0)? {
        return Ok(Ok(()));
    }
    let tokens: f64 = row.try_get(1)?;
    let per_token_secs = per_secs as f64 / f64::from(calls.max(1));
    Ok(Err(((1.0 - tokens) * per_token_secs).ceil().max(1.0) as u64))
}
