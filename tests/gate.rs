//! The incoming gate: refused calls leave a log line and nothing else; accepted calls carry on;
//! `hookctl test` goes through the same gate and says what it skipped.

use crate::helper::{Daemon, hex, hmac_sha256, receiver::Receiver, text};
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

/// Headers and a query whose names mark credentials (`secret`, `password`), with values to
/// search for.
const CREDENTIAL_HEADERS: [(&str, &str); 3] = [
    ("X-Webhook-Secret", "HDR-SECRET-2e8f"),
    ("X-User-Password", "HDR-PASSWORD-a41c"),
    ("X-Leaky", "HEADER-MARKER-51d0"),
];
const CREDENTIAL_QUERY: &str = "client_secret=Q-SECRET-77b1&password=Q-PASSWORD-0c9d&ref=main";

/// Asserts that none of `needles` is in `hookctl logs` (table and JSON) or the daemon log.
fn assert_not_logged(d: &Daemon, needles: &[&str]) {
    let table = d.ctl(&["logs", "-n", "1000"]).stdout;
    let json = d.ctl(&["--json", "logs", "-n", "1000"]).stdout;
    let daemon_log = d.log();
    for n in needles {
        assert!(!contains(&table, n.as_bytes()), "{n} is in `hookctl logs`");
        assert!(
            !contains(&json, n.as_bytes()),
            "{n} is in `hookctl --json logs`"
        );
        assert!(!daemon_log.contains(n), "{n} is in the daemon log");
    }
}

#[test]
fn calls_refused_for_method_rate_size_or_time_keep_nothing_of_their_body() {
    use std::io::Write;
    let d = Daemon::start_with("max_body_bytes = 4096\nbody_timeout = \"1s\"\n");
    let rx = Receiver::start(&[200]);
    d.create(
        "watch",
        &["--url", &rx.url("/"), "--event", "webhook.received"],
    );
    let post_only = d.create("post-only", &["--run", "true", "--method", "POST"]);
    let limited = d.create("limited", &["--run", "true", "--rate-limit", "1/m"]);
    let small = d.create("small", &["--run", "true"]);
    let slow = d.create("slow", &["--run", "true"]);
    let body = |marker: &str| format!(r#"{{"marker": "{marker}"}}"#);
    let headers: Vec<(&str, &str)> = CREDENTIAL_HEADERS.to_vec();
    let with_query = |t: &str| format!("{}?{CREDENTIAL_QUERY}", d.path(t));

    let r = d.request(
        "GET",
        &with_query(&post_only),
        &headers,
        body("REFUSED-405-c1").as_bytes(),
    );
    assert_eq!(r.status, 405);
    assert_eq!(
        d.request(
            "POST",
            &d.path(&limited),
            &[],
            body("ACCEPTED-1").as_bytes()
        )
        .status,
        200
    );
    let r = d.request(
        "POST",
        &with_query(&limited),
        &headers,
        body("REFUSED-429-d2").as_bytes(),
    );
    assert_eq!(r.status, 429);
    let big = format!("{}{}", body("REFUSED-413-e3"), " ".repeat(5000));
    let r = d.request("POST", &with_query(&small), &headers, big.as_bytes());
    assert_eq!(r.status, 413);
    // Chunked, without a Content-Length: refused while streaming, after part of it was read.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    let chunk = format!("{}{}", body("REFUSED-413-CHUNKED-f4"), " ".repeat(3000));
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Webhook-Secret: HDR-SECRET-2e8f\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        with_query(&small),
        chunk.len(),
        chunk.len()
    )
    .unwrap();
    assert_eq!(crate::helper::read_reply(&mut s).status, 413);
    // Part of a body, then nothing: 408 at the deadline.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    let part = body("REFUSED-408-a5");
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: x\r\nX-User-Password: HDR-PASSWORD-a41c\r\n\
         Content-Length: 1000\r\n\r\n{part}",
        with_query(&slow)
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert_eq!(crate::helper::read_reply(&mut s).status, 408);

    // Each refusal is logged with its status and nothing of its body or headers.
    for (hook, status) in [
        ("post-only", 405),
        ("limited", 429),
        ("small", 413),
        ("slow", 408),
    ] {
        let logs = d.json(&["logs", hook, "--failed"]);
        assert_eq!(logs[0]["status"], status, "{hook}: {logs:#}");
        assert!(d.json(&["runs", hook]).as_array().unwrap().len() <= 1);
    }
    std::thread::sleep(Duration::from_millis(300));
    let got = rx.received();
    assert_eq!(got.len(), 1, "only the accepted call is forwarded");
    assert_eq!(
        got[0].json()["data"]["request"]["body"]["marker"],
        "ACCEPTED-1"
    );
    let mut needles = vec![
        "REFUSED-405-c1",
        "REFUSED-429-d2",
        "REFUSED-413-e3",
        "REFUSED-413-CHUNKED-f4",
        "REFUSED-408-a5",
        "Q-SECRET-77b1",
        "Q-PASSWORD-0c9d",
    ];
    needles.extend(CREDENTIAL_HEADERS.iter().map(|(_, v)| *v));
    assert_not_logged(&d, &needles);
    let stored = stored_bytes(&d);
    for n in &needles {
        assert!(!contains(&stored, n.as_bytes()), "{n} was stored");
    }
    assert!(
        contains(&stored_bytes(&d), b"ACCEPTED-1"),
        "the search itself works"
    );
}

#[test]
fn credentials_of_an_accepted_call_are_redacted_in_events_logs_and_the_daemon_log() {
    // The fixture runs hookd with HOOKD_LOG=debug: the most it ever logs.
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "watch",
        &["--url", &rx.url("/"), "--event", "webhook.received"],
    );
    let t = d.create("in", &["--run", "true"]);
    let r = d.request(
        "POST",
        &format!("{}?{CREDENTIAL_QUERY}", d.path(&t)),
        &[
            ("Content-Type", "application/json"),
            CREDENTIAL_HEADERS[0],
            CREDENTIAL_HEADERS[1],
        ],
        br#"{"marker": "ACCEPTED-2"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let got = rx.wait_for(1, Duration::from_secs(10));
    let req = &got[0].json()["data"]["request"];
    assert_eq!(req["headers"]["x-webhook-secret"], "[redacted]");
    assert_eq!(req["headers"]["x-user-password"], "[redacted]");
    assert_eq!(
        req["query"],
        "client_secret=[redacted]&password=[redacted]&ref=main"
    );
    assert_eq!(req["body"]["marker"], "ACCEPTED-2");
    let logs = text(&d.ctl(&["logs", "in"]).stdout);
    assert!(logs.contains("200"), "{logs}");
    // (The run keeps its request as received, for `hookctl runs rerun`: not checked here.)
    assert_not_logged(
        &d,
        &[
            "HDR-SECRET-2e8f",
            "HDR-PASSWORD-a41c",
            "Q-SECRET-77b1",
            "Q-PASSWORD-0c9d",
        ],
    );
}
