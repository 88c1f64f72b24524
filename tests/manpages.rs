//! The man pages reference only pages that exist, one per command, and the package ships them.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pages() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_page_a_man_page_names_exists() {
    let refs = regex::Regex::new(r"\b(hook(?:d|ctl)(?:-[a-z]+)*)\(([18])\)").unwrap();
    let pages = pages();
    let mut missing = Vec::new();
    for page in &pages {
        let roff = std::fs::read_to_string(root().join("man").join(page)).unwrap();
        let plain = roff
            .replace("\\fB", "")
            .replace("\\fR", "")
            .replace("\\fI", "")
            .replace("\\-", "-");
        for c in refs.captures_iter(&plain) {
            let wanted = format!("{}.{}", &c[1], &c[2]);
            if !pages.contains(&wanted) {
                missing.push(format!("{page} names {wanted}"));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    for command in ["create", "edit", "delete", "apply", "runs", "runs-show"] {
        assert!(pages.contains(&format!("hookctl-{command}.1")), "{pages:?}");
    }
    let main = std::fs::read_to_string(root().join("man/hookctl.1")).unwrap();
    assert!(
        main.contains("HOOKD_PARAM_"),
        "SCRIPT ENVIRONMENT names HOOKD_PARAM_*"
    );
    let create = std::fs::read_to_string(root().join("man/hookctl-create.1")).unwrap();
    assert!(
        create.contains("concurrency") && create.contains("generate\\-secret"),
        "per-command options are documented"
    );
}

#[test]
fn the_package_ships_every_man_page() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let assets = manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .unwrap();
    let shipped = |file: &str| {
        assets.iter().any(|a| {
            let source = a[0].as_str().unwrap();
            match source.split_once('*') {
                Some((pre, post)) => file.starts_with(pre) && file.ends_with(post),
                None => source == file,
            }
        })
    };
    for page in pages() {
        let file = format!("man/{page}");
        assert!(
            shipped(&file),
            "{file} is not in [package.metadata.deb] assets"
        );
    }
}
