//! Events: what happened, who subscribes to it, and the payload each subscriber receives.
//!
//! An event is an id, a type, a time and a JSON `data` object; it is stored once and delivered
//! to every outgoing hook whose patterns match. The payload is built at send time from the
//! event and the receiving hook (format, template, language), so editing a hook's format also
//! changes what its pending deliveries will carry. Human `message` texts exist in English and
//! Chinese. Data never carries a caller's credentials: signature and auth headers are redacted.

use crate::event_catalogue::{self as catalogue, Lang};
use crate::hook::Hook;
use crate::template::Template;
use serde_json::{Map, Value, json};

/// Script output kept in event data; receivers get an excerpt, `hookctl runs show` has it all.
pub const OUTPUT_EXCERPT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub time: i64,
    pub data: Value,
}

impl Event {
    pub fn new(event_type: &str, data: Value) -> Event {
        Event {
            id: new_id(),
            event_type: event_type.to_string(),
            time: crate::time::now_ms(),
            data,
        }
    }

    /// The hook the event is about (the called hook, the script's hook, the failing endpoint).
    pub fn about(&self) -> Option<&str> {
        self.data.get("hook").and_then(Value::as_str)
    }
}

/// `evt_` + the time in milliseconds (48 bits) + 48 random bits, hex: unique across restarts
/// and machines, stable across attempts. Time first, so new ids sort last and the indexes on
/// them grow at one end instead of taking a write at a random page per event.
pub fn new_id() -> String {
    let mut b = [0u8; 12];
    let ms = crate::time::now_ms().max(0) as u64;
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    getrandom::fill(&mut b[6..]).expect("the operating system's random source failed");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(28);
    s.push_str("evt_");
    for x in b {
        s.push(HEX[usize::from(x >> 4)] as char);
        s.push(HEX[usize::from(x & 15)] as char);
    }
    s
}

/// `*`, `prefix.*` or an exact name.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

/// Whether `hook` (an enabled outgoing hook) receives `event`. `path_re` is its compiled
/// `match_path`. `test` events are never broadcast; an endpoint never receives alarms about
/// itself.
pub fn subscribed(hook: &Hook, event: &Event, path_re: Option<&regex::Regex>) -> bool {
    let t = event.event_type.as_str();
    let o = &hook.options;
    if !subscribes_to(hook, t)
        || (catalogue::is_alarm(t) && event.about() == Some(hook.name.as_str()))
    {
        return false;
    }
    if t == "webhook.received" {
        let req = &event.data["request"];
        if o.match_hook
            .as_deref()
            .is_some_and(|h| event.about() != Some(h))
        {
            return false;
        }
        if o.match_method
            .as_deref()
            .is_some_and(|m| req["method"].as_str() != Some(m))
        {
            return false;
        }
        if let Some(re) = path_re
            && !re.is_match(req["path"].as_str().unwrap_or(""))
        {
            return false;
        }
    }
    true
}

/// Whether `hook` subscribes to events of type `t` at all, before any filter on their data:
/// when no hook does, the event need not even be built.
pub fn subscribes_to(hook: &Hook, t: &str) -> bool {
    if catalogue::is_direct(t) {
        return false;
    }
    match &hook.options.events {
        Some(patterns) => patterns.iter().any(|p| pattern_matches(p, t)),
        None => catalogue::in_defaults(t, hook.options.hook_type.as_deref()),
    }
}

/// Words that mark a header or query parameter name as a credential (any case, anywhere in
/// the name): `X-Api-Key`, `Stripe-Signature`, `?access_token=`, `Cookie`, …
const SECRET_WORDS: [&str; 7] = [
    "key",
    "token",
    "secret",
    "signature",
    "auth",
    "password",
    "cookie",
];

/// Whether a header or parameter of this name carries a credential.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| name.contains(w))
}

/// The query string with the values of credential parameters replaced by `[redacted]`.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (raw_name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let name: String = form_urlencoded::parse(raw_name.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            if is_secret_name(&name) {
                format!("{raw_name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The request part of `webhook.received` data: JSON bodies as JSON, others as text. Headers and
/// query parameters whose names mark a credential are redacted, except the headers `keep`
/// names (lower case).
pub fn request_data(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    keep: &[String],
) -> Value {
    let mut h = Map::new();
    for (k, v) in headers {
        let v = if is_secret_name(k) && !keep.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            "[redacted]".to_string()
        } else {
            v.clone()
        };
        h.insert(k.clone(), Value::String(v));
    }
    json!({"method": method, "path": path, "query": redact_query(query), "headers": h, "body": body_value(body)})
}

pub fn body_value(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::String(String::new());
    }
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(excerpt(body)))
}

pub fn excerpt(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(OUTPUT_EXCERPT)];
    String::from_utf8_lossy(cut).into_owned()
}

/// The human sentence for an event, in `lang` (`en` or `zh`).
pub fn message(e: &Event, lang: &str) -> String {
    catalogue::message(&e.event_type, &e.data, Lang::parse(Some(lang)))
}

/// The variables a payload template sees for `e` delivered to `hook`.
pub fn template_vars(e: &Event, hook: &Hook) -> Value {
    let d = &e.data;
    let lang = hook.options.language.as_deref().unwrap_or("en");
    let source = d.get("hook").cloned().unwrap_or(Value::Null);
    json!({
        "event_type": e.event_type,
        "event_id": e.id,
        "timestamp": crate::time::rfc3339_seconds(e.time),
        "status": d.get("status").cloned().unwrap_or_else(|| json!(if e.event_type.ends_with(".failed") { "failed" } else { "success" })),
        "hook_name": source,
        "hook_id": d.get("hook_id").cloned().unwrap_or(Value::Null),
        "duration_ms": d.get("duration_ms").cloned().unwrap_or(Value::Null),
        "exit_code": d.get("exit_code").cloned().unwrap_or(Value::Null),
        "message": message(e, lang),
        "output": d.get("stdout").cloned().unwrap_or(Value::Null),
        "project_name": source,
        "project_path": d.get("cwd").cloned().unwrap_or(Value::Null),
        "data": d,
    })
}

/// Why a payload could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("the rendered payload is larger than deliveries.max_payload_bytes ({0} bytes)")]
    TooLarge(u64),
    #[error("{0}")]
    Invalid(String),
}

/// The body delivered to `hook` for `e`, at most `max` bytes.
pub fn payload(e: &Event, hook: &Hook, max: u64) -> Result<Vec<u8>, PayloadError> {
    let o = &hook.options;
    let lang = o.language.as_deref().unwrap_or("en");
    let secret = match (o.include_secret.unwrap_or(false), &o.secret) {
        (true, Some(s)) => Some(
            crate::secret::resolve(&s.0)
                .map_err(|e| PayloadError::Invalid(e.to_string()))?
                .into_owned(),
        ),
        _ => None,
    };
    if let Some(t) = &o.template {
        let mut vars = template_vars(e, hook);
        if let Some(s) = &secret {
            vars["secret"] = json!(s);
        }
        let tpl = Template::parse(t).map_err(|e| PayloadError::Invalid(e.to_string()))?;
        let cap = usize::try_from(max).unwrap_or(usize::MAX);
        return match tpl.render_at_most(&vars, cap) {
            Ok(Some(out)) => Ok(out.into_bytes()),
            Ok(None) => Err(PayloadError::TooLarge(max)),
            Err(e) => Err(PayloadError::Invalid(e.to_string())),
        };
    }
    let msg = message(e, lang);
    let mut body = match o.format.as_deref() {
        Some("slack") => json!({"text": msg}),
        Some("discord") => json!({"content": msg}),
        _ => json!({
            "id": e.id,
            "type": e.event_type,
            "timestamp": crate::time::rfc3339_seconds(e.time),
            "message": msg,
            "data": e.data,
        }),
    };
    if let Some(s) = secret {
        body["secret"] = json!(s);
    }
    let out = serde_json::to_vec(&body).map_err(|e| PayloadError::Invalid(e.to_string()))?;
    if out.len() as u64 > max {
        return Err(PayloadError::TooLarge(max));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "delivery.failed"));
        assert!(pattern_matches("script.*", "script.failed"));
        assert!(!pattern_matches("script.*", "scripts.x"));
        assert!(pattern_matches("test", "test"));
        assert!(!pattern_matches("webhook.received", "webhook.receivedx"));
    }

    #[test]
    fn messages_in_both_languages() {
        let e = Event::new(
            "script.completed",
            json!({"hook": "deploy", "duration_ms": 1200}),
        );
        assert_eq!(message(&e, "en"), "Script deploy completed in 1.2 s");
        assert_eq!(message(&e, "zh"), "脚本 deploy 运行成功，耗时 1.2 秒");
        assert!(new_id().starts_with("evt_") && new_id().len() == 28);
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id() > a.max(b), "ids sort by time");
    }

    #[test]
    fn credential_names_are_redacted_by_pattern() {
        let h: Vec<(String, String)> = [
            ("x-api-key", "k1"),
            ("stripe-signature", "t=1,v1=x"),
            ("x-gitlab-token", "t"),
            ("cookie", "c"),
            ("x-event", "push"),
            ("x-auth-keep", "shown"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let keep = vec!["x-auth-keep".to_string()];
        let d = request_data(
            "POST",
            "/p",
            "api_key=abc&ref=main&Access%5FToken=t",
            &h,
            b"",
            &keep,
        );
        for k in ["x-api-key", "stripe-signature", "x-gitlab-token", "cookie"] {
            assert_eq!(d["headers"][k], "[redacted]", "{k}");
        }
        assert_eq!(d["headers"]["x-event"], "push");
        assert_eq!(d["headers"]["x-auth-keep"], "shown");
        assert_eq!(
            d["query"],
            "api_key=[redacted]&ref=main&Access%5FToken=[redacted]"
        );
    }

    #[test]
    fn credentials_are_not_kept_in_request_data() {
        let h = vec![
            ("authorization".to_string(), "Bearer x".to_string()),
            ("x-a".to_string(), "b".to_string()),
        ];
        let d = request_data("POST", "/p", "", &h, b"{\"a\":1}", &[]);
        assert_eq!(d["headers"]["authorization"], "[redacted]");
        assert_eq!(d["headers"]["x-a"], "b");
        assert_eq!(d["body"]["a"], 1);
    }
}
