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
