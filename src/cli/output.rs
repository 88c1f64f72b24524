//! What `hookctl` prints: comfy-table tables for people, one JSON document with `--json`.
//!
//! Tables never show a secret: views from the daemon do not carry any. Times are shortened to
//! the second for people; JSON keeps the RFC 3339 strings exactly as the daemon sent them.
//! Text that callers or scripts chose (run output, logged paths and errors, test answers) goes
//! through [`terminal_safe`] when it is bound for a terminal, so an escape sequence in a request
//! cannot drive the admin's terminal; a pipe gets the bytes.

use crate::proto::{DeliveryView, HookKind, HookView, LogView, RunView, StatusView};
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use std::borrow::Cow;

/// `text` with every control character but newline and tab written as an escape (`\x1b`,
/// `\x7f`, `\u{9b}`), when `escape` is set; otherwise `text` itself.
pub fn terminal_safe(text: &str, escape: bool) -> Cow<'_, str> {
    let harmless = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if !escape || text.chars().all(harmless) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if harmless(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("hookctl: cannot encode JSON: {e}"),
    }
}

/// One NDJSON line (for streams).
pub fn json_line<T: Serialize>(value: &T) {
    if let Ok(s) = serde_json::to_string(value) {
        println!("{s}");
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// `2026-11-23T14:00:05.123Z` → `2026-11-23 14:00:05`.
pub fn short_time(t: &str) -> String {
    let t = t.split('.').next().unwrap_or(t).trim_end_matches('Z');
    t.replacen('T', " ", 1)
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub fn hooks(list: &[HookView]) {
    if list.is_empty() {
        println!("No hooks yet. Create one with: hookctl create NAME --run 'echo hello'");
        return;
    }
    let mut t = table(&[
        "Name",
        "Kind",
        "Enabled",
        "Run user / URL",
        "Raw output",
        "Calls",
        "Last call",
        "Token",
    ]);
    for h in list {
        let target = match h.kind {
            Some(HookKind::Script) => opt(&h.user),
            Some(HookKind::Outgoing) => opt(&h.url),
            _ => "-".into(),
        };
        t.add_row(vec![
            h.name.clone(),
            h.kind.map(|k| k.to_string()).unwrap_or_default(),
            yes_no(h.enabled).into(),
            target,
            h.raw_output
                .map(|r| yes_no(r).to_string())
                .unwrap_or_else(|| "-".into()),
            h.call_count.to_string(),
            h.last_call_at
                .as_deref()
                .map(short_time)
                .unwrap_or_else(|| "never".into()),
            match (&h.token_prefix, &h.path) {
                (Some(p), Some(path)) => format!("{p}…\n{path}"),
                (Some(p), None) => format!("{p}…"),
                _ => "-".into(),
            },
        ]);
    }
    println!("{t}");
}

/// One hook: every field in a table, then the script text as it is (a table cell would wrap
/// and pad it).
pub fn hook(h: &HookView) {
    let mut t = table(&["Field", "Value"]);
    let value = serde_json::to_value(h).unwrap_or_default();
    if let serde_json::Value::Object(map) = value {
        for (k, v) in map {
            if k == "script" {
                continue;
            }
            let shown = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) if k.ends_with("_at") => short_time(&s),
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => yes_no(b).into(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                serde_json::Value::Object(o) => o
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}={}",
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => other.to_string(),
            };
            let shown = if k == "token_prefix" {
                format!("{shown}…")
            } else {
                shown
            };
            t.add_row(vec![k, shown]);
        }
    }
    println!("{t}");
    if let Some(script) = &h.script {
        println!("--- script ---");
        print!("{script}");
        if !script.ends_with('\n') {
            println!();
        }
    }
}

pub fn status(s: &StatusView) {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    for (k, v) in [
        ("Version", s.version.clone()),
        ("Uptime", crate::time::Dur::secs(s.uptime_secs).to_string()),
        ("Listen", s.listen.clone()),
        ("Socket", s.socket.clone()),
        ("Database", s.database.clone()),
        ("Hooks", s.hooks.to_string()),
        ("Queue depth", s.queue_depth.to_string()),
        ("Running scripts", s.running_scripts.to_string()),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    for e in &s.endpoints {
        let failing = match &e.failing_since {
            Some(since) => format!(", failing since {}", short_time(since)),
            None => String::new(),
        };
        t.add_row(vec![
            format!("Outgoing {}", e.hook),
            format!("{} waiting{failing}", e.backlog),
        ]);
    }
    for n in s.nodes.iter().flatten() {
        t.add_row(vec![
            format!("Node {}", n.name),
            format!(
                "{}, up since {}, seen {}",
                n.listen,
                short_time(&n.started_at),
                short_time(&n.last_seen)
            ),
        ]);
    }
    println!("{t}");
}

pub fn runs(list: &[RunView]) {
    if list.is_empty() {
        println!("No runs.");
        return;
    }
    let mut t = table(&["Id", "Hook", "Status", "Exit", "Started", "Duration"]);
    for r in list {
        t.add_row(vec![
            r.id.clone(),
            r.hook.clone(),
            r.status.as_str().into(),
            r.exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            r.started_at
                .as_deref()
                .map(short_time)
                .unwrap_or_else(|| "-".into()),
            r.duration_ms
                .map(|d| format!("{d} ms"))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("{t}");
}

pub fn run(r: &RunView, escape: bool) {
    println!("Run {} of {}: {}", r.id, r.hook, r.status.as_str());
    if let Some(c) = r.exit_code {
        println!("Exit code: {c}");
    }
    println!("Queued:   {}", short_time(&r.queued_at));
    if let Some(s) = &r.started_at {
        println!("Started:  {}", short_time(s));
    }
    if let Some(f) = &r.finished_at {
        println!("Finished: {}", short_time(f));
    }
    if let Some(d) = r.duration_ms {
        println!("Duration: {d} ms");
    }
    if let Some(of) = &r.rerun_of {
        println!("Rerun of: {of}");
    }
    if let Some(uid) = r.cancelled_by {
        println!("Cancelled by uid {uid}");
    }
    for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        if let Some(text) = text.as_ref().filter(|t| !t.is_empty()) {
            println!("--- {name} ---");
            print!("{}", terminal_safe(text, escape));
            if !text.ends_with('\n') {
                println!();
            }
        }
    }
}

pub fn deliveries(list: &[DeliveryView]) {
    if list.is_empty() {
        println!("No deliveries.");
        return;
    }
    let mut t = table(&[
        "Id",
        "Hook",
        "Event",
        "Status",
        "Attempts",
        "Last result",
        "Next attempt",
        "Created",
    ]);
    for d in list {
        let last = match (d.last_status, &d.last_error) {
            (Some(s), _) => s.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => "-".into(),
        };
        t.add_row(vec![
            d.id.clone(),
            d.hook.clone(),
            d.event_type.clone(),
            d.status.clone(),
            d.attempts.to_string(),
            last,
            d.next_attempt_at
                .as_deref()
                .map(short_time)
                .unwrap_or_else(|| "-".into()),
            short_time(&d.created_at),
        ]);
    }
    println!("{t}");
}

/// One log entry as one line, `tail`-style.
pub fn log_line(l: &LogView, escape: bool) -> String {
    let mut parts = vec![
        short_time(&l.time),
        format!("{:<5}", l.direction),
        l.hook.clone().unwrap_or_else(|| "-".into()),
    ];
    if let Some(m) = &l.method {
        parts.push(m.clone());
    }
    if let Some(u) = &l.url {
        parts.push(u.clone());
    }
    if let Some(s) = l.status {
        parts.push(s.to_string());
    }
    if let Some(d) = l.duration_ms {
        parts.push(format!("{d}ms"));
    }
    if let Some(a) = &l.remote_addr {
        parts.push(format!("from {a}"));
    }
    if let Some(r) = &l.run_id {
        parts.push(format!("run {r}"));
    }
    if let Some(d) = &l.delivery_id {
        parts.push(format!("delivery {d}"));
    }
    if let Some(a) = l.attempt {
        parts.push(format!("attempt {a}"));
    }
    if let Some(u) = l.uid {
        parts.push(format!("uid {u}"));
    }
    if let Some(e) = &l.error {
        parts.push(format!("error: {e}"));
    }
    terminal_safe(&parts.join("  "), escape).into_owned()
}
