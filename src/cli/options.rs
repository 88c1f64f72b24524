//! From `create`/`edit` arguments to [`HookOptions`]: reading files, splitting `K=V` pairs,
//! taking a secret given as `-` from stdin.
//!
//! Only client-side facts are checked here (a file that cannot be read, a pair without `=`);
//! whether an option makes sense for the hook is the daemon's call, so `edit` works without the
//! client knowing the hook's kind. A secret value `-` is read here, so it reaches the daemon
//! over the socket and never appears in anyone's `/proc/*/cmdline`; `@file:` and
//! `@credential:` references are passed on as references (a relative `@file:` path made
//! absolute, since the daemon does not share hookctl's directory).

use crate::cli::args::OptionArgs;
use crate::hook::parse_pairs;
use crate::proto::{HookOptions, Mode, Secret};
use std::collections::BTreeMap;
use std::io::Read;

/// Reads a script from a file, or from stdin for `-`.
pub fn read_script(source: &str) -> Result<String, String> {
    if source == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the script from stdin: {e}"))?;
        return Ok(s);
    }
    std::fs::read_to_string(source).map_err(|e| format!("cannot read the script {source}: {e}"))
}

/// The hook options the arguments ask for. `script_from_stdin`: the script is read from stdin,
/// which then cannot also give a secret.
pub fn to_options(a: &OptionArgs, script_from_stdin: bool) -> Result<HookOptions, String> {
    let mut stdin = StdinValue::new(script_from_stdin);
    let mut o = plain_options(a);
    if let Some((first, more)) = a.secret.split_first() {
        o.secret = stdin.secret(Some(first), "--secret")?;
        // Given again, the list replaces the stored one (one `--secret` clears the others).
        let more: Result<Vec<Secret>, String> = more
            .iter()
            .map(|s| stdin.value(s, "--secret").map(Secret))
            .collect();
        o.secrets = Some(more?);
    }
    o.basic_auth = stdin.secret(a.basic_auth.as_deref(), "--basic-auth")?;
    o.bearer = stdin.secret(a.bearer.as_deref(), "--bearer")?;
    if !a.env.is_empty() {
        let mut env = parse_pairs(&a.env, "--env")?;
        for (k, v) in env.iter_mut() {
            *v = stdin.value(v, &format!("--env {k}"))?;
        }
        o.env = Some(env);
    }
    if !a.params.is_empty() {
        o.params = Some(parse_pairs(&a.params, "--param")?);
    }
    if let Some(path) = &a.template {
        o.template = Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the template {}: {e}", path.display()))?,
        );
    }
    if !a.headers.is_empty() {
        let mut headers = BTreeMap::new();
        for h in &a.headers {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| format!("--header {h:?}: expected 'Name: value'"))?;
            let value = stdin.value(v.trim(), &format!("--header {}", k.trim()))?;
            headers.insert(k.trim().to_string(), Secret(value));
        }
        o.headers = Some(headers);
    }
    for (flag, given, into) in [
        ("--env-from", &a.env_from, &mut o.env_from),
        ("--file-from", &a.file_from, &mut o.file_from),
    ] {
        if given.is_empty() {
            continue;
        }
        let mut map = BTreeMap::new();
        for b in given {
            let (var, r) = b
                .split_once('=')
                .ok_or_else(|| format!("{flag} {b:?}: expected VAR=REF"))?;
            map.insert(var.to_string(), r.to_string());
        }
        *into = Some(map);
    }
    if !a.response_headers.is_empty() {
        let mut headers = BTreeMap::new();
        // `--response-header ''` clears them.
        for h in a.response_headers.iter().filter(|h| !h.trim().is_empty()) {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| format!("--response-header {h:?}: expected 'Name: value'"))?;
            headers.insert(k.trim().to_string(), v.trim().to_string());
        }
        o.response_headers = Some(headers);
    }
    Ok(o)
}

/// The options taken as given.
fn plain_options(a: &OptionArgs) -> HookOptions {
    let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    HookOptions {
        description: a.description.clone(),
        user: a.user.clone(),
        raw_output: a.raw_output,
        stream: a.stream,
        mode: if a.async_mode {
            Some(Mode::Async)
        } else if a.sync {
            Some(Mode::Sync)
        } else {
            None
        },
        timeout: a.timeout,
        concurrency: a.concurrency,
        queue_limit: a.queue_limit,
        methods: nonempty(&a.methods),
        cwd: a.cwd.clone(),
        verify: a.verify.clone(),
        signature_header: a.signature_header.clone(),
        public_key: a.public_key.clone(),
        allow_ip: nonempty(&a.allow_ip),
        rate_limit: a.rate_limit.clone(),
        rate: a.rate.clone(),
        keep_headers: nonempty(&a.keep_headers),
        condition: a.condition.clone(),
        if_mismatch_status: a.if_mismatch_status,
        exec: a.exec.clone(),
        args: nonempty(&a.args),
        parse_json: nonempty(&a.parse_json),
        content_type: a.content_type.clone(),
        path: a.path.clone(),
        insecure_path: a.insecure_path,
        node: a.node.clone(),
        success_status: a.success_status,
        response_body: a.response_body.clone(),
        output: a.output.clone(),
        error_output: a.error_output,
        avatar_url: a.avatar_url.clone(),
        events: nonempty(&a.events),
        hook_type: a.hook_type.clone(),
        language: a.language.clone(),
        format: a.format.clone(),
        generate_secret: a.generate_secret.then_some(true),
        include_secret: a.include_secret,
        match_hook: a.match_hook.clone(),
        match_method: a.match_method.clone(),
        match_path: a.match_path.clone(),
        ..HookOptions::default()
    }
}

/// Stdin, for the one secret option given as `-`.
struct StdinValue {
    taken_by: Option<String>,
}

impl StdinValue {
    fn new(script_from_stdin: bool) -> StdinValue {
        StdinValue {
            taken_by: script_from_stdin.then(|| "--script -".to_string()),
        }
    }

    fn secret(&mut self, value: Option<&str>, flag: &str) -> Result<Option<Secret>, String> {
        value.map(|v| self.value(v, flag).map(Secret)).transpose()
    }

    /// `value` itself, stdin's text for `-`, a relative `@file:` made absolute.
    fn value(&mut self, value: &str, flag: &str) -> Result<String, String> {
        if let Some(path) = value.strip_prefix(crate::secret::FILE_PREFIX)
            && !path.starts_with('/')
        {
            let cwd = std::env::current_dir()
                .map_err(|e| format!("{flag} {value}: cannot find the current directory: {e}"))?;
            return Ok(format!(
                "{}{}",
                crate::secret::FILE_PREFIX,
                cwd.join(path).display()
            ));
        }
        if value != "-" {
            return Ok(value.to_string());
        }
        if let Some(first) = &self.taken_by {
            return Err(format!(
                "{flag} -: stdin already gives {first}; only one option can read stdin"
            ));
        }
        self.taken_by = Some(flag.to_string());
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("{flag} -: cannot read stdin: {e}"))?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.is_empty() {
            return Err(format!("{flag} -: stdin gave an empty value"));
        }
        Ok(text)
    }
}
