//! The Debian package: built without warnings, the group created once, run-time needs declared.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deb_metadata() -> toml::Value {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    manifest["package"]["metadata"]["deb"].clone()
}

#[test]
fn the_package_metadata_creates_the_group_once_and_names_its_needs() {
    let deb = deb_metadata();
    // cargo-deb installs packaging/hookd.sysusers itself (from unit-scripts) and runs
    // systemd-sysusers in postinst; a second copy or a second run is a mistake.
    assert!(root().join("packaging/hookd.sysusers").exists());
    for asset in deb["assets"].as_array().unwrap() {
        assert!(
            !asset[1].as_str().unwrap().contains("sysusers.d"),
            "sysusers is installed by cargo-deb already: {asset}"
        );
    }
    let postinst = std::fs::read_to_string(root().join("packaging/debian/postinst")).unwrap();
    let runs = postinst
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains("systemd-sysusers"))
        .count();
    assert_eq!(
        runs, 0,
        "cargo-deb's snippet runs systemd-sysusers:\n{postinst}"
    );
    // cargo-deb replaces every occurrence, comments included.
    assert_eq!(postinst.matches("#DEBHELPER#").count(), 1, "{postinst}");
    let depends = deb["depends"].as_str().unwrap();
    assert!(
        depends.contains("$auto") && depends.contains("systemd-sysusers"),
        "{depends}"
    );
}

/// Runs `cargo deb --no-build` on the release binaries when cargo-deb and those binaries are
/// there (CI builds them first); its output must hold no warning.
#[test]
fn cargo_deb_builds_without_warnings() {
    let have_deb = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let release = root().join("target/release");
    if !have_deb || !release.join("hookd").exists() || !release.join("hookctl").exists() {
        crate::helper::tools::skip(
            "needs cargo-deb and release binaries (cargo install cargo-deb; cargo build --release)",
        );
        return;
    }
    let out = Command::new("cargo")
        .args(["deb", "--no-build", "--output"])
        .arg(std::env::temp_dir().join("hookd-package-test.deb"))
        .current_dir(root())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.to_lowercase().contains("warning"), "{all}");
    let _ = std::fs::remove_file(std::env::temp_dir().join("hookd-package-test.deb"));
}

#[test]
fn the_socket_unit_ships_disabled_and_the_service_enabled() {
    let socket = std::fs::read_to_string(root().join("packaging/hookd.socket")).unwrap();
    assert!(socket.contains("\nListenStream=7235\n"), "{socket}");
    assert!(
        socket.contains("[Install]\nWantedBy=sockets.target"),
        "{socket}"
    );
    // cargo-deb would enable every unit of the package; it enables none, postinst the service.
    let units = &deb_metadata()["systemd-units"];
    assert_eq!(units["enable"].as_bool(), Some(false), "{units}");
    let postinst = std::fs::read_to_string(root().join("packaging/debian/postinst")).unwrap();
    let code: Vec<&str> = postinst
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        code.iter()
            .any(|l| l.contains("deb-systemd-helper enable hookd.service"))
    );
    assert!(!code.iter().any(|l| l.contains("hookd.socket")));
}

/// packaging/config.toml, the installed example, names every key hookd knows; with every
/// commented-out setting switched on it is still a valid config.
#[test]
fn the_example_config_shows_every_key() {
    let text = std::fs::read_to_string(root().join("packaging/config.toml")).unwrap();
    let on: Vec<&str> = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if !rest.starts_with(' ') && rest.contains(" = ") => rest,
            _ => l,
        })
        .collect();
    let config = hookd::config::parse(&on.join("\n"), Path::new("config.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(config.validate().is_ok());
    assert!(config.tls() && config.metrics_listen.is_some() && config.public_url.is_some());
    assert!(!config.trust_proxy.is_empty() && config.socket_group.is_some());
    let all: toml::Table = toml::from_str(&config.to_toml()).unwrap();
    for (key, value) in &all {
        let keys: Vec<String> = match value.as_table() {
            Some(t) => t.keys().cloned().collect(),
            None => vec![key.clone()],
        };
        for k in keys {
            assert!(
                on.iter().any(|l| l.starts_with(&format!("{k} = "))),
                "packaging/config.toml does not show {k}"
            );
        }
    }
}
