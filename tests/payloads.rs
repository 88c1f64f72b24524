//! Payload limits: templates cannot put caller data in key position, and a rendered payload
//! over `deliveries.max_payload_bytes` fails its delivery at once instead of retrying.

use crate::helper::{Daemon, receiver::Receiver, wait_until};
use std::time::Duration;

#[test]
fn templates_with_a_placeholder_in_key_position_are_refused() {
    let d = Daemon::start();
    let f = d.dir.path().join("t.json");
    std::fs::write(&f, r#"{"text": "ok", "${hook_name}": 1}"#).unwrap();
    let out = d.ctl(&[
        "create",
        "k",
        "--url",
        "http://127.0.0.1:9/",
        "--template",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("key position") && err.contains("column 17"),
        "{err}"
    );
}

#[test]
fn an_oversized_payload_fails_at_once_with_a_clear_error() {
    let d =
        Daemon::start_with("[deliveries]\nmax_payload_bytes = 2000\nretry_schedule = [\"1s\"]\n");
    let rx = Receiver::start(&[200]);
    d.create(
        "out",
        &["--url", &rx.url("/"), "--event", "message.received"],
    );
    let chat = d.create("chat", &["--message"]);
    let big = "x".repeat(3000);
    let r = d.post(&d.path(&chat), &format!(r#"{{"content": "{big}"}}"#));
    assert_eq!(r.status, 200, "the message itself is accepted");
    wait_until("the delivery fails", Duration::from_secs(10), || {
        d.json(&["deliveries", "out"])[0]["status"] == "failed"
    });
    let del = &d.json(&["deliveries", "out"])[0];
    assert_eq!(del["attempts"], 1, "not retried");
    let err = del["last_error"].as_str().unwrap();
    assert!(err.contains("max_payload_bytes"), "{err}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.received().is_empty(), "nothing was sent");
    assert_eq!(d.json(&["deliveries", "out"])[0]["attempts"], 1);

    // A message that fits goes out as usual.
    d.post(&d.path(&chat), r#"{"content": "small"}"#);
    assert_eq!(rx.wait_for(1, Duration::from_secs(10)).len(), 1);
}
