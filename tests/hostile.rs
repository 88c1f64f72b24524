//! Hostile input: each case gets its documented answer and the daemon stays healthy.

use crate::helper::{Daemon, http, text};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends raw bytes, returns the status code of the answer (0: connection closed without one).
fn raw(port: u16, bytes: &[u8]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn hostile_requests_get_their_documented_answers() {
    let d = Daemon::start_with("header_timeout = \"1s\"\n");
    let chat = d.create("chat", &["--message"]);
    let p = d.path(&chat);
    let port = d.port;
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(300_000)
    );
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect::<String>()
    );
    let long_token = format!(
        "GET /webhook/hkd_{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(200_000)
    );
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        ("malformed request line", b"GARBAGE\r\n\r\n".to_vec(), &[400]),
        ("binary junk", vec![0u8, 1, 2, 255, 254, 13, 10, 13, 10], &[400]),
        ("oversized header", big_header.into_bytes(), &[431]),
        ("too many headers", many_headers.into_bytes(), &[431]),
        // Past the URI limit or past the header buffer, depending on how the bytes arrive.
        ("very long token", long_token.into_bytes(), &[414, 431]),
        ("long token-shaped segment", format!("GET /webhook/hkd_{} HTTP/1.1\r\nHost: x\r\n\r\n", "b".repeat(5000)).into_bytes(), &[404]),
        ("invalid UTF-8 in the path", b"GET /webhook/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), &[400]),
        ("path traversal", b"GET /webhook/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), &[404]),
        ("encoded traversal", b"GET /webhook/..%2F..%2Fetc HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), &[404]),
        ("token-shaped but wrong", b"GET /webhook/hkd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), &[404]),
        ("bad content-length", format!("POST {p} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n").into_bytes(), &[400]),
    ];
    for (what, bytes, want) in &cases {
        let got = raw(port, bytes);
        assert!(
            want.contains(&got),
            "{what}: got {got}, want one of {want:?}"
        );
    }
    let deep = format!(
        "{{\"content\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(d.post(&p, &deep).status, 422, "huge JSON nesting");
    let bad_utf8 = d.request(
        "POST",
        &p,
        &[("Content-Type", "application/json")],
        b"{\"content\":\"\xc3\x28\"}",
    );
    assert_eq!(bad_utf8.status, 422);
    for name in ["../x", "x;rm -rf /", "$(id)", "a b", "", &"n".repeat(65)] {
        assert_eq!(
            d.ctl(&["create", name, "--message"]).status.code(),
            Some(1),
            "hook name {name:?}"
        );
    }
    assert_eq!(d.get("/healthz").status, 200, "still healthy");
    assert_eq!(d.post(&p, r#"{"content": "still here"}"#).status, 200);
}

#[test]
fn slow_clients_are_cut_off_after_the_header_timeout() {
    let d = Daemon::start_with("header_timeout = \"1s\"\n");
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the connection was closed by hookd"
    );
    let answer = text(&buf);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert_eq!(d.get("/healthz").status, 200);
}

#[test]
fn a_thousand_concurrent_calls_all_get_answers() {
    // All from 127.0.0.1: lift the per-address cap (its own test is in limits.rs).
    let d = Daemon::start_with("max_connections_per_ip = 1000\n");
    let chat = d.create("chat", &["--message"]);
    let path = d.path(&chat);
    let port = d.port;
    // 1,000 connections open at the same time, each sending one message.
    let streams: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let body = r#"{"content": "burst"}"#;
    let handles: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            let req = format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                    s.write_all(req.as_bytes()).unwrap();
                    crate::helper::read_reply(&mut s).status
                })
                .unwrap_or_else(|e| panic!("thread {i}: {e}"))
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "{:?}",
        statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>()
    );
    assert_eq!(d.json(&["show", "chat"])["call_count"], 1000);
    assert_eq!(http(port, "GET", "/healthz", &[], b"").status, 200);
}

#[test]
fn rate_limits_answer_429_with_retry_after() {
    let d = Daemon::start();
    let t = d.create("limited", &["--run", "true", "--rate-limit", "2/m"]);
    assert_eq!(d.get(&d.path(&t)).status, 200);
    assert_eq!(d.get(&d.path(&t)).status, 200);
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(d.json(&["runs", "limited"]).as_array().unwrap().len(), 2);
    assert_eq!(d.json(&["show", "limited"])["rate_limit"], "2/m");
    assert_eq!(
        d.ctl(&["create", "x", "--run", "true", "--rate-limit", "lots"])
            .status
            .code(),
        Some(1)
    );
}
