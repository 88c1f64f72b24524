//! Files hookctl writes secrets into (`apply --tokens-out`): 0600 from the start, an existing
//! file of the caller replaced atomically, symlinks and other users' files refused.

use crate::helper::{Daemon, text, write_file};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

const FILE: &str = "[[hook]]\nname = \"deploy\"\nkind = \"script\"\nscript = \"true\"\n";

fn apply(d: &Daemon, tokens: &std::path::Path) -> std::process::Output {
    let f = write_file(d.dir.path(), "hooks.toml", FILE);
    d.ctl(&[
        "apply",
        "-f",
        f.to_str().unwrap(),
        "--tokens-out",
        tokens.to_str().unwrap(),
    ])
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_existing_token_file_of_the_caller_is_replaced_by_a_private_one() {
    let d = Daemon::start();
    let tokens = write_file(d.dir.path(), "tokens.txt", "old contents\n");
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::metadata(&tokens).unwrap().ino();
    // Someone holding the old file open must not see what is written now.
    let held = std::fs::File::open(&tokens).unwrap();
    let out = apply(&d, &tokens);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&tokens), 0o600);
    let written = std::fs::read_to_string(&tokens).unwrap();
    assert!(written.starts_with("deploy http://") && written.contains("/webhook/hkd_"));
    assert!(!written.contains("old contents"));
    assert_ne!(
        std::fs::metadata(&tokens).unwrap().ino(),
        before,
        "a new file took the name (rename), the old one was not rewritten in place"
    );
    let old = std::io::read_to_string(held).unwrap();
    assert_eq!(old, "old contents\n");
    let leftovers: Vec<_> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tokens.txt"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_symlink_is_never_followed_and_nothing_is_applied() {
    let d = Daemon::start();
    let target = write_file(d.dir.path(), "victim", "precious\n");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = d.dir.path().join("tokens.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = apply(&d, &link);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    assert_eq!(mode(&target), 0o644);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Refused before the daemon was asked: no hook exists whose URL nobody got.
    assert_eq!(d.json(&["list"]).as_array().unwrap().len(), 0);
    // A dangling link is refused too (O_CREAT would otherwise create its target).
    let dangling = d.dir.path().join("dangling");
    let nowhere = d.dir.path().join("created-through-link");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();
    assert_eq!(apply(&d, &dangling).status.code(), Some(1));
    assert!(!nowhere.exists());
}

#[test]
fn a_file_of_another_user_is_refused() {
    if !nix::unistd::geteuid().is_root() {
        crate::helper::tools::skip("needs root to give a file to another user (CI runs as root)");
        return;
    }
    let d = Daemon::start();
    let tokens = write_file(d.dir.path(), "tokens.txt", "");
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&tokens, Some(65534), Some(65534)).unwrap();
    let out = apply(&d, &tokens);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("belongs to uid 65534"), "{err}");
    assert_eq!(std::fs::read_to_string(&tokens).unwrap(), "");
    assert_eq!(std::fs::metadata(&tokens).unwrap().uid(), 65534);
}

#[test]
fn a_new_token_file_is_private_whatever_the_umask() {
    let d = Daemon::start();
    let tokens = d.dir.path().join("new-tokens.txt");
    let f = write_file(d.dir.path(), "hooks.toml", FILE);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(crate::helper::HOOKCTL)
        .arg("--socket")
        .arg(&d.socket)
        .args(["apply", "-f", f.to_str().unwrap(), "--tokens-out"])
        .arg(&tokens)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&tokens), 0o600);
}
