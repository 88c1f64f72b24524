//! The HTTP side: `/healthz` and the webhook routes, on hyper 1.
//!
//! Routing, method checks and body limits happen here; what a call *does* is in
//! [`crate::daemon::incoming`]. The token never leaves this module: it is looked up by hash and
//! the path is redacted before anything logs it. Bodies are refused early on `Content-Length`
//! and capped while streaming, so a caller cannot make hookd buffer more than `max_body_bytes`.

use crate::daemon::incoming::{self, Answer, Call};
use crate::daemon::state::Shared;
use crate::netaddr::{self, Cidr};
use crate::run::Invocation;
use crate::signature::{self, VerifyKind};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Routes that take a token, in the order they are tried.
const ROUTES: [&str; 3] = ["/webhook/", "/api/webhook/", "/api/webhooks/execute/"];
/// How long a sender's delivery id is remembered for replay protection.
const REPLAY_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Accepts connections until `shutdown` flips, then lets in-flight requests finish (bounded by
/// `grace`).
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(shared.config().header_timeout.0)
        .max_buf_size(64 * 1024);
    // Open connections are capped: past the cap, new ones wait in the kernel's backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(
        shared.config().max_connections as usize,
    ));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, std::convert::Infallible>(route(req, remote, shared).await) }
                });
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection from {remote}: {e}");
                    }
                    drop(slot);
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some HTTP requests were still in flight after {grace:?}");
    }
}

/// The token in a webhook path, if the path is one of the webhook routes.
pub fn token_of(path: &str) -> Option<&str> {
    ROUTES
        .iter()
        .find_map(|r| path.strip_prefix(r))
        .filter(|t| !t.is_empty() && !t.contains('/'))
}

async fn route(
    req: Request<Incoming>,
    remote: SocketAddr,
    shared: Arc<Shared>,
) -> Response<Full<Bytes>> {
    let received = Instant::now();
    let path = req.uri().path();
    if path == "/healthz" {
        return finish(Answer::text(200, "ok\n"), None);
    }
    let Some(hook) = token_of(path).and_then(|t| shared.registry.lookup(t)) else {
        return finish(Answer::not_found(), None);
    };
    let config = shared.config();
    let redacted = crate::token::redact_path(path);
    let client = client_ip(remote.ip(), req.headers(), &config.trust_proxy);
    let mut headers = Vec::with_capacity(req.headers().len());
    for (name, value) in req.headers() {
        // Header values that are not text cannot be passed to a script faithfully; pass them lossily.
        headers.push((
            name.as_str().to_string(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let inv = Invocation {
        method: req.method().as_str().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        remote_addr: client.to_string(),
        content_type,
        headers,
        ..Invocation::default()
    };
    let mut call = Call {
        hook,
        path: redacted,
        inv,
        received,
    };

    if let Some(allowed) = &call.hook.options.allow_ip
        && !allowed
            .iter()
            .filter_map(|c| c.parse::<Cidr>().ok())
            .any(|c| c.contains(client))
    {
        let answer = Answer::json(403, json!({"error": "forbidden"})).with_error(format!(
            "client {client} is not in the hook's --allow-ip list"
        ));
        return refuse(&shared, &call, answer, None).await;
    }
    if !call.hook.allows_method(&call.inv.method) {
        let allow = call.hook.methods().join(", ");
        let answer = Answer::json(405, json!({"error": "method not allowed"}))
            .with_error("method not allowed");
        return refuse(&shared, &call, answer, Some(allow)).await;
    }
    if let Some(Ok((calls, per))) = call
        .hook
        .options
        .rate_limit
        .as_deref()
        .map(crate::hook::parse_rate_limit)
        && let Err(wait) = shared.rate_limits.check(call.hook.id, calls, per)
    {
        let mut answer = Answer::json(429, json!({"error": "rate limit exceeded"}))
            .with_error("rate limit exceeded");
        answer.retry_after = Some(wait);
        return refuse(&shared, &call, answer, None).await;
    }
    let max = config.max_body_bytes;
    let too_large = || {
        Answer::json(
            413,
            json!({"error": format!("request body is larger than {max} bytes")}),
        )
        .with_error("body too large")
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return refuse(&shared, &call, too_large(), None).await;
    }
    call.inv.body = match Limited::new(req.into_body(), max as usize).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return refuse(&shared, &call, too_large(), None).await;
        }
        Err(e) => {
            tracing::debug!("reading a request body from {remote}: {e}");
            return finish(
                Answer::json(400, json!({"error": "could not read the request body"})),
                None,
            );
        }
    };
    if let Some(answer) = verify(&shared, &call).await {
        return refuse(&shared, &call, answer, None).await;
    }
    // The call runs in its own task so that a caller hanging up does not cut a run short.
    match tokio::spawn(incoming::handle(shared, call)).await {
        Ok(answer) => finish(answer, None),
        Err(e) => {
            tracing::error!("a call handler failed: {e}");
            finish(Answer::json(500, json!({"error": "internal error"})), None)
        }
    }
}

/// Signature check and replay protection; `Some` is the answer that ends the call here. Why a
/// signature failed goes to the log, never to the caller.
async fn verify(shared: &Arc<Shared>, call: &Call) -> Option<Answer> {
    let o = &call.hook.options;
    let (Some(kind), Some(secret)) = (
        o.verify.as_deref().and_then(VerifyKind::parse),
        o.secret.as_ref(),
    ) else {
        return None;
    };
    let headers = &call.inv.headers;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let now = crate::time::now_ms();
    if let Err(e) = signature::verify(kind, &secret.0, &header, &call.inv.body, now / 1000) {
        return Some(
            Answer::json(401, json!({"error": "unauthorized"}))
                .with_error(format!("verification failed: {e}")),
        );
    }
    let delivery = signature::delivery_id(kind, &header)?;
    match shared
        .store
        .first_delivery(call.hook.id, delivery.clone(), now, now - REPLAY_WINDOW_MS)
        .await
    {
        Ok(true) => None,
        Ok(false) => Some(
            Answer::json(200, json!({"status": "duplicate"}))
                .with_note(format!("duplicate delivery {delivery}: not run again")),
        ),
        Err(e) => {
            tracing::error!("cannot check for a replayed delivery: {e}");
            Some(
                Answer::json(503, json!({"error": "hookd cannot write its database"}))
                    .with_error(format!("store: {e}")),
            )
        }
    }
}

/// Answers a call that stops before it runs, logging it like any other call.
async fn refuse(
    shared: &Arc<Shared>,
    call: &Call,
    answer: Answer,
    allow: Option<String>,
) -> Response<Full<Bytes>> {
    // The refusal is answered even if it cannot be logged.
    let _ = incoming::record(shared, call, &answer, Vec::new(), None).await;
    finish(answer, allow)
}

/// The caller's address: the peer, or when the peer is a trusted proxy, the right-most address
/// in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &hyper::HeaderMap, trust_proxy: &[String]) -> IpAddr {
    let peer = netaddr::canonical(peer);
    if trust_proxy.is_empty() {
        return peer;
    }
    let trusted: Vec<Cidr> = trust_proxy.iter().filter_map(|c| c.parse().ok()).collect();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(netaddr::canonical)
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

fn finish(a: Answer, allow: Option<String>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(a.body));
    *resp.status_mut() =
        StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    if let Some(secs) = a.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(allow) = allow.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::ALLOW, allow);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_three_routes_only() {
        assert_eq!(token_of("/webhook/hkd_x"), Some("hkd_x"));
        assert_eq!(token_of("/api/webhook/hkd_x"), Some("hkd_x"));
        assert_eq!(token_of("/api/webhooks/execute/hkd_x"), Some("hkd_x"));
        assert_eq!(token_of("/webhook/"), None);
        assert_eq!(token_of("/webhook/a/b"), None);
        assert_eq!(token_of("/other/hkd_x"), None);
    }
}
