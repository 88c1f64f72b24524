//! Outgoing deliveries to a real local receiver: signatures, retries, alarms, durability.

use crate::helper::hmac_sha256;
use crate::helper::receiver::Receiver;
use crate::helper::{Daemon, free_port, wait_until};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;

const FAST_RETRIES: &str = "[deliveries]\nretry_schedule = [\"200ms\", \"200ms\", \"200ms\"]\n";

/// Verifies a Standard Webhooks request the way the specification describes it.
fn standard_webhooks_valid(secret: &str, r: &crate::helper::receiver::Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let id = r.header("webhook-id").unwrap();
    let ts = r.header("webhook-timestamp").unwrap();
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &signed)));
    r.header("webhook-signature")
        .unwrap()
        .split(' ')
        .any(|s| s == expected)
}

#[test]
fn hmac_reference_matches_rfc_4231() {
    // RFC 4231 test case 2.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn deliveries_are_signed_per_standard_webhooks() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let created = d.json(&[
        "create",
        "signed",
        "--url",
        &rx.url("/hook"),
        "--generate-secret",
        "--event",
        "message.received",
    ]);
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert!(
        !d.ctl(&["--json", "show", "signed"])
            .stdout
            .windows(10)
            .any(|w| w == &secret.as_bytes()[6..16]),
        "show never prints the secret"
    );
    let chat = d.create("chat", &["--message"]);
    assert_eq!(
        d.post(
            &d.path(&chat),
            r#"{"content": "hello \"world\"", "username": "ci"}"#
        )
        .status,
        200
    );
    let got = rx.wait_for(1, Duration::from_secs(10));
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hook");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("user-agent").unwrap().starts_with("hookd/"));
    assert!(
        standard_webhooks_valid(&secret, r),
        "signature does not verify: {:?}",
        r.headers
    );
    let body = r.json();
    assert_eq!(body["type"], "message.received");
    assert_eq!(body["id"], r.header("webhook-id").unwrap());
    assert_eq!(body["data"]["content"], "hello \"world\"");
    assert_eq!(body["message"], "ci: hello \"world\"");
    let mut tampered = r.clone();
    tampered.body.push(b' ');
    assert!(!standard_webhooks_valid(&secret, &tampered));
}

#[test]
fn failed_attempts_are_retried_with_the_same_webhook_id() {
    let d = Daemon::start_with(FAST_RETRIES);
    let rx = Receiver::start(&[500, 503, 200]);
    d.create("flaky", &["--url", &rx.url("/x"), "--event", "test"]);
    // `test` bypasses retries; drive a real event instead through a message hook.
    d.json(&["edit", "flaky", "--event", "message.received"]);
    let chat = d.create("chat", &["--message"]);
    assert_eq!(d.post(&d.path(&chat), r#"{"content": "x"}"#).status, 200);
    let got = rx.wait_for(3, Duration::from_secs(20));
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    wait_until("the delivery to succeed", Duration::from_secs(10), || {
        d.json(&["deliveries", "flaky"])[0]["status"] == "succeeded"
    });
    let delivery = &d.json(&["deliveries", "flaky"])[0];
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["event_id"], ids[0]);
    let out = d.json(&["logs", "flaky", "--direction", "out"]);
    let statuses: Vec<u64> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 200]);
    let attempts: Vec<u64> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
}

#[test]
fn exhausted_retries_raise_delivery_failed_to_alarm_hooks() {
    let d = Daemon::start_with("[deliveries]\nretry_schedule = [\"100ms\"]\n");
    let down = Receiver::start(&[500]);
    let alarms = Receiver::start(&[200]);
    d.create(
        "down",
        &["--url", &down.url("/"), "--event", "message.received"],
    );
    d.create(
        "pager",
        &[
            "--url",
            &alarms.url("/alarm"),
            "--type",
            "alarms",
            "--format",
            "slack",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    d.post(&d.path(&chat), r#"{"content": "x"}"#);
    let got = alarms.wait_for(1, Duration::from_secs(20));
    let body = got[0].json();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("to down failed after 2 attempts"),
        "{body}"
    );
    assert_eq!(
        d.json(&["deliveries", "down", "--status", "failed"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn gone_410_disables_the_hook_and_alarms_another_but_not_itself() {
    let d = Daemon::start();
    let gone = Receiver::start(&[410]);
    let alarms = Receiver::start(&[200]);
    d.create("gone", &["--url", &gone.url("/"), "--event", "*"]);
    d.create("pager", &["--url", &alarms.url("/"), "--type", "alarms"]);
    d.ctl(&["test", "gone"]);
    wait_until("the hook to be disabled", Duration::from_secs(10), || {
        d.json(&["show", "gone"])["enabled"] == false
    });
    let got = alarms.wait_for(1, Duration::from_secs(10));
    let body = got[0].json();
    assert_eq!(body["type"], "endpoint.disabled");
    assert_eq!(body["data"]["hook"], "gone");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        gone.received().len(),
        1,
        "a disabled endpoint never gets its own alarm"
    );
}

#[test]
fn hookctl_test_reports_the_receivers_answer() {
    let d = Daemon::start();
    let ok = Receiver::start(&[200]);
    let bad = Receiver::start(&[502]);
    d.create(
        "ok",
        &[
            "--url",
            &ok.url("/"),
            "--header",
            "X-Team: ops",
            "--bearer",
            "s3cret",
        ],
    );
    d.create("bad", &["--url", &bad.url("/")]);
    let v = d.json(&["test", "ok"]);
    assert_eq!(v["status"], 200);
    assert_eq!(v["body"], "received");
    assert!(v["duration_ms"].is_u64());
    let r = &ok.received()[0];
    assert_eq!(r.json()["type"], "test");
    assert_eq!(r.header("x-team"), Some("ops"));
    assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
    let out = d.ctl(&["test", "bad"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("HTTP 502"));
    let closed = crate::helper::free_port();
    d.create("nobody", &["--url", &format!("http://127.0.0.1:{closed}/")]);
    assert_eq!(d.ctl(&["test", "nobody"]).status.code(), Some(1));
}

#[test]
fn a_delivery_whose_stored_event_is_unreadable_fails_visibly() {
    let mut d = Daemon::start();
    // The receiver is down, so the delivery stays pending while hookd is stopped.
    let port = free_port();
    d.create(
        "out",
        &[
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--event",
            "message.received",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    assert_eq!(d.post(&d.path(&chat), r#"{"content": "x"}"#).status, 200);
    d.stop_with(15);
    d.sql(
        "UPDATE events SET data = '{not json';
         UPDATE deliveries SET status = 'pending', next_attempt_at = 0;",
    );
    d.boot();
    let mut last = serde_json::Value::Null;
    wait_until("the delivery to fail", Duration::from_secs(20), || {
        last = d.json(&["deliveries", "out"]);
        last[0]["status"] == "failed"
    });
    let error = last[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("corrupt"), "{last}");
    assert!(
        d.log().contains("cannot send a claimed delivery"),
        "{}",
        d.log()
    );
}

#[test]
fn a_delivery_queued_before_kill_9_is_delivered_after_restart() {
    let mut d = Daemon::start_with(
        "[deliveries]\nretry_schedule = [\"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\"]\n",
    );
    // A port for a receiver that is not up yet.
    let port = free_port();
    d.create(
        "later",
        &[
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--event",
            "message.received",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    for i in 0..3 {
        assert_eq!(
            d.post(&d.path(&chat), &format!(r#"{{"content": "m{i}"}}"#))
                .status,
            200
        );
    }
    d.stop_with(9);
    let rx = Receiver::start_on(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        &[200],
    );
    d.boot();
    let got = rx.wait_for(3, Duration::from_secs(30));
    let mut contents: Vec<String> = got
        .iter()
        .map(|r| r.json()["data"]["content"].as_str().unwrap().to_string())
        .collect();
    contents.sort();
    contents.dedup();
    assert_eq!(contents, ["m0", "m1", "m2"]);
}

#[test]
fn slack_discord_and_default_formats() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "slack",
        &[
            "--url",
            &rx.url("/slack"),
            "--format",
            "slack",
            "--event",
            "script.completed",
        ],
    );
    d.create(
        "discord",
        &[
            "--url",
            &rx.url("/discord"),
            "--format",
            "discord",
            "--event",
            "script.completed",
            "--language",
            "zh",
        ],
    );
    d.create(
        "plain",
        &["--url", &rx.url("/plain"), "--event", "script.*"],
    );
    let t = d.create("deploy", &["--run", "echo deployed"]);
    d.get(&d.path(&t));
    let got = rx.wait_for(4, Duration::from_secs(10));
    let by = |p: &str| {
        got.iter()
            .filter(|r| r.path == p)
            .map(|r| r.json())
            .collect::<Vec<_>>()
    };
    assert!(
        by("/slack")[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Script deploy completed in")
    );
    assert!(
        by("/discord")[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("脚本 deploy 运行成功")
    );
    let plain = by("/plain");
    let types: Vec<&str> = plain.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert!(
        types.contains(&"script.started") && types.contains(&"script.completed"),
        "{types:?}"
    );
    let completed = plain
        .iter()
        .find(|b| b["type"] == "script.completed")
        .unwrap();
    for k in ["id", "type", "timestamp", "message", "data"] {
        assert!(completed.get(k).is_some(), "{k}");
    }
    assert_eq!(completed["data"]["stdout"], "deployed\n");
}

#[test]
fn webhook_received_filters_by_hook_method_and_path() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "only-b-post",
        &[
            "--url",
            &rx.url("/f"),
            "--event",
            "webhook.received",
            "--match-hook",
            "b",
            "--match-method",
            "POST",
        ],
    );
    let a = d.create("a", &["--run", "true"]);
    let b = d.create("b", &["--run", "true"]);
    d.post(&d.path(&a), "{}");
    d.get(&d.path(&b));
    d.post(&d.path(&b), r#"{"ref": "main"}"#);
    let got = rx.wait_for(1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rx.received().len(), 1);
    let body = got[0].json();
    assert_eq!(body["data"]["hook"], "b");
    assert_eq!(body["data"]["request"]["method"], "POST");
    assert_eq!(body["data"]["request"]["body"]["ref"], "main");
    assert!(
        !body["data"]["request"]["path"]
            .as_str()
            .unwrap()
            .contains(&b[8..]),
        "token redacted in event data"
    );
    assert_eq!(body["data"]["response"]["status"], 200);
}

#[test]
fn redeliver_sends_again_with_the_same_ids() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create("r", &["--url", &rx.url("/"), "--event", "message.received"]);
    let chat = d.create("chat", &["--message"]);
    d.post(&d.path(&chat), r#"{"content": "x"}"#);
    rx.wait_for(1, Duration::from_secs(10));
    let id = d.json(&["deliveries", "r"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("succeeded", Duration::from_secs(10), || {
        d.json(&["deliveries", "r"])[0]["status"] == "succeeded"
    });
    assert!(d.ctl(&["redeliver", &id]).status.success());
    let got = rx.wait_for(2, Duration::from_secs(10));
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(d.ctl(&["redeliver", "99999"]).status.code(), Some(1));
}

#[test]
fn private_targets_are_refused_when_blocked_and_the_refusal_is_logged() {
    let d = Daemon::start_with("[deliveries]\nblock_private_targets = true\nretry_schedule = []\n");
    let rx = Receiver::start(&[200]);
    d.create("literal", &["--url", &rx.url("/")]);
    d.create(
        "named",
        &["--url", &format!("http://localhost:{}/", rx.port)],
    );
    for hook in ["literal", "named"] {
        let out = d.ctl(&["test", hook]);
        assert_eq!(out.status.code(), Some(1), "{hook}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(err.contains("private or reserved"), "{hook}: {err}");
    }
    assert!(
        rx.received().is_empty(),
        "nothing reached the private receiver"
    );
    let logs = d.json(&["logs", "--direction", "out"]);
    assert_eq!(logs.as_array().unwrap().len(), 2);
    for l in logs.as_array().unwrap() {
        assert!(
            l["error"].as_str().unwrap().contains("private or reserved"),
            "{l}"
        );
    }
}

#[test]
fn templates_render_valid_json_whatever_the_values_hold() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let template = r#"{
  "title": "${hook_name}: ${status == 'success' ? 'deployed' : 'FAILED'}",
  "text": "${message}",
  "output": "${output}",
  "raw_output": ${output},
  "exit": ${exit_code},
  "workflow": "${workflow_name}",
  "path": ${project_path},
  "data": ${data}
}"#;
    let tpl = crate::helper::write_file(d.dir.path(), "t.json", template);
    d.create(
        "tpl",
        &[
            "--url",
            &rx.url("/t"),
            "--event",
            "script.completed",
            "--template",
            tpl.to_str().unwrap(),
        ],
    );
    assert_eq!(d.json(&["show", "tpl"])["format"], "template");
    let nasty = r#"printf '%s\n' 'quote " backslash \ tab	end' "brace } \${x} \$(id)" 'ünïcödé ✓'"#;
    let t = d.create("deploy", &["--run", nasty, "--cwd", "/tmp"]);
    assert_eq!(d.get(&d.path(&t)).status, 200);
    let got = rx.wait_for(1, Duration::from_secs(10));
    let body = got[0].json();
    let expected_out = "quote \" backslash \\ tab\tend\nbrace } ${x} $(id)\nünïcödé ✓\n";
    assert_eq!(body["title"], "deploy: deployed");
    assert_eq!(body["output"], expected_out);
    assert_eq!(body["raw_output"], expected_out);
    assert_eq!(body["exit"], 0);
    assert_eq!(body["workflow"], "deploy");
    assert_eq!(body["path"], "/tmp");
    assert_eq!(body["data"]["stdout"], expected_out);
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Script deploy completed")
    );
}

#[test]
fn broken_templates_are_refused_with_their_position() {
    let d = Daemon::start();
    let cases = [
        ("unterminated.json", "{\n  \"a\": ${message\n}", "line 2"),
        ("unknown.json", "{\"a\": \"${mesage}\"}", "mesage"),
        ("not-json.json", "{\"a\": ${message} ${message}}", "JSON"),
    ];
    for (file, text, expect) in cases {
        let f = crate::helper::write_file(d.dir.path(), file, text);
        let out = d.ctl(&[
            "create",
            "t",
            "--url",
            "https://example.com/",
            "--template",
            f.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            err.contains("--template") && err.contains(expect) && err.contains("column"),
            "{file}: {err}"
        );
    }
    assert_eq!(d.json(&["list"]).as_array().unwrap().len(), 0);
}

#[test]
fn an_endpoint_failing_for_disable_after_is_disabled_with_an_alarm() {
    let d = Daemon::start_with(
        "[deliveries]\nretry_schedule = [\"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"]\ndisable_after = \"500ms\"\n",
    );
    let down = Receiver::start(&[503]);
    let pager = Receiver::start(&[200]);
    d.create(
        "flaky",
        &["--url", &down.url("/"), "--event", "message.received"],
    );
    d.create("pager", &["--url", &pager.url("/"), "--type", "alarms"]);
    let chat = d.create("chat", &["--message"]);
    d.post(&d.path(&chat), r#"{"content": "x"}"#);
    wait_until(
        "the failing hook to be disabled",
        Duration::from_secs(20),
        || d.json(&["show", "flaky"])["enabled"] == false,
    );
    let alarm = pager.wait_for(1, Duration::from_secs(10))[0].json();
    assert_eq!(alarm["type"], "endpoint.disabled");
    assert!(
        alarm["data"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("failing for"),
        "{alarm}"
    );
}

#[test]
fn include_secret_puts_the_secret_in_the_payload() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let secret = format!("whsec_{}", STANDARD.encode(b"0123456789abcdef"));
    d.create(
        "with",
        &[
            "--url",
            &rx.url("/"),
            "--secret",
            &secret,
            "--include-secret",
        ],
    );
    d.json(&["test", "with"]);
    let r = &rx.received()[0];
    assert_eq!(r.json()["secret"], secret.as_str());
    assert!(standard_webhooks_valid(&secret, r));
}
