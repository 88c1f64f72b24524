//! Secrets kept off the command line: `-` reads stdin, `@file:` and `@credential:` references
//! are stored as written and read by the daemon at each use.

use crate::helper::receiver::Receiver;
use crate::helper::{Daemon, hex, hmac_sha256, text};
use std::time::Duration;

fn github_sig(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body)))
}

/// Every place a stored secret could leak: `show`, `export` without secrets, the daemon log.
fn assert_nowhere(d: &Daemon, hook: &str, secret: &str) {
    for args in [
        vec!["show", hook],
        vec!["--json", "show", hook],
        vec!["export"],
        vec!["logs"],
    ] {
        let out = d.ctl(&args);
        assert!(
            !text(&out.stdout).contains(secret),
            "{args:?} shows the secret"
        );
    }
    assert!(!d.log().contains(secret), "the daemon log has the secret");
}

#[test]
fn a_secret_given_as_dash_is_read_from_stdin() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let out = d.ctl_stdin(
        &[
            "create",
            "notify",
            "--url",
            &rx.url("/in"),
            "--event",
            "message.received",
            "--bearer",
            "-",
        ],
        "t0ken-from-stdin\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let chat = d.create("chat", &["--message"]);
    assert_eq!(d.post(&d.path(&chat), r#"{"content": "hi"}"#).status, 200);
    let got = rx.wait_for(1, Duration::from_secs(10));
    assert_eq!(
        got[0].header("authorization"),
        Some("Bearer t0ken-from-stdin")
    );
    assert_nowhere(&d, "notify", "t0ken-from-stdin");

    // Only one option can have stdin, and the script may be the one.
    let two = d.ctl_stdin(
        &[
            "create", "two", "--run", "true", "--verify", "github", "--secret", "-", "--env", "A=-",
        ],
        "x\n",
    );
    assert_eq!(two.status.code(), Some(2), "{}", text(&two.stderr));
    assert!(text(&two.stderr).contains("only one option can read stdin"));
    let empty = d.ctl_stdin(&["edit", "notify", "--bearer", "-"], "\n");
    assert_eq!(empty.status.code(), Some(2));
    assert!(text(&empty.stderr).contains("--bearer -: stdin gave an empty value"));
}

#[test]
fn a_file_reference_is_read_at_each_call() {
    let d = Daemon::start();
    let file = d.dir.path().join("gh-secret");
    std::fs::write(&file, "first-secret\n").unwrap();
    let reference = format!("@file:{}", file.display());
    let t = d.create(
        "deploy",
        &[
            "--run",
            "cat",
            "--raw-output",
            "--verify",
            "github",
            "--secret",
            &reference,
        ],
    );
    let p = d.path(&t);
    let call = |secret: &str| {
        d.request(
            "POST",
            &p,
            &[("X-Hub-Signature-256", &github_sig(secret, b"ping"))],
            b"ping",
        )
        .status
    };
    assert_eq!(call("first-secret"), 200);
    assert_eq!(
        call("first-secret\n"),
        401,
        "the trailing newline is trimmed"
    );
    // Replacing the file changes the secret without touching the hook.
    std::fs::write(&file, "second-secret").unwrap();
    assert_eq!(call("first-secret"), 401);
    assert_eq!(call("second-secret"), 200);
    assert_nowhere(&d, "deploy", "second-secret");
    // With --include-secrets, export gives the reference, not what it reads.
    let backup = text(&d.ctl(&["export", "--include-secrets"]).stdout);
    assert!(backup.contains(&reference), "{backup}");
    assert!(!backup.contains("second-secret"));

    // Gone at use: the call fails, and the log names the reference.
    std::fs::remove_file(&file).unwrap();
    let r = d.request(
        "POST",
        &p,
        &[("X-Hub-Signature-256", &github_sig("second-secret", b"ping"))],
        b"ping",
    );
    assert_eq!(r.status, 500);
    assert!(
        !r.body.contains(&reference),
        "callers are not told the path"
    );
    let logs = text(&d.ctl(&["logs", "deploy"]).stdout);
    assert!(logs.contains(&reference), "{logs}");

    // Unreadable at create or edit: refused, naming the option and the reference.
    let out = d.ctl(&["edit", "deploy", "--description", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--secret") && err.contains(&reference),
        "{err}"
    );
    let out = d.ctl(&[
        "create",
        "rel",
        "--run",
        "true",
        "--verify",
        "github",
        "--secret",
        "@file:/nonexistent/s",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read the secret @file:/nonexistent/s"));
}

#[test]
fn a_relative_file_reference_is_made_absolute_by_hookctl() {
    let d = Daemon::start();
    std::fs::write(d.dir.path().join("rel-secret"), "s3\n").unwrap();
    let out = d
        .ctl_cmd(&[
            "create",
            "rel",
            "--run",
            "true",
            "--verify",
            "github",
            "--secret",
            "@file:rel-secret",
        ])
        .current_dir(d.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let backup = text(&d.ctl(&["export", "--include-secrets"]).stdout);
    let absolute = format!("@file:{}", d.dir.path().join("rel-secret").display());
    assert!(backup.contains(&absolute), "{backup}");
}

#[test]
fn credentials_come_from_the_credentials_directory() {
    let mut d = Daemon::start();
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("receiver-token"), "cred-bearer\n").unwrap();
    std::fs::write(creds.path().join("deploy-key"), "cred-env-value").unwrap();
    d.stop_with(libc::SIGTERM);
    d.boot_with(|c| {
        c.env("CREDENTIALS_DIRECTORY", creds.path());
    });
    let rx = Receiver::start(&[200]);
    let out = d.ctl(&[
        "create",
        "notify",
        "--url",
        &rx.url("/in"),
        "--event",
        "message.received",
        "--header",
        "X-Api-Key: @credential:receiver-token",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = d.create(
        "env",
        &[
            "--run",
            "printf %s \"$DEPLOY_KEY\"",
            "--raw-output",
            "--env",
            "DEPLOY_KEY=@credential:deploy-key",
        ],
    );
    assert_eq!(d.post(&d.path(&t), "").body, "cred-env-value");
    let chat = d.create("chat", &["--message"]);
    assert_eq!(d.post(&d.path(&chat), r#"{"content": "hi"}"#).status, 200);
    let got = rx.wait_for(1, Duration::from_secs(10));
    assert_eq!(got[0].header("x-api-key"), Some("cred-bearer"));
    assert_nowhere(&d, "notify", "cred-bearer");

    // A credential that goes away fails that delivery, naming it.
    std::fs::remove_file(creds.path().join("receiver-token")).unwrap();
    assert_eq!(
        d.post(&d.path(&chat), r#"{"content": "again"}"#).status,
        200
    );
    crate::helper::wait_until("the failed attempt", Duration::from_secs(10), || {
        text(&d.ctl(&["deliveries", "notify"]).stdout).contains("@credential:receiver-token")
            || text(&d.ctl(&["logs", "notify"]).stdout).contains("@credential:receiver-token")
    });
    let out = d.ctl(&[
        "create",
        "bad",
        "--run",
        "true",
        "--verify",
        "github",
        "--secret",
        "@credential:../x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a credential name"));
}

fn token_of(created: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(created).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn basic(user_pass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
}

#[test]
fn incoming_basic_auth_takes_a_file_reference_read_at_each_call() {
    let d = Daemon::start();
    let file = d.dir.path().join("basic-auth");
    std::fs::write(&file, "deploy:first-pass\n").unwrap();
    let reference = format!("@file:{}", file.display());
    let t = d.create(
        "ba",
        &[
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "basic",
            "--basic-auth",
            &reference,
        ],
    );
    let p = d.path(&t);
    let call = |cred: &str| {
        d.request("POST", &p, &[("Authorization", &basic(cred))], b"{}")
            .status
    };
    assert_eq!(call("deploy:first-pass"), 200);
    assert_eq!(call("deploy:first-pass!"), 401);
    assert_eq!(call("deploi:first-pass"), 401);
    // Read at each call: replacing the file changes the password without touching the hook.
    std::fs::write(&file, "deploy:second-pass").unwrap();
    assert_eq!(call("deploy:first-pass"), 401);
    assert_eq!(call("deploy:second-pass"), 200);
    assert_nowhere(&d, "ba", "second-pass");
    assert_nowhere(&d, "ba", "first-pass");
    let backup = text(&d.ctl(&["export", "--include-secrets"]).stdout);
    assert!(
        backup.contains(&reference),
        "stored as the reference: {backup}"
    );
    assert!(
        !backup.contains("pbkdf2"),
        "a reference is not hashed: {backup}"
    );

    // Unreadable at the call: that call fails as for any other reference (500, named in the log).
    std::fs::remove_file(&file).unwrap();
    let r = d.request(
        "POST",
        &p,
        &[("Authorization", &basic("deploy:second-pass"))],
        b"{}",
    );
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        !r.body.contains(&reference),
        "callers are not told the path"
    );
    let logs = text(&d.ctl(&["logs", "ba"]).stdout);
    assert!(logs.contains(&reference), "{logs}");

    // Unreadable, or not USER:PASS, at create or edit: refused, naming the option and reference.
    let out = d.ctl(&["edit", "ba", "--description", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--basic-auth") && err.contains(&reference),
        "{err}"
    );
    std::fs::write(&file, "no-colon-here").unwrap();
    let out = d.ctl(&["edit", "ba", "--description", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("USER:PASS"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("no-colon-here"));
    let out = d.ctl(&[
        "create",
        "ba2",
        "--run",
        "true",
        "--verify",
        "basic",
        "--basic-auth",
        "@file:/nonexistent/ba",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--basic-auth")
            && err.contains("cannot read the secret @file:/nonexistent/ba"),
        "{err}"
    );
}

#[test]
fn incoming_basic_auth_and_a_verification_secret_read_from_stdin() {
    let d = Daemon::start();
    let out = d.ctl_stdin(
        &[
            "--json",
            "create",
            "ba",
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "basic",
            "--basic-auth",
            "-",
        ],
        "deploy:stdin-pass\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = token_of(&out.stdout);
    let p = d.path(&t);
    let call = |cred: &str| {
        d.request("POST", &p, &[("Authorization", &basic(cred))], b"{}")
            .status
    };
    // Stored hashed: each check with a new credential runs the KDF (slow in a debug build), so
    // one call with the right one, which also shows the newline was trimmed.
    assert_eq!(call("deploy:stdin-pass"), 200);
    assert_nowhere(&d, "ba", "stdin-pass");
    let backup = text(&d.ctl(&["export", "--include-secrets"]).stdout);
    assert!(!backup.contains("stdin-pass"), "stored hashed: {backup}");

    let out = d.ctl_stdin(
        &[
            "--json",
            "create",
            "gh",
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "github",
            "--secret",
            "-",
        ],
        "gh-stdin-secret\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = token_of(&out.stdout);
    let sign = |secret: &str| {
        d.request(
            "POST",
            &d.path(&t),
            &[("X-Hub-Signature-256", &github_sig(secret, b"{}"))],
            b"{}",
        )
        .status
    };
    assert_eq!(sign("gh-stdin-secret"), 200);
    assert_eq!(sign("gh-stdin-secret\n"), 401);
    assert_nowhere(&d, "gh", "gh-stdin-secret");
}

#[test]
fn credentials_verify_incoming_calls() {
    let mut d = Daemon::start();
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("gh"), "cred-gh-secret\n").unwrap();
    std::fs::write(creds.path().join("ba"), "ops:cred-basic-pass\n").unwrap();
    d.stop_with(libc::SIGTERM);
    d.boot_with(|c| {
        c.env("CREDENTIALS_DIRECTORY", creds.path());
    });
    let gh = d.create(
        "gh",
        &[
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "github",
            "--secret",
            "@credential:gh",
        ],
    );
    let ba = d.create(
        "ba",
        &[
            "--run",
            "echo ran",
            "--raw-output",
            "--verify",
            "basic",
            "--basic-auth",
            "@credential:ba",
        ],
    );
    let signed = |secret: &str| {
        d.request(
            "POST",
            &d.path(&gh),
            &[("X-Hub-Signature-256", &github_sig(secret, b"{}"))],
            b"{}",
        )
        .status
    };
    assert_eq!(signed("cred-gh-secret"), 200);
    assert_eq!(signed("cred-gh-secret!"), 401);
    let authed = |cred: &str| {
        d.request(
            "POST",
            &d.path(&ba),
            &[("Authorization", &basic(cred))],
            b"{}",
        )
        .status
    };
    assert_eq!(authed("ops:cred-basic-pass"), 200);
    assert_eq!(authed("ops:wrong"), 401);
    assert_nowhere(&d, "gh", "cred-gh-secret");
    assert_nowhere(&d, "ba", "cred-basic-pass");
    let backup = text(&d.ctl(&["export", "--include-secrets"]).stdout);
    assert!(
        backup.contains("@credential:gh") && backup.contains("@credential:ba"),
        "{backup}"
    );
    // Gone: that call fails (500), the log names the credential.
    std::fs::remove_file(creds.path().join("ba")).unwrap();
    assert_eq!(authed("ops:cred-basic-pass"), 500);
    let logs = text(&d.ctl(&["logs", "ba"]).stdout);
    assert!(logs.contains("@credential:ba"), "{logs}");
}
