//! The networked backend: PostgreSQL, shared by any number of hookd nodes.
//!
//! Operations take a pooled connection (deadpool-postgres over tokio-postgres: async, so
//! nothing blocks the runtime and no thread is set aside), run one transaction and commit
//! before they answer, as the embedded backend does. Durability follows the same rule: work
//! hookd accepted (queued runs, events with deliveries, configuration) waits for the commit's
//! WAL flush; pure history commits with `synchronous_commit = off` (PostgreSQL's own bounded
//! lag, a fraction of a second). The schema is versioned in `hookd_schema` ([`schema`]).
//!
//! The connection URL may hold a password: it is never logged, shown or put in an error;
//! [`Postgres::location`] names the database without it.

mod events;
mod hooks;
pub mod import;
mod logs;
mod nodes;
mod ops;
mod runs;
pub(crate) mod schema;

pub use nodes::Node;

use super::{Feeds, HookChanged, Result, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::sync::Arc;
use std::time::Duration;

/// Connections kept open to the database at most.
const POOL_SIZE: usize = 16;
/// How long an operation waits for a connection (or a new one to open) before it fails.
const WAIT: Duration = Duration::from_secs(5);
/// How long start-up keeps trying to reach the database.
const START_WITHIN: Duration = Duration::from_secs(12);

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        use tokio_postgres::error::SqlState;
        match e.as_db_error() {
            Some(db)
                if *db.code() == SqlState::T_R_DEADLOCK_DETECTED
                    || *db.code() == SqlState::T_R_SERIALIZATION_FAILURE =>
            {
                StoreError::Retry(db.message().to_string())
            }
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None if e.is_closed() => StoreError::Unavailable(e.to_string()),
            None => StoreError::Database(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Unavailable(e.to_string()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// The handle operations run through.
pub struct Postgres {
    pool: Pool,
    location: String,
    feeds: Arc<Feeds>,
    node: Node,
    /// The last health check and when it was made (`/healthz` asks at most once a second).
    health: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
    /// Calls counted but not yet written to their hooks' rows (see [`Counters`]).
    counters: Arc<Counters>,
}

/// Call counters (`call_count`, `last_call_at`, `last_status`) kept out of the call's own
/// transaction: every call of a hook would otherwise update the same row, and its lock would
/// make the calls of one hook commit one after another, one WAL flush each. They are history:
/// summed here and written at most a second later (and before any read of the hooks), in hook
/// id order.
#[derive(Default)]
struct Counters {
    pending: std::sync::Mutex<std::collections::BTreeMap<i64, (i64, i64, u16)>>,
}

impl Counters {
    fn add(&self, hook_id: i64, at: i64, status: u16) {
        self.merge(hook_id, 1, at, status);
    }

    /// Counts `n` calls of a hook, the last one answered `status` at `at`.
    fn merge(&self, hook_id: i64, n: i64, at: i64, status: u16) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let e = p.entry(hook_id).or_insert((0, at, status));
        e.0 += n;
        if at >= e.1 {
            (e.1, e.2) = (at, status);
        }
    }

    /// Writes what was counted; on failure it is counted again for the next try.
    async fn flush(&self, pool: &Pool) -> Result<()> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if taken.is_empty() {
            return Ok(());
        }
        let written = async {
            let mut c = pool.get().await?;
            let tx = begin(&mut c, true).await?;
            for (id, (n, at, status)) in &taken {
                hooks::count_calls(&tx, *id, *n, *at, *status).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if written.is_err() {
            for (id, (n, at, status)) in taken {
                self.merge(id, n, at, status);
            }
        }
        written
    }
}

async fn flush_counters(pool: Pool, counters: Arc<Counters>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = counters.flush(&pool).await {
            tracing::warn!("cannot write call counters: {e}");
        }
    }
}

/// The channel hook changes are announced on; the payload is a hook id, or `*` for many.
const HOOKS_CHANNEL: &str = "hookd_hooks";

/// `postgres://user@host:port/db` without its password, for messages.
pub fn redacted(url: &str) -> String {
    crate::config::redact_url(url)
}

impl Postgres {
    /// Connects (retrying for a few seconds: the database may be starting beside hookd) and
    /// brings the schema up to date.
    pub async fn open(url: &str, feeds: Arc<Feeds>, node: Node) -> Result<Postgres> {
        let location = redacted(url);
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database(format!("{location}: not a PostgreSQL URL: {e}")))?;
        config.connect_timeout(WAIT);
        if config.get_application_name().is_none() {
            config.application_name("hookd");
        }
        let manager = Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| StoreError::Database(format!("{location}: {e}")))?;
        let deadline = tokio::time::Instant::now() + START_WITHIN;
        let mut client = loop {
            match pool.get().await {
                Ok(c) => break c,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!("cannot reach the database at {location} yet: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => {
                    return Err(StoreError::Unavailable(format!(
                        "cannot reach the database at {location}: {e}"
                    )));
                }
            }
        };
        schema::migrate(&mut client, &location).await?;
        let released = nodes::join(&client, &node).await?;
        if released > 0 {
            tracing::info!("{released} deliveries of stopped nodes are due again");
        }
        drop(client);
        tokio::spawn(heartbeat(pool.clone(), node.clone(), feeds.clone()));
        tokio::spawn(follow_hooks(config, pool.clone(), feeds.clone()));
        let counters = Arc::new(Counters::default());
        tokio::spawn(flush_counters(pool.clone(), counters.clone()));
        Ok(Postgres {
            pool,
            location,
            feeds,
            node,
            health: tokio::sync::Mutex::new(None),
            counters,
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    /// A connection for reading hooks, after this node's counted calls are written (so a
    /// listing right after a call shows it).
    async fn hooks_client(&self) -> Result<deadpool_postgres::Object> {
        self.counters.flush(&self.pool).await?;
        self.client().await
    }
}

/// Runs `op` again while the database gives it up for running into another transaction (at
/// most a few times, a little later each time).
async fn retrying<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        match op().await {
            Err(StoreError::Retry(e)) if tries < 5 => {
                tries += 1;
                tracing::debug!("retrying a transaction ({tries}): {e}");
                tokio::time::sleep(Duration::from_millis(5 * tries)).await;
            }
            other => return other,
        }
    }
}

/// Begins a transaction on `client`; history-only work does not wait for the WAL flush.
async fn begin(
    client: &mut deadpool_postgres::Object,
    history: bool,
) -> Result<deadpool_postgres::Transaction<'_>> {
    let tx = client.transaction().await?;
    if history {
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
    }
    Ok(tx)
}

/// Keeps this node's row alive and releases what dead nodes held: their deliveries are due
/// again (the worker is woken), their queued runs are handed to this process to run.
async fn heartbeat(pool: Pool, node: Node, feeds: Arc<Feeds>) {
    let mut tick = tokio::time::interval(nodes::BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = beat_once(&pool, &node, &feeds).await {
            tracing::warn!("node heartbeat: {e}");
        }
    }
}

async fn beat_once(pool: &Pool, node: &Node, feeds: &Feeds) -> Result<()> {
    let mut c = pool.get().await?;
    let now = crate::time::now_ms();
    if !nodes::beat(&c, node, now).await? {
        tracing::error!(
            node = %node.name,
            "another hookd process took this node's name; node names must be unique"
        );
        nodes::join(&c, node).await?;
    }
    let tx = begin(&mut c, false).await?;
    let released = nodes::release_dead(&tx, now).await?;
    let adopted = nodes::adopt_runs(&tx, node).await?;
    let adopted = nodes::decode_adopted(&tx, adopted, now).await?;
    tx.commit().await?;
    if released > 0 {
        tracing::info!("{released} deliveries of a stopped node are due again");
    }
    // Other nodes accept work and bring paced backlogs forward without telling this one: look
    // for due deliveries at every beat, whatever this node's worker planned.
    feeds.deliveries_due.notify_one();
    if !adopted.is_empty() {
        tracing::info!("took over {} queued runs of a stopped node", adopted.len());
        feeds.adopted(adopted);
    }
    Ok(())
}

/// Follows hook changes made through any node: LISTEN on a connection of its own, and while
/// that connection is down, a look at the hooks' fingerprint every second.
async fn follow_hooks(config: tokio_postgres::Config, pool: Pool, feeds: Arc<Feeds>) {
    let mut fingerprint = None;
    loop {
        match listen(&config, &feeds).await {
            Ok(()) => tracing::warn!("the hook change listener stopped; reconnecting"),
            Err(e) => tracing::warn!("cannot listen for hook changes: {e}"),
        }
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(now) = hooks_fingerprint(&pool).await {
                if fingerprint.is_some_and(|f| f != now) {
                    let _ = feeds.hooks_changed.send(HookChanged::All);
                }
                fingerprint = Some(now);
            }
        }
    }
}

/// Returns when the listening connection ends.
async fn listen(config: &tokio_postgres::Config, feeds: &Feeds) -> Result<()> {
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pump = tokio::spawn(async move {
        while let Some(m) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match m {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("hook change listener: {e}");
                    break;
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {HOOKS_CHANNEL}"))
        .await?;
    // Changes made while nobody listened are read at once.
    let _ = feeds.hooks_changed.send(HookChanged::All);
    while let Some(payload) = rx.recv().await {
        let change = payload
            .parse()
            .map(HookChanged::One)
            .unwrap_or(HookChanged::All);
        let _ = feeds.hooks_changed.send(change);
    }
    pump.abort();
    Ok(())
}

/// Changes whenever a hook is created, changed or deleted.
async fn hooks_fingerprint(pool: &Pool) -> Result<(i64, i64, i64)> {
    let c = pool.get().await?;
    let r = c
        .query_one(
            "SELECT count(*), coalesce(sum(revision), 0)::BIGINT, coalesce(max(id), 0) FROM hooks",
            &[],
        )
        .await?;
    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
}

/// Announces a change of hook `id` (`None`: of many) to every node, on commit.
async fn announce(c: &impl deadpool_postgres::GenericClient, id: Option<i64>) -> Result<()> {
    let payload = id.map(|i| i.to_string()).unwrap_or_else(|| "*".into());
    c.execute("SELECT pg_notify($1, $2)", &[&HOOKS_CHANNEL, &payload])
        .await?;
    Ok(())
}
