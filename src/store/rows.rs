//! Rows as every backend stores them: a hook's options in their stored form (the
//! `hooks.options` column, format 1), and the decoding of hook, run and delivery rows.
//!
//! The protocol's [`HookOptions`] changes with the CLI; what is on disk must outlive it. So the
//! column holds [`StoredOptions`], a type of the store's own whose field names and meanings
//! change only with a new format number (`hooks.options_format`) and a migration. Reading
//! ignores keys it does not know, so a field dropped from the protocol never makes a row
//! unreadable. The instructions a request may carry (`description`, `enabled` live in their
//! own columns; `generate_secret` is never stored) have no place here. No `Debug`: the options
//! hold secrets. Fields added to format 1 later (`signature_header`, `public_key`) are
//! optional, so older rows read as before. `basic_auth` of a script hook holds the sealed
//! `USER:$pbkdf2-sha256$…` form, never the password.

use crate::events::Event;
use crate::hook::Hook;
use crate::proto::{
    DeliveryView, EndpointView, HookKind, HookOptions, Mode, RunStatus, RunView, Secret,
};
use crate::run::Invocation;
use crate::store::{Claimed, Result, StoreError};
use crate::time::{Dur, rfc3339};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format [`StoredOptions`] writes.
pub const FORMAT: i64 = 1;

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredMode {
    Sync,
    Async,
}

impl From<Mode> for StoredMode {
    fn from(m: Mode) -> StoredMode {
        match m {
            Mode::Sync => StoredMode::Sync,
            Mode::Async => StoredMode::Async,
        }
    }
}

impl From<StoredMode> for Mode {
    fn from(m: StoredMode) -> Mode {
        match m {
            StoredMode::Sync => Mode::Sync,
            StoredMode::Async => Mode::Async,
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_output: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<StoredMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    env: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_header: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_ip: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secrets: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotated_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotated_until: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    if_mismatch_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    env_from: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_from: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_json: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    insecure_path: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    success_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_output: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<String>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    hook_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic_auth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bearer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    include_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    match_hook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    match_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    match_path: Option<String>,
}

impl StoredOptions {
    pub fn from_options(o: &HookOptions) -> StoredOptions {
        StoredOptions {
            script: o.script.clone(),
            user: o.user.clone(),
            raw_output: o.raw_output,
            mode: o.mode.map(StoredMode::from),
            stream: o.stream,
            timeout: o.timeout,
            concurrency: o.concurrency,
            queue_limit: o.queue_limit,
            methods: o.methods.clone(),
            cwd: o.cwd.clone(),
            env: o.env.clone(),
            verify: o.verify.clone(),
            secret: o.secret.as_ref().map(|s| s.0.clone()),
            signature_header: o.signature_header.clone(),
            public_key: o.public_key.clone(),
            allow_ip: o.allow_ip.clone(),
            params: o.params.clone(),
            rate_limit: o.rate_limit.clone(),
            keep_headers: o.keep_headers.clone(),
            secrets: o
                .secrets
                .as_ref()
                .map(|v| v.iter().map(|s| s.0.clone()).collect()),
            rotated_secret: o.rotated_secret.as_ref().map(|s| s.0.clone()),
            rotated_until: o.rotated_until,
            rate: o.rate.clone(),
            condition: o.condition.clone(),
            if_mismatch_status: o.if_mismatch_status,
            exec: o.exec.clone(),
            args: o.args.clone(),
            env_from: o.env_from.clone(),
            file_from: o.file_from.clone(),
            parse_json: o.parse_json.clone(),
            content_type: o.content_type.clone(),
            path: o.path.clone(),
            insecure_path: o.insecure_path,
            node: o.node.clone(),
            success_status: o.success_status,
            response_headers: o.response_headers.clone(),
            response_body: o.response_body.clone(),
            output: o.output.clone(),
            error_output: o.error_output,
            avatar_url: o.avatar_url.clone(),
            url: o.url.clone(),
            method: o.method.clone(),
            events: o.events.clone(),
            hook_type: o.hook_type.clone(),
            language: o.language.clone(),
            template: o.template.clone(),
            format: o.format.clone(),
            headers: o
                .headers
                .as_ref()
                .map(|h| h.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()),
            basic_auth: o.basic_auth.as_ref().map(|s| s.0.clone()),
            bearer: o.bearer.as_ref().map(|s| s.0.clone()),
            include_secret: o.include_secret,
            match_hook: o.match_hook.clone(),
            match_method: o.match_method.clone(),
            match_path: o.match_path.clone(),
        }
    }

    pub fn into_options(self) -> HookOptions {
        HookOptions {
            script: self.script,
            user: self.user,
            raw_output: self.raw_output,
            mode: self.mode.map(Mode::from),
            stream: self.stream,
            timeout: self.timeout,
            concurrency: self.concurrency,
            queue_limit: self.queue_limit,
            methods: self.methods,
            cwd: self.cwd,
            env: self.env,
            verify: self.verify,
            secret: self.secret.map(Secret),
            signature_header: self.signature_header,
            public_key: self.public_key,
            allow_ip: self.allow_ip,
            params: self.params,
            rate_limit: self.rate_limit,
            keep_headers: self.keep_headers,
            secrets: self.secrets.map(|v| v.into_iter().map(Secret).collect()),
            rotated_secret: self.rotated_secret.map(Secret),
            rotated_until: self.rotated_until,
            rate: self.rate,
            condition: self.condition,
            if_mismatch_status: self.if_mismatch_status,
            exec: self.exec,
            args: self.args,
            env_from: self.env_from,
            file_from: self.file_from,
            parse_json: self.parse_json,
            content_type: self.content_type,
            path: self.path,
            insecure_path: self.insecure_path,
            node: self.node,
            success_status: self.success_status,
            response_headers: self.response_headers,
            response_body: self.response_body,
            output: self.output,
            error_output: self.error_output,
            avatar_url: self.avatar_url,
            url: self.url,
            method: self.method,
            events: self.events,
            hook_type: self.hook_type,
            language: self.language,
            template: self.template,
            format: self.format,
            headers: self
                .headers
                .map(|h| h.into_iter().map(|(k, v)| (k, Secret(v))).collect()),
            basic_auth: self.basic_auth.map(Secret),
            bearer: self.bearer.map(Secret),
            include_secret: self.include_secret,
            match_hook: self.match_hook,
            match_method: self.match_method,
            match_path: self.match_path,
            description: None,
            enabled: None,
            generate_secret: None,
        }
    }
}

/// The options column of `h`.
pub fn stored(h: &Hook) -> Result<String> {
    serde_json::to_string(&StoredOptions::from_options(&h.options))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A run's request in its stored form (serialized before it reaches the database).
pub fn encode_request(inv: &Invocation) -> Result<Vec<u8>> {
    serde_json::to_vec(inv).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A `hooks` row as any backend reads it, before it is checked and decoded.
pub struct HookRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub enabled: bool,
    pub token_hash: Option<Vec<u8>>,
    pub token_prefix: Option<String>,
    pub options: String,
    pub call_count: i64,
    pub last_call_at: Option<i64>,
    pub last_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision: i64,
    pub options_format: i64,
    pub failing_since: Option<i64>,
}

impl HookRow {
    /// The hook, or why the row cannot be one (named, for the error that reports it).
    pub fn into_hook(self) -> std::result::Result<Hook, String> {
        let name = self.name;
        let Some(kind) = HookKind::parse(&self.kind) else {
            return Err(format!("hook {name:?} has unknown kind {:?}", self.kind));
        };
        if self.options_format != FORMAT {
            return Err(format!(
                "hook {name:?} has options in format {}; this hookd reads format {FORMAT}",
                self.options_format
            ));
        }
        let options = match serde_json::from_str::<StoredOptions>(&self.options) {
            Ok(o) => o.into_options(),
            Err(e) => return Err(format!("hook {name:?} has unreadable options: {e}")),
        };
        let token_hash = match self.token_hash {
            None => None,
            Some(v) => match <[u8; 32]>::try_from(v.as_slice()) {
                Ok(h) => Some(h),
                Err(_) => return Err(format!("hook {name:?} has a malformed token hash")),
            },
        };
        Ok(Hook {
            id: self.id,
            name,
            kind,
            description: self.description,
            enabled: self.enabled,
            token_hash,
            token_prefix: self.token_prefix,
            options: Box::new(options),
            call_count: self.call_count as u64,
            last_call_at: self.last_call_at,
            last_status: self.last_status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
            failing_since: self.failing_since,
        })
    }
}

/// A run's stdout and stderr as stored.
pub type RunOutput = (Option<Vec<u8>>, Option<Vec<u8>>);

/// A `runs` row as listings read it; `output` only when the run is shown whole.
pub struct RunRow {
    pub id: i64,
    pub hook: String,
    pub status: String,
    pub exit_code: Option<i32>,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub rerun_of: Option<i64>,
    pub cancelled_by: Option<u32>,
    pub output: Option<RunOutput>,
}

impl RunRow {
    pub fn view(self) -> RunView {
        let text = |v: Option<Vec<u8>>| {
            v.map(|b| String::from_utf8_lossy(&b).into_owned())
                .or(Some(String::new()))
        };
        let (stdout, stderr) = match self.output {
            Some((out, err)) => (text(out), text(err)),
            None => (None, None),
        };
        RunView {
            id: self.id.to_string(),
            hook: self.hook,
            status: RunStatus::parse(&self.status).unwrap_or(RunStatus::Interrupted),
            exit_code: self.exit_code,
            queued_at: rfc3339(self.queued_at),
            started_at: self.started_at.map(rfc3339),
            finished_at: self.finished_at.map(rfc3339),
            duration_ms: self.started_at.zip(self.finished_at).map(|(s, f)| f - s),
            rerun_of: self.rerun_of.map(|i| i.to_string()),
            cancelled_by: self.cancelled_by,
            stdout,
            stderr,
        }
    }
}

/// A `deliveries` row joined with its event's type, as listings read it.
pub struct DeliveryRow {
    pub id: i64,
    pub hook: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

impl DeliveryRow {
    /// A delivery being sent is shown as pending: for the admin it is still to be done.
    pub fn view(self) -> DeliveryView {
        DeliveryView {
            id: self.id.to_string(),
            hook: self.hook,
            event_id: self.event_id,
            event_type: self.event_type,
            next_attempt_at: if self.status == "pending" {
                self.next_attempt_at.map(rfc3339)
            } else {
                None
            },
            status: if self.status == "sending" {
                "pending".into()
            } else {
                self.status
            },
            attempts: self.attempts,
            last_status: self.last_status,
            last_error: self.last_error,
            created_at: rfc3339(self.created_at),
        }
    }
}

/// An outgoing hook's backlog and health.
pub fn endpoint_view(hook: String, backlog: u64, failing_since: Option<i64>) -> EndpointView {
    EndpointView {
        hook,
        backlog,
        health: if failing_since.is_some() {
            "failing"
        } else {
            "healthy"
        }
        .into(),
        failing_since: failing_since.map(rfc3339),
    }
}

/// A claimed delivery as read inside the claim's transaction; [`ClaimedRow::parse`] decodes
/// its event afterwards, so the database's side spends nothing on JSON.
#[derive(Debug)]
pub struct ClaimedRow {
    pub id: i64,
    pub hook_id: i64,
    pub hook: String,
    pub attempts: u32,
    pub event_id: String,
    pub event_type: String,
    pub time: i64,
    pub data: String,
}

impl ClaimedRow {
    pub fn parse(self) -> Result<Claimed> {
        let data = serde_json::from_str(&self.data)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.event_id)))?;
        Ok(Claimed {
            id: self.id,
            hook_id: self.hook_id,
            hook: self.hook,
            attempts: self.attempts,
            event: Event {
                id: self.event_id,
                event_type: self.event_type,
                time: self.time,
                data,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_survives_the_disk_and_unknown_keys_are_ignored() {
        let s = |v: &str| Some(v.to_string());
        let map = |k: &str, v: &str| Some(BTreeMap::from([(k.to_string(), v.to_string())]));
        let o = HookOptions {
            script: s("echo"),
            user: s("www-data"),
            raw_output: Some(true),
            mode: Some(Mode::Async),
            stream: Some(true),
            timeout: Some(Dur::secs(90)),
            concurrency: Some(2),
            queue_limit: Some(3),
            methods: Some(vec!["PUT".into()]),
            cwd: s("/srv"),
            env: map("A", "1"),
            verify: s("github"),
            secret: Some(Secret("s".into())),
            signature_header: s("X-Hub-Signature"),
            public_key: s("ab12"),
            allow_ip: Some(vec!["10.0.0.0/8".into()]),
            params: map("REF", "/ref"),
            rate_limit: s("5/m"),
            keep_headers: Some(vec!["X-Auth-Request-User".into()]),
            avatar_url: s("https://a.example/x.png"),
            url: s("https://r.example/"),
            method: s("PUT"),
            events: Some(vec!["script.*".into()]),
            hook_type: s("alarms"),
            language: s("zh"),
            template: s("{}"),
            format: s("slack"),
            headers: Some(BTreeMap::from([("X-K".into(), Secret("v".into()))])),
            basic_auth: Some(Secret("u:p".into())),
            bearer: Some(Secret("t".into())),
            include_secret: Some(true),
            match_hook: s("deploy"),
            match_method: s("POST"),
            match_path: s("^/x"),
            rate: s("10/s"),
            condition: s("method == 'POST'"),
            if_mismatch_status: Some(202),
            exec: s("/usr/bin/env"),
            args: Some(vec!["payload:a.b".into()]),
            env_from: map("REF", "payload:ref"),
            file_from: map("BODY", "request:body,base64"),
            parse_json: Some(vec!["data".into()]),
            content_type: s("application/json"),
            path: s("/hooks/deploy"),
            insecure_path: Some(true),
            node: s("web1"),
            success_status: Some(201),
            response_headers: map("X-Served-By", "hookd"),
            response_body: s("queued"),
            output: s("combined"),
            error_output: Some(true),
            secrets: Some(vec![Secret("s2".into())]),
            rotated_secret: Some(Secret("old".into())),
            rotated_until: Some(1_700_000_000_000),
            description: None,
            enabled: None,
            generate_secret: None,
        };
        let text = serde_json::to_string(&StoredOptions::from_options(&o)).unwrap();
        let back: StoredOptions = serde_json::from_str(&text).unwrap();
        assert_eq!(back.into_options(), o);
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["from_a_later_release"] = serde_json::json!(1);
        let back: StoredOptions = serde_json::from_value(v).unwrap();
        assert_eq!(back.into_options(), o);
    }
}
