//! `test`: call an incoming hook as an HTTP caller would, or send a `test` event to an
//! outgoing hook, and report what came back.
//!
//! An incoming test goes through the same gate and call path as HTTP; the gate skips only what
//! identifies a caller (signature, IP allowlist, rate limit), and the answer says so.

use super::{get, internal};
use crate::daemon::answer::Answer;
use crate::daemon::gate::{self, Caller};
use crate::daemon::incoming::{self, Call};
use crate::daemon::registry::LiveHook;
use crate::daemon::state::Shared;
use crate::daemon::{delivery, outbox};
use crate::events::Event;
use crate::hook::Hook;
use crate::proto::{ErrorBody, Response};
use crate::run::Invocation;
use crate::store::Claimed;
use std::sync::Arc;
use std::time::Instant;

/// Calls an incoming hook exactly as an HTTP caller would, minus the network: through the
/// gate (which skips only the checks that identify a caller) and the same call path.
pub(super) async fn test(
    shared: &Arc<Shared>,
    name: String,
    method: Option<String>,
    body: Option<String>,
    content_type: Option<String>,
    uid: Option<u32>,
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
    let hook = Arc::new(LiveHook::compile(h).map_err(|(_, e)| ErrorBody::invalid(e))?);
    let note = Caller::Test.skipped(&hook);
    let mut inv = test_invocation(method, body, content_type);
    inv.test_uid = uid;
    if let Err(r) = gate::admit(shared, &hook, &inv.method, Caller::Test).await {
        return Ok(test_result(&r.answer, note));
    }
    let path = format!(
        "/webhook/{}… (hookctl test)",
        hook.token_prefix.clone().unwrap_or_default()
    );
    let call = Call {
        hook,
        path,
        inv,
        received: Instant::now(),
        stream: None,
        holds: None,
    };
    let answer = tokio::spawn(incoming::handle(shared.clone(), call))
        .await
        .map_err(ErrorBody::internal)?;
    Ok(test_result(&answer, note))
}

/// The request `hookctl test` makes: POST by default, JSON when there is a body, from
/// 127.0.0.1 (the caller's uid goes to `HOOKD_TEST_UID`).
fn test_invocation(
    method: Option<String>,
    body: Option<String>,
    content_type: Option<String>,
) -> Invocation {
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
    Invocation {
        method: method.unwrap_or_else(|| "POST".into()).to_ascii_uppercase(),
        remote_addr: "127.0.0.1".into(),
        content_type,
        headers,
        body: body.into_bytes().into(),
        ..Invocation::default()
    }
}

fn test_result(answer: &Answer, note: Option<String>) -> Response {
    Response::TestResult {
        status: answer.status,
        body: String::from_utf8_lossy(&answer.body).into_owned(),
        duration_ms: None,
        note,
    }
}

/// Sends a `test` event to one outgoing hook, now, once, and reports the receiver's answer.
async fn test_outgoing(shared: &Arc<Shared>, h: Hook) -> Result<Response, ErrorBody> {
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
    let target = crate::daemon::sender::Target::of(&h);
    let sent = delivery::deliver(shared, claimed, (&h, &target), false).await;
    match sent.status {
        Some(status) => Ok(Response::TestResult {
            status,
            body: sent.body,
            duration_ms: Some(sent.duration.as_millis() as u64),
            note: None,
        }),
        None => Err(ErrorBody::invalid(format!(
            "the test delivery to {} failed: {}",
            h.name,
            sent.error.unwrap_or_default()
        ))),
    }
}
