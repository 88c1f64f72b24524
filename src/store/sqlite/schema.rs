//! Schema and migrations, versioned by `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up and runs in its own transaction
//! together with the version bump, so a crash mid-migration leaves the previous version intact.
//! Migrations are append-only: a released step is never edited. Tables refer to hooks by id and
//! also copy the hook's name, so history (runs, logs, deliveries) outlives a deleted hook.

use crate::store::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;

pub const MIGRATIONS: &[&str] = &[
    // 1: hooks, script runs, and the log of calls, attempts and management actions.
    r#"
    CREATE TABLE hooks (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('script', 'message', 'outgoing')),
        description   TEXT NOT NULL DEFAULT '',
        enabled       INTEGER NOT NULL DEFAULT 1,
        token_hash    BLOB UNIQUE,
        token_prefix  TEXT,
        options       TEXT NOT NULL DEFAULT '{}',
        call_count    INTEGER NOT NULL DEFAULT 0,
        last_call_at  INTEGER,
        last_status   TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        hook_id      INTEGER NOT NULL,
        hook         TEXT NOT NULL,
        status       TEXT NOT NULL,
        exit_code    INTEGER,
        queued_at    INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER,
        request      BLOB,
        stdout       BLOB,
        stderr       BLOB
    );
    CREATE INDEX runs_hook ON runs (hook, id);
    CREATE INDEX runs_status ON runs (status) WHERE status IN ('queued', 'running');
    CREATE TABLE logs (
        id           INTEGER PRIMARY KEY,
        time         INTEGER NOT NULL,
        direction    TEXT NOT NULL CHECK (direction IN ('in', 'out', 'admin')),
        hook         TEXT,
        method       TEXT,
        url          TEXT,
        status       INTEGER,
        error        TEXT,
        duration_ms  INTEGER,
        remote_addr  TEXT,
        run_id       INTEGER,
        delivery_id  TEXT,
        attempt      INTEGER,
        uid          INTEGER
    );
    CREATE INDEX logs_time ON logs (time);
    CREATE INDEX logs_hook ON logs (hook, id);
    "#,
    // 2: the outbox. An event is stored once; each subscribed outgoing hook gets a delivery row
    // in the same transaction. `failing_since` tracks an endpoint failing without a success.
    r#"
    CREATE TABLE events (
        id     TEXT PRIMARY KEY,
        type   TEXT NOT NULL,
        time   INTEGER NOT NULL,
        data   TEXT NOT NULL
    );
    CREATE INDEX events_time ON events (time);
    CREATE TABLE deliveries (
        id               INTEGER PRIMARY KEY,
        event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        hook_id          INTEGER NOT NULL,
        hook             TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'succeeded', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_status      INTEGER,
        last_error       TEXT,
        next_attempt_at  INTEGER,
        created_at       INTEGER NOT NULL,
        finished_at      INTEGER
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX deliveries_hook ON deliveries (hook, id);
    CREATE INDEX deliveries_event ON deliveries (event_id);
    ALTER TABLE hooks ADD COLUMN failing_since INTEGER;
    "#,
    // 3: replay protection: delivery ids (X-GitHub-Delivery, webhook-id) seen per hook.
    r#"
    CREATE TABLE seen_deliveries (
        hook_id      INTEGER NOT NULL,
        delivery_id  TEXT NOT NULL,
        time         INTEGER NOT NULL,
        PRIMARY KEY (hook_id, delivery_id)
    ) WITHOUT ROWID;
    CREATE INDEX seen_deliveries_time ON seen_deliveries (time);
    "#,
    // 4: hooks carry a revision, so a change made from a stale read is refused, and the
    // format of their options column (1: the store's own form, which has the field names
    // earlier releases wrote). Hook ids are never used twice (AUTOINCREMENT, starting past
    // every id history still names), so a new hook of a deleted one's name is another hook;
    // runs are listed by the hook's id.
    r#"
    CREATE TABLE hooks_v4 (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        name           TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL CHECK (kind IN ('script', 'message', 'outgoing')),
        description    TEXT NOT NULL DEFAULT '',
        enabled        INTEGER NOT NULL DEFAULT 1,
        token_hash     BLOB UNIQUE,
        token_prefix   TEXT,
        options        TEXT NOT NULL DEFAULT '{}',
        call_count     INTEGER NOT NULL DEFAULT 0,
        last_call_at   INTEGER,
        last_status    TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        failing_since  INTEGER,
        revision       INTEGER NOT NULL DEFAULT 0,
        options_format INTEGER NOT NULL DEFAULT 1
    );
    INSERT INTO hooks_v4 (id, name, kind, description, enabled, token_hash, token_prefix, options,
                          call_count, last_call_at, last_status, created_at, updated_at, failing_since)
        SELECT id, name, kind, description, enabled, token_hash, token_prefix, options,
               call_count, last_call_at, last_status, created_at, updated_at, failing_since
        FROM hooks;
    DROP TABLE hooks;
    ALTER TABLE hooks_v4 RENAME TO hooks;
    DELETE FROM sqlite_sequence WHERE name = 'hooks';
    INSERT INTO sqlite_sequence (name, seq) SELECT 'hooks', max(
        coalesce((SELECT max(id) FROM hooks), 0),
        coalesce((SELECT max(hook_id) FROM runs), 0),
        coalesce((SELECT max(hook_id) FROM deliveries), 0));
    CREATE INDEX runs_hook_id ON runs (hook_id, id);
    "#,
    // 5: runs keep their request for `runs rerun` (pruned with the run), and say which run
    // they repeat and who cancelled them.
    r#"
    ALTER TABLE runs ADD COLUMN rerun_of INTEGER;
    ALTER TABLE runs ADD COLUMN cancelled_by INTEGER;
    "#,
    // 6: idempotency keys of `hookctl emit`: the event a key first made, kept for 24 hours;
    // pending deliveries by hook, for pacing (a recovered endpoint's backlog is brought forward).
    r#"
    CREATE TABLE emit_keys (
        key        TEXT PRIMARY KEY,
        event_id   TEXT NOT NULL,
        deliveries INTEGER NOT NULL,
        time       INTEGER NOT NULL
    );
    CREATE INDEX emit_keys_time ON emit_keys (time);
    CREATE INDEX deliveries_pending_hook ON deliveries (hook_id, next_attempt_at)
        WHERE status = 'pending';
    "#,
    // 7: the same CHECK constraints on log directions and delivery statuses, written as
    // comparisons: SQLite checks `x IN (three or more values)` through a temporary b-tree
    // built for every row written. Only the text of the two table definitions changes (the
    // documented procedure for a change that keeps every stored row valid), so no table is
    // copied; `migrate` moves the schema version on after it.
    r#"
    PRAGMA writable_schema = ON;
    UPDATE sqlite_schema
        SET sql = replace(sql, 'CHECK (direction IN (''in'', ''out'', ''admin''))',
                          'CHECK (direction = ''in'' OR direction = ''out'' OR direction = ''admin'')')
        WHERE type = 'table' AND name = 'logs';
    UPDATE sqlite_schema
        SET sql = replace(sql,
            'CHECK (status IN (''pending'', ''sending'', ''succeeded'', ''failed''))',
            'CHECK (status = ''pending'' OR status = ''sending'' OR status = ''succeeded'' OR status = ''failed'')')
        WHERE type = 'table' AND name = 'deliveries';
    PRAGMA writable_schema = OFF;
    "#,
];

pub fn current_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let found = current_version(conn)?;
    if found > known {
        return Err(StoreError::TooNew {
            path: path.into(),
            found,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        // DDL moves the schema version on by itself; a definition edited in place (7) takes
        // effect only when it moves, so every migration moves it once more.
        let version: i64 = tx.pragma_query_value(None, "schema_version", |r| r.get(0))?;
        tx.pragma_update(None, "schema_version", version + 1)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with every migration applied, in a directory dropped with it.
    fn migrated() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        (dir, path, conn)
    }

    #[test]
    fn migrates_once_and_refuses_newer() {
        let (_dir, path, mut conn) = migrated();
        assert_eq!(current_version(&conn).unwrap(), MIGRATIONS.len() as i64);
        migrate(&mut conn, &path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut conn, &path),
            Err(StoreError::TooNew { found: 999, .. })
        ));
    }

    #[test]
    fn checks_hold_after_their_rewrite() {
        let (_dir, _path, conn) = migrated();
        let sql: String = conn
            .query_row(
                "SELECT group_concat(sql, ' ') FROM sqlite_schema WHERE name IN ('logs', 'deliveries')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!sql.contains(" IN ("), "{sql}");
        let log = |d: &str| conn.execute("INSERT INTO logs (time, direction) VALUES (1, ?1)", [d]);
        for d in ["in", "out", "admin"] {
            log(d).unwrap();
        }
        assert!(log("sideways").is_err());
        conn.execute(
            "INSERT INTO events (id, type, time, data) VALUES ('e', 't', 1, '{}')",
            [],
        )
        .unwrap();
        let delivery = |s: &str| {
            conn.execute(
                "INSERT INTO deliveries (event_id, hook_id, hook, status, created_at)
                 VALUES ('e', 1, 'h', ?1, 1)",
                [s],
            )
        };
        for s in ["pending", "sending", "succeeded", "failed"] {
            delivery(s).unwrap();
        }
        assert!(delivery("lost").is_err());
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}
