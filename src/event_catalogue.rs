//! The event catalogue: every event type hookd itself emits, in one table.
//!
//! An entry says what an admin needs to know about a type: its name, whether it is an alarm
//! (type `alarms` hooks receive it by default, and an endpoint never receives it about itself),
//! whether it reports on deliveries (so a failed delivery of it raises no further
//! `delivery.failed`), whether it is only ever sent to one hook directly, and its human
//! sentence in each language. Adding an event type is one entry here plus the code that emits
//! it; validation, default subscriptions, messages and the no-cascade rule all read this table.
//! Nothing here knows about hooks or storage.

use serde_json::Value;

/// The language of an event's human `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// `zh` is Chinese; anything else English.
    pub fn parse(s: Option<&str>) -> Lang {
        if s == Some("zh") { Lang::Zh } else { Lang::En }
    }
}

pub struct EventType {
    pub name: &'static str,
    pub alarm: bool,
    /// Reports on a delivery or an endpoint: when its own delivery fails, nothing more is raised.
    pub about_deliveries: bool,
    /// Sent to one hook on request (`hookctl test`), never by subscription.
    pub direct: bool,
    /// The human sentence for an event of this type with data `d`.
    pub message: fn(&Value, Lang) -> String,
}

pub const CATALOGUE: &[EventType] = &[
    EventType {
        name: "webhook.received",
        alarm: false,
        about_deliveries: false,
        direct: false,
        message: |d, lang| {
            let (hook, m, st) = (
                s(d, "hook"),
                s(&d["request"], "method"),
                &d["response"]["status"],
            );
            match lang {
                Lang::En => format!("Webhook {hook} was called ({m}, answered {st})"),
                Lang::Zh => format!("Webhook {hook} 被调用（{m}，响应 {st}）"),
            }
        },
    },
    EventType {
        name: "script.started",
        alarm: false,
        about_deliveries: false,
        direct: false,
        message: |d, lang| {
            let hook = s(d, "hook");
            match lang {
                Lang::En => format!("Script {hook} started"),
                Lang::Zh => format!("脚本 {hook} 开始运行"),
            }
        },
    },
    EventType {
        name: "script.completed",
        alarm: false,
        about_deliveries: false,
        direct: false,
        message: |d, lang| {
            let (hook, t) = (s(d, "hook"), secs(&d["duration_ms"]));
            match lang {
                Lang::En => format!("Script {hook} completed in {t} s"),
                Lang::Zh => format!("脚本 {hook} 运行成功，耗时 {t} 秒"),
            }
        },
    },
    EventType {
        name: "script.failed",
        alarm: true,
        about_deliveries: false,
        direct: false,
        message: script_failed,
    },
    EventType {
        name: "script.cancelled",
        alarm: false,
        about_deliveries: false,
        direct: false,
        message: |d, lang| {
            let hook = s(d, "hook");
            let by = d["cancelled_by"]
                .as_u64()
                .map(|u| format!(" by uid {u}"))
                .unwrap_or_default();
            match lang {
                Lang::En => format!("Run of script {hook} was cancelled{by}"),
                Lang::Zh => {
                    let by = d["cancelled_by"]
                        .as_u64()
                        .map(|u| format!("（uid {u}）"))
                        .unwrap_or_default();
                    format!("脚本 {hook} 的运行已被取消{by}")
                }
            }
        },
    },
    EventType {
        name: "message.received",
        alarm: false,
        about_deliveries: false,
        direct: false,
        message: |d, _| {
            let who = match s(d, "username") {
                "" => s(d, "hook"),
                u => u,
            };
            format!("{who}: {}", s(d, "content"))
        },
    },
    EventType {
        name: "delivery.failed",
        alarm: true,
        about_deliveries: true,
        direct: false,
        message: |d, lang| {
            let (hook, t, n, err) = (
                s(d, "hook"),
                s(d, "event_type"),
                &d["attempts"],
                s(d, "last_error"),
            );
            match lang {
                Lang::En => format!("Delivery of {t} to {hook} failed after {n} attempts: {err}"),
                Lang::Zh => format!("发往 {hook} 的 {t} 投递在 {n} 次尝试后失败：{err}"),
            }
        },
    },
    EventType {
        name: "endpoint.disabled",
        alarm: true,
        about_deliveries: true,
        direct: false,
        message: |d, lang| {
            let (hook, r) = (s(d, "hook"), s(d, "reason"));
            match lang {
                Lang::En => format!("Outgoing hook {hook} was disabled: {r}"),
                Lang::Zh => format!("外发 hook {hook} 已被停用：{r}"),
            }
        },
    },
    EventType {
        name: "test",
        alarm: false,
        about_deliveries: false,
        direct: true,
        message: |d, lang| {
            let hook = s(d, "hook");
            match lang {
                Lang::En => format!("Test event from hookd for {hook}"),
                Lang::Zh => format!("来自 hookd 的测试事件（{hook}）"),
            }
        },
    },
];

/// The catalogue entry of `name`, if hookd emits events of that type.
pub fn get(name: &str) -> Option<&'static EventType> {
    CATALOGUE.iter().find(|t| t.name == name)
}

pub fn is_alarm(name: &str) -> bool {
    match get(name) {
        Some(t) => t.alarm,
        None => name.starts_with("alarm."),
    }
}

/// Whether `name` may be the type of an admin's own event (`hookctl emit`): dotted words of
/// `a-z 0-9 _` (later words may also hold `-`), at least two, and not one of hookd's names.
pub fn valid_custom_type(name: &str) -> Result<(), String> {
    if get(name).is_some() {
        return Err(format!(
            "{name:?} is one of hookd's own event types; choose another name"
        ));
    }
    let mut words = name.split('.');
    let first_ok = words
        .next()
        .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| is_word_byte(b, false)));
    let rest: Vec<&str> = words.collect();
    let rest_ok = !rest.is_empty()
        && rest
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| is_word_byte(b, true)));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "invalid event type {name:?}: use dotted words of a-z 0-9 _ (and - after the first \
             dot), at least two, e.g. backup.done"
        ))
    }
}

fn is_word_byte(b: u8, dash: bool) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || (dash && b == b'-')
}

/// Whether an outgoing hook that names no events receives an event of type `name`: hookd's
/// own events by the catalogue's list; admins' events when their alarm-ness fits the hook's.
pub fn in_defaults(name: &str, hook_type: Option<&str>) -> bool {
    let alarms = hook_type == Some("alarms");
    match get(name) {
        Some(t) => t.alarm == alarms && !t.direct,
        None => is_alarm(name) == alarms,
    }
}

/// Whether a failed delivery of an event of this type raises `delivery.failed`.
pub fn cascades(name: &str) -> bool {
    !get(name).is_some_and(|t| t.about_deliveries)
}

/// Whether events of this type are only sent directly, never by subscription.
pub fn is_direct(name: &str) -> bool {
    get(name).is_some_and(|t| t.direct)
}

/// The events a hook of `hook_type` (`events` or `alarms`) receives when it names none.
pub fn default_events(hook_type: Option<&str>) -> Vec<String> {
    let alarms = hook_type == Some("alarms");
    CATALOGUE
        .iter()
        .filter(|t| t.alarm == alarms && !t.direct)
        .map(|t| t.name.to_string())
        .collect()
}

/// The human sentence for an event of type `name` with data `d`; for a type the catalogue
/// does not know, the data's `message` text or else the type's name.
pub fn message(name: &str, d: &Value, lang: Lang) -> String {
    match get(name) {
        Some(t) => (t.message)(d, lang),
        // An admin's own event: its data's `message` when it has one.
        None => d
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| name.to_string(), str::to_string),
    }
}

/// Template variables for a representative `script.completed` event: every variable, with
/// values that stress escaping (quotes, a newline, a backslash), so a template that survives
/// this sample yields valid JSON for real events too.
pub fn sample_vars() -> Value {
    serde_json::json!({
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
        "secret": "whsec_c2FtcGxl",
        "data": {
            "hook": "deploy",
            "run_id": "1",
            "exit_code": 0,
            "request": {"method": "POST", "path": "/webhook/hkd_abcd…", "query": "", "headers": {}, "body": {"ref": "refs/heads/main"}},
        },
    })
}

fn script_failed(d: &Value, lang: Lang) -> String {
    let hook = s(d, "hook");
    if s(d, "status") == "timeout" {
        let t = secs(&d["duration_ms"]);
        return match lang {
            Lang::En => format!("Script {hook} timed out after {t} s"),
            Lang::Zh => format!("脚本 {hook} 超时，已运行 {t} 秒"),
        };
    }
    let code = d["exit_code"]
        .as_i64()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "none".into());
    match lang {
        Lang::En => format!("Script {hook} failed (exit code {code})"),
        Lang::Zh => format!("脚本 {hook} 运行失败（退出码 {code}）"),
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn secs(ms: &Value) -> String {
    format!("{:.1}", ms.as_f64().unwrap_or(0.0) / 1000.0)
}
