//! The SQLite store, owned by one thread.
//!
//! One `rusqlite::Connection` lives on a dedicated OS thread; async code sends it closures over a
//! channel and awaits the answer, so blocking SQLite calls never run on the async runtime and no
//! lock is ever held across an `.await`. Writers use `BEGIN IMMEDIATE` transactions. The schema
//! is versioned with `PRAGMA user_version` (see [`schema`]); a database from a newer hookd is
//! refused rather than guessed at. The database file is created 0600: it holds hook secrets.

pub mod events;
pub mod hooks;
pub mod logs;
pub mod runs;
pub mod schema;

use rusqlite::Connection;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
    #[error("the database thread has stopped")]
    Closed,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A cheap, cloneable handle to the owner thread.
#[derive(Clone)]
pub struct Store {
    tx: mpsc::Sender<Job>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database, applies migrations and starts the owner thread.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = open_connection(path)?;
        schema::migrate(&mut conn, path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hookd-store".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
                }
            })
            .map_err(|e| StoreError::Io {
                path: path.into(),
                action: "start the database thread",
                source: e,
            })?;
        Ok(Store {
            tx,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the owner thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        self.tx.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` inside one IMMEDIATE transaction, committed when it returns Ok.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction) -> Result<T> + Send + 'static,
    {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }
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
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}
