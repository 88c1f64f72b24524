//! Validation of hook names and options, per kind.
//!
//! Runs in the daemon on the merged options of a `create`, `edit` or `apply`, so a stored hook
//! is always valid for its kind. Messages name the flag the admin typed (`--url`, `--user`) so
//! they read as answers to the command. User lookups and the root check reflect where scripts
//! will really run. Nothing here touches the store.

use super::rates::{parse_rate, parse_rate_limit};
use super::{Context, MAX_CONCURRENCY, MAX_QUEUE_LIMIT};
use crate::proto::{HookKind, HookOptions};

pub fn validate_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 64 || !ok_chars {
        return Err(format!(
            "invalid hook name {name:?}: use 1-64 characters of A-Z a-z 0-9 . _ -"
        ));
    }
    Ok(())
}

/// Which kinds an option applies to, by the flag name users know it as.
fn applicability(o: &HookOptions) -> Vec<(&'static str, bool, &'static [HookKind])> {
    use HookKind::*;
    const SCRIPT: &[HookKind] = &[Script];
    const OUT: &[HookKind] = &[Outgoing];
    const INCOMING: &[HookKind] = &[Script, Message];
    const SCRIPT_OUT: &[HookKind] = &[Script, Outgoing];
    vec![
        ("--script/--run", o.script.is_some(), SCRIPT),
        ("--exec", o.exec.is_some(), SCRIPT),
        ("--arg", o.args.is_some(), SCRIPT),
        ("--env-from", o.env_from.is_some(), SCRIPT),
        ("--file-from", o.file_from.is_some(), SCRIPT),
        ("--parse-json", o.parse_json.is_some(), SCRIPT),
        ("--content-type", o.content_type.is_some(), INCOMING),
        ("--path", o.path.is_some(), INCOMING),
        ("--insecure-path", o.insecure_path.is_some(), INCOMING),
        ("--node", o.node.is_some(), SCRIPT),
        ("--user", o.user.is_some(), SCRIPT),
        ("--raw-output", o.raw_output.is_some(), SCRIPT),
        ("--async", o.mode.is_some(), SCRIPT),
        ("--stream", o.stream.is_some(), SCRIPT),
        ("--timeout", o.timeout.is_some(), SCRIPT_OUT),
        ("--concurrency", o.concurrency.is_some(), SCRIPT),
        ("--queue-limit", o.queue_limit.is_some(), SCRIPT),
        ("--method", o.methods.is_some(), SCRIPT),
        ("--cwd", o.cwd.is_some(), SCRIPT),
        ("--env", o.env.is_some(), SCRIPT),
        ("--verify", o.verify.is_some(), SCRIPT),
        ("--secret", o.secret.is_some(), SCRIPT_OUT),
        (
            "--secret (several)",
            o.secrets.as_ref().is_some_and(|v| !v.is_empty()),
            SCRIPT,
        ),
        ("--signature-header", o.signature_header.is_some(), SCRIPT),
        ("--public-key", o.public_key.is_some(), SCRIPT),
        ("--allow-ip", o.allow_ip.is_some(), INCOMING),
        ("--param", o.params.is_some(), SCRIPT),
        ("--rate-limit", o.rate_limit.is_some(), INCOMING),
        ("--keep-header", o.keep_headers.is_some(), INCOMING),
        ("--if", o.condition.is_some(), INCOMING),
        (
            "--if-mismatch-status",
            o.if_mismatch_status.is_some(),
            INCOMING,
        ),
        ("--success-status", o.success_status.is_some(), SCRIPT),
        ("--response-header", o.response_headers.is_some(), SCRIPT),
        ("--response-body", o.response_body.is_some(), SCRIPT),
        ("--output", o.output.is_some(), SCRIPT),
        ("--error-output", o.error_output.is_some(), SCRIPT),
        ("--avatar-url", o.avatar_url.is_some(), &[Message]),
        ("--url", o.url.is_some(), OUT),
        ("--method", o.method.is_some(), OUT),
        ("--event", o.events.is_some(), OUT),
        ("--type", o.hook_type.is_some(), OUT),
        ("--language", o.language.is_some(), OUT),
        ("--template", o.template.is_some(), OUT),
        ("--format", o.format.is_some(), OUT),
        ("--header", o.headers.is_some(), OUT),
        ("--basic-auth", o.basic_auth.is_some(), SCRIPT_OUT),
        ("--bearer", o.bearer.is_some(), OUT),
        ("--rate", o.rate.is_some(), OUT),
        ("--generate-secret", o.generate_secret.is_some(), OUT),
        ("--include-secret", o.include_secret.is_some(), OUT),
        ("--match-hook", o.match_hook.is_some(), OUT),
        ("--match-method", o.match_method.is_some(), OUT),
        ("--match-path", o.match_path.is_some(), OUT),
    ]
}

/// `--method` lists the allowed methods of a script hook but is the delivery method of an
/// outgoing one; the client cannot know the kind on `edit`, so the daemon sorts it out here.
pub fn adapt_for_kind(kind: HookKind, o: &mut HookOptions) -> Result<(), String> {
    if kind == HookKind::Outgoing
        && let Some(m) = o.methods.take()
    {
        let [one] = <[String; 1]>::try_from(m)
            .map_err(|_| "an outgoing hook takes one --method (POST or PUT)".to_string())?;
        o.method = Some(one);
    }
    Ok(())
}

/// Checks that `patch` only sets options that exist for `kind` (before merging, so the message
/// names what the user just typed).
pub fn check_applicable(kind: HookKind, patch: &HookOptions) -> Result<(), String> {
    for (flag, given, kinds) in applicability(patch) {
        if given && !kinds.contains(&kind) {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            return Err(format!(
                "{flag} does not apply to {kind} hooks (only to {} hooks)",
                names.join("/")
            ));
        }
    }
    Ok(())
}

fn is_http_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether an event pattern is well formed: `*`, `prefix.*` (dotted words), a name of hookd's
/// own events, or a name an admin's events may have (`hookctl emit`), whether or not anything
/// emits it yet.
pub fn valid_event_pattern(p: &str) -> bool {
    if p == "*" || crate::event_catalogue::get(p).is_some() {
        return true;
    }
    match p.strip_suffix(".*") {
        // `backup.*` is `backup` and anything under it: the prefix is one word or more.
        Some(prefix) => crate::event_catalogue::valid_custom_type(&format!("{prefix}.x")).is_ok(),
        None => crate::event_catalogue::valid_custom_type(p).is_ok(),
    }
}

/// Validates a merged hook. Runs in the daemon, so user and permission checks see the daemon's
/// real situation, not the client's.
pub fn validate(kind: HookKind, o: &HookOptions, ctx: Context) -> Result<(), String> {
    let resolved = resolve_secrets(o)?;
    let o = &resolved;
    if let Some(d) = &o.description
        && d.len() > 1024
    {
        return Err("--description is longer than 1024 bytes".into());
    }
    match kind {
        HookKind::Script => validate_script(o, ctx),
        HookKind::Message => validate_message(o),
        HookKind::Outgoing => validate_outgoing(o),
    }
}

/// `o` with every secret reference replaced by what it reads now, so that the checks below see
/// the values the daemon will use; a reference that cannot be read is refused, named with its
/// option. The copy lives only for the validation.
fn resolve_secrets(o: &HookOptions) -> Result<HookOptions, String> {
    use crate::secret::{is_reference, resolve};
    let read = |flag: &str, value: &mut String| -> Result<(), String> {
        if is_reference(value) {
            *value = resolve(value)
                .map_err(|e| format!("{flag}: {e}"))?
                .into_owned();
        }
        Ok(())
    };
    let mut r = o.clone();
    for (flag, field) in [
        ("--secret", &mut r.secret),
        ("--basic-auth", &mut r.basic_auth),
        ("--bearer", &mut r.bearer),
    ] {
        if let Some(s) = field {
            read(flag, &mut s.0)?;
        }
    }
    for (k, v) in r.headers.iter_mut().flatten() {
        read(&format!("--header {k}"), &mut v.0)?;
    }
    for s in r.secrets.iter_mut().flatten() {
        read("--secret", &mut s.0)?;
    }
    for (k, v) in r.env.iter_mut().flatten() {
        read(&format!("--env {k}"), v)?;
    }
    Ok(r)
}

fn validate_script(o: &HookOptions, ctx: Context) -> Result<(), String> {
    check_script_text(o)?;
    if o.stream == Some(true) && o.mode == Some(crate::proto::Mode::Async) {
        return Err("--stream needs a sync hook: an async call is answered before its run starts (drop --async, or follow the run with `hookctl runs show ID --follow`)".into());
    }
    check_run_limits(o, ctx)?;
    check_request_shape(o)?;
    check_verify(o)?;
    if let Some(list) = &o.allow_ip {
        check_cidrs(list)?;
    }
    check_rate_limit(o)?;
    check_keep_headers(o)?;
    super::answers::check_condition(o)?;
    super::answers::check_response(o)?;
    super::answers::check_bindings(o)?;
    check_params(o)
}

fn check_keep_headers(o: &HookOptions) -> Result<(), String> {
    match o.keep_headers.iter().flatten().find(|h| !is_header_name(h)) {
        Some(bad) => Err(format!("--keep-header {bad:?} is not a valid header name")),
        None => Ok(()),
    }
}

/// An HTTP header name (RFC 9110 token).
pub(super) fn is_header_name(k: &str) -> bool {
    crate::signature::is_header_name(k)
}

fn check_script_text(o: &HookOptions) -> Result<(), String> {
    if o.exec.is_some() || o.args.is_some() {
        return super::answers::check_command(o);
    }
    match &o.script {
        None => Err(
            "a script hook needs a script: --script FILE, --script - (stdin) or --run 'TEXT'"
                .into(),
        ),
        Some(s) if s.trim().is_empty() => Err("the script is empty".into()),
        Some(s) if s.contains('\0') => Err("the script contains a NUL byte".into()),
        Some(_) => Ok(()),
    }
}

/// Who runs it, for how long, how many at once.
fn check_run_limits(o: &HookOptions, ctx: Context) -> Result<(), String> {
    if let Some(user) = &o.user {
        check_run_user(user, ctx)?;
    }
    if let Some(t) = o.timeout
        && t.0.is_zero()
    {
        return Err("--timeout must be longer than 0s".into());
    }
    if let Some(c) = o.concurrency
        && !(1..=MAX_CONCURRENCY).contains(&c)
    {
        return Err(format!(
            "--concurrency must be between 1 and {MAX_CONCURRENCY}"
        ));
    }
    if let Some(q) = o.queue_limit
        && q > MAX_QUEUE_LIMIT
    {
        return Err(format!("--queue-limit must be at most {MAX_QUEUE_LIMIT}"));
    }
    Ok(())
}

/// The methods it answers, where it runs, the environment it gets.
fn check_request_shape(o: &HookOptions) -> Result<(), String> {
    if let Some(m) = &o.methods {
        if m.is_empty() {
            return Err("--method needs at least one HTTP method".into());
        }
        if m.len() > 1 && m.iter().any(|x| x == "*") {
            return Err("--method '*' allows every method; give it alone".into());
        }
        if let Some(bad) = m.iter().find(|x| *x != "*" && !is_http_token(x)) {
            return Err(format!("--method {bad:?} is not an HTTP method"));
        }
    }
    if let Some(cwd) = &o.cwd {
        let p = std::path::Path::new(cwd);
        if !p.is_absolute() {
            return Err(format!("--cwd {cwd:?} must be an absolute path"));
        }
        if !p.is_dir() {
            return Err(format!("--cwd {cwd:?} is not a directory"));
        }
    }
    for (k, v) in o.env.iter().flatten() {
        if !is_env_name(k) {
            return Err(format!("--env {k:?} is not a valid variable name"));
        }
        if k.starts_with("HOOKD_") {
            return Err(format!(
                "--env {k}: names starting with HOOKD_ are set by hookd itself"
            ));
        }
        if v.contains('\0') {
            return Err(format!("--env {k}: the value contains a NUL byte"));
        }
    }
    Ok(())
}

/// The `--verify` kind and the keys it needs. Without `--verify`, leftover keys are kept (as a
/// secret is) so that turning verification off and on again needs no retyping.
fn check_verify(o: &HookOptions) -> Result<(), String> {
    use crate::signature::{Keys, Verifier, VerifyKind};
    let Some(v) = &o.verify else {
        return Ok(());
    };
    let Some(kind) = VerifyKind::parse(v) else {
        let names: Vec<&str> = VerifyKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(format!(
            "--verify {v:?}: expected {} or none",
            names.join(", ")
        ));
    };
    let basic_auth = o.basic_auth.as_ref().map(|b| b.0.as_str());
    match (kind, basic_auth) {
        (VerifyKind::Basic, Some(b)) => check_basic_auth(b)?,
        (VerifyKind::Basic, None) => {
            return Err("--verify basic needs --basic-auth USER:PASS".into());
        }
        (_, Some(_)) => {
            return Err(format!(
                "--basic-auth on a script hook is checked by --verify basic, not {kind}"
            ));
        }
        (_, None) => {}
    }
    let keys = Keys {
        secret: o.secret.as_ref().map(|s| s.0.as_str()),
        signature_header: o.signature_header.as_deref(),
        public_key: o.public_key.as_deref(),
        // Checked above in its plain form; the verifier takes the sealed one.
        basic_auth: None,
    };
    match Verifier::new(kind, keys) {
        Err(e) if kind == VerifyKind::Basic && e.contains("--basic-auth") => Ok(()),
        Err(e) => Err(e),
        Ok(_) => {
            // Each further secret must suit the kind as the first does.
            for extra in o.secrets.iter().flatten() {
                Verifier::new(
                    kind,
                    Keys {
                        secret: Some(&extra.0),
                        ..keys
                    },
                )?;
            }
            Ok(())
        }
    }
}

/// `USER:PASS` as typed (or already sealed, as `export --include-secrets` writes it).
fn check_basic_auth(value: &str) -> Result<(), String> {
    if crate::signature::password::is_sealed(value) {
        return Ok(());
    }
    let Some((user, password)) = value.split_once(':') else {
        return Err("--basic-auth takes USER:PASS".into());
    };
    if user.is_empty() || password.is_empty() {
        return Err("--basic-auth takes USER:PASS with neither part empty".into());
    }
    if value.chars().any(char::is_control) {
        return Err("--basic-auth contains a control character".into());
    }
    Ok(())
}

fn check_params(o: &HookOptions) -> Result<(), String> {
    for (name, pointer) in o.params.iter().flatten() {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "--param {name:?}: the name may hold only A-Z a-z 0-9 _"
            ));
        }
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(format!(
                "--param {name}={pointer}: a JSON pointer starts with '/' (e.g. /repository/name)"
            ));
        }
    }
    Ok(())
}

fn check_cidrs(list: &[String]) -> Result<(), String> {
    for c in list {
        c.parse::<crate::netaddr::Cidr>()
            .map_err(|e| format!("--allow-ip {c:?}: {e}"))?;
    }
    Ok(())
}

/// The run user must exist, and switching to another user needs hookd to run as root.
pub fn check_run_user(user: &str, ctx: Context) -> Result<(), String> {
    let found = nix::unistd::User::from_name(user)
        .map_err(|e| format!("--user {user}: cannot look up the user: {e}"))?;
    let Some(u) = found else {
        return Err(format!("--user {user}: no such user on this system"));
    };
    if u.uid.as_raw() != ctx.daemon_uid && ctx.daemon_uid != 0 {
        return Err(format!(
            "--user {user}: running scripts as another user needs hookd to run as root (it runs as uid {})",
            ctx.daemon_uid
        ));
    }
    Ok(())
}

fn check_rate_limit(o: &HookOptions) -> Result<(), String> {
    o.rate_limit
        .as_deref()
        .map(parse_rate_limit)
        .transpose()
        .map(|_| ())
}

fn validate_message(o: &HookOptions) -> Result<(), String> {
    check_rate_limit(o)?;
    check_keep_headers(o)?;
    super::answers::check_condition(o)?;
    super::answers::check_bindings(o)?;
    if let Some(u) = &o.avatar_url {
        check_http_url("--avatar-url", u)?;
    }
    if let Some(list) = &o.allow_ip {
        check_cidrs(list)?;
    }
    Ok(())
}

/// An absolute http(s) URL with a host.
pub fn check_http_url(flag: &str, url: &str) -> Result<(), String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("{flag} {url:?} is not a valid URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(format!(
                "{flag} {url:?} must start with http:// or https://"
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{flag} {url:?} has no host"));
    }
    Ok(())
}

fn validate_outgoing(o: &HookOptions) -> Result<(), String> {
    match &o.url {
        None => return Err("an outgoing hook needs --url URL".into()),
        Some(u) => check_http_url("--url", u)?,
    }
    if let Some(m) = &o.method
        && m != "POST"
        && m != "PUT"
    {
        return Err(format!("--method {m:?}: outgoing hooks use POST or PUT"));
    }
    if let Some(r) = &o.rate {
        parse_rate(r)?;
    }
    check_subscription(o)?;
    check_payload(o)?;
    check_credentials(o)?;
    check_filters(o)
}

/// Which events, of which category, in which language.
fn check_subscription(o: &HookOptions) -> Result<(), String> {
    if let Some(bad) = o.events.iter().flatten().find(|e| !valid_event_pattern(e)) {
        let names: Vec<&str> = crate::event_catalogue::CATALOGUE
            .iter()
            .map(|t| t.name)
            .collect();
        return Err(format!(
            "--event {bad:?} is not an event pattern; use *, a prefix like script.*, one of \
             hookd's events ({}), or the dotted name of your own events (backup.done)",
            names.join(", ")
        ));
    }
    if let Some(t) = &o.hook_type
        && t != "events"
        && t != "alarms"
    {
        return Err(format!("--type {t:?}: expected events or alarms"));
    }
    if let Some(l) = &o.language
        && l != "en"
        && l != "zh"
    {
        return Err(format!("--language {l:?}: expected en or zh"));
    }
    Ok(())
}

/// The body's shape: a format or a template that renders valid JSON.
fn check_payload(o: &HookOptions) -> Result<(), String> {
    if let Some(f) = &o.format
        && !matches!(f.as_str(), "default" | "slack" | "discord")
    {
        return Err(format!(
            "--format {f:?}: expected default, slack or discord"
        ));
    }
    if let Some(t) = &o.template {
        crate::template::Template::check(t, &crate::event_catalogue::sample_vars())
            .map_err(|e| format!("--template: {e}"))?;
    }
    Ok(())
}

/// Extra headers, authentication and the signing secret.
fn check_credentials(o: &HookOptions) -> Result<(), String> {
    for (k, v) in o.headers.iter().flatten() {
        if !is_header_name(k) {
            return Err(format!("--header {k:?} is not a valid header name"));
        }
        if v.0.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!("--header {k}: the value contains a line break"));
        }
    }
    if let Some(b) = &o.basic_auth
        && !b.0.contains(':')
    {
        return Err("--basic-auth takes USER:PASS".into());
    }
    if o.basic_auth.is_some() && o.bearer.is_some() {
        return Err("use --basic-auth or --bearer, not both".into());
    }
    if let Some(s) = &o.secret
        && !crate::signature::is_valid_whsec(&s.0)
    {
        return Err(
            "--secret for an outgoing hook must be a whsec_ secret (or use --generate-secret)"
                .into(),
        );
    }
    if o.include_secret == Some(true) && o.secret.is_none() {
        return Err("--include-secret needs a secret (--secret or --generate-secret)".into());
    }
    Ok(())
}

/// The filters on `webhook.received` events.
fn check_filters(o: &HookOptions) -> Result<(), String> {
    if let Some(h) = &o.match_hook {
        validate_name(h).map_err(|e| format!("--match-hook: {e}"))?;
    }
    if let Some(m) = &o.match_method
        && !is_http_token(m)
    {
        return Err(format!("--match-method {m:?} is not an HTTP method"));
    }
    if let Some(p) = &o.match_path {
        regex::Regex::new(p)
            .map_err(|e| format!("--match-path is not a valid regular expression: {e}"))?;
    }
    Ok(())
}
