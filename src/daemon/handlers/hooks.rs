//! Requests that change or show hooks: create, edit, enable/disable, regenerate, delete,
//! list, show.
//!
//! Every change is read, changed and written back with its admin log entry (the caller's uid)
//! in one storage operation; a change that raced another is read and made again. After a
//! change commits, the in-memory registry is updated for that one hook. Validation runs on the
//! daemon's side: user lookups and permission checks reflect where scripts will actually run.

use super::{get, internal};
use crate::daemon::state::Shared;
use crate::hook::{self, Hook};
use crate::proto::{Created, ErrorBody, ErrorCode, HookKind, HookOptions, Response, Secret};
use crate::store::{self, AdminAction, NewLog};
use crate::token::Token;
use std::sync::Arc;

fn webhook_url(shared: &Shared, token: &Token) -> String {
    format!("{}/webhook/{}", shared.config().base_url(), token.as_str())
}

pub(super) async fn create(
    shared: &Arc<Shared>,
    name: String,
    kind: HookKind,
    opts: HookOptions,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    hook::validate_name(&name).map_err(ErrorBody::invalid)?;
    let now = crate::time::now_ms();
    let hook::Prepared {
        hook: mut h,
        token,
        generated_secret: generated,
    } = hook::prepare(name.clone(), kind, opts, None, shared.context(), now)
        .map_err(ErrorBody::invalid)?;
    check_path_free(shared, h.options.path.as_deref(), &name).await?;
    let log = NewLog::admin(AdminAction::Create, &name, uid);
    let Some(created) = shared
        .store
        .create_hook(h.clone(), log)
        .await
        .map_err(internal)?
    else {
        return Err(ErrorBody::new(
            ErrorCode::AlreadyExists,
            format!("a hook named {name:?} already exists"),
        ));
    };
    h.id = created.id;
    shared.registry.upsert(h);
    tracing::info!(hook = %name, %kind, ?uid, "hook created");
    Ok(Response::Created(Created {
        name,
        kind,
        url: token.as_ref().map(|t| webhook_url(shared, t)),
        token: token.map(|t| t.as_str().to_string()),
        secret: generated,
    }))
}

/// Refuses a fixed `--path` another hook is served at already.
async fn check_path_free(
    shared: &Arc<Shared>,
    path: Option<&str>,
    name: &str,
) -> Result<(), ErrorBody> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let hooks = shared.store.list_hooks(None).await.map_err(internal)?;
    match hooks
        .iter()
        .find(|h| h.name != name && h.options.path.as_deref() == Some(path))
    {
        Some(other) => Err(ErrorBody::invalid(format!(
            "--path {path} is already served by hook {}",
            other.name
        ))),
        None => Ok(()),
    }
}

/// How often a change is tried again when another one got in between its read and its write.
const CHANGE_TRIES: usize = 5;
/// Applies `change` to the stored hook `name`: read, change, write back with the admin log
/// entry, retried when another change got in between. `change` returns the action to log, or
/// `None` when nothing changed (then nothing is written, not even `updated_at`).
pub(super) async fn modify<F>(
    shared: &Arc<Shared>,
    name: String,
    uid: Option<u32>,
    mut change: F,
) -> Result<Hook, ErrorBody>
where
    F: FnMut(&mut Hook) -> Result<Option<AdminAction>, String>,
{
    for _ in 0..CHANGE_TRIES {
        let mut h = get(shared, name.clone()).await?;
        let Some(action) = change(&mut h).map_err(ErrorBody::invalid)? else {
            return Ok(h);
        };
        h.updated_at = crate::time::now_ms();
        let log = NewLog::admin(action, &h.name, uid);
        match shared.store.update_hook(h.clone(), log).await {
            Ok(_) => {
                h.revision += 1;
                tracing::info!(hook = %h.name, action = action.as_str(), ?uid, "hook changed");
                shared.registry.upsert(h.clone());
                return Ok(h);
            }
            Err(store::StoreError::Conflict) => continue,
            Err(e) => return Err(internal(e)),
        }
    }
    Err(ErrorBody::internal(format!(
        "{name} kept changing while this change was made; try again"
    )))
}

pub(super) async fn edit(
    shared: &Arc<Shared>,
    name: String,
    mut patch: HookOptions,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let ctx = shared.context();
    check_path_free(shared, patch.path.as_deref(), &name).await?;
    let generated =
        (patch.generate_secret.take() == Some(true)).then(crate::signature::generate_whsec);
    let h = modify(shared, name, uid, |h| {
        let mut patch = patch.clone();
        hook::adapt_for_kind(h.kind, &mut patch)?;
        hook::check_applicable(h.kind, &patch)?;
        let before = h.clone();
        let mut o = h.options.clone();
        hook::merge(&mut o, patch);
        if let Some(s) = &generated {
            o.secret = Some(Secret(s.clone()));
        }
        if let Some(d) = o.description.take() {
            h.description = d;
        }
        if let Some(e) = o.enabled.take() {
            h.enabled = e;
        }
        hook::validate(h.kind, &o, ctx)?;
        hook::seal_basic_auth(h.kind, &mut o, Some(&before.options));
        *h.options = hook::stored_options(*o);
        Ok((*h != before).then_some(AdminAction::Edit))
    })
    .await?;
    let view = hook::view(&h, &shared.defaults());
    if generated.is_some() {
        // The new secret is shown once, like a token.
        return Ok(Response::Created(Created {
            name: h.name,
            kind: h.kind,
            token: None,
            url: None,
            secret: generated,
        }));
    }
    Ok(Response::Hook(Box::new(view)))
}

pub(super) async fn set_enabled(
    shared: &Arc<Shared>,
    name: String,
    enabled: bool,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let h = modify(shared, name, uid, |h| {
        let changed = h.enabled != enabled;
        h.enabled = enabled;
        Ok(changed.then_some(if enabled {
            AdminAction::Enable
        } else {
            AdminAction::Disable
        }))
    })
    .await?;
    let state = if enabled { "enabled" } else { "disabled" };
    Ok(Response::Done {
        message: format!("hook {} {state}", h.name),
    })
}

pub(super) async fn regenerate(
    shared: &Arc<Shared>,
    name: String,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let token = Token::generate();
    let (hash, prefix) = (token.hash(), token.shown_prefix());
    let h = modify(shared, name, uid, |h| {
        if !h.kind.is_incoming() {
            return Err(format!(
                "{} is an outgoing hook; only incoming hooks have a token",
                h.name
            ));
        }
        h.token_hash = Some(hash);
        h.token_prefix = Some(prefix.clone());
        Ok(Some(AdminAction::Regenerate))
    })
    .await?;
    Ok(Response::Created(Created {
        name: h.name,
        kind: h.kind,
        url: Some(webhook_url(shared, &token)),
        token: Some(token.as_str().to_string()),
        secret: None,
    }))
}

pub(super) async fn delete(
    shared: &Arc<Shared>,
    name: String,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let log = NewLog::admin(AdminAction::Delete, &name, uid);
    let Some(deleted) = shared
        .store
        .delete_hook(&name, log)
        .await
        .map_err(internal)?
    else {
        return Err(ErrorBody::not_found(&name));
    };
    shared.registry.remove(deleted.hook_id);
    shared.runner.forget(deleted.hook_id);
    tracing::info!(hook = %name, ?uid, "hook deleted");
    Ok(Response::Done {
        message: format!("hook {name} deleted"),
    })
}

pub(super) async fn list(
    shared: &Arc<Shared>,
    kind: Option<HookKind>,
) -> Result<Response, ErrorBody> {
    let d = shared.defaults();
    let hooks = shared.store.hook_views(kind, d).await.map_err(internal)?;
    Ok(Response::Hooks { hooks })
}

pub(super) async fn show(shared: &Arc<Shared>, name: String) -> Result<Response, ErrorBody> {
    let h = get(shared, name).await?;
    Ok(Response::Hook(Box::new(hook::view(&h, &shared.defaults()))))
}
