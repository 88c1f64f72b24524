//! Every sender of `--verify` (Stripe, Shopify, Slack, Gitea, Bitbucket, Discord, the generic
//! HMAC forms, basic auth), called the way that sender calls: signed by the sender's own library
//! where one installs from the registries (tests/fixtures/sign_as_sender.py), else as its
//! documentation describes. For each: a valid call runs, a tampered body and a wrong secret get
//! 401, a stale timestamp gets 401 where the sender sends one, and a replayed delivery id is
//! answered 200 without a second run where the sender sends one.

use crate::helper::{Daemon, text};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn runs(d: &Daemon, hook: &str) -> usize {
    d.json(&["runs", hook]).as_array().unwrap().len()
}

/// What a sender attaches: headers, and for Discord the public key to configure.
struct Signed {
    headers: Vec<(String, String)>,
    public_key: Option<String>,
}

/// Signs `req` as `req.kind` does. `None` (after saying why) only when the sender's library or
/// Python itself is not installed.
fn sign(req: Value) -> Option<Signed> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sign_as_sender.py"
    );
    let child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        crate::helper::tools::skip(&format!(
            "python3 is not installed, so {} cannot be signed",
            req["kind"]
        ));
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => {}
        Some(3) => {
            crate::helper::tools::skip(&format!("{}: {}", req["kind"], text(&out.stderr).trim()));
            return None;
        }
        _ => panic!("the signer failed for {req}: {}", text(&out.stderr)),
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let headers = v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    Some(Signed {
        headers,
        public_key: v["public_key"].as_str().map(str::to_string),
    })
}

/// One sender's conventions, as far as the test needs them.
struct Sender<'a> {
    kind: &'a str,
    secret: &'a str,
    /// More `create` options (`--signature-header`).
    extra: &'a [&'a str],
    /// The signed-header name the generic HMAC kinds use.
    header: &'a str,
    body: &'a str,
    timestamped: bool,
    /// The header carrying the delivery id, when the sender sends one.
    delivery_header: Option<&'a str>,
    /// Stripe: the delivery id is the event's `id` in the body.
    id_in_body: bool,
}

impl Sender<'_> {
    fn sign(&self, secret: &str, body: &str, ts: i64) -> Option<Signed> {
        sign(
            json!({"kind": self.kind, "secret": secret, "body": body, "timestamp": ts,
                    "header": self.header}),
        )
    }
}

fn call(
    d: &Daemon,
    path: &str,
    signed: &Signed,
    delivery: Option<(&str, &str)>,
    body: &str,
) -> crate::helper::Reply {
    let mut headers: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.extend(delivery);
    headers.push(("Content-Type", "application/json"));
    d.request("POST", path, &headers, body.as_bytes())
}

/// The checks of the module comment for one sender.
fn exercise(s: Sender<'_>) {
    let ts = now();
    let Some(good) = s.sign(s.secret, s.body, ts) else {
        return;
    };
    let d = Daemon::start();
    let mut args = vec![
        "--run",
        "cat >/dev/null; echo ran",
        "--raw-output",
        "--verify",
        s.kind,
    ];
    args.extend(["--secret", s.secret]);
    args.extend_from_slice(s.extra);
    let p = d.path(&d.create(s.kind, &args));
    let id = |n: &'static str| s.delivery_header.map(|h| (h, n));

    let ok = call(&d, &p, &good, id("delivery-1"), s.body);
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (200, "ran\n"),
        "{}: a valid call runs",
        s.kind
    );
    assert_eq!(runs(&d, s.kind), 1);

    let tampered = format!("{} ", s.body);
    let r = call(&d, &p, &good, id("delivery-2"), &tampered);
    assert_eq!(r.status, 401, "{}: tampered body", s.kind);

    let wrong = s.sign(&format!("{}-not", s.secret), s.body, ts).unwrap();
    let r = call(&d, &p, &wrong, id("delivery-3"), s.body);
    assert_eq!(r.status, 401, "{}: wrong secret", s.kind);

    if s.timestamped {
        let stale = s.sign(s.secret, s.body, ts - 400).unwrap();
        let r = call(&d, &p, &stale, id("delivery-4"), s.body);
        assert_eq!(r.status, 401, "{}: stale timestamp", s.kind);
    }
    assert_eq!(runs(&d, s.kind), 1, "{}: refused calls never run", s.kind);

    if s.delivery_header.is_some() || s.id_in_body {
        let again = call(&d, &p, &good, id("delivery-1"), s.body);
        assert_eq!(again.status, 200, "{}: a replay is acknowledged", s.kind);
        assert_eq!(again.json()["status"], "duplicate", "{}", s.kind);
        assert_eq!(
            runs(&d, s.kind),
            1,
            "{}: a replay does not run again",
            s.kind
        );
        // A new delivery still runs.
        let (next_body, next) = if s.id_in_body {
            let b = s.body.replace("evt_1", "evt_2");
            let signed = s.sign(s.secret, &b, ts).unwrap();
            (b, signed)
        } else {
            (s.body.to_string(), good)
        };
        let r = call(&d, &p, &next, id("delivery-5"), &next_body);
        assert_eq!(r.status, 200, "{}: a new delivery runs", s.kind);
        assert_eq!(runs(&d, s.kind), 2, "{}", s.kind);
    }
    let shown = d.json(&["show", s.kind]);
    assert_eq!(shown["verify"], s.kind);
    assert!(
        !shown.to_string().contains(s.secret),
        "the secret is never shown"
    );
}

fn sender<'a>(kind: &'a str, body: &'a str) -> Sender<'a> {
    Sender {
        kind,
        secret: "sender-test-secret-1",
        extra: &[],
        header: "X-Signature",
        body,
        timestamped: false,
        delivery_header: None,
        id_in_body: false,
    }
}

#[test]
fn stripe_signed_with_the_stripe_library() {
    exercise(Sender {
        secret: "whsec_test_2f6b1c0e5a",
        timestamped: true,
        id_in_body: true,
        ..sender(
            "stripe",
            r#"{"id":"evt_1","object":"event","type":"charge.succeeded"}"#,
        )
    });
}

#[test]
fn slack_signed_and_checked_by_slack_sdk() {
    exercise(Sender {
        timestamped: true,
        ..sender("slack", "token=x&team_id=T1&command=%2Fdeploy&text=now")
    });
}

#[test]
fn shopify_base64_hmac() {
    exercise(Sender {
        delivery_header: Some("X-Shopify-Webhook-Id"),
        ..sender(
            "shopify",
            r#"{"id":820982911946154508,"email":"jon@example.com"}"#,
        )
    });
}

#[test]
fn gitea_hex_hmac() {
    exercise(Sender {
        delivery_header: Some("X-Gitea-Delivery"),
        ..sender(
            "gitea",
            r#"{"ref":"refs/heads/main","after":"bffeb74224043ba2feb48d137756c8a9331c449a"}"#,
        )
    });
}

#[test]
fn bitbucket_x_hub_signature() {
    exercise(Sender {
        delivery_header: Some("X-Request-UUID"),
        ..sender(
            "bitbucket",
            r#"{"push":{"changes":[]},"repository":{"full_name":"team/repo"}}"#,
        )
    });
}

#[test]
fn generic_hmac_kinds_with_their_signature_headers() {
    exercise(Sender {
        extra: &["--signature-header", "X-Hub-Signature"],
        header: "X-Hub-Signature",
        ..sender("hmac-sha1", r#"{"action":"opened"}"#)
    });
    exercise(sender("hmac-sha256", r#"{"action":"closed"}"#));
    exercise(Sender {
        extra: &["--signature-header", "X-Payload-Signature"],
        header: "X-Payload-Signature",
        ..sender("hmac-sha512", r#"{"action":"merged"}"#)
    });
}

#[test]
fn discord_ed25519_signed_with_pynacl_and_its_ping_answered() {
    let seed = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
    let body = r#"{"type":2,"id":"1","data":{"name":"deploy"}}"#;
    let ts = now();
    let discord = |seed: &str, body: &str, ts: i64| {
        sign(json!({"kind": "discord", "seed": seed, "body": body, "timestamp": ts}))
    };
    let Some(good) = discord(seed, body, ts) else {
        return;
    };
    let key = good.public_key.clone().unwrap();
    let d = Daemon::start();
    let args = [
        "--run",
        "cat >/dev/null; echo ran",
        "--raw-output",
        "--verify",
        "discord",
    ];
    let p = d.path(&d.create("dc", &[&args[..], &["--public-key", &key]].concat()));
    let ok = call(&d, &p, &good, None, body);
    assert_eq!((ok.status, ok.body.as_str()), (200, "ran\n"));
    assert_eq!(
        call(&d, &p, &good, None, &format!("{body} ")).status,
        401,
        "tampered"
    );
    let other_seed = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7";
    let wrong = discord(other_seed, body, ts).unwrap();
    assert_eq!(call(&d, &p, &wrong, None, body).status, 401, "another key");
    let stale = discord(seed, body, ts - 400).unwrap();
    assert_eq!(call(&d, &p, &stale, None, body).status, 401, "stale");
    assert_eq!(runs(&d, "dc"), 1);

    let ping_body = r#"{"type":1,"id":"2","application_id":"3"}"#;
    let ping = discord(seed, ping_body, ts).unwrap();
    let r = call(&d, &p, &ping, None, ping_body);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"type": 1}));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(runs(&d, "dc"), 1, "a PING runs nothing");
    // An unsigned PING is refused like any other call.
    let r = d.request("POST", &p, &[], ping_body.as_bytes());
    assert_eq!(r.status, 401);
    assert_eq!(d.json(&["show", "dc"])["public_key"], key);
}

#[test]
fn basic_auth_with_the_rfc_7617_example_is_stored_hashed() {
    let d = Daemon::start();
    let t = d.create(
        "ba",
        &[
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "basic",
            "--basic-auth",
            "Aladdin:open sesame",
        ],
    );
    let p = d.path(&t);
    // RFC 7617's example credentials, as any HTTP client sends them.
    let good = [("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")];
    let r = d.request("POST", &p, &good, b"{}");
    assert_eq!((r.status, r.body.as_str()), (200, "ran\n"));
    assert_eq!(
        d.request("POST", &p, &good, b"{}").status,
        200,
        "again, from memory"
    );
    let wrong = [("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZSE=")];
    assert_eq!(
        d.request("POST", &p, &wrong, b"{}").status,
        401,
        "wrong password"
    );
    // A wrong user, like a wrong password, costs a KDF; the unit tests cover it.
    assert_eq!(
        d.request("POST", &p, &[], b"{}").status,
        401,
        "no credentials"
    );
    assert_eq!(runs(&d, "ba"), 2);

    let shown = d.json(&["show", "ba"]);
    assert_eq!(shown["auth"], "basic");
    assert!(!shown.to_string().contains("sesame"));
    let exported = text(&d.ctl(&["export", "ba", "--include-secrets"]).stdout);
    assert!(
        exported.contains("Aladdin:$pbkdf2-sha256$i=600000,l=32$"),
        "{exported}"
    );
    assert!(!exported.contains("sesame"));
    assert!(!text(&d.ctl(&["export", "ba"]).stdout).contains("Aladdin"));
    // Nothing on disk holds the password.
    let stored = d.stored_bytes();
    assert!(!stored.windows(11).any(|w| w == b"open sesame"));
    // Applying the exported file, or a file with the plain password, changes nothing.
    let file = crate::helper::write_file(d.dir.path(), "hooks.toml", &exported);
    let out = d.json(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(out["changes"][0]["action"], "unchanged", "{out}");
    let plain: String = exported
        .lines()
        .map(|l| match l.starts_with("basic_auth") {
            true => "basic_auth = \"Aladdin:open sesame\"".to_string(),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(plain.contains("\"Aladdin:open sesame\""), "{plain}");
    let file = crate::helper::write_file(d.dir.path(), "plain.toml", &plain);
    let out = d.json(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(out["changes"][0]["action"], "unchanged", "{out}");
    // A new password takes over at once.
    d.json(&["edit", "ba", "--basic-auth", "Aladdin:new sesame"]);
    let new = [("Authorization", "Basic QWxhZGRpbjpuZXcgc2VzYW1l")];
    assert_eq!(d.request("POST", &p, &new, b"{}").status, 200);
    assert_eq!(
        d.request("POST", &p, &good, b"{}").status,
        401,
        "the old one is gone"
    );
}

#[test]
fn sender_options_are_checked_at_create_and_edit() {
    let d = Daemon::start();
    let refused = |args: &[&str], names: &str| {
        let mut all = vec!["create", "x", "--run", "true"];
        all.extend_from_slice(args);
        let out = d.ctl(&all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(names), "{args:?}: {err}");
    };
    refused(&["--verify", "discord"], "--public-key");
    refused(
        &["--verify", "discord", "--public-key", "abcd"],
        "--public-key",
    );
    refused(&["--verify", "basic"], "--basic-auth");
    refused(
        &["--verify", "basic", "--basic-auth", "nocolon"],
        "--basic-auth",
    );
    refused(&["--verify", "stripe"], "--secret");
    refused(
        &["--verify", "stripe", "--secret", "sk_live_123"],
        "API key",
    );
    refused(
        &[
            "--verify",
            "github",
            "--secret",
            "s",
            "--signature-header",
            "X-Sig",
        ],
        "--signature-header",
    );
    refused(
        &[
            "--verify",
            "hmac-sha1",
            "--secret",
            "s",
            "--signature-header",
            "X Sig",
        ],
        "--signature-header",
    );
    refused(
        &["--verify", "slack", "--secret", "s", "--basic-auth", "a:b"],
        "--basic-auth",
    );
    refused(&["--verify", "sha256", "--secret", "s"], "hmac-sha256");
    d.create(
        "h",
        &[
            "--run",
            "true",
            "--verify",
            "hmac-sha512",
            "--secret",
            "s",
            "--signature-header",
            "X-Sig",
        ],
    );
    assert_eq!(d.json(&["show", "h"])["signature_header"], "X-Sig");
    let exported = text(&d.ctl(&["export", "h"]).stdout);
    assert!(
        exported.contains("signature_header = \"X-Sig\""),
        "{exported}"
    );
    let out = d.ctl(&["edit", "h", "--verify", "gitea"]);
    assert!(
        text(&out.stderr).contains("--signature-header"),
        "{}",
        text(&out.stderr)
    );
    d.json(&["edit", "h", "--verify", "gitea", "--signature-header", ""]);
    assert_eq!(d.json(&["show", "h"])["verify"], "gitea");
}
