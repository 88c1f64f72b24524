//! SIGHUP: a good config takes effect, a bad one is refused and the running one stays.

use crate::helper::{Daemon, free_port, http, wait_until};
use std::time::Duration;

#[test]
fn sighup_applies_a_good_config_and_keeps_the_old_one_on_errors() {
    let d = Daemon::start_with("max_body_bytes = 1000\n");
    let t = d.create("r", &["--run", "true"]);
    let body = "x".repeat(100);
    assert_eq!(d.post(&d.path(&t), &body).status, 200);

    std::fs::write(&d.config, "max_body_bytes = 10\n").unwrap();
    d.signal(1);
    wait_until("the new limit to apply", Duration::from_secs(10), || {
        d.post(&d.path(&t), &body).status == 413
    });
    assert!(d.log().contains("configuration reloaded"));

    std::fs::write(&d.config, "max_body_bytes = 5000\n[scripts\n").unwrap();
    d.signal(1);
    wait_until("the refusal to be logged", Duration::from_secs(10), || {
        d.log().contains("configuration not reloaded")
    });
    assert!(
        d.log().contains("config.toml:2:"),
        "the log names line and column:\n{}",
        d.log()
    );
    assert_eq!(
        d.post(&d.path(&t), &body).status,
        413,
        "the running config stays"
    );
    assert!(d.ctl(&["status"]).status.success());
}

#[test]
fn sighup_rebinds_a_changed_listen_address() {
    let old_port = free_port();
    let mut d = Daemon::start_with(&format!("listen = \"127.0.0.1:{old_port}\"\n"));
    assert_eq!(d.get("/healthz").status, 200);
    let new_port = free_port();
    std::fs::write(&d.config, format!("listen = \"127.0.0.1:{new_port}\"\n")).unwrap();
    d.signal(1);
    wait_until("the new address to answer", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", new_port)).is_ok()
    });
    assert_eq!(http(new_port, "GET", "/healthz", &[], b"").status, 200);
    wait_until("the old address to close", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", old_port)).is_err()
    });
    assert_eq!(
        d.json(&["status"])["listen"],
        format!("127.0.0.1:{new_port}")
    );
    d.port = new_port;
}
