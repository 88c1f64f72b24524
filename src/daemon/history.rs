//! What happened and trying things out: `test`, `runs`, `logs` (with live following),
//! `deliveries` and `redeliver`.
//!
//! These handlers read history or trigger one-off calls; none of them changes a hook. `test`
//! goes through exactly the path an HTTP call or a delivery takes, so what it prints is what a
//! caller or receiver would see.

use crate::daemon::incoming::{self, Call};
use crate::daemon::manage::{get, internal};
use crate::daemon::runner::Invocation;
use crate::daemon::state::Shared;
use crate::daemon::{delivery, outbox};
use crate::events::Event;
use crate::hook::Hook;
use crate::proto::{self, ErrorBody, ErrorCode, LogQuery, Response};
use crate::store;
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
    let staged = vec![outbox::stage_to(event.clone(), h.id, &h.name)];
    let now = crate::time::now_ms();
    let id = shared
        .store
        .write(move |tx| {
            let ids = outbox::write(tx, &staged, now)?;
            for id in &ids {
                store::events::claim_one(tx, *id)?;
            }
            Ok(ids.first().copied().unwrap_or_default())
        })
        .await
        .map_err(internal)?;
    let claimed = store::events::Claimed {
        id,
        hook_id: h.id,
        hook: h.name.clone(),
        attempts: 0,
        created_at: now,
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
    if let Some(s) = &status
        && !matches!(s.as_str(), "pending" | "failed" | "succeeded")
    {
        return Err(ErrorBody::invalid(format!(
            "--status {s:?}: expected pending, failed or succeeded"
        )));
    }
    let deliveries = shared
        .store
        .call(move |c| store::events::list(c, hook.as_deref(), status.as_deref(), limit))
        .await
        .map_err(internal)?;
    Ok(Response::Deliveries { deliveries })
}

pub(crate) async fn redeliver(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("no delivery with id {id:?}"));
    let n: i64 = id.trim().parse().map_err(|_| not_found())?;
    let now = crate::time::now_ms();
    match shared
        .store
        .write(move |tx| store::events::redeliver(tx, n, now))
        .await
        .map_err(internal)?
    {
        store::events::Redelivery::NotFound => Err(not_found()),
        store::events::Redelivery::InFlight => Err(ErrorBody::invalid(format!(
            "delivery {n} is being sent right now"
        ))),
        store::events::Redelivery::Queued(hook) => {
            shared.deliveries_due.notify_one();
            Ok(Response::Done {
                message: format!("delivery {n} to {hook} queued again"),
            })
        }
    }
}

pub(crate) async fn runs(
    shared: &Arc<Shared>,
    hook: Option<String>,
    limit: u32,
) -> Result<Response, ErrorBody> {
    if let Some(name) = &hook {
        let n = name.clone();
        let exists = shared
            .store
            .call(move |c| store::hooks::get(c, &n))
            .await
            .map_err(internal)?
            .is_some();
        let h = name.clone();
        let any = shared
            .store
            .call(move |c| store::runs::list(c, Some(&h), 1))
            .await
            .map_err(internal)?;
        if !exists && any.is_empty() {
            return Err(ErrorBody::not_found(name));
        }
    }
    let runs = shared
        .store
        .call(move |c| store::runs::list(c, hook.as_deref(), limit))
        .await
        .map_err(internal)?;
    Ok(Response::Runs { runs })
}

pub(crate) async fn run_show(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("no run with id {id:?}"));
    let n: i64 = id.trim().parse().map_err(|_| not_found())?;
    let run = shared
        .store
        .call(move |c| store::runs::get(c, n))
        .await
        .map_err(internal)?;
    run.map(|r| Response::Run(Box::new(r)))
        .ok_or_else(not_found)
}

pub(crate) async fn logs(shared: &Arc<Shared>, q: LogQuery) -> Result<Response, ErrorBody> {
    let logs = shared
        .store
        .call(move |c| store::logs::query(c, &q))
        .await
        .map_err(internal)?;
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
    let mut feed = shared.log_feed.subscribe();
    let query = q.clone();
    let backlog = match shared
        .store
        .call(move |c| store::logs::query(c, &query))
        .await
    {
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
                    if id <= last || !store::logs::matches(&q, &entry) {
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
