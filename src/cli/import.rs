//! `hookctl import`: adnanh/webhook hooks files (JSON or YAML, plain or as `-template` files)
//! turned into hooks `apply` creates, so switching changes nothing callers or commands see.
//!
//! Every key webhook documents either maps to an option with the same effect or refuses that
//! hook by id with the reason: nothing is approximated silently. What differs by design is
//! left to the contract (a failed signature is 401; commands get hookd's environment). The
//! translation is pure: it reads the text and hookctl's environment (for `getenv`) only.

use crate::proto::{HookKind, HookOptions, HookSpec, Mode};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What a file gave: the hooks to apply and, by id, the hooks refused with the reason.
#[derive(Debug, Default)]
pub struct Imported {
    pub hooks: Vec<HookSpec>,
    pub refused: Vec<(String, String)>,
}

/// How `import` was asked to read the file.
#[derive(Debug, Clone, Copy)]
pub struct Flags {
    pub template: bool,
    pub keep_paths: bool,
    pub skip_invalid: bool,
}

/// Reads the file (`-`: stdin) and gives the hooks to apply. Refused hooks are named on
/// stderr; unless `skip_invalid`, any refusal fails the whole import.
pub fn read(file: &str, flags: Flags) -> Result<Vec<HookSpec>, String> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?
    };
    let got = translate(&text, flags.template, flags.keep_paths)?;
    let why: Vec<String> = got
        .refused
        .iter()
        .map(|(id, reason)| format!("hook {id}: {reason}"))
        .collect();
    if !why.is_empty() && !flags.skip_invalid {
        return Err(format!(
            "{}
nothing imported (--skip-invalid imports the others)",
            why.join("\n")
        ));
    }
    for w in &why {
        eprintln!("skipped {w}");
    }
    if got.hooks.is_empty() {
        return Err("no hook in the file could be imported".into());
    }
    Ok(got.hooks)
}

/// Reads a hooks file's text (template actions expanded when it has any, or `template`).
pub fn translate(text: &str, template: bool, keep_paths: bool) -> Result<Imported, String> {
    let text = if template || text.contains("{{") {
        expand_template(text)?
    } else {
        text.to_string()
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(json_err) => serde_yaml_ng::from_str(&text)
            .map_err(|e| format!("the file is neither JSON ({json_err}) nor YAML ({e})"))?,
    };
    let Value::Array(entries) = doc else {
        return Err("a hooks file is a list of hooks".into());
    };
    let mut out = Imported::default();
    for (i, entry) in entries.iter().enumerate() {
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        match hook(entry, keep_paths) {
            Ok(spec) => out.hooks.push(spec),
            Err(why) => out.refused.push((id, why)),
        }
    }
    Ok(out)
}

/// Expands webhook's template actions: `{{ getenv "NAME" }}`, optionally piped to `js`.
fn expand_template(text: &str) -> Result<String, String> {
    let action = regex::Regex::new(r#"\{\{-?\s*(.*?)\s*-?\}\}"#).map_err(|e| e.to_string())?;
    let getenv =
        regex::Regex::new(r#"^getenv\s+"([^"]*)"(\s*\|\s*js)?$"#).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in action.captures_iter(text) {
        let whole = m.get(0).ok_or("template match")?;
        let inner = m.get(1).map_or("", |g| g.as_str());
        let Some(g) = getenv.captures(inner) else {
            return Err(format!(
                "template action {{{{ {inner} }}}} is not supported: only getenv \"NAME\" (optionally | js)"
            ));
        };
        let value = std::env::var(&g[1]).unwrap_or_default();
        out.push_str(&text[last..whole.start()]);
        if g.get(2).is_some() {
            out.push_str(&js_escape(&value));
        } else {
            out.push_str(&value);
        }
        last = whole.end();
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// What Go's `js` template function does to text, for the characters JSON strings care about.
fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The keys a hook may have; any other is refused rather than ignored.
const KEYS: &[&str] = &[
    "id",
    "execute-command",
    "command-working-directory",
    "response-message",
    "response-headers",
    "success-http-response-code",
    "trigger-rule-mismatch-http-response-code",
    "include-command-output-in-response",
    "include-command-output-in-response-on-error",
    "http-methods",
    "incoming-payload-content-type",
    "parse-parameters-as-json",
    "pass-arguments-to-command",
    "pass-environment-to-command",
    "pass-file-to-command",
    "trigger-rule",
    "trigger-signature-soft-failures",
];

fn hook(entry: &Value, keep_paths: bool) -> Result<HookSpec, String> {
    let map = entry.as_object().ok_or("a hook is a map of keys")?;
    if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("key {k:?} is not one hookd can translate"));
    }
    let id = text(map, "id")?.ok_or("the hook has no id")?;
    crate::hook::validate_name(&id)?;
    let mut o = HookOptions::default();
    let cwd = text(map, "command-working-directory")?;
    let command = text(map, "execute-command")?.ok_or("execute-command is missing")?;
    o.exec = Some(match (command.starts_with('/'), &cwd) {
        (true, _) => command,
        (false, Some(dir)) if command.contains('/') => format!("{dir}/{command}"),
        _ => {
            return Err(format!(
                "execute-command {command:?} is not an absolute path (hookd does not search PATH)"
            ));
        }
    });
    o.cwd = cwd;
    response(map, &mut o)?;
    o.methods = Some(match map.get("http-methods") {
        None => vec!["*".into()],
        Some(v) => strings(v, "http-methods")?
            .into_iter()
            .map(|m| m.trim().to_ascii_uppercase())
            .collect(),
    });
    o.content_type = text(map, "incoming-payload-content-type")?;
    if let Some(ct) = &o.content_type {
        unparsed_body(ct)?;
    }
    o.parse_json = parse_json(map)?;
    arguments(map, &mut o)?;
    if let Some(rule) = map.get("trigger-rule") {
        let mut sig = Signatures::default();
        let cond = super::import_rules::rule(rule, &mut sig)?;
        if let Some((first, more)) = sig.secrets.split_first() {
            // `or` of signature matches on one header: several secrets, any one verifies.
            o.verify = Some(format!("hmac-{}", sig.kind));
            o.signature_header = Some(sig.header.clone());
            o.secret = Some(crate::proto::Secret(first.clone()));
            o.secrets = (!more.is_empty())
                .then(|| more.iter().cloned().map(crate::proto::Secret).collect());
        }
        o.condition = cond;
    }
    if keep_paths {
        o.path = Some(format!("{}{id}", crate::hook::PATH_PREFIX));
        o.insecure_path = (o.verify.is_none() && o.allow_ip.is_none()).then_some(true);
    }
    Ok(HookSpec {
        name: id,
        kind: HookKind::Script,
        options: o,
    })
}

/// Signature matches found in a trigger rule, to become `--verify`.
#[derive(Debug, Default)]
pub struct Signatures {
    pub kind: String,
    pub header: String,
    pub secrets: Vec<String>,
}

/// Response keys: sync with output, or async with a fixed answer, as webhook does.
fn response(map: &Map<String, Value>, o: &mut HookOptions) -> Result<(), String> {
    let with_output = flag(map, "include-command-output-in-response")?;
    o.success_status = number(map, "success-http-response-code")?;
    o.if_mismatch_status = number(map, "trigger-rule-mismatch-http-response-code")?;
    if with_output {
        o.mode = Some(Mode::Sync);
        o.output = Some("combined".into());
        o.error_output = flag(map, "include-command-output-in-response-on-error")?.then_some(true);
    } else {
        o.mode = Some(Mode::Async);
        o.success_status = Some(o.success_status.unwrap_or(200));
        o.response_body = Some(text(map, "response-message")?.unwrap_or_default());
    }
    if let Some(list) = map.get("response-headers") {
        let mut headers = BTreeMap::new();
        for h in list.as_array().ok_or("response-headers is a list")? {
            let name = h.get("name").and_then(Value::as_str);
            let value = h.get("value").and_then(Value::as_str);
            let (Some(n), Some(v)) = (name, value) else {
                return Err("each response-headers entry needs a name and a value".into());
            };
            headers.insert(n.to_string(), v.to_string());
        }
        o.response_headers = Some(headers);
    }
    Ok(())
}

fn parse_json(map: &Map<String, Value>) -> Result<Option<Vec<String>>, String> {
    let Some(list) = map.get("parse-parameters-as-json") else {
        return Ok(None);
    };
    let mut names = Vec::new();
    for p in list
        .as_array()
        .ok_or("parse-parameters-as-json is a list")?
    {
        match (source(p)?.as_str(), name(p)) {
            ("payload", Some(n)) => {
                xml_name(&n)?;
                names.push(n);
            }
            (s, _) => {
                return Err(format!(
                    "parse-parameters-as-json from {s:?}: hookd decodes payload fields only"
                ));
            }
        }
    }
    Ok(Some(names))
}

/// `pass-arguments-to-command`, `pass-environment-to-command`, `pass-file-to-command`.
fn arguments(map: &Map<String, Value>, o: &mut HookOptions) -> Result<(), String> {
    let list = |key: &str| -> Result<Vec<Value>, String> {
        match map.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(format!("{key} is a list")),
        }
    };
    let args = list("pass-arguments-to-command")?;
    o.args = Some(args.iter().map(reference).collect::<Result<_, _>>()?);
    let mut env = BTreeMap::new();
    for p in list("pass-environment-to-command")? {
        let var = match p.get("envname").and_then(Value::as_str) {
            Some(v) => v.to_string(),
            None => format!("HOOK_{}", name(&p).unwrap_or_default()),
        };
        env.insert(var, reference(&p)?);
    }
    let mut files = BTreeMap::new();
    for p in list("pass-file-to-command")? {
        let var = match p.get("envname").and_then(Value::as_str) {
            Some(v) => v.to_string(),
            None => format!("HOOK_{}", name(&p).unwrap_or_default().to_ascii_uppercase()),
        };
        let b64 = p.get("base64decode").and_then(Value::as_bool) == Some(true);
        let r = reference(&p)?;
        files.insert(var, if b64 { format!("{r},base64") } else { r });
    }
    o.env_from = (!env.is_empty()).then_some(env);
    o.file_from = (!files.is_empty()).then_some(files);
    Ok(())
}

/// webhook also reads XML bodies (into a map, `-attribute` and `#text` keys) and multipart form
/// data; hookd reads JSON and form bodies only, so a hook told to expect either is refused
/// rather than imported to find no payload values.
fn unparsed_body(content_type: &str) -> Result<(), String> {
    let ct = content_type.to_ascii_lowercase();
    let what = if ct.contains("xml") {
        "XML"
    } else if ct.contains("multipart") {
        "multipart form data"
    } else {
        return Ok(());
    };
    Err(format!(
        "incoming-payload-content-type {content_type:?}: hookd does not parse {what} bodies (JSON and form bodies only)"
    ))
}

/// A payload name in webhook's XML spelling (`user.-name` for an attribute, `msg.#text` for an
/// element's text) expects an XML body, which hookd does not parse.
pub(super) fn xml_name(name: &str) -> Result<(), String> {
    if name
        .split('.')
        .any(|seg| seg == "#text" || (seg.len() > 1 && seg.starts_with('-')))
    {
        return Err(format!(
            "payload name {name:?} reads an XML body (webhook's -attribute or #text); hookd does not parse XML bodies"
        ));
    }
    Ok(())
}

pub(super) fn source(p: &Value) -> Result<String, String> {
    p.get("source")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("a parameter without a source: {p}"))
}

pub(super) fn name(p: &Value) -> Option<String> {
    p.get("name").and_then(Value::as_str).map(str::to_string)
}

/// A webhook parameter as a REF.
fn reference(p: &Value) -> Result<String, String> {
    let s = source(p)?;
    let n = name(p);
    let r = match (s.as_str(), n) {
        ("payload", Some(n)) => {
            xml_name(&n)?;
            format!("payload:{n}")
        }
        ("header", Some(n)) => format!("header:{n}"),
        ("url" | "query", Some(n)) => format!("query:{n}"),
        ("string", Some(n)) => format!("string:{n}"),
        ("request", Some(n)) if n == "method" || n == "remote-addr" => format!("request:{n}"),
        ("raw-request-body", _) => "request:body".into(),
        ("entire-payload" | "entire-headers" | "entire-query", _) => s.clone(),
        (other, _) => return Err(format!("parameter source {other:?} is not one hookd knows")),
    };
    crate::hook::refs::Ref::parse(&r)?;
    Ok(r)
}

fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} must be text")),
    }
}

fn flag(map: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{key} must be true or false")),
    }
}

fn number(map: &Map<String, Value>, key: &str) -> Result<Option<u16>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("{key} must be an HTTP status")),
    }
}

fn strings(v: &Value, key: &str) -> Result<Vec<String>, String> {
    v.as_array()
        .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect())
        .ok_or_else(|| format!("{key} must be a list of text"))
}
