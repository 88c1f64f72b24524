//! Response control of script hooks: the status of a success, extra headers, the body of an
//! async answer, plain-text output (stdout, both streams, none), hidden or shown output on
//! failure; `--method '*'`; 405 answers with an empty body and `Allow`.

use crate::helper::{Daemon, text};

const FAILED: &str =
    "Error occurred while executing the hook's command. Please check your logs for more details.";

#[test]
fn output_modes_statuses_and_headers() {
    let d = Daemon::start();
    let both = "echo out1; sleep 0.3; echo err1 >&2; sleep 0.3; echo out2";
    let combined = d.create(
        "combined",
        &[
            "--run",
            both,
            "--output",
            "combined",
            "--success-status",
            "201",
            "--response-header",
            "X-Served-By: hookd",
            "--response-header",
            "Access-Control-Allow-Origin: *",
        ],
    );
    let r = d.post(&d.path(&combined), "{}");
    assert_eq!(r.status, 201);
    assert_eq!(r.body, "out1\nerr1\nout2\n");
    assert_eq!(r.header("x-served-by"), Some("hookd"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));

    let stdout = d.create("stdout", &["--run", both, "--output", "stdout"]);
    let r = d.post(&d.path(&stdout), "{}");
    assert_eq!((r.status, r.body.as_str()), (200, "out1\nout2\n"));

    let none = d.create(
        "none",
        &["--run", both, "--output", "none", "--response-body", "done"],
    );
    assert_eq!(d.post(&d.path(&none), "{}").body, "done");

    let hidden = d.create(
        "hidden",
        &[
            "--run",
            "echo secret-detail >&2; exit 3",
            "--output",
            "combined",
        ],
    );
    let r = d.post(&d.path(&hidden), "{}");
    assert_eq!((r.status, r.body.as_str()), (500, FAILED));
    let shown = d.create(
        "shown",
        &[
            "--run",
            "echo detail >&2; exit 3",
            "--output",
            "combined",
            "--error-output",
        ],
    );
    let r = d.post(&d.path(&shown), "{}");
    assert_eq!((r.status, r.body.as_str()), (500, "detail\n"));

    // Without --output, the answer stays the JSON of the product contract.
    let plain = d.create("plain", &["--run", "exit 2"]);
    let r = d.post(&d.path(&plain), "{}");
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["exit_code"], 2);
}

#[test]
fn async_answers_headers_on_mismatch_and_methods() {
    let d = Daemon::start();
    let t = d.create(
        "bg",
        &[
            "--run",
            "true",
            "--async",
            "--success-status",
            "200",
            "--response-body",
            "queued it",
            "--response-header",
            "X-A: 1",
            "--if",
            "payload.go == true",
            "--method",
            "*",
        ],
    );
    let p = d.path(&t);
    let r = d.post(&p, r#"{"go": true}"#);
    assert_eq!((r.status, r.body.as_str()), (200, "queued it"));
    assert_eq!(r.header("x-a"), Some("1"));
    let r = d.post(&p, r#"{"go": false}"#);
    assert_eq!(r.body, "Hook rules were not satisfied.");
    assert_eq!(
        r.header("x-a"),
        None,
        "headers only once the condition held"
    );
    for m in ["PUT", "DELETE", "PATCH"] {
        let r = d.request(
            m,
            &p,
            &[("Content-Type", "application/json")],
            b"{\"go\":true}",
        );
        assert_eq!(r.status, 200, "{m}");
    }

    let only_post = d.create("only-post", &["--run", "true", "--method", "POST"]);
    let r = d.get(&d.path(&only_post));
    assert_eq!((r.status, r.body.as_str()), (405, ""));
    assert_eq!(r.header("allow"), Some("POST"));

    let shown = d.json(&["show", "bg"]);
    assert_eq!(shown["success_status"], 200);
    assert_eq!(shown["response_headers"]["X-A"], "1");
    assert_eq!(shown["response_body"], "queued it");
    assert_eq!(shown["methods"][0], "*");
}

#[test]
fn response_options_are_checked() {
    let d = Daemon::start();
    let cases: &[(&[&str], &str)] = &[
        (&["--output", "stderr"], "--output"),
        (&["--error-output"], "--error-output"),
        (&["--success-status", "99"], "--success-status"),
        (&["--response-header", "Bad Name: x"], "--response-header"),
        (&["--response-header", "no colon"], "--response-header"),
    ];
    for (args, flag) in cases {
        let mut all = vec!["create", "x", "--run", "true"];
        all.extend_from_slice(args);
        let out = d.ctl(&all);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            text(&out.stderr).contains(flag),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = d.ctl(&["create", "m", "--message", "--output", "stdout"]);
    assert!(
        text(&out.stderr).contains("--output"),
        "{}",
        text(&out.stderr)
    );
    d.create("h", &["--run", "true", "--response-header", "X-A: 1"]);
    d.json(&["edit", "h", "--response-header", ""]);
    assert!(d.json(&["show", "h"]).get("response_headers").is_none());
}
