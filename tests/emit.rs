//! `hookctl emit`: admins' own events through the delivery machinery, to a real receiver, the
//! signature checked by the Standard Webhooks reference library.

use crate::helper::receiver::{Received, Receiver};
use crate::helper::{Daemon, free_port, text};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const FAST_RETRIES: &str = "[deliveries]\nretry_schedule = [\"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\"]\n";

/// Verifies a delivery with the `standardwebhooks` Python package; `None` when it is not
/// installed (`.ci/run` installs tests/requirements.txt).
pub fn library_verifies(secret: &str, r: &Received) -> Option<bool> {
    let script = r#"
import json, sys
try:
    from standardwebhooks.webhooks import Webhook
except ImportError:
    sys.exit(3)
req = json.load(sys.stdin)
try:
    Webhook(req["secret"]).verify(req["body"].encode(), req["headers"])
except Exception as e:
    print(e)
    sys.exit(1)
"#;
    let headers: serde_json::Map<String, serde_json::Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), serde_json::json!(v)))
        .collect();
    let input = serde_json::json!({
        "secret": secret,
        "headers": headers,
        "body": String::from_utf8_lossy(&r.body),
    });
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(3) => {
            crate::helper::tools::skip("the standardwebhooks Python package is not installed");
            None
        }
        Some(0) => Some(true),
        _ => Some(false),
    }
}

#[test]
fn an_emitted_event_arrives_signed_and_verifies_with_the_library() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let created = d.json(&[
        "create",
        "backups",
        "--url",
        &rx.url("/in"),
        "--generate-secret",
        "--event",
        "backup.*",
    ]);
    let secret = created["secret"].as_str().unwrap().to_string();
    let out = d.ctl_stdin(
        &["--json", "emit", "backup.done", "--data", "-"],
        r#"{"host": "db1", "bytes": 1048576}"#,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["deliveries"], 1);
    let id = answer["id"].as_str().unwrap();
    assert!(id.starts_with("evt_"), "{id}");

    let got = rx.wait_for(1, Duration::from_secs(10));
    let body = got[0].json();
    assert_eq!(body["type"], "backup.done");
    assert_eq!(body["id"], id);
    assert_eq!(got[0].header("webhook-id"), Some(id));
    assert_eq!(
        body["data"],
        serde_json::json!({"host": "db1", "bytes": 1048576})
    );
    if let Some(ok) = library_verifies(&secret, &got[0]) {
        assert!(
            ok,
            "standardwebhooks rejects the signature: {:?}",
            got[0].headers
        );
        let mut tampered = got[0].clone();
        tampered.body.extend_from_slice(b" ");
        assert_eq!(library_verifies(&secret, &tampered), Some(false));
    }

    // Not subscribed to, not delivered; the human line says what was queued.
    let out = d.ctl(&["emit", "deploy.done"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("(0 deliveries queued)"),
        "{}",
        text(&out.stdout)
    );
    let logs = text(&d.ctl(&["logs", "--direction", "admin"]).stdout);
    assert!(
        logs.contains("emit") && logs.contains("backup.done") && logs.contains("uid"),
        "{logs}"
    );
}

#[test]
fn the_same_idempotency_key_queues_one_delivery() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create("n", &["--url", &rx.url("/"), "--event", "cron.nightly"]);
    let emit = || {
        d.json(&[
            "emit",
            "cron.nightly",
            "--idempotency-key",
            "2026-12-02",
            "--data",
            r#"{"n": 1}"#,
        ])
    };
    let first = emit();
    let second = emit();
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["deliveries"], 1);
    rx.wait_for(1, Duration::from_secs(10));
    let other = d.json(&["emit", "cron.nightly", "--idempotency-key", "2026-12-03"]);
    assert_ne!(other["id"], first["id"]);
    rx.wait_for(2, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 2, "a repeated key is delivered once");
    assert_eq!(d.json(&["deliveries", "n"]).as_array().unwrap().len(), 2);
}

#[test]
fn emitted_events_survive_kill_9_and_are_delivered_once_per_id() {
    let mut d = Daemon::start_with(FAST_RETRIES);
    let port = free_port();
    d.create(
        "later",
        &[
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--event",
            "job.*",
        ],
    );
    let mut ids = Vec::new();
    for i in 0..3 {
        let v = d.json(&[
            "emit",
            "job.finished",
            "--data",
            &format!(r#"{{"i": {i}}}"#),
        ]);
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    d.stop_with(9);
    let rx = Receiver::start_on(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        &[200],
    );
    d.boot();
    rx.wait_for(3, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(800));
    let mut got: Vec<String> = rx
        .received()
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids, "each emitted event exactly once");
}

#[test]
fn event_types_and_subscriptions() {
    let d = Daemon::start();
    let everything = Receiver::start(&[200]);
    let alarms = Receiver::start(&[200]);
    d.create("all", &["--url", &everything.url("/")]);
    d.create("pager", &["--url", &alarms.url("/"), "--type", "alarms"]);
    assert!(d.ctl(&["emit", "backup.done"]).status.success());
    assert!(
        d.ctl(&[
            "emit",
            "alarm.disk-full",
            "--data",
            r#"{"message": "disk full on db1"}"#
        ])
        .status
        .success()
    );
    let plain = everything.wait_for(1, Duration::from_secs(10));
    let paged = alarms.wait_for(1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        everything.received().len(),
        1,
        "alarm.* goes only to alarm hooks"
    );
    assert_eq!(
        alarms.received().len(),
        1,
        "other events not to alarm hooks"
    );
    assert_eq!(plain[0].json()["type"], "backup.done");
    assert_eq!(paged[0].json()["type"], "alarm.disk-full");
    assert_eq!(paged[0].json()["message"], "disk full on db1");

    for (args, code, says) in [
        (
            vec!["emit", "script.completed"],
            1,
            "one of hookd's own event types",
        ),
        (vec!["emit", "Backup.Done"], 1, "invalid event type"),
        (vec!["emit", "backup"], 1, "invalid event type"),
        (
            vec!["emit", "backup.done", "--data", "{oops"],
            2,
            "--data is not JSON",
        ),
        (
            vec!["emit", "backup.done", "--data", "@/nonexistent"],
            2,
            "cannot read /nonexistent",
        ),
    ] {
        let out = d.ctl(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn redeliver_failed_since_resends_exactly_the_failed_ones_in_the_window() {
    let d = Daemon::start_with("[deliveries]\nretry_schedule = [\"100ms\"]\n");
    let port = free_port();
    d.create(
        "down",
        &[
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--event",
            "job.*",
        ],
    );
    let up = Receiver::start(&[200]);
    d.create("up", &["--url", &up.url("/"), "--event", "job.*"]);
    let failed = |n: usize| {
        crate::helper::wait_until("failed deliveries", Duration::from_secs(20), || {
            d.json(&["deliveries", "down", "--status", "failed"])
                .as_array()
                .unwrap()
                .len()
                == n
        })
    };
    let early = d.json(&["emit", "job.early"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    failed(1);
    std::thread::sleep(Duration::from_secs(4));
    let mut late: Vec<String> = (0..2)
        .map(|_| {
            d.json(&["emit", "job.late"])["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    failed(3);
    up.wait_for(3, Duration::from_secs(10));

    let rx = Receiver::start_on(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        &[200],
    );
    let out = d.json(&["redeliver", "--failed", "--since", "3s"]);
    assert_eq!(out["requeued"], 2);
    let got = rx.wait_for(2, Duration::from_secs(10));
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    ids.sort();
    late.sort();
    assert_eq!(ids, late, "the two in the window, with their ids");
    assert_eq!(
        text(&d.ctl(&["redeliver", "--failed", "up"]).stdout).trim(),
        "0 failed deliveries queued again"
    );
    assert_eq!(d.json(&["redeliver", "--failed", "down"])["requeued"], 1);
    let got = rx.wait_for(3, Duration::from_secs(10));
    assert_eq!(got[2].header("webhook-id"), Some(early.as_str()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        up.received().len(),
        3,
        "succeeded deliveries are not sent again"
    );
    assert_eq!(rx.received().len(), 3);

    let out = d.ctl(&["redeliver", "--failed", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    let out = d.ctl(&["redeliver", "--since", "1h"]);
    assert_eq!(out.status.code(), Some(2));
}
