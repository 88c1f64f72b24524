//! A throwaway PostgreSQL cluster for the tests of one process: Debian's server binaries
//! (`initdb`, `pg_ctl`) under a temp dir, on a free port, started on first use and stopped when
//! the process exits. PostgreSQL refuses to run as root, so as root the cluster runs as the
//! `postgres` user the package creates (or `hookd-pg`, created here). Each caller gets a
//! database of its own. `HOOKD_TEST_PG_BIN` names the binaries' directory when they are not in
//! `/usr/lib/postgresql/*/bin`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Cluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    user: Option<String>,
    /// A cluster of one test's own (stopped and removed when dropped), not the shared one.
    private: bool,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The cluster of this process, started on first use; why not when it cannot run here.
pub fn cluster() -> Result<&'static Cluster, String> {
    CLUSTER
        .get_or_init(|| start(format!("/tmp/hookd-pg-{}", std::process::id()), false))
        .as_ref()
        .map_err(Clone::clone)
}

/// A cluster of the caller's own, for a test that stops and starts its database.
pub fn private() -> Result<Cluster, String> {
    let n = DATABASES.fetch_add(1, Ordering::SeqCst);
    start(format!("/tmp/hookd-pg-{}-{n}", std::process::id()), true)
}

/// The directory of PostgreSQL's server binaries, if they are installed.
pub fn server_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("HOOKD_TEST_PG_BIN") {
        return Some(dir.into());
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

impl Cluster {
    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://hookd@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs `sql` on `db` and returns what psql printed (unaligned, tuples only).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "hookd",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything stored in `db`, as text (for tests that look for what must not be kept).
    pub fn dump(&self, db: &str) -> Vec<u8> {
        let out = Command::new(self.bin.join("pg_dump"))
            .args([
                "--data-only",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
            ])
            .args(["-U", "hookd", db])
            .output()
            .expect("run pg_dump");
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Stops the server (fast: connections are cut at once).
    pub fn stop(&self) {
        let data = self.dir.join("data");
        let out = self.pg_ctl(&["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server again, on the same port.
    pub fn start(&self) {
        let out = self.pg_ctl(
            &self
                .start_args()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start_args(&self) -> Vec<String> {
        // Throwaway: no fsync (the tests kill hookd, never the database), room for many pools.
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=400",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        [
            "-D",
            data.to_str().unwrap(),
            "-o",
            &opts,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "start",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        as_user(self.user.as_deref(), &self.bin.join("pg_ctl"), args)
            .output()
            .expect("run pg_ctl")
    }
}

fn as_user(user: Option<&str>, program: &Path, args: &[&str]) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program).args(args);
            c
        }
        None => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    }
}

/// As root: the unprivileged user the cluster runs as.
fn server_user() -> Result<Option<String>, String> {
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    for user in ["postgres", "hookd-pg"] {
        if Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Ok(Some(user.to_string()));
        }
    }
    let made = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "hookd-pg",
        ])
        .status()
        .map_err(|e| format!("cannot create a user to run PostgreSQL as: {e}"))?;
    if !made.success() {
        return Err("cannot create a user to run PostgreSQL as (useradd failed)".into());
    }
    Ok(Some("hookd-pg".into()))
}

fn start(dir: String, private: bool) -> Result<Cluster, String> {
    let bin = server_bin()
        .ok_or("PostgreSQL's server binaries are not installed (Debian package postgresql)")?;
    let user = server_user()?;
    stop_stale();
    let dir = PathBuf::from(dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("owner.pid"), std::process::id().to_string()).unwrap();
    if let Some(u) = &user {
        let ok = Command::new("chown")
            .arg(u)
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("cannot give {} to {u}", dir.display()));
        }
    }
    let data = dir.join("data");
    let data_s = data.to_str().unwrap();
    let out = as_user(
        user.as_deref(),
        &bin.join("initdb"),
        &[
            "-D",
            data_s,
            "-U",
            "hookd",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
    )
    .output()
    .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = super::free_port();
    let cluster = Cluster {
        port,
        dir: dir.clone(),
        bin,
        user,
        private,
    };
    let args = cluster.start_args();
    let out = cluster.pg_ctl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    if !out.status.success() {
        return Err(format!(
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        ));
    }
    if !private {
        unsafe { libc::atexit(stop_at_exit) };
    }
    Ok(cluster)
}

impl Cluster {
    /// Stops the server at once and removes its files.
    fn discard(&self) {
        let data = self.dir.join("data");
        let _ = self.pg_ctl(&[
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.private {
            self.discard();
        }
    }
}

extern "C" fn stop_at_exit() {
    if let Some(Ok(c)) = CLUSTER.get() {
        c.discard();
    }
}

/// Clusters left by test processes that died without stopping theirs.
fn stop_stale() {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("hookd-pg-")) else {
            continue;
        };
        let alive = pid
            .parse::<i32>()
            .is_ok_and(|p| unsafe { libc::kill(p, 0) } == 0);
        if alive {
            continue;
        }
        let pidfile = e.path().join("data/postmaster.pid");
        if let Some(server) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse::<i32>().ok())
        {
            unsafe { libc::kill(server, libc::SIGQUIT) };
        }
        let _ = std::fs::remove_dir_all(e.path());
    }
}
