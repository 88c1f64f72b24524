//! Request values a command receives: the REF syntax of `--arg`, `--env-from` and
//! `--file-from`, and reading a REF's value from a request.
//!
//! A REF is `payload:NAME`, `header:NAME`, `query:NAME`, `request:method|remote-addr|body`,
//! `string:TEXT`, `entire-payload`, `entire-headers` or `entire-query`. Values are read from
//! the request view conditions use ([`crate::template::Condition::vars`]), with the rules
//! adnanh/webhook applies: dotted payload paths (a literal key with dots wins; numeric segments
//! index arrays), headers case-insensitive, first values of repeated fields, objects and
//! arrays as JSON text, `entire-*` as JSON objects. A value is text handed over as it is: never
//! split, never given to a shell. Missing is `None`; the caller decides what that means.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Payload(String),
    Header(String),
    Query(String),
    Method,
    RemoteAddr,
    Body,
    Literal(String),
    EntirePayload,
    EntireHeaders,
    EntireQuery,
}

impl Ref {
    /// Parses a REF; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Ref, String> {
        let r = match text.split_once(':') {
            _ if text == "entire-payload" => Ref::EntirePayload,
            _ if text == "entire-headers" => Ref::EntireHeaders,
            _ if text == "entire-query" => Ref::EntireQuery,
            Some(("payload", n)) if !n.is_empty() => Ref::Payload(n.into()),
            Some(("header", n)) if !n.is_empty() => Ref::Header(n.to_ascii_lowercase()),
            Some(("query", n)) if !n.is_empty() => Ref::Query(n.into()),
            Some(("string", t)) => Ref::Literal(t.into()),
            Some(("request", "method")) => Ref::Method,
            Some(("request", "remote-addr")) => Ref::RemoteAddr,
            Some(("request", "body")) => Ref::Body,
            _ => {
                return Err(format!(
                    "{text:?} is not a request value: use payload:NAME, header:NAME, query:NAME, \
                     request:method|remote-addr|body, string:TEXT, entire-payload, \
                     entire-headers or entire-query"
                ));
            }
        };
        Ok(r)
    }

    /// The value in a request view, as the command gets it.
    pub fn value(&self, vars: &Value) -> Option<String> {
        let field = |map: &str, key: &str| vars.get(map).and_then(|m| m.get(key)).cloned();
        let v = match self {
            Ref::Payload(path) => match payload_value(vars.get("payload")?, path)? {
                // A number goes as its sender wrote it (`1.50`), as webhook passes it.
                Value::Number(n) => {
                    let body = vars.get("body").and_then(Value::as_str).unwrap_or_default();
                    return Some(number_as_sent(body, path).unwrap_or_else(|| n.to_string()));
                }
                v => v.clone(),
            },
            // Go's server takes `Host` out of the headers, so webhook never passes it.
            Ref::Header(name) if name == "host" => return None,
            Ref::Header(name) => field("headers", name)?,
            Ref::Query(name) => field("query", name)?,
            Ref::Method => vars.get("method")?.clone(),
            Ref::RemoteAddr => vars
                .get("peer")
                .or_else(|| vars.get("remote_addr"))?
                .clone(),
            Ref::Body => vars.get("body")?.clone(),
            Ref::Literal(t) => return Some(t.clone()),
            Ref::EntirePayload => return Some(vars.get("payload")?.to_string()),
            Ref::EntireHeaders => return Some(canonical_headers(vars.get("headers")?)),
            Ref::EntireQuery => return Some(vars.get("query")?.to_string()),
        };
        Some(as_text(&v))
    }
}

/// A payload path: at each step a key equal to the whole rest of the path wins.
pub fn payload_value<'a>(mut v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut rest = path;
    loop {
        let (first, more) = match rest.split_once('.') {
            Some((f, m)) => (f, Some(m)),
            None => (rest, None),
        };
        let next = match v {
            Value::Object(m) => match m.get(rest) {
                Some(whole) => return Some(whole),
                None => m.get(first)?,
            },
            Value::Array(items) => items.get(first.parse::<usize>().ok()?)?,
            _ => return None,
        };
        match more {
            None => return Some(next),
            Some(m) => (v, rest) = (next, m),
        }
    }
}

/// The text of the number at `path` in a JSON body, as it stands there.
fn number_as_sent(body: &str, path: &str) -> Option<String> {
    use serde_json::value::RawValue;
    let mut cur: Box<RawValue> = serde_json::from_str(body).ok()?;
    let mut rest = path.to_string();
    loop {
        let (first, more) = match rest.split_once('.') {
            Some((f, m)) => (f.to_string(), Some(m.to_string())),
            None => (rest.clone(), None),
        };
        let text = cur.get().trim_start();
        let next = if text.starts_with('{') {
            let mut m: std::collections::HashMap<String, Box<RawValue>> =
                serde_json::from_str(cur.get()).ok()?;
            if let Some(whole) = m.remove(&rest) {
                return Some(whole.get().trim().to_string());
            }
            m.remove(&first)?
        } else if text.starts_with('[') {
            let mut items: Vec<Box<RawValue>> = serde_json::from_str(cur.get()).ok()?;
            let i = first.parse::<usize>().ok()?;
            (i < items.len()).then(|| items.swap_remove(i))?
        } else {
            return None;
        };
        match more {
            None => return Some(next.get().trim().to_string()),
            Some(m) => (cur, rest) = (next, m),
        }
    }
}

/// Text as is; objects and arrays as JSON; other values as their JSON text (`null`: `<nil>`,
/// as Go prints it).
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// The headers as a JSON object with names in their canonical form (`Content-Type`), without
/// `Host`, as webhook gives them.
fn canonical_headers(headers: &Value) -> String {
    let Some(map) = headers.as_object() else {
        return "{}".into();
    };
    let canonical = |k: &str| {
        let mut up = true;
        k.chars()
            .map(|c| {
                let out = if up { c.to_ascii_uppercase() } else { c };
                up = c == '-';
                out
            })
            .collect::<String>()
    };
    let out: serde_json::Map<String, Value> = map
        .iter()
        .filter(|(k, _)| *k != "host")
        .map(|(k, v)| (canonical(k), v.clone()))
        .collect();
    Value::Object(out).to_string()
}

/// `VAR=REF` of `--env-from`, or `VAR=REF[,base64]` of `--file-from` (with `files`).
pub fn parse_binding(text: &str, flag: &str, files: bool) -> Result<(String, Ref, bool), String> {
    let (var, spec) = text
        .split_once('=')
        .ok_or_else(|| format!("{flag} {text:?}: expected VAR=REF"))?;
    // Any name the kernel takes: webhook's defaults (`HOOK_` + a header's name) hold `-`.
    let valid = !var.is_empty() && !var.contains(['=', '\0']);
    if !valid {
        return Err(format!("{flag} {var:?} is not a valid variable name"));
    }
    if var.starts_with("HOOKD_") {
        return Err(format!(
            "{flag} {var}: names starting with HOOKD_ are set by hookd itself"
        ));
    }
    let (spec, base64) = match spec.strip_suffix(",base64") {
        Some(s) if files => (s, true),
        _ => (spec, false),
    };
    let r = Ref::parse(spec).map_err(|e| format!("{flag} {var}: {e}"))?;
    Ok((var.to_string(), r, base64))
}

/// What conditions and REFs see of a call: the request view of
/// [`crate::template::Condition::vars`], the body read as `--content-type` says when given,
/// the `--parse-json` fields decoded.
pub fn request_vars(hook: &super::Hook, inv: &crate::run::Invocation) -> Value {
    request_vars_of(hook, inv, |_| true)
}

/// [`request_vars`] with only the top-level names `wanted` accepts (what a condition reads).
pub fn request_vars_of(
    hook: &super::Hook,
    inv: &crate::run::Invocation,
    wanted: impl Fn(&str) -> bool,
) -> Value {
    let o = &hook.options;
    let wants_peer = wanted("peer");
    let mut vars = crate::template::Condition::vars_of(
        &crate::template::RequestView {
            method: &inv.method,
            query: &inv.query,
            remote_addr: &inv.remote_addr,
            content_type: o.content_type.as_deref().unwrap_or(&inv.content_type),
            headers: &inv.headers,
            body: &inv.body,
        },
        wanted,
    );
    if let (true, Some(peer), Value::Object(map)) = (wants_peer, &inv.peer, &mut vars) {
        map.insert("peer".into(), Value::String(peer.clone()));
    }
    if let Some(payload) = vars.get_mut("payload") {
        for name in o.parse_json.iter().flatten() {
            decode_json_field(payload, name);
        }
    }
    vars
}

/// Replaces the string at `path` (found as [`payload_value`] finds it) with the JSON it holds.
fn decode_json_field(mut v: &mut Value, path: &str) {
    let mut rest = path.to_string();
    loop {
        let key = match v {
            Value::Object(m) if m.contains_key(&rest) => rest.clone(),
            _ => match rest.split_once('.') {
                Some((first, more)) => {
                    let (first, more) = (first.to_string(), more.to_string());
                    let next = match v {
                        Value::Object(m) => m.get_mut(&first),
                        Value::Array(items) => {
                            first.parse::<usize>().ok().and_then(|i| items.get_mut(i))
                        }
                        _ => None,
                    };
                    let Some(next) = next else { return };
                    v = next;
                    rest = more;
                    continue;
                }
                None => return,
            },
        };
        if let Some(field) = v.get_mut(&key)
            && let Some(decoded) = field.as_str().and_then(|s| serde_json::from_str(s).ok())
        {
            *field = decoded;
        }
        return;
    }
}

/// The longest argv or environment string (`NAME=value`) Linux copies: `MAX_ARG_STRLEN`
/// less the terminating NUL.
pub const MAX_VALUE_BYTES: usize = 128 * 1024 - 1;

/// A command's argv items and the variables set from the request.
pub type CommandValues = (Vec<String>, Vec<(String, String)>);

/// The argv items (`--arg`) and variables (`--env-from`) of a call, or why the call cannot
/// give them: a NUL byte (400) or a value the kernel would refuse (413).
pub fn command_values(hook: &super::Hook, vars: &Value) -> Result<CommandValues, (u16, String)> {
    let o = &hook.options;
    let parse = |r: &str| Ref::parse(r).ok();
    // A missing argument is an empty one, so later arguments keep their positions.
    let args: Vec<(String, String)> = o
        .args
        .iter()
        .flatten()
        .map(|r| {
            (
                format!("--arg {r}"),
                parse(r).and_then(|r| r.value(vars)).unwrap_or_default(),
            )
        })
        .collect();
    let env: Vec<(String, String)> = o
        .env_from
        .iter()
        .flatten()
        .filter_map(|(var, r)| Some((var.clone(), parse(r)?.value(vars)?)))
        .collect();
    // The kernel's limit is on the string it copies: a variable's is `NAME=value`.
    let named = args
        .iter()
        .map(|(n, v)| (n.as_str(), v, 0))
        .chain(env.iter().map(|(var, v)| (var.as_str(), v, var.len() + 1)));
    for (name, value, prefix) in named {
        if value.contains('\0') {
            return Err((
                400,
                format!("{name}: the value holds a NUL byte, which a command cannot receive"),
            ));
        }
        if prefix + value.len() > MAX_VALUE_BYTES {
            return Err((
                413,
                format!(
                    "{name}: the value is longer than Linux passes to a command ({MAX_VALUE_BYTES} bytes, a variable's NAME= included)"
                ),
            ));
        }
    }
    Ok((args.into_iter().map(|(_, v)| v).collect(), env))
}

/// The files of `--file-from`: variable and content, for the values present.
pub fn file_values(hook: &super::Hook, vars: &Value) -> Vec<(String, Vec<u8>)> {
    use base64::Engine;
    let mut out = Vec::new();
    for (var, spec) in hook.options.file_from.iter().flatten() {
        let Ok((_, r, b64)) = parse_binding(&format!("{var}={spec}"), "--file-from", true) else {
            continue;
        };
        let Some(value) = r.value(vars) else { continue };
        let bytes = if b64 {
            match base64::engine::general_purpose::STANDARD.decode(value.trim()) {
                Ok(b) => b,
                Err(_) => continue,
            }
        } else {
            value.into_bytes()
        };
        out.push((var.clone(), bytes));
    }
    out
}

/// `--param NAME=/json/pointer` values: from a JSON body by RFC 6901 pointer; from a form body
/// by field name (the pointer without its leading `/`), or by pointer into a form field named
/// `payload` holding JSON (how GitHub sends form-encoded deliveries). Missing fields are empty;
/// non-string JSON values are passed as JSON text.
pub fn extract_params(
    params: &std::collections::BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    use serde_json::Value;
    let form: Option<Vec<(String, String)>> = content_type
        .starts_with("application/x-www-form-urlencoded")
        .then(|| form_urlencoded::parse(body).into_owned().collect());
    let json: Option<Value> = match &form {
        Some(fields) => fields
            .iter()
            .find(|(k, _)| k == "payload")
            .and_then(|(_, v)| serde_json::from_str(v).ok()),
        None => serde_json::from_slice(body).ok(),
    };
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    params
        .iter()
        .map(|(name, pointer)| {
            let field = pointer
                .strip_prefix('/')
                .unwrap_or(pointer)
                .replace("~1", "/")
                .replace("~0", "~");
            let from_form = form
                .as_ref()
                .and_then(|f| f.iter().find(|(k, _)| *k == field).map(|(_, v)| v.clone()));
            let value = from_form
                .or_else(|| json.as_ref().and_then(|j| j.pointer(pointer)).map(show))
                .unwrap_or_default();
            // The environment cannot carry NUL bytes.
            (name.clone(), value.replace('\0', ""))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_paths_follow_the_dotted_rules() {
        let p = json!({"a": {"b": [10, {"c": "x"}]}, "d.e": 1, "d": {"e": 2}});
        assert_eq!(payload_value(&p, "a.b.0"), Some(&json!(10)));
        assert_eq!(payload_value(&p, "a.b.1.c"), Some(&json!("x")));
        assert_eq!(payload_value(&p, "d.e"), Some(&json!(1)));
        assert_eq!(payload_value(&p, "a.missing"), None);
        assert_eq!(payload_value(&p, "a.b.9"), None);
        let body = r#"{"a": {"b": [1.50, {"c": 2e3}]}, "d.e": -0.0}"#;
        assert_eq!(number_as_sent(body, "a.b.0").as_deref(), Some("1.50"));
        assert_eq!(number_as_sent(body, "a.b.1.c").as_deref(), Some("2e3"));
        assert_eq!(number_as_sent(body, "d.e").as_deref(), Some("-0.0"));
        assert_eq!(number_as_sent(body, "a.x"), None);
    }

    #[test]
    fn refs_parse_and_refuse() {
        assert_eq!(Ref::parse("header:X-A"), Ok(Ref::Header("x-a".into())));
        assert_eq!(Ref::parse("string:"), Ok(Ref::Literal(String::new())));
        assert!(Ref::parse("payload:").is_err());
        assert!(Ref::parse("request:path").is_err());
        let (v, r, b) = parse_binding("F=payload:x,base64", "--file-from", true).unwrap();
        assert_eq!((v.as_str(), r, b), ("F", Ref::Payload("x".into()), true));
        assert!(parse_binding("HOOKD_X=entire-query", "--env-from", false).is_err());
    }
}
