//! The domain operations on SQLite: each one job on the owner thread, so each one commit.
//!
//! Writes that carry an [`Outbox`] pick their durability from it (deliveries are accepted work
//! and reach the disk; everything else here that is pure history may lag), and announce what
//! they committed through [`Feeds`](crate::store::Feeds) after the commit.

use super::{Durability, Sqlite, Undo, events, hooks, logs, runs};
use crate::hook::{Defaults, Hook};
use crate::proto::{DeliveryView, EndpointView, HookKind, HookView, LogQuery, LogView, RunView};
use crate::run::{Invocation, Outcome};
use crate::store::handoff::Handed;
use crate::store::{
    AttemptRecord, Backend, CallRecord, Claimed, Counts, Created, Deferred, DeliveryFilter,
    DeliveryStatus, Emission, Emitted, Finished, Fut, Hold, HookChange, NewLog, NewRun, Outbox,
    QueuedRun, Redelivery, Result, RunFilter, StoreError, StoredRequest, Written,
};
use rusqlite::Connection;
use std::sync::Arc;

/// Writes the staged events and one pending delivery per subscriber; returns the deliveries'
/// ids.
fn write_outbox(tx: &Connection, outbox: &Outbox, now: i64) -> Result<Vec<i64>> {
    write_outbox_to(tx, outbox, now, None)
}

/// [`write_outbox`], handing deliveries to the worker in memory while `handed` finds room
/// (see [`crate::store::handoff`]); the others are written pending.
fn write_outbox_to(
    tx: &Connection,
    outbox: &Outbox,
    now: i64,
    mut handed: Option<&mut Handed>,
) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for s in outbox.events() {
        events::insert_event(tx, &s.event, &s.data)?;
        for (hook_id, hook) in &s.targets {
            let claimed = handed.as_mut().is_some_and(|h| h.reserve());
            let id = events::insert_delivery(tx, (&s.event.id, *hook_id, hook), now, claimed)?;
            match handed.as_mut() {
                Some(h) if claimed => h.push(Claimed {
                    id,
                    hook_id: *hook_id,
                    hook: hook.clone(),
                    attempts: 0,
                    event: s.event.clone(),
                }),
                Some(h) => h.pending += 1,
                None => {}
            }
            ids.push(id);
        }
    }
    Ok(ids)
}

impl Sqlite {
    /// A write with an outbox and nothing else to announce.
    async fn with_outbox<T, F>(&self, d: Durability, outbox: Outbox, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let mut handed = self.handed();
        let (value, handed) = self
            .write_whole(d, move |tx| {
                let value = f(tx)?;
                write_outbox_to(tx, &outbox, crate::time::now_ms(), Some(&mut handed))?;
                Ok((value, handed))
            })
            .await?;
        handed.announce(&self.feeds, []);
        Ok(value)
    }

    fn handed(&self) -> Handed {
        Handed::new(self.feeds.handoff.clone())
    }

    /// Queues a call's record (see [`Backend::record_call`]); once it is committed, announces
    /// it and gives `done` the log entry's id. `behind`: nobody waits for it.
    fn queue_call(
        &self,
        call: CallRecord,
        outbox: Outbox,
        behind: bool,
        done: impl FnOnce(Result<i64>) + Send + 'static,
    ) -> Result<()> {
        let d = match Durability::of(&outbox) {
            Durability::History if behind => Durability::Behind,
            d => d,
        };
        let (handed, feeds) = (self.handed(), self.feeds.clone());
        let write = move |tx: &Connection| write_call(tx, call, &outbox, handed);
        self.enqueue(d, Undo::Batch, write, move |written| {
            done(written.map(|(id, call, handed)| {
                handed.announce(&feeds, [(id, &call.log)]);
                id
            }))
        })
    }
}

/// A call's record (see [`Backend::record_call`]), written in the open transaction.
fn write_call(
    tx: &Connection,
    call: CallRecord,
    outbox: &Outbox,
    mut handed: Handed,
) -> Result<(i64, CallRecord, Handed)> {
    if let Some((run_id, outcome)) = &call.run {
        runs::finish(tx, *run_id, outcome)?;
    }
    let at = call.log.time;
    hooks::record_call(call.hook_id, at, call.status);
    write_outbox_to(tx, outbox, at, Some(&mut handed))?;
    Ok((logs::insert(tx, &call.log)?, call, handed))
}

impl Backend for Sqlite {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn list_hooks(&self, kind: Option<HookKind>) -> Fut<'_, Vec<Hook>> {
        Box::pin(self.call(move |c| hooks::list(c, kind)))
    }

    fn hook_views(&self, kind: Option<HookKind>, defaults: Defaults) -> Fut<'_, Vec<HookView>> {
        Box::pin(
            self.call(move |c| hooks::list_map(c, kind, |h| Ok(crate::hook::view(&h, &defaults)))),
        )
    }

    fn hook(&self, name: &str) -> Fut<'_, Option<Hook>> {
        let name = name.to_string();
        Box::pin(self.call(move |c| hooks::get(c, &name)))
    }

    fn hook_by_id(&self, id: i64) -> Fut<'_, Option<Hook>> {
        Box::pin(self.call(move |c| hooks::get_by_id(c, id)))
    }

    fn create_hook(&self, hook: Hook, log: NewLog) -> Fut<'_, Option<Created>> {
        Box::pin(async move {
            let (created, log) = self
                .write(Durability::Disk, move |tx| {
                    let Some(id) = hooks::insert(tx, &hook)? else {
                        return Ok((None, log));
                    };
                    let log_id = logs::insert(tx, &log)?;
                    Ok((Some(Created { id, log_id }), log))
                })
                .await?;
            if let Some(c) = created {
                self.feeds.committed([(c.log_id, &log)], false);
            }
            Ok(created)
        })
    }

    fn apply_hooks(&self, changes: Vec<HookChange>) -> Fut<'_, Vec<Written>> {
        Box::pin(async move {
            let (written, changes): (Vec<Written>, _) = self
                .write(Durability::Disk, move |tx| {
                    let written = changes
                        .iter()
                        .map(|c| apply_change(tx, c))
                        .collect::<Result<_>>()?;
                    Ok((written, changes))
                })
                .await?;
            let logs = written
                .iter()
                .map(|w| w.log_id)
                .zip(changes.iter().map(HookChange::log));
            self.feeds.committed(logs, false);
            Ok(written)
        })
    }

    fn disable_endpoint(&self, hook_id: i64, at: i64, outbox: Outbox) -> Fut<'_, Option<Hook>> {
        Box::pin(async move {
            let deliveries = outbox.has_deliveries();
            let hook = self
                .write(Durability::Disk, move |tx| {
                    if !hooks::disable(tx, hook_id, at)? {
                        return Ok(None);
                    }
                    write_outbox(tx, &outbox, at)?;
                    hooks::get_by_id(tx, hook_id)
                })
                .await?;
            if hook.is_some() {
                self.feeds.committed([], deliveries);
            }
            Ok(hook)
        })
    }

    fn first_delivery(&self, hook_id: i64, id: String, at: i64, since: i64) -> Fut<'_, bool> {
        Box::pin(self.write(Durability::Disk, move |tx| {
            hooks::first_delivery(tx, hook_id, &id, at, since)
        }))
    }

    fn rate_token(
        &self,
        _: i64,
        _: u32,
        _: u32,
        _: i64,
    ) -> Fut<'_, Option<std::result::Result<(), u64>>> {
        Box::pin(async { Ok(None) })
    }

    fn take_run_slot(&self, _: i64, _: u32, _: bool) -> Fut<'_, Option<Option<i32>>> {
        Box::pin(async { Ok(None) })
    }

    fn release_run_slot(&self, _: i64, _: i32) -> Fut<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn counts(&self) -> Fut<'_, Counts> {
        Box::pin(self.call(|c| {
            Ok(Counts {
                hooks: hooks::count(c)?,
                queued_runs: runs::count_queued(c)?,
            })
        }))
    }

    fn queue_run(&self, run: NewRun, inv: Invocation) -> Fut<'_, i64> {
        Box::pin(async move {
            let request = crate::store::rows::encode_request(&inv)?;
            self.write_whole(Durability::Disk, move |tx| {
                runs::insert(tx, &run, &request, true)
            })
            .await
        })
    }

    fn publish(&self, outbox: Outbox) -> Fut<'_, ()> {
        Box::pin(self.with_outbox(Durability::of(&outbox), outbox, |_| Ok(())))
    }

    fn emit(&self, e: Emission) -> Fut<'_, Emitted> {
        Box::pin(async move {
            let deliveries = e.outbox.delivery_count();
            let log = e.log.clone();
            let (emitted, log_id) = self
                .write(Durability::Disk, move |tx| {
                    if let Some((key, since)) = &e.key
                        && let Some(first) = events::emitted(tx, key, *since)?
                    {
                        return Ok((first, None));
                    }
                    write_outbox(tx, &e.outbox, e.log.time)?;
                    let log_id = logs::insert(tx, &e.log)?;
                    if let Some((key, _)) = &e.key {
                        events::remember_key(tx, key, &e.event_id, deliveries, e.log.time)?;
                    }
                    let emitted = Emitted {
                        id: e.event_id,
                        deliveries,
                        duplicate: false,
                    };
                    Ok((emitted, Some(log_id)))
                })
                .await?;
            if let Some(id) = log_id {
                self.feeds.committed([(id, &log)], deliveries > 0);
            }
            Ok(emitted)
        })
    }

    fn start_run(&self, run: NewRun, inv: Invocation) -> Fut<'_, i64> {
        // History: if hookd dies mid-run the row is marked interrupted at start-up; if the
        // machine loses power first, the caller got no answer either.
        Box::pin(async move {
            let request = crate::store::rows::encode_request(&inv)?;
            self.write_whole(Durability::History, move |tx| {
                runs::insert(tx, &run, &request, false)
            })
            .await
        })
    }

    fn run_started(&self, id: i64, at: i64, outbox: Outbox) -> Fut<'_, ()> {
        Box::pin(self.with_outbox(Durability::Disk, outbox, move |tx| {
            runs::mark_running(tx, id, at)
        }))
    }

    fn finish_run(&self, id: i64, outcome: Outcome, outbox: Outbox) -> Fut<'_, ()> {
        Box::pin(self.with_outbox(Durability::Disk, outbox, move |tx| {
            runs::finish(tx, id, &outcome)
        }))
    }

    fn record_call(&self, call: CallRecord, outbox: Outbox) -> Fut<'_, i64> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let queued = self.queue_call(call, outbox, false, move |written| {
            let _ = reply.send(written);
        });
        Box::pin(async move {
            queued?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn record_call_behind(self: Arc<Self>, call: CallRecord, outbox: Outbox, hold: Hold) {
        let hook = call.log.hook.clone();
        let queued = self.queue_call(call, outbox, true, move |written| {
            drop(hold);
            if let Err(e) = written {
                tracing::error!(hook = ?hook, "cannot record a call: {e}");
            }
        });
        if let Err(e) = queued {
            tracing::error!("cannot record a call: {e}");
        }
    }

    fn recover_runs(&self, at: i64) -> Fut<'_, Vec<QueuedRun>> {
        Box::pin(self.call(move |c| runs::recover(c, at)))
    }

    fn abandon_run(&self, id: i64, at: i64) -> Fut<'_, ()> {
        Box::pin(self.call(move |c| runs::abandon(c, id, at)))
    }

    fn cancel_queued(&self, id: i64, at: i64, uid: Option<u32>, outbox: Outbox) -> Fut<'_, bool> {
        Box::pin(async move {
            let deliveries = outbox.has_deliveries();
            let done = self
                .write(Durability::Disk, move |tx| {
                    let done = runs::cancel_queued(tx, id, at, uid)?;
                    if done {
                        write_outbox(tx, &outbox, at)?;
                    }
                    Ok(done)
                })
                .await?;
            self.feeds.committed([], done && deliveries);
            Ok(done)
        })
    }

    fn run_request(&self, id: i64) -> Fut<'_, Option<StoredRequest>> {
        Box::pin(self.call(move |c| runs::request(c, id)))
    }

    fn log_action(&self, log: NewLog) -> Fut<'_, i64> {
        Box::pin(async move {
            let (id, log) = self
                .write(Durability::Disk, move |tx| {
                    Ok((logs::insert(tx, &log)?, log))
                })
                .await?;
            self.feeds.committed([(id, &log)], false);
            Ok(id)
        })
    }

    fn runs(&self, filter: RunFilter) -> Fut<'_, Vec<RunView>> {
        Box::pin(self.call(move |c| runs::list(c, &filter)))
    }

    fn run(&self, id: i64) -> Fut<'_, Option<RunView>> {
        Box::pin(self.call(move |c| runs::get(c, id, None)))
    }

    fn hook_run(&self, hook_id: i64, id: i64) -> Fut<'_, Option<RunView>> {
        Box::pin(self.call(move |c| runs::get(c, id, Some(hook_id))))
    }

    fn claim_due(&self, at: i64, limit: u32) -> Fut<'_, (Vec<Claimed>, Option<i64>)> {
        Box::pin(async move {
            // A lost claim only leaves the rows pending; start-up resets claimed ones anyway.
            let (rows, next) = self
                .write(Durability::History, move |tx| {
                    events::claim_due(tx, at, limit)
                })
                .await?;
            // Events are decoded here, off the database thread. One that cannot be read now
            // cannot be read on any retry either: it fails, visibly.
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                let id = row.id;
                match row.parse() {
                    Ok(c) => claimed.push(c),
                    Err(e) => self.fail_unreadable(id, at, e).await,
                }
            }
            Ok((claimed, next))
        })
    }

    fn claim_test(&self, outbox: Outbox) -> Fut<'_, i64> {
        Box::pin(self.write(Durability::Disk, move |tx| {
            let ids = write_outbox(tx, &outbox, crate::time::now_ms())?;
            for id in &ids {
                events::claim_one(tx, *id)?;
            }
            ids.first()
                .copied()
                .ok_or_else(|| StoreError::Corrupt("a test event was staged for no hook".into()))
        }))
    }

    fn finish_attempt(&self, a: AttemptRecord, outbox: Outbox) -> Fut<'_, Finished> {
        let d = if a.routine && !outbox.has_deliveries() {
            Durability::History
        } else {
            Durability::Disk
        };
        let retry = a.attempt.status == DeliveryStatus::Pending;
        let mut handed = self.handed();
        Box::pin(async move {
            let (finished, log, handed) = self
                .write_whole(d, move |tx| {
                    events::record_attempt(tx, a.delivery_id, &a.attempt)?;
                    let failing = a.attempt.status != DeliveryStatus::Succeeded;
                    let failing_since = match a.endpoint {
                        Some(hook_id) => {
                            events::set_failing_since(tx, hook_id, failing.then_some(a.attempt.at))?
                        }
                        None => None,
                    };
                    write_outbox_to(tx, &outbox, a.attempt.at, Some(&mut handed))?;
                    let log_id = logs::insert(tx, &a.log)?;
                    let finished = Finished {
                        log_id,
                        failing_since,
                    };
                    Ok((finished, a.log, handed))
                })
                .await?;
            handed.announce(&self.feeds, [(finished.log_id, &log)]);
            if retry {
                // The worker planned its sleep while this row was `sending`; let it re-plan.
                self.feeds.deliveries_due.notify_one();
            }
            Ok(finished)
        })
    }

    fn reset_in_flight(&self) -> Fut<'_, usize> {
        Box::pin(self.write(Durability::Disk, events::reset_in_flight))
    }

    fn count_pending(&self) -> Fut<'_, u64> {
        Box::pin(self.call(|c| events::count_pending(c)))
    }

    fn deliveries(&self, filter: DeliveryFilter) -> Fut<'_, Vec<DeliveryView>> {
        Box::pin(self.call(move |c| events::list(c, &filter)))
    }

    fn endpoints(&self) -> Fut<'_, Vec<EndpointView>> {
        Box::pin(self.call(|c| events::endpoints(c)))
    }

    fn defer_deliveries(&self, deferred: Deferred) -> Fut<'_, ()> {
        // History is enough: a deferral lost in a crash leaves the row `sending`, which start-up
        // turns back into pending, and a lost park only means a little more pacing work.
        Box::pin(self.write(Durability::History, move |tx| {
            events::defer(tx, &deferred.deliveries)?;
            for (hook_id, until) in &deferred.hooks {
                events::park(tx, *hook_id, *until)?;
            }
            Ok(())
        }))
    }

    fn release_deliveries(&self, hook_id: i64, at: i64) -> Fut<'_, u64> {
        Box::pin(async move {
            let n = self
                .write(Durability::History, move |tx| {
                    events::release(tx, hook_id, at)
                })
                .await?;
            if n > 0 {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(n)
        })
    }

    fn redeliver_failed(&self, hook: Option<String>, since: Option<i64>, at: i64) -> Fut<'_, u64> {
        Box::pin(async move {
            let n = self
                .write(Durability::Disk, move |tx| {
                    events::redeliver_failed(tx, hook.as_deref(), since, at)
                })
                .await?;
            if n > 0 {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(n)
        })
    }

    fn redeliver(&self, id: i64, at: i64) -> Fut<'_, Redelivery> {
        Box::pin(async move {
            let r = self
                .write(Durability::Disk, move |tx| events::redeliver(tx, id, at))
                .await?;
            if matches!(r, Redelivery::Queued(_)) {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(r)
        })
    }

    fn healthy(&self) -> Fut<'_, bool> {
        // The database is a file this process holds open; its thread answering is enough.
        Box::pin(async move { Ok(self.call(|_| Ok(())).await.is_ok()) })
    }

    fn nodes(&self) -> Fut<'_, Option<Vec<crate::proto::NodeView>>> {
        Box::pin(async { Ok(None) })
    }

    fn logs(&self, query: LogQuery) -> Fut<'_, Vec<LogView>> {
        Box::pin(self.call(move |c| logs::query(c, &query)))
    }

    fn prune(&self, cutoff: i64, seen_cutoff: i64) -> Fut<'_, usize> {
        Box::pin(self.write(Durability::Disk, move |tx| {
            Ok(logs::prune(tx, cutoff)?
                + events::prune(tx, cutoff)?
                + hooks::prune_seen(tx, seen_cutoff)?
                + events::prune_keys(tx, seen_cutoff)?)
        }))
    }
}

impl Sqlite {
    /// Fails a claimed delivery whose stored event cannot be decoded.
    async fn fail_unreadable(&self, id: i64, at: i64, e: StoreError) {
        tracing::error!(delivery = id, "cannot send a claimed delivery: {e}");
        let failed = crate::store::Attempt {
            status: DeliveryStatus::Failed,
            http_status: None,
            error: Some(e.to_string()),
            next_attempt_at: None,
            at,
        };
        let _ = self
            .write(Durability::Disk, move |tx| {
                events::record_attempt(tx, id, &failed)
            })
            .await;
    }
}

/// One change of [`Backend::apply_hooks`], with its admin log entry.
fn apply_change(tx: &Connection, c: &HookChange) -> Result<Written> {
    let hook_id = match c {
        HookChange::Create(h, _) => hooks::insert(tx, h)?.ok_or(StoreError::Conflict)?,
        HookChange::Update(h, _) => {
            hooks::update(tx, h)?;
            h.id
        }
        HookChange::Delete(h, _) => {
            hooks::delete(tx, h)?;
            h.id
        }
    };
    Ok(Written {
        hook_id,
        log_id: logs::insert(tx, c.log())?,
    })
}
