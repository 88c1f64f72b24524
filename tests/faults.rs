//! Faults: kill -9 at random points, misbehaving receivers, unusable or full disks.

use crate::helper::receiver::{Receiver, Reply};
use crate::helper::{Daemon, free_port, text, wait_until};
use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// A small deterministic generator; the seed is printed so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_9_at_random_points_loses_no_accepted_event_or_run() {
    let seed = std::env::var("HOOKD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("seed {seed} (HOOKD_SEED={seed} replays it)");
    let mut rng = Lcg(seed);
    let retries = vec!["\"150ms\""; 200].join(", ");
    let mut d = Daemon::start_with(&format!("[deliveries]\nretry_schedule = [{retries}]\n"));
    let port = free_port();
    d.create(
        "out",
        &[
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--event",
            "message.received",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    let job = d.create(
        "job",
        &["--run", "sleep 0.2", "--async", "--concurrency", "2"],
    );
    let mut accepted = Vec::new();
    let mut runs = Vec::new();
    let mut receiver = None;
    for round in 0..4 {
        // From the third round on the receiver is up but slow, so kills land mid-delivery.
        if round == 2 {
            let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
            receiver = Some(Receiver::replying(
                l,
                vec![Reply::delayed(200, Duration::from_millis(100))],
            ));
        }
        let calls = 10 + rng.next(10);
        for i in 0..calls {
            let content = format!("r{round}-m{i}");
            if d.post(&d.path(&chat), &format!(r#"{{"content": "{content}"}}"#))
                .status
                == 200
            {
                accepted.push(content);
            }
            if rng.next(3) == 0 {
                let r = d.get(&d.path(&job));
                if r.status == 202 {
                    runs.push(r.json()["id"].as_str().unwrap().to_string());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.next(300)));
        d.stop_with(9);
        d.boot();
    }
    assert!(
        accepted.len() >= 40,
        "the daemon accepted messages: {}",
        accepted.len()
    );
    let rx = receiver.expect("receiver started");
    // Every accepted message arrives at least once, always under the same webhook-id.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = rx.received();
        let seen: HashSet<String> = got
            .iter()
            .map(|r| r.json()["data"]["content"].as_str().unwrap().to_string())
            .collect();
        if accepted.iter().all(|c| seen.contains(c)) {
            let mut ids: HashMap<String, String> = HashMap::new();
            for r in &got {
                let content = r.json()["data"]["content"].as_str().unwrap().to_string();
                let id = r.header("webhook-id").unwrap().to_string();
                let first = ids.entry(content.clone()).or_insert(id.clone());
                assert_eq!(*first, id, "{content} arrived under two webhook-ids");
            }
            break;
        }
        let missing: Vec<&String> = accepted.iter().filter(|c| !seen.contains(*c)).collect();
        assert!(
            Instant::now() < deadline,
            "seed {seed}: never delivered: {missing:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every accepted async run is accounted for: it ran, or is marked interrupted.
    wait_until(
        "every accepted run to finish or be marked",
        Duration::from_secs(60),
        || {
            runs.iter().all(|id| {
                let status = d.json(&["runs", "show", id])["status"]
                    .as_str()
                    .unwrap()
                    .to_string();
                status == "success" || status == "interrupted"
            })
        },
    );
}

#[test]
fn misbehaving_receivers_are_retried_and_logged() {
    let d = Daemon::start_with(
        "[deliveries]\nretry_schedule = [\"100ms\", \"100ms\", \"100ms\", \"100ms\"]\n",
    );
    let slow = Receiver::replying(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        vec![
            Reply::delayed(200, Duration::from_secs(3)),
            Reply::status(200),
        ],
    );
    let resets = Receiver::replying(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        vec![Reply::reset(), Reply::status(200)],
    );
    d.create(
        "slow",
        &[
            "--url",
            &slow.url("/"),
            "--event",
            "message.received",
            "--timeout",
            "1s",
        ],
    );
    d.create(
        "resets",
        &["--url", &resets.url("/"), "--event", "message.received"],
    );
    d.create(
        "nodns",
        &[
            "--url",
            "http://no-such-host.invalid/",
            "--event",
            "message.received",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    assert_eq!(d.post(&d.path(&chat), r#"{"content": "x"}"#).status, 200);
    for hook in ["slow", "resets"] {
        wait_until(
            &format!("{hook} to succeed on a retry"),
            Duration::from_secs(20),
            || d.json(&["deliveries", hook])[0]["status"] == "succeeded",
        );
    }
    let errors = |hook: &str| -> Vec<String> {
        d.json(&["logs", hook, "--direction", "out"])
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["error"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        errors("slow").iter().any(|e| e.contains("timed out")),
        "{:?}",
        errors("slow")
    );
    assert!(!errors("resets").is_empty());
    wait_until(
        "the DNS failure to be logged",
        Duration::from_secs(10),
        || !errors("nodns").is_empty(),
    );
    let e = errors("nodns");
    assert!(
        e[0].contains("no-such-host.invalid")
            || e[0].contains("dns")
            || e[0].contains("resolve")
            || e[0].contains("lookup"),
        "{e:?}"
    );
    wait_until(
        "the DNS failure to use up its retries",
        Duration::from_secs(20),
        || d.json(&["deliveries", "nodns"])[0]["status"] == "failed",
    );
}

#[test]
fn retry_after_is_honoured() {
    let d = Daemon::start_with("[deliveries]\nretry_schedule = [\"100ms\", \"100ms\"]\n");
    let rx = Receiver::replying(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        vec![
            Reply::status(429).header("Retry-After", "2"),
            Reply::status(200),
        ],
    );
    d.create(
        "busy",
        &["--url", &rx.url("/"), "--event", "message.received"],
    );
    let chat = d.create("chat", &["--message"]);
    let sent = Instant::now();
    d.post(&d.path(&chat), r#"{"content": "x"}"#);
    rx.wait_for(2, Duration::from_secs(20));
    assert!(
        sent.elapsed() >= Duration::from_millis(1900),
        "retried after {:?}, before Retry-After",
        sent.elapsed()
    );
}

fn mount_tmpfs(dir: &std::path::Path, opts: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn umount(dir: &std::path::Path) {
    let _ = Command::new("umount").arg("-l").arg(dir).status();
}

#[test]
fn an_unusable_state_dir_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let run = |state: &std::path::Path| {
        Command::new(crate::helper::HOOKD)
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            .arg("--socket")
            .arg(dir.path().join("s.sock"))
            .arg("--state-dir")
            .arg(state)
            .arg("--config")
            .arg("/dev/null") // an empty config file: the defaults
            .output()
            .unwrap()
    };
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = run(&file.join("state"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("a-file/state") && err.contains("create the state directory"),
        "{err}"
    );
    let ro = dir.path().join("ro");
    if !mount_tmpfs(&ro, "ro,size=1m") {
        crate::helper::tools::skip("the read-only part: cannot mount tmpfs here (needs root)");
        return;
    }
    let out = run(&ro);
    umount(&ro);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("hookd.db") && err.to_lowercase().contains("read-only"),
        "{err}"
    );
}

#[test]
fn a_second_daemon_on_the_same_state_dir_is_refused() {
    let d = Daemon::start();
    if d.database.is_some() {
        // On PostgreSQL several daemons share one database by design (tests/cluster.rs).
        return;
    }
    let t = d.create("m", &["--message"]);
    let other = d.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let out = Command::new(crate::helper::HOOKD)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--socket")
        .arg(other.join("s.sock"))
        .arg("--state-dir")
        .arg(d.state_dir())
        .arg("--config")
        .arg("/dev/null") // an empty config file: the defaults
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("hookd.db") && err.contains("in use by another process"),
        "{err}"
    );
    // The first daemon is untouched.
    let r = d.post(&d.path(&t), r#"{"content":"still here"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn a_full_disk_answers_503_and_acknowledges_only_what_was_stored() {
    let root = tempfile::tempdir().unwrap();
    let disk = root.path().join("disk");
    if !mount_tmpfs(&disk, "size=4m") {
        crate::helper::tools::skip("cannot mount tmpfs here (needs root)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            umount(&self.0);
        }
    }
    let _guard = Unmount(disk.clone());
    let mut d = Daemon::start();
    d.stop_with(15);
    let config = format!("state_dir = \"{}\"\n", disk.join("state").display());
    std::fs::write(&d.config, config).unwrap();
    // The helper passes --state-dir; restart by hand so the state lives on the small disk.
    let port = d.port;
    let sock = d.socket.clone();
    let mut child = Command::new(crate::helper::HOOKD)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--socket")
        .arg(&sock)
        .arg("--config")
        .arg(&d.config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("hookd on the small disk", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let rx = Receiver::start(&[200]);
    let t = d.create("chat", &["--message"]);
    d.create(
        "out",
        &["--url", &rx.url("/"), "--event", "message.received"],
    );
    // Fill the disk.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=100"])
        .arg(format!("of={}", disk.join("filler").display()))
        .output();
    let mut acked = Vec::new();
    let mut refused = 0;
    for i in 0..200 {
        let content = format!("m{i}-{}", "x".repeat(2000));
        match d
            .post(&d.path(&t), &format!(r#"{{"content": "{content}"}}"#))
            .status
        {
            200 => acked.push(content),
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        if refused >= 5 {
            break;
        }
    }
    assert!(refused > 0, "the disk never filled up");
    assert_eq!(d.get("/healthz").status, 200, "still serving");
    std::fs::remove_file(disk.join("filler")).unwrap();
    // Every acknowledged message is delivered.
    let got = rx.wait_for(acked.len(), Duration::from_secs(30));
    let seen: HashSet<String> = got
        .iter()
        .map(|r| r.json()["data"]["content"].as_str().unwrap().to_string())
        .collect();
    for c in &acked {
        assert!(
            seen.contains(c),
            "acknowledged but not delivered: {}",
            &c[..8]
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
