//! Command hooks (`--exec PATH --arg REF…`) and request values for scripts (`--env-from`,
//! `--file-from`): what the program receives, byte for byte, whatever the caller sent; no shell
//! ever sees a value; values Linux cannot pass are refused before anything runs.

use crate::helper::{Daemon, text, write_file};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A program printing, as JSON, its argv, the variables starting `X_` and the files named by
/// variables starting `F_` (content and mode). Bytes go through latin-1 so nothing is lost.
const RECORDER: &str = r#"#!/usr/bin/env python3
import json, os, sys
enc = lambda b: b.decode("latin-1")
out = {"argv": [enc(os.fsencode(a)) for a in sys.argv[1:]], "env": {}, "files": {}}
for k, v in os.environb.items():
    k = enc(k)
    if k.startswith("X_"):
        out["env"][k] = enc(v)
    if k.startswith("F_"):
        p = os.fsdecode(v)
        with open(p, "rb") as f:
            out["files"][k] = {"path": p, "data": enc(f.read()), "mode": oct(os.stat(p).st_mode & 0o777)}
print(json.dumps(out))
"#;

fn recorder(dir: &Path) -> PathBuf {
    let p = write_file(dir, "recorder.py", RECORDER);
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

fn post(d: &Daemon, path: &str, ct: &str, body: &[u8]) -> crate::helper::Reply {
    d.request("POST", path, &[("Content-Type", ct), ("X-Tag", "t1")], body)
}

/// Values that would do harm if anything interpreted them.
fn hostile(marker: &Path) -> Vec<String> {
    vec![
        format!("$(touch {})", marker.display()),
        format!("`touch {}`; rm -rf /nonexistent", marker.display()),
        "a'b\"c\\d".into(),
        "line1\nline2\r\n\ttab".into(),
        " leading and trailing ".into(),
        "--help".into(),
        "é😀\u{7f}\u{1b}[31m".into(),
        "x".repeat(100 * 1024),
        String::new(),
    ]
}

#[test]
fn every_ref_source_reaches_the_command_byte_exact_and_is_never_executed() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let marker = d.state_dir().join("executed");
    for (i, value) in hostile(&marker).into_iter().enumerate() {
        let name = format!("cmd{i}");
        let t = d.create(
            &name,
            &[
                "--exec",
                prog.to_str().unwrap(),
                "--arg",
                "payload:v",
                "--arg",
                "payload:list.1.v",
                "--arg",
                "query:q",
                "--arg",
                "header:x-value",
                "--arg",
                "string:fixed arg",
                "--env-from",
                "X_PAYLOAD=payload:v",
                "--env-from",
                "X_MISSING=payload:nothing",
                "--file-from",
                "F_VALUE=payload:v",
                "--file-from",
                "F_B64=payload:b64,base64",
                "--output",
                "stdout",
            ],
        );
        let body =
            json!({"v": value, "list": [{}, {"v": value}], "b64": base64_of(value.as_bytes())});
        // HTTP itself cannot carry every value in a URL or a header: those get what it can.
        let query_value = if value.len() < 8000 {
            value.clone()
        } else {
            "long".into()
        };
        let q = url_encode(&query_value);
        let header_safe = value.len() < 8000 && value.bytes().all(|b| (0x20..0x7f).contains(&b));
        let header_value = if header_safe {
            value.trim().to_string()
        } else {
            "h".into()
        };
        let r = d.request(
            "POST",
            &format!("{}?q={q}", d.path(&t)),
            &[
                ("Content-Type", "application/json"),
                ("X-Value", &header_value),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(
            r.status,
            200,
            "value #{i}: {}",
            &r.body[..r.body.len().min(300)]
        );
        let got: Value = serde_json::from_str(&r.body).unwrap();
        let argv: Vec<&str> = got["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let expect = [
            latin1(&value),
            latin1(&value),
            latin1(&query_value),
            latin1(&header_value),
            "fixed arg".into(),
        ];
        assert_eq!(
            argv,
            expect.iter().map(String::as_str).collect::<Vec<_>>(),
            "value #{i}"
        );
        assert_eq!(got["env"]["X_PAYLOAD"], latin1(&value), "value #{i}");
        assert!(
            got["env"].get("X_MISSING").is_none(),
            "a missing value sets nothing"
        );
        for f in ["F_VALUE", "F_B64"] {
            let file = &got["files"][f];
            assert_eq!(file["data"], latin1(&value), "{f} of value #{i}");
            assert_eq!(file["mode"], "0o600");
            assert!(
                !Path::new(file["path"].as_str().unwrap()).exists(),
                "{f} removed after the run"
            );
        }
    }
    assert!(!marker.exists(), "a value was executed");
}

#[test]
fn whole_request_sources_carry_hostile_values_byte_exact() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let marker = d.state_dir().join("executed");
    let t = d.create(
        "whole",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "request:body",
            "--arg",
            "entire-payload",
            "--arg",
            "entire-query",
            "--env-from",
            "X_BODY=request:body",
            "--output",
            "stdout",
        ],
    );
    for (i, value) in hostile(&marker).into_iter().enumerate() {
        if value.len() > 1000 {
            continue; // the whole body twice would pass Linux's limit: covered by the 413 test
        }
        let body = json!({"v": value}).to_string();
        let r = d.request(
            "POST",
            &format!("{}?q={}", d.path(&t), url_encode(&value)),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "value #{i}: {}", r.body);
        let got: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(got["argv"][0], latin1(&body), "value #{i}");
        assert_eq!(got["env"]["X_BODY"], latin1(&body), "value #{i}");
        let payload: Value = serde_json::from_str(
            &String::from_utf8(
                got["argv"][1]
                    .as_str()
                    .unwrap()
                    .chars()
                    .map(|c| c as u8)
                    .collect(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(payload["v"], value.as_str(), "value #{i}");
        let query: Value = serde_json::from_str(
            &String::from_utf8(
                got["argv"][2]
                    .as_str()
                    .unwrap()
                    .chars()
                    .map(|c| c as u8)
                    .collect(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(query["q"], value.as_str(), "value #{i}");
    }
    assert!(!marker.exists(), "a value was executed");
}

#[test]
fn nul_and_oversized_values_are_refused_before_running() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let t = d.create(
        "c",
        &["--exec", prog.to_str().unwrap(), "--arg", "payload:v"],
    );
    let p = d.path(&t);
    let r = post(&d, &p, "application/json", br#"{"v": "a\u0000b"}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("NUL"), "{}", r.body);
    let big = json!({"v": "y".repeat(200 * 1024)}).to_string();
    let r = post(&d, &p, "application/json", big.as_bytes());
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        d.json(&["runs", "c"]).as_array().unwrap().is_empty(),
        "nothing ran"
    );
    // In a file, anything goes: files are not argv.
    let s = d.create(
        "f",
        &[
            "--run",
            "cat \"$F_V\" | od -An -c | tr -s ' '",
            "--raw-output",
            "--file-from",
            "F_V=payload:v",
        ],
    );
    let r = post(&d, &d.path(&s), "application/json", br#"{"v": "a\u0000b"}"#);
    assert_eq!((r.status, r.body.trim()), (200, "a \\0 b"));
}

#[test]
fn sources_forms_parse_json_content_type_and_whole_maps() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let t = d.create(
        "c",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "payload:name",
            "--arg",
            "payload:inner.deep.0",
            "--arg",
            "request:method",
            "--arg",
            "request:remote-addr",
            "--arg",
            "request:body",
            "--arg",
            "payload:missing",
            "--arg",
            "entire-query",
            "--arg",
            "header:X-TAG",
            "--parse-json",
            "inner",
            "--content-type",
            "application/x-www-form-urlencoded",
            "--output",
            "stdout",
        ],
    );
    let body = "name=a+b&name=second&inner=%7B%22deep%22%3A%5B%22z%22%5D%7D";
    let r = post(
        &d,
        &format!("{}?x=1&x=2&y=", d.path(&t)),
        "text/plain",
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Value = serde_json::from_str(&r.body).unwrap();
    let argv = got["argv"].as_array().unwrap();
    assert_eq!(argv[0], "a b");
    assert_eq!(argv[1], "z", "parse-json reaches inside the decoded field");
    assert_eq!(argv[2], "POST");
    let addr = argv[3].as_str().unwrap();
    assert!(
        addr.starts_with("127.0.0.1:") && addr[10..].parse::<u16>().is_ok(),
        "{addr}"
    );
    assert_eq!(argv[4], body);
    assert_eq!(argv[5], "", "a missing argument keeps its place, empty");
    let q: Value = serde_json::from_str(argv[6].as_str().unwrap()).unwrap();
    assert_eq!(q, json!({"x": "1", "y": ""}));
    assert_eq!(argv[7], "t1");

    let w = d.create(
        "whole",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "entire-payload",
            "--arg",
            "entire-headers",
            "--output",
            "stdout",
        ],
    );
    let r = post(
        &d,
        &d.path(&w),
        "application/json",
        br#"{"a": [1, {"b": null}]}"#,
    );
    let got: Value = serde_json::from_str(&r.body).unwrap();
    let payload: Value = serde_json::from_str(got["argv"][0].as_str().unwrap()).unwrap();
    assert_eq!(payload, json!({"a": [1, {"b": null}]}));
    let headers: Value = serde_json::from_str(got["argv"][1].as_str().unwrap()).unwrap();
    assert_eq!(headers["X-Tag"], "t1");
    assert_eq!(headers["Content-Type"], "application/json");
}

#[test]
fn command_hooks_are_checked_and_a_missing_program_fails_the_call() {
    let d = Daemon::start();
    let bad: &[(&[&str], &str)] = &[
        (&["--exec", "relative/prog"], "--exec"),
        (&["--exec", "/bin/true", "--arg", "payload:"], "--arg"),
        (&["--exec", "/bin/true", "--arg", "cookie:x"], "--arg"),
        (&["--run", "true", "--arg", "payload:x"], "--arg"),
        (&["--run", "true", "--env-from", "=payload:x"], "--env-from"),
        (
            &["--run", "true", "--env-from", "HOOKD_X=payload:x"],
            "--env-from",
        ),
        (
            &["--run", "true", "--file-from", "F=nothing"],
            "--file-from",
        ),
        (
            &["--run", "true", "--content-type", "json"],
            "--content-type",
        ),
    ];
    for (args, flag) in bad {
        let mut all = vec!["create", "x"];
        all.extend_from_slice(args);
        let out = d.ctl(&all);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            text(&out.stderr).contains(flag),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let t = d.create(
        "gone",
        &["--exec", "/nonexistent/program", "--arg", "string:x"],
    );
    let r = d.post(&d.path(&t), "{}");
    assert_eq!(r.status, 500);
    let shown = d.json(&["show", "gone"]);
    assert_eq!(shown["exec"], "/nonexistent/program");
    assert_eq!(shown["args"], json!(["string:x"]));
    // A script replaces the program, and back.
    d.json(&["edit", "gone", "--run", "echo script"]);
    assert!(d.json(&["show", "gone"]).get("exec").is_none());
    d.json(&[
        "edit",
        "gone",
        "--exec",
        "/bin/echo",
        "--arg",
        "string:prog",
    ]);
    let shown = d.json(&["show", "gone"]);
    assert!(shown.get("script").is_none(), "{shown}");
    assert_eq!(d.post(&d.path(&t), "{}").json()["stdout"], "prog\n");
}

fn latin1(s: &str) -> String {
    s.as_bytes().iter().map(|&b| b as char).collect()
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn env_from_and_query_values_are_refused_as_arguments_are() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let t = d.create(
        "c",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "entire-query",
            "--env-from",
            "X_V=payload:v",
            "--env-from",
            "X_Q=query:q",
            "--output",
            "stdout",
        ],
    );
    let p = d.path(&t);
    let s = d.create(
        "s",
        &[
            "--run",
            "printf %s \"$X_V\"",
            "--raw-output",
            "--env-from",
            "X_V=payload:v",
        ],
    );
    for path in [&p, &d.path(&s)] {
        let r = post(&d, path, "application/json", br#"{"v": "a\u0000b"}"#);
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.body.contains("X_V") && r.body.contains("NUL"),
            "{}",
            r.body
        );
        let big = json!({"v": "y".repeat(200 * 1024)}).to_string();
        let r = post(&d, path, "application/json", big.as_bytes());
        assert_eq!(r.status, 413, "{}", r.body);
        assert!(r.body.contains("X_V"), "{}", r.body);
    }
    // %00 in a query value: refused for a variable; inside entire-query it is JSON's \u0000.
    let r = post(&d, &format!("{p}?q=a%00b"), "application/json", b"{}");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("X_Q"), "{}", r.body);
    let e = d.create(
        "e",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "entire-query",
            "--output",
            "stdout",
        ],
    );
    let r = post(
        &d,
        &format!("{}?q=a%00b", d.path(&e)),
        "application/json",
        b"{}",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(got["argv"][0], r#"{"q":"a\u0000b"}"#);
    for name in ["c", "s"] {
        assert!(
            d.json(&["runs", name]).as_array().unwrap().is_empty(),
            "{name}: nothing ran"
        );
    }
}

/// Linux's limit is on the whole string it copies: an argument's bytes, or a variable's
/// `NAME=value`, with the terminating NUL, at most 128 KiB. The longest value that fits reaches
/// the command whole; one byte more is refused with 413 before anything runs.
#[test]
fn values_at_the_kernels_limit_pass_whole_and_one_byte_more_is_413() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let a = d.create(
        "a",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "payload:v",
            "--output",
            "stdout",
        ],
    );
    let e = d.create(
        "e",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--env-from",
            "X_LONG=payload:v",
            "--output",
            "stdout",
        ],
    );
    const LIMIT: usize = 128 * 1024;
    for (token, fits, got) in [
        (&a, LIMIT - 1, "/argv/0"),
        (&e, LIMIT - 1 - "X_LONG=".len(), "/env/X_LONG"),
    ] {
        let value = "z".repeat(fits);
        let body = json!({ "v": value }).to_string();
        let r = post(&d, &d.path(token), "application/json", body.as_bytes());
        assert_eq!(
            r.status,
            200,
            "{got} of {fits} bytes: {}",
            &r.body[..r.body.len().min(300)]
        );
        let out: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            out.pointer(got).and_then(Value::as_str),
            Some(value.as_str())
        );
        let body = json!({ "v": format!("{value}z") }).to_string();
        let r = post(&d, &d.path(token), "application/json", body.as_bytes());
        assert_eq!(r.status, 413, "{got} of {} bytes: {}", fits + 1, r.body);
    }
}

#[test]
fn hostile_header_and_form_values_reach_the_command_byte_exact() {
    let d = Daemon::start();
    let prog = recorder(&d.state_dir());
    let marker = d.state_dir().join("executed");
    let t = d.create(
        "c",
        &[
            "--exec",
            prog.to_str().unwrap(),
            "--arg",
            "header:X-Value",
            "--arg",
            "entire-headers",
            "--arg",
            "payload:v",
            "--arg",
            "entire-payload",
            "--env-from",
            "X_HEADER=header:x-value",
            "--env-from",
            "X_FORM=payload:v",
            "--output",
            "stdout",
        ],
    );
    let form = "application/x-www-form-urlencoded";
    // A header value is one line of text without control characters (HTTP allows no more):
    // the others get a plain header, and the text below stands in with UTF-8 in it.
    let in_header =
        |v: &str| v.len() < 8000 && v.trim() == v && !v.bytes().any(|b| b < 0x20 || b == 0x7f);
    let mut values = hostile(&marker);
    values.push(format!(
        "naïve 😀 'q' \"dq\" $(touch {0}) `touch {0}` ; | & > < * ?",
        marker.display()
    ));
    for (i, value) in values.into_iter().enumerate() {
        let header = if in_header(&value) {
            value.clone()
        } else {
            "plain".into()
        };
        let body = format!("v={}&other=1", url_encode(&value));
        let r = d.request(
            "POST",
            &d.path(&t),
            &[("Content-Type", form), ("X-Value", &header)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "value #{i}: {}", r.body);
        let got: Value = serde_json::from_str(&r.body).unwrap();
        let argv = got["argv"].as_array().unwrap();
        assert_eq!(argv[0], latin1(&header), "value #{i}: header");
        assert_eq!(got["env"]["X_HEADER"], latin1(&header), "value #{i}");
        let unlatin = |v: &Value| -> Value {
            let bytes: Vec<u8> = v.as_str().unwrap().chars().map(|c| c as u8).collect();
            serde_json::from_slice(&bytes).unwrap()
        };
        assert_eq!(unlatin(&argv[1])["X-Value"], header.as_str(), "value #{i}");
        assert_eq!(argv[2], latin1(&value), "value #{i}: form field");
        assert_eq!(got["env"]["X_FORM"], latin1(&value), "value #{i}");
        assert_eq!(
            unlatin(&argv[3]),
            json!({"v": value, "other": "1"}),
            "value #{i}"
        );
    }
    assert!(!marker.exists(), "a value was executed");
    // A form body is no way around the limits.
    let r = post(&d, &d.path(&t), form, b"v=a%00b");
    assert_eq!(r.status, 400, "{}", r.body);
    let big = format!("v={}", "y".repeat(200 * 1024));
    let r = post(&d, &d.path(&t), form, big.as_bytes());
    assert_eq!(r.status, 413, "{}", r.body);
}
