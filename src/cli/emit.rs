//! `hookctl emit`: from arguments to an [`EmitEvent`], and its answer to a line.
//!
//! The data is parsed here so that a typo in hand-written JSON is a usage error before the
//! daemon is asked; `-` reads stdin, so `some-command | hookctl emit backup.done --data -`
//! works.

use crate::proto::{EmitEvent, Request};
use std::io::Read;

/// The request for `emit TYPE [--data …] [--idempotency-key K]`; the error is a usage error.
pub fn request(
    event_type: &str,
    data: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<Request, String> {
    let (text, from) = match data {
        None => ("{}".to_string(), String::new()),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("--data -: cannot read stdin: {e}"))?;
            (s, " (from stdin)".to_string())
        }
        Some(d) if d.starts_with('@') => (
            std::fs::read_to_string(&d[1..])
                .map_err(|e| format!("cannot read {}: {e}", &d[1..]))?,
            format!(" (from {})", &d[1..]),
        ),
        Some(d) => (d.to_string(), String::new()),
    };
    let data: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("--data{from} is not JSON: {e}"))?;
    Ok(Request::Emit(EmitEvent {
        event_type: event_type.to_string(),
        data,
        idempotency_key: idempotency_key.map(str::to_string),
    }))
}

/// What `emit` prints.
pub fn print(id: &str, deliveries: u64, duplicate: bool, json: bool) {
    if json {
        crate::cli::output::json(&serde_json::json!({"id": id, "deliveries": deliveries}));
        return;
    }
    let queued = match deliveries {
        1 => "1 delivery".to_string(),
        n => format!("{n} deliveries"),
    };
    if duplicate {
        println!("{id} (already emitted with this idempotency key; {queued} then, nothing now)");
    } else {
        println!("{id} ({queued} queued)");
    }
}
