//! Incoming verification: signatures per kind, replays, IP allowlists, trusted proxies.

use crate::helper::{Daemon, hex, hmac_sha256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn runs(d: &Daemon, hook: &str) -> usize {
    d.json(&["runs", hook]).as_array().unwrap().len()
}

#[test]
fn github_signature_with_the_documented_test_vector() {
    let d = Daemon::start();
    let t = d.create(
        "gh",
        &[
            "--run",
            "cat",
            "--raw-output",
            "--verify",
            "github",
            "--secret",
            "It's a Secret to Everybody",
        ],
    );
    let p = d.path(&t);
    let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(
        good,
        format!(
            "sha256={}",
            hex(&hmac_sha256(
                b"It's a Secret to Everybody",
                b"Hello, World!"
            ))
        )
    );
    let r = d.request(
        "POST",
        &p,
        &[("X-Hub-Signature-256", good)],
        b"Hello, World!",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "Hello, World!");
    let upper = good.to_uppercase().replace("SHA256=", "sha256=");
    assert_eq!(
        d.request(
            "POST",
            &p,
            &[("X-Hub-Signature-256", &upper)],
            b"Hello, World!"
        )
        .status,
        200
    );
    let bad = d.request(
        "POST",
        &p,
        &[("X-Hub-Signature-256", good)],
        b"Hello, World?",
    );
    assert_eq!(bad.status, 401);
    assert!(
        !bad.body.contains("mismatch"),
        "the reason stays out of the response: {}",
        bad.body
    );
    assert_eq!(d.request("POST", &p, &[], b"Hello, World!").status, 401);
    assert_eq!(
        d.request(
            "POST",
            &p,
            &[("X-Hub-Signature-256", "sha256=zz")],
            b"Hello, World!"
        )
        .status,
        401
    );
    assert_eq!(runs(&d, "gh"), 2, "rejected calls never run");
    let failed = d.json(&["logs", "gh", "--failed"]);
    let errors: Vec<&str> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["error"].as_str().unwrap())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("signature mismatch")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("missing header")),
        "{errors:?}"
    );
    let shown = d.json(&["show", "gh"]);
    assert_eq!(shown["verify"], "github");
    assert!(
        !serde_json::to_string(&shown)
            .unwrap()
            .contains("Secret to Everybody")
    );
}

#[test]
fn gitlab_token() {
    let d = Daemon::start();
    let t = d.create(
        "gl",
        &["--run", "true", "--verify", "gitlab", "--secret", "tok3n"],
    );
    let p = d.path(&t);
    assert_eq!(
        d.request("POST", &p, &[("X-Gitlab-Token", "tok3n")], b"{}")
            .status,
        200
    );
    assert_eq!(
        d.request("POST", &p, &[("X-Gitlab-Token", "tok3")], b"{}")
            .status,
        401
    );
    assert_eq!(
        d.request("POST", &p, &[("X-Gitlab-Token", "tok3nn")], b"{}")
            .status,
        401
    );
    assert_eq!(d.request("POST", &p, &[], b"{}").status, 401);
}

#[test]
fn hmac_sha256_header_with_and_without_prefix() {
    let d = Daemon::start();
    let t = d.create(
        "hm",
        &[
            "--run",
            "true",
            "--verify",
            "hmac-sha256",
            "--secret",
            "k3y",
        ],
    );
    let p = d.path(&t);
    let sig = hex(&hmac_sha256(b"k3y", b"payload"));
    assert_eq!(
        d.request("POST", &p, &[("X-Signature", &sig)], b"payload")
            .status,
        200
    );
    assert_eq!(
        d.request(
            "POST",
            &p,
            &[("X-Signature", &format!("sha256={sig}"))],
            b"payload"
        )
        .status,
        200
    );
    assert_eq!(
        d.request("POST", &p, &[("X-Signature", &sig)], b"payload2")
            .status,
        401
    );
    assert_eq!(d.request("POST", &p, &[], b"payload").status, 401);
}

fn standard_headers(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(body);
    format!("v1,{}", STANDARD.encode(hmac_sha256(key, &signed)))
}

#[test]
fn standard_webhooks_signatures_timestamps_and_multiple_signatures() {
    let d = Daemon::start();
    let key = b"0123456789abcdef0123456789abcdef";
    let secret = format!("whsec_{}", STANDARD.encode(key));
    let t = d.create(
        "std",
        &["--run", "true", "--verify", "standard", "--secret", &secret],
    );
    let p = d.path(&t);
    let body = br#"{"type":"ping"}"#;
    let call = |id: &str, ts: i64, sig: &str| {
        d.request(
            "POST",
            &p,
            &[
                ("webhook-id", id),
                ("webhook-timestamp", &ts.to_string()),
                ("webhook-signature", sig),
            ],
            body,
        )
        .status
    };
    let ts = now();
    assert_eq!(
        call("msg_1", ts, &standard_headers(key, "msg_1", ts, body)),
        200
    );
    let two = format!(
        "v1,AAAA v2,xyz {}",
        standard_headers(key, "msg_2", ts, body)
    );
    assert_eq!(
        call("msg_2", ts, &two),
        200,
        "one good signature among several passes"
    );
    assert_eq!(
        call("msg_3", ts, &standard_headers(key, "msg_other", ts, body)),
        401
    );
    assert_eq!(
        call(
            "msg_4",
            ts - 400,
            &standard_headers(key, "msg_4", ts - 400, body)
        ),
        401,
        "stale"
    );
    assert_eq!(
        call(
            "msg_5",
            ts + 400,
            &standard_headers(key, "msg_5", ts + 400, body)
        ),
        401,
        "future"
    );
    assert_eq!(
        call(
            "msg_6",
            ts - 200,
            &standard_headers(key, "msg_6", ts - 200, body)
        ),
        200,
        "within 5 minutes"
    );
    assert_eq!(
        d.request("POST", &p, &[("webhook-id", "msg_7")], body)
            .status,
        401,
        "missing headers"
    );
    let refused = d.ctl(&[
        "create",
        "bad",
        "--run",
        "true",
        "--verify",
        "standard",
        "--secret",
        "not-whsec",
    ]);
    assert_eq!(refused.status.code(), Some(1));
}

#[test]
fn duplicate_delivery_ids_are_acknowledged_and_not_run_again() {
    let d = Daemon::start();
    let t = d.create(
        "once",
        &["--run", "true", "--verify", "github", "--secret", "s"],
    );
    let p = d.path(&t);
    let sig = format!("sha256={}", hex(&hmac_sha256(b"s", b"{}")));
    let headers = [
        ("X-Hub-Signature-256", sig.as_str()),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ];
    assert_eq!(d.request("POST", &p, &headers, b"{}").status, 200);
    let again = d.request("POST", &p, &headers, b"{}");
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["status"], "duplicate");
    assert_eq!(runs(&d, "once"), 1);
    let logs = d.json(&["logs", "once", "--direction", "in"]);
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["error"].as_str().is_some_and(|e| e.contains("duplicate")))
    );
    let other = [
        ("X-Hub-Signature-256", sig.as_str()),
        ("X-GitHub-Delivery", "another"),
    ];
    assert_eq!(d.request("POST", &p, &other, b"{}").status, 200);
    assert_eq!(runs(&d, "once"), 2);
    // An unsigned replay is a signature failure, not a duplicate.
    assert_eq!(
        d.request("POST", &p, &[("X-GitHub-Delivery", "another")], b"{}")
            .status,
        401
    );
}

#[test]
fn edit_secret_rotates_it() {
    let d = Daemon::start();
    let t = d.create(
        "rot",
        &["--run", "true", "--verify", "gitlab", "--secret", "old"],
    );
    let p = d.path(&t);
    assert_eq!(
        d.request("POST", &p, &[("X-Gitlab-Token", "old")], b"")
            .status,
        200
    );
    d.json(&["edit", "rot", "--secret", "new"]);
    assert_eq!(
        d.request("POST", &p, &[("X-Gitlab-Token", "old")], b"")
            .status,
        401
    );
    assert_eq!(
        d.request("POST", &p, &[("X-Gitlab-Token", "new")], b"")
            .status,
        200
    );
}

#[test]
fn allow_ip_limits_callers() {
    let d = Daemon::start();
    let ok = d.create(
        "local",
        &[
            "--run",
            "true",
            "--allow-ip",
            "127.0.0.0/8",
            "--allow-ip",
            "::1",
        ],
    );
    let deny = d.create(
        "lan",
        &[
            "--run",
            "true",
            "--allow-ip",
            "10.0.0.0/8",
            "--allow-ip",
            "2001:db8::/32",
        ],
    );
    assert_eq!(d.get(&d.path(&ok)).status, 200);
    let r = d.get(&d.path(&deny));
    assert_eq!(r.status, 403);
    // Without trust_proxy, X-Forwarded-For is not believed.
    assert_eq!(
        d.request(
            "GET",
            &d.path(&deny),
            &[("X-Forwarded-For", "10.1.2.3")],
            b""
        )
        .status,
        403
    );
    assert_eq!(runs(&d, "lan"), 0);
}

#[test]
fn trusted_proxies_forward_the_client_address() {
    let d = Daemon::start_with("trust_proxy = [\"127.0.0.1\"]\n");
    let t = d.create(
        "lan",
        &[
            "--run",
            "echo $HOOKD_REMOTE_ADDR",
            "--raw-output",
            "--allow-ip",
            "10.0.0.0/8",
        ],
    );
    let r = d.request(
        "GET",
        &d.path(&t),
        &[("X-Forwarded-For", "203.0.113.9, 10.1.2.3")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "10.1.2.3\n");
    assert_eq!(
        d.request(
            "GET",
            &d.path(&t),
            &[("X-Forwarded-For", "203.0.113.9")],
            b""
        )
        .status,
        403
    );
    assert_eq!(
        d.get(&d.path(&t)).status,
        403,
        "no header: the proxy itself is the caller"
    );
}
