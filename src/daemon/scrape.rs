//! The `/metrics` listener (`metrics_listen`): Prometheus text from the daemon's counters, the
//! runner's gauges and the store's pending deliveries. It serves nothing else.

use crate::daemon::state::Shared;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::sync::watch;

/// Serves `GET /metrics` until `stop` flips.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(x) => x,
                Err(_) => continue,
            },
            _ = stop.changed() => return,
        };
        let shared = shared.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let shared = shared.clone();
                async move {
                    let mut resp = hyper::Response::new(Full::new(Bytes::new()));
                    if req.uri().path() != "/metrics" {
                        *resp.status_mut() = hyper::StatusCode::NOT_FOUND;
                        return Ok::<_, std::convert::Infallible>(resp);
                    }
                    let pending = shared.store.count_pending().await.unwrap_or(0);
                    let endpoints = shared.store.endpoints().await.unwrap_or_default();
                    let mut text = shared.metrics.render(
                        shared.runner.running(),
                        shared.runner.queued(),
                        pending,
                    );
                    crate::daemon::metrics::endpoints(&mut text, &endpoints);
                    *resp.body_mut() = Full::new(Bytes::from(text));
                    resp.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static(
                            "text/plain; version=0.0.4; charset=utf-8",
                        ),
                    );
                    Ok(resp)
                }
            });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
