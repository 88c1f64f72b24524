//! Calling hooks over HTTP: answers, shapes, limits, aliases, message hooks.

use crate::helper::Daemon;

#[test]
fn healthz_answers_ok() {
    let d = Daemon::start();
    let r = d.get("/healthz");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.trim(), "ok");
    assert_eq!(d.get("/nothing/here").status, 404);
}

#[test]
fn script_hook_answers_with_its_output_raw_or_json() {
    let d = Daemon::start();
    let raw = d.create(
        "raw",
        &["--run", "echo hello from $HOOKD_HOOK", "--raw-output"],
    );
    let r = d.post(&d.path(&raw), "{}");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "hello from raw\n");
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));

    let js = d.create("js", &["--run", "echo out; echo err >&2"]);
    let r = d.post(&d.path(&js), "{}");
    assert_eq!(r.status, 200);
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "hook",
            "status",
            "exit_code",
            "stdout",
            "stderr",
            "duration_ms"
        ]
    );
    assert_eq!(v["hook"], "js");
    assert_eq!(v["status"], "success");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["stdout"], "out\n");
    assert_eq!(v["stderr"], "err\n");

    let fail = d.create("fail", &["--run", "echo partial; exit 7"]);
    let r = d.get(&d.path(&fail));
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["status"], "failed");
    assert_eq!(r.json()["exit_code"], 7);
    assert_eq!(r.json()["stdout"], "partial\n");
}

#[test]
fn the_three_routes_reach_the_same_hook_and_calls_are_counted() {
    let d = Daemon::start();
    let t = d.create("r", &["--run", "echo x", "--raw-output"]);
    for prefix in ["/webhook/", "/api/webhook/", "/api/webhooks/execute/"] {
        assert_eq!(d.get(&format!("{prefix}{t}")).status, 200, "{prefix}");
    }
    let h = d.json(&["show", "r"]);
    assert_eq!(h["call_count"], 3);
    assert_eq!(h["last_status"], "200");
    assert!(h["last_call_at"].as_str().unwrap().ends_with('Z'));
    let logs = d.json(&["logs", "r", "--direction", "in"]);
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 3);
    for l in logs {
        assert_eq!(l["status"], 200);
        assert!(
            !l["url"].as_str().unwrap().contains(&t[8..]),
            "token must be redacted in logs"
        );
        assert_eq!(l["remote_addr"], "127.0.0.1");
        assert!(l["run_id"].is_string());
    }
}

#[test]
fn methods_are_enforced_with_allow() {
    let d = Daemon::start();
    let t = d.create(
        "m",
        &["--run", "echo x", "--method", "post", "--method", "PUT"],
    );
    let r = d.get(&d.path(&t));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, PUT"));
    assert_eq!(d.request("PUT", &d.path(&t), &[], b"").status, 200);
}

#[test]
fn oversized_bodies_get_413_and_nothing_runs() {
    let d = Daemon::start_with("max_body_bytes = 1000\n");
    let marker = d.dir.path().join("ran");
    let t = d.create("big", &["--run", &format!("touch {}", marker.display())]);
    let body = "x".repeat(5000);
    let r = d.post(&d.path(&t), &body);
    assert_eq!(r.status, 413);
    // Without Content-Length: a chunked body is capped while streaming.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    use std::io::Write;
    let chunk = "y".repeat(4000);
    write!(s, "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n", d.path(&t), chunk.len()).unwrap();
    assert_eq!(crate::helper::read_reply(&mut s).status, 413);
    assert!(!marker.exists());
    assert_eq!(d.post(&d.path(&t), "small").status, 200);
    assert!(marker.exists());
}

#[test]
fn message_hooks_accept_valid_messages_only() {
    let d = Daemon::start();
    let t = d.create("chat", &["--message"]);
    let p = d.path(&t);
    let ok = d.post(&p, r#"{"content": "deploy finished", "username": "ci", "avatar_url": "https://example.com/a.png"}"#);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, "");
    let cases = [
        (r#"{"username": "x"}"#, Some("content")),
        (r#"{"content": ""}"#, Some("content")),
        (
            &format!(r#"{{"content": "{}"}}"#, "a".repeat(4001)),
            Some("content"),
        ),
        (
            &format!(r#"{{"content": "x", "username": "{}"}}"#, "u".repeat(65)),
            Some("username"),
        ),
        (
            r#"{"content": "x", "avatar_url": "not a url"}"#,
            Some("avatar_url"),
        ),
        (r#"{"content": 5}"#, Some("content")),
        ("not json", None),
    ];
    for (body, field) in cases {
        let r = d.post(&p, body);
        assert_eq!(r.status, 422, "{body}");
        let v = r.json();
        assert!(v["error"].is_string());
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{body}");
        }
    }
    let invalid_utf8 = d.request("POST", &p, &[], b"{\"content\": \"\xff\"}");
    assert_eq!(invalid_utf8.status, 422);
    assert_eq!(d.get(&p).status, 405);
    d.ctl(&["disable", "chat"]);
    assert_eq!(d.post(&p, r#"{"content": "x"}"#).status, 404);
}
