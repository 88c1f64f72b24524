//! Caller and script text printed to a terminal cannot drive it: control characters other than
//! newline and tab are shown escaped there; a pipe, or `--raw`, gets the bytes.

use crate::helper::{Daemon, text};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Stdio;

/// Runs `hookctl ARGS` with stdout on a pseudo-terminal and returns what it wrote there.
fn on_terminal(d: &Daemon, args: &[&str]) -> Vec<u8> {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    // No output post-processing (\n → \r\n): we compare bytes.
    let mut t = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    t.output_flags.remove(nix::sys::termios::OutputFlags::OPOST);
    nix::sys::termios::tcsetattr(pty.slave.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t)
        .unwrap();
    let slave: OwnedFd = pty.slave;
    let mut child = d
        .ctl_cmd(args)
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child holds the only slave descriptor now; reading ends with EIO once it exits.
    let mut master = std::fs::File::from(pty.master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "hookctl {args:?}: {err}");
    out
}

const EVIL: &str = "\x1b]0;owned\x07\x1b[2J";

#[test]
fn control_characters_reach_a_terminal_escaped_and_a_pipe_as_sent() {
    let d = Daemon::start();
    let t = d.create("echo", &["--run", "printf 'a\\tb\\n'; cat", "--raw-output"]);
    let r = d.post(&d.path(&t), EVIL);
    assert_eq!(r.status, 200);
    let run = d.json(&["runs", "echo"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let shown = on_terminal(&d, &["runs", "show", &run]);
    assert!(
        !shown.contains(&0x1b) && !shown.contains(&0x07),
        "{shown:?}"
    );
    let shown = text(&shown);
    assert!(shown.contains("\\x1b]0;owned\\x07\\x1b[2J"), "{shown}");
    assert!(shown.contains("a\tb\n"), "tab and newline pass: {shown:?}");

    let tested = on_terminal(&d, &["test", "echo", "--data", EVIL]);
    assert!(!tested.contains(&0x1b), "{}", text(&tested));
    assert!(text(&tested).contains("\\x1b[2J"));

    // A pipe gets the bytes, and so does a terminal with --raw.
    let piped = d.ctl(&["runs", "show", &run]);
    assert!(text(&piped.stdout).contains(EVIL));
    let raw = on_terminal(&d, &["--raw", "runs", "show", &run]);
    assert!(text(&raw).contains(EVIL), "{}", text(&raw));
}

#[test]
fn logs_reach_a_terminal_escaped_and_a_pipe_as_logged() {
    let d = Daemon::start();
    // A log line holding control characters: the error naming a secret file that went away,
    // whose name carries them.
    let file = d.dir.path().join(format!("gh-secret{EVIL}"));
    std::fs::write(&file, "s3cret").unwrap();
    let reference = format!("@file:{}", file.display());
    let t = d.create(
        "deploy",
        &[
            "--run", "true", "--verify", "github", "--secret", &reference,
        ],
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(d.post(&d.path(&t), "{}").status, 500);

    let shown = on_terminal(&d, &["logs", "deploy"]);
    assert!(
        !shown.contains(&0x1b) && !shown.contains(&0x07),
        "{shown:?}"
    );
    let shown = text(&shown);
    assert!(
        shown.contains("gh-secret\\x1b]0;owned\\x07\\x1b[2J"),
        "{shown}"
    );
    assert!(shown.contains("500"), "{shown}");

    // A pipe gets the bytes, and so does a terminal with --raw.
    let piped = d.ctl(&["logs", "deploy"]);
    assert!(
        text(&piped.stdout).contains(EVIL),
        "{}",
        text(&piped.stdout)
    );
    let raw = on_terminal(&d, &["--raw", "logs", "deploy"]);
    assert!(text(&raw).contains(EVIL), "{}", text(&raw));
}
