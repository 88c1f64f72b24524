//! What one HTTP client can hold: connections per address, slow bodies, body memory.

use crate::helper::{Daemon, read_reply};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A connection to hookd from the local address `from` (any 127.x address is loopback).
fn connect_from(from: [u8; 4], port: u16) -> TcpStream {
    // std has no bind-before-connect; a raw socket through libc keeps the test dependency-free.
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor this function owns until it is handed over.
    let s = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let addr = |ip: [u8; 4], port: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as u16,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(ip),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        let local = addr(from, 0);
        assert_eq!(
            libc::bind(fd, &local as *const _ as *const libc::sockaddr, len),
            0
        );
        let remote = addr([127, 0, 0, 1], port);
        assert_eq!(
            libc::connect(fd, &remote as *const _ as *const libc::sockaddr, len),
            0,
            "connect: {}",
            std::io::Error::last_os_error()
        );
        TcpStream::from_raw_fd(fd)
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Whether the daemon closed this connection (read gives end of file) within `within`.
fn closed_by_peer(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0))
        || matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
}

fn healthz(s: &mut TcpStream) -> u16 {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    read_reply(s).status
}

#[test]
fn one_address_cannot_hold_every_connection() {
    let d = Daemon::start_with("max_connections_per_ip = 3\n");
    let idle: Vec<TcpStream> = (0..3)
        .map(|_| connect_from([127, 0, 0, 1], d.port))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fourth = connect_from([127, 0, 0, 1], d.port);
    assert!(
        closed_by_peer(&mut fourth, Duration::from_secs(5)),
        "a fourth connection from the same address is closed at once"
    );
    let mut other = connect_from([127, 0, 0, 2], d.port);
    assert_eq!(healthz(&mut other), 200, "another address is still served");
    drop(idle);
    std::thread::sleep(Duration::from_millis(200));
    let mut again = connect_from([127, 0, 0, 1], d.port);
    assert_eq!(
        healthz(&mut again),
        200,
        "slots come back when connections close"
    );
}

#[test]
fn a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes() {
    let d = Daemon::start_with("body_timeout = \"1s\"\n");
    let t = d.create("slow", &["--run", "cat"]);
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    write!(
        s,
        "POST /webhook/{t} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b"
    )
    .unwrap();
    let r = read_reply(&mut s);
    assert_eq!(r.status, 408);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("connection"))
            .map(|(_, v)| v.as_str()),
        Some("close")
    );
    let logs = d.json(&["logs", "slow", "--failed"]);
    assert_eq!(logs[0]["status"], 408);
    assert!(d.json(&["runs", "slow"]).as_array().unwrap().is_empty());
}

/// `n` connections that each send all but the last byte of a `size`-byte body to hook `t`,
/// and then nothing more.
fn unfinished_bodies(d: &Daemon, t: &str, n: usize, size: usize) -> Vec<TcpStream> {
    let chunk = vec![b'x'; size - 1];
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
            write!(
                s,
                "POST /webhook/{t} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n"
            )
            .unwrap();
            s.set_nonblocking(true).unwrap();
            let mut sent = 0;
            // Write what the connection takes; once hookd stops reading, move on.
            let mut idle_since = Instant::now();
            while sent < chunk.len() && idle_since.elapsed() < Duration::from_millis(300) {
                match s.write(&chunk[sent..]) {
                    Ok(n) => {
                        sent += n;
                        idle_since = Instant::now();
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            s
        })
        .collect()
}

/// The spill files (bodies that found no room in memory) in the run directory of hookd `pid`,
/// with their permission bits.
fn spill_files(pid: u32) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let prefix = format!("hookd-runs-{pid}-");
    let mut found = Vec::new();
    for base in [std::path::PathBuf::from("/dev/shm"), std::env::temp_dir()] {
        let Ok(dirs) = std::fs::read_dir(&base) else {
            continue;
        };
        for dir in dirs.flatten() {
            if !dir.file_name().to_string_lossy().starts_with(&prefix) {
                continue;
            }
            for f in std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if f.file_name().to_string_lossy().starts_with("spill-") {
                    let mode = f.metadata().map(|m| m.permissions().mode()).unwrap_or(0);
                    found.push((f.path(), mode & 0o7777));
                }
            }
        }
    }
    found
}

#[test]
fn a_full_body_budget_makes_no_other_call_wait() {
    let d = Daemon::start_with("body_timeout = \"30s\"\n");
    let t = d.create("count", &["--run", "wc -c", "--raw-output"]);
    // Twenty unfinished 1 MiB bodies from one set of connections: more than the 16 MiB budget.
    let holders = unfinished_bodies(&d, &t, 20, 1024 * 1024);
    std::thread::sleep(Duration::from_millis(300));
    // Another connection's calls are answered at once, not when those bodies time out; one
    // larger than any room left arrives whole through its file.
    let big = "y".repeat(300_000);
    for body in ["{}", big.as_str()] {
        let started = Instant::now();
        let r = d.post(&d.path(&t), body);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body.trim(), body.len().to_string());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a {}-byte call waited {:?} behind unfinished bodies",
            body.len(),
            started.elapsed()
        );
    }
    let spilled = spill_files(d.pid());
    assert!(
        !spilled.is_empty(),
        "the unfinished bodies past the budget are in files"
    );
    assert!(
        spilled.iter().all(|(_, mode)| *mode == 0o600),
        "{spilled:?}"
    );
    drop(holders);
    crate::helper::wait_until(
        "the spill files of closed connections to go",
        Duration::from_secs(10),
        || spill_files(d.pid()).is_empty(),
    );
}

#[test]
fn a_body_trickling_in_gets_408_at_its_deadline() {
    let d = Daemon::start_with("body_timeout = \"1s\"\n");
    let t = d.create("trickle", &["--run", "cat"]);
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    let started = Instant::now();
    write!(
        s,
        "POST /webhook/{t} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    )
    .unwrap();
    // One byte every 200 ms keeps the connection busy but would take 20 s: cut at 1 s.
    s.set_nonblocking(true).unwrap();
    let mut answer = Vec::new();
    for _ in 0..100 {
        let _ = s.write(b"x");
        std::thread::sleep(Duration::from_millis(200));
        let mut b = [0u8; 4096];
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&b[..n]),
            Err(_) => {}
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let elapsed = started.elapsed();
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    let logs = d.json(&["logs", "trickle", "--failed"]);
    assert_eq!(logs[0]["status"], 408);
    assert!(d.json(&["runs", "trickle"]).as_array().unwrap().is_empty());
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn unfinished_bodies_hold_a_bounded_amount_of_memory() {
    let d = Daemon::start_with("max_body_bytes = 8388608\nbody_timeout = \"20s\"\n");
    let t = d.create("big", &["--run", "true"]);
    let before = rss_kib(d.pid());
    // Twenty callers each send all but one byte of a 4 MiB body and stop: 80 MiB if held.
    let conns = unfinished_bodies(&d, &t, 20, 4 * 1024 * 1024);
    std::thread::sleep(Duration::from_millis(500));
    let grown_mib = (rss_kib(d.pid()).saturating_sub(before)) / 1024;
    assert!(
        grown_mib < 48,
        "20 unfinished 4 MiB bodies grew hookd by {grown_mib} MiB (budget 16 MiB)"
    );
    drop(conns);
    // Served as usual afterwards.
    assert_eq!(d.post(&d.path(&t), "{}").status, 200);
}
