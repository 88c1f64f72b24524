//! The declarative hooks file of `apply` and `export`: `[[hook]]` tables in TOML.
//!
//! Reading reports mistakes with the file's line and column; writing produces a file that
//! `apply` reads back to the same hooks. URLs of hooks that `apply` creates are printed once, or
//! written to a private file with `--tokens-out` (see [`crate::cli::secretfile`]) so
//! provisioning tools never echo them.

use crate::proto::{Change, HookSpec};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksFile {
    #[serde(default)]
    hook: Vec<HookSpec>,
}

/// Reads and parses a hooks file (`-`: stdin).
pub fn read(path: &str) -> Result<Vec<HookSpec>, String> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the hooks file from stdin: {e}"))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?
    };
    parse(&text).map_err(|e| format!("{path}:{e}"))
}

/// The file as written: each hook a table, with where it stands.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    hook: Vec<toml::Spanned<toml::Table>>,
}

/// Parses hooks file text; errors start with `line:column: `. Each hook's options are read
/// strictly (serde's `flatten` would silently drop a misspelt option).
pub fn parse(text: &str) -> Result<Vec<HookSpec>, String> {
    let at = |offset: usize| {
        let (line, column) = crate::config::line_column(text, offset);
        format!("{line}:{column}")
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        format!(
            "{}: {}",
            at(e.span().map(|s| s.start).unwrap_or(0)),
            e.message().trim()
        )
    })?;
    let mut out = Vec::with_capacity(raw.hook.len());
    for spanned in raw.hook {
        // Only computed for an error: counting lines for every hook would be quadratic.
        let start = spanned.span().start;
        let pos = || at(start);
        let mut table = spanned.into_inner();
        let name = match table.remove("name") {
            Some(toml::Value::String(n)) => n,
            _ => return Err(format!("{}: a [[hook]] needs name = \"…\"", pos())),
        };
        let kind = match table.remove("kind") {
            Some(toml::Value::String(k)) => crate::proto::HookKind::parse(&k).ok_or_else(|| {
                format!(
                    "{}: hook {name}: kind {k:?} is not script, message or outgoing",
                    pos()
                )
            })?,
            _ => {
                return Err(format!(
                    "{}: hook {name}: needs kind = \"script\", \"message\" or \"outgoing\"",
                    pos()
                ));
            }
        };
        let options = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                format!("{}: hook {name}: {}", pos(), e.message().trim())
            })?;
        out.push(HookSpec {
            name,
            kind,
            options,
        });
    }
    Ok(out)
}

pub fn render(hooks: &[HookSpec]) -> String {
    let file = HooksFile {
        hook: hooks.to_vec(),
    };
    let body = toml::to_string_pretty(&file).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
    format!("# hookd hooks, for `hookctl apply -f FILE`. Tokens are never exported.\n{body}")
}

/// Prints what `apply` did; writes new URLs to `tokens_out` when given.
pub fn report(
    changes: &[Change],
    dry_run: bool,
    tokens_out: Option<&Path>,
    json: bool,
) -> Result<i32, String> {
    let urls: Vec<&Change> = changes.iter().filter(|c| c.url.is_some()).collect();
    if let Some(path) = tokens_out {
        let mut text = String::new();
        for c in &urls {
            text.push_str(&format!(
                "{} {}\n",
                c.name,
                c.url.as_deref().unwrap_or_default()
            ));
        }
        crate::cli::secretfile::write(path, text.as_bytes())?;
    }
    let hide_urls = tokens_out.is_some();
    if json {
        let shown: Vec<Change> = changes
            .iter()
            .map(|c| Change {
                url: if hide_urls { None } else { c.url.clone() },
                ..c.clone()
            })
            .collect();
        crate::cli::output::json(&serde_json::json!({"dry_run": dry_run, "changes": shown}));
        return Ok(0);
    }
    let changed = changes.iter().filter(|c| c.action != "unchanged").count();
    if changed == 0 {
        println!(
            "Nothing to change: all {} hooks already match.",
            changes.len()
        );
        return Ok(0);
    }
    let verb = |a: &str| match (a, dry_run) {
        ("create", true) => "would create",
        ("update", true) => "would update",
        ("delete", true) => "would delete",
        ("create", false) => "created",
        ("update", false) => "updated",
        ("delete", false) => "deleted",
        _ => "unchanged",
    };
    for c in changes {
        match (&c.url, hide_urls) {
            (Some(url), false) => println!("{:<13} {}  {url}", verb(&c.action), c.name),
            _ => println!("{:<13} {}", verb(&c.action), c.name),
        }
        for f in &c.fields {
            println!("{:<13}   {f}", "");
        }
        for w in &c.warnings {
            println!("{:<13}   warning: {w}", "");
        }
    }
    if !urls.is_empty() && !hide_urls {
        println!("The URLs above are shown only this once; keep them secret.");
    }
    if let (Some(p), false) = (tokens_out, urls.is_empty()) {
        println!(
            "URLs of {} new hook(s) written to {}",
            urls.len(),
            p.display()
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_round_trips() {
        let text = r#"
[[hook]]
name = "deploy"
kind = "script"
user = "www-data"
script = """
cd /srv/app && git pull && systemctl restart app
"""
[[hook]]
name = "ops-slack"
kind = "outgoing"
url = "https://hooks.slack.com/services/T0/B0/X"
format = "slack"
events = ["script.failed", "delivery.failed"]
"#;
        let hooks = parse(text).unwrap();
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks[0].options.user.as_deref(), Some("www-data"));
        assert_eq!(parse(&render(&hooks)).unwrap(), hooks);
    }

    #[test]
    fn mistakes_name_line_and_column() {
        let err =
            parse("[[hook]]\nname = \"x\"\nkind = \"script\"\nscirpt = \"true\"\n").unwrap_err();
        assert!(
            err.starts_with("1:1: hook x:") && err.contains("scirpt"),
            "{err}"
        );
        let err = parse("\n[[hook]]\nname = \"x\"\nkind = \"nope\"\n").unwrap_err();
        assert!(err.starts_with("2:1:"), "{err}");
        let err = parse("[[hook]]\nname = \"x\"\nkind = \"script\"\ntimeout = 5\n").unwrap_err();
        assert!(err.contains("hook x"), "{err}");
    }
}
