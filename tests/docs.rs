//! The committed man pages and completions must match what the clap definitions generate.

#[test]
fn generated_docs_are_fresh() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let regenerate = std::env::var_os("HOOKD_REGENERATE").is_some();
    let mut stale = Vec::new();
    for (path, content) in hookd::cli::docs::files() {
        let full = root.join(&path);
        if regenerate {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, &content).unwrap();
        } else if std::fs::read(&full).ok().as_deref() != Some(&content[..]) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `HOOKD_REGENERATE=1 cargo test generated_docs` and commit"
    );
}
