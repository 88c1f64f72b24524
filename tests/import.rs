//! `hookctl import`: webhook hooks files (JSON, YAML, templated) become hooks, idempotently;
//! what cannot be translated is refused by hook id with the reason, never approximated.

use crate::helper::{Daemon, text, write_file};

const JSON_FILE: &str = r#"[
  {
    "id": "redeploy",
    "execute-command": "/bin/echo",
    "command-working-directory": "/tmp",
    "include-command-output-in-response": true,
    "pass-arguments-to-command": [
      {"source": "payload", "name": "head_commit.id"},
      {"source": "string", "name": "fixed"}
    ],
    "pass-environment-to-command": [{"source": "header", "name": "X-Event"}],
    "trigger-rule": {
      "and": [
        {"match": {"type": "value", "value": "refs/heads/main", "parameter": {"source": "payload", "name": "ref"}}},
        {"not": {"match": {"type": "regex", "regex": "^skip", "parameter": {"source": "header", "name": "X-Event"}}}}
      ]
    },
    "trigger-rule-mismatch-http-response-code": 409
  },
  {
    "id": "notify",
    "execute-command": "/bin/true",
    "response-message": "queued",
    "http-methods": ["post"],
    "response-headers": [{"name": "X-Tool", "value": "hooks"}]
  }
]"#;

const YAML_FILE: &str = r#"
- id: from-yaml
  execute-command: /bin/echo
  include-command-output-in-response: true
  pass-arguments-to-command:
    - source: query
      name: who
  trigger-rule:
    or:
      - match:
          type: ip-whitelist
          ip-range: "10.0.0.0/8 127.0.0.1"
      - match:
          type: value
          value: "yes"
          parameter:
            source: url
            name: force
"#;

const TEMPLATED: &str = r#"[
  {
    "id": "templated",
    "execute-command": "/bin/echo",
    "include-command-output-in-response": true,
    "pass-arguments-to-command": [{"source": "string", "name": "{{ getenv "IMPORT_TEST_WORD" | js }}"}]
  }
]"#;

#[test]
fn json_yaml_and_template_files_import_and_run_as_webhook_would() {
    let d = Daemon::start();
    let dir = d.state_dir();
    let json = write_file(&dir, "hooks.json", JSON_FILE);
    let out = d.ctl(&["import", "--keep-paths", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = d.request(
        "POST",
        "/hooks/redeploy",
        &[("Content-Type", "application/json"), ("X-Event", "push")],
        br#"{"ref": "refs/heads/main", "head_commit": {"id": "abc"}}"#,
    );
    assert_eq!((r.status, r.body.as_str()), (200, "abc fixed\n"));
    let r = d.request(
        "POST",
        "/hooks/redeploy",
        &[("Content-Type", "application/json"), ("X-Event", "skip-ci")],
        br#"{"ref": "refs/heads/main"}"#,
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (409, "Hook rules were not satisfied.")
    );
    let r = d.post("/hooks/notify", "{}");
    assert_eq!(
        (r.status, r.body.as_str(), r.header("x-tool")),
        (200, "queued", Some("hooks"))
    );
    assert_eq!(d.get("/hooks/notify").status, 405);
    let shown = d.json(&["show", "redeploy"]);
    assert_eq!(shown["env_from"]["HOOK_X-Event"], "header:X-Event");

    // Idempotent, like apply.
    let again = d.ctl(&["--json", "import", "--keep-paths", json.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(
        v.to_string().contains("unchanged") && !v.to_string().contains("\"update\""),
        "{v}"
    );

    let yaml = write_file(&dir, "hooks.yaml", YAML_FILE);
    let out = d.ctl(&["import", "--keep-paths", yaml.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = d.post("/hooks/from-yaml?who=me", "{}");
    assert_eq!(r.body, "me\n");

    let templated = write_file(&dir, "hooks.json.tmpl", TEMPLATED);
    let out = d
        .ctl_cmd(&["import", "--keep-paths", templated.to_str().unwrap()])
        .env("IMPORT_TEST_WORD", "say \"here\" & <there>")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        d.post("/hooks/templated", "{}").body,
        "say \"here\" & <there>\n"
    );
}

#[test]
fn untranslatable_hooks_are_refused_by_id() {
    let d = Daemon::start();
    let file = r#"[
      {"id": "good", "execute-command": "/bin/true"},
      {"id": "signed", "execute-command": "/bin/true", "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "s", "parameter": {"source": "payload", "name": "sig"}}}},
      {"id": "scalr", "execute-command": "/bin/true", "trigger-rule": {"match": {"type": "scalr-signature", "secret": "s"}}},
      {"id": "relative", "execute-command": "deploy.sh"},
      {"id": "odd-key", "execute-command": "/bin/true", "unknown-key": 1},
      {"id": "bad name!", "execute-command": "/bin/true"}
    ]"#;
    let path = write_file(&d.state_dir(), "hooks.json", file);
    let out = d.ctl(&["import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for (id, reason) in [
        ("signed", "from a header only"),
        ("scalr", "scalr-signature"),
        ("relative", "absolute"),
        ("odd-key", "unknown-key"),
        ("bad name!", "invalid hook name"),
    ] {
        assert!(
            err.contains(&format!("hook {id}: ")) && err.contains(reason),
            "{id}: {err}"
        );
    }
    assert!(
        d.hook_names().is_empty(),
        "nothing is created for a file with errors"
    );

    let out = d.ctl(&[
        "import",
        "--skip-invalid",
        "--dry-run",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(d.hook_names().is_empty(), "--dry-run changes nothing");
    let tokens = d.state_dir().join("tokens.txt");
    let out = d.ctl(&[
        "import",
        "--skip-invalid",
        "--tokens-out",
        tokens.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("skipped hook signed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(d.hook_names(), ["good"]);
    let written = std::fs::read_to_string(&tokens).unwrap();
    assert!(written.contains("/webhook/hkd_"), "{written}");
}

#[test]
fn signature_rules_become_verification_with_each_secret() {
    let d = Daemon::start();
    let file = r#"[
      {"id": "deploy", "execute-command": "/bin/echo", "include-command-output-in-response": true,
       "pass-arguments-to-command": [{"source": "payload", "name": "ref"}],
       "trigger-rule": {"and": [
         {"or": [
           {"match": {"type": "payload-hmac-sha256", "secret": "old-secret", "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}},
           {"match": {"type": "payload-hmac-sha256", "secret": "new-secret", "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}
         ]},
         {"match": {"type": "value", "value": "refs/heads/main", "parameter": {"source": "payload", "name": "ref"}}}
       ]}}
    ]"#;
    let path = write_file(&d.state_dir(), "hooks.json", file);
    let out = d.ctl(&["import", "--keep-paths", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = d.json(&["show", "deploy"]);
    assert_eq!(shown["verify"], "hmac-sha256");
    assert_eq!(shown["signature_header"], "X-Hub-Signature-256");
    let call = |secret: &[u8], body: &str| {
        let sig = format!(
            "sha256={}",
            crate::helper::hex(&crate::helper::hmac_sha256(secret, body.as_bytes()))
        );
        d.request(
            "POST",
            "/hooks/deploy",
            &[
                ("X-Hub-Signature-256", &sig),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    };
    let main = r#"{"ref": "refs/heads/main"}"#;
    let r = call(b"old-secret", main);
    assert_eq!((r.status, r.body.as_str()), (200, "refs/heads/main\n"));
    assert_eq!(
        call(b"new-secret", main).status,
        200,
        "either secret of the or verifies"
    );
    assert_eq!(call(b"other", main).status, 401);
    let r = call(b"new-secret", r#"{"ref": "refs/heads/dev"}"#);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "Hook rules were not satisfied.")
    );
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/webhook/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Hooks files in the shapes webhook's documentation shows (forges' signed and token pushes,
/// nested rules, an IP range, a CI form with JSON inside, a Slack slash command, a secret in a
/// GET query, a templated YAML file, XML and multipart bodies): each hook is imported and
/// answers as webhook does, or is refused by its id with the reason.
#[test]
fn documented_hooks_files_import_each_hook_or_name_why_not() {
    let d = Daemon::start();
    let import = |file: &str, extra: &[&str]| {
        let path = fixture(file);
        let mut args = vec!["import", "--keep-paths"];
        args.extend_from_slice(extra);
        args.push(&path);
        d.ctl_cmd(&args)
            .env("FIXTURE_BIN", "/bin")
            .env("FIXTURE_WORD", "shipped")
            .env("FIXTURE_SECRET", "release-secret")
            .output()
            .unwrap()
    };
    // (file, hooks imported, hooks refused with a word of the reason)
    type Outcome = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );
    let expected: &[Outcome] = &[
        (
            "forges.json",
            &["forge-push", "forge-token", "forge-ip", "ci-passed"],
            &[("cloud-signed", "scalr-signature")],
        ),
        ("release.yaml.tmpl", &["release"], &[]),
        ("slack.json", &["slash-deploy"], &[]),
        ("query-secret.json", &["simple-get"], &[]),
        (
            "xml.json",
            &[],
            &[
                ("xml-by-names", "XML"),
                ("xml-attribute-argument", "XML"),
                ("xml-application-type", "XML"),
                ("xml-text-type", "XML"),
            ],
        ),
        (
            "multipart.json",
            &[],
            &[("media-server", "multipart form data")],
        ),
    ];
    for (file, imported, refused) in expected {
        let before = d.hook_names();
        if !refused.is_empty() {
            let out = import(file, &[]);
            assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out.stderr));
            let err = text(&out.stderr);
            for (id, why) in *refused {
                let line = err
                    .lines()
                    .find(|l| l.contains(&format!("hook {id}: ")))
                    .unwrap_or_else(|| panic!("{file}: {id} not named: {err}"));
                assert!(line.contains(why), "{file}: {line}");
            }
            assert_eq!(d.hook_names(), before, "{file}: nothing created");
        }
        let out = import(file, &["--skip-invalid"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.success(), !imported.is_empty(), "{file}: {err}");
        for (id, _) in *refused {
            assert!(err.contains(&format!("hook {id}: ")), "{file}: {err}");
        }
        let mut want: Vec<String> = before.clone();
        want.extend(imported.iter().map(|s| s.to_string()));
        want.sort();
        let mut got = d.hook_names();
        got.sort();
        assert_eq!(got, want, "{file}");
    }

    let json = "application/json";
    let sign = |alg: &str, secret: &[u8], body: &str| -> String {
        use hmac::{Hmac, Mac};
        let mac = match alg {
            "sha1" => {
                let mut m = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
                m.update(body.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            _ => crate::helper::hmac_sha256(secret, body.as_bytes()),
        };
        format!("{alg}={}", crate::helper::hex(&mac))
    };
    // Signed with the older payload-hash-sha1 name, an and of an or and a not.
    let push = r#"{"ref": "refs/tags/v2.1", "after": "c0ffee", "sender": {"login": "ana"}, "deleted": false}"#;
    let sig = sign("sha1", b"forge-push-secret", push);
    let headers = [("Content-Type", json), ("X-Hub-Signature", sig.as_str())];
    let r = d.request("POST", "/hooks/forge-push", &headers, push.as_bytes());
    assert_eq!((r.status, r.body.as_str()), (200, "c0ffee ana\n"));
    let deleted = r#"{"ref": "refs/heads/main", "after": "c0ffee", "sender": {"login": "ana"}, "deleted": true}"#;
    let sig = sign("sha1", b"forge-push-secret", deleted);
    let headers = [("Content-Type", json), ("X-Hub-Signature", sig.as_str())];
    let r = d.request("POST", "/hooks/forge-push", &headers, deleted.as_bytes());
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "Hook rules were not satisfied.")
    );
    let headers = [
        ("Content-Type", json),
        ("X-Gitlab-Token", "t0ken-from-forge"),
    ];
    let r = d.request(
        "POST",
        "/hooks/forge-token",
        &headers,
        br#"{"user_name": "bo"}"#,
    );
    assert_eq!((r.status, r.body.as_str()), (200, "Deploying the site"));
    assert_eq!(
        d.json(&["show", "forge-token"])["env_from"]["DEPLOY_USER"],
        "payload:user_name"
    );
    let r = d.post("/hooks/forge-ip", "{}");
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "Hook rules were not satisfied.")
    );
    // A CI's form field holding JSON.
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let passed = "payload=%7B%22state%22%3A%22passed%22%2C%22branch%22%3A%22main%22%7D";
    let r = d.request("POST", "/hooks/ci-passed", &form, passed.as_bytes());
    assert_eq!((r.status, r.body.as_str()), (200, "main\n"));
    let failed = passed.replace("passed", "failed");
    let r = d.request("POST", "/hooks/ci-passed", &form, failed.as_bytes());
    assert_eq!(r.body, "Hook rules were not satisfied.");

    // The templated YAML file: command, argument and secret from the environment.
    let release = r#"{"action": "published", "release": {"tag_name": "v3"}}"#;
    let sig = sign("sha256", b"release-secret", release);
    let headers = [
        ("Content-Type", json),
        ("X-Hub-Signature-256", sig.as_str()),
    ];
    let r = d.request("POST", "/hooks/release", &headers, release.as_bytes());
    assert_eq!((r.status, r.body.as_str()), (200, "v3 shipped\n"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(d.json(&["show", "release"])["exec"], "/bin/echo");

    // A Slack slash command: a form body, the token in it, an answer at once.
    let slash = "token=slack-verification-token&user_name=ana&text=prod+now&response_url=https%3A%2F%2Fhooks.example%2Fr";
    let r = d.request("POST", "/hooks/slash-deploy", &form, slash.as_bytes());
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "Deploy started, results follow in the channel")
    );
    crate::helper::wait_until(
        "the slash command's run",
        std::time::Duration::from_secs(10),
        || {
            d.json(&["runs", "slash-deploy"])
                .as_array()
                .is_some_and(|runs| runs.iter().any(|r| r["status"] == "success"))
        },
    );
    let id = d.json(&["runs", "slash-deploy"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d.json(&["runs", "show", &id])["stdout"], "ana prod now\n");
    assert_eq!(
        d.json(&["show", "slash-deploy"])["env_from"]["HOOK_response_url"],
        "payload:response_url"
    );
    let r = d.request("POST", "/hooks/slash-deploy", &form, b"token=guess");
    assert_eq!(r.body, "Hook rules were not satisfied.");

    // A GET with the secret in the query.
    let r = d.get("/hooks/simple-get?token=not-so-secret-42&target=web");
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "Running the simple hook")
    );
    let r = d.get("/hooks/simple-get?target=web");
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "Hook rules were not satisfied.")
    );
    assert_eq!(
        d.post("/hooks/simple-get?token=not-so-secret-42", "")
            .status,
        405
    );
}
