//! The answers of script calls: the product's JSON (or raw stdout) by default, or what the
//! hook's response control asks for (`--success-status`, `--output`, `--error-output`,
//! `--response-body`, `--response-header`), as adnanh/webhook users expect them.
//!
//! With `--output`, a failed run answers 500 with a fixed sentence unless `--error-output`:
//! callers are often outside, and a script's error output can tell them more than they should
//! know. Headers are added only to calls that passed every check and the condition.

use crate::daemon::answer::Answer;
use crate::hook::Hook;
use crate::proto::RunStatus;
use crate::run::Outcome;
use serde_json::json;

/// The body of a failed call whose hook hides its output.
pub const FAILED: &str =
    "Error occurred while executing the hook's command. Please check your logs for more details.";

/// The answer to an async call once its run is queued.
pub fn queued(hook: &Hook, id: i64) -> Answer {
    let o = &hook.options;
    let status = o.success_status.unwrap_or(202);
    let mut a = match &o.response_body {
        Some(body) => Answer::text(status, body.clone()),
        None if hook.raw_output() => Answer::text(status, format!("{id}\n")),
        None => Answer::json(status, json!({"id": id.to_string(), "status": "queued"})),
    };
    a.run_id = Some(id);
    a
}

/// The answer to a sync call whose run ended; `combined` is both streams in arrival order.
pub fn finished(hook: &Hook, id: i64, o: &Outcome, combined: &[u8]) -> Answer {
    let ok = o.status == RunStatus::Success;
    let status = match o.status {
        RunStatus::Success => hook.options.success_status.unwrap_or(200),
        RunStatus::Timeout => 504,
        _ => 500,
    };
    let error = match o.status {
        RunStatus::Success => None,
        RunStatus::Timeout => Some("script timed out".to_string()),
        RunStatus::Cancelled => Some("run cancelled".to_string()),
        _ => Some(match o.exit_code {
            Some(c) => format!("script exited with {c}"),
            None => "script failed".to_string(),
        }),
    };
    let opts = &hook.options;
    let mut a = match opts.output.as_deref() {
        Some(_) if !ok && opts.error_output != Some(true) => Answer::text(status, FAILED),
        Some("stdout") => Answer::text(status, o.stdout.clone()),
        Some("combined") => Answer::text(status, combined.to_vec()),
        Some(_) if ok => Answer::text(status, opts.response_body.clone().unwrap_or_default()),
        Some(_) => Answer::text(status, ""),
        None if hook.raw_output() => Answer::text(status, o.stdout.clone()),
        None => Answer::json(
            status,
            json!({
                "id": id.to_string(),
                "hook": hook.name,
                "status": o.status.as_str(),
                "exit_code": o.exit_code,
                "stdout": String::from_utf8_lossy(&o.stdout),
                "stderr": String::from_utf8_lossy(&o.stderr),
                "duration_ms": o.duration_ms,
            }),
        ),
    };
    a.error = error;
    a
}

/// Adds the hook's `--response-header`s to an answer.
pub fn add_headers(hook: &Hook, a: &mut Answer) {
    for (k, v) in hook.options.response_headers.iter().flatten() {
        a.headers.push((k.clone(), v.clone()));
    }
}
