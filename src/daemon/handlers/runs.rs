//! `runs`, `runs show` (also followed), `runs wait`, `runs cancel` and `runs rerun`.
//!
//! Watching a run is pushed, never polled: a run this process has queued or started is
//! followed through its [`LiveRun`]; one that has ended is read from the store. Only the short
//! moment between a run's row being written and its being listed as live is waited out.

use super::internal;
use crate::daemon::cluster_slot::{self, Entered};
use crate::daemon::incoming;
use crate::daemon::live::{LiveRun, Next};
use crate::daemon::runner::{KILL_GRACE, Refused};
use crate::daemon::state::Shared;
use crate::proto::{self, ErrorBody, ErrorCode, Response, RunStatus, RunView};
use crate::store::{AdminAction, NewLog, RunFilter};
use base64::Engine;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Runs of the hook named `hook` (by its id: runs of an earlier hook of that name are not
/// its runs), or of a deleted hook by that name when no hook has it now.
pub(super) async fn runs(
    shared: &Arc<Shared>,
    hook: Option<String>,
    limit: u32,
    status: Option<RunStatus>,
) -> Result<Response, ErrorBody> {
    let mut filter = RunFilter {
        limit,
        status,
        ..RunFilter::default()
    };
    if let Some(name) = hook {
        match shared.store.hook(&name).await.map_err(internal)? {
            Some(h) => filter.hook_id = Some(h.id),
            None => filter.hook = Some(name),
        }
    }
    let runs = shared.store.runs(filter.clone()).await.map_err(internal)?;
    if let Some(name) = filter.hook
        && runs.is_empty()
        && status.is_none()
    {
        return Err(ErrorBody::not_found(&name));
    }
    Ok(Response::Runs { runs })
}

fn no_run(id: &str) -> ErrorBody {
    ErrorBody::new(ErrorCode::NotFound, format!("no run with id {id:?}"))
}

fn run_number(id: &str) -> Result<i64, ErrorBody> {
    id.trim().parse().map_err(|_| no_run(id))
}

pub(super) async fn run_show(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let n = run_number(&id)?;
    let run = shared.store.run(n).await.map_err(internal)?;
    run.map(|r| Response::Run(Box::new(r)))
        .ok_or_else(|| no_run(&id))
}

/// Where a run stands for a watcher.
enum Located {
    /// Queued or running in this process.
    Live(Arc<LiveRun>),
    /// As stored: ended (or left unfinished by a hookd that is gone).
    Stored(Box<RunView>),
}

/// How long a run just written may take to be listed as live.
const LISTING: Duration = Duration::from_millis(20);

async fn locate(shared: &Arc<Shared>, id: &str) -> Result<Located, ErrorBody> {
    let n = run_number(id)?;
    for _ in 0..50 {
        if let Some(live) = shared.live.get(n) {
            return Ok(Located::Live(live));
        }
        let run = shared.store.run(n).await.map_err(internal)?;
        match run {
            None => return Err(no_run(id)),
            Some(r) if r.status.is_final() => return Ok(Located::Stored(Box::new(r))),
            // Written a moment ago and about to be listed, or being recorded right now.
            Some(_) => tokio::time::sleep(LISTING).await,
        }
    }
    let run = shared.store.run(n).await.map_err(internal)?;
    run.map(|r| Located::Stored(Box::new(r)))
        .ok_or_else(|| no_run(id))
}

/// The stored run once a live one is recorded.
async fn recorded(shared: &Arc<Shared>, live: &Arc<LiveRun>) -> Result<RunView, ErrorBody> {
    let mut w = live.watch();
    while w.next().await != Next::Recorded {}
    let id = live.id.to_string();
    shared
        .store
        .run(live.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| no_run(&id))
}

/// `runs wait`: answers once the run has ended.
pub(super) async fn run_wait(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let run = match locate(shared, &id).await? {
        Located::Live(live) => recorded(shared, &live).await?,
        Located::Stored(r) => *r,
    };
    Ok(Response::RunEnded(Box::new(run)))
}

/// `runs show --follow`: the run, its output so far and then as it is written, and the run
/// as stored once it has ended. Returns when the run has ended or the client has left.
pub async fn follow_run<W: AsyncWriteExt + Unpin>(shared: &Arc<Shared>, id: String, out: &mut W) {
    let send = |r: Response| proto::encode(&r);
    let live = match locate(shared, &id).await {
        Ok(Located::Live(live)) => live,
        Ok(Located::Stored(r)) => {
            let _ = out.write_all(&send(Response::Run(r.clone()))).await;
            let _ = out.write_all(&send(Response::RunEnded(r))).await;
            return;
        }
        Err(e) => {
            let _ = out.write_all(&send(Response::Error(e))).await;
            return;
        }
    };
    // Watch before reading the row, so no output falls between the two.
    let mut w = live.watch();
    if let Ok(Some(mut r)) = shared.store.run(live.id).await {
        (r.stdout, r.stderr) = (None, None);
        if out
            .write_all(&send(Response::Run(Box::new(r))))
            .await
            .is_err()
        {
            return;
        }
    }
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    loop {
        let data = match w.next().await {
            Next::Output(bytes) => b64(&bytes),
            Next::Cut => b64(format!(
                "\n[hookd: output truncated at {} bytes; the run goes on]\n",
                live.cap()
            )
            .as_bytes()),
            Next::Exited(_) => continue,
            Next::Recorded => break,
        };
        if out
            .write_all(&send(Response::RunOutput { data }))
            .await
            .is_err()
        {
            return;
        }
    }
    let last = match shared.store.run(live.id).await {
        Ok(Some(r)) => Response::RunEnded(Box::new(r)),
        Ok(None) => Response::Error(no_run(&id)),
        Err(e) => Response::Error(internal(e)),
    };
    let _ = out.write_all(&send(last)).await;
}

/// `runs cancel`: a queued run leaves its queue, a running one is ended; answers with the run
/// as stored afterwards (which says `cancelled`, unless it ended on its own first).
pub(super) async fn run_cancel(
    shared: &Arc<Shared>,
    id: String,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let live = match locate(shared, &id).await? {
        Located::Live(live) => live,
        Located::Stored(r) => {
            return Err(ErrorBody::invalid(format!(
                "run {id} has already ended ({})",
                r.status.as_str()
            )));
        }
    };
    let queued = live.is_queued();
    if live.cancel(uid) {
        let hook = shared
            .registry
            .get_by_id(live.hook_id)
            .map(|h| h.name.clone())
            .unwrap_or_default();
        let mut log = NewLog::admin(AdminAction::Cancel, &hook, uid);
        log.run_id = Some(live.id);
        log.error = queued.then(|| "queued run removed from its queue".to_string());
        shared.store.log_action(log).await.map_err(internal)?;
    }
    // SIGTERM, then SIGKILL after the grace period: the run is over well within this.
    let bound = KILL_GRACE + Duration::from_secs(30);
    let run = tokio::time::timeout(bound, recorded(shared, &live))
        .await
        .map_err(|_| ErrorBody::internal(format!("run {id} did not end after the cancel")))??;
    Ok(Response::RunEnded(Box::new(run)))
}

/// `runs rerun`: the hook runs again, queued like an async call, with the stored request.
pub(super) async fn run_rerun(
    shared: &Arc<Shared>,
    id: String,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let n = run_number(&id)?;
    let Some(stored) = shared.store.run_request(n).await.map_err(internal)? else {
        return Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!(
                "no run with id {id:?} (runs and their requests are pruned after log_retention)"
            ),
        ));
    };
    let Some(inv) = stored.inv else {
        return Err(ErrorBody::invalid(format!(
            "the request of run {id} was not kept, so it cannot be run again"
        )));
    };
    let Some(hook) = shared.registry.get_by_id(stored.hook_id) else {
        return Err(ErrorBody::invalid(format!(
            "the hook of run {id} no longer exists or is disabled"
        )));
    };
    let full = || {
        ErrorBody::invalid(format!(
            "hook {} has {} calls waiting already; try again later",
            hook.name,
            hook.queue_limit()
        ))
    };
    let place = shared
        .runner
        .admit(&hook, false)
        .map_err(|Refused::QueueFull| full())?;
    let queued = match cluster_slot::enter_queue(&shared.store, &hook)
        .await
        .map_err(internal)?
    {
        Entered::Alone => None,
        Entered::Waiting(q) => Some(q),
        Entered::Full => return Err(full()),
    };
    let new = incoming::queue(shared, &hook, inv, Some(n), (place, queued))
        .await
        .map_err(internal)?;
    let mut log = NewLog::admin(AdminAction::Rerun, &hook.name, uid);
    log.run_id = Some(new);
    shared.store.log_action(log).await.map_err(internal)?;
    let run = shared.store.run(new).await.map_err(internal)?;
    run.map(|r| Response::Run(Box::new(r)))
        .ok_or_else(|| no_run(&new.to_string()))
}
