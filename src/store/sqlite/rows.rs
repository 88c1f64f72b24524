//! The stored form of a hook's options: the `hooks.options` column, format 1.
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

use crate::proto::{HookOptions, Mode, Secret};
use crate::time::Dur;
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
