//! The delivery worker: sends due deliveries, records every attempt, retries on schedule.
//!
//! Invariants:
//! - A delivery is claimed (`sending`) before it is sent and its attempt is recorded in one
//!   transaction with the log entry and any follow-up events; a crash in between leaves it
//!   `sending`, which start-up turns back into `pending` (at-least-once).
//! - Every attempt of one event carries the same `webhook-id` (the event id), so receivers
//!   can deduplicate; signatures follow Standard Webhooks.
//! - Redirects are never followed. With `block_private_targets`, names are resolved by a
//!   resolver that drops private and reserved addresses, so the connection goes only to an
//!   address that was checked; literal IPs are checked before sending.
//! - Alarms do not cascade: a delivery of an alarm (`delivery.failed`, `endpoint.disabled`)
//!   that itself fails raises no further `delivery.failed`.

use crate::config::Config;
use crate::daemon::outbox;
use crate::daemon::state::Shared;
use crate::event_catalogue as catalogue;
use crate::events::Event;
use crate::hook::Hook;
use crate::store::{Attempt, AttemptRecord, Claimed, DeliveryStatus, Direction, NewLog};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

/// Longest `Retry-After` honoured; a receiver cannot park a delivery for longer than this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Bytes of a receiver's answer kept for `hookctl test` and error messages.
const BODY_EXCERPT: usize = 4096;

/// The two HTTP clients: one plain, one whose resolver refuses private targets.
pub struct Sender {
    plain: reqwest::Client,
    guarded: reqwest::Client,
    /// Outgoing hooks whose last recorded attempt succeeded, so they have no `failing_since`
    /// to clear: another success there changes nothing but history.
    healthy: std::sync::Mutex<std::collections::HashSet<i64>>,
}

impl Sender {
    /// Notes how an attempt at `hook_id` went; true for a success at an endpoint already known
    /// healthy, which changes nothing but history.
    fn routine(&self, hook_id: i64, succeeded: bool) -> bool {
        let mut healthy = self.healthy.lock().unwrap_or_else(|e| e.into_inner());
        if succeeded {
            !healthy.insert(hook_id)
        } else {
            healthy.remove(&hook_id);
            false
        }
    }

    pub fn new() -> Result<Sender, reqwest::Error> {
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("hookd/", env!("CARGO_PKG_VERSION")))
                .pool_idle_timeout(Duration::from_secs(90))
                .no_proxy()
        };
        Ok(Sender {
            plain: base().build()?,
            guarded: base().dns_resolver(Arc::new(GuardedResolver)).build()?,
            healthy: Default::default(),
        })
    }
}

/// Resolves names and keeps only addresses an outgoing delivery may reach.
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<std::net::SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| !crate::netaddr::is_blocked_target(a.ip()))
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("refused: {host} resolves only to private or reserved addresses (block_private_targets)").into();
                return Err(err);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Sent {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: String,
    pub duration: Duration,
}

impl Sent {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
    fn failed(error: String, started: Instant) -> Sent {
        Sent {
            status: None,
            error: Some(error),
            retry_after: None,
            body: String::new(),
            duration: started.elapsed(),
        }
    }
}

/// `https://user:pass@host/x` → `https://host/x`, for logs.
pub fn url_without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// Sends `event` to `hook` once.
pub async fn send(sender: &Sender, config: &Config, hook: &Hook, event: &Event) -> Sent {
    let started = Instant::now();
    let o = &hook.options;
    let url = o.url.clone().unwrap_or_default();
    let body = match crate::events::payload(event, hook) {
        Ok(b) => b,
        Err(e) => return Sent::failed(format!("cannot build the payload: {e}"), started),
    };
    let guarded = config.deliveries.block_private_targets;
    if guarded {
        let parsed = reqwest::Url::parse(&url);
        let literal = parsed.as_ref().ok().and_then(|u| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        });
        if let Some(ip) = literal
            && crate::netaddr::is_blocked_target(ip)
        {
            return Sent::failed(
                format!("refused: {ip} is a private or reserved address (block_private_targets)"),
                started,
            );
        }
    }
    let client = if guarded {
        &sender.guarded
    } else {
        &sender.plain
    };
    let method = if o.method.as_deref() == Some("PUT") {
        reqwest::Method::PUT
    } else {
        reqwest::Method::POST
    };
    let timestamp = crate::time::now_ms() / 1000;
    let mut req = client
        .request(method, &url)
        .timeout(o.timeout.unwrap_or(config.deliveries.timeout).0)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(secret) = &o.secret {
        match crate::signature::sign_standard(&secret.0, &event.id, timestamp, &body) {
            Ok(sig) => req = req.header("webhook-signature", sig),
            Err(e) => return Sent::failed(format!("cannot sign: {e}"), started),
        }
    }
    for (k, v) in o.headers.iter().flatten() {
        req = req.header(k.as_str(), v.0.as_str());
    }
    if let Some(b) = &o.basic_auth {
        let (user, pass) = b.0.split_once(':').unwrap_or((b.0.as_str(), ""));
        req = req.basic_auth(user, Some(pass));
    } else if let Some(t) = &o.bearer {
        req = req.bearer_auth(&t.0);
    }
    let mut resp = match req.body(body).send().await {
        Ok(r) => r,
        Err(e) => return Sent::failed(describe(&e), started),
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    let mut kept = Vec::new();
    while kept.len() < BODY_EXCERPT {
        match resp.chunk().await {
            Ok(Some(c)) => kept.extend_from_slice(&c[..c.len().min(BODY_EXCERPT - kept.len())]),
            _ => break,
        }
    }
    let ok = (200..300).contains(&status);
    Sent {
        status: Some(status),
        error: (!ok).then(|| format!("receiver answered {status}")),
        retry_after,
        body: String::from_utf8_lossy(&kept).into_owned(),
        duration: started.elapsed(),
    }
}

/// A transport error as one readable line, with its causes.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// Delay before retry `n` (1-based) with ±20 % jitter; `None` when the schedule is used up.
pub fn retry_delay(schedule: &[crate::time::Dur], n: usize) -> Option<Duration> {
    let base = schedule.get(n.checked_sub(1)?)?.0;
    let mut r = [0u8; 2];
    getrandom::fill(&mut r).ok()?;
    let unit = u16::from_le_bytes(r) as f64 / u16::MAX as f64;
    Some(base.mul_f64(0.8 + 0.4 * unit))
}

/// Runs until `stop` flips: claims due deliveries and sends them, at most `max_in_flight` at once.
pub async fn worker(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(
        shared.config().deliveries.max_in_flight as usize,
    ));
    loop {
        let now = crate::time::now_ms();
        let want = slots.available_permits().clamp(1, 256) as u32;
        let (batch, next) = match shared.store.claim_due(now, want).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("cannot claim deliveries: {e}");
                (Vec::new(), None)
            }
        };
        let full = batch.len() as u32 == want;
        for claimed in batch {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                attempt(&shared, claimed).await;
                drop(permit);
            });
        }
        if full {
            continue;
        }
        let wait = next
            .map(|t| Duration::from_millis((t - crate::time::now_ms()).clamp(0, 60_000) as u64))
            .unwrap_or(Duration::from_secs(60));
        tokio::select! {
            _ = shared.store.feeds().deliveries_due.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends one claimed delivery to its (enabled) hook and records the outcome.
pub async fn attempt(shared: &Arc<Shared>, c: Claimed) -> Sent {
    match shared.registry.outgoing(c.hook_id) {
        Some(hook) => deliver(shared, c, &hook, true).await,
        None => {
            let sent = Sent::failed(
                "the outgoing hook is disabled or deleted".into(),
                Instant::now(),
            );
            finish(shared, &c, None, &sent, Decision::Fail).await;
            sent
        }
    }
}

/// Sends a claimed delivery to `hook` and records the outcome with its consequences; without
/// `retry` a failure is final (`hookctl test`).
pub async fn deliver(shared: &Arc<Shared>, c: Claimed, hook: &Hook, retry: bool) -> Sent {
    let config = shared.config();
    let sent = send(&shared.sender, &config, hook, &c.event).await;
    let n = c.attempts as usize + 1;
    let decision = if sent.ok() {
        Decision::Succeed
    } else if sent.status == Some(410) {
        Decision::Disable("the receiver answered 410 Gone".into())
    } else if !retry {
        Decision::Fail
    } else {
        match retry_delay(&config.deliveries.retry_schedule, n) {
            Some(d) => Decision::Retry(d.max(sent.retry_after.unwrap_or_default())),
            None => Decision::Exhausted,
        }
    };
    finish(shared, &c, Some(hook), &sent, decision).await;
    sent
}

#[derive(Debug, Clone)]
enum Decision {
    Succeed,
    Retry(Duration),
    Exhausted,
    Fail,
    Disable(String),
}

impl Decision {
    /// The attempt row that follows from the decision.
    fn attempt(&self, sent: &Sent, now: i64) -> Attempt {
        let (status, next_attempt_at) = match self {
            Decision::Succeed => (DeliveryStatus::Succeeded, None),
            Decision::Retry(d) => (DeliveryStatus::Pending, Some(now + d.as_millis() as i64)),
            _ => (DeliveryStatus::Failed, None),
        };
        Attempt {
            status,
            http_status: sent.status,
            error: (status != DeliveryStatus::Succeeded)
                .then(|| sent.error.clone())
                .flatten(),
            next_attempt_at,
            at: now,
        }
    }

    /// The outcome label of the delivery metrics.
    fn outcome(&self) -> &'static str {
        match self {
            Decision::Succeed => "succeeded",
            Decision::Retry(_) => "retried",
            _ => "failed",
        }
    }
}

/// Records an attempt with its consequences: the attempt row and log entry, `delivery.failed`
/// when the retries are used up, and disabling the endpoint when it answered 410 or has been
/// failing for `disable_after`.
async fn finish(
    shared: &Arc<Shared>,
    c: &Claimed,
    hook: Option<&Hook>,
    sent: &Sent,
    decision: Decision,
) {
    let now = crate::time::now_ms();
    shared.metrics.delivery(&c.hook, decision.outcome());
    let follow_up = match decision {
        Decision::Exhausted if catalogue::cascades(&c.event.event_type) => {
            Some(failed_event(c, sent))
        }
        _ => None,
    };
    let record = AttemptRecord {
        delivery_id: c.id,
        attempt: decision.attempt(sent, now),
        log: attempt_log(c, hook, sent, now),
        endpoint: hook.map(|h| h.id),
        routine: shared
            .sender
            .routine(c.hook_id, matches!(decision, Decision::Succeed)),
    };
    let finished = match shared
        .store
        .finish_attempt(record, outbox::stage(shared, follow_up))
        .await
    {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(delivery = c.id, "cannot record a delivery attempt: {e}");
            return;
        }
    };
    let disable_after = shared.config().deliveries.disable_after.as_millis();
    let reason = match decision {
        Decision::Disable(reason) => Some(reason),
        _ => finished
            .failing_since
            .filter(|since| now - since >= disable_after)
            .map(|since| {
                format!(
                    "failing for {}",
                    crate::time::Dur(Duration::from_millis((now - since) as u64))
                )
            }),
    };
    if let Some(reason) = reason {
        disable(shared, c, reason, now).await;
    }
}

/// The log entry of one attempt.
fn attempt_log(c: &Claimed, hook: Option<&Hook>, sent: &Sent, now: i64) -> NewLog {
    NewLog {
        time: now,
        direction: Direction::Out,
        hook: Some(c.hook.clone()),
        method: Some(
            hook.and_then(|h| h.options.method.clone())
                .unwrap_or_else(|| "POST".into()),
        ),
        url: hook
            .and_then(|h| h.options.url.as_deref())
            .map(url_without_credentials),
        status: sent.status,
        error: sent.error.clone(),
        duration_ms: Some(sent.duration.as_millis() as i64),
        delivery_id: Some(c.id.to_string()),
        attempt: Some(c.attempts + 1),
        ..NewLog::default()
    }
}

fn failed_event(c: &Claimed, sent: &Sent) -> Event {
    Event::new(
        "delivery.failed",
        json!({
            "hook": c.hook,
            "delivery_id": c.id.to_string(),
            "event_id": c.event.id,
            "event_type": c.event.event_type,
            "attempts": c.attempts + 1,
            "last_status": sent.status,
            "last_error": sent.error,
        }),
    )
}

/// Disables the endpoint of `c` and announces it, unless it was disabled meanwhile.
async fn disable(shared: &Arc<Shared>, c: &Claimed, reason: String, now: i64) {
    let event = Event::new(
        "endpoint.disabled",
        json!({"hook": c.hook, "reason": reason}),
    );
    match shared
        .store
        .disable_endpoint(c.hook_id, now, outbox::stage(shared, [event]))
        .await
    {
        Ok(Some(hook)) => {
            tracing::warn!(hook = %c.hook, "outgoing hook disabled: {reason}");
            shared.registry.upsert(hook);
        }
        Ok(None) => {}
        Err(e) => tracing::error!(hook = %c.hook, "cannot disable the outgoing hook: {e}"),
    }
}
