//! What a run can reach and what it leaves behind: its cached script, inherited descriptors,
//! request headers, the time its answer takes after a timeout, and a daemon killed mid-run.

use crate::helper::{Daemon, process_gone, text, wait_until};
use std::path::Path;
use std::time::{Duration, Instant};

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A second user for scripts to run as, created once (hookd must run as root to switch to it).
/// `None`, with the reason, when it cannot be had.
fn second_user() -> Result<(String, u32), String> {
    static USER: std::sync::OnceLock<Result<(String, u32), String>> = std::sync::OnceLock::new();
    USER.get_or_init(|| {
        if !is_root() {
            return Err("needs root to create a user and switch to it".into());
        }
        let name = "hookd-test";
        let lookup = || nix::unistd::User::from_name(name).ok().flatten();
        if lookup().is_none() {
            let made = std::process::Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                ])
                .arg(name)
                .output()
                .map_err(|e| format!("cannot run useradd: {e}"))?;
            // 9: the user exists (another test made it a moment ago).
            if !made.status.success() && made.status.code() != Some(9) {
                return Err(format!("useradd failed: {}", text(&made.stderr)));
            }
        }
        let user = lookup().ok_or("useradd made no user")?;
        Ok((name.to_string(), user.gid.as_raw()))
    })
    .clone()
}

#[test]
fn a_timed_out_run_answers_once_its_group_is_killed() {
    let d = Daemon::start();
    let dir = d.dir.path();
    // A plain child; one that ignores SIGTERM and holds the pipes until SIGKILL; one that left
    // the group and holds them for good.
    let cases = [
        ("plain", "sleep 30\n".to_string()),
        (
            "stubborn",
            format!(
                "(trap '' TERM; exec sleep 30) &\necho $! > {}/stubborn.pid\nwait\n",
                dir.display()
            ),
        ),
        (
            "escaped",
            format!(
                "setsid sleep 30 &\necho $! > {}/escaped.pid\nsleep 30\n",
                dir.display()
            ),
        ),
    ];
    for (name, script) in &cases {
        let t = d.create(name, &["--run", script, "--timeout", "1s"]);
        let called = Instant::now();
        let r = d.get(&d.path(&t));
        let took = called.elapsed();
        assert_eq!(r.status, 504, "{name}: {}", r.body);
        assert_eq!(r.json()["status"], "timeout");
        assert!(
            took >= Duration::from_secs(1),
            "{name}: answered before the timeout"
        );
        // The run's own measure (from its start to its outcome) leaves out the call's record
        // and the HTTP exchange, which a busy machine can slow down; the call as a whole gets
        // a looser bound, still well below waiting out the pipes or the kill grace (5 s).
        let run_ms = r.json()["duration_ms"].as_i64().unwrap();
        assert!(
            run_ms < 1500,
            "{name}: the run took {run_ms} ms, past the kill of the group"
        );
        assert!(
            took < Duration::from_millis(2500),
            "{name}: the 504 took {took:?}"
        );
    }
    // The stubborn child does not outlive the grace period.
    let stubborn = read_pid(&dir.join("stubborn.pid"));
    wait_until(
        "the stubborn child to be killed",
        Duration::from_secs(20),
        || process_gone(stubborn),
    );
    let escaped = read_pid(&dir.join("escaped.pid"));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(escaped),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Reports the script file; then rewrites it in place, putting the mode back so only the
/// content differs; then replaces it. Every script ends with `exit 0` on the same line, so the
/// shell has read all it runs before the file changes.
const REPORT: &str = "echo \"$(id -un) $(stat -c '%u %g %a' \"$0\") $(sha256sum < \"$0\")\"\n";
const REWRITE: &str = "chmod 777 \"$0\" 2>/dev/null; echo 'echo pwned' > \"$0\" 2>/dev/null; \
    chmod 550 \"$0\" 2>/dev/null; ";
const REPLACE: &str = "mv \"$0\" \"$0.x\" 2>/dev/null; ln -s /bin/true \"$0\" 2>/dev/null; ";

#[test]
fn a_run_cannot_change_what_the_next_run_of_its_hook_executes() {
    let d = Daemon::start();
    // As hookd's own user the run can change the file (chmod, then write): only the check
    // before the next run stands in the way.
    let script = format!("{REPORT}{REWRITE}exit 0\n");
    let t = d.create("tamper", &["--run", &script, "--raw-output"]);
    let first = d.post(&d.path(&t), "").body;
    let second = d.post(&d.path(&t), "").body;
    assert!(
        !first.contains("pwned") && !second.contains("pwned"),
        "{second}"
    );
    assert_eq!(first, second, "the second run executed something else");
    let me = nix::unistd::geteuid().as_raw();
    let fields: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(fields[1], me.to_string(), "owned by hookd's user: {first}");
    assert_eq!(fields[3], "550", "read and execute only: {first}");
}

#[test]
fn a_script_run_as_another_user_is_hookds_and_read_only_to_it() {
    let (user, gid) = match second_user() {
        Ok(u) => u,
        Err(why) => {
            crate::helper::tools::skip(&why);
            return;
        }
    };
    let d = Daemon::start();
    let script = format!("{REPORT}{REWRITE}{REPLACE}exit 0\n");
    let t = d.create(
        "tamper-other",
        &["--run", &script, "--user", &user, "--raw-output"],
    );
    let first = d.post(&d.path(&t), "").body;
    let second = d.post(&d.path(&t), "").body;
    assert_eq!(first, second, "the second run executed something else");
    let fields: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(fields.len(), 6, "{first}");
    assert_eq!(fields[0], user);
    assert_eq!(fields[1], "0", "owned by hookd's user (root): {first}");
    assert_eq!(fields[2], gid.to_string(), "the run user's group: {first}");
    assert_eq!(fields[3], "550", "{first}");
}

/// Starts an async run of a script that records its directory, its pid and its child's pid
/// under `tag` in the test's directory, and waits until it has; returns (leader, child).
fn start_long_run(d: &Daemon, tag: &str, user: Option<&str>) -> (i32, i32) {
    let dir = d.dir.path();
    let script = format!(
        "dirname \"$0\" > {0}/{tag}.rundir\nsleep 300 &\necho $! > {0}/{tag}.child\n\
         echo $$ > {0}/{tag}.tmp && mv {0}/{tag}.tmp {0}/{tag}.leader\nwait\n",
        dir.display()
    );
    let mut args = vec!["--run", &script, "--async"];
    if let Some(u) = user {
        args.extend(["--user", u]);
    }
    let t = d.create(tag, &args);
    assert_eq!(d.get(&d.path(&t)).status, 202);
    wait_until("the run to start", Duration::from_secs(10), || {
        dir.join(format!("{tag}.leader")).exists()
    });
    (
        read_pid(&dir.join(format!("{tag}.leader"))),
        read_pid(&dir.join(format!("{tag}.child"))),
    )
}

#[test]
fn no_run_outlives_a_killed_daemon_past_its_next_start() {
    let mut d = Daemon::start();
    // The test's directory must be writable by the other user's script.
    let other = second_user().ok();
    if other.is_some() {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o777);
        std::fs::set_permissions(d.dir.path(), mode).unwrap();
    } else {
        crate::helper::tools::skip("part: no second user to run as (needs root and useradd)");
    }
    let mut runs = vec![start_long_run(&d, "own", None)];
    if let Some((user, _)) = &other {
        runs.push(start_long_run(&d, "other", Some(user)));
    }
    let rundir = std::path::PathBuf::from(
        std::fs::read_to_string(d.dir.path().join("own.rundir"))
            .unwrap()
            .trim(),
    );
    assert!(rundir.is_dir());
    d.stop_with(9);
    if other.is_some() {
        // A run as another user dies with hookd at once.
        wait_until(
            "the other user's script to die with hookd",
            Duration::from_secs(10),
            || process_gone(runs[1].0),
        );
    }
    d.boot();
    for (leader, child) in runs {
        wait_until(
            "the run's processes to be ended at the next start",
            Duration::from_secs(10),
            || process_gone(leader) && process_gone(child),
        );
    }
    assert!(
        !rundir.exists(),
        "{} was left by the killed daemon",
        rundir.display()
    );
}

#[test]
fn scripts_get_no_descriptor_but_0_1_2() {
    let mut d = Daemon::start();
    d.stop_with(15);
    // hookd itself inherits a descriptor that is not close-on-exec, as from a careless parent.
    let leak = std::fs::File::create(d.dir.path().join("leaked")).unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&leak);
    d.boot_with(|cmd| {
        // SAFETY: dup2 is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(cmd, move || {
                if libc::dup2(raw, 9) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let own = d.create("fds", &["--run", "ls -l /proc/self/fd", "--raw-output"]);
    let mut hooks = vec![own];
    match second_user() {
        Ok((user, _)) => hooks.push(d.create(
            "fds-other",
            &[
                "--run",
                "ls -l /proc/self/fd",
                "--raw-output",
                "--user",
                &user,
            ],
        )),
        Err(why) => crate::helper::tools::skip(&format!("part (a run as another user): {why}")),
    }
    for (t, body) in hooks
        .iter()
        .flat_map(|t| [(t, ""), (t, "with a body on stdin")])
    {
        let r = d.post(&d.path(t), body);
        assert_eq!(r.status, 200, "{}", r.body);
        let extra: Vec<&str> = r
            .body
            .lines()
            .filter(|l| l.contains(" -> "))
            .filter(|l| {
                let fd = l.split(" -> ").next().unwrap().rsplit(' ').next().unwrap();
                !["0", "1", "2"].contains(&fd)
            })
            .collect();
        // ls's own descriptor for the listing is the one allowed.
        assert!(
            extra.len() <= 1 && extra.iter().all(|l| l.contains("/proc/")),
            "the script inherited descriptors: {extra:?}\n{}",
            r.body
        );
    }
}

#[test]
fn repeated_headers_are_joined_and_oddly_named_ones_dropped() {
    let d = Daemon::start();
    let t = d.create(
        "hdr",
        &[
            "--run",
            "echo \"[$HOOKD_HEADER_X_REAL_USER]\"; env | grep -c '^HOOKD_HEADER_X_REAL_USER='",
            "--raw-output",
        ],
    );
    // Raw HTTP, the headers in this order on the wire.
    let r = d.request(
        "POST",
        &d.path(&t),
        &[
            ("X-Real-User", "alice"),
            ("X_Real_User", "mallory"),
            ("X.Real.User", "eve"),
            ("x-real-user", "bob"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "[alice, bob]\n1\n");
}
