//! The embedded backend: SQLite, owned by one thread.
//!
//! One `rusqlite::Connection` lives on a dedicated OS thread; operations send it closures over
//! a channel and await the answer, so blocking SQLite calls never run on the async runtime and
//! no lock is ever held across an `.await`. Writers share `BEGIN IMMEDIATE` transactions (group
//! commit: each job in its own savepoint). The schema is versioned with `PRAGMA user_version`
//! (see [`schema`]); a database from a newer hookd is refused rather than guessed at. The
//! database file is created 0600: it holds hook secrets. Outside this module only the
//! operations of [`ops`] are seen.

mod events;
pub mod export;
mod hooks;
mod logs;
mod ops;
mod runs;
pub(crate) mod schema;

use super::{Feeds, HISTORY_LAG, Result, StoreError};
use rusqlite::Connection;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Database(e.to_string())
    }
}

/// What a write job leaves to do once its batch's commit is known (with why it did not commit,
/// if it did not): answer its caller.
type Completion = Box<dyn FnOnce(Option<&str>) + Send>;

enum Job {
    /// Runs alone, on the bare connection.
    Read(Box<dyn FnOnce(&mut Connection) + Send>),
    /// Runs inside a shared transaction, in its own savepoint; given no connection when the
    /// transaction could not begin, it does nothing but prepare its failure.
    Write(WriteJob, Durability),
}

/// How far a write's commit must reach before its caller is answered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Durability {
    /// On the disk (fsync): survives a power loss. Work hookd accepted (queued runs, events and
    /// deliveries in the outbox), configuration, anything a retry could not rebuild.
    Disk,
    /// In the database, through the operating system: survives hookd dying (even `kill -9`),
    /// and reaches the disk with the next `Disk` commit, at most [`HISTORY_LAG`] later. Only
    /// for history: log entries, run records of sync calls, call counters.
    History,
    /// History no caller waits for (a call answered before its record is written): a batch of
    /// nothing else waits up to [`LINGER`] for company before it commits.
    Behind,
}

impl Durability {
    /// Disk when `outbox` creates deliveries (accepted work), else history.
    fn of(outbox: &super::Outbox) -> Durability {
        if outbox.has_deliveries() {
            Durability::Disk
        } else {
            Durability::History
        }
    }
}

/// Runs on the open transaction (`None` if it could not begin or was already lost); the flag
/// says whether the job is alone in its batch, so it can skip its savepoint. Returns what to
/// do once the batch has committed, and whether the job succeeded.
type WriteJob = Box<dyn FnOnce(Option<&Connection>, bool) -> (Completion, bool) + Send>;

/// What a failed write job takes with it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Undo {
    /// Only its own changes: the job runs in a savepoint. For operations that can fail for
    /// reasons of their own (a name taken, a revision moved on, a row gone).
    Savepoint,
    /// The whole batch: every job in it fails with it. For operations that fail only when the
    /// database does (then the batch's commit would most likely fail too); they skip the
    /// savepoint, whose statement journal copies every page the job touches.
    Batch,
}

/// Write jobs committed together at most; bounds the latency one commit adds to the first job.
const MAX_BATCH: usize = 512;

/// The handle operations run through.
pub struct Sqlite {
    tx: mpsc::Sender<Job>,
    path: PathBuf,
    feeds: Arc<Feeds>,
}

impl Sqlite {
    /// Opens (creating if needed) the database, applies migrations and starts the owner thread.
    pub fn open(path: &Path, feeds: Arc<Feeds>) -> Result<Sqlite> {
        configure_library();
        let mut conn = open_connection(path)?;
        schema::migrate(&mut conn, path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hookd-store".into())
            .spawn(move || owner(conn, rx))
            .map_err(|e| StoreError::Io {
                path: path.into(),
                action: "start the database thread",
                source: e,
            })?;
        Ok(Sqlite {
            tx,
            path: path.to_path_buf(),
            feeds,
        })
    }

    /// Runs `f` on the owner thread, outside any transaction (reads, or writes that manage
    /// their own transaction).
    async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job::Read(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        }));
        self.tx.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` as one atomic unit of a write transaction, and answers only after that
    /// transaction has committed as far as `durability` asks (group commit: concurrent writers
    /// share one commit). If `f` fails, its own changes are rolled back and the others' kept.
    async fn write<T, F>(&self, durability: Durability, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_undo(durability, Undo::Savepoint, f).await
    }

    /// [`Sqlite::write`] for an operation that fails only when the database does: if `f`
    /// fails, the whole batch is rolled back and fails with it ([`Undo::Batch`]).
    async fn write_whole<T, F>(&self, durability: Durability, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_undo(durability, Undo::Batch, f).await
    }

    async fn write_undo<T, F>(&self, durability: Durability, undo: Undo, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.enqueue(durability, undo, f, move |result| {
            let _ = reply.send(result);
        })?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues `f` as [`Sqlite::write_undo`] does, and has the owner thread give `done` its
    /// result once the batch has committed (or failed). Queued when this returns: every
    /// operation asked for later runs after it.
    fn enqueue<T, F, D>(&self, durability: Durability, undo: Undo, f: F, done: D) -> Result<()>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        D: FnOnce(Result<T>) + Send + 'static,
    {
        let job = Job::Write(
            Box::new(move |conn: Option<&Connection>, alone: bool| {
                let result = match conn {
                    // Alone in its batch, a failed job rolls the whole transaction back instead.
                    Some(conn) if alone || undo == Undo::Batch => f(conn),
                    Some(conn) => savepoint(conn, f),
                    None => Err(StoreError::Commit("the transaction was rolled back".into())),
                };
                // A failed job that had no savepoint takes the batch with it.
                let ok = result.is_ok() || (undo == Undo::Savepoint && !alone);
                let completion: Completion = Box::new(move |commit_error: Option<&str>| {
                    done(match (result, commit_error) {
                        (Ok(v), None) => Ok(v),
                        (Err(e), _) => Err(e),
                        (Ok(_), Some(e)) => Err(StoreError::Commit(e.to_string())),
                    })
                });
                (completion, ok)
            }),
            durability,
        );
        self.tx.send(job).map_err(|_| StoreError::Closed)
    }
}

/// Runs `f` in a savepoint: released on success, rolled back on error.
fn savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    control(conn, "SAVEPOINT job")?;
    match f(conn) {
        Ok(v) => {
            control(conn, "RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            let _ = control(conn, "ROLLBACK TO job").and_then(|()| control(conn, "RELEASE job"));
            Err(e)
        }
    }
}

/// Runs a transaction-control statement from the statement cache: every write runs several,
/// and parsing them each time is a measurable share of a small commit.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// The owner thread: reads run alone; consecutive writes are batched into one transaction.
fn owner(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    let mut next = None;
    let mut sync = SyncState::default();
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        match job {
            Job::Read(f) => f(&mut conn),
            Job::Write(first, d) => {
                let mut batch = Batch {
                    jobs: vec![first],
                    durable: d == Durability::Disk,
                    behind: d == Durability::Behind,
                };
                next = batch.gather(&rx);
                if batch.behind && next.is_none() && batch.jobs.len() < LINGER_BATCH {
                    // Nobody waits for these: a moment's wait lets the next ones share the
                    // commit, and spares their senders waking this thread.
                    std::thread::sleep(LINGER);
                    next = batch.gather(&rx);
                }
                let (batch, durable) = (batch.jobs, batch.durable);
                let flushed = sync.prepare(&conn, durable);
                if commit_batch(&mut conn, batch) {
                    sync.committed(flushed);
                }
            }
        }
    }
}

/// How long a batch of [`Durability::Behind`] writes alone waits for more, and how many it
/// takes not to wait.
const LINGER: std::time::Duration = std::time::Duration::from_micros(250);
const LINGER_BATCH: usize = 64;

/// The writes one transaction commits.
struct Batch {
    jobs: Vec<WriteJob>,
    /// Whether one must reach the disk before its caller hears of it.
    durable: bool,
    /// Whether no caller waits for any of them.
    behind: bool,
}

impl Batch {
    /// Adds the writes queued now, up to [`MAX_BATCH`]; returns the read that ended them.
    fn gather(&mut self, rx: &mpsc::Receiver<Job>) -> Option<Job> {
        while self.jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Job::Write(w, d)) => {
                    self.jobs.push(w);
                    self.durable |= d == Durability::Disk;
                    self.behind &= d == Durability::Behind;
                }
                Ok(read) => return Some(read),
                Err(_) => return None,
            }
        }
        None
    }
}

/// The connection's `synchronous` setting, switched per batch: FULL (fsync at commit) when the
/// batch holds a [`Durability::Disk`] write or history has waited [`HISTORY_LAG`], else NORMAL.
/// In WAL mode a NORMAL commit is complete and atomic but not yet flushed; the next FULL commit
/// flushes it with its own.
struct SyncState {
    full: bool,
    last_full: std::time::Instant,
}

impl Default for SyncState {
    fn default() -> Self {
        SyncState {
            full: true,
            last_full: std::time::Instant::now(),
        }
    }
}

impl SyncState {
    /// Sets the mode for the next batch; returns whether that batch commits with an fsync.
    fn prepare(&mut self, conn: &Connection, durable: bool) -> bool {
        let want = durable || self.last_full.elapsed() >= HISTORY_LAG;
        if want != self.full {
            let sql = if want {
                "PRAGMA synchronous = FULL"
            } else {
                "PRAGMA synchronous = NORMAL"
            };
            match control(conn, sql) {
                Ok(()) => self.full = want,
                Err(e) => tracing::warn!("cannot set the database's synchronous mode: {e}"),
            }
        }
        self.full
    }

    /// Records a batch that committed, with or without an fsync.
    fn committed(&mut self, flushed: bool) {
        if flushed {
            self.last_full = std::time::Instant::now();
        }
    }
}

/// Commits a batch; true when it committed. A job that failed without a savepoint of its own
/// (alone in the batch, or [`Undo::Batch`]) rolls the whole batch back: the jobs after it do
/// not run, and every job's caller gets the failure.
fn commit_batch(conn: &mut Connection, batch: Vec<WriteJob>) -> bool {
    let begin = control(conn, "BEGIN IMMEDIATE");
    let mut live = begin.is_ok();
    let alone = batch.len() == 1;
    let completions: Vec<Completion> = batch
        .into_iter()
        .map(|job| {
            let (done, ok) = job(live.then_some(&*conn), alone);
            live &= ok;
            done
        })
        .collect();
    // The batch's call counters, added up while its jobs ran (see hooks::record_call).
    if live && let Err(e) = hooks::flush_calls(conn) {
        tracing::error!("cannot write the call counters: {e}");
        live = false;
    }
    hooks::discard_calls();
    let err = match begin {
        Err(e) => Some(e.to_string()),
        Ok(()) if !live => {
            let _ = control(conn, "ROLLBACK");
            Some("rolled back with a write that failed beside it".to_string())
        }
        Ok(()) => control(conn, "COMMIT").err().map(|e| {
            let _ = control(conn, "ROLLBACK");
            e.to_string()
        }),
    };
    for c in completions {
        c(err.as_deref());
    }
    err.is_none()
}

/// Turns off SQLite's memory statistics, which take a process-wide mutex on every allocation
/// (hookd never reads them). Only possible before SQLite's first use in the process; later
/// calls are refused by SQLite and change nothing.
fn configure_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before any connection exists in this process (or
        // it returns SQLITE_MISUSE and does nothing); the option takes one int argument.
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            );
        }
    });
}

fn open_connection(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
            path: dir.into(),
            action: "create the state directory",
            source: e,
        })?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750));
    }
    // SQLite's own message ("unable to open database file") hides the cause; ask the OS first.
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| StoreError::Io {
            path: path.into(),
            action: "open the database",
            source: e,
        })?;
    let conn = Connection::open(path)?;
    // Secrets live in here: nobody but hookd's user reads it.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        StoreError::Io {
            path: path.into(),
            action: "set permissions on",
            source: e,
        }
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // hookd is the database's only user: holding it exclusively spares every transaction its
    // file-lock system calls, keeps the WAL index in memory instead of a shared-memory file,
    // and stops a second daemon on the same state directory (which would deliver everything
    // twice) at its first write.
    let setup = (|| {
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Each write job runs in a savepoint, and SQLite copies every page a savepoint first
        // touches into a statement journal: in memory that is a copy, in a file a write.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Take the lock now, so a database another process holds is a clear error here.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT")
    })();
    if let Err(e) = setup {
        return Err(match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::InUse(path.into())
            }
            _ => e.into(),
        });
    }
    // Room for every statement the daemon runs, so the hot ones are never parsed again; and
    // plans fixed at preparation, so binding another LIMIT or time does not parse them again.
    conn.set_prepared_statement_cache_capacity(128);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(store: &Sqlite) -> impl std::future::Future<Output = Result<Vec<i64>>> + '_ {
        store.call(|c| {
            let mut stmt = c.prepare("SELECT x FROM t ORDER BY x")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_writes_leave_nothing_and_spare_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(Sqlite::open(&dir.path().join("t.db"), super::super::Feeds::new()).unwrap());
        store
            .call(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();

        // Alone: the failed job's insert is rolled back.
        let lone = store
            .write(Durability::Disk, |c| {
                c.execute("INSERT INTO t VALUES (-1)", [])?;
                Err::<(), _>(StoreError::Conflict)
            })
            .await;
        assert!(matches!(lone, Err(StoreError::Conflict)));
        assert_eq!(count(&store).await.unwrap(), Vec::<i64>::new());

        // Many at once (batched or not): every even job commits, every odd one leaves nothing.
        let jobs = (0..40i64).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(Durability::Disk, move |c| {
                        c.execute("INSERT INTO t VALUES (?1)", [i])?;
                        if i % 2 == 1 {
                            return Err(StoreError::Corrupt(format!("job {i}")));
                        }
                        Ok(i)
                    })
                    .await
            })
        });
        let mut results = Vec::new();
        for j in jobs.collect::<Vec<_>>() {
            results.push(j.await.unwrap());
        }
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), i % 2 == 0, "job {i}: {r:?}");
        }
        let want: Vec<i64> = (0..40).filter(|i| i % 2 == 0).collect();
        assert_eq!(count(&store).await.unwrap(), want);
    }

    #[tokio::test]
    async fn history_waits_for_fsync_at_most_the_lag() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("t.db"), super::super::Feeds::new()).unwrap();
        let mode = || {
            store.call(|c| Ok(c.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0))?))
        };
        let (normal, full) = (1, 2);
        store
            .write(Durability::Disk, |c| {
                Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?)
            })
            .await
            .unwrap();
        assert_eq!(mode().await.unwrap(), full, "a durable write is flushed");
        let insert =
            |x: i64| move |c: &Connection| Ok(c.execute("INSERT INTO t VALUES (?1)", [x])?);
        store.write(Durability::History, insert(1)).await.unwrap();
        assert_eq!(
            mode().await.unwrap(),
            normal,
            "history right after a flush is not"
        );
        store.write(Durability::Disk, insert(2)).await.unwrap();
        assert_eq!(mode().await.unwrap(), full);
        store.write(Durability::History, insert(3)).await.unwrap();
        assert_eq!(mode().await.unwrap(), normal);
        tokio::time::sleep(HISTORY_LAG + std::time::Duration::from_millis(100)).await;
        store.write(Durability::History, insert(4)).await.unwrap();
        assert_eq!(
            mode().await.unwrap(),
            full,
            "history older than the lag is flushed"
        );
        let n: i64 = store
            .call(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 4);
    }
}
