//! From `create`/`edit` arguments to [`HookOptions`]: reading files, splitting `K=V` pairs.
//!
//! Only client-side facts are checked here (a file that cannot be read, a pair without `=`);
//! whether an option makes sense for the hook is the daemon's call, so `edit` works without the
//! client knowing the hook's kind.

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

pub fn to_options(a: &OptionArgs) -> Result<HookOptions, String> {
    let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let mut o = HookOptions {
        description: a.description.clone(),
        user: a.user.clone(),
        raw_output: a.raw_output,
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
        secret: a.secret.clone().map(Secret),
        signature_header: a.signature_header.clone(),
        public_key: a.public_key.clone(),
        allow_ip: nonempty(&a.allow_ip),
        rate_limit: a.rate_limit.clone(),
        keep_headers: nonempty(&a.keep_headers),
        avatar_url: a.avatar_url.clone(),
        events: nonempty(&a.events),
        hook_type: a.hook_type.clone(),
        language: a.language.clone(),
        format: a.format.clone(),
        basic_auth: a.basic_auth.clone().map(Secret),
        bearer: a.bearer.clone().map(Secret),
        generate_secret: a.generate_secret.then_some(true),
        include_secret: a.include_secret,
        match_hook: a.match_hook.clone(),
        match_method: a.match_method.clone(),
        match_path: a.match_path.clone(),
        ..HookOptions::default()
    };
    if !a.env.is_empty() {
        o.env = Some(parse_pairs(&a.env, "--env")?);
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
            headers.insert(k.trim().to_string(), Secret(v.trim().to_string()));
        }
        o.headers = Some(headers);
    }
    Ok(o)
}
