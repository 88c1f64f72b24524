//! The control socket and local users: `socket_group` members reach it, also when the socket's
//! directory was made beforehand the way systemd's `RuntimeDirectory=` makes it; others do not.

use crate::helper::{Daemon, HOOKCTL};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

/// Creates a system group and a user in it (and one outside it); `None` when this machine does
/// not let the test create users.
fn users(group: &str, member: &str, outsider: &str) -> Option<()> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let ok = |c: &mut Command| c.output().map(|o| o.status.success()).unwrap_or(false);
    let _ = Command::new("groupadd").args(["--system", group]).output();
    for (user, groups) in [(member, group), (outsider, "")] {
        let _ = Command::new("userdel").arg(user).output();
        let mut c = Command::new("useradd");
        c.args(["--system", "--no-create-home", "--shell", "/bin/sh"]);
        if !groups.is_empty() {
            c.args(["--groups", groups]);
        }
        if !ok(c.arg(user)) {
            return None;
        }
    }
    Some(())
}

fn hookctl_as(user: &str, socket: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", user, "--", HOOKCTL, "--socket"])
        .arg(socket)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn socket_group_members_reach_a_socket_in_a_directory_made_beforehand() {
    let (group, member, outsider) = ("hookdtsock", "hookdtsockm", "hookdtsocko");
    if users(group, member, outsider).is_none() {
        crate::helper::tools::skip("this test needs root and useradd to create a second user");
        return;
    }
    let mut d = Daemon::start_with(&format!("socket_group = \"{group}\"\n"));
    d.stop_with(15);
    // Now the directory exists before hookd starts, root:root 0750, as the unit's RuntimeDirectory=
    // leaves it; the test's own directory must let the other users through.
    std::fs::set_permissions(d.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = d.socket.parent().unwrap().to_path_buf();
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o750)).unwrap();
    d.boot();
    let socket = d.socket.clone();
    let gid = nix::unistd::Group::from_name(group)
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    let meta = std::fs::metadata(&run).unwrap();
    assert_eq!((meta.gid(), meta.mode() & 0o777), (gid, 0o750));

    let out = hookctl_as(member, &socket, &["--json", "status"]);
    assert!(
        out.status.success(),
        "a socket_group member uses hookctl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = hookctl_as(outsider, &socket, &["status"]);
    assert!(
        !out.status.success(),
        "a user outside the group is kept out"
    );
    drop(d);
    let _ = Command::new("userdel").arg(member).output();
    let _ = Command::new("userdel").arg(outsider).output();
}
