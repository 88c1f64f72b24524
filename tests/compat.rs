//! hookd against adnanh/webhook itself: one hooks file, served by `webhook` and imported into
//! hookd (`--keep-paths`, so both answer at `/hooks/ID`), the same requests to both. Status,
//! body, the hook's response headers and what the command received (argv, the passed
//! variables, file contents) must agree, except where the contract documents a difference.
//! Skips, loudly, when the `webhook` binary is not installed (`.ci/run` installs it as root).

use crate::helper::{Daemon, Reply, free_port, http, text, write_file};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Prints what it was given: argv, the `HOOK_*` variables (a variable naming an existing file
/// is given as that file's content, since the paths differ), as JSON.
const RECORDER: &str = r#"#!/usr/bin/env python3
import json, os, sys
out = {"argv": sys.argv[1:], "env": {}, "files": {}}
for k, v in os.environ.items():
    if k.startswith("HOOK_"):
        if os.path.isfile(v):
            with open(v, "rb") as f:
                out["files"][k] = f.read().decode("latin-1")
        else:
            out["env"][k] = v
print(json.dumps(out, sort_keys=True))
"#;

const FAILING: &str = "#!/bin/sh\necho partial output\nexit 3\n";

fn hooks_file(rec: &str, fail: &str) -> String {
    let hooks = serde_json::json!([
        {
            "id": "rules",
            "execute-command": rec,
            "include-command-output-in-response": true,
            "trigger-rule-mismatch-http-response-code": 418,
            "pass-arguments-to-command": [
                {"source": "payload", "name": "commits.1.id"},
                {"source": "payload", "name": "repository.name"},
                {"source": "header", "name": "X-Event"},
                {"source": "url", "name": "ref"},
                {"source": "string", "name": "literal value"}
            ],
            "trigger-rule": {"and": [
                {"or": [
                    {"match": {"type": "value", "value": "push", "parameter": {"source": "header", "name": "X-Event"}}},
                    {"match": {"type": "value", "value": "tag", "parameter": {"source": "header", "name": "X-Event"}}}
                ]},
                {"not": {"match": {"type": "regex", "regex": "^draft", "parameter": {"source": "payload", "name": "repository.name"}}}},
                {"match": {"type": "value", "value": "7", "parameter": {"source": "payload", "name": "count"}}}
            ]}
        },
        {
            "id": "ipok", "execute-command": rec, "include-command-output-in-response": true,
            "response-headers": [{"name": "X-Answer", "value": "ip rule"}],
            "trigger-rule": {"match": {"type": "ip-whitelist", "ip-range": "127.0.0.0/8"}}
        },
        {
            "id": "ipno", "execute-command": rec, "include-command-output-in-response": true,
            "response-headers": [{"name": "X-Answer", "value": "ip rule"}],
            "trigger-rule": {"match": {"type": "ip-whitelist", "ip-range": "10.0.0.0/8 192.168.1.1"}}
        },
        {
            "id": "async", "execute-command": rec, "response-message": "accepted, thanks",
            "success-http-response-code": 201,
            "response-headers": [{"name": "X-Answer", "value": "from the hook"}]
        },
        {"id": "fail", "execute-command": fail, "include-command-output-in-response": true},
        {
            "id": "failshow", "execute-command": fail, "include-command-output-in-response": true,
            "include-command-output-in-response-on-error": true
        },
        {"id": "missing", "execute-command": "/nonexistent/command", "include-command-output-in-response": true},
        {
            "id": "form", "execute-command": rec, "include-command-output-in-response": true,
            "parse-parameters-as-json": [{"source": "payload", "name": "meta"}],
            "pass-arguments-to-command": [
                {"source": "payload", "name": "name"},
                {"source": "payload", "name": "meta.tags.0"}
            ]
        },
        {
            "id": "files", "execute-command": rec, "include-command-output-in-response": true,
            "pass-arguments-to-command": [
                {"source": "entire-query"},
                {"source": "entire-payload"},
                {"source": "entire-headers"},
                {"source": "raw-request-body"}
            ],
            "pass-environment-to-command": [
                {"source": "payload", "name": "who"},
                {"source": "header", "name": "X-Event", "envname": "HOOK_EVENT"}
            ],
            "pass-file-to-command": [
                {"source": "payload", "name": "doc", "base64decode": true},
                {"source": "payload", "name": "plain", "envname": "HOOK_PLAIN_FILE"},
                {"source": "payload", "name": "absent"}
            ]
        },
        {
            "id": "types", "execute-command": rec, "include-command-output-in-response": true,
            "pass-arguments-to-command": [
                {"source": "payload", "name": "n"},
                {"source": "payload", "name": "f"},
                {"source": "payload", "name": "b"},
                {"source": "payload", "name": "z"},
                {"source": "payload", "name": "list"},
                {"source": "payload", "name": "obj"},
                {"source": "payload", "name": "a.b"},
                {"source": "payload", "name": "list.5"},
                {"source": "header", "name": "x-missing"}
            ],
            "pass-environment-to-command": [{"source": "payload", "name": "z"}, {"source": "payload", "name": "absent"}]
        },
        {"id": "postonly", "execute-command": rec, "include-command-output-in-response": true, "http-methods": ["POST"]},
        {
            // webhook tries the second secret of an `or` only with soft signature failures.
            "id": "signed", "execute-command": rec, "include-command-output-in-response": true,
            "trigger-signature-soft-failures": true,
            "pass-arguments-to-command": [{"source": "payload", "name": "repository.name"}],
            "trigger-rule": {"and": [
                {"or": [
                    {"match": {"type": "payload-hmac-sha256", "secret": "old-secret", "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}},
                    {"match": {"type": "payload-hmac-sha256", "secret": "new-secret", "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}
                ]},
                {"match": {"type": "value", "value": "site", "parameter": {"source": "payload", "name": "repository.name"}}}
            ]}
        },
        {
            "id": "signed1", "execute-command": rec, "include-command-output-in-response": true,
            "trigger-rule": {"match": {"type": "payload-hmac-sha1", "secret": "sha1-secret", "parameter": {"source": "header", "name": "X-Hub-Signature"}}}
        },
        {
            "id": "signed256", "execute-command": rec, "include-command-output-in-response": true,
            "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "s256", "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}
        },
        {
            "id": "signed512", "execute-command": rec, "include-command-output-in-response": true,
            "trigger-rule": {"match": {"type": "payload-hmac-sha512", "secret": "s512", "parameter": {"source": "header", "name": "X-Signature"}}}
        }
    ]);
    serde_json::to_string_pretty(&hooks).unwrap()
}

struct Webhook {
    child: Child,
    port: u16,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_webhook(file: &Path) -> Webhook {
    let port = free_port();
    let child = Command::new("webhook")
        .args([
            "-hooks",
            file.to_str().unwrap(),
            "-ip",
            "127.0.0.1",
            "-port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start webhook");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "webhook did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    Webhook { child, port }
}

fn executable(dir: &Path, name: &str, body: &str) -> String {
    let p = write_file(dir, name, body);
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p.to_str().unwrap().to_string()
}

/// The body as compared: the recorder's JSON parsed (with an `entire-*` argument parsed
/// too, as Go orders map keys and hookd keeps the sender's order), else the text.
fn comparable(body: &str) -> Value {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return Value::String(body.to_string());
    };
    if let Some(args) = v.get_mut("argv").and_then(Value::as_array_mut) {
        for a in args.iter_mut() {
            if let Some(parsed) = a
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .filter(Value::is_object)
            {
                *a = parsed;
            }
        }
    }
    v
}

fn same(what: &str, theirs: &Reply, ours: &Reply, headers: &[&str]) {
    assert_eq!(
        theirs.status, ours.status,
        "{what}: status (webhook {theirs:?}, hookd {ours:?})"
    );
    assert_eq!(
        comparable(&theirs.body),
        comparable(&ours.body),
        "{what}: body"
    );
    for h in headers {
        assert_eq!(theirs.header(h), ours.header(h), "{what}: header {h}");
    }
}

/// What a request is called, its method, path, headers and body.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, String);

#[test]
fn imported_hooks_answer_and_run_as_webhook_does() {
    if Command::new("webhook").arg("-version").output().is_err() {
        crate::helper::tools::skip(
            "the `webhook` binary is not installed (apt-get install webhook)",
        );
        return;
    }
    let d = Daemon::start();
    let dir = d.state_dir();
    let rec = executable(&dir, "recorder.py", RECORDER);
    let fail = executable(&dir, "fail.sh", FAILING);
    let file = write_file(&dir, "hooks.json", &hooks_file(&rec, &fail));
    let out = d.ctl(&["import", "--keep-paths", file.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    let wh = start_webhook(&file);

    let json = "application/json";
    let push =
        r#"{"commits": [{"id": "a1"}, {"id": "b2"}], "repository": {"name": "site"}, "count": 7}"#;
    let cases: Vec<Case> = vec![
        (
            "rules match",
            "POST",
            "/hooks/rules?ref=main",
            vec![("Content-Type", json), ("X-Event", "push")],
            push.into(),
        ),
        (
            "rules or",
            "POST",
            "/hooks/rules",
            vec![("Content-Type", json), ("X-Event", "tag")],
            push.into(),
        ),
        (
            "rules mismatch header",
            "POST",
            "/hooks/rules",
            vec![("Content-Type", json), ("X-Event", "issue")],
            push.into(),
        ),
        (
            "rules not",
            "POST",
            "/hooks/rules",
            vec![("Content-Type", json), ("x-event", "push")],
            push.replace("site", "drafts"),
        ),
        (
            "rules number as text",
            "POST",
            "/hooks/rules",
            vec![("Content-Type", json), ("X-Event", "push")],
            push.replace("7", "8"),
        ),
        (
            "ip allowed",
            "POST",
            "/hooks/ipok",
            vec![("Content-Type", json)],
            "{}".into(),
        ),
        (
            "ip refused",
            "POST",
            "/hooks/ipno",
            vec![("Content-Type", json)],
            "{}".into(),
        ),
        (
            "async",
            "POST",
            "/hooks/async",
            vec![("Content-Type", json)],
            "{}".into(),
        ),
        (
            "failure hidden",
            "POST",
            "/hooks/fail",
            vec![],
            String::new(),
        ),
        (
            "failure shown",
            "POST",
            "/hooks/failshow",
            vec![],
            String::new(),
        ),
        (
            "missing command",
            "POST",
            "/hooks/missing",
            vec![],
            String::new(),
        ),
        (
            "form and parse-json",
            "POST",
            "/hooks/form",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "name=a+b%26c&meta=%7B%22tags%22%3A%5B%22t1%22%2C%22t2%22%5D%7D".into(),
        ),
        (
            "env, files, base64, entire-query",
            "POST",
            "/hooks/files?x=1&y=two",
            vec![("Content-Type", json), ("X-Event", "push")],
            r#"{"who": "me & you", "doc": "aGVsbG8Kd29ybGQ=", "plain": "line1\nline2 \"q\""}"#
                .into(),
        ),
        (
            "value types",
            "POST",
            "/hooks/types",
            vec![("Content-Type", json)],
            r#"{"n": 7, "f": 1.50, "b": true, "z": null, "list": [1, "two"], "obj": {"k": "v"}, "a.b": "dotted", "a": {"b": "nested"}}"#.into(),
        ),
        (
            "GET allowed by default",
            "GET",
            "/hooks/ipok",
            vec![],
            String::new(),
        ),
        (
            "GET refused",
            "GET",
            "/hooks/postonly",
            vec![],
            String::new(),
        ),
    ];
    let mut seen = Vec::new();
    signatures(&d, &wh, push);
    for (what, method, path, headers, body) in &cases {
        let theirs = http(wh.port, method, path, headers, body.as_bytes());
        let ours = d.request(method, path, headers, body.as_bytes());
        same(what, &theirs, &ours, &["X-Answer"]);
        if *what == "ip allowed" || *what == "async" {
            assert!(
                ours.header("x-answer").is_some(),
                "{what}: the hook's header"
            );
        }
        if *what == "ip refused" {
            assert_eq!(
                ours.header("x-answer"),
                None,
                "no hook header on a mismatch"
            );
        }
        seen.push((what.to_string(), ours.status, comparable(&ours.body)));
    }
    // The comparison compared something: a few answers as they must be.
    let get = |w: &str| seen.iter().find(|(n, ..)| n == w).cloned().unwrap();
    let (_, status, body) = get("rules match");
    assert_eq!(status, 200);
    assert_eq!(
        body["argv"],
        serde_json::json!(["b2", "site", "push", "main", "literal value"])
    );
    assert_eq!(get("rules mismatch header").1, 418);
    assert_eq!(get("rules not").1, 418);
    assert_eq!(get("ip refused").2, "Hook rules were not satisfied.");
    assert_eq!(get("ip allowed").1, 200);
    assert_eq!(
        (get("async").1, get("async").2),
        (201, Value::from("accepted, thanks"))
    );
    assert_eq!(get("failure shown").2, "partial output\n");
    let files = get("env, files, base64, entire-query").2;
    assert_eq!(files["files"]["HOOK_DOC"], "hello\nworld");
    assert_eq!(files["env"]["HOOK_who"], "me & you");
    assert!(files["files"].get("HOOK_ABSENT").is_none());
    let types = get("value types").2;
    assert_eq!(types["argv"][0], "7");
    assert_eq!(types["argv"][6], "dotted", "a literal key with dots wins");
    assert_eq!(types["argv"][8], "", "a missing argument is empty");
    assert_eq!(types["argv"][4], "[1,\"two\"]", "arrays as JSON text");
}

/// webhook's answer to a wrong signature without soft failures: an error evaluating the rules.
const RULE_ERROR: (u16, &str) = (500, "Error occurred while evaluating hook rules.");
/// Its answer when no signature is given, or a wrong one with soft failures: a rule mismatch.
const MISMATCH: (u16, &str) = (200, "Hook rules were not satisfied.");

/// A signature rule of the hooks file and how to sign for it.
struct SignedHook {
    kind: &'static str,
    path: &'static str,
    header: &'static str,
    secret: &'static str,
    sign: fn(&str, &[u8]) -> String,
    /// webhook's answer to a wrong signature.
    wrong: (u16, &'static str),
}

fn hmac_hex<M: hmac::Mac + hmac::digest::KeyInit>(key: &str, body: &[u8]) -> String {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    m.update(body);
    crate::helper::hex(&m.finalize().into_bytes())
}

/// Signature rules, each kind (sha1, sha256, sha512) with a right signature, a right one among
/// several comma-separated ones, a wrong one, several wrong ones and none: right ones get the
/// same answer from both; wrong and missing ones are the documented difference, 401 from hookd
/// where webhook answers what is asserted here. Also one of two secrets in an `or` with soft
/// failures (webhook tries the second secret only then).
fn signatures(d: &Daemon, wh: &Webhook, push: &str) {
    use hmac::Hmac;
    use sha2::{Sha256, Sha512};
    let kinds = [
        (
            "sha1",
            "/hooks/signed1",
            "X-Hub-Signature",
            "sha1-secret",
            RULE_ERROR,
        ),
        (
            "sha256",
            "/hooks/signed256",
            "X-Hub-Signature-256",
            "s256",
            RULE_ERROR,
        ),
        (
            "sha512",
            "/hooks/signed512",
            "X-Signature",
            "s512",
            RULE_ERROR,
        ),
        (
            "sha256",
            "/hooks/signed",
            "X-Hub-Signature-256",
            "old-secret",
            MISMATCH,
        ),
        (
            "sha256",
            "/hooks/signed",
            "X-Hub-Signature-256",
            "new-secret",
            MISMATCH,
        ),
    ]
    .map(|(kind, path, header, secret, wrong)| SignedHook {
        kind,
        path,
        header,
        secret,
        sign: match kind {
            "sha1" => hmac_hex::<Hmac<sha1::Sha1>>,
            "sha256" => hmac_hex::<Hmac<Sha256>>,
            _ => hmac_hex::<Hmac<Sha512>>,
        },
        wrong,
    });
    let b = push.as_bytes();
    for h in &kinds {
        let p = format!("{}=", h.kind);
        let sign = |key: &str| (h.sign)(key, b);
        let (right, wrong, other) = (sign(h.secret), sign("wrong"), sign("other"));
        let both = |value: Option<&str>| {
            let mut headers = vec![("Content-Type", "application/json")];
            headers.extend(value.map(|v| (h.header, v)));
            (
                http(wh.port, "POST", h.path, &headers, b),
                d.request("POST", h.path, &headers, b),
            )
        };
        // A list counts only entries with the prefix (webhook drops the others), so the
        // several-signature cases are prefixed; a single one may be bare.
        for (what, value) in [
            ("right, prefixed", format!("{p}{right}")),
            ("right, bare", right.clone()),
            ("right among several", format!("{p}{wrong},{p}{right}")),
            ("right first of several", format!("{p}{right},{p}{other}")),
        ] {
            let what = format!("hmac-{} {} ({}): {what}", h.kind, h.path, h.secret);
            let (theirs, ours) = both(Some(&value));
            same(&what, &theirs, &ours, &[]);
            assert_eq!(ours.status, 200, "{what}: {}", ours.body);
        }
        for (what, value, answer) in [
            ("wrong", Some(format!("{p}{wrong}")), h.wrong),
            (
                "several wrong",
                Some(format!("{p}{wrong},{p}{other}")),
                h.wrong,
            ),
            ("missing", None, MISMATCH),
        ] {
            let what = format!("hmac-{} {} ({}): {what}", h.kind, h.path, h.secret);
            let (theirs, ours) = both(value.as_deref());
            assert_eq!(
                (theirs.status, theirs.body.as_str()),
                answer,
                "{what}: webhook"
            );
            assert_eq!(ours.status, 401, "{what}: hookd {ours:?}");
        }
    }
}
