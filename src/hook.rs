//! Hooks: the stored model, PATCH-style merging, validation, and the view listings show.
//!
//! A hook is a name, a kind and a bag of [`HookOptions`]. `create` and `edit` both merge the
//! given options over what is stored and then validate the whole result, so a hook in the store
//! is always valid for its kind. Defaults are not written into the store: they are applied when
//! the hook is used or shown, so changing a config default changes every hook that did not pick
//! a value of its own. Secrets stay inside [`HookOptions`]; [`view`] never copies one out.

mod answers;
mod prepare;
mod rates;
pub mod refs;
mod validate;

pub use answers::PATH_PREFIX;
pub use prepare::*;
pub use rates::*;
pub use validate::*;

use crate::event_catalogue::default_events;
use crate::proto::{HookKind, HookOptions, HookView, Mode};
use crate::time::Dur;
use std::collections::BTreeMap;

pub const DEFAULT_CONCURRENCY: u32 = 1;
pub const DEFAULT_QUEUE_LIMIT: u32 = 32;
pub const MAX_CONCURRENCY: u32 = 1024;
pub const MAX_QUEUE_LIMIT: u32 = 100_000;

/// Every event type hookd emits, and which of them are alarms.
/// A hook as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub id: i64,
    pub name: String,
    pub kind: HookKind,
    pub description: String,
    pub enabled: bool,
    pub token_hash: Option<[u8; 32]>,
    pub token_prefix: Option<String>,
    /// Kind-specific settings; `description` and `enabled` live in their own fields, not here.
    pub options: Box<HookOptions>,
    pub call_count: u64,
    pub last_call_at: Option<i64>,
    pub last_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Counts the stored changes; a write back of a hook read at an older revision is refused.
    pub revision: i64,
    /// Outgoing: since when its attempts have been failing (none since the last success).
    pub failing_since: Option<i64>,
}

impl Hook {
    pub fn mode(&self) -> Mode {
        self.options.mode.unwrap_or_default()
    }
    /// Whether sync calls are answered with the output as it is written (`--stream`).
    pub fn streams(&self) -> bool {
        self.options.stream.unwrap_or(false) && self.mode() == Mode::Sync
    }
    pub fn raw_output(&self) -> bool {
        self.options.raw_output.unwrap_or(false)
    }
    pub fn concurrency(&self) -> u32 {
        self.options.concurrency.unwrap_or(DEFAULT_CONCURRENCY)
    }
    pub fn queue_limit(&self) -> u32 {
        self.options.queue_limit.unwrap_or(DEFAULT_QUEUE_LIMIT)
    }
    /// The HTTP methods a caller may use.
    pub fn methods(&self) -> Vec<String> {
        match (&self.options.methods, self.kind) {
            (Some(m), _) => m.clone(),
            (None, HookKind::Message) => vec!["POST".into()],
            (None, _) => vec!["GET".into(), "POST".into()],
        }
    }
    pub fn allows_method(&self, method: &str) -> bool {
        match &self.options.methods {
            Some(m) => m.iter().any(|x| x == method || x == "*"),
            None if self.kind == HookKind::Message => method == "POST",
            None => method == "GET" || method == "POST",
        }
    }
}

/// Values the daemon supplies where a hook chose none; used for showing effective settings.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub run_user: String,
    pub script_timeout: Dur,
    pub delivery_timeout: Dur,
}

/// What validation needs to know about the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub daemon_uid: u32,
}

/// Copies every option `patch` gives over `base`. `generate_secret` is an instruction, not a
/// setting, so it is taken out by the caller before merging.
pub fn merge(base: &mut HookOptions, patch: HookOptions) {
    // A script text and a program to run replace each other.
    if patch.exec.is_some() {
        base.script = None;
    }
    if patch.script.is_some() {
        base.exec = None;
        base.args = None;
    }
    macro_rules! take {
        ($($f:ident),* $(,)?) => { $( if patch.$f.is_some() { base.$f = patch.$f; } )* };
    }
    take!(
        description,
        enabled,
        script,
        user,
        raw_output,
        mode,
        stream,
        timeout,
        concurrency,
        queue_limit,
        methods,
        cwd,
        env,
        verify,
        secret,
        secrets,
        rotated_secret,
        rotated_until,
        signature_header,
        public_key,
        allow_ip,
        params,
        avatar_url,
        url,
        method,
        events,
        hook_type,
        language,
        template,
        format,
        headers,
        basic_auth,
        bearer,
        generate_secret,
        include_secret,
        match_hook,
        match_method,
        match_path,
        rate_limit,
        keep_headers,
        rate,
        condition,
        if_mismatch_status,
        exec,
        node,
        args,
        env_from,
        file_from,
        parse_json,
        content_type,
        path,
        insecure_path,
        success_status,
        response_headers,
        response_body,
        output,
        error_output,
    );
    normalize(base);
}

/// Empty text means "cleared"; method names are upper case.
fn normalize(o: &mut HookOptions) {
    macro_rules! clear_empty {
        ($($f:ident),* $(,)?) => { $( if o.$f.as_deref().is_some_and(|s: &str| s.trim().is_empty()) { o.$f = None; } )* };
    }
    clear_empty!(
        node,
        user,
        cwd,
        verify,
        signature_header,
        public_key,
        rate_limit,
        rate,
        avatar_url,
        url,
        method,
        hook_type,
        language,
        template,
        format,
        match_hook,
        match_method,
        match_path,
        condition,
        output,
        exec,
        content_type,
        path
    );
    if o.response_headers.as_ref().is_some_and(|h| h.is_empty()) {
        o.response_headers = None;
    }
    for s in [&mut o.secret, &mut o.basic_auth, &mut o.bearer] {
        if s.as_ref().is_some_and(|v| v.0.is_empty()) {
            *s = None;
        }
    }
    if let Some(v) = &mut o.secrets {
        v.retain(|s| !s.0.is_empty());
        if v.is_empty() {
            o.secrets = None;
        }
    }
    if o.secret.is_none() || o.rotated_until.is_none() {
        o.rotated_secret = None;
        o.rotated_until = None;
    }
    if o.verify.as_deref() == Some("none") {
        o.verify = None;
    }
    if let Some(m) = &mut o.methods {
        for x in m.iter_mut() {
            *x = x.trim().to_ascii_uppercase();
        }
        m.dedup();
    }
    for m in [&mut o.method, &mut o.match_method].into_iter().flatten() {
        *m = m.trim().to_ascii_uppercase();
    }
}

/// What a script hook runs with from the request, and how it answers.
fn command_view(v: &mut HookView, o: &HookOptions) {
    v.exec = o.exec.clone();
    v.args = o.args.clone();
    v.env_from = o.env_from.clone();
    v.file_from = o.file_from.clone();
    v.parse_json = o.parse_json.clone();
    v.success_status = o.success_status;
    v.response_headers = o.response_headers.clone();
    v.response_body = o.response_body.clone();
    v.output = o.output.clone();
    v.error_output = o.error_output;
}

/// The listing view of a hook, with effective values where the hook relies on defaults.
pub fn view(h: &Hook, d: &Defaults) -> HookView {
    let o = &h.options;
    let mut v = HookView {
        name: h.name.clone(),
        kind: Some(h.kind),
        enabled: h.enabled,
        description: h.description.clone(),
        token_prefix: h.token_prefix.clone(),
        call_count: h.call_count,
        last_call_at: h.last_call_at.map(crate::time::rfc3339),
        last_status: h.last_status.clone(),
        created_at: crate::time::rfc3339(h.created_at),
        updated_at: crate::time::rfc3339(h.updated_at),
        allow_ip: o.allow_ip.clone(),
        rate_limit: o.rate_limit.clone(),
        keep_headers: o.keep_headers.clone(),
        condition: o.condition.clone(),
        content_type: o.content_type.clone(),
        path: o.path.clone(),
        insecure_path: o.insecure_path,
        node: o.node.clone(),
        if_mismatch_status: o.if_mismatch_status,
        ..HookView::default()
    };
    match h.kind {
        HookKind::Script => script_view(&mut v, h, d),
        HookKind::Message => {
            v.methods = Some(h.methods());
            v.avatar_url = o.avatar_url.clone();
        }
        HookKind::Outgoing => outgoing_view(&mut v, h, d),
    }
    v
}

/// What a script hook's view adds: how and as whom it runs, and what it checks.
fn script_view(v: &mut HookView, h: &Hook, d: &Defaults) {
    let o = &h.options;
    v.user = Some(o.user.clone().unwrap_or_else(|| d.run_user.clone()));
    v.raw_output = Some(h.raw_output());
    v.mode = Some(h.mode());
    v.stream = Some(h.options.stream.unwrap_or(false));
    v.timeout = Some(o.timeout.unwrap_or(d.script_timeout));
    v.concurrency = Some(h.concurrency());
    v.queue_limit = Some(h.queue_limit());
    v.methods = Some(h.methods());
    v.script = o.script.clone();
    v.cwd = o.cwd.clone();
    v.env = o.env.clone();
    v.verify = o.verify.clone();
    v.signature_header = o.signature_header.clone();
    v.public_key = o.public_key.clone();
    v.auth = o.basic_auth.as_ref().map(|_| "basic".into());
    v.params = o.params.clone();
    v.secret_set = Some(o.secret.is_some());
    command_view(v, o);
}

/// What an outgoing hook's view adds: where it sends what, and how it is doing.
fn outgoing_view(v: &mut HookView, h: &Hook, d: &Defaults) {
    let o = &h.options;
    v.url = o.url.clone();
    v.rate = o.rate.clone();
    v.health = Some(
        match (h.enabled, h.failing_since) {
            (false, _) => "disabled",
            (true, Some(_)) => "failing",
            (true, None) => "healthy",
        }
        .into(),
    );
    v.failing_since = h.failing_since.map(crate::time::rfc3339);
    v.method = Some(o.method.clone().unwrap_or_else(|| "POST".into()));
    v.hook_type = Some(o.hook_type.clone().unwrap_or_else(|| "events".into()));
    v.events = Some(
        o.events
            .clone()
            .unwrap_or_else(|| default_events(v.hook_type.as_deref())),
    );
    v.language = Some(o.language.clone().unwrap_or_else(|| "en".into()));
    v.format = Some(if o.template.is_some() {
        "template".into()
    } else {
        o.format.clone().unwrap_or_else(|| "default".into())
    });
    v.template = o.template.clone();
    v.timeout = Some(o.timeout.unwrap_or(d.delivery_timeout));
    v.headers = o.headers.as_ref().map(|h| h.keys().cloned().collect());
    v.auth = if o.basic_auth.is_some() {
        Some("basic".into())
    } else {
        o.bearer.as_ref().map(|_| "bearer".into())
    };
    v.secret_set = Some(o.secret.is_some());
    v.include_secret = Some(o.include_secret.unwrap_or(false));
    v.match_hook = o.match_hook.clone();
    v.match_method = o.match_method.clone();
    v.match_path = o.match_path.clone();
}

/// The events a hook of this `type` receives when it names none.
/// Options as stored: without the fields that have their own columns or are instructions.
pub fn stored_options(mut o: HookOptions) -> HookOptions {
    o.description = None;
    o.enabled = None;
    o.generate_secret = None;
    o
}

/// Environment pairs from `K=V` strings, as `--env` takes them.
pub fn parse_pairs(items: &[String], what: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in items {
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!("{what} {item:?}: expected NAME=VALUE"));
        };
        out.insert(k.trim().to_string(), v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("deploy-app_1.x").is_ok());
        for bad in ["", "a b", "../x", "ü", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_is_patch_and_empty_clears() {
        let mut base = HookOptions {
            script: Some("echo".into()),
            cwd: Some("/tmp".into()),
            ..Default::default()
        };
        merge(
            &mut base,
            HookOptions {
                cwd: Some(String::new()),
                raw_output: Some(true),
                ..Default::default()
            },
        );
        assert_eq!(base.script.as_deref(), Some("echo"));
        assert_eq!(base.cwd, None);
        assert_eq!(base.raw_output, Some(true));
    }

    #[test]
    fn options_must_fit_the_kind() {
        let o = HookOptions {
            url: Some("http://x".into()),
            ..Default::default()
        };
        assert!(
            check_applicable(HookKind::Script, &o)
                .unwrap_err()
                .contains("--url")
        );
        assert!(check_applicable(HookKind::Outgoing, &o).is_ok());
    }

    #[test]
    fn event_patterns() {
        for ok in [
            "*",
            "script.*",
            "delivery.failed",
            "test",
            "backup.*",
            "backup.done",
            "ci.deploy-prod.done",
        ] {
            assert!(valid_event_pattern(ok), "{ok}");
        }
        for bad in [
            "nope",
            "script.",
            "",
            "Backup.*",
            "a..b",
            "*.done",
            "deploy-x.done",
        ] {
            assert!(!valid_event_pattern(bad), "{bad}");
        }
        assert_eq!(
            default_events(Some("alarms")),
            ["script.failed", "delivery.failed", "endpoint.disabled"]
        );
    }
}
