//! `hookctl rotate-secret`: from arguments to a [`RotateSecret`] request, and its answer.

use crate::proto::{Request, RotateSecret, Secret};
use crate::time::Dur;
use std::io::Read;

/// The request; a secret given as `-` is read from stdin.
pub fn request(name: &str, secret: Option<&str>, overlap: Dur) -> Result<Request, String> {
    let secret = match secret {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("--secret -: cannot read stdin: {e}"))?;
            let s = s.strip_suffix('\n').unwrap_or(&s).trim_end_matches('\r');
            if s.is_empty() {
                return Err("--secret -: stdin gave an empty value".into());
            }
            Some(Secret(s.to_string()))
        }
        other => other.map(|s| Secret(s.to_string())),
    };
    Ok(Request::RotateSecret(RotateSecret {
        name: name.to_string(),
        secret,
        overlap_ms: overlap.as_millis(),
    }))
}

pub fn print(name: &str, secret: Option<&str>, until: &str, json: bool) {
    if json {
        let mut v = serde_json::json!({"name": name, "old_valid_until": until});
        if let Some(s) = secret {
            v["secret"] = serde_json::json!(s);
        }
        crate::cli::output::json(&v);
        return;
    }
    println!("Secret of {name} rotated; the old one stays valid until {until}.");
    if let Some(s) = secret {
        println!("New signing secret (shown only this once): {s}");
    }
}
