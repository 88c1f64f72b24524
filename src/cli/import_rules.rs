//! webhook's trigger rules as hookd conditions (`--if`): `and`, `or`, `not` and the `value`,
//! `regex` and `ip-whitelist` matches; signature matches are collected for `--verify`.
//!
//! webhook compares a parameter's text, so `value` becomes an anchored regex of the escaped
//! value (numbers and booleans match by their text too, as there); `regex` stays unanchored,
//! as Go's `MatchString` is. A parameter a condition cannot name exactly is refused.

use super::import::{Signatures, name, source, xml_name};
use serde_json::Value;

/// The condition a rule stands for, or `None` when it only checked signatures.
pub fn rule(r: &Value, sig: &mut Signatures) -> Result<Option<String>, String> {
    let map = r.as_object().ok_or("a trigger rule is a map")?;
    if map.len() != 1 {
        return Err("a trigger rule has exactly one of and, or, not, match".into());
    }
    let (key, v) = map.iter().next().ok_or("empty trigger rule")?;
    match key.as_str() {
        "and" | "or" => {
            let parts = v.as_array().ok_or_else(|| format!("{key} takes a list"))?;
            // Signature checks found inside this rule, not in rules beside it.
            let signatures_before = sig.secrets.len();
            let mut conds = Vec::new();
            for p in parts {
                if let Some(c) = rule(p, sig)? {
                    conds.push(c);
                }
            }
            if key == "or" && sig.secrets.len() > signatures_before && !conds.is_empty() {
                return Err(
                    "an or of signature checks and other rules cannot be translated".into(),
                );
            }
            let op = if key == "and" { " && " } else { " || " };
            Ok((!conds.is_empty()).then(|| format!("({})", conds.join(op))))
        }
        "not" => {
            let signatures_before = sig.secrets.len();
            match rule(v, sig)? {
                Some(c) if sig.secrets.len() == signatures_before => Ok(Some(format!("!{c}"))),
                _ => Err("a not around a signature check cannot be translated".into()),
            }
        }
        "match" => matcher(v, sig),
        other => Err(format!("trigger rule {other:?} is not one hookd knows")),
    }
}

fn matcher(m: &Value, sig: &mut Signatures) -> Result<Option<String>, String> {
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a match without a type")?;
    let param = m.get("parameter");
    match kind {
        "value" => {
            let v = text_of(m.get("value"))?;
            let anchored = format!("^{}$", regex::escape(&v));
            Ok(Some(format!(
                "({} =~ {})",
                operand(param)?,
                quote(&anchored)
            )))
        }
        "regex" => {
            let re = text_of(m.get("regex"))?;
            regex::Regex::new(&re).map_err(|e| format!("regex {re:?}: {e}"))?;
            Ok(Some(format!("({} =~ {})", operand(param)?, quote(&re))))
        }
        "ip-whitelist" => {
            let ranges = text_of(m.get("ip-range"))?;
            let nets: Vec<String> = ranges
                .split_whitespace()
                .map(|n| {
                    let n = if n.contains('/') {
                        n.to_string()
                    } else if n.contains(':') {
                        format!("{n}/128")
                    } else {
                        format!("{n}/32")
                    };
                    quote(&n)
                })
                .collect();
            if nets.is_empty() {
                return Err("ip-whitelist without an ip-range".into());
            }
            Ok(Some(format!("ip_in(remote_addr, {})", nets.join(", "))))
        }
        // `payload-hash-*`: the older names webhook still accepts for the same checks.
        "payload-hmac-sha1"
        | "payload-hmac-sha256"
        | "payload-hmac-sha512"
        | "payload-hash-sha1"
        | "payload-hash-sha256"
        | "payload-hash-sha512" => {
            let secret = text_of(m.get("secret"))?;
            let header = match param.map(|p| (source(p), name(p))) {
                Some((Ok(s), Some(n))) if s == "header" => n,
                _ => return Err(format!("{kind} reads its signature from a header only")),
            };
            let k = kind
                .trim_start_matches("payload-hmac-")
                .trim_start_matches("payload-hash-")
                .to_string();
            if !sig.kind.is_empty() && (sig.kind != k || !sig.header.eq_ignore_ascii_case(&header))
            {
                return Err("signature checks of different kinds or headers in one hook".into());
            }
            sig.kind = k;
            sig.header = header;
            sig.secrets.push(secret);
            Ok(None)
        }
        other => Err(format!(
            "match type {other:?} is not one hookd can translate"
        )),
    }
}

/// A parameter as a condition operand.
fn operand(p: Option<&Value>) -> Result<String, String> {
    let p = p.ok_or("a match without a parameter")?;
    let s = source(p)?;
    let n = name(p).unwrap_or_default();
    let expr = match s.as_str() {
        "payload" => {
            xml_name(&n)?;
            let e = format!("payload.{n}");
            // Only names the condition language spells exactly, segment for segment.
            let exact = !n.is_empty()
                && n.split('.').all(|seg| {
                    !seg.is_empty()
                        && seg
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                });
            if !exact {
                return Err(format!(
                    "payload name {n:?} cannot be written in a condition"
                ));
            }
            e
        }
        "header" => format!("header({})", quote(&n)),
        "url" | "query" => format!("query({})", quote(&n)),
        "request" if n == "method" => "method".into(),
        "raw-request-body" => "body".into(),
        "string" => quote(&n),
        other => {
            return Err(format!(
                "a rule on {other:?} {n:?} cannot be translated (webhook gives it as text hookd's conditions do not see)"
            ));
        }
    };
    Ok(expr)
}

fn text_of(v: Option<&Value>) -> Result<String, String> {
    match v {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        _ => Err("a match needs its value as text".into()),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}
