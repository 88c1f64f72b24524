//! Nodes on one database: who is alive, and what the dead leave behind.
//!
//! Each node has a row with a heartbeat ([`BEAT`]); a node not seen for [`LEASE`] is dead, its
//! row is removed, and what it held is released: deliveries it was sending become pending
//! again (any node sends them), runs it was running are marked interrupted (as a restart does
//! on one machine), and its queued runs are adopted by a live node. So a claim is a lease that
//! its node renews with every heartbeat while the work goes on, and that expires on its own
//! when the node dies. A node restarting under the same name releases its predecessor at once.

use crate::store::{QueuedRun, Result};
use deadpool_postgres::GenericClient;
use std::time::Duration;

/// How often a node says it is alive.
pub const BEAT: Duration = Duration::from_secs(3);
/// How long a node may stay silent before it counts as dead and its claims expire.
pub const LEASE: Duration = Duration::from_secs(30);

/// This process among the nodes.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique per process: the name and a random part.
    pub id: String,
    pub name: String,
    pub listen: String,
    pub started_at: i64,
}

impl Node {
    pub fn new(name: String, listen: String) -> Node {
        let mut random = [0u8; 6];
        let _ = getrandom::fill(&mut random);
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        Node {
            id: format!("{name}/{suffix}"),
            name,
            listen,
            started_at: crate::time::now_ms(),
        }
    }
}

/// Registers `node`, ending any earlier process of the same name; returns how many claims of
/// dead nodes that released.
pub async fn join(c: &impl GenericClient, node: &Node) -> Result<u64> {
    c.execute(
        "DELETE FROM nodes WHERE name = $1 AND id <> $2",
        &[&node.name, &node.id],
    )
    .await?;
    c.execute(
        "INSERT INTO nodes (id, name, listen, started_at, last_seen) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen",
        &[&node.id, &node.name, &node.listen, &node.started_at],
    )
    .await?;
    release_dead(c, crate::time::now_ms()).await
}

/// Renews `node`'s heartbeat; false when its row is gone (another process took its name).
pub async fn beat(c: &impl GenericClient, node: &Node, now: i64) -> Result<bool> {
    Ok(c.execute(
        "UPDATE nodes SET last_seen = $2 WHERE id = $1",
        &[&node.id, &now],
    )
    .await?
        > 0)
}

/// Removes nodes silent for longer than [`LEASE`] and releases what every node that is not
/// registered held: their deliveries in flight are pending again, their runs interrupted.
/// Returns how many deliveries came back.
pub async fn release_dead(c: &impl GenericClient, now: i64) -> Result<u64> {
    let cutoff = now - LEASE.as_millis() as i64;
    c.execute("DELETE FROM nodes WHERE last_seen < $1", &[&cutoff])
        .await?;
    let deliveries = c
        .execute(
            "UPDATE deliveries SET status = 'pending', claimed_by = NULL
             WHERE status = 'sending' AND claimed_by IS NOT NULL
               AND claimed_by NOT IN (SELECT id FROM nodes)",
            &[],
        )
        .await?;
    c.execute(
        "UPDATE runs SET status = 'interrupted', finished_at = $1
         WHERE status = 'running' AND (node IS NULL OR node NOT IN (SELECT id FROM nodes))",
        &[&now],
    )
    .await?;
    c.execute(
        "DELETE FROM run_slots WHERE node NOT IN (SELECT id FROM nodes)",
        &[],
    )
    .await?;
    c.execute(
        "DELETE FROM run_queue WHERE node NOT IN (SELECT id FROM nodes)",
        &[],
    )
    .await?;
    Ok(deliveries)
}

/// Takes the queued runs that no live node holds (their node died, or they were queued before
/// nodes were recorded), oldest first.
pub async fn adopt_runs(
    c: &impl GenericClient,
    node: &Node,
) -> Result<Vec<(i64, i64, Option<Vec<u8>>)>> {
    let rows = c
        .query(
            "UPDATE runs r SET node = $1
             FROM (SELECT id FROM runs
                   WHERE status = 'queued' AND (node IS NULL OR node NOT IN (SELECT id FROM nodes))
                     AND NOT EXISTS (SELECT 1 FROM hooks h WHERE h.id = runs.hook_id
                                     AND h.options::jsonb ->> 'node' <> $2)
                   ORDER BY id FOR UPDATE SKIP LOCKED) o
             WHERE r.id = o.id
             RETURNING r.id, r.hook_id, r.request",
            &[&node.id, &node.name],
        )
        .await?;
    let mut out = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|r| r.0);
    Ok(out)
}

/// Decodes adopted runs; one whose request cannot be read is interrupted.
pub async fn decode_adopted(
    c: &impl GenericClient,
    rows: Vec<(i64, i64, Option<Vec<u8>>)>,
    now: i64,
) -> Result<Vec<QueuedRun>> {
    let mut out = Vec::new();
    for (id, hook_id, request) in rows {
        match request.as_deref().map(serde_json::from_slice) {
            Some(Ok(inv)) => out.push(QueuedRun { id, hook_id, inv }),
            _ => {
                c.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = $2 WHERE id = $1",
                    &[&id, &now],
                )
                .await?;
            }
        }
    }
    Ok(out)
}

/// The live nodes, by name.
pub async fn live(c: &impl GenericClient) -> Result<Vec<(String, String, i64, i64)>> {
    let rows = c
        .query(
            "SELECT name, listen, started_at, last_seen FROM nodes ORDER BY name, started_at",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}
