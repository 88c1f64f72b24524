//! Writing rows read from another store into an empty PostgreSQL database
//! (`hookd migrate-store`): multi-row inserts typed by the statement, in one transaction per
//! table batch, with identity sequences set past the copied ids at the end.

use super::schema;
use crate::store::sqlite::export::Value;
use crate::store::{Result, StoreError};
use tokio_postgres::types::{ToSql, Type};

/// Every table a migration fills, children after their parents.
pub const TABLES: &[&str] = &[
    "hooks",
    "runs",
    "logs",
    "events",
    "deliveries",
    "seen_deliveries",
    "emit_keys",
];

pub struct Import {
    client: tokio_postgres::Client,
}

impl Import {
    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Import> {
        let location = super::redacted(url);
        let (mut client, connection) = url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| StoreError::Database(format!("{location}: not a PostgreSQL URL: {e}")))?
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot reach the database at {location}: {e}"))
            })?;
        tokio::spawn(connection);
        schema::migrate(&mut client, &location).await?;
        Ok(Import { client })
    }

    pub async fn count(&self, table: &str) -> Result<i64> {
        let sql = format!("SELECT count(*) FROM {table}");
        Ok(self.client.query_one(&sql, &[]).await?.get(0))
    }

    /// Everything from here to [`Import::commit`] is one transaction: a copy that fails
    /// halfway leaves the target as it was.
    pub async fn begin(&self) -> Result<()> {
        self.client.batch_execute("BEGIN").await?;
        Ok(())
    }

    pub async fn commit(&self) -> Result<()> {
        self.client.batch_execute("COMMIT").await?;
        Ok(())
    }

    /// Empties every table a migration fills.
    pub async fn clear(&self) -> Result<()> {
        let sql = format!("TRUNCATE {} RESTART IDENTITY CASCADE", TABLES.join(", "));
        self.client.batch_execute(&sql).await?;
        Ok(())
    }

    /// Inserts `rows` (values of `columns`, in order) into `table`.
    pub async fn insert(&self, table: &str, columns: &[String], rows: &[Vec<Value>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let width = columns.len();
        let tuples: Vec<String> = (0..rows.len())
            .map(|r| {
                let params: Vec<String> =
                    (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            tuples.join(", ")
        );
        let stmt = self.client.prepare(&sql).await?;
        let types = stmt.params();
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(types.len());
        for (i, v) in rows.iter().flatten().enumerate() {
            values.push(typed(v, &types[i], table, &columns[i % width])?);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        self.client.execute(&stmt, &refs).await?;
        Ok(())
    }

    /// After the copy: deliveries a dead process was sending are pending, and each identity
    /// continues past the copied ids (`next` gives the hooks' next id, never one reused).
    pub async fn finish(&self, next_hook_id: i64) -> Result<()> {
        self.client
            .batch_execute(
                "UPDATE deliveries SET status = 'pending' WHERE status = 'sending';
                 SELECT setval(pg_get_serial_sequence('runs', 'id'), coalesce(max(id), 0) + 1, false) FROM runs;
                 SELECT setval(pg_get_serial_sequence('logs', 'id'), coalesce(max(id), 0) + 1, false) FROM logs;
                 SELECT setval(pg_get_serial_sequence('deliveries', 'id'), coalesce(max(id), 0) + 1, false) FROM deliveries;",
            )
            .await?;
        self.client
            .execute(
                "SELECT setval(pg_get_serial_sequence('hooks', 'id'), $1, false)",
                &[&next_hook_id],
            )
            .await?;
        Ok(())
    }
}

/// `v` as the type PostgreSQL expects for the column.
fn typed(v: &Value, ty: &Type, table: &str, column: &str) -> Result<Box<dyn ToSql + Sync + Send>> {
    let wrong = || StoreError::Corrupt(format!("{table}.{column}: {v:?} cannot be stored as {ty}"));
    Ok(match (v, ty) {
        (Value::Null, &Type::BOOL) => Box::new(None::<bool>),
        (Value::Null, &Type::INT4) => Box::new(None::<i32>),
        (Value::Null, &Type::INT8) => Box::new(None::<i64>),
        (Value::Null, &Type::BYTEA) => Box::new(None::<Vec<u8>>),
        (Value::Null, _) => Box::new(None::<String>),
        (Value::Int(n), &Type::BOOL) => Box::new(*n != 0),
        (Value::Int(n), &Type::INT4) => Box::new(i32::try_from(*n).map_err(|_| wrong())?),
        (Value::Int(n), &Type::INT8) => Box::new(*n),
        (Value::Int(n), &Type::TEXT) => Box::new(n.to_string()),
        (Value::Real(f), &Type::TEXT) => Box::new(f.to_string()),
        (Value::Text(t), &Type::TEXT) => Box::new(t.clone()),
        (Value::Text(t), &Type::BYTEA) => Box::new(t.clone().into_bytes()),
        (Value::Blob(b), &Type::BYTEA) => Box::new(b.clone()),
        (Value::Blob(b), &Type::TEXT) => {
            Box::new(String::from_utf8(b.clone()).map_err(|_| wrong())?)
        }
        _ => return Err(wrong()),
    })
}
