//! What happened and trying things out: `test`, `runs`, `logs` (with live following),
//! `deliveries` and `redeliver`.
//!
//! These handlers read history or trigger one-off calls; none of them changes a hook. `test`
//! goes through exactly the path an HTTP call or a delivery takes, so what it prints is what a
//! caller or receiver would see.

use crate::daemon::incoming::{self, Call};
use crate::daemon::manage::{get, internal};
use crate::daemon::state::Shared;
use crate::daemon::{delivery, outbox};
use crate::events::Event;
use crate::hook::Hook;
use crate::proto::{self, ErrorBody, ErrorCode, LogQuery, Response};
use crate::run::Invocation;
use crate::store::{Claimed, DeliveryFilter, DeliveryStatus, Redelivery, RunFilter};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

/// Calls an incoming hook exactly as an HTTP caller would, minus the network.
pub(crate) async fn test(
    shared: &Arc<Shared>,
    name: String,
    method: Option<String>,
    body: Option<String>,
    content_type: Option<String>,
) -> Result<Response, ErrorBody> {
    let h = get(shared, name).await?;
    if !h.kind.is_incoming() {
        return test_outgoing(shared, h).await;
    }
    if !h.enabled {
        return Err(ErrorBody::invalid(format!(
            "{} is disabled; enable it first (a caller gets 404)",
            h.name
        )));
    }
    let method = method.unwrap_or_else(|| "POST".into()).to_ascii_uppercase();
    if !h.allows_method(&method) {
        return Ok(Response::TestResult {
            status: 405,
            body: r#"{"error":"method not allowed"}"#.into(),
            duration_ms: None,
        });
    }
    let body = body.unwrap_or_default();
    let content_type = content_type.unwrap_or_else(|| {
        if body.is_empty() {
            String::new()
        } else {
            "application/json".into()
        }
    });
    let mut headers = Vec::new();
    if !content_type.is_empty() {
        headers.push(("content-type".to_string(), content_type.clone()));
    }
    let inv = Invocation {
        method,
        remote_addr: "local".into(),
        content_type,
        headers,
        body: body.into_bytes().into(),
        ..Invocation::default()
    };
    let path = format!(
        "/webhook/{}… (hookctl test)",
        h.token_prefix.clone().unwrap_or_default()
    );
    let call = Call {
        hook: Arc::new(h),
        path,
        inv,
        received: Instant::now(),
    };
    let answer = tokio::spawn(incoming::handle(shared.clone(), call))
        .await
        .map_err(ErrorBody::internal)?;
    Ok(Response::TestResult {
        status: answer.status,
        body: String::from_utf8_lossy(&answer.body).into_owned(),
        duration_ms: None,
    })
}

/// Sends a `test` event to one outgoing hook, now, once, and reports the receiver's answer.
pub(crate) async fn test_outgoing(shared: &Arc<Shared>, h: Hook) -> Result<Response, ErrorBody> {
    let event = Event::new(
        "test",
        serde_json::json!({"hook": h.name, "hook_id": h.id.to_string()}),
    );
    let id = shared
        .store
        .claim_test(outbox::stage_to(event.clone(), h.id, &h.name))
        .await
        .map_err(internal)?;
    let claimed = Claimed {
        id,
        hook_id: h.id,
        hook: h.name.clone(),
        attempts: 0,
        event,
    };
    let sent = delivery::deliver(shared, claimed, &h, false).await;
    match sent.status {
        Some(status) => Ok(Response::TestResult {
            status,
            body: sent.body,
            duration_ms: Some(sent.duration.as_millis() as u64),
        }),
        None => Err(ErrorBody::invalid(format!(
            "the test delivery to {} failed: {}",
            h.name,
            sent.error.unwrap_or_default()
        ))),
    }
}

pub(crate) async fn deliveries(
    shared: &Arc<Shared>,
    hook: Option<String>,
    status: Option<String>,
    limit: u32,
) -> Result<Response, ErrorBody> {
    let status = match status.as_deref() {
        None => None,
        Some(s @ ("pending" | "failed" | "succeeded")) => DeliveryStatus::parse(s),
        Some(s) => {
            return Err(ErrorBody::invalid(format!(
                "--status {s:?}: expected pending, failed or succeeded"
            )));
        }
    };
    let filter = DeliveryFilter {
        hook,
        status,
        limit,
    };
    let deliveries = shared.store.deliveries(filter).await.map_err(internal)?;
    Ok(Response::Deliveries { deliveries })
}

pub(crate) async fn redeliver(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("no delivery with id {id:?}"));
    let n: i64 = id.trim().parse().map_err(|_| not_found())?;
    let now = crate::time::now_ms();
    match shared.store.redeliver(n, now).await.map_err(internal)? {
        Redelivery::NotFound => Err(not_found()),
        Redelivery::InFlight => Err(ErrorBody::invalid(format!(
            "delivery {n} is being sent right now"
        ))),
        Redelivery::Queued(hook) => Ok(Response::Done {
            message: format!("delivery {n} to {hook} queued again"),
        }),
    }
}

/// Runs of the hook named `hook` (by its id: runs of an earlier hook of that name are not
/// its runs), or of a deleted hook by that name when no hook has it now.
pub(crate) async fn runs(
    shared: &Arc<Shared>,
    hook: Option<String>,
    limit: u32,
) -> Result<Response, ErrorBody> {
    let mut filter = RunFilter {
        limit,
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
    {
        return Err(ErrorBody::not_found(&name));
    }
    Ok(Response::Runs { runs })
}

pub(crate) async fn run_show(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("no run with id {id:?}"));
    let n: i64 = id.trim().parse().map_err(|_| not_found())?;
    let run = shared.store.run(n).await.map_err(internal)?;
    run.map(|r| Response::Run(Box::new(r)))
        .ok_or_else(not_found)
}

pub(crate) async fn logs(shared: &Arc<Shared>, q: LogQuery) -> Result<Response, ErrorBody> {
    let logs = shared.store.logs(q).await.map_err(internal)?;
    Ok(Response::Logs { logs })
}

/// Streams the backlog and then every new matching entry until the client leaves or hookd stops.
pub async fn follow_logs<W: AsyncWriteExt + Unpin>(
    shared: &Arc<Shared>,
    q: LogQuery,
    out: &mut W,
    mut shutdown: watch::Receiver<bool>,
) {
    // Subscribe before reading the backlog so nothing falls between the two.
    let mut feed = shared.store.feeds().log.subscribe();
    let backlog = match shared.store.logs(q.clone()).await {
        Ok(b) => b,
        Err(e) => {
            let _ = out
                .write_all(&proto::encode(&Response::Error(internal(e))))
                .await;
            return;
        }
    };
    let mut last: i64 = 0;
    for entry in backlog {
        last = entry.id.parse().unwrap_or(last);
        if out
            .write_all(&proto::encode(&Response::Log(Box::new(entry))))
            .await
            .is_err()
        {
            return;
        }
    }
    loop {
        tokio::select! {
            got = feed.recv() => match got {
                Ok(entry) => {
                    let id: i64 = entry.id.parse().unwrap_or(0);
                    if id <= last || !q.matches(&entry) {
                        continue;
                    }
                    if out.write_all(&proto::encode(&Response::Log(Box::new(entry)))).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("a log follower fell behind and skipped {n} entries");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}
