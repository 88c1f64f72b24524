//! Sending one delivery: the HTTP clients, the request as Standard Webhooks and the hook's
//! options shape it, and what the receiver answered.
//!
//! Invariants: redirects are never followed; with `block_private_targets`, names are resolved by
//! a resolver that drops private and reserved addresses, so the connection goes only to an
//! address that was checked, and literal IPs are checked before sending. Every attempt of one
//! event carries the same `webhook-id` (the event id). Nothing here records anything: the
//! delivery worker decides what an answer means and stores it.

use crate::config::Config;
use crate::events::Event;
use crate::hook::Hook;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    pub fn routine(&self, hook_id: i64, succeeded: bool) -> bool {
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
    /// The attempt failed in a way no retry can mend (its payload cannot be built).
    pub final_failure: bool,
}

impl Sent {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
    pub fn failed(error: String, started: Instant) -> Sent {
        Sent {
            status: None,
            error: Some(error),
            retry_after: None,
            body: String::new(),
            duration: started.elapsed(),
            final_failure: false,
        }
    }
}

/// `https://user:pass@host/x` → `https://host/x`, for logs.
fn shown(mut u: reqwest::Url) -> String {
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// An outgoing hook's URL, parsed once (the registry keeps it beside the hook), with the form
/// logs show.
#[derive(Debug, Clone)]
pub struct Target {
    url: Result<reqwest::Url, String>,
    /// The URL without credentials, for log entries (`None` without a URL).
    pub shown: Option<String>,
}

impl Target {
    pub fn of(hook: &Hook) -> Target {
        let raw = hook.options.url.as_deref().unwrap_or_default();
        let url = reqwest::Url::parse(raw).map_err(|e| format!("invalid URL: {e}"));
        let shown = hook.options.url.as_ref().map(|raw| match &url {
            Ok(u) => shown(u.clone()),
            Err(_) => raw.clone(),
        });
        Target { url, shown }
    }
}

/// Sends `event` to `hook` (whose URL is `target`) once.
pub async fn send(
    sender: &Sender,
    config: &Config,
    (hook, target): (&Hook, &Target),
    event: &Event,
) -> Sent {
    let started = Instant::now();
    let max = config.deliveries.max_payload_bytes;
    let body = match crate::events::payload(event, hook, max) {
        Ok(b) => b,
        Err(e) => {
            let mut sent = Sent::failed(format!("cannot build the payload: {e}"), started);
            sent.final_failure = true;
            return sent;
        }
    };
    let url = match &target.url {
        Ok(u) => u,
        Err(e) => return Sent::failed(e.clone(), started),
    };
    let guarded = config.deliveries.block_private_targets;
    if guarded && let Err(e) = check_literal_target(url) {
        return Sent::failed(e, started);
    }
    let client = if guarded {
        &sender.guarded
    } else {
        &sender.plain
    };
    let req = match request(client, config, hook, event, url, &body) {
        Ok(r) => r,
        Err(e) => return Sent::failed(e, started),
    };
    match req.body(body).send().await {
        Ok(resp) => read_answer(resp, started).await,
        Err(e) => Sent::failed(describe(&e), started),
    }
}

/// A URL naming a private or reserved IP literally is refused before any connection (names
/// are checked by the guarded resolver).
fn check_literal_target(url: &reqwest::Url) -> Result<(), String> {
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    match literal {
        Some(ip) if crate::netaddr::is_blocked_target(ip) => Err(format!(
            "refused: {ip} is a private or reserved address (block_private_targets)"
        )),
        _ => Ok(()),
    }
}

/// The request for one attempt: Standard Webhooks headers and signature, then the hook's own
/// headers and authentication.
fn request(
    client: &reqwest::Client,
    config: &Config,
    hook: &Hook,
    event: &Event,
    url: &reqwest::Url,
    body: &[u8],
) -> Result<reqwest::RequestBuilder, String> {
    let o = &hook.options;
    let method = if o.method.as_deref() == Some("PUT") {
        reqwest::Method::PUT
    } else {
        reqwest::Method::POST
    };
    let timestamp = crate::time::now_ms() / 1000;
    let mut req = client
        .request(method, url.clone())
        .timeout(o.timeout.unwrap_or(config.deliveries.timeout).0)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string());
    let read = |v: &str| {
        crate::secret::resolve(v)
            .map(|c| c.into_owned())
            .map_err(|e| e.to_string())
    };
    if let Some(secret) = &o.secret {
        let sign = |s: &str| {
            crate::signature::sign_standard(&read(s)?, &event.id, timestamp, body)
                .map_err(|e| format!("cannot sign: {e}"))
        };
        let mut sig = sign(&secret.0)?;
        // During a rotation's overlap receivers holding either secret verify.
        if let (Some(old), Some(until)) = (&o.rotated_secret, o.rotated_until)
            && crate::time::now_ms() < until
        {
            sig.push(' ');
            sig.push_str(&sign(&old.0)?);
        }
        req = req.header("webhook-signature", sig);
    }
    for (k, v) in o.headers.iter().flatten() {
        req = req.header(k.as_str(), read(&v.0)?);
    }
    if let Some(b) = &o.basic_auth {
        let b = read(&b.0)?;
        let (user, pass) = b.split_once(':').unwrap_or((b.as_str(), ""));
        req = req.basic_auth(user, Some(pass));
    } else if let Some(t) = &o.bearer {
        req = req.bearer_auth(read(&t.0)?);
    }
    Ok(req)
}

/// The receiver's status, `Retry-After` and the start of its body.
async fn read_answer(mut resp: reqwest::Response, started: Instant) -> Sent {
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
        final_failure: false,
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
