//! Fixed paths: `--path /hooks/NAME` serves a hook at a public path besides its token URL,
//! only when something else guards it (`--verify`, `--allow-ip`) or the admin says
//! `--insecure-path`; paths are unique and shown in listings.

use crate::helper::{Daemon, hex, hmac_sha256, text};

#[test]
fn a_fixed_path_serves_the_hook_and_needs_a_guard() {
    let d = Daemon::start();
    let out = d.ctl(&[
        "create",
        "open",
        "--run",
        "echo hi",
        "--path",
        "/hooks/open",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--path") && err.contains("--insecure-path"),
        "{err}"
    );
    for bad in ["/webhook/x", "/hooks/", "/hooks/a/b", "/hooks/a b"] {
        let out = d.ctl(&[
            "create",
            "bad",
            "--run",
            "true",
            "--insecure-path",
            "--path",
            bad,
        ]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(text(&out.stderr).contains("--path"), "{bad}");
    }

    let t = d.create(
        "open",
        &[
            "--run",
            "echo hi",
            "--raw-output",
            "--path",
            "/hooks/open",
            "--insecure-path",
        ],
    );
    assert_eq!(d.post("/hooks/open", "{}").body, "hi\n");
    assert_eq!(
        d.post(&d.path(&t), "{}").body,
        "hi\n",
        "the token URL still works"
    );
    assert_eq!(d.post("/hooks/other", "{}").status, 404);

    d.create(
        "signed",
        &[
            "--run",
            "echo signed",
            "--raw-output",
            "--verify",
            "github",
            "--secret",
            "k",
            "--path",
            "/hooks/signed",
        ],
    );
    assert_eq!(d.post("/hooks/signed", "{}").status, 401);
    let sig = format!("sha256={}", hex(&hmac_sha256(b"k", b"{}")));
    let r = d.request(
        "POST",
        "/hooks/signed",
        &[
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", &sig),
        ],
        b"{}",
    );
    assert_eq!(r.body, "signed\n");

    // Unique; shown; removable; gone when disabled.
    let out = d.ctl(&[
        "create",
        "dup",
        "--run",
        "true",
        "--insecure-path",
        "--path",
        "/hooks/open",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("open"), "{}", text(&out.stderr));
    let out = d.ctl(&["edit", "signed", "--path", "/hooks/open"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(d.json(&["show", "open"])["path"], "/hooks/open");
    let listed = text(&d.ctl(&["list"]).stdout);
    assert!(listed.contains("/hooks/open"), "{listed}");
    d.json(&["disable", "open"]);
    assert_eq!(d.post("/hooks/open", "{}").status, 404);
    d.json(&["enable", "open"]);
    d.json(&["edit", "open", "--path", ""]);
    assert_eq!(d.post("/hooks/open", "{}").status, 404);
    assert_eq!(d.post(&d.path(&t), "{}").body, "hi\n");
}
