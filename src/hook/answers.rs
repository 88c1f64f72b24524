//! Checks of the options that decide whether and how a call is answered: the condition
//! (`--if`, parsed here exactly as the registry will parse it, so what is stored always
//! compiles) and response control (statuses, headers, output). Messages name the flag.

use super::refs::{Ref, parse_binding};
use super::validate::is_header_name;
use crate::proto::HookOptions;

/// `--if` parses, and `--if-mismatch-status` is an HTTP status.
pub(super) fn check_condition(o: &HookOptions) -> Result<(), String> {
    if let Some(text) = &o.condition {
        if text.len() > MAX_CONDITION_BYTES {
            return Err(format!(
                "--if: the condition is longer than {MAX_CONDITION_BYTES} bytes"
            ));
        }
        crate::template::Condition::parse(text)
            .map_err(|e| format!("--if: column {}: {}", e.column, e.message))?;
    }
    match o.if_mismatch_status {
        Some(s) if !(200..=599).contains(&s) => Err(format!(
            "--if-mismatch-status {s}: use an HTTP status from 200 to 599"
        )),
        _ => Ok(()),
    }
}

/// Response control: statuses, header names and values, the output choice.
pub(super) fn check_response(o: &HookOptions) -> Result<(), String> {
    if let Some(s) = o.success_status
        && !(200..=599).contains(&s)
    {
        return Err(format!(
            "--success-status {s}: use an HTTP status from 200 to 599"
        ));
    }
    for (k, v) in o.response_headers.iter().flatten() {
        if !is_header_name(k) {
            return Err(format!(
                "--response-header {k:?} is not a valid header name"
            ));
        }
        if v.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(format!(
                "--response-header {k}: the value must not hold control characters"
            ));
        }
    }
    match o.output.as_deref() {
        None | Some("stdout" | "combined" | "none") => {}
        Some(other) => {
            return Err(format!("--output {other:?}: use stdout, combined or none"));
        }
    }
    if o.error_output == Some(true) && o.output.is_none() {
        return Err("--error-output needs --output stdout|combined|none (without --output a failed call already answers with the run's output)".into());
    }
    Ok(())
}

/// A command hook: an absolute program path, valid REFs; and for every hook the bindings.
pub(super) fn check_command(o: &HookOptions) -> Result<(), String> {
    let Some(exec) = &o.exec else {
        return Err("--arg needs --exec PATH (a script text gets request values from --env-from and --file-from)".into());
    };
    if o.script.is_some() {
        return Err("give either a script (--script/--run) or --exec, not both".into());
    }
    if !exec.starts_with('/') || exec.contains('\0') {
        return Err(format!("--exec {exec:?} must be an absolute path"));
    }
    for a in o.args.iter().flatten() {
        Ref::parse(a).map_err(|e| format!("--arg {e}"))?;
    }
    Ok(())
}

/// `--path /hooks/NAME`, and that a path anyone can find is guarded.
fn check_path(o: &HookOptions) -> Result<(), String> {
    let Some(path) = &o.path else {
        return Ok(());
    };
    let name = path.strip_prefix(PATH_PREFIX).unwrap_or_default();
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~'));
    if !ok {
        return Err(format!(
            "--path {path:?}: use {PATH_PREFIX}NAME, NAME of 1-128 characters A-Z a-z 0-9 . _ - ~"
        ));
    }
    if o.verify.is_none() && o.allow_ip.is_none() && o.insecure_path != Some(true) {
        return Err(format!(
            "--path {path}: anyone who guesses a fixed path can call it; add --verify or --allow-ip, or --insecure-path to serve it unguarded"
        ));
    }
    Ok(())
}

/// Fixed paths all start with this.
pub const PATH_PREFIX: &str = "/hooks/";

/// `--env-from`, `--file-from`, `--parse-json`, `--content-type` and `--path`.
pub(super) fn check_bindings(o: &HookOptions) -> Result<(), String> {
    check_path(o)?;
    for (var, r) in o.env_from.iter().flatten() {
        parse_binding(&format!("{var}={r}"), "--env-from", false)?;
    }
    for (var, r) in o.file_from.iter().flatten() {
        parse_binding(&format!("{var}={r}"), "--file-from", true)?;
    }
    if let Some(bad) = o.parse_json.iter().flatten().find(|n| n.trim().is_empty()) {
        return Err(format!("--parse-json {bad:?}: give a payload field name"));
    }
    if let Some(ct) = &o.content_type
        && (ct.contains(['\r', '\n']) || !ct.contains('/'))
    {
        return Err(format!("--content-type {ct:?} is not a media type"));
    }
    Ok(())
}

/// Conditions are typed by people; anything longer is a mistake or an attack on the parser.
const MAX_CONDITION_BYTES: usize = 8192;
