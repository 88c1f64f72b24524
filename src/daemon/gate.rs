//! The incoming gate: every check a call passes before hookd accepts it, for HTTP callers and
//! `hookctl test` alike.
//!
//! Order: IP allowlist, method and rate limit (before the body is read), then the signature and
//! replay protection (on the body). A call the gate refuses is not accepted work: it is logged
//! with its status, the reason and its size, and nothing else of it is kept: its body and
//! headers reach no event, run or log entry. `hookctl test` skips only what identifies a caller
//! (IP allowlist, rate limit, signature and replay) and says so; the method check applies.
//! Last comes the hook's condition (`--if`): a call that fails only that was a legitimate
//! call, so it is recorded as accepted calls are (with `webhook.received`), but runs nothing.

use crate::daemon::answer::Answer;
use crate::daemon::registry::LiveHook;
use crate::daemon::state::Shared;
use crate::proto::Secret;
use crate::run::Invocation;
use crate::signature::{self, VerifyKind};
use crate::store::{CallRecord, Direction, NewLog, Outbox};
use serde_json::json;
use std::net::IpAddr;
use std::time::Instant;

/// How long a sender's delivery id is remembered for replay protection.
const REPLAY_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    /// An HTTP client at this address (after trusted proxies).
    Http(IpAddr),
    /// `hookctl test` over the control socket.
    Test,
}

impl Caller {
    /// What a test skips, for its output; `None` over HTTP.
    pub fn skipped(self, hook: &LiveHook) -> Option<String> {
        if !matches!(self, Caller::Test) {
            return None;
        }
        let mut skipped = Vec::new();
        if hook.allow_ip.is_some() {
            skipped.push("the IP allowlist");
        }
        if hook.rate_limit.is_some() {
            skipped.push("the rate limit");
        }
        if hook.verifier.is_some() {
            skipped.push("signature verification and replay protection");
        }
        (!skipped.is_empty()).then(|| format!("a test call skips {}", skipped.join(", ")))
    }
}

/// A refused call: the answer, and for 405 the methods to name in `Allow`.
#[derive(Debug)]
pub struct Refused {
    pub answer: Box<Answer>,
    pub allow: Option<String>,
}

impl From<Answer> for Refused {
    fn from(answer: Answer) -> Refused {
        Refused {
            answer: Box::new(answer),
            allow: None,
        }
    }
}

/// The checks that need no body: IP allowlist, method, rate limit.
pub async fn admit(
    shared: &Shared,
    hook: &LiveHook,
    method: &str,
    caller: Caller,
) -> Result<(), Refused> {
    if let (Some(allowed), Caller::Http(client)) = (&hook.allow_ip, caller)
        && !allowed.iter().any(|c| c.contains(client))
    {
        return Err(Answer::json(403, json!({"error": "forbidden"}))
            .with_error(format!(
                "client {client} is not in the hook's --allow-ip list"
            ))
            .into());
    }
    if !hook.allows_method(method) {
        return Err(Refused {
            answer: Box::new(Answer::text(405, "").with_error("method not allowed")),
            allow: Some(hook.methods().join(", ")),
        });
    }
    if let Some(pinned) = hook.options.node.as_deref()
        && pinned != shared.config().node_name()
    {
        return Err(Answer::json(
            421,
            json!({"error": format!("this hook runs on node {pinned}")}),
        )
        .with_error(format!("the hook runs on node {pinned}, not here"))
        .into());
    }
    if let (Some((calls, per)), Caller::Http(_)) = (hook.rate_limit, caller)
        && let Err(wait) = take_token(shared, hook.id, calls, per).await?
    {
        let mut answer = Answer::json(429, json!({"error": "rate limit exceeded"}))
            .with_error("rate limit exceeded");
        answer.retry_after = Some(wait);
        return Err(answer.into());
    }
    Ok(())
}

/// A token of the hook's rate limit: from the database when several nodes share it (so the
/// limit holds across them), else from this process's buckets.
async fn take_token(
    shared: &Shared,
    hook_id: i64,
    calls: u32,
    per: u32,
) -> Result<Result<(), u64>, Refused> {
    match shared
        .store
        .rate_token(hook_id, calls, per, crate::time::now_ms())
        .await
    {
        Ok(Some(taken)) => Ok(taken),
        Ok(None) => Ok(shared.rate_limits.check(hook_id, calls, per)),
        Err(e) => {
            tracing::error!("cannot read the rate limit: {e}");
            Err(
                Answer::json(503, json!({"error": "hookd cannot read its database"}))
                    .with_error(format!("rate limit: {e}"))
                    .into(),
            )
        }
    }
}

/// The checks on the body: signature, then replay protection. Why a signature failed goes to
/// the log, never to the caller. A verified Discord PING is answered here (`{"type":1}`), as
/// Discord expects, without running anything.
pub async fn verify(
    shared: &Shared,
    hook: &LiveHook,
    inv: &Invocation,
    caller: Caller,
) -> Result<(), Refused> {
    let (Some(kind), Caller::Http(_)) = (hook.verify_kind, caller) else {
        return Ok(());
    };
    let header = |name: &str| {
        inv.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let now = crate::time::now_ms();
    let checked = match &hook.verifier {
        Some(v) if !per_call(&hook.options, now) => {
            if kind == VerifyKind::Basic {
                // A password check may run the KDF (a good part of a second): keep it off the
                // async workers' queue so other calls are not held up behind it.
                tokio::task::block_in_place(|| v.verify(&header, &inv.body, now / 1000))
            } else {
                v.verify(&header, &inv.body, now / 1000)
            }
        }
        _ => verify_each(hook, kind, &header, &inv.body, now)?,
    };
    if let Err(e) = checked {
        return Err(Answer::json(401, json!({"error": "unauthorized"}))
            .with_error(format!("verification failed: {e}"))
            .into());
    }
    if kind == VerifyKind::Discord && signature::is_discord_ping(&inv.body) {
        return Err(Answer::json(200, json!({"type": 1}))
            .with_note("discord PING: answered, nothing run")
            .into());
    }
    let Some(delivery) = signature::delivery_id(kind, &header, &inv.body) else {
        return Ok(());
    };
    let since = now - REPLAY_WINDOW_MS;
    match shared
        .store
        .first_delivery(hook.id, delivery.clone(), now, since)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Answer::json(200, json!({"status": "duplicate"}))
            .with_note(format!("duplicate delivery {delivery}: not run again"))
            .into()),
        Err(e) => {
            tracing::error!("cannot check for a replayed delivery: {e}");
            Err(
                Answer::json(503, json!({"error": "hookd cannot write its database"}))
                    .with_error(format!("store: {e}"))
                    .into(),
            )
        }
    }
}

/// Whether the hook's verifier must be built for this call: its secret is a reference (read
/// now), or it has further secrets or a rotation's overlap to try.
fn per_call(o: &crate::proto::HookOptions, now: i64) -> bool {
    [&o.secret, &o.basic_auth]
        .into_iter()
        .flatten()
        .any(|s| crate::secret::is_reference(&s.0))
        || o.secrets.as_ref().is_some_and(|v| !v.is_empty())
        || o.rotated_until.is_some_and(|until| now < until)
}

/// Verifies with each secret the call may be signed with, read now; the first that passes
/// wins, else the first one's failure is reported. An unreadable reference fails the call.
fn verify_each(
    hook: &LiveHook,
    kind: VerifyKind,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    now: i64,
) -> Result<signature::Checked, Refused> {
    let o = &hook.options;
    let cannot = |e: String| {
        tracing::error!(hook = %hook.name, "{e}");
        Refused::from(
            Answer::json(
                500,
                json!({"error": "hookd cannot read this hook's secret"}),
            )
            .with_error(e),
        )
    };
    let mut list: Vec<Option<&Secret>> = candidates(o, now).map(Some).collect();
    if list.is_empty() {
        // A kind that needs no secret (discord, basic): verified with its own keys, once.
        list.push(None);
    }
    // Overwritten by the first failure: the list is never empty and a pass returns at once.
    let mut outcome: signature::Checked = Ok(());
    for (i, candidate) in list.into_iter().enumerate() {
        let secret = candidate
            .map(|c| crate::secret::resolve(&c.0))
            .transpose()
            .map_err(|e| cannot(e.to_string()))?;
        let keys = signature::Keys {
            secret: secret.as_deref(),
            signature_header: o.signature_header.as_deref(),
            public_key: o.public_key.as_deref(),
            basic_auth: o.basic_auth.as_ref().map(|s| s.0.as_str()),
        };
        let verifier = match o.basic_auth.as_ref().filter(|_| kind == VerifyKind::Basic) {
            // Stored as a reference: read now and compared as read, not hashed.
            Some(b) if crate::secret::is_reference(&b.0) => {
                let plain = crate::secret::resolve(&b.0).map_err(|e| cannot(e.to_string()))?;
                signature::Verifier::basic_read(&plain)
                    .map_err(|e| cannot(format!("{}: {e}", b.0)))?
            }
            _ => signature::Verifier::new(kind, keys).map_err(cannot)?,
        };
        match verifier.verify(header, body, now / 1000) {
            Ok(()) => return Ok(Ok(())),
            Err(e) if i == 0 => outcome = Err(e),
            Err(_) => {}
        }
    }
    Ok(outcome)
}

/// The secrets a call may be signed with: the hook's secret, its other secrets, and during a
/// rotation's overlap the one it replaced.
fn candidates(o: &crate::proto::HookOptions, now: i64) -> impl Iterator<Item = &Secret> {
    let rotated = o
        .rotated_secret
        .as_ref()
        .filter(|_| o.rotated_until.is_some_and(|until| now < until));
    o.secret
        .iter()
        .chain(o.secrets.iter().flatten())
        .chain(rotated)
}

/// Whether the hook's `--if` (if any) holds for this call. Asked once the call passed every
/// other check, so a false condition is answered and recorded as an accepted call is.
pub fn condition_holds(hook: &LiveHook, inv: &Invocation) -> bool {
    let Some(condition) = &hook.condition else {
        return true;
    };
    let vars = crate::hook::refs::request_vars_of(hook, inv, |root| condition.reads(root));
    condition.holds(&vars)
}

/// Whether the call's values can reach its command: no NUL byte (400) and nothing longer than
/// Linux passes (413) in an argument or variable taken from the request.
pub fn values_fit(hook: &LiveHook, inv: &Invocation) -> Result<(), Box<Answer>> {
    let o = &hook.options;
    if o.args.is_none() && o.env_from.is_none() {
        return Ok(());
    }
    let vars = crate::hook::refs::request_vars(hook, inv);
    crate::hook::refs::command_values(hook, &vars)
        .map(|_| ())
        .map_err(|(status, why)| {
            Box::new(Answer::json(status, json!({"error": why})).with_error(why))
        })
}

/// What the log says of a call whose condition was false.
pub const SKIPPED: &str = "skipped: condition false";

/// The answer to a call whose condition is false: nothing ran, and the log says so.
pub fn mismatch(hook: &LiveHook) -> Answer {
    let status = hook.options.if_mismatch_status.unwrap_or(200);
    Answer::text(status, "Hook rules were not satisfied.").with_note(SKIPPED)
}

/// What a refusal's log entry says of the call.
pub struct Refusal<'a> {
    pub hook: &'a LiveHook,
    /// The called path, token redacted.
    pub path: &'a str,
    pub method: &'a str,
    pub remote_addr: &'a str,
    /// Body bytes received or announced.
    pub size: u64,
    pub received: Instant,
}

/// Logs a refused call (status, reason, size) and counts it on its hook; nothing of its body
/// or headers is kept, and it raises no event. The refusal is answered even if this fails.
pub async fn record(shared: &Shared, r: Refusal<'_>, answer: &Answer) {
    let reason = answer.error.as_deref().unwrap_or("refused");
    let log = NewLog {
        time: crate::time::now_ms(),
        direction: Direction::In,
        hook: Some(r.hook.name.clone()),
        method: Some(r.method.to_string()),
        url: Some(r.path.to_string()),
        status: Some(answer.status),
        error: Some(format!("{reason} ({} body bytes)", r.size)),
        duration_ms: Some(r.received.elapsed().as_millis() as i64),
        remote_addr: Some(r.remote_addr.to_string()),
        ..NewLog::default()
    };
    shared.metrics.call(&r.hook.name, answer.status);
    let call = CallRecord {
        hook_id: r.hook.id,
        status: answer.status,
        log,
        run: None,
    };
    if let Err(e) = shared.store.record_call(call, Outbox::default()).await {
        tracing::error!(hook = %r.hook.name, "cannot record a refused call: {e}");
    }
}
