//! Declarative provisioning: `apply` (idempotent, --prune, --dry-run, --tokens-out) and `export`.

use crate::helper::{Daemon, text, write_file};
use std::os::unix::fs::PermissionsExt;

const FILE: &str = r#"
[[hook]]
name = "deploy"
kind = "script"
description = "pull and restart"
script = """
echo deploying
"""
timeout = "2m"
raw_output = true

[[hook]]
name = "chat"
kind = "message"

[[hook]]
name = "ops-slack"
kind = "outgoing"
url = "https://hooks.slack.com/services/T0/B0/X"
format = "slack"
events = ["script.failed", "delivery.failed"]
"#;

#[test]
fn apply_twice_changes_nothing_the_second_time() {
    let d = Daemon::start();
    let f = write_file(d.dir.path(), "hooks.toml", FILE);
    let first = d.json(&["apply", "-f", f.to_str().unwrap()]);
    let actions: Vec<&str> = first["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "create", "create"]);
    let deploy_url = first["changes"][0]["url"].as_str().unwrap().to_string();
    assert!(deploy_url.contains("/webhook/hkd_"));
    assert!(
        first["changes"][2].get("url").is_none(),
        "outgoing hooks have no URL of their own"
    );
    let before = d.json(&["list"]);

    let out = d.ctl(&["apply", "-f", f.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("Nothing to change"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(d.json(&["list"]), before, "not even updated_at changes");

    let path = deploy_url.split("/webhook/").nth(1).unwrap();
    let r = d.get(&format!("/webhook/{path}"));
    assert_eq!((r.status, r.body.as_str()), (200, "deploying\n"));

    // A changed option updates only that hook; the token stays.
    std::fs::write(&f, FILE.replace("timeout = \"2m\"", "timeout = \"3m\"")).unwrap();
    let third = d.json(&["apply", "-f", f.to_str().unwrap()]);
    let actions: Vec<&str> = third["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "unchanged", "unchanged"]);
    assert_eq!(d.json(&["show", "deploy"])["timeout"], "3m");
    assert_eq!(d.get(&format!("/webhook/{path}")).status, 200);
}

#[test]
fn dry_run_and_prune() {
    let d = Daemon::start();
    d.create("old", &["--run", "true"]);
    let f = write_file(d.dir.path(), "hooks.toml", FILE);
    let plan = d.json(&["apply", "-f", f.to_str().unwrap(), "--prune", "--dry-run"]);
    assert_eq!(plan["dry_run"], true);
    let actions: Vec<(&str, &str)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("deploy", "create"),
            ("chat", "create"),
            ("ops-slack", "create"),
            ("old", "delete")
        ]
    );
    assert_eq!(
        d.json(&["list"]).as_array().unwrap().len(),
        1,
        "a dry run changes nothing"
    );
    let out = d.ctl(&["apply", "-f", f.to_str().unwrap(), "--prune", "--dry-run"]);
    assert!(text(&out.stdout).contains("would delete"));

    d.json(&["apply", "-f", f.to_str().unwrap(), "--prune"]);
    let names: Vec<String> = d
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["chat", "deploy", "ops-slack"]);
}

#[test]
fn tokens_out_writes_urls_to_a_private_file() {
    let d = Daemon::start();
    let f = write_file(d.dir.path(), "hooks.toml", FILE);
    let tokens = d.dir.path().join("tokens.txt");
    let out = d.ctl(&[
        "apply",
        "-f",
        f.to_str().unwrap(),
        "--tokens-out",
        tokens.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("hkd_"),
        "URLs are not printed when written to a file"
    );
    assert_eq!(
        std::fs::metadata(&tokens).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let written = std::fs::read_to_string(&tokens).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 2, "{written}");
    assert!(lines[0].starts_with("deploy http://") && lines[0].contains("/webhook/hkd_"));
    assert!(lines[1].starts_with("chat http://"));
}

#[test]
fn a_bad_file_changes_nothing_and_names_the_problem() {
    let d = Daemon::start();
    let f = write_file(
        d.dir.path(),
        "bad.toml",
        &format!("{FILE}\n[[hook]]\nname = \"x\"\nkind = \"script\"\nscirpt = \"true\"\n"),
    );
    let out = d.ctl(&["apply", "-f", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.toml:") && text(&out.stderr).contains("scirpt"),
        "{}",
        text(&out.stderr)
    );
    let f = write_file(
        d.dir.path(),
        "invalid.toml",
        &format!(
            "{FILE}\n[[hook]]\nname = \"y\"\nkind = \"script\"\nscript = \"true\"\nuser = \"no-such-user-here\"\n"
        ),
    );
    let out = d.ctl(&["apply", "-f", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no such user"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        d.json(&["list"]).as_array().unwrap().len(),
        0,
        "one bad hook: nothing applied"
    );
}

#[test]
fn export_then_apply_on_a_fresh_daemon_reproduces_the_hooks() {
    let a = Daemon::start();
    a.create(
        "deploy",
        &[
            "--run",
            "echo \"quoted\" 'single' \\\\ back\nline two",
            "--user",
            "root",
            "--timeout",
            "30s",
            "--concurrency",
            "2",
            "--env",
            "A=1",
            "--param",
            "ref=/ref",
            "--method",
            "POST",
            "--description",
            "multi\nline",
        ],
    );
    a.create("chat", &["--message", "--disabled"]);
    a.create(
        "hooked",
        &["--run", "true", "--verify", "gitlab", "--secret", "s3"],
    );
    a.create(
        "ops",
        &[
            "--url",
            "https://example.com/x",
            "--event",
            "script.*",
            "--type",
            "alarms",
            "--language",
            "zh",
            "--header",
            "X-A: b",
        ],
    );
    let exported = a.ctl(&["export", "--include-secrets"]);
    assert!(exported.status.success());
    let file = write_file(a.dir.path(), "export.toml", &text(&exported.stdout));
    assert!(
        !text(&exported.stdout).contains("hkd_"),
        "no tokens in exports"
    );

    let b = Daemon::start();
    b.json(&["apply", "-f", file.to_str().unwrap()]);
    let strip = |v: serde_json::Value| -> Vec<serde_json::Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let mut h = h.clone();
                for k in [
                    "token_prefix",
                    "created_at",
                    "updated_at",
                    "call_count",
                    "last_call_at",
                    "last_status",
                ] {
                    h.as_object_mut().unwrap().remove(k);
                }
                h
            })
            .collect()
    };
    assert_eq!(strip(a.json(&["list"])), strip(b.json(&["list"])));
    // Applying the export to the daemon it came from changes nothing.
    let again = a.ctl(&["apply", "-f", file.to_str().unwrap()]);
    assert!(
        text(&again.stdout).contains("Nothing to change"),
        "{}",
        text(&again.stdout)
    );

    // Without --include-secrets, secrets stay out of the file.
    let plain = text(&a.ctl(&["export"]).stdout);
    assert!(!plain.contains("s3") && !plain.contains("X-A"), "{plain}");
    let one = text(&a.ctl(&["export", "chat"]).stdout);
    assert!(
        one.contains("name = \"chat\"")
            && one.contains("enabled = false")
            && !one.contains("deploy")
    );
}

#[test]
fn secrets_are_write_only_and_apply_says_what_it_changes() {
    use crate::helper::{hex, hmac_sha256, receiver::Receiver};
    use std::time::Duration;
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let whsec = "whsec_c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qh";
    d.create(
        "out",
        &[
            "--url",
            &rx.url("/"),
            "--event",
            "message.received",
            "--secret",
            whsec,
        ],
    );
    let gh = d.create(
        "gh",
        &[
            "--run",
            "echo ok",
            "--verify",
            "github",
            "--secret",
            "s3",
            "--timeout",
            "5m",
        ],
    );
    // export leaves the secrets out; applying its output keeps them.
    let exported = d.ctl(&["export"]);
    assert!(!text(&exported.stdout).contains("s3") && !text(&exported.stdout).contains(whsec));
    let f = write_file(d.dir.path(), "all.toml", &text(&exported.stdout));
    let again = d.json(&["apply", "-f", f.to_str().unwrap()]);
    assert!(
        again["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "unchanged"),
        "{again}"
    );
    let chat = d.create("chat", &["--message"]);
    d.post(&d.path(&chat), r#"{"content": "hi"}"#);
    let got = rx.wait_for(1, Duration::from_secs(10));
    assert!(got[0].header("webhook-signature").is_some(), "still signed");
    assert_eq!(d.post(&d.path(&gh), "{}").status, 401, "still verified");
    let sig = format!("sha256={}", hex(&hmac_sha256(b"s3", b"{}")));
    let ok = d.request(
        "POST",
        &d.path(&gh),
        &[("X-Hub-Signature-256", &sig)],
        b"{}",
    );
    assert_eq!(ok.status, 200);

    // A file that changes the timeout and drops verification says so, in a dry run too.
    let f = write_file(
        d.dir.path(),
        "gh.toml",
        "[[hook]]\nname = \"gh\"\nkind = \"script\"\nscript = \"echo ok\"\ntimeout = \"10m\"\n",
    );
    let out = d.ctl(&["apply", "--dry-run", "-f", f.to_str().unwrap()]);
    let shown = text(&out.stdout);
    assert!(shown.contains("timeout 5m → 10m"), "{shown}");
    assert!(shown.contains("verify github → none"), "{shown}");
    assert!(
        shown.contains("warning: this removes verification"),
        "{shown}"
    );
    assert!(
        !shown.contains("secret removed"),
        "the omitted secret is kept: {shown}"
    );
    assert_eq!(
        d.post(&d.path(&gh), "{}").status,
        401,
        "a dry run changes nothing"
    );

    // An empty secret removes it, and says so.
    let f = write_file(
        d.dir.path(),
        "out.toml",
        &format!(
            "[[hook]]\nname = \"out\"\nkind = \"outgoing\"\nurl = \"{}\"\nevents = [\"message.received\"]\nsecret = \"\"\n",
            rx.url("/")
        ),
    );
    let v = d.json(&["apply", "-f", f.to_str().unwrap()]);
    let c = &v["changes"][0];
    assert_eq!(c["fields"][0], "secret removed", "{v}");
    assert_eq!(c["warnings"][0], "this removes the hook's secret");
}
