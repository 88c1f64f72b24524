//! The HTTP side: `/healthz` and the webhook routes, on hyper 1, over plain TCP or TLS
//! (HTTP/1.1 either way; the certificate is whatever [`crate::daemon::tls`] holds when a
//! connection is accepted, and the handshake runs in the connection's own task).
//!
//! Routing and body limits happen here, the checks a call must pass in [`crate::daemon::gate`],
//! and what a call *does* in [`crate::daemon::incoming`]. The token never leaves this module: it is looked up by hash and
//! the path is redacted before anything logs it. Bodies are refused early on `Content-Length`
//! and capped while streaming, so a caller cannot make hookd buffer more than `max_body_bytes`.
//! A `--stream` hook's call is answered as soon as its run starts ([`crate::daemon::stream`]);
//! `GET {route}/{token}/runs/{id}` answers the status of one of the hook's runs.

use crate::daemon::answer::Answer;
use crate::daemon::conn_limits::{BodyBudget, Held, PerIp};
use crate::daemon::gate::{self, Caller, Refused};
use crate::daemon::incoming::{self, Call};
use crate::daemon::state::Shared;
use crate::daemon::stream::{self, ResponseBody};
use crate::netaddr::{self, Cidr};
use crate::run::Invocation;
use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Routes that take a token, in the order they are tried.
const ROUTES: [&str; 3] = ["/webhook/", "/api/webhook/", "/api/webhooks/execute/"];

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
    let http = Arc::new(http);
    // Open connections are capped: past the cap, new ones wait in the kernel's backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(
        shared.config().max_connections as usize,
    ));
    let per_ip = Arc::new(PerIp::default());
    let budget = Arc::new(BodyBudget::default());
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
                let config = shared.config();
                let peer = netaddr::canonical(remote.ip());
                let counted = !config.trust_proxy.iter().any(|c| c.contains(peer));
                let per_peer = match counted {
                    true => match per_ip.take(peer, config.max_connections_per_ip) {
                        Some(s) => Some(s),
                        None => {
                            tracing::debug!("{peer} has max_connections_per_ip open; closing");
                            continue;
                        }
                    },
                    false => None,
                };
                let _ = stream.set_nodelay(true);
                let conn = Conn {
                    shared: shared.clone(),
                    budget: budget.clone(),
                    http: http.clone(),
                    watcher: graceful.watcher(),
                };
                tokio::spawn(conn.serve(stream, remote, (slot, per_peer)));
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

/// One accepted connection and what serving it needs.
struct Conn {
    shared: Arc<Shared>,
    budget: Arc<BodyBudget>,
    http: Arc<hyper::server::conn::http1::Builder>,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Conn {
    /// Serves HTTP/1.1 on `stream`, over TLS when a certificate is configured (the handshake
    /// is bounded by `header_timeout`); `held` (the connection's slots) is let go at the end.
    async fn serve(self, stream: TcpStream, remote: SocketAddr, held: impl Send + 'static) {
        let Conn {
            shared,
            budget,
            http,
            watcher,
        } = self;
        let tls = shared.tls.acceptor();
        let handshake = shared.config().header_timeout.0;
        let service = hyper::service::service_fn(move |req| {
            let (shared, budget) = (shared.clone(), budget.clone());
            async move { Ok::<_, std::convert::Infallible>(route(req, remote, shared, &budget).await) }
        });
        let served = match tls {
            None => {
                let conn = http.serve_connection(TokioIo::new(stream), service);
                watcher.watch(conn).await
            }
            Some(tls) => match tokio::time::timeout(handshake, tls.accept(stream)).await {
                Ok(Ok(stream)) => {
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
                Ok(Err(e)) => {
                    tracing::debug!("TLS handshake with {remote} failed: {e}");
                    Ok(())
                }
                Err(_) => {
                    tracing::debug!("TLS handshake with {remote} not done within {handshake:?}");
                    Ok(())
                }
            },
        };
        if let Err(e) = served {
            tracing::debug!("connection from {remote}: {e}");
        }
        drop(held);
    }
}

/// The token in a webhook path, if the path is one of the webhook routes.
pub fn token_of(path: &str) -> Option<&str> {
    ROUTES
        .iter()
        .find_map(|r| path.strip_prefix(r))
        .filter(|t| !t.is_empty() && !t.contains('/'))
}

/// The token and run id of a run status path, `{route}{token}/runs/{id}`.
pub fn run_path(path: &str) -> Option<(&str, &str)> {
    let rest = ROUTES.iter().find_map(|r| path.strip_prefix(r))?;
    let (token, id) = rest.split_once("/runs/")?;
    (!token.is_empty() && !token.contains('/') && !id.is_empty() && !id.contains('/'))
        .then_some((token, id))
}

/// A run of the hook the token names, as its callers may see it; 404 for anything else,
/// including another hook's run.
async fn run_status(
    req: &Request<Incoming>,
    remote: SocketAddr,
    shared: &Shared,
    (token, id): (&str, &str),
) -> Response<ResponseBody> {
    let Some(hook) = shared.registry.lookup(token) else {
        return finish(Answer::not_found(), None);
    };
    let client = client_ip(remote.ip(), req.headers(), &shared.config().trust_proxy);
    if let Some(allowed) = &hook.allow_ip
        && !allowed.iter().any(|c| c.contains(client))
    {
        return finish(Answer::json(403, json!({"error": "forbidden"})), None);
    }
    if req.method() != hyper::Method::GET {
        let answer = Answer::json(405, json!({"error": "method not allowed"}));
        return finish(answer, Some("GET".into()));
    }
    let run = match id.parse::<i64>() {
        Ok(n) => shared.store.hook_run(hook.id, n).await,
        Err(_) => Ok(None),
    };
    match run {
        Ok(Some(r)) => {
            let mut body = json!({
                "id": r.id, "hook": r.hook, "status": r.status,
                "exit_code": r.exit_code, "started_at": r.started_at,
                "finished_at": r.finished_at, "duration_ms": r.duration_ms,
            });
            // Output only where the hook's calls show it (§9): not with `--output none`.
            if hook.options.output.as_deref() != Some("none") {
                body["stdout"] = json!(r.stdout);
                body["stderr"] = json!(r.stderr);
            }
            finish(Answer::json(200, body), None)
        }
        Ok(None) => finish(Answer::not_found(), None),
        Err(e) => {
            tracing::error!("cannot read a run: {e}");
            finish(
                Answer::json(503, json!({"error": "hookd cannot read its database"})),
                None,
            )
        }
    }
}

async fn route(
    req: Request<Incoming>,
    remote: SocketAddr,
    shared: Arc<Shared>,
    budget: &BodyBudget,
) -> Response<ResponseBody> {
    let received = Instant::now();
    let path = req.uri().path();
    if path == "/healthz" {
        if !shared.store.healthy().await.unwrap_or(false) {
            return finish(Answer::text(503, "database unreachable\n"), None);
        }
        return finish(Answer::text(200, "ok\n"), None);
    }
    if let Some(found) = run_path(path) {
        return run_status(&req, remote, &shared, found).await;
    }
    let found = match token_of(path) {
        Some(t) => shared.registry.lookup(t),
        None => shared.registry.lookup_path(path),
    };
    let Some(hook) = found else {
        return finish(Answer::not_found(), None);
    };
    let client = client_ip(remote.ip(), req.headers(), &shared.config().trust_proxy);
    let caller = Caller::Http(client);
    let (parts, body) = req.into_parts();
    let mut call = Call {
        hook,
        path: crate::token::redact_path(parts.uri.path()),
        inv: Invocation {
            peer: Some(remote.to_string()),
            ..invocation(&parts, client)
        },
        received,
        stream: None,
        holds: None,
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(r) = gate::admit(&shared, &call.hook, &call.inv.method, caller).await {
        return refuse(&shared, &call, r, declared.unwrap_or(0)).await;
    }
    // The body's share of the memory budget is held until the call is answered.
    let mut held = BodyBudget::none();
    call.inv.body = match read_body(&shared, body, declared, budget, &mut held).await {
        Ok(b) => b,
        Err(e) => return body_failed(&shared, &call, e, declared, remote).await,
    };
    if let Err(r) = gate::verify(&shared, &call.hook, &call.inv, caller).await {
        let size = call.inv.body.len() as u64;
        return refuse(&shared, &call, r, size).await;
    }
    answer(shared, call, stream::wants_sse(&parts.headers)).await
}

/// The answer to a call whose body could not be read in full: 408, 413, 503 or 400.
async fn body_failed(
    shared: &Arc<Shared>,
    call: &Call,
    e: BodyError,
    declared: Option<u64>,
    remote: SocketAddr,
) -> Response<ResponseBody> {
    match e {
        BodyError::Slow(limit) => {
            let answer = Answer::json(
                408,
                json!({"error": format!("the request body did not arrive within {limit}")}),
            )
            .with_error(format!("body not received within {limit}"));
            let mut resp = refuse(shared, call, answer.into(), declared.unwrap_or(0)).await;
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
        BodyError::TooLarge => {
            let max = shared.config().max_body_bytes;
            let answer = Answer::json(
                413,
                json!({"error": format!("request body is larger than {max} bytes")}),
            )
            .with_error("body too large");
            refuse(shared, call, answer.into(), declared.unwrap_or(max)).await
        }
        BodyError::Spill(e) => {
            tracing::error!(
                "cannot write a request body that found no room in memory to a file: {e}"
            );
            let answer = Answer::json(
                503,
                json!({"error": "hookd cannot take the request body now; retry later"}),
            )
            .with_error(format!("body file: {e}"));
            let mut resp = refuse(shared, call, answer.into(), declared.unwrap_or(0)).await;
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        }
        BodyError::Unreadable(e) => {
            tracing::debug!("reading a request body from {remote}: {e}");
            finish(
                Answer::json(400, json!({"error": "could not read the request body"})),
                None,
            )
        }
    }
}

/// Hands an accepted call to [`incoming::handle`] and answers with what it says, or for a
/// `--stream` hook with the run's output as soon as the run starts.
async fn answer(shared: Arc<Shared>, mut call: Call, sse: bool) -> Response<ResponseBody> {
    // A false `--if` runs nothing: answered here, without a task of its own.
    if !incoming::prepare(&mut call) {
        return finish(incoming::skipped(&shared, &call, false).await, None);
    }
    let started = match call.hook.streams() {
        true => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            call.stream = Some(tx);
            Some(rx)
        }
        false => None,
    };
    // The call runs in its own task so that a caller hanging up does not cut a run short.
    let task = tokio::spawn(incoming::handle(shared, call));
    // A call that starts no run (refused, or not stored) gets its answer as any call does.
    if let Some(rx) = started
        && let Ok(live) = rx.await
    {
        return stream::response(live, sse);
    }
    match task.await {
        Ok(answer) => finish(answer, None),
        Err(e) => {
            tracing::error!("a call handler failed: {e}");
            finish(Answer::json(500, json!({"error": "internal error"})), None)
        }
    }
}

/// The request as a script will see it, without its body yet.
fn invocation(parts: &hyper::http::request::Parts, client: IpAddr) -> Invocation {
    let mut headers = Vec::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        // Header values that are not text cannot be passed to a script faithfully; pass them lossily.
        headers.push((
            name.as_str().to_string(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Invocation {
        method: parts.method.as_str().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        remote_addr: client.to_string(),
        content_type,
        headers,
        ..Invocation::default()
    }
}

enum BodyError {
    TooLarge,
    /// Not received in full within `body_timeout`.
    Slow(crate::time::Dur),
    Unreadable(hyper::Error),
    /// The part that found no room in memory could not be written to (or read from) its file.
    Spill(std::io::Error),
}

/// Where a body's bytes go while it is received: memory while the budget has room, then a
/// file in the run directory (removed when this drops).
struct Spill {
    file: tokio::fs::File,
    _guard: crate::daemon::runner::BodyFile,
}

impl Spill {
    fn create(shared: &Shared) -> Result<Spill, BodyError> {
        let (file, guard) = shared.runner.spill_file().map_err(BodyError::Spill)?;
        Ok(Spill {
            file: tokio::fs::File::from_std(file),
            _guard: guard,
        })
    }

    /// Appends what was written to the file to `buf`.
    async fn read_back(mut self, buf: &mut bytes::BytesMut) -> std::io::Result<()> {
        self.file.flush().await?;
        self.file.rewind().await?;
        let mut rest = Vec::new();
        self.file.read_to_end(&mut rest).await?;
        buf.extend_from_slice(&rest);
        Ok(())
    }
}

/// Reads the body within `max_body_bytes` and `body_timeout`, refusing early on a larger
/// `Content-Length`. Every chunk takes its size out of the memory budget into `held`; once a
/// chunk finds no room, it and the rest of the body go to a spill file instead of waiting for
/// room (a client holding the budget with unfinished bodies must not stall other callers), and
/// are read back once the body is complete, for the call's checks, event and run.
async fn read_body(
    shared: &Shared,
    body: Incoming,
    declared: Option<u64>,
    budget: &BodyBudget,
    held: &mut Held,
) -> Result<Bytes, BodyError> {
    let config = shared.config();
    let max = config.max_body_bytes;
    if declared.is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        let mut body = body;
        let mut buf = bytes::BytesMut::new();
        let mut spill: Option<Spill> = None;
        let mut total = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(BodyError::Unreadable)?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            total += data.len() as u64;
            if total > max {
                return Err(BodyError::TooLarge);
            }
            // Once spilling, everything after goes to the file too, so the order holds.
            if spill.is_none() && budget.try_grow(held, data.len()) {
                buf.extend_from_slice(&data);
                continue;
            }
            let to = match &mut spill {
                Some(s) => s,
                None => spill.insert(Spill::create(shared)?),
            };
            to.file.write_all(&data).await.map_err(BodyError::Spill)?;
        }
        if let Some(s) = spill {
            s.read_back(&mut buf).await.map_err(BodyError::Spill)?;
        }
        Ok(buf.freeze())
    };
    let limit = config.body_timeout;
    tokio::time::timeout(limit.0, read)
        .await
        .unwrap_or(Err(BodyError::Slow(limit)))
}

/// Answers a call the gate refused, logging the refusal and nothing more of the call.
async fn refuse(
    shared: &Arc<Shared>,
    call: &Call,
    refused: Refused,
    size: u64,
) -> Response<ResponseBody> {
    let refusal = gate::Refusal {
        hook: &call.hook,
        path: &call.path,
        method: &call.inv.method,
        remote_addr: &call.inv.remote_addr,
        size,
        received: call.received,
    };
    gate::record(shared, refusal, &refused.answer).await;
    finish(*refused.answer, refused.allow)
}

/// The caller's address: the peer, or when the peer is a trusted proxy, the right-most address
/// in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &hyper::HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = netaddr::canonical(peer);
    if trusted.is_empty() {
        return peer;
    }
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

fn finish(a: Answer, allow: Option<String>) -> Response<ResponseBody> {
    let mut resp = Response::new(Either::Left(Full::new(a.body)));
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
    for (k, v) in &a.headers {
        if let (Ok(k), Ok(v)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
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
        assert_eq!(run_path("/webhook/hkd_x/runs/12"), Some(("hkd_x", "12")));
        assert_eq!(
            run_path("/api/webhooks/execute/hkd_x/runs/3"),
            Some(("hkd_x", "3"))
        );
        assert_eq!(run_path("/webhook/hkd_x/runs/"), None);
        assert_eq!(run_path("/webhook/hkd_x"), None);
    }
}
