//! Log entries on PostgreSQL: appended, never edited, pruned by age.

use crate::proto::{LogQuery, LogView};
use crate::store::{Direction, NewLog, Result};
use deadpool_postgres::GenericClient;

pub async fn insert(c: &impl GenericClient, l: &NewLog) -> Result<i64> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO logs (time, direction, hook, method, url, status, error, duration_ms,
                               remote_addr, run_id, delivery_id, attempt, uid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .await?;
    let row = c
        .query_one(
            &stmt,
            &[
                &l.time,
                &l.direction.as_str(),
                &l.hook,
                &l.method,
                &l.url,
                &l.status.map(i32::from),
                &l.error,
                &l.duration_ms,
                &l.remote_addr,
                &l.run_id,
                &l.delivery_id,
                &l.attempt.map(i64::from),
                &l.uid.map(i64::from),
            ],
        )
        .await?;
    Ok(row.get(0))
}

/// The newest `limit` entries matching `q`, returned oldest first (the way `tail` shows them).
pub async fn query(c: &impl GenericClient, q: &LogQuery) -> Result<Vec<LogView>> {
    let stmt = c
        .prepare_cached(
            "SELECT id, time, direction, hook, method, url, status, error, duration_ms, remote_addr,
                    run_id, delivery_id, attempt, uid
             FROM logs
             WHERE ($1::TEXT IS NULL OR hook = $1) AND ($2::TEXT IS NULL OR direction = $2)
               AND ($3::BIGINT IS NULL OR time >= $3)
               AND (NOT $4 OR status >= 400 OR (status IS NULL AND error IS NOT NULL))
             ORDER BY id DESC LIMIT $5",
        )
        .await?;
    let rows = c
        .query(
            &stmt,
            &[
                &q.hook,
                &q.direction,
                &q.since_ms,
                &q.failed,
                &i64::from(q.limit),
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter().rev() {
        let direction: String = r.try_get(2)?;
        let entry = NewLog {
            time: r.try_get(1)?,
            direction: Direction::parse(&direction).unwrap_or(Direction::Admin),
            hook: r.try_get(3)?,
            method: r.try_get(4)?,
            url: r.try_get(5)?,
            status: r.try_get::<_, Option<i32>>(6)?.map(|s| s as u16),
            error: r.try_get(7)?,
            duration_ms: r.try_get(8)?,
            remote_addr: r.try_get(9)?,
            run_id: r.try_get(10)?,
            delivery_id: r.try_get(11)?,
            attempt: r.try_get::<_, Option<i64>>(12)?.map(|a| a as u32),
            uid: r.try_get::<_, Option<i64>>(13)?.map(|u| u as u32),
        };
        out.push(entry.view(r.try_get(0)?));
    }
    Ok(out)
}

/// Deletes log entries and finished runs older than `cutoff`; returns how many rows went.
pub async fn prune(c: &impl GenericClient, cutoff: i64) -> Result<u64> {
    let logs = c
        .execute("DELETE FROM logs WHERE time < $1", &[&cutoff])
        .await?;
    let runs = c
        .execute(
            "DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1",
            &[&cutoff],
        )
        .await?;
    Ok(logs + runs)
}
