//! `hookd migrate-store`: the whole state of a stopped embedded installation copied into a
//! PostgreSQL database (hooks with their token hashes, runs, logs, events, pending
//! deliveries, replay and idempotency records), then counted on both sides.
//!
//! The source is opened the way the daemon opens it, exclusively, so a running daemon makes
//! the migration refuse, and none can start on it meanwhile. A target that holds hookd data
//! already is refused unless the caller forces it (then it is emptied first). Ids are kept, so
//! runs, logs and deliveries still point at their hooks, and every token keeps working.

use super::StoreError;
use super::postgres::import::{Import, TABLES};
use super::sqlite::export::{Export, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the target database already holds hookd data ({0}); --force replaces it with the source's"
    )]
    NotEmpty(String),
    #[error("the copy does not match its source: {0}")]
    Mismatch(String),
    #[error("--from must be sqlite:PATH (the hookd.db file or its state directory), not {0:?}")]
    From(String),
}

/// Rows of one table: how many the source has, how many the target has after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub source: i64,
    pub target: i64,
}

/// The database file `sqlite:PATH` names (a state directory means its `hookd.db`).
pub fn sqlite_path(from: &str) -> Result<PathBuf, MigrateError> {
    let path = from
        .strip_prefix("sqlite:")
        .ok_or_else(|| MigrateError::From(from.into()))?;
    let path = Path::new(path);
    Ok(if path.is_dir() {
        path.join("hookd.db")
    } else {
        path.to_path_buf()
    })
}

/// Rows handed from the reading thread to the writer, a batch at a time.
enum Batch {
    Table(&'static str, Vec<String>, i64),
    Rows(Vec<Vec<Value>>),
    Done(i64),
}

/// Copies the embedded database at `from` into the PostgreSQL database at `to`.
pub async fn sqlite_to_postgres(
    from: &Path,
    to: &str,
    force: bool,
) -> Result<Vec<Copied>, MigrateError> {
    let target = Import::open(to).await?;
    let mut held = Vec::new();
    for table in ["hooks", "runs", "logs", "events", "deliveries"] {
        let n = target.count(table).await?;
        if n > 0 {
            held.push(format!("{n} {table}"));
        }
    }
    // Opened (and locked) before anything in the target changes.
    let export = Export::open(from)?;
    target.begin().await?;
    if !held.is_empty() {
        if !force {
            return Err(MigrateError::NotEmpty(held.join(", ")));
        }
        target.clear().await?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Batch, StoreError>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let send = |b| tx.blocking_send(b).map_err(|_| StoreError::Closed);
        let run = || -> Result<(), StoreError> {
            for table in TABLES {
                let columns = export.columns(table)?;
                send(Ok(Batch::Table(
                    table,
                    columns.clone(),
                    export.count(table)?,
                )))?;
                export.rows(table, &columns, 500, |rows| send(Ok(Batch::Rows(rows))))?;
            }
            send(Ok(Batch::Done(export.next_id("hooks")?)))
        };
        if let Err(e) = run() {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let mut copied = Vec::new();
    let mut current: Option<(&'static str, Vec<String>)> = None;
    while let Some(batch) = rx.recv().await {
        match batch? {
            Batch::Table(table, columns, source) => {
                copied.push(Copied {
                    table,
                    source,
                    target: 0,
                });
                current = Some((table, columns));
            }
            Batch::Rows(rows) => {
                let (table, columns) = current.as_ref().expect("a table before its rows");
                target.insert(table, columns, &rows).await?;
            }
            Batch::Done(next_hook_id) => target.finish(next_hook_id).await?,
        }
    }
    reader
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let mut differ = Vec::new();
    for c in &mut copied {
        c.target = target.count(c.table).await?;
        if c.target != c.source {
            differ.push(format!("{} {} of {}", c.table, c.target, c.source));
        }
    }
    if !differ.is_empty() {
        return Err(MigrateError::Mismatch(differ.join(", ")));
    }
    target.commit().await?;
    Ok(copied)
}
