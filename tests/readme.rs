//! README.md's examples stay true: every shell block marked `<!-- runnable -->` runs, in order
//! and in one shell (as a reader follows the tour in one terminal), against a real daemon with
//! the built `hookctl` first on PATH. A block that fails fails the test, naming its line.

use crate::helper::{Daemon, HOOKCTL, text};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "<!-- runnable -->";

/// The runnable blocks: (line of the opening fence, the block's text).
fn runnable_blocks(readme: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == MARKER {
            let fence = i + 1;
            assert!(
                lines.get(fence).map(|l| l.trim()) == Some("```sh"),
                "README.md:{}: {MARKER} must stand right before a ```sh block",
                i + 1
            );
            let body: Vec<&str> = lines[fence + 1..]
                .iter()
                .take_while(|l| l.trim() != "```")
                .copied()
                .collect();
            i = fence + 1 + body.len();
            blocks.push((fence + 1, body.join("\n")));
        }
        i += 1;
    }
    blocks
}

#[test]
fn readme_runnable_examples_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = runnable_blocks(&readme);
    assert!(blocks.len() >= 5, "the tour's blocks are marked runnable");

    let d = Daemon::start();
    let mut script = String::from("set -eu\n");
    for (line, body) in &blocks {
        script.push_str(&format!("echo '>>> README.md:{line}' >&2\n{body}\n"));
    }
    script.push_str("echo '>>> all blocks ran' >&2\n");
    let home = d.dir.path().join("home");
    let work = d.dir.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let bin = Path::new(HOOKCTL).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("HOME", &home)
        .env("HOOKD_SOCKET", &d.socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    let failed_at = err
        .lines()
        .rev()
        .find(|l| l.starts_with(">>> "))
        .unwrap_or("(none)");
    assert!(
        out.status.success() && err.contains(">>> all blocks ran"),
        "a README example failed ({status}); last block started: {failed_at}\n--- stdout\n{}\n--- stderr\n{err}",
        text(&out.stdout),
        status = out.status
    );

    // What the tour promises, checked on the daemon it ran against.
    let names = d.hook_names();
    assert!(
        !names.iter().any(|n| n == "deploy"),
        "the tour deletes deploy: {names:?}"
    );
    crate::helper::wait_until(
        "the broken hook's Slack-format alarm to reach the stand-in",
        Duration::from_secs(20),
        || {
            d.json(&["deliveries", "local-alarms"])
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["event_type"] == "script.failed" && x["status"] == "succeeded")
        },
    );
}
