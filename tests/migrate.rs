//! Upgrades: a database written by the previous release opens, migrates, and keeps serving.

use crate::helper::{Daemon, hex, hmac_sha256, receiver::Receiver, text};
use std::time::Duration;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v3")
        .join(name)
}

/// Replaces the stopped daemon's database with the previous release's fixture.
fn install_fixture(d: &Daemon) {
    let db = d.state_dir().join("hookd.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::create_dir_all(d.state_dir()).unwrap();
    std::fs::copy(fixture("hookd.db"), &db).unwrap();
}

#[test]
fn a_database_of_the_previous_release_opens_and_migrates() {
    let mut d = Daemon::start();
    if d.database.is_some() {
        // An upgrade of the embedded database; the PostgreSQL schema has migrations of its own.
        return;
    }
    d.stop_with(15);
    install_fixture(&d);
    d.boot();
    serves_the_fixtures_state(&d);
}

/// What the fixture holds, served as before: every hook with its settings and token, its runs,
/// its pending delivery and its log, and hooks that still change and sign.
fn serves_the_fixtures_state(d: &Daemon) {
    let tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("tokens.json")).unwrap()).unwrap();
    let token = |n: &str| tokens[n].as_str().unwrap().to_string();

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

#[test]
fn migrate_store_copies_an_installation_into_postgresql_and_it_keeps_serving() {
    if crate::helper::on_postgres() {
        return; // Runs once, in the default pass; it starts both kinds of daemon itself.
    }
    let cluster = match crate::helper::postgres::cluster() {
        Ok(c) => c,
        Err(e) => return crate::helper::tools::skip(&e),
    };
    let url = cluster.database();
    let mut old = Daemon::start();
    let migrate = |from: &std::path::Path, force: bool| {
        let mut c = std::process::Command::new(crate::helper::HOOKD);
        c.args(["migrate-store", "--from"])
            .arg(format!("sqlite:{}", from.display()))
            .args(["--to", &url]);
        if force {
            c.arg("--force");
        }
        c.env_remove("HOOKD_DATABASE").output().unwrap()
    };
    // A daemon running on the database: refused, nothing copied.
    let out = migrate(&old.state_dir(), false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("in use by another process"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        cluster
            .psql(
                url.rsplit('/').next().unwrap(),
                "SELECT count(*) FROM hooks"
            )
            .trim(),
        "0"
    );
    old.stop_with(15);
    install_fixture(&old);

    let out = migrate(&old.state_dir(), false);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("hooks") && report.contains("6 of         6"),
        "{report}"
    );
    assert!(
        !report.contains(":hookd@") || !report.contains("password"),
        "{report}"
    );
    // A second copy into the same database needs --force.
    let out = migrate(&old.state_dir(), false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    let out = migrate(&old.state_dir(), true);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut new = Daemon::prepare("");
    new.database = Some(url.clone());
    new.boot();
    serves_the_fixtures_state(&new);
}
