//! A hello-world HTTP/1.1 server on 127.0.0.1: the upper limit for "answer a request without
//! doing anything" on this machine, and a fast receiver for outgoing deliveries.
//!
//! Usage: `hello PORT` answers 200 `hello` to every request (any method, any path), after
//! reading the request body. `hello PORT --hang` reads requests and never answers them: a
//! receiver that is up but stuck, so deliveries to it stay pending.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::net::TcpListener;

async fn answer(req: Request<Incoming>, hang: bool) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body so the connection can be kept alive.
    let _ = req.into_body().collect().await;
    if hang {
        std::future::pending::<()>().await;
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = match args.next().and_then(|p| p.parse().ok()) {
        Some(p) => p,
        None => {
            eprintln!("usage: hello PORT [--hang]");
            std::process::exit(2);
        }
    };
    let hang = args.next().as_deref() == Some("--hang");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hello: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, hang));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
