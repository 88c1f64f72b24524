//! Events: what happened, in the shape payload templates and receivers see.
//!
//! [`sample_vars`] is the event a template is checked against when a hook is created or edited:
//! it carries every template variable with a value that stresses escaping (quotes, a newline,
//! a backslash), so a template that survives it yields valid JSON for real events too.

use serde_json::{Value, json};

/// Template variables for a representative `script.completed` event.
pub fn sample_vars() -> Value {
    json!({
        "event_type": "script.completed",
        "event_id": "evt_sample",
        "timestamp": "2026-01-01T00:00:00Z",
        "status": "success",
        "hook_name": "deploy",
        "hook_id": "1",
        "duration_ms": 1200,
        "exit_code": 0,
        "message": "Script deploy completed in 1.2 s: \"quoted\"\nnext line \\ done",
        "output": "line one\nline \"two\"\t\\",
        "project_name": "deploy",
        "project_path": "/srv/app",
        "data": {
            "hook": "deploy",
            "run_id": "1",
            "exit_code": 0,
            "request": {"method": "POST", "path": "/webhook/hkd_abcd…", "query": "", "headers": {}, "body": {"ref": "refs/heads/main"}},
        },
    })
}
