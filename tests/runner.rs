//! The script runtime: request data, users, timeouts, queues, limits, run history, logs.

use crate::helper::{Daemon, process_gone, text, wait_until};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn scripts_get_the_request_through_env_stdin_and_body_file_only() {
    let d = Daemon::start();
    let t = d.create(
        "env",
        &[
            "--run",
            "echo \"method=$HOOKD_METHOD query=$HOOKD_QUERY hook=$HOOKD_HOOK run=$HOOKD_RUN_ID\"\n\
             echo \"remote=$HOOKD_REMOTE_ADDR ct=$HOOKD_CONTENT_TYPE evil=$HOOKD_HEADER_X_EVIL static=$GREETING\"\n\
             echo \"stdin=$(cat)\"\n\
             echo \"file=$(cat \"$HOOKD_BODY_FILE\") mode=$(stat -c %a \"$HOOKD_BODY_FILE\")\"\n\
             echo \"$HOOKD_BODY_FILE\" > \"$GREETING_DIR/bodyfile\"\n\
             env | cut -d= -f1 | sort | tr '\\n' ' '",
            "--raw-output",
            "--env",
            "GREETING=hello",
            "--env",
            &format!("GREETING_DIR={}", d.dir.path().display()),
        ],
    );
    let r = d.request(
        "POST",
        &format!("{}?a=1&b=2", d.path(&t)),
        &[("Content-Type", "text/plain"), ("X-Evil", "boo")],
        b"the body",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let lines: Vec<&str> = r.body.lines().collect();
    assert!(
        lines[0].starts_with("method=POST query=a=1&b=2 hook=env run="),
        "{}",
        r.body
    );
    assert_eq!(
        lines[1],
        "remote=127.0.0.1 ct=text/plain evil=boo static=hello"
    );
    assert_eq!(lines[2], "stdin=the body");
    assert_eq!(lines[3], "file=the body mode=600");
    let vars: Vec<&str> = lines[4].split_whitespace().collect();
    for v in &vars {
        let allowed = [
            "PATH",
            "HOME",
            "USER",
            "LOGNAME",
            "SHELL",
            "LANG",
            "PWD",
            "SHLVL",
            "OLDPWD",
            "_",
            "GREETING",
            "GREETING_DIR",
        ]
        .contains(v)
            || v.starts_with("HOOKD_");
        assert!(
            allowed,
            "unexpected variable {v} in the script's environment: {vars:?}"
        );
    }
    let body_file = std::fs::read_to_string(d.dir.path().join("bodyfile")).unwrap();
    assert!(
        !std::path::Path::new(body_file.trim()).exists(),
        "the body file is removed after the run"
    );
}

#[test]
fn scripts_are_written_once_per_text_and_run_files_go_at_shutdown() {
    let mut d = Daemon::start();
    let report = "echo \"$0 $(stat -c %a \"$0\") $(stat -c %a \"$(dirname \"$0\")\")\"";
    let t = d.create("files", &["--run", report, "--raw-output"]);
    let first = d.post(&d.path(&t), "").body;
    let second = d.post(&d.path(&t), "").body;
    assert_eq!(first, second, "the same script file serves every run");
    let fields: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{first}");
    let (script, dir) = (
        std::path::PathBuf::from(fields[0]),
        std::path::PathBuf::from(fields[0])
            .parent()
            .unwrap()
            .to_path_buf(),
    );
    assert_eq!(
        fields[1], "550",
        "script mode: the run user reads and executes, nobody writes"
    );
    assert_eq!(fields[2], "711", "directory mode: reachable, not listable");

    // An edited script gets its own file: the new text runs, not the cached one.
    let out = d.ctl(&["edit", "files", "--run", "echo edited"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.post(&d.path(&t), "").body, "edited\n");

    // A script file removed behind hookd's back is written again.
    std::fs::remove_file(&script).unwrap();
    let out = d.ctl(&["edit", "files", "--run", report]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.post(&d.path(&t), "").body, first);

    assert_eq!(d.stop_with(15).code(), Some(0));
    assert!(!dir.exists(), "{} is removed at shutdown", dir.display());
}

#[test]
fn request_data_is_never_executed() {
    let d = Daemon::start();
    let marker = d.dir.path().join("pwned");
    let m = marker.display().to_string();
    let t = d.create(
        "inj",
        &[
            "--run",
            "echo \"$HOOKD_QUERY|$HOOKD_HEADER_X_A|$(cat)\"",
            "--raw-output",
        ],
    );
    let evil = format!("$(touch {m})`touch {m}`;touch {m}");
    let query: String = evil.bytes().map(|b| format!("%{b:02X}")).collect();
    let r = d.request(
        "POST",
        &format!("{}?q={query}", d.path(&t)),
        &[("X-A", &evil)],
        evil.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!("|{evil}|{evil}")), "{}", r.body);
    assert!(!marker.exists(), "request data was executed");
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let d = Daemon::start();
    let pidfile = d.dir.path().join("bg.pid");
    let script = format!("sleep 300 &\necho $! > {}\nsleep 300\n", pidfile.display());
    let t = d.create("slow", &["--run", &script, "--timeout", "1s"]);
    let started = Instant::now();
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 504);
    assert_eq!(r.json()["status"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(30));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_until(
        "the background child to die",
        Duration::from_secs(10),
        || process_gone(pid),
    );
    let runs = d.json(&["runs", "slow"]);
    assert_eq!(runs[0]["status"], "timeout");
}

#[test]
fn leftover_background_processes_are_ended_when_the_script_exits() {
    let d = Daemon::start();
    let pidfile = d.dir.path().join("bg.pid");
    let t = d.create(
        "bg",
        &[
            "--run",
            &format!("sleep 300 & echo $! > {}; echo done", pidfile.display()),
            "--raw-output",
        ],
    );
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "done\n");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_until("the leftover child to die", Duration::from_secs(10), || {
        process_gone(pid)
    });
}

#[test]
fn async_calls_to_a_concurrency_1_hook_run_one_after_another() {
    let d = Daemon::start();
    let t = d.create("q", &["--run", "sleep 0.3", "--async"]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = d.post(&d.path(&t), "{}");
        assert_eq!(r.status, 202);
        assert_eq!(r.json()["status"], "queued");
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    wait_until("three finished runs", Duration::from_secs(30), || {
        d.json(&["runs", "q"])
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "success")
            && d.json(&["runs", "q"]).as_array().unwrap().len() == 3
    });
    let mut spans = Vec::new();
    for id in &ids {
        let run = d.json(&["runs", "show", id]);
        assert_eq!(run["stdout"], "");
        spans.push((
            run["started_at"].as_str().unwrap().to_string(),
            run["finished_at"].as_str().unwrap().to_string(),
        ));
    }
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "runs overlapped: {spans:?}");
    }
}

#[test]
fn raw_async_answers_with_the_run_id() {
    let d = Daemon::start();
    let t = d.create("qa", &["--run", "true", "--async", "--raw-output"]);
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 202);
    let id = r.body.trim().to_string();
    assert!(id.parse::<u64>().is_ok(), "{}", r.body);
    wait_until("the run to finish", Duration::from_secs(10), || {
        d.json(&["runs", "show", &id])["status"] == "success"
    });
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    let d = Daemon::start();
    let t = d.create(
        "busy",
        &["--run", "sleep 2", "--async", "--queue-limit", "1"],
    );
    let statuses: Vec<u16> = (0..4).map(|_| d.get(&d.path(&t)).status).collect();
    // One runs, one waits, the rest are refused.
    assert_eq!(statuses[..2], [202, 202], "{statuses:?}");
    assert_eq!(statuses[2..], [429, 429], "{statuses:?}");
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
}

#[test]
fn output_beyond_the_cap_is_cut_and_the_call_still_answers() {
    let d = Daemon::start_with("[scripts]\nmax_output_bytes = 1000\n");
    let t = d.create(
        "loud",
        &[
            "--run",
            "head -c 200000 /dev/zero | tr '\\0' x; echo; head -c 5000 /dev/zero >&2; echo fin",
        ],
    );
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 200);
    let v = r.json();
    let out = v["stdout"].as_str().unwrap();
    assert!(out.starts_with(&"x".repeat(1000)));
    assert!(
        out.contains("output truncated"),
        "{}",
        &out[..out.len().min(1200)]
    );
    assert!(out.len() < 1200);
    assert!(v["stderr"].as_str().unwrap().contains("output truncated"));
}

#[test]
fn runs_as_another_user_when_root() {
    if !nix_is_root() {
        crate::helper::tools::skip("needs root to switch users (CI runs as root)");
        return;
    }
    let d = Daemon::start();
    let t = d.create(
        "who",
        &[
            "--run",
            "id -un; echo $HOME $USER",
            "--user",
            "nobody",
            "--raw-output",
        ],
    );
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut lines = r.body.lines();
    assert_eq!(lines.next(), Some("nobody"));
    assert!(lines.next().unwrap().ends_with(" nobody"));
}

fn nix_is_root() -> bool {
    text(
        &std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
        == "0"
}

#[test]
fn runs_and_run_show_report_history() {
    let d = Daemon::start();
    let t = d.create("hist", &["--run", "echo out; echo err >&2; exit 3"]);
    d.get(&d.path(&t));
    let runs = d.json(&["runs", "hist"]);
    let run = &runs[0];
    for f in [
        "id",
        "hook",
        "status",
        "exit_code",
        "started_at",
        "finished_at",
        "duration_ms",
    ] {
        assert!(run.get(f).is_some(), "{f} missing: {run}");
    }
    assert_eq!(run["status"], "failed");
    assert_eq!(run["exit_code"], 3);
    let shown = d.json(&["runs", "show", run["id"].as_str().unwrap()]);
    assert_eq!(shown["stdout"], "out\n");
    assert_eq!(shown["stderr"], "err\n");
    let table = text(&d.ctl(&["runs"]).stdout);
    assert!(
        table.contains("hist") && table.contains("failed"),
        "{table}"
    );
    assert_eq!(d.ctl(&["runs", "show", "999999"]).status.code(), Some(1));
    assert_eq!(d.ctl(&["runs", "no-such-hook"]).status.code(), Some(1));
}

#[test]
fn hookctl_test_calls_through_the_same_path() {
    let d = Daemon::start();
    d.create("t", &["--run", "echo got $(cat)", "--raw-output"]);
    let v = d.json(&["test", "t", "--data", "{\"a\":1}"]);
    assert_eq!(v["status"], 200);
    assert_eq!(v["body"], "got {\"a\":1}\n");
    d.create("f", &["--run", "exit 1"]);
    let out = d.ctl(&["test", "f"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("HTTP 500"));
    assert_eq!(d.json(&["show", "t"])["call_count"], 1);
}

#[test]
fn restart_marks_running_runs_interrupted_and_runs_queued_ones() {
    let mut d = Daemon::start();
    let t = d.create("long", &["--run", "sleep 3; echo finished", "--async"]);
    let first = d.get(&d.path(&t)).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = d.get(&d.path(&t)).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("the first run to start", Duration::from_secs(10), || {
        d.json(&["runs", "show", &first])["status"] == "running"
    });
    assert_eq!(d.json(&["runs", "show", &second])["status"], "queued");
    d.stop_with(9);
    d.boot();
    assert_eq!(d.json(&["runs", "show", &first])["status"], "interrupted");
    wait_until(
        "the queued run to run after the restart",
        Duration::from_secs(30),
        || d.json(&["runs", "show", &second])["status"] == "success",
    );
    assert_eq!(d.json(&["runs", "show", &second])["stdout"], "finished\n");
}

#[test]
fn sigterm_stops_gracefully_after_running_calls_finish() {
    let mut d = Daemon::start();
    let t = d.create("grace", &["--run", "sleep 1; echo made it", "--raw-output"]);
    let port = d.port;
    let path = d.path(&t);
    let call = std::thread::spawn(move || crate::helper::http(port, "GET", &path, &[], b""));
    wait_until("the run to start", Duration::from_secs(10), || {
        d.json(&["status"])["running_scripts"] == 1
    });
    let status = d.stop_with(15);
    assert!(status.success(), "hookd exits 0 on SIGTERM: {status}");
    let r = call.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "made it\n");
    assert!(!d.socket.exists(), "the socket is removed on a clean stop");
}

#[test]
fn logs_follow_shows_a_call_within_a_second() {
    let d = Daemon::start();
    let t = d.create("live", &["--run", "true"]);
    let mut follower = d
        .ctl_cmd(&["--json", "logs", "-f", "-n", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                return;
            }
        }
    });
    // The follower is subscribed once management entries reach it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        d.ctl(&["enable", "live"]);
        d.ctl(&["disable", "live"]);
        if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the follower never received anything"
        );
    }
    d.ctl(&["enable", "live"]);
    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
    let called = Instant::now();
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 200);
    let entry = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the call was streamed");
    let latency = called.elapsed();
    assert_eq!(entry["direction"], "in");
    assert_eq!(entry["hook"], "live");
    assert_eq!(entry["status"], 200);
    assert!(latency < Duration::from_secs(1), "took {latency:?}");
    let _ = follower.kill();
    let _ = follower.wait();
}

#[test]
fn logs_filter_by_failure_direction_and_count() {
    let d = Daemon::start();
    let ok = d.create("ok", &["--run", "true"]);
    let bad = d.create("bad", &["--run", "exit 1"]);
    d.get(&d.path(&ok));
    d.get(&d.path(&bad));
    d.get(&d.path(&ok));
    let failed = d.json(&["logs", "--failed"]);
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["hook"], "bad");
    assert_eq!(failed[0]["status"], 500);
    assert_eq!(
        d.json(&["logs", "-n", "2", "--direction", "in"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        d.json(&["logs", "ok", "--direction", "in"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        d.json(&["logs", "--since", "1h"]).as_array().unwrap().len(),
        5
    );
    let plain = text(&d.ctl(&["logs", "bad"]).stdout);
    assert!(plain.contains("500"), "{plain}");
}

#[test]
fn params_come_from_json_pointers_and_form_fields() {
    let d = Daemon::start();
    let t = d.create(
        "p",
        &["--run", "echo \"[$HOOKD_PARAM_REF] [$HOOKD_PARAM_NAME] [$HOOKD_PARAM_MISSING] [$HOOKD_PARAM_COMMITS]\"", "--raw-output",
          "--param", "ref=/ref", "--param", "name=/repository/full_name", "--param", "missing=/nope/x", "--param", "commits=/commits"],
    );
    let body =
        r#"{"ref": "refs/heads/main", "repository": {"full_name": "acme/app"}, "commits": [1, 2]}"#;
    assert_eq!(
        d.post(&d.path(&t), body).body,
        "[refs/heads/main] [acme/app] [] [[1,2]]\n"
    );
    let form = d.request(
        "POST",
        &d.path(&t),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"ref=v1.2%20final&name=ignored",
    );
    assert_eq!(form.body, "[v1.2 final] [] [] []\n");
    let github_form = format!("payload={}", form_encode(body));
    let r = d.request(
        "POST",
        &d.path(&t),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        github_form.as_bytes(),
    );
    assert_eq!(r.body, "[refs/heads/main] [acme/app] [] [[1,2]]\n");
    assert_eq!(d.post(&d.path(&t), "not json").body, "[] [] [] []\n");
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn old_logs_and_runs_are_pruned_by_retention() {
    let mut d = Daemon::start_with("log_retention = \"1s\"\n");
    let t = d.create("old", &["--run", "true"]);
    d.get(&d.path(&t));
    assert_eq!(d.json(&["runs"]).as_array().unwrap().len(), 1);
    std::thread::sleep(Duration::from_millis(1500));
    // Pruning runs at start-up (and hourly).
    d.stop_with(15);
    d.boot();
    assert_eq!(d.json(&["runs"]).as_array().unwrap().len(), 0);
    assert_eq!(
        d.json(&["logs", "--direction", "in"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
