//! A hook as `create` or `apply` wants it stored: options merged over the defaults, validated
//! for its kind, a token ready when it is new and incoming, a secret generated when asked for.
//! The one place that builds a [`Hook`] from a request; changing one in place is `edit`'s.

use super::{Context, Hook, adapt_for_kind, check_applicable, merge, stored_options, validate};
use crate::proto::{HookKind, HookOptions, Secret};
use crate::token::Token;

/// A hook ready to store, with what is shown once: the new token and a generated secret.
pub struct Prepared {
    pub hook: Hook,
    pub token: Option<Token>,
    pub generated_secret: Option<String>,
}

/// Builds the hook `name` from `options`. With `existing` (the stored hook of that name) its
/// identity, token, counters and creation time are kept, and so are its write-only fields
/// (secret, bearer, basic auth, headers) when `options` leaves them out: `export` never shows
/// them, so leaving one out of a file means "keep it"; an empty value removes it. Errors name
/// the option at fault.
pub fn prepare(
    name: String,
    kind: HookKind,
    mut options: HookOptions,
    existing: Option<&Hook>,
    ctx: Context,
    now: i64,
) -> Result<Prepared, String> {
    if let Some(h) = existing.filter(|h| h.kind == kind) {
        keep_write_only(&mut options, &h.options);
    }
    adapt_for_kind(kind, &mut options)?;
    check_applicable(kind, &options)?;
    let generate = options.generate_secret.take() == Some(true);
    let mut merged = HookOptions::default();
    merge(&mut merged, options);
    let mut generated_secret = None;
    if generate && merged.secret.is_none() {
        merged.secret = existing.and_then(|h| h.options.secret.clone());
        if merged.secret.is_none() {
            let s = crate::signature::generate_whsec();
            merged.secret = Some(Secret(s.clone()));
            generated_secret = Some(s);
        }
    }
    validate(kind, &merged, ctx)?;
    seal_basic_auth(kind, &mut merged, existing.map(|h| &*h.options));
    if let Some(h) = existing
        && h.kind != kind
    {
        return Err(format!(
            "exists as a {} hook; delete it before applying it as a {kind} hook",
            h.kind
        ));
    }
    let token = (existing.is_none() && kind.is_incoming()).then(Token::generate);
    let hook = Hook {
        id: existing.map(|h| h.id).unwrap_or(0),
        name,
        kind,
        description: merged.description.clone().unwrap_or_default(),
        enabled: merged.enabled.unwrap_or(true),
        token_hash: token
            .as_ref()
            .map(Token::hash)
            .or(existing.and_then(|h| h.token_hash)),
        token_prefix: token
            .as_ref()
            .map(Token::shown_prefix)
            .or(existing.and_then(|h| h.token_prefix.clone())),
        options: Box::new(stored_options(merged)),
        call_count: existing.map(|h| h.call_count).unwrap_or(0),
        last_call_at: existing.and_then(|h| h.last_call_at),
        last_status: existing.and_then(|h| h.last_status.clone()),
        created_at: existing.map(|h| h.created_at).unwrap_or(now),
        updated_at: now,
        revision: existing.map(|h| h.revision).unwrap_or(0),
        failing_since: existing.and_then(|h| h.failing_since),
    };
    Ok(Prepared {
        hook,
        token,
        generated_secret,
    })
}

/// Fields that are never shown back (`show`, `export`), so a file cannot be expected to hold them.
fn keep_write_only(options: &mut HookOptions, stored: &HookOptions) {
    if options.secret.is_none() && options.generate_secret != Some(true) {
        options.secret = stored.secret.clone();
    }
    if options.bearer.is_none() && options.basic_auth.is_none() {
        options.bearer = stored.bearer.clone();
        options.basic_auth = stored.basic_auth.clone();
    }
    if options.headers.is_none() {
        options.headers = stored.headers.clone();
    }
    if options.secrets.is_none() && options.secret.is_none() {
        options.secrets = stored.secrets.clone();
    }
    if options.rotated_secret.is_none() {
        options.rotated_secret = stored.rotated_secret.clone();
        options.rotated_until = stored.rotated_until;
    }
}

/// Replaces a script hook's plain `--basic-auth USER:PASS` with its sealed (hashed) form, after
/// validation. When the stored hook already holds a hash of the same credentials, that hash is
/// kept, so applying the same file twice changes nothing. Outgoing hooks send their basic auth
/// and keep it as given, as does a reference (`@file:`, `@credential:`).
pub fn seal_basic_auth(kind: HookKind, o: &mut HookOptions, stored: Option<&HookOptions>) {
    use crate::signature::password;
    if kind != HookKind::Script {
        return;
    }
    let Some(plain) = o.basic_auth.as_ref() else {
        return;
    };
    // A reference is stored as written and read at each call: there is no password to hash.
    if password::is_sealed(&plain.0) || crate::secret::is_reference(&plain.0) {
        return;
    }
    // The KDF takes a good part of a second: inside the daemon's (multi-threaded) runtime the
    // worker hands its other tasks on first; outside any runtime this simply runs it.
    let sealed = tokio::task::block_in_place(|| match stored.and_then(|s| s.basic_auth.as_ref()) {
        Some(old) if password::sealed_matches(&old.0, &plain.0) => Some(old.clone()),
        _ => password::seal(&plain.0).map(Secret),
    });
    o.basic_auth = sealed;
}
