//! Storage as a set of domain operations: what hookd keeps, not how.
//!
//! The daemon reaches its data only through [`Backend`]: whole units of work such as "record
//! this call with its outcome and events", "claim due deliveries" or "finish an attempt". No
//! connection, transaction or SQL crosses this line, so a backend may be an embedded database
//! on a thread of its own ([`sqlite`]) or a server across the network. Each operation commits
//! before it returns; one that writes accepted work (queued runs, events and their deliveries,
//! configuration) reaches the disk first, while pure history may lag by [`HISTORY_LAG`].
//!
//! Events travel as an [`Outbox`]: staged by the daemon (subscribers matched, data serialized,
//! outside the database), written by the operation that caused them in the same commit, and
//! announced by the store itself on [`Store::deliveries_due`] once committed. So an event can
//! neither be written without its cause nor forgotten by the delivery worker.

pub mod handoff;
pub mod migrate;
pub mod postgres;
pub(crate) mod rows;
pub mod sqlite;
mod types;

pub use types::*;

use crate::hook::{Defaults, Hook};
use crate::proto::{
    DeliveryView, EndpointView, HookKind, HookView, LogQuery, LogView, NodeView, RunView,
};
use crate::run::{Invocation, Outcome};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error(
        "the database at {path} has schema version {found}, newer than this hookd knows ({known}); upgrade hookd"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the database at {0} is in use by another process (is another hookd running with this state_dir?)"
    )]
    InUse(PathBuf),
    #[error("the database thread has stopped")]
    Closed,
    /// The database gave up a transaction that ran into another (deadlock, serialization):
    /// running it again is safe and expected to succeed.
    #[error("database conflict, to be retried: {0}")]
    Retry(String),
    /// The database server cannot be reached (or the connection broke): try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the database could not commit: {0}")]
    Commit(String),
    /// The hook changed between reading it and writing it back; read again and retry.
    #[error("the hook was changed by someone else meanwhile")]
    Conflict,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What every storage operation returns: a future that owns what it needs.
/// What a write made in the background keeps until it is written (a permit, say).
pub type Hold = Box<dyn std::any::Any + Send>;

pub type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// How long history may wait for an fsync after it is committed.
pub const HISTORY_LAG: std::time::Duration = std::time::Duration::from_secs(1);

/// The domain operations every backend provides. Each is one unit of work: it commits as a
/// whole or not at all, and answers only once committed.
pub trait Backend: Send + Sync {
    /// Where the data lives, for `hookctl status` and messages.
    fn location(&self) -> String;

    // Hooks.
    fn list_hooks(&self, kind: Option<HookKind>) -> Fut<'_, Vec<Hook>>;
    /// The listing `hookctl list` shows, built row by row so a large one never holds every
    /// hook and every view at once.
    fn hook_views(&self, kind: Option<HookKind>, defaults: Defaults) -> Fut<'_, Vec<HookView>>;
    fn hook(&self, name: &str) -> Fut<'_, Option<Hook>>;
    fn hook_by_id(&self, id: i64) -> Fut<'_, Option<Hook>>;
    /// Inserts a hook with its admin log entry; `None` when the name is taken.
    fn create_hook(&self, hook: Hook, log: NewLog) -> Fut<'_, Option<Created>>;
    /// Writes back a hook read at `hook.revision`, with its admin log entry; the stored
    /// revision goes one up. [`StoreError::Conflict`] when it was changed meanwhile.
    fn update_hook(&self, hook: Hook, log: NewLog) -> Fut<'_, Written> {
        Box::pin(async move {
            let mut written = self
                .apply_hooks(vec![HookChange::Update(hook, log)])
                .await?;
            written.pop().ok_or(StoreError::Conflict)
        })
    }
    /// Deletes a hook with its admin log entry; `None` when there is no such hook.
    fn delete_hook(&self, name: &str, log: NewLog) -> Fut<'_, Option<Written>> {
        let name = name.to_string();
        Box::pin(async move {
            let Some(hook) = self.hook(&name).await? else {
                return Ok(None);
            };
            let mut written = self
                .apply_hooks(vec![HookChange::Delete(hook, log)])
                .await?;
            Ok(written.pop())
        })
    }
    /// Applies a whole hooks file at once: every change or none.
    fn apply_hooks(&self, changes: Vec<HookChange>) -> Fut<'_, Vec<Written>>;
    /// Disables an outgoing hook on hookd's own initiative and stages its announcement, both
    /// only if it was still enabled; returns the hook as now stored.
    fn disable_endpoint(&self, hook_id: i64, at: i64, outbox: Outbox) -> Fut<'_, Option<Hook>>;
    /// Remembers a sender's delivery id; false when it was seen for this hook since `since`.
    fn first_delivery(&self, hook_id: i64, id: String, at: i64, since: i64) -> Fut<'_, bool>;
    /// A token of hook `hook_id`'s rate limit (`calls` per `per_secs`, a bucket refilled
    /// continuously) from storage several processes share: `Ok(())`, or the seconds until
    /// the next one. `None` when the store is this process's alone (limits stay in memory).
    fn rate_token(
        &self,
        hook_id: i64,
        calls: u32,
        per_secs: u32,
        at: i64,
    ) -> Fut<'_, Option<std::result::Result<(), u64>>>;
    fn counts(&self) -> Fut<'_, Counts>;
    /// One of hook `hook_id`'s `concurrency` run slots in storage several processes share, so
    /// the limit holds across them: `Some(Some(slot))` taken, `Some(None)` all are in use.
    /// `None` when the store is this process's alone (the runner's own slots are the limit).
    /// One of hook `hook_id`'s `concurrency` run slots in storage several processes share:
    /// `Some(Some(slot))` taken, `Some(None)` all held, `None` when the store is this process's
    /// alone. With `leave_queue`, a slot taken also gives back this process's waiting place in
    /// the hook's queue, in the same step, so the run is never counted as running and waiting
    /// at once (a full queue would refuse a call it has room for).
    fn take_run_slot(
        &self,
        hook_id: i64,
        concurrency: u32,
        leave_queue: bool,
    ) -> Fut<'_, Option<Option<i32>>>;
    fn release_run_slot(&self, hook_id: i64, slot: i32) -> Fut<'_, ()>;
    /// A waiting place in hook `hook_id`'s queue in storage several processes share, so its
    /// `queue_limit` holds across them: `Some(true)` taken (given back by
    /// [`Backend::leave_queue`] once the call holds a run slot or gives up), `Some(false)`
    /// refused (all `concurrency` run slots are held and `limit` calls wait already). `None`
    /// when the store is this process's alone (the runner's own queue is the limit).
    fn enter_queue(&self, _hook_id: i64, _concurrency: u32, _limit: u32) -> Fut<'_, Option<bool>> {
        Box::pin(async { Ok(None) })
    }
    fn leave_queue(&self, _hook_id: i64) -> Fut<'_, ()> {
        Box::pin(async { Ok(()) })
    }
    /// The `--rate` slots of deliveries `ids` to hook `hook_id` (in that order) in storage
    /// several processes share, slots `spacing_ms` apart across all of them: the slot a
    /// delivery holds (unless it lapsed, `spacing_ms` ago), else the next free one, which it
    /// holds until its attempt is recorded. `None` when the store is this process's alone
    /// (the pacer's memory spaces deliveries).
    fn rate_slots(
        &self,
        _hook_id: i64,
        _ids: Vec<i64>,
        _spacing_ms: i64,
        _at: i64,
    ) -> Fut<'_, Option<Vec<i64>>> {
        Box::pin(async { Ok(None) })
    }

    /// Events on their own, for what has no other record (`script.started` of a sync run).
    fn publish(&self, outbox: Outbox) -> Fut<'_, ()>;
    /// An admin's event (`hookctl emit`): its deliveries and the log entry, on the disk before
    /// it returns; nothing is written when its key was used since the key's cutoff.
    fn emit(&self, emission: Emission) -> Fut<'_, Emitted>;

    // Calls and runs.
    /// Stores an async run as queued, with its request, before the caller hears 202.
    fn queue_run(&self, run: NewRun, inv: Invocation) -> Fut<'_, i64>;
    /// Stores a sync run as running, with its request (history).
    fn start_run(&self, run: NewRun, inv: Invocation) -> Fut<'_, i64>;
    /// A queued run got its turn: running now.
    fn run_started(&self, id: i64, at: i64, outbox: Outbox) -> Fut<'_, ()>;
    /// An async run's outcome with the event that reports it.
    fn finish_run(&self, id: i64, outcome: Outcome, outbox: Outbox) -> Fut<'_, ()>;
    /// A call's record: counted on its hook, logged, a sync run's outcome, and its events.
    fn record_call(&self, call: CallRecord, outbox: Outbox) -> Fut<'_, i64>;
    /// [`Backend::record_call`] for a caller that does not wait for it: written in the
    /// background, a failure logged; `hold` is dropped once it is written. The embedded
    /// database queues it before this returns, so every operation asked for later sees it.
    fn record_call_behind(self: Arc<Self>, call: CallRecord, outbox: Outbox, hold: Hold)
    where
        Self: 'static,
    {
        tokio::spawn(async move {
            let _hold = hold;
            if let Err(e) = self.record_call(call, outbox).await {
                tracing::error!("cannot record a call: {e}");
            }
        });
    }
    /// At start-up (and stop): runs left running become interrupted; the queued ones are
    /// returned, oldest first, to be run now.
    fn recover_runs(&self, at: i64) -> Fut<'_, Vec<QueuedRun>>;
    /// A queued run whose hook is gone or disabled.
    fn abandon_run(&self, id: i64, at: i64) -> Fut<'_, ()>;
    /// A queued run cancelled before it started, with its event; false when it was no longer
    /// queued.
    fn cancel_queued(&self, id: i64, at: i64, uid: Option<u32>, outbox: Outbox) -> Fut<'_, bool>;
    /// A run's stored request; `None` when there is no such run (or it was pruned).
    fn run_request(&self, id: i64) -> Fut<'_, Option<StoredRequest>>;
    /// A management action on its own (`runs cancel`, `runs rerun`).
    fn log_action(&self, log: NewLog) -> Fut<'_, i64>;
    fn runs(&self, filter: RunFilter) -> Fut<'_, Vec<RunView>>;
    fn run(&self, id: i64) -> Fut<'_, Option<RunView>>;
    /// A run with its output, only if it is a run of the hook `hook_id`.
    fn hook_run(&self, hook_id: i64, id: i64) -> Fut<'_, Option<RunView>>;

    // Deliveries.
    /// Takes up to `limit` due deliveries for sending, oldest due first, and says when the next
    /// one is due when fewer were.
    fn claim_due(&self, at: i64, limit: u32) -> Fut<'_, (Vec<Claimed>, Option<i64>)>;
    /// Writes an event to one hook and claims its delivery at once (`hookctl test`).
    fn claim_test(&self, outbox: Outbox) -> Fut<'_, i64>;
    /// Records one attempt with its log entry and follow-up events; for an attempt at a live
    /// endpoint, also when the endpoint started failing (returned; `None` when healthy).
    fn finish_attempt(&self, attempt: AttemptRecord, outbox: Outbox) -> Fut<'_, Finished>;
    /// At start-up: deliveries a dead process was sending are due again.
    fn reset_in_flight(&self) -> Fut<'_, usize>;
    /// Hands claimed deliveries back as pending, each due at its instant, no attempt counted,
    /// and moves the pending deliveries of parked hooks to their instant, in one commit
    /// (pacing: `--rate`, a failing endpoint's probe).
    fn defer_deliveries(&self, deferred: Deferred) -> Fut<'_, ()>;
    /// Makes every pending delivery of the hook due later than `at` due at `at` (pacing).
    fn release_deliveries(&self, hook_id: i64, at: i64) -> Fut<'_, u64>;
    fn count_pending(&self) -> Fut<'_, u64>;
    /// Outgoing hooks with a backlog or failing attempts, by name.
    fn endpoints(&self) -> Fut<'_, Vec<EndpointView>>;
    fn deliveries(&self, filter: DeliveryFilter) -> Fut<'_, Vec<DeliveryView>>;
    fn redeliver(&self, id: i64, at: i64) -> Fut<'_, Redelivery>;
    /// Queues again, now and with their ids, the failed deliveries (of `hook`) whose last
    /// attempt was at or after `since`; how many.
    fn redeliver_failed(&self, hook: Option<String>, since: Option<i64>, at: i64) -> Fut<'_, u64>;

    /// Whether the store answers now (`/healthz`); quick, and cheap enough to call often.
    fn healthy(&self) -> Fut<'_, bool>;

    // Nodes.
    /// The live nodes sharing this store, by name; `None` for a store only one process opens.
    fn nodes(&self) -> Fut<'_, Option<Vec<NodeView>>>;

    // History.
    fn logs(&self, query: LogQuery) -> Fut<'_, Vec<LogView>>;
    /// Deletes history older than `cutoff` and delivery ids older than `seen_cutoff`.
    fn prune(&self, cutoff: i64, seen_cutoff: i64) -> Fut<'_, usize>;
}

/// What a backend announces once something is committed. Backends call these after their
/// commit, never before, so a listener never sees what a failed commit took back.
pub struct Feeds {
    /// Woken whenever deliveries became due in the database: new ones committed (and not
    /// handed over), a retry planned, a redeliver.
    pub deliveries_due: tokio::sync::Notify,
    /// New deliveries handed to the worker without a trip through the database.
    pub handoff: Arc<handoff::Handoff>,
    /// Every log entry written, for `hookctl logs -f`. Lagging followers skip, never block.
    pub log: tokio::sync::broadcast::Sender<LogView>,
    /// Hooks changed by another process on a shared database (the registry follows).
    pub hooks_changed: tokio::sync::broadcast::Sender<HookChanged>,
    /// Queued runs this process took over from a node that died, to be run here.
    adopted: tokio::sync::mpsc::UnboundedSender<QueuedRun>,
    adopted_rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<QueuedRun>>>,
}

/// What changed among the hooks, as another node announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookChanged {
    One(i64),
    /// Anything may have changed (many hooks at once, or changes missed): read them all.
    All,
}

impl Feeds {
    pub(crate) fn new() -> Arc<Feeds> {
        let (adopted, rx) = tokio::sync::mpsc::unbounded_channel();
        Arc::new(Feeds {
            deliveries_due: tokio::sync::Notify::new(),
            handoff: Arc::default(),
            log: tokio::sync::broadcast::channel(1024).0,
            hooks_changed: tokio::sync::broadcast::channel(1024).0,
            adopted,
            adopted_rx: std::sync::Mutex::new(Some(rx)),
        })
    }

    /// Hands runs taken over from a dead node to whoever runs them.
    pub(crate) fn adopted(&self, runs: Vec<QueuedRun>) {
        for run in runs {
            let _ = self.adopted.send(run);
        }
    }

    /// The receiving end of adopted runs; `None` after the first call.
    pub fn take_adopted(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<QueuedRun>> {
        self.adopted_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Publishes committed log entries (built into views only when someone follows) and wakes
    /// the delivery worker when `deliveries` were written.
    pub fn committed<'a>(
        &self,
        logs: impl IntoIterator<Item = (i64, &'a NewLog)>,
        deliveries: bool,
    ) {
        if self.log.receiver_count() > 0 {
            for (id, entry) in logs {
                let _ = self.log.send(entry.view(id));
            }
        }
        if deliveries {
            self.deliveries_due.notify_one();
        }
    }
}

/// A cheap, cloneable handle to the configured backend.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    feeds: Arc<Feeds>,
}

impl Store {
    /// Opens the embedded database at `path`, creating and migrating it as needed.
    pub fn open(path: &Path) -> Result<Store> {
        let feeds = Feeds::new();
        let backend = sqlite::Sqlite::open(path, feeds.clone())?;
        Ok(Store {
            backend: Arc::new(backend),
            feeds,
        })
    }

    /// Opens the configured database: the embedded one in the state directory, or the
    /// PostgreSQL database `config.database` names.
    pub async fn open_configured(config: &crate::config::Config) -> Result<Store> {
        let Some(url) = &config.database else {
            return Store::open(&config.db_path());
        };
        let url = url.resolve().map_err(StoreError::Unavailable)?;
        let feeds = Feeds::new();
        let node = postgres::Node::new(config.node_name(), config.listen.to_string());
        let backend = postgres::Postgres::open(&url, feeds.clone(), node).await?;
        Ok(Store {
            backend: Arc::new(backend),
            feeds,
        })
    }

    pub fn feeds(&self) -> &Feeds {
        &self.feeds
    }

    /// See [`Backend::record_call_behind`].
    pub fn record_call_behind(&self, call: CallRecord, outbox: Outbox, hold: Hold) {
        self.backend.clone().record_call_behind(call, outbox, hold)
    }
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        &*self.backend
    }
}
