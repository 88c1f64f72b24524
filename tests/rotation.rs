//! `rotate-secret` and several incoming secrets: no flag day for receivers or senders.

use crate::emit::library_verifies;
use crate::helper::receiver::Receiver;
use crate::helper::{Daemon, hex, hmac_sha256, text};
use std::time::Duration;

fn github_sig(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body)))
}

#[test]
fn during_an_overlap_deliveries_verify_with_either_secret_after_it_only_the_new() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let first = d.json(&[
        "create",
        "out",
        "--url",
        &rx.url("/"),
        "--generate-secret",
        "--event",
        "job.*",
    ]);
    let s1 = first["secret"].as_str().unwrap().to_string();
    let rotated = d.json(&["rotate-secret", "out", "--overlap", "2s"]);
    let s2 = rotated["secret"].as_str().unwrap().to_string();
    assert!(s2.starts_with("whsec_") && s2 != s1);
    assert!(rotated["old_valid_until"].is_string());
    assert!(!text(&d.ctl(&["--json", "show", "out"]).stdout).contains(&s2[6..20]));

    d.json(&["emit", "job.one"]);
    let got = rx.wait_for(1, Duration::from_secs(10));
    assert_eq!(
        got[0]
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    let Some(ok_new) = library_verifies(&s2, &got[0]) else {
        return;
    };
    assert!(ok_new, "the new secret verifies during the overlap");
    assert_eq!(
        library_verifies(&s1, &got[0]),
        Some(true),
        "so does the old one"
    );

    // Rotating again inside the overlap keeps two: the newest and the one before.
    let s3 = d.json(&["rotate-secret", "out", "--overlap", "2s"])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    d.json(&["emit", "job.two"]);
    let got = rx.wait_for(2, Duration::from_secs(10));
    assert_eq!(library_verifies(&s3, &got[1]), Some(true));
    assert_eq!(library_verifies(&s2, &got[1]), Some(true));
    assert_eq!(
        library_verifies(&s1, &got[1]),
        Some(false),
        "the oldest is dropped"
    );

    std::thread::sleep(Duration::from_millis(2300));
    d.json(&["emit", "job.three"]);
    let got = rx.wait_for(3, Duration::from_secs(10));
    assert_eq!(
        got[2]
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert_eq!(library_verifies(&s3, &got[2]), Some(true));
    assert_eq!(
        library_verifies(&s2, &got[2]),
        Some(false),
        "after the overlap only the new"
    );
}

#[test]
fn incoming_hooks_take_several_secrets_and_rotate_with_an_overlap() {
    let d = Daemon::start();
    let t = d.create(
        "gh",
        &[
            "--run", "true", "--verify", "github", "--secret", "alpha", "--secret", "beta",
        ],
    );
    let p = d.path(&t);
    let call = |secret: &str| {
        d.request(
            "POST",
            &p,
            &[("X-Hub-Signature-256", &github_sig(secret, b"x"))],
            b"x",
        )
        .status
    };
    assert_eq!(call("alpha"), 200);
    assert_eq!(call("beta"), 200);
    assert_eq!(call("gamma"), 401);

    let out = d.ctl(&["rotate-secret", "gh"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("needs --secret NEW"),
        "{}",
        text(&out.stderr)
    );
    let out = d.ctl_stdin(
        &["rotate-secret", "gh", "--secret", "-", "--overlap", "2s"],
        "gamma\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stays valid until"));
    assert_eq!(call("gamma"), 200);
    assert_eq!(call("alpha"), 200, "the replaced secret during the overlap");
    assert_eq!(call("beta"), 200);
    std::thread::sleep(Duration::from_millis(2300));
    assert_eq!(call("alpha"), 401, "and not after it");
    assert_eq!(call("gamma"), 200);
    assert_eq!(call("beta"), 200);
    let logs = text(&d.ctl(&["logs", "gh", "--direction", "admin"]).stdout);
    assert!(logs.contains("rotate-secret"), "{logs}");

    // One --secret replaces the list.
    assert!(d.ctl(&["edit", "gh", "--secret", "delta"]).status.success());
    assert_eq!(call("beta"), 401);
    assert_eq!(call("delta"), 200);
    // Several secrets are for incoming hooks.
    let out = d.ctl(&[
        "create",
        "o",
        "--url",
        "http://127.0.0.1:9/",
        "--secret",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "--secret",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = d.ctl(&["rotate-secret", "nosuch", "--secret", "x"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn secrets_of_a_rotation_appear_only_in_a_backup_export() {
    let d = Daemon::start();
    d.create(
        "gh",
        &[
            "--run",
            "true",
            "--verify",
            "github",
            "--secret",
            "first-one",
            "--secret",
            "second-one",
        ],
    );
    assert!(
        d.ctl(&["rotate-secret", "gh", "--secret", "third-one"])
            .status
            .success()
    );
    for args in [
        vec!["export"],
        vec!["show", "gh"],
        vec!["--json", "show", "gh"],
        vec!["logs"],
    ] {
        let out = text(&d.ctl(&args).stdout);
        for s in ["first-one", "second-one", "third-one"] {
            assert!(!out.contains(s), "{args:?} shows {s}");
        }
    }
    assert!(!d.log().contains("first-one"));
    let backup = text(&d.ctl(&["export", "--include-secrets"]).stdout);
    assert!(
        backup.contains("third-one")
            && backup.contains("second-one")
            && backup.contains("first-one"),
        "{backup}"
    );
    // A backup applied back keeps the overlap.
    let file = d.dir.path().join("backup.toml");
    std::fs::write(&file, &backup).unwrap();
    let out = d.ctl(&["apply", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Nothing to change"),
        "{}",
        text(&out.stdout)
    );
}
