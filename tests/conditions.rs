//! `--if EXPR`: a call runs (or is accepted) only when its hook's condition holds; otherwise it
//! is answered `Hook rules were not satisfied.` with the mismatch status, logged as skipped,
//! and still reported as `webhook.received`. Broken conditions are refused with their column.

use crate::helper::{Daemon, receiver::Receiver, text};
use std::time::Duration;

const MISMATCH: &str = "Hook rules were not satisfied.";

fn runs(d: &Daemon, hook: &str) -> usize {
    d.json(&["runs", hook]).as_array().unwrap().len()
}

#[test]
fn a_false_condition_runs_nothing_but_is_logged_and_reported() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "watch",
        &["--url", &rx.url("/"), "--event", "webhook.received"],
    );
    let cond = "payload.ref == 'refs/heads/main' && header('X-GitHub-Event') =~ \"^push$\"";
    let t = d.create("deploy", &["--run", "echo ran", "--if", cond]);
    let path = d.path(&t);
    let push = |ev: &str, body: &str| {
        d.request(
            "POST",
            &path,
            &[("Content-Type", "application/json"), ("x-github-event", ev)],
            body.as_bytes(),
        )
    };

    let yes = push("push", r#"{"ref": "refs/heads/main"}"#);
    assert_eq!(yes.status, 200, "{yes:?}");
    assert_eq!(yes.json()["stdout"], "ran\n");
    let other_branch = push("push", r#"{"ref": "refs/heads/dev"}"#);
    assert_eq!(
        (other_branch.status, other_branch.body.as_str()),
        (200, MISMATCH)
    );
    let other_event = push("pushed", r#"{"ref": "refs/heads/main"}"#);
    assert_eq!(other_event.body, MISMATCH);
    assert_eq!(runs(&d, "deploy"), 1, "only the matching call ran");

    let logs = d.json(&["logs", "deploy"]);
    let skipped = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["error"] == "skipped: condition false")
        .count();
    assert_eq!(skipped, 2, "{logs:#}");
    let got = rx.wait_for(3, Duration::from_secs(30));
    let statuses: Vec<_> = got
        .iter()
        .map(|r| r.json()["data"]["response"]["body"].clone())
        .collect();
    assert_eq!(statuses.len(), 3);
    assert_eq!(
        statuses.iter().filter(|b| **b == MISMATCH).count(),
        2,
        "{statuses:?}"
    );
}

#[test]
fn mismatch_status_message_hooks_and_clearing() {
    let d = Daemon::start();
    let t = d.create(
        "chat",
        &[
            "--message",
            "--if",
            "query('room') == 'ops' || !(payload.username != 'bot')",
            "--if-mismatch-status",
            "202",
        ],
    );
    let path = d.path(&t);
    let msg = r#"{"content": "hi", "username": "alice"}"#;
    let r = d.post(&path, msg);
    assert_eq!((r.status, r.body.as_str()), (202, MISMATCH));
    let r = d.post(&format!("{path}?room=ops"), msg);
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let r = d.post(&path, r#"{"content": "hi", "username": "bot"}"#);
    assert_eq!(r.status, 200);

    let shown = d.json(&["show", "chat"]);
    assert_eq!(shown["if_mismatch_status"], 202);
    assert!(shown["if"].as_str().unwrap().contains("query('room')"));
    d.json(&["edit", "chat", "--if", ""]);
    assert!(d.json(&["show", "chat"]).get("if").is_none());
    assert_eq!(d.post(&path, msg).status, 200);
}

#[test]
fn conditions_read_forms_queries_arrays_dotted_keys_and_addresses() {
    let d = Daemon::start();
    let cases: &[(&str, &str, &str, bool)] = &[
        (
            "payload.commits.1.id == 'b'",
            "application/json",
            r#"{"commits":[{"id":"a"},{"id":"b"}]}"#,
            true,
        ),
        (
            "payload.commits.5.id == null",
            "application/json",
            r#"{"commits":[]}"#,
            true,
        ),
        (
            "payload.a.b == 'literal'",
            "application/json",
            r#"{"a.b":"literal","a":{"b":"nested"}}"#,
            true,
        ),
        (
            "payload.a.b == 'nested'",
            "application/json",
            r#"{"a":{"b":"nested"}}"#,
            true,
        ),
        (
            "payload.name == 'x y'",
            "application/x-www-form-urlencoded",
            "name=x+y&name=z",
            true,
        ),
        ("payload.name == 'x'", "text/plain", "name=x", false),
        ("body =~ '^name='", "text/plain", "name=x", true),
        ("content_type == 'text/plain'", "text/plain", "", true),
        (
            "method == 'POST' && remote_addr == '127.0.0.1'",
            "text/plain",
            "",
            true,
        ),
        (
            "ip_in(remote_addr, '10.0.0.0/8', '127.0.0.0/8')",
            "text/plain",
            "",
            true,
        ),
        ("ip_in(remote_addr, '::1/128')", "text/plain", "", false),
        (
            "payload.n == 3 && payload.n =~ '^3$'",
            "application/json",
            r#"{"n":3}"#,
            true,
        ),
        (
            "payload.missing.deeper !~ 'x'",
            "application/json",
            "not json",
            true,
        ),
        (
            "header('X-None') == null ? true : false",
            "text/plain",
            "",
            true,
        ),
    ];
    for (i, (cond, ct, body, expect)) in cases.iter().enumerate() {
        let name = format!("c{i}");
        let t = d.create(&name, &["--run", "echo yes", "--raw-output", "--if", cond]);
        let r = d.request(
            "POST",
            &d.path(&t),
            &[("Content-Type", ct)],
            body.as_bytes(),
        );
        let want = if *expect { "yes\n" } else { MISMATCH };
        assert_eq!(r.body, want, "{cond} on {body:?} ({ct})");
    }
}

#[test]
fn broken_conditions_are_refused_with_their_column() {
    let d = Daemon::start();
    let cases = [
        ("payload.ref = 'x'", 13),
        ("payload.ref == 'x' &&", 22),
        ("nosuch == 1", 1),
        ("payload.ref =~ '(unclosed'", 16),
        ("ip_in(remote_addr, 'ten/8')", 20),
        ("header(payload.x)", 8),
        ("'unterminated", 1),
    ];
    for (cond, column) in cases {
        let out = d.ctl(&["create", "bad", "--run", "true", "--if", cond]);
        assert_eq!(out.status.code(), Some(1), "{cond}");
        let err = text(&out.stderr);
        assert!(
            err.contains("--if") && err.contains(&format!("column {column}:")),
            "{cond}: {err}"
        );
    }
    assert!(d.hook_names().is_empty());
    let out = d.ctl(&[
        "create",
        "out",
        "--url",
        "http://127.0.0.1:9/",
        "--if",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--if"), "{}", text(&out.stderr));
    let t = d.create("ok", &["--run", "true"]);
    let out = d.ctl(&["edit", "ok", "--if", "method == "]);
    assert_eq!(out.status.code(), Some(1));
    // The hook kept working as it was.
    assert_eq!(d.post(&d.path(&t), "{}").status, 200);
}

#[test]
fn conditions_survive_export_apply_and_restart() {
    let mut d = Daemon::start();
    let t = d.create(
        "gated",
        &[
            "--run",
            "echo ok",
            "--raw-output",
            "--if",
            "payload.go == true",
            "--if-mismatch-status",
            "409",
        ],
    );
    let exported = d.ctl(&["export", "gated"]);
    let toml = text(&exported.stdout);
    assert!(toml.contains("if = \"payload.go == true\""), "{toml}");
    assert!(toml.contains("if_mismatch_status = 409"), "{toml}");
    let file = crate::helper::write_file(&d.state_dir(), "hooks.toml", &toml);
    let out = d.json(&["apply", "-f", file.to_str().unwrap()]);
    assert!(out.to_string().contains("unchanged"), "{out}");
    d.stop_with(15);
    d.boot();
    assert_eq!(d.post(&d.path(&t), r#"{"go": false}"#).status, 409);
    assert_eq!(d.post(&d.path(&t), r#"{"go": true}"#).body, "ok\n");
}
