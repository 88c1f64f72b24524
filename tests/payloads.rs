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

#[test]
fn a_template_repeating_a_large_caller_value_fails_at_the_cap_at_once() {
    // The default cap (1 MiB); a quick retry schedule, so a retry would show within the test.
    let d = Daemon::start_with("[deliveries]\nretry_schedule = [\"1s\"]\n");
    let rx = Receiver::start(&[200]);
    // Forty copies of one caller value: 40 × 100 KB = 4 MB, rendered from a 100 KB body.
    let fields: Vec<String> = (0..40)
        .map(|i| format!("\"f{i}\": \"${{data.request.body.big}}\""))
        .collect();
    let f = d.dir.path().join("amplify.json");
    std::fs::write(&f, format!("{{{}}}", fields.join(", "))).unwrap();
    d.create(
        "out",
        &[
            "--url",
            &rx.url("/"),
            "--event",
            "webhook.received",
            "--template",
            f.to_str().unwrap(),
        ],
    );
    let t = d.create("in", &["--run", "true"]);
    let big = "z".repeat(100_000);
    let r = d.post(&d.path(&t), &format!(r#"{{"big": "{big}"}}"#));
    assert_eq!(r.status, 200, "the call itself is accepted: {}", r.body);
    wait_until("the delivery fails", Duration::from_secs(10), || {
        d.json(&["deliveries", "out"])[0]["status"] == "failed"
    });
    let del = &d.json(&["deliveries", "out"])[0];
    assert_eq!(del["attempts"], 1, "not retried");
    let err = del["last_error"].as_str().unwrap();
    assert!(
        err.contains("larger than deliveries.max_payload_bytes (1048576 bytes)"),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.received().is_empty(), "nothing was sent");
    assert_eq!(d.json(&["deliveries", "out"])[0]["attempts"], 1);
    // A small value through the same template goes out.
    assert_eq!(d.post(&d.path(&t), r#"{"big": "small"}"#).status, 200);
    let got = rx.wait_for(1, Duration::from_secs(10));
    assert_eq!(got[0].json()["f39"], "small");
}

#[test]
fn a_placeholder_in_key_position_is_refused_by_edit_and_apply_too() {
    let d = Daemon::start();
    let good = d.dir.path().join("good.json");
    std::fs::write(&good, r#"{"text": "${hook_name}"}"#).unwrap();
    let bad = d.dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"text": "ok", "${hook_name}": 1}"#).unwrap();
    d.create(
        "k",
        &[
            "--url",
            "http://127.0.0.1:9/",
            "--template",
            good.to_str().unwrap(),
        ],
    );
    let out = d.ctl(&["edit", "k", "--template", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key position"), "{err}");
    let shown = d.json(&["show", "k"]);
    assert_eq!(
        shown["template"], r#"{"text": "${hook_name}"}"#,
        "unchanged: {shown:#}"
    );

    let file = d.dir.path().join("hooks.toml");
    std::fs::write(
        &file,
        "[[hook]]\nname = \"k2\"\nkind = \"outgoing\"\nurl = \"http://127.0.0.1:9/\"\n\
         template = '{\"${data.request.body.name}\": \"x\"}'\n",
    )
    .unwrap();
    let out = d.ctl(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key position") && err.contains("k2"), "{err}");
    assert!(
        !d.hook_names().contains(&"k2".to_string()),
        "nothing applied"
    );
}
