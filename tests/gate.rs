//! The incoming gate: refused calls leave a log line and nothing else; accepted calls carry on;
//! `hookctl test` goes through the same gate and says what it skipped.

use crate::helper::{Daemon, hex, hmac_sha256, receiver::Receiver};
use std::time::Duration;

/// Everything the daemon stored, as bytes, for searching what was kept.
fn stored_bytes(d: &Daemon) -> Vec<u8> {
    d.stored_bytes()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn refused_calls_are_logged_without_their_body_and_forward_nothing() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "watch",
        &["--url", &rx.url("/"), "--event", "webhook.received"],
    );
    let t = d.create(
        "gh",
        &["--run", "true", "--verify", "github", "--secret", "s3cret"],
    );
    let only_local = d.create("lan", &["--run", "true", "--allow-ip", "10.9.9.9"]);
    let forged = r#"{"marker": "FORGED-PAYLOAD-71c3"}"#;
    let r = d.request(
        "POST",
        &d.path(&t),
        &[
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", "sha256=00"),
            ("X-Leaky", "HEADER-MARKER-51d0"),
        ],
        forged.as_bytes(),
    );
    assert_eq!(r.status, 401);
    assert_eq!(d.post(&d.path(&only_local), forged).status, 403);
    assert_eq!(d.get(&d.path(&t)).status, 401);

    // A genuine call afterwards is forwarded: the refused ones before it were not.
    let good = r#"{"marker": "GENUINE"}"#;
    let sig = format!("sha256={}", hex(&hmac_sha256(b"s3cret", good.as_bytes())));
    let ok = d.request(
        "POST",
        &d.path(&t),
        &[
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", &sig),
        ],
        good.as_bytes(),
    );
    assert_eq!(ok.status, 200);
    let got = rx.wait_for(1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        rx.received().len(),
        1,
        "only the accepted call is forwarded"
    );
    assert_eq!(
        got[0].json()["data"]["request"]["body"]["marker"],
        "GENUINE"
    );

    let logs = d.json(&["logs", "gh", "--failed"]);
    let refused = &logs.as_array().unwrap()[0];
    assert_eq!(refused["status"], 401);
    let error = refused["error"].as_str().unwrap();
    assert!(error.contains("verification failed"), "{error}");
    assert!(
        error.contains(&format!("({} body bytes)", forged.len())),
        "{error}"
    );
    let lan = d.json(&["logs", "lan", "--direction", "in"]);
    assert_eq!(lan[0]["status"], 403);

    // Nothing of the refused calls was stored: not the body, not a header.
    let bytes = stored_bytes(&d);
    assert!(
        !contains(&bytes, b"FORGED-PAYLOAD-71c3"),
        "a refused body was stored"
    );
    assert!(
        !contains(&bytes, b"HEADER-MARKER-51d0"),
        "a refused header was stored"
    );
    assert!(contains(&bytes, b"GENUINE"), "the search itself works");
}

#[test]
fn test_goes_through_the_gate_and_names_what_it_skips() {
    let d = Daemon::start();
    d.create(
        "guarded",
        &[
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "gitlab",
            "--secret",
            "x",
            "--allow-ip",
            "10.0.0.0/8",
        ],
    );
    let out = d.ctl(&["--json", "test", "guarded"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["body"], "ran\n");
    let note = v["note"].as_str().unwrap();
    assert!(
        note.contains("IP allowlist") && note.contains("signature"),
        "{note}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("skips"));

    // The method check is not skipped.
    d.create("post-only", &["--run", "true", "--method", "POST"]);
    let out = d.ctl(&["--json", "test", "post-only", "--method", "GET"]);
    assert_eq!(out.status.code(), Some(1), "a refused test call failed");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 405);
    assert!(v.get("note").is_none());
}

#[test]
fn credentials_in_headers_and_query_are_redacted_by_name_unless_kept() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "watch",
        &["--url", &rx.url("/"), "--event", "webhook.received"],
    );
    let t = d.create("in", &["--run", "true", "--keep-header", "X-Auth-User"]);
    let path = format!("{}?api_key=abc123&ref=main&AccessToken=zz", d.path(&t));
    let r = d.request(
        "POST",
        &path,
        &[
            ("Content-Type", "application/json"),
            ("X-Api-Key", "k-991"),
            ("Stripe-Signature", "t=1,v1=ff"),
            ("X-Session-Cookie", "c-1"),
            ("X-Auth-User", "alice"),
            ("X-Event", "push"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 200);
    let got = rx.wait_for(1, Duration::from_secs(10));
    let req = &got[0].json()["data"]["request"];
    for h in ["x-api-key", "stripe-signature", "x-session-cookie"] {
        assert_eq!(req["headers"][h], "[redacted]", "{h}");
    }
    assert_eq!(
        req["headers"]["x-auth-user"], "alice",
        "kept by --keep-header"
    );
    assert_eq!(req["headers"]["x-event"], "push");
    assert_eq!(
        req["query"],
        "api_key=[redacted]&ref=main&AccessToken=[redacted]"
    );
    assert_eq!(d.json(&["show", "in"])["keep_headers"][0], "X-Auth-User");
    let bad = d.ctl(&[
        "create",
        "x",
        "--run",
        "true",
        "--keep-header",
        "bad header",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let out = d.ctl(&["create", "y", "--url", &rx.url("/"), "--keep-header", "X-A"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "outgoing hooks have no incoming headers"
    );
}

#[test]
fn a_test_call_comes_from_loopback_and_names_who_ran_it() {
    let d = Daemon::start();
    d.create(
        "who",
        &[
            "--run",
            "echo \"$HOOKD_REMOTE_ADDR $HOOKD_TEST_UID\"",
            "--raw-output",
        ],
    );
    let v = d.json(&["test", "who"]);
    let uid = nix::unistd::getuid().as_raw();
    assert_eq!(v["body"], format!("127.0.0.1 {uid}\n"));
    // An HTTP caller has no HOOKD_TEST_UID.
    let t = d.json(&["regenerate", "who", "--yes"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d.post(&d.path(&t), "").body, "127.0.0.1 \n");
}
