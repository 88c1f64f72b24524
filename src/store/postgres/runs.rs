//! Script run rows on PostgreSQL: queued → running → finished, as on the embedded backend.

use crate::proto::RunView;
use crate::run::Outcome;
use crate::store::rows::RunRow;
use crate::store::{NewRun, Result, RunFilter, StoreError, StoredRequest};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

/// Stores a run with its encoded request: `queued` (async) or `running` from `at` (sync).
pub async fn insert(
    c: &impl GenericClient,
    run: &NewRun,
    request: &[u8],
    queued: bool,
    node: &str,
) -> Result<i64> {
    let (status, started) = match queued {
        true => ("queued", None),
        false => ("running", Some(run.at)),
    };
    let stmt = c
        .prepare_cached(
            "INSERT INTO runs (hook_id, hook, status, queued_at, started_at, request, rerun_of, node)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .await?;
    let row = c
        .query_one(
            &stmt,
            &[
                &run.hook_id,
                &run.hook,
                &status,
                &run.at,
                &started,
                &request,
                &run.rerun_of,
                &node,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn mark_running(c: &impl GenericClient, id: i64, at: i64) -> Result<()> {
    let stmt = c
        .prepare_cached("UPDATE runs SET status = 'running', started_at = $2 WHERE id = $1")
        .await?;
    c.execute(&stmt, &[&id, &at]).await?;
    Ok(())
}

pub async fn finish(c: &impl GenericClient, id: i64, o: &Outcome) -> Result<()> {
    let stmt = c
        .prepare_cached(
            "UPDATE runs SET status = $2, exit_code = $3, started_at = $4, finished_at = $5,
                             stdout = $6, stderr = $7, cancelled_by = $8
             WHERE id = $1",
        )
        .await?;
    c.execute(
        &stmt,
        &[
            &id,
            &o.status.as_str(),
            &o.exit_code,
            &o.started_at,
            &(o.started_at + o.duration_ms),
            &o.stdout,
            &o.stderr,
            &o.cancelled_by.map(i64::from),
        ],
    )
    .await?;
    Ok(())
}

/// A queued run cancelled before it started; false when it was no longer queued.
pub async fn cancel_queued(
    c: &impl GenericClient,
    id: i64,
    at: i64,
    uid: Option<u32>,
) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE runs SET status = 'cancelled', finished_at = $2, cancelled_by = $3
             WHERE id = $1 AND status = 'queued'",
            &[&id, &at, &uid.map(i64::from)],
        )
        .await?;
    Ok(n > 0)
}

/// The request a run was started with, if the run still exists.
pub async fn request(c: &impl GenericClient, id: i64) -> Result<Option<StoredRequest>> {
    let Some(row) = c
        .query_opt("SELECT hook_id, request FROM runs WHERE id = $1", &[&id])
        .await?
    else {
        return Ok(None);
    };
    let request: Option<Vec<u8>> = row.try_get(1)?;
    let inv = match request {
        Some(bytes) => {
            Some(serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        }
        None => None,
    };
    Ok(Some(StoredRequest {
        hook_id: row.try_get(0)?,
        inv,
    }))
}

/// Marks a queued run whose hook is gone or disabled as interrupted.
pub async fn abandon(c: &impl GenericClient, id: i64, now: i64) -> Result<()> {
    c.execute(
        "UPDATE runs SET status = 'interrupted', finished_at = $2, request = NULL WHERE id = $1",
        &[&id, &now],
    )
    .await?;
    Ok(())
}

fn view(r: &Row, with_output: bool) -> Result<RunView> {
    Ok(RunRow {
        id: r.try_get(0)?,
        hook: r.try_get(1)?,
        status: r.try_get(2)?,
        exit_code: r.try_get(3)?,
        queued_at: r.try_get(4)?,
        started_at: r.try_get(5)?,
        finished_at: r.try_get(6)?,
        rerun_of: r.try_get(7)?,
        cancelled_by: r.try_get::<_, Option<i64>>(8)?.map(|u| u as u32),
        output: if with_output {
            Some((r.try_get(9)?, r.try_get(10)?))
        } else {
            None
        },
    }
    .view())
}

const COLUMNS: &str =
    "id, hook, status, exit_code, queued_at, started_at, finished_at, rerun_of, cancelled_by";

/// Newest first.
pub async fn list(c: &impl GenericClient, f: &RunFilter) -> Result<Vec<RunView>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM runs WHERE ($1::BIGINT IS NULL OR hook_id = $1)
           AND ($2::TEXT IS NULL OR hook = $2) AND ($4::TEXT IS NULL OR status = $4)
         ORDER BY id DESC LIMIT $3"
    );
    let stmt = c.prepare_cached(&sql).await?;
    let status = f.status.map(|s| s.as_str());
    let rows = c
        .query(&stmt, &[&f.hook_id, &f.hook, &i64::from(f.limit), &status])
        .await?;
    rows.iter().map(|r| view(r, false)).collect()
}

/// One run with its output; with `hook_id`, only if it is a run of that hook.
pub async fn get(c: &impl GenericClient, id: i64, hook_id: Option<i64>) -> Result<Option<RunView>> {
    let sql = format!(
        "SELECT {COLUMNS}, stdout, stderr FROM runs
         WHERE id = $1 AND ($2::BIGINT IS NULL OR hook_id = $2)"
    );
    let stmt = c.prepare_cached(&sql).await?;
    c.query_opt(&stmt, &[&id, &hook_id])
        .await?
        .map(|r| view(&r, true))
        .transpose()
}

pub async fn count_queued(c: &impl GenericClient) -> Result<u64> {
    let n: i64 = c
        .query_one("SELECT count(*) FROM runs WHERE status = 'queued'", &[])
        .await?
        .get(0);
    Ok(n as u64)
}

/// Takes a free one of the hook's `concurrency` run slots for `node`; `None` when all are
/// held. Two nodes picking the same free slot collide on its key, and one of them gets none.
/// Takes a free one of the hook's `concurrency` slots for `node`; with `leave_queue`, the
/// same statement gives back one of `node`'s waiting places in the hook's queue when it takes
/// a slot (see [`enter_queue`]).
pub async fn take_slot(
    c: &impl GenericClient,
    (hook_id, concurrency, leave_queue): (i64, u32, bool),
    node: &str,
) -> Result<Option<i32>> {
    let stmt = c
        .prepare_cached(
            "WITH taken AS (
                 INSERT INTO run_slots (hook_id, slot, node, taken_at)
                 SELECT $1, s, $2, $3 FROM generate_series(0, $4::INTEGER - 1) AS s
                 WHERE NOT EXISTS (SELECT 1 FROM run_slots r WHERE r.hook_id = $1 AND r.slot = s)
                 ORDER BY s LIMIT 1
                 ON CONFLICT DO NOTHING
                 RETURNING slot),
             left_queue AS (
                 UPDATE run_queue SET waiting = waiting - 1
                 WHERE $5 AND hook_id = $1 AND node = $2 AND waiting > 0
                   AND EXISTS (SELECT 1 FROM taken)
                 RETURNING 1)
             SELECT slot FROM taken",
        )
        .await?;
    let now = crate::time::now_ms();
    let row = c
        .query_opt(
            &stmt,
            &[&hook_id, &node, &now, &(concurrency as i32), &leave_queue],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn release_slot(
    c: &impl GenericClient,
    hook_id: i64,
    slot: i32,
    node: &str,
) -> Result<()> {
    c.execute(
        "DELETE FROM run_slots WHERE hook_id = $1 AND slot = $2 AND node = $3",
        &[&hook_id, &slot, &node],
    )
    .await?;
    Ok(())
}

/// Takes a waiting place in hook `hook_id`'s queue for `node` unless every one of its
/// `concurrency` run slots is held and `limit` calls wait already, on any node. One hook's
/// places are counted under a transaction-scoped lock, so two nodes cannot both take the last.
pub async fn enter_queue(
    c: &mut deadpool_postgres::Object,
    hook_id: i64,
    (concurrency, limit): (u32, u32),
    node: &str,
) -> Result<bool> {
    let tx = c.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, ($2::BIGINT % 2147483647)::INTEGER)",
        &[&QUEUE_LOCK, &hook_id],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT (SELECT count(*) FROM run_slots WHERE hook_id = $1),
                    (SELECT coalesce(sum(waiting), 0) FROM run_queue WHERE hook_id = $1)",
            &[&hook_id],
        )
        .await?;
    let (held, waiting): (i64, i64) = (row.get(0), row.get(1));
    let free = held < i64::from(concurrency) || waiting < i64::from(limit);
    if free {
        tx.execute(
            "INSERT INTO run_queue (hook_id, node, waiting) VALUES ($1, $2, 1)
             ON CONFLICT (hook_id, node) DO UPDATE SET waiting = run_queue.waiting + 1",
            &[&hook_id, &node],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(free)
}

/// The first key of the queue locks (`hook` in ASCII); the second is the hook's id.
const QUEUE_LOCK: i32 = 0x686f_6f6b;

pub async fn leave_queue(c: &impl GenericClient, hook_id: i64, node: &str) -> Result<()> {
    c.execute(
        "UPDATE run_queue SET waiting = waiting - 1
         WHERE hook_id = $1 AND node = $2 AND waiting > 0",
        &[&hook_id, &node],
    )
    .await?;
    Ok(())
}
