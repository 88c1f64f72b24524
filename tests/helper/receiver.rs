//! A real HTTP receiver for outgoing deliveries: records every request and answers with the
//! next status from a script (the last one repeats). Runs on a thread; stops when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request had arrived in full, and when its answer was written.
    pub at: Instant,
    pub answered_at: Instant,
    /// The status it was answered with.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "delivered body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
    /// Close the connection without answering.
    pub reset: bool,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            reset: false,
        }
    }
    pub fn delayed(status: u16, delay: Duration) -> Reply {
        Reply {
            delay,
            ..Reply::status(status)
        }
    }
    pub fn reset() -> Reply {
        Reply {
            reset: true,
            ..Reply::status(0)
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

pub struct Receiver {
    pub port: u16,
    pub got: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Answers each request with the next of `statuses` (the last repeats).
    pub fn start(statuses: &[u16]) -> Receiver {
        Receiver::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), statuses)
    }

    pub fn start_on(listener: TcpListener, statuses: &[u16]) -> Receiver {
        Receiver::replying(
            listener,
            statuses.iter().map(|s| Reply::status(*s)).collect(),
        )
    }

    /// Answers request n with `replies[n]` (the last repeats); each request on its own thread,
    /// so a slow reply does not hold up the next.
    pub fn replying(listener: TcpListener, replies: Vec<Reply>) -> Receiver {
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let reply = replies[n.min(replies.len() - 1)].clone();
                        n += 1;
                        let g = g.clone();
                        std::thread::spawn(move || {
                            if let Some(r) = serve(stream, &reply) {
                                g.lock().unwrap().push(r);
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver { port, got, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived and returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "receiver got {} of {n} requests: {got:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, reply: &Reply) -> Option<Received> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    let mut received = Received {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
        answered_at: Instant::now(),
        status: reply.status,
    };
    std::thread::sleep(reply.delay);
    if reply.reset {
        return Some(received);
    }
    let mut w = stream;
    let extra: String = reply
        .headers
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}: {v}
"
            )
        })
        .collect();
    let answer = format!(
        "HTTP/1.1 {} X
{extra}Content-Length: 8
Connection: close

received",
        reply.status
    );
    let _ = w.write_all(answer.as_bytes());
    received.answered_at = Instant::now();
    Some(received)
}
