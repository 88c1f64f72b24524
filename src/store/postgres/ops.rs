//! The domain operations on PostgreSQL: each one transaction on a pooled connection.
//!
//! The shape follows the embedded backend's operations one for one: the same units of work,
//! the same announcements through [`Feeds`](crate::store::Feeds) after the commit.

use super::{Postgres, announce, begin, events, hooks, logs, nodes, retrying, runs};
use crate::hook::{Defaults, Hook};
use crate::proto::{DeliveryView, EndpointView, HookKind, HookView, LogQuery, LogView, RunView};
use crate::run::{Invocation, Outcome};
use crate::store::{
    Attempt, AttemptRecord, Backend, CallRecord, Claimed, Counts, Created, Deferred,
    DeliveryFilter, DeliveryStatus, Emission, Emitted, Finished, Fut, HookChange, NewLog, NewRun,
    Outbox, QueuedRun, Redelivery, Result, RunFilter, StoreError, StoredRequest, Written,
};
use deadpool_postgres::GenericClient;

/// Writes the staged events and one delivery per subscriber; returns the deliveries' ids.
async fn write_outbox(c: &impl GenericClient, outbox: &Outbox, now: i64) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for s in outbox.events() {
        events::insert_event(c, &s.event, &s.data).await?;
        for (hook_id, hook) in &s.targets {
            ids.push(events::insert_delivery(c, &s.event.id, *hook_id, hook, now).await?);
        }
    }
    Ok(ids)
}

/// One change of [`Backend::apply_hooks`], with its admin log entry.
async fn apply_change(c: &impl GenericClient, change: &HookChange) -> Result<Written> {
    let hook_id = match change {
        HookChange::Create(h, _) => hooks::insert(c, h).await?.ok_or(StoreError::Conflict)?,
        HookChange::Update(h, _) => {
            hooks::update(c, h).await?;
            h.id
        }
        HookChange::Delete(h, _) => {
            hooks::delete(c, h).await?;
            h.id
        }
    };
    Ok(Written {
        hook_id,
        log_id: logs::insert(c, change.log()).await?,
    })
}

/// A lock on an idempotency key for the rest of a transaction, so two nodes emitting with one
/// key at once make one event.
async fn lock_key(c: &impl GenericClient, key: &str) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )
    .await?;
    Ok(())
}

impl Postgres {
    /// A write whose only other effect is `outbox`.
    async fn with_outbox(&self, outbox: Outbox, history: bool) -> Result<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, history).await?;
        write_outbox(&tx, &outbox, crate::time::now_ms()).await?;
        tx.commit().await?;
        self.feeds.committed([], outbox.has_deliveries());
        Ok(())
    }

    async fn fail_unreadable(&self, id: i64, at: i64, e: StoreError) {
        tracing::error!(delivery = id, "cannot send a claimed delivery: {e}");
        let failed = Attempt {
            status: DeliveryStatus::Failed,
            http_status: None,
            error: Some(e.to_string()),
            next_attempt_at: None,
            at,
        };
        if let Ok(c) = self.client().await {
            let _ = events::record_attempt(&c, id, &failed).await;
        }
    }
}

impl Backend for Postgres {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list_hooks(&self, kind: Option<HookKind>) -> Fut<'_, Vec<Hook>> {
        Box::pin(async move { hooks::list_map(&self.hooks_client().await?, kind, Ok).await })
    }

    fn hook_views(&self, kind: Option<HookKind>, defaults: Defaults) -> Fut<'_, Vec<HookView>> {
        Box::pin(async move {
            let c = self.hooks_client().await?;
            hooks::list_map(&c, kind, |h| Ok(crate::hook::view(&h, &defaults))).await
        })
    }

    fn hook(&self, name: &str) -> Fut<'_, Option<Hook>> {
        let name = name.to_string();
        Box::pin(async move { hooks::get(&self.hooks_client().await?, &name).await })
    }

    fn hook_by_id(&self, id: i64) -> Fut<'_, Option<Hook>> {
        Box::pin(async move { hooks::get_by_id(&self.hooks_client().await?, id).await })
    }

    fn create_hook(&self, hook: Hook, log: NewLog) -> Fut<'_, Option<Created>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            let Some(id) = hooks::insert(&tx, &hook).await? else {
                return Ok(None);
            };
            let log_id = logs::insert(&tx, &log).await?;
            announce(&tx, Some(id)).await?;
            tx.commit().await?;
            self.feeds.committed([(log_id, &log)], false);
            Ok(Some(Created { id, log_id }))
        })
    }

    fn apply_hooks(&self, changes: Vec<HookChange>) -> Fut<'_, Vec<Written>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            let mut written = Vec::with_capacity(changes.len());
            for change in &changes {
                written.push(apply_change(&tx, change).await?);
            }
            match written.as_slice() {
                [one] => announce(&tx, Some(one.hook_id)).await?,
                _ => announce(&tx, None).await?,
            }
            tx.commit().await?;
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
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            if !hooks::disable(&tx, hook_id, at).await? {
                return Ok(None);
            }
            write_outbox(&tx, &outbox, at).await?;
            let hook = hooks::get_by_id(&tx, hook_id).await?;
            announce(&tx, Some(hook_id)).await?;
            tx.commit().await?;
            self.feeds.committed([], outbox.has_deliveries());
            Ok(hook)
        })
    }

    fn first_delivery(&self, hook_id: i64, id: String, at: i64, since: i64) -> Fut<'_, bool> {
        Box::pin(async move {
            hooks::first_delivery(&self.client().await?, hook_id, &id, at, since).await
        })
    }

    fn rate_token(
        &self,
        hook_id: i64,
        calls: u32,
        per_secs: u32,
        at: i64,
    ) -> Fut<'_, Option<std::result::Result<(), u64>>> {
        Box::pin(async move {
            let c = self.client().await?;
            Ok(Some(
                hooks::rate_token(&c, hook_id, calls, per_secs, at).await?,
            ))
        })
    }

    fn take_run_slot(
        &self,
        hook_id: i64,
        concurrency: u32,
        leave_queue: bool,
    ) -> Fut<'_, Option<Option<i32>>> {
        Box::pin(async move {
            let c = self.client().await?;
            let slot = (hook_id, concurrency, leave_queue);
            Ok(Some(runs::take_slot(&c, slot, &self.node.id).await?))
        })
    }

    fn enter_queue(&self, hook_id: i64, concurrency: u32, limit: u32) -> Fut<'_, Option<bool>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let node = &self.node.id;
            Ok(Some(
                runs::enter_queue(&mut c, hook_id, (concurrency, limit), node).await?,
            ))
        })
    }

    fn leave_queue(&self, hook_id: i64) -> Fut<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            runs::leave_queue(&c, hook_id, &self.node.id).await
        })
    }

    fn rate_slots(
        &self,
        hook_id: i64,
        ids: Vec<i64>,
        spacing_ms: i64,
        at: i64,
    ) -> Fut<'_, Option<Vec<i64>>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            Ok(Some(
                events::rate_slots(&mut c, (hook_id, &ids), spacing_ms, at).await?,
            ))
        })
    }

    fn release_run_slot(&self, hook_id: i64, slot: i32) -> Fut<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            runs::release_slot(&c, hook_id, slot, &self.node.id).await
        })
    }

    fn counts(&self) -> Fut<'_, Counts> {
        Box::pin(async move {
            let c = self.client().await?;
            Ok(Counts {
                hooks: hooks::count(&c).await?,
                queued_runs: runs::count_queued(&c).await?,
            })
        })
    }

    fn publish(&self, outbox: Outbox) -> Fut<'_, ()> {
        let history = !outbox.has_deliveries();
        Box::pin(self.with_outbox(outbox, history))
    }

    fn emit(&self, e: Emission) -> Fut<'_, Emitted> {
        Box::pin(async move {
            let deliveries = e.outbox.delivery_count();
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            if let Some((key, since)) = &e.key {
                lock_key(&tx, key).await?;
                if let Some(first) = events::emitted(&tx, key, *since).await? {
                    tx.commit().await?;
                    return Ok(first);
                }
            }
            write_outbox(&tx, &e.outbox, e.log.time).await?;
            let log_id = logs::insert(&tx, &e.log).await?;
            if let Some((key, _)) = &e.key {
                events::remember_key(&tx, key, &e.event_id, deliveries, e.log.time).await?;
            }
            tx.commit().await?;
            self.feeds.committed([(log_id, &e.log)], deliveries > 0);
            Ok(Emitted {
                id: e.event_id,
                deliveries,
                duplicate: false,
            })
        })
    }

    fn queue_run(&self, run: NewRun, inv: Invocation) -> Fut<'_, i64> {
        Box::pin(async move {
            let request = crate::store::rows::encode_request(&inv)?;
            runs::insert(&self.client().await?, &run, &request, true, &self.node.id).await
        })
    }

    fn start_run(&self, run: NewRun, inv: Invocation) -> Fut<'_, i64> {
        Box::pin(async move {
            let request = crate::store::rows::encode_request(&inv)?;
            let mut c = self.client().await?;
            let tx = begin(&mut c, true).await?;
            let id = runs::insert(&tx, &run, &request, false, &self.node.id).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    fn run_started(&self, id: i64, at: i64, outbox: Outbox) -> Fut<'_, ()> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            runs::mark_running(&tx, id, at).await?;
            write_outbox(&tx, &outbox, at).await?;
            tx.commit().await?;
            self.feeds.committed([], outbox.has_deliveries());
            Ok(())
        })
    }

    fn finish_run(&self, id: i64, outcome: Outcome, outbox: Outbox) -> Fut<'_, ()> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            runs::finish(&tx, id, &outcome).await?;
            write_outbox(&tx, &outbox, crate::time::now_ms()).await?;
            tx.commit().await?;
            self.feeds.committed([], outbox.has_deliveries());
            Ok(())
        })
    }

    fn record_call(&self, call: CallRecord, outbox: Outbox) -> Fut<'_, i64> {
        Box::pin(async move {
            let deliveries = outbox.has_deliveries();
            let mut c = self.client().await?;
            let tx = begin(&mut c, !deliveries).await?;
            if let Some((run_id, outcome)) = &call.run {
                runs::finish(&tx, *run_id, outcome).await?;
            }
            let at = call.log.time;
            // Counted outside this transaction (see `Counters`).
            write_outbox(&tx, &outbox, at).await?;
            let id = logs::insert(&tx, &call.log).await?;
            tx.commit().await?;
            self.counters.add(call.hook_id, at, call.status);
            self.feeds.committed([(id, &call.log)], deliveries);
            Ok(id)
        })
    }

    fn recover_runs(&self, at: i64) -> Fut<'_, Vec<QueuedRun>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            nodes::release_dead(&tx, at).await?;
            let adopted = nodes::adopt_runs(&tx, &self.node).await?;
            let queued = nodes::decode_adopted(&tx, adopted, at).await?;
            tx.commit().await?;
            Ok(queued)
        })
    }

    fn abandon_run(&self, id: i64, at: i64) -> Fut<'_, ()> {
        Box::pin(async move { runs::abandon(&self.client().await?, id, at).await })
    }

    fn cancel_queued(&self, id: i64, at: i64, uid: Option<u32>, outbox: Outbox) -> Fut<'_, bool> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            let done = runs::cancel_queued(&tx, id, at, uid).await?;
            if done {
                write_outbox(&tx, &outbox, at).await?;
            }
            tx.commit().await?;
            self.feeds.committed([], done && outbox.has_deliveries());
            Ok(done)
        })
    }

    fn run_request(&self, id: i64) -> Fut<'_, Option<StoredRequest>> {
        Box::pin(async move { runs::request(&self.client().await?, id).await })
    }

    fn log_action(&self, log: NewLog) -> Fut<'_, i64> {
        Box::pin(async move {
            let id = logs::insert(&self.client().await?, &log).await?;
            self.feeds.committed([(id, &log)], false);
            Ok(id)
        })
    }

    fn runs(&self, filter: RunFilter) -> Fut<'_, Vec<RunView>> {
        Box::pin(async move { runs::list(&self.client().await?, &filter).await })
    }

    fn run(&self, id: i64) -> Fut<'_, Option<RunView>> {
        Box::pin(async move { runs::get(&self.client().await?, id, None).await })
    }

    fn hook_run(&self, hook_id: i64, id: i64) -> Fut<'_, Option<RunView>> {
        Box::pin(async move { runs::get(&self.client().await?, id, Some(hook_id)).await })
    }

    fn claim_due(&self, at: i64, limit: u32) -> Fut<'_, (Vec<Claimed>, Option<i64>)> {
        Box::pin(async move {
            let (rows, next) = retrying(|| async {
                let mut c = self.client().await?;
                let tx = begin(&mut c, true).await?;
                let claimed = events::claim_due(&tx, at, limit, &self.node.id).await?;
                tx.commit().await?;
                Ok(claimed)
            })
            .await?;
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
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            let ids = write_outbox(&tx, &outbox, crate::time::now_ms()).await?;
            for id in &ids {
                events::claim_one(&tx, *id, &self.node.id).await?;
            }
            let first = ids
                .first()
                .copied()
                .ok_or_else(|| StoreError::Corrupt("a test event was staged for no hook".into()))?;
            tx.commit().await?;
            Ok(first)
        })
    }

    fn finish_attempt(&self, a: AttemptRecord, outbox: Outbox) -> Fut<'_, Finished> {
        Box::pin(async move {
            let deliveries = outbox.has_deliveries();
            let retry = a.attempt.status == DeliveryStatus::Pending;
            let (log_id, failing_since) = retrying(|| async {
                let mut c = self.client().await?;
                let tx = begin(&mut c, a.routine && !deliveries).await?;
                events::record_attempt(&tx, a.delivery_id, &a.attempt).await?;
                let failing = a.attempt.status != DeliveryStatus::Succeeded;
                let failing_since = match a.endpoint {
                    Some(hook_id) => {
                        let at = failing.then_some(a.attempt.at);
                        events::set_failing_since(&tx, hook_id, at).await?
                    }
                    None => None,
                };
                write_outbox(&tx, &outbox, a.attempt.at).await?;
                let log_id = logs::insert(&tx, &a.log).await?;
                tx.commit().await?;
                Ok((log_id, failing_since))
            })
            .await?;
            self.feeds.committed([(log_id, &a.log)], deliveries);
            if retry {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(Finished {
                log_id,
                failing_since,
            })
        })
    }

    fn reset_in_flight(&self) -> Fut<'_, usize> {
        Box::pin(async move {
            let c = self.client().await?;
            Ok(nodes::release_dead(&c, crate::time::now_ms()).await? as usize)
        })
    }

    fn count_pending(&self) -> Fut<'_, u64> {
        Box::pin(async move { events::count_pending(&self.client().await?).await })
    }

    fn endpoints(&self) -> Fut<'_, Vec<EndpointView>> {
        Box::pin(async move { events::endpoints(&self.client().await?).await })
    }

    fn deliveries(&self, filter: DeliveryFilter) -> Fut<'_, Vec<DeliveryView>> {
        Box::pin(async move { events::list(&self.client().await?, &filter).await })
    }

    fn defer_deliveries(&self, deferred: Deferred) -> Fut<'_, ()> {
        Box::pin(async move {
            let deferred = &deferred;
            retrying(|| async move {
                let mut c = self.client().await?;
                let tx = begin(&mut c, true).await?;
                events::defer(&tx, &deferred.deliveries).await?;
                for (hook_id, until) in &deferred.hooks {
                    events::park(&tx, *hook_id, *until).await?;
                }
                tx.commit().await?;
                Ok(())
            })
            .await
        })
    }

    fn release_deliveries(&self, hook_id: i64, at: i64) -> Fut<'_, u64> {
        Box::pin(async move {
            let n =
                retrying(|| async { events::release(&self.client().await?, hook_id, at).await })
                    .await?;
            if n > 0 {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(n)
        })
    }

    fn redeliver(&self, id: i64, at: i64) -> Fut<'_, Redelivery> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            let r = events::redeliver(&tx, id, at).await?;
            tx.commit().await?;
            if matches!(r, Redelivery::Queued(_)) {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(r)
        })
    }

    fn redeliver_failed(&self, hook: Option<String>, since: Option<i64>, at: i64) -> Fut<'_, u64> {
        Box::pin(async move {
            let c = self.client().await?;
            let n = events::redeliver_failed(&c, hook.as_deref(), since, at).await?;
            if n > 0 {
                self.feeds.deliveries_due.notify_one();
            }
            Ok(n)
        })
    }

    fn healthy(&self) -> Fut<'_, bool> {
        Box::pin(async move {
            let mut last = self.health.lock().await;
            if let Some((at, ok)) = *last
                && at.elapsed() < std::time::Duration::from_secs(1)
            {
                return Ok(ok);
            }
            let ping = async {
                let c = self.client().await?;
                c.simple_query("SELECT 1").await?;
                Ok::<_, StoreError>(())
            };
            let ok = matches!(
                tokio::time::timeout(std::time::Duration::from_secs(2), ping).await,
                Ok(Ok(_))
            );
            *last = Some((std::time::Instant::now(), ok));
            Ok(ok)
        })
    }

    fn nodes(&self) -> Fut<'_, Option<Vec<crate::proto::NodeView>>> {
        Box::pin(async move {
            let live = nodes::live(&self.client().await?).await?;
            let view = |(name, listen, started, seen): (String, String, i64, i64)| {
                crate::proto::NodeView {
                    name,
                    listen,
                    started_at: crate::time::rfc3339(started),
                    last_seen: crate::time::rfc3339(seen),
                }
            };
            Ok(Some(live.into_iter().map(view).collect()))
        })
    }

    fn logs(&self, query: LogQuery) -> Fut<'_, Vec<LogView>> {
        Box::pin(async move { logs::query(&self.client().await?, &query).await })
    }

    fn prune(&self, cutoff: i64, seen_cutoff: i64) -> Fut<'_, usize> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = begin(&mut c, false).await?;
            let n = logs::prune(&tx, cutoff).await?
                + events::prune(&tx, cutoff).await?
                + hooks::prune_seen(&tx, seen_cutoff).await?
                + events::prune_keys(&tx, seen_cutoff).await?;
            tx.commit().await?;
            Ok(n as usize)
        })
    }
}
