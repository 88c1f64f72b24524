//! What a new admin meets first: unattended deletes, a mistyped `--config`, a socket of another
//! group, `--json` usage errors, `edit --help`, and `show` with the script.

use crate::helper::{Daemon, HOOKCTL, HOOKD, text, write_file};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn delete_and_regenerate_without_a_terminal_need_yes() {
    let d = Daemon::start();
    d.create("keep", &["--run", "echo kept", "--raw-output"]);
    // stdin is /dev/null in ctl(): there is nobody to ask.
    for verb in ["delete", "regenerate"] {
        let out = d.ctl(&[verb, "keep"]);
        assert_eq!(out.status.code(), Some(2), "{verb}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "refusing to {verb} without --yes when not on a terminal"
            )),
            "{err}"
        );
        let out = d.ctl(&["--json", verb, "keep"]);
        assert_eq!(out.status.code(), Some(2));
        let v: serde_json::Value = serde_json::from_slice(&out.stderr)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
        assert_eq!(v["error"]["code"], "usage");
    }
    let shown = d.json(&["show", "keep"]);
    let prefix = shown["token_prefix"].clone();
    assert_eq!(
        d.json(&["list"]).as_array().unwrap().len(),
        1,
        "not deleted"
    );

    let out = d.ctl(&["regenerate", "keep", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(d.json(&["show", "keep"])["token_prefix"], prefix);
    let out = d.ctl(&["delete", "keep", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.json(&["list"]).as_array().unwrap().len(), 0);
}

#[test]
fn an_explicit_config_path_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.toml");
    let listen = format!("127.0.0.1:{}", crate::helper::free_port());
    let state = dir.path().join("state");
    let socket = dir.path().join("hookd.sock");
    let runs = [
        (
            vec!["check-config", "--config", typo.to_str().unwrap()],
            None,
        ),
        (vec!["check-config"], Some(&typo)),
        (
            vec!["--config", typo.to_str().unwrap(), "--listen", &listen],
            None,
        ),
        (vec!["--listen", &listen], Some(&typo)),
    ];
    for (args, env) in runs {
        let mut cmd = Command::new(HOOKD);
        cmd.args(&args)
            .arg("--state-dir")
            .arg(&state)
            .arg("--socket")
            .arg(&socket)
            .env_remove("HOOKD_CONFIG")
            .stdin(Stdio::null());
        if let Some(p) = env {
            cmd.env("HOOKD_CONFIG", p);
        }
        // The daemon must refuse at once; one that starts instead is stopped after 10 s.
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} {env:?}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(
            err.contains(typo.to_str().unwrap()) && err.contains("does not exist"),
            "{err}"
        );
    }
    // The default path may be absent: defaults then.
    let out = Command::new(HOOKD)
        .arg("check-config")
        .env_remove("HOOKD_CONFIG")
        .env("XDG_CONFIG_HOME", dir.path().join("nothing-here"))
        .env("HOME", dir.path())
        .output()
        .unwrap();
    if !is_root() {
        assert!(out.status.success(), "{}", text(&out.stderr));
    } else if !std::path::Path::new("/etc/hookd/config.toml").exists() {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("defaults"));
    }
}

#[test]
fn a_socket_of_another_group_names_the_group_not_the_daemon() {
    if !is_root() {
        crate::helper::tools::skip("needs root to run hookctl as another user (CI runs as root)");
        return;
    }
    let d = Daemon::start();
    // Let `nobody` reach the fixture's directory, but not the 0750 socket directory inside.
    std::fs::set_permissions(d.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(HOOKCTL)
        .arg("--socket")
        .arg(&d.socket)
        .arg("list")
        .env_remove("HOOKD_SOCKET")
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("exists but this user may not open it"),
        "{err}"
    );
    assert!(
        err.contains("socket_group") && err.contains("root"),
        "{err}"
    );
    assert!(!err.contains("Is hookd running"), "{err}");
}

#[test]
fn json_usage_errors_are_json() {
    for args in [
        vec!["--json", "edit"],
        vec!["--json", "no-such-command"],
        vec!["--json", "create", "x", "--concurrency", "many"],
        vec!["--json", "create"],
    ] {
        let out = Command::new(HOOKCTL)
            .args(&args)
            .arg("--socket")
            .arg("/nonexistent/hookd.sock")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        let v: serde_json::Value = serde_json::from_slice(&out.stderr)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out.stderr)));
        assert_eq!(v["error"]["code"], "usage", "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty() && !message.contains('\n'), "{message}");
    }
    // --help is still help, also with --json.
    let out = Command::new(HOOKCTL)
        .args(["--json", "list", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Usage:"));
}

#[test]
fn edit_help_names_no_defaults() {
    let help = |cmd: &str| {
        let out = Command::new(HOOKCTL)
            .args([cmd, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success());
        text(&out.stdout)
    };
    let create = help("create");
    assert!(create.contains("[default: 1]"), "{create}");
    let edit = help("edit");
    let options: Vec<&str> = edit
        .lines()
        .skip_while(|l| !l.contains("--description"))
        .collect();
    assert!(
        options.iter().any(|l| l.contains("--concurrency")),
        "{edit}"
    );
    for l in &options {
        assert!(!l.contains("[default:"), "edit --help names a default: {l}");
    }
}

#[test]
fn show_includes_the_script() {
    let d = Daemon::start();
    let script = write_file(
        d.dir.path(),
        "deploy.sh",
        "#!/bin/sh\ncd /srv/app\ngit pull --ff-only\n",
    );
    d.create("deploy", &["--script", script.to_str().unwrap()]);
    let v = d.json(&["show", "deploy"]);
    assert_eq!(v["script"], "#!/bin/sh\ncd /srv/app\ngit pull --ff-only\n");
    let out = d.ctl(&["show", "deploy"]);
    assert!(out.status.success());
    let shown = text(&out.stdout);
    assert!(
        shown.contains("#!/bin/sh\ncd /srv/app\ngit pull --ff-only\n"),
        "{shown}"
    );
}
