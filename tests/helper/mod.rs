//! Test fixture: the real `hookd` on a temp dir, a free port and a temp socket, plus the real
//! `hookctl` and a minimal HTTP/1.1 client. The daemon is stopped when the fixture drops; if the
//! test failed, its log is printed to help whoever reads the failure.

#![allow(dead_code)]

pub mod postgres;
pub mod receiver;
pub mod tools;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const HOOKD: &str = env!("CARGO_BIN_EXE_hookd");
pub const HOOKCTL: &str = env!("CARGO_BIN_EXE_hookctl");

/// Which backend the suite's daemons store their state in: `HOOKD_TEST_STORE=postgres` runs
/// every daemon the fixture starts on a database of its own in a throwaway PostgreSQL cluster
/// ([`postgres`]); the default is the embedded SQLite database in the state directory.
pub fn on_postgres() -> bool {
    std::env::var("HOOKD_TEST_STORE").is_ok_and(|s| s == "postgres")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub socket: PathBuf,
    pub config: PathBuf,
    /// The PostgreSQL database of this daemon, when the suite runs on PostgreSQL.
    pub database: Option<String>,
    child: Option<Child>,
}

impl Daemon {
    pub fn start() -> Daemon {
        Daemon::start_with("")
    }

    /// Starts hookd with `config` as its config file (listen, socket and state dir are set on
    /// the command line, so tests may still put anything else in the file).
    pub fn start_with(config: &str) -> Daemon {
        let mut d = Daemon::prepare(config);
        d.boot();
        d
    }

    /// A fixture with its config file written and nothing started yet (then `boot*`).
    pub fn prepare(config: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        // Tests keep their files there; on PostgreSQL hookd itself puts nothing in it.
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        let own_port = config
            .lines()
            .find_map(|l| l.strip_prefix("listen = \"127.0.0.1:"))
            .and_then(|p| p.trim_end_matches('"').parse().ok());
        Daemon {
            port: own_port.unwrap_or_else(free_port),
            socket: dir.path().join("run/hookd.sock"),
            config: dir.path().join("config.toml"),
            database: on_postgres().then(|| {
                postgres::cluster()
                    .unwrap_or_else(|e| panic!("HOOKD_TEST_STORE=postgres: {e}"))
                    .database()
            }),
            dir,
            child: None,
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Every byte the daemon stored: the state directory's files, or a dump of its PostgreSQL
    /// database (for tests that look for what must never be kept).
    pub fn stored_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        if let Some(url) = &self.database {
            let db = url.rsplit('/').next().unwrap();
            all.extend(postgres::cluster().unwrap().dump(db));
        }
        if let Ok(entries) = std::fs::read_dir(self.state_dir()) {
            for e in entries.flatten() {
                if e.path().is_file() {
                    all.extend(std::fs::read(e.path()).unwrap_or_default());
                }
            }
        }
        all
    }

    /// Runs SQL statements on the stopped daemon's store, whichever backend it is.
    pub fn sql(&self, sql: &str) {
        match &self.database {
            Some(url) => {
                let db = url.rsplit('/').next().unwrap();
                postgres::cluster().unwrap().psql(db, sql);
            }
            None => {
                let db = rusqlite::Connection::open(self.state_dir().join("hookd.db")).unwrap();
                db.execute_batch(sql).unwrap();
            }
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("hookd.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts the daemon process (again) and waits until both its sides answer.
    pub fn boot(&mut self) {
        self.boot_with(|_| {});
    }

    /// [`Daemon::boot`], with `tweak` applied to the command that starts hookd.
    pub fn boot_with(&mut self, tweak: impl FnOnce(&mut Command)) {
        self.boot_wrapped(&[], tweak);
    }

    /// [`Daemon::boot_with`], with hookd started by `wrapper` (a program and its arguments that
    /// take hookd's command line after them, such as `systemd-socket-activate -l ADDR`).
    pub fn boot_wrapped(&mut self, wrapper: &[&str], tweak: impl FnOnce(&mut Command)) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(HOOKD);
                c
            }
            None => Command::new(HOOKD),
        };
        cmd.arg("--config").arg(&self.config);
        // A config that names its own listen address is used as is (reload tests change it).
        let own_listen = std::fs::read_to_string(&self.config)
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("listen"));
        if !own_listen {
            cmd.arg("--listen").arg(format!("127.0.0.1:{}", self.port));
        }
        match &self.database {
            Some(url) => cmd.env("HOOKD_DATABASE", url),
            None => cmd.env_remove("HOOKD_DATABASE"),
        };
        tweak(&mut cmd);
        let child = cmd
            .arg("--socket")
            .arg(&self.socket)
            .arg("--state-dir")
            .arg(self.state_dir())
            .env("HOOKD_LOG", "debug")
            .env_remove("HOOKD_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start hookd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "hookd exited during start-up with {status}:\n{}",
                    self.log()
                );
            }
            let http_up = TcpStream::connect(("127.0.0.1", self.port)).is_ok();
            if http_up && self.ctl(&["status"]).status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "hookd did not come up:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Sends a signal without waiting for anything.
    pub fn signal(&self, sig: i32) {
        unsafe_kill(self.pid(), sig);
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `sig` and waits for the process to exit; returns its exit status.
    pub fn stop_with(&mut self, sig: i32) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        unsafe_kill(child.id(), sig);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "hookd did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn ctl_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(HOOKCTL);
        c.arg("--socket")
            .arg(&self.socket)
            .args(args)
            .env_remove("HOOKD_SOCKET")
            .stdin(Stdio::null());
        c
    }

    pub fn ctl(&self, args: &[&str]) -> Output {
        self.ctl_cmd(args).output().expect("run hookctl")
    }

    pub fn ctl_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .ctl_cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// The names `hookctl list` shows, in its order.
    pub fn hook_names(&self) -> Vec<String> {
        self.json(&["list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Runs `hookctl --json ARGS`, asserts success, and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ctl(&all);
        assert!(
            out.status.success(),
            "hookctl {args:?} failed: {}\n{}",
            text(&out.stderr),
            self.log()
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
    }

    /// Creates a hook and returns its token.
    pub fn create(&self, name: &str, args: &[&str]) -> String {
        let mut all = vec!["create", name];
        all.extend_from_slice(args);
        let v = self.json(&all);
        v["token"].as_str().map(str::to_string).unwrap_or_default()
    }

    pub fn path(&self, token: &str) -> String {
        format!("/webhook/{token}")
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &str) -> Reply {
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        http(self.port, method, path, headers, body)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe_kill(child.id(), 15);
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("---- hookd log ----\n{}", self.log());
        }
    }
}

fn unsafe_kill(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One request on a fresh connection, `Connection: close`, read to the end.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    read_reply(&mut s)
}

pub fn read_reply(s: &mut TcpStream) -> Reply {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    Reply {
        status,
        headers,
        body: text(&body),
    }
}

/// Whether a process is gone (or only a zombie waiting for its parent).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .map(|r| r.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn write_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// HMAC-SHA256 written from RFC 2104 on top of SHA-256, independent of hookd's own code.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut k = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
