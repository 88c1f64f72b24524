//! Socket activation (`systemd-socket-activate`, which ships with systemd, passes sockets the
//! way a `.socket` unit does) and `HOOKD_LOG_FORMAT=json`.

use crate::helper::{Daemon, HOOKD, free_port, http, text, wait_until};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

fn have_activate() -> bool {
    let ok = Command::new("systemd-socket-activate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::helper::tools::skip("systemd-socket-activate is not installed (package systemd)");
    }
    ok
}

/// Boots `d` under `systemd-socket-activate` with `listen` sockets and `names` (or none).
fn boot_activated(d: &mut Daemon, listen: &[u16], names: Option<&str>) {
    let mut wrapper: Vec<String> = vec!["systemd-socket-activate".into()];
    for port in listen {
        wrapper.extend(["-l".into(), format!("127.0.0.1:{port}")]);
    }
    if let Some(n) = names {
        wrapper.push(format!("--fdname={n}"));
    }
    // systemd-socket-activate passes no environment but what -E names.
    wrapper.extend(["-E".into(), "HOOKD_LOG=debug".into()]);
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    d.boot_wrapped(&wrapper, |_| {});
}

fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn hookd_serves_the_passed_socket_and_does_not_bind_listen() {
    if !have_activate() {
        return;
    }
    let (passed, configured) = (free_port(), free_port());
    let mut d = Daemon::prepare(&format!("listen = \"127.0.0.1:{configured}\"\n"));
    d.port = passed;
    boot_activated(&mut d, &[passed], None);
    assert_eq!(d.get("/healthz").body, "ok\n");
    assert!(refused(configured), "listen was bound as well");
    assert_eq!(d.json(&["status"])["listen"], format!("127.0.0.1:{passed}"));
    let created = d.json(&["create", "hi", "--run", "echo hi", "--raw-output"]);
    let url = created["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{passed}/webhook/")),
        "{url}"
    );
    let token = created["token"].as_str().unwrap();
    assert_eq!(d.post(&d.path(token), "{}").body, "hi\n");
    assert!(d.log().contains("socket systemd passed"), "{}", d.log());

    // A reload keeps the passed socket whatever `listen` says now.
    let other = free_port();
    std::fs::write(&d.config, format!("listen = \"127.0.0.1:{other}\"\n")).unwrap();
    d.signal(1);
    wait_until("the reload", Duration::from_secs(20), || {
        d.log().contains("configuration reloaded")
    });
    assert_eq!(d.get("/healthz").status, 200);
    assert!(refused(other));
    assert_eq!(d.json(&["status"])["listen"], format!("127.0.0.1:{passed}"));
}

#[test]
fn a_second_passed_socket_serves_metrics_by_position_or_by_name() {
    if !have_activate() {
        return;
    }
    for named in [false, true] {
        let (web, metrics) = (free_port(), free_port());
        let mut d = Daemon::prepare("");
        d.port = web;
        if named {
            // Names win over order: metrics first, webhooks second.
            boot_activated(&mut d, &[metrics, web], Some("metrics:http"));
        } else {
            boot_activated(&mut d, &[web, metrics], None);
        }
        assert_eq!(d.get("/healthz").status, 200);
        let scrape = http(metrics, "GET", "/metrics", &[], b"");
        assert_eq!(scrape.status, 200, "named: {named}");
        assert!(scrape.body.contains("hookd_"), "{}", scrape.body);
        assert_eq!(http(metrics, "GET", "/healthz", &[], b"").status, 404);
    }
}

#[test]
fn sockets_passed_to_another_process_are_not_taken() {
    // LISTEN_PID names another process: nothing was passed to hookd, which binds `listen`.
    let mut d = Daemon::prepare("");
    d.boot_with(|c| {
        c.env("LISTEN_PID", "1").env("LISTEN_FDS", "1");
    });
    assert_eq!(d.get("/healthz").status, 200);
    assert!(!d.log().contains("socket systemd passed"));
}

#[test]
fn a_passed_descriptor_that_is_not_a_listening_socket_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    // A shell opens descriptor 3 on a plain file and becomes hookd with LISTEN_PID its own.
    let script = r#"exec 3<"$1/config.toml"; LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --config "$1/config.toml" --listen 127.0.0.1:0 --socket "$1/s.sock" --state-dir "$1/state""#;
    let out = Command::new("sh")
        .args(["-c", script, HOOKD])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("descriptor 3") && err.contains("not a socket"),
        "{err}"
    );
}

#[test]
fn hookd_log_format_json_writes_one_object_per_line() {
    let mut d = Daemon::prepare("");
    d.boot_with(|c| {
        c.env("HOOKD_LOG_FORMAT", "json");
    });
    d.create("j", &["--run", "true"]);
    let log = d.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let ready = lines
        .iter()
        .find(|v| v["message"].as_str().is_some_and(|m| m.contains("ready")))
        .unwrap_or_else(|| panic!("no ready line:\n{log}"));
    assert_eq!(ready["level"], "INFO");
    assert_eq!(ready["listen"], format!("127.0.0.1:{}", d.port));
    assert!(ready["timestamp"].is_string());

    let out = Command::new(HOOKD)
        .args(["check-config"])
        .env("HOOKD_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("json"), "{}", text(&out.stderr));
}
