//! Reading a whole embedded database out, table by table, for `hookd migrate-store`.
//!
//! The export opens the database the way the daemon does (migrated to this release's schema,
//! locked exclusively), so it refuses to run while a daemon holds it, and no daemon can start
//! on it until the export is done. Rows are read in one pass per table and handed over in
//! batches, so a large history never sits in memory at once.

use super::{open_connection, schema};
use crate::store::{Result, StoreError};
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use std::path::{Path, PathBuf};

/// One stored value, whatever the backend's column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

pub struct Export {
    conn: Connection,
    path: PathBuf,
}

impl Export {
    /// Opens the database at `path` for export; [`StoreError::InUse`] while a daemon runs on it.
    pub fn open(path: &Path) -> Result<Export> {
        if !path.is_file() {
            return Err(StoreError::Io {
                path: path.into(),
                action: "open the database",
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        // Locked exclusively from here on: a running daemon makes this fail with InUse.
        let mut conn = open_connection(path)?;
        schema::migrate(&mut conn, path)?;
        Ok(Export {
            conn,
            path: path.into(),
        })
    }

    /// The table's columns, in order.
    pub fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
        let names = stmt.query_map([], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    pub fn count(&self, table: &str) -> Result<i64> {
        Ok(self
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    }

    /// The next id AUTOINCREMENT would give `table` (ids of deleted rows are never reused).
    pub fn next_id(&self, table: &str) -> Result<i64> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = ?1",
                [table],
                |r| r.get(0),
            )
            .ok();
        let max: Option<i64> =
            self.conn
                .query_row(&format!("SELECT max(id) FROM {table}"), [], |r| r.get(0))?;
        Ok(seq.unwrap_or(0).max(max.unwrap_or(0)) + 1)
    }

    /// Every row of `table` (`columns` in that order), in batches of `batch` rows handed to
    /// `each`, which may stop the export by failing.
    pub fn rows(
        &self,
        table: &str,
        columns: &[String],
        batch: usize,
        mut each: impl FnMut(Vec<Vec<Value>>) -> Result<()>,
    ) -> Result<()> {
        let sql = format!("SELECT {} FROM {table}", columns.join(", "));
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut chunk = Vec::with_capacity(batch);
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            chunk.push(values);
            if chunk.len() == batch {
                each(std::mem::replace(&mut chunk, Vec::with_capacity(batch)))?;
            }
        }
        if !chunk.is_empty() {
            each(chunk)?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
