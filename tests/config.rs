//! `hookd check-config`: effective config, and errors with line and column.

use crate::helper::{HOOKD, text, write_file};
use std::process::{Command, Output};

/// `hookd check-config --config FILE`.
fn check_config(file: &std::path::Path) -> Output {
    Command::new(HOOKD)
        .arg("check-config")
        .arg("--config")
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn check_config_prints_the_effective_config() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(
        dir.path(),
        "c.toml",
        "listen = \"127.0.0.1:9999\"\n[scripts]\ntimeout = \"30s\"\n",
    );
    let out = check_config(&f);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("listen = \"127.0.0.1:9999\""), "{printed}");
    assert!(printed.contains("timeout = \"30s\""), "{printed}");
    assert!(
        printed.contains("max_concurrent = 16"),
        "defaults are shown too: {printed}"
    );
    // The printed config is itself a valid config.
    let again = write_file(dir.path(), "again.toml", &printed);
    assert!(check_config(&again).status.success());
}

#[test]
fn broken_config_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(
        dir.path(),
        "bad.toml",
        "listen = \"127.0.0.1:9999\"\n[scripts]\ntimeout = 5\n",
    );
    let out = check_config(&f);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml:3:11"), "{err}");
    let f = write_file(dir.path(), "typo.toml", "\n\nlissten = \"x\"\n");
    let out = check_config(&f);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("typo.toml:3:1"),
        "{}",
        text(&out.stderr)
    );
    // The daemon refuses to start on it, the same way.
    let out = Command::new(HOOKD)
        .arg("--config")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("typo.toml:3:1"));
}

#[test]
fn env_and_flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "c.toml", "listen = \"127.0.0.1:1111\"\n");
    let out = Command::new(HOOKD)
        .arg("check-config")
        .env("HOOKD_CONFIG", &f)
        .env("HOOKD_LISTEN", "127.0.0.1:2222")
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("127.0.0.1:2222"),
        "{}",
        text(&out.stdout)
    );
    let out = Command::new(HOOKD)
        .args(["check-config", "--listen", "127.0.0.1:3333"])
        .env("HOOKD_CONFIG", &f)
        .env("HOOKD_LISTEN", "127.0.0.1:2222")
        .output()
        .unwrap();
    assert!(text(&out.stdout).contains("127.0.0.1:3333"));
}
