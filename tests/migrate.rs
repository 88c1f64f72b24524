//! Upgrades: a database written by the previous release opens, migrates, and keeps serving.

use crate::helper::{Daemon, hex, hmac_sha256, receiver::Receiver};
use std::time::Duration;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v3")
        .join(name)
}

#[test]
fn a_database_of_the_previous_release_opens_and_migrates() {
    let mut d = Daemon::start();
    if d.database.is_some() {
        // An upgrade of the embedded database; the PostgreSQL schema has migrations of its own.
        return;
    }
    d.stop_with(15);
    let db = d.state_dir().join("hookd.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(fixture("hookd.db"), &db).unwrap();
    let tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("tokens.json")).unwrap()).unwrap();
    let token = |n: &str| tokens[n].as_str().unwrap().to_string();
    d.boot();

    // Every hook, with its settings, is there.
    let names = d.hook_names();
    assert_eq!(names, ["alarms", "bg", "chat", "deploy", "gh", "notify"]);
    assert_eq!(d.json(&["show", "chat"])["description"], "chat room");
    assert_eq!(d.json(&["show", "alarms"])["enabled"], false);
    assert_eq!(d.json(&["show", "bg"])["mode"], "async");

    // History is kept: runs, the pending delivery, the log.
    assert_eq!(d.json(&["runs"]).as_array().unwrap().len(), 2);
    let deliveries = d.json(&["deliveries", "notify"]);
    assert_eq!(deliveries[0]["status"], "pending");
    assert_eq!(deliveries[0]["event_type"], "message.received");
    let admin = d.json(&["logs", "--direction", "admin"]);
    assert_eq!(admin.as_array().unwrap().len(), 6);

    // The old tokens still open their hooks, with their options.
    let r = d.post(&d.path(&token("deploy")), "after the upgrade");
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "deployed\nafter the upgrade")
    );
    let body = "{}";
    let sig = format!(
        "sha256={}",
        hex(&hmac_sha256(b"fixture-secret", body.as_bytes()))
    );
    let gh = d.path(&token("gh"));
    assert_eq!(d.post(&gh, body).status, 401);
    let ok = d.request(
        "POST",
        &gh,
        &[("X-Hub-Signature-256", &sig)],
        body.as_bytes(),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(d.json(&["runs", "deploy"]).as_array().unwrap().len(), 2);

    // Hooks change as before (a stored revision now guards each change).
    assert!(
        d.ctl(&["edit", "deploy", "--timeout", "1m"])
            .status
            .success()
    );
    assert_eq!(d.json(&["show", "deploy"])["timeout"], "1m");
    assert!(d.ctl(&["delete", "gh", "--yes"]).status.success());

    // The outgoing hook still signs with its secret: point it at a live receiver.
    let rx = Receiver::start(&[200]);
    assert!(
        d.ctl(&["edit", "notify", "--url", &rx.url("/")])
            .status
            .success()
    );
    let r = d.post(&d.path(&token("chat")), r#"{"content": "hello again"}"#);
    assert_eq!(r.status, 200);
    let got = rx.wait_for(1, Duration::from_secs(15));
    assert!(
        got[0]
            .header("webhook-signature")
            .unwrap()
            .starts_with("v1,")
    );
}
