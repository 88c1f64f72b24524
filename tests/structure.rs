//! The shape of the source tree the maintainers agreed on: short functions and files, storage
//! behind `src/store/`, and the daemon above everything it uses.

use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 80;
const MAX_FILE_LINES: usize = 600;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file under `src/`, named from the crate root, with its text.
fn tree() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(root).unwrap().display().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The text before the file's test module, if it has one.
fn without_tests(text: &str) -> &str {
    text.find("\n#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// Functions (with a body) longer than the limit, as `file:line (n lines)`. A function ends at
/// the first line that closes a brace at the indentation it was declared at.
fn long_functions(name: &str, text: &str) -> Vec<String> {
    let lines: Vec<&str> = without_tests(text).lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let is_fn = [
            "fn ",
            "pub fn ",
            "async fn ",
            "pub async fn ",
            "pub(crate) fn ",
        ]
        .iter()
        .any(|p| code.starts_with(p));
        if !is_fn || code.ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            let n = end + 2;
            if n > MAX_FUNCTION_LINES {
                found.push(format!("{name}:{} ({n} lines)", i + 1));
            }
        }
    }
    found
}

#[test]
fn functions_and_files_stay_short() {
    let mut problems = Vec::new();
    for (name, text) in tree() {
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            problems.push(format!("{name} has {n} lines"));
        }
        problems.extend(long_functions(&name, &text));
    }
    assert!(problems.is_empty(), "too long: {problems:#?}");
}

#[test]
fn the_measure_of_a_function_sees_a_long_one() {
    let body = "    let x = 1;\n".repeat(MAX_FUNCTION_LINES);
    let text = format!("fn short() {{\n}}\n\npub async fn long() {{\n{body}}}\n");
    assert_eq!(long_functions("x.rs", &text), ["x.rs:4 (82 lines)"]);
}

#[test]
fn storage_stays_behind_its_seam_and_below_the_daemon() {
    let mut problems = Vec::new();
    for (name, text) in tree() {
        let code = without_tests(&text);
        if !name.starts_with("src/store/") && code.contains("rusqlite") {
            problems.push(format!("{name} uses rusqlite outside src/store/"));
        }
        let below_daemon = [
            "src/store/",
            "src/cli/",
            "src/proto",
            "src/template",
            "src/signature",
        ]
        .iter()
        .any(|p| name.starts_with(p));
        if below_daemon && code.contains("crate::daemon") {
            problems.push(format!("{name} imports crate::daemon"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The daemon's modules (a file under `src/daemon/`, or a folder there with its file) and the
/// daemon modules each one names in its code (comments and test modules aside).
fn daemon_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut graph = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for (name, text) in tree() {
        let Some(rest) = name.strip_prefix("src/daemon/") else {
            continue;
        };
        let module = rest.split(['/', '.']).next().unwrap().to_string();
        let in_folder = rest.contains('/');
        let deps = graph.entry(module.clone()).or_default();
        for line in without_tests(&text).lines() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let mut prefixes = vec!["crate::daemon::"];
            if !in_folder {
                prefixes.push("super::"); // in a file of src/daemon/, super is the daemon
            }
            for prefix in prefixes {
                for (i, _) in line.match_indices(prefix) {
                    let tail = &line[i + prefix.len()..];
                    let end = tail
                        .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                        .unwrap_or(tail.len());
                    let dep = &tail[..end];
                    if !dep.is_empty() && dep != module {
                        deps.insert(dep.to_string());
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn the_daemons_modules_import_in_one_direction() {
    let graph = daemon_imports();
    // Depth-first, keeping the path: an edge back into the path closes a circle.
    fn visit(
        m: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
        circles: &mut Vec<String>,
    ) {
        if let Some(i) = path.iter().position(|p| p == m) {
            circles.push(format!("{} -> {m}", path[i..].join(" -> ")));
            return;
        }
        if !done.insert(m.to_string()) {
            return;
        }
        path.push(m.to_string());
        for dep in graph.get(m).into_iter().flatten() {
            visit(dep, graph, path, done, circles);
        }
        path.pop();
    }
    let (mut done, mut circles) = (Default::default(), Vec::new());
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(graph.contains_key("incoming") && graph["http"].contains("incoming"));
    assert!(circles.is_empty(), "import circles: {circles:#?}");
    let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin/hookd.rs"));
    assert!(
        main.unwrap().contains("daemon::run"),
        "src/bin/hookd.rs runs the daemon"
    );
}
