//! Hook management through `hookctl`: every verb, JSON shapes, tokens, exit codes, the socket.

use crate::helper::{Daemon, HOOKCTL, text, write_file};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

#[test]
fn create_all_kinds_and_list_them_as_json() {
    let d = Daemon::start();
    let script = write_file(d.dir.path(), "deploy.sh", "#!/bin/sh\necho deployed\n");
    let created = d.json(&[
        "create",
        "deploy",
        "--script",
        script.to_str().unwrap(),
        "--description",
        "ship it",
        "--raw-output",
    ]);
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["name", "kind", "token", "url"]);
    assert_eq!(created["kind"], "script");
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("hkd_") && token.len() == 47, "{token}");
    assert!(
        created["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/webhook/{token}"))
    );

    let out = d.ctl_stdin(
        &["create", "from-stdin", "--script", "-"],
        "echo from stdin\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    d.create("chat", &["--message"]);
    let out = d.json(&[
        "create",
        "slack",
        "--url",
        "https://hooks.example.com/T0/B0",
        "--event",
        "script.*",
        "--format",
        "slack",
    ]);
    assert_eq!(out["token"], serde_json::Value::Null);

    let list = d.json(&["list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    let by = |n: &str| list.iter().find(|h| h["name"] == n).unwrap().clone();
    let deploy = by("deploy");
    for field in [
        "name",
        "kind",
        "enabled",
        "description",
        "user",
        "raw_output",
        "mode",
        "timeout",
        "concurrency",
        "methods",
        "token_prefix",
        "call_count",
        "last_call_at",
        "last_status",
        "created_at",
        "updated_at",
    ] {
        assert!(
            deploy.get(field).is_some(),
            "list --json lacks {field}: {deploy}"
        );
    }
    assert_eq!(deploy["description"], "ship it");
    assert_eq!(deploy["raw_output"], true);
    assert_eq!(deploy["mode"], "sync");
    assert_eq!(deploy["concurrency"], 1);
    assert_eq!(deploy["methods"], serde_json::json!(["GET", "POST"]));
    assert_eq!(deploy["token_prefix"], &token[..8]);
    assert_eq!(deploy["call_count"], 0);
    let slack = by("slack");
    assert_eq!(slack["url"], "https://hooks.example.com/T0/B0");
    assert_eq!(slack["events"], serde_json::json!(["script.*"]));
    assert_eq!(slack["format"], "slack");
    assert_eq!(slack["token_prefix"], serde_json::Value::Null);
    assert_eq!(by("chat")["kind"], "message");
    assert_eq!(
        d.json(&["list", "--kind", "message"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn list_for_people_is_a_table_with_the_documented_columns() {
    let d = Daemon::start();
    let token = d.create("deploy", &["--run", "true"]);
    let out = d.ctl(&["list"]);
    assert!(out.status.success());
    let table = text(&out.stdout);
    for col in [
        "Name",
        "Kind",
        "Enabled",
        "Run user / URL",
        "Raw output",
        "Calls",
        "Last call",
        "Token",
    ] {
        assert!(table.contains(col), "missing column {col}:\n{table}");
    }
    assert!(
        table.contains("deploy") && table.contains(&token[..8]),
        "{table}"
    );
    assert!(
        !table.contains(&token[8..]),
        "the full token must not be listed"
    );
}

#[test]
fn token_is_shown_once_and_never_stored_in_plain_text() {
    let d = Daemon::start();
    let token = d.create("secret-hook", &["--run", "echo ok"]);
    let shown = [
        d.ctl(&["list"]),
        d.ctl(&["show", "secret-hook"]),
        d.ctl(&["--json", "show", "secret-hook"]),
        d.ctl(&["logs"]),
    ];
    for out in shown {
        assert!(!text(&out.stdout).contains(&token[8..]));
    }
    assert_eq!(d.get(&d.path(&token)).status, 200);
    let bytes = d.stored_bytes();
    let found = bytes.windows(token.len()).any(|w| w == token.as_bytes())
        || bytes.windows(20).any(|w| w == &token.as_bytes()[10..30]);
    assert!(!found, "the token appears in what hookd stored");
    assert!(
        !d.log().contains(&token[8..]),
        "the token appears in the daemon log"
    );
    if d.database.is_none() {
        let mode = std::fs::metadata(d.state_dir().join("hookd.db"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn enable_disable_regenerate_delete_change_what_the_url_answers() {
    let d = Daemon::start();
    let token = d.create("h", &["--run", "echo hi", "--raw-output"]);
    let path = d.path(&token);
    assert_eq!(d.get(&path).status, 200);

    assert!(d.ctl(&["disable", "h"]).status.success());
    let r = d.get(&path);
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), serde_json::json!({"error": "not found"}));
    assert_eq!(
        d.get("/webhook/hkd_doesnotexist").body,
        r.body,
        "disabled and unknown must look the same"
    );
    assert_eq!(d.json(&["show", "h"])["enabled"], false);

    assert!(d.ctl(&["enable", "h"]).status.success());
    assert_eq!(d.get(&path).status, 200);

    let regen = d.json(&["regenerate", "h", "--yes"]);
    let new_token = regen["token"].as_str().unwrap();
    assert_ne!(new_token, token);
    assert_eq!(d.get(&path).status, 404, "the old token stops at once");
    assert_eq!(d.get(&d.path(new_token)).status, 200);
    assert_eq!(d.json(&["show", "h"])["token_prefix"], &new_token[..8]);

    let out = d.ctl(&["delete", "h", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.get(&d.path(new_token)).status, 404);
    assert_eq!(d.ctl(&["show", "h"]).status.code(), Some(1));
}

#[test]
fn edit_changes_only_what_is_given_and_validates() {
    let d = Daemon::start();
    let token = d.create(
        "e",
        &[
            "--run",
            "echo one",
            "--raw-output",
            "--description",
            "first",
        ],
    );
    let before = d.json(&["show", "e"]);
    let edited = d.json(&[
        "edit",
        "e",
        "--run",
        "echo two",
        "--timeout",
        "30s",
        "--concurrency",
        "3",
    ]);
    assert_eq!(edited["description"], "first");
    assert_eq!(edited["timeout"], "30s");
    assert_eq!(edited["concurrency"], 3);
    assert_eq!(edited["raw_output"], true);
    assert_ne!(edited["updated_at"], before["updated_at"]);
    assert_eq!(d.get(&d.path(&token)).body, "two\n");

    let out = d.ctl(&["edit", "e", "--url", "https://example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--url"), "{}", text(&out.stderr));
    let out = d.ctl(&["edit", "e", "--user", "no-such-user-here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no such user"),
        "{}",
        text(&out.stderr)
    );
    let out = d.ctl(&["edit", "e", "--cwd", "relative/dir"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        d.json(&["show", "e"])["concurrency"],
        3,
        "a refused edit changes nothing"
    );
}

#[test]
fn create_refuses_invalid_input_with_exit_1() {
    let d = Daemon::start();
    let cases: &[&[&str]] = &[
        &["create", "bad name", "--run", "true"],
        &["create", "x", "--url", "ftp://example.com"],
        &[
            "create",
            "x",
            "--url",
            "https://example.com",
            "--event",
            // Well-formed patterns may name events of admins' own (`hookctl emit`): this one is
            // not well formed.
            "Nope.*",
        ],
        &["create", "x", "--run", "true", "--verify", "github"],
        &["create", "x", "--run", "true", "--allow-ip", "10.0.0.0/99"],
        &["create", "x", "--message", "--user", "root"],
        &["create", "x", "--run", "true", "--param", "ref=no-slash"],
        &[
            "create",
            "x",
            "--url",
            "https://example.com",
            "--match-path",
            "(",
        ],
    ];
    for args in cases {
        let out = d.ctl(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).is_empty());
    }
    d.create("dup", &["--run", "true"]);
    let out = d.ctl(&["create", "dup", "--run", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already exists"));
    let out = d.ctl(&["--json", "show", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "not_found");
    assert_eq!(d.json(&["list"]).as_array().unwrap().len(), 1);
}

#[test]
fn usage_errors_exit_2_without_waiting_for_a_terminal() {
    let d = Daemon::start();
    for args in [
        &["list", "--bogus"][..],
        &["create", "x"],
        &["create", "--run", "true"],
        &["edit", "x"],
        &["frobnicate"],
    ] {
        let out = d.ctl(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(d.json(&["list"]).as_array().unwrap().len(), 0);
}

#[test]
fn daemon_down_exits_3_naming_the_socket_and_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nope.sock");
    let out = Command::new(HOOKCTL)
        .arg("--socket")
        .arg(&sock)
        .arg("list")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains(sock.to_str().unwrap()), "{err}");
    assert!(err.contains("hookd") && err.contains("Start"), "{err}");
    let out = Command::new(HOOKCTL)
        .env("HOOKD_SOCKET", &sock)
        .arg("status")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn socket_permissions_and_stale_socket_replacement() {
    let mut d = Daemon::start();
    let mode = std::fs::metadata(&d.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let dir_mode = std::fs::metadata(d.socket.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o750);
    // kill -9 leaves the socket file behind; the next start must replace it.
    let status = d.stop_with(9);
    assert!(!status.success());
    assert!(d.socket.exists());
    d.boot();
    assert!(d.ctl(&["status"]).status.success());
    // A second daemon must not steal a live socket.
    let out = Command::new(crate::helper::HOOKD)
        .args([
            "--listen",
            &format!("127.0.0.1:{}", crate::helper::free_port()),
        ])
        .arg("--socket")
        .arg(&d.socket)
        .arg("--state-dir")
        .arg(d.dir.path().join("other"))
        .arg("--config")
        .arg(&d.config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already answering"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn management_actions_are_logged_with_the_callers_uid() {
    let d = Daemon::start();
    d.create("a", &["--run", "true"]);
    assert!(d.ctl(&["disable", "a"]).status.success());
    assert!(d.ctl(&["delete", "a", "--yes"]).status.success());
    let logs = d.json(&["logs", "--direction", "admin"]);
    let actions: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["method"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "disable", "delete"]);
    let uid = nix_uid();
    for l in logs.as_array().unwrap() {
        assert_eq!(l["uid"], uid);
        assert_eq!(l["direction"], "admin");
    }
}

fn nix_uid() -> u32 {
    text(&Command::new("id").arg("-u").output().unwrap().stdout)
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn status_reports_the_daemon() {
    let d = Daemon::start();
    d.create("a", &["--run", "true"]);
    let s = d.json(&["status"]);
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "version",
        "uptime_secs",
        "listen",
        "socket",
        "database",
        "hooks",
        "queue_depth",
        "running_scripts",
        "endpoints",
    ];
    if d.database.is_some() {
        // On a shared database, the live nodes (this one alone here).
        expected.push("nodes");
        assert_eq!(s["nodes"].as_array().map(Vec::len), Some(1), "{s}");
    }
    assert_eq!(keys, expected);
    assert_eq!(s["hooks"], 1);
    assert_eq!(s["listen"], format!("127.0.0.1:{}", d.port));
    assert_eq!(s["socket"], d.socket.to_str().unwrap());
    let out = d.ctl(&["status"]);
    assert!(text(&out.stdout).contains("Uptime"));
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(HOOKCTL)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("regenerate"), "{shell}");
    }
}

#[test]
fn a_closed_pipe_ends_hookctl_quietly() {
    let d = Daemon::start();
    for i in 0..50 {
        d.create(&format!("h{i}"), &["--message"]);
    }
    let cmd = format!(
        "{HOOKCTL} --socket {} logs -n 50 | head -n 1",
        d.socket.display()
    );
    let out = Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert_eq!(text(&out.stderr), "", "no panic or error on a closed pipe");
}

/// Drives `hookctl create` on a real terminal (a pty): it asks for what is missing.
#[test]
fn create_on_a_terminal_asks_for_the_essentials() {
    use std::io::{Read, Write};
    use std::os::fd::OwnedFd;
    let d = Daemon::start();
    let editor = crate::helper::write_file(
        d.dir.path(),
        "editor.sh",
        "#!/bin/sh\nprintf 'echo from the editor\\n' > \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let mut child = d
        .ctl_cmd(&["create"])
        .env("EDITOR", &editor)
        .env("TERM", "dumb")
        .stdin(slave(&pty.slave))
        .stdout(slave(&pty.slave))
        .stderr(slave(&pty.slave))
        .spawn()
        .unwrap();
    drop(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    let mut seen = String::new();
    let mut expect = |master: &mut std::fs::File, what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut buf = [0u8; 4096];
        while !seen.contains(what) {
            assert!(
                std::time::Instant::now() < deadline,
                "never saw {what:?} in {seen:?}"
            );
            let n = master.read(&mut buf).unwrap_or(0);
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        seen.clear();
    };
    expect(&mut master, "Hook name");
    master.write_all(b"asked\r").unwrap();
    expect(&mut master, "Kind");
    master.write_all(b"\r").unwrap();
    expect(&mut master, "Run as user");
    master.write_all(b"\r").unwrap();
    expect(&mut master, "/webhook/hkd_");
    assert!(child.wait().unwrap().success());
    let h = d.json(&["show", "asked"]);
    assert_eq!(h["kind"], "script");
    let t = d.json(&["regenerate", "asked", "--yes"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d.get(&d.path(&t)).json()["stdout"], "from the editor\n");
}

#[test]
fn runs_belong_to_a_hook_not_to_its_name() {
    let d = Daemon::start();
    let t = d.create("job", &["--run", "echo first"]);
    assert_eq!(d.post(&d.path(&t), "").status, 200);
    assert!(d.ctl(&["delete", "job", "--yes"]).status.success());
    // The name's history stays readable while no hook has the name...
    assert_eq!(d.json(&["runs", "job"]).as_array().unwrap().len(), 1);
    // ...but a new hook of that name starts with none of the old one's runs.
    let t = d.create("job", &["--run", "echo second"]);
    assert!(d.json(&["runs", "job"]).as_array().unwrap().is_empty());
    assert_eq!(d.post(&d.path(&t), "").status, 200);
    assert_eq!(d.json(&["runs", "job"]).as_array().unwrap().len(), 1);
    assert_eq!(d.json(&["runs"]).as_array().unwrap().len(), 2);
}
