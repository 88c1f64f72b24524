//! Checks of the options that decide whether and how a call is answered: the condition
//! (`--if`, parsed here exactly as the registry will parse it, so what is stored always
//! compiles) and response control (statuses, headers, output). Messages name the flag.

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

/// Conditions are typed by people; anything longer is a mistake or an attack on the parser.
const MAX_CONDITION_BYTES: usize = 8192;
