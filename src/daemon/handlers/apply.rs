//! `apply` and `export`: hooks as a declarative file.
//!
//! `apply` makes the stored hooks match the file: every hook in it is validated first, then all
//! changes are written in one commit, so a file with one bad hook changes nothing. A hook
//! whose stored state already equals the file is not written at all (its `updated_at` stays),
//! which makes applying the same file twice a no-op. Options a file leaves out are reset to
//! their defaults: the file is the whole truth about the hooks it names. Kinds never change in
//! place; delete the hook first.

use crate::daemon::state::Shared;
use crate::hook::{self, Hook};
use crate::proto::{Change, ErrorBody, ErrorCode, HookSpec, Response};
use crate::store::{self, AdminAction, HookChange, NewLog};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

fn same(a: &Hook, b: &Hook) -> bool {
    a.description == b.description && a.enabled == b.enabled && a.options == b.options
}

/// What applying a file would do: the changes to report and the writes that make them.
struct Plan {
    changes: Vec<Change>,
    writes: Vec<HookChange>,
}

/// No two hooks of the file share a fixed path, nor one with a stored hook the file leaves alone.
fn paths_unique(
    specs: &[HookSpec],
    existing: &[Hook],
    names: &HashSet<String>,
) -> Result<(), String> {
    let mut taken: HashMap<&str, &str> = existing
        .iter()
        .filter(|h| !names.contains(&h.name))
        .filter_map(|h| Some((h.options.path.as_deref()?, h.name.as_str())))
        .collect();
    for s in specs {
        let Some(path) = s.options.path.as_deref().filter(|p| !p.is_empty()) else {
            continue;
        };
        if let Some(other) = taken.insert(path, &s.name) {
            return Err(format!(
                "{}: path {path} is already served by hook {other}",
                s.name
            ));
        }
    }
    Ok(())
}

/// Compares the file with the stored hooks. Hooks are validated one at a time; the first
/// invalid one refuses the whole file.
fn plan(
    specs: Vec<HookSpec>,
    existing: Vec<Hook>,
    prune: bool,
    ctx: hook::Context,
    base: &str,
    uid: Option<u32>,
) -> Result<Plan, String> {
    let now = crate::time::now_ms();
    let names: HashSet<String> = specs.iter().map(|s| s.name.clone()).collect();
    paths_unique(&specs, &existing, &names)?;
    let mut existing: HashMap<String, Hook> =
        existing.into_iter().map(|h| (h.name.clone(), h)).collect();
    let mut plan = Plan {
        changes: Vec::new(),
        writes: Vec::new(),
    };
    for spec in specs {
        let current = existing.get(&spec.name);
        hook::validate_name(&spec.name)?;
        let name = spec.name.clone();
        let d = hook::prepare(spec.name, spec.kind, spec.options, current, ctx, now)
            .map_err(|e| format!("{name}: {e}"))?;
        let (action, url) = match current {
            None => (
                "create",
                d.token
                    .as_ref()
                    .map(|t| format!("{base}/webhook/{}", t.as_str())),
            ),
            Some(h) if same(h, &d.hook) => ("unchanged", None),
            Some(_) => ("update", None),
        };
        let log = |a| NewLog::admin(a, &d.hook.name, uid);
        match action {
            "create" => plan
                .writes
                .push(HookChange::Create(d.hook.clone(), log(AdminAction::Create))),
            "update" => plan
                .writes
                .push(HookChange::Update(d.hook.clone(), log(AdminAction::Edit))),
            _ => {}
        }
        let (fields, warnings) = match (current, action) {
            (Some(h), "update") => differences(h, &d.hook),
            _ => Default::default(),
        };
        plan.changes.push(Change {
            name: d.hook.name,
            action: action.to_string(),
            url,
            fields,
            warnings,
        });
    }
    if prune {
        let mut gone: Vec<Hook> = existing
            .drain()
            .filter(|(n, _)| !names.contains(n))
            .map(|(_, h)| h)
            .collect();
        gone.sort_by(|a, b| a.name.cmp(&b.name));
        for h in gone {
            plan.changes.push(Change {
                name: h.name.clone(),
                action: "delete".into(),
                url: None,
                fields: Vec::new(),
                warnings: Vec::new(),
            });
            let log = NewLog::admin(AdminAction::Delete, &h.name, uid);
            plan.writes.push(HookChange::Delete(h, log));
        }
    }
    Ok(plan)
}

/// Option fields whose values are never shown.
const WRITE_ONLY: [&str; 4] = ["secret", "bearer", "basic_auth", "headers"];

/// Each field that differs between the stored hook and the file's, as `name old → new`, and
/// warnings for what an admin should not miss (verification or a secret going away).
fn differences(old: &Hook, new: &Hook) -> (Vec<String>, Vec<String>) {
    let as_map = |h: &Hook| {
        let mut v = serde_json::to_value(&h.options).unwrap_or_default();
        v["description"] = serde_json::json!(h.description);
        v["enabled"] = serde_json::json!(h.enabled);
        match v {
            serde_json::Value::Object(m) => m,
            _ => Default::default(),
        }
    };
    let (a, b) = (as_map(old), as_map(new));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "none".to_string(),
        Some(serde_json::Value::String(s)) if s.is_empty() => "\"\"".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let (mut fields, mut warnings) = (Vec::new(), Vec::new());
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        if x == y {
            continue;
        }
        if WRITE_ONLY.contains(&k.as_str()) {
            let what = match (x, y) {
                (None, _) => "set",
                (_, None) => "removed",
                _ => "changed",
            };
            fields.push(format!("{k} {what}"));
            if y.is_none() && k == "secret" {
                warnings.push("this removes the hook's secret".to_string());
            }
            continue;
        }
        fields.push(format!("{k} {} → {}", show(x), show(y)));
        if k == "verify" && y.is_none() {
            warnings.push(format!(
                "this removes verification ({}): any caller with the URL will be accepted",
                show(x)
            ));
        }
    }
    (fields, warnings)
}

/// How often an apply is planned again when a hook changed between reading and writing.
const APPLY_TRIES: usize = 5;

pub async fn apply(
    shared: &Arc<Shared>,
    specs: Vec<HookSpec>,
    prune: bool,
    dry_run: bool,
    uid: Option<u32>,
) -> Result<Response, ErrorBody> {
    let mut names = HashSet::new();
    if let Some(dup) = specs.iter().find(|s| !names.insert(s.name.clone())) {
        return Err(ErrorBody::invalid(format!(
            "the file names hook {:?} twice",
            dup.name
        )));
    }
    let (ctx, base) = (shared.context(), shared.config().base_url());
    for _ in 0..APPLY_TRIES {
        let existing = shared
            .store
            .list_hooks(None)
            .await
            .map_err(ErrorBody::internal)?;
        let p =
            plan(specs.clone(), existing, prune, ctx, &base, uid).map_err(ErrorBody::invalid)?;
        if dry_run || p.writes.is_empty() {
            return Ok(Response::Applied {
                changes: p.changes,
                dry_run,
            });
        }
        match shared.store.apply_hooks(p.writes).await {
            Ok(_) => {
                reload_registry(shared).await?;
                tracing::info!(
                    ?uid,
                    "applied a hooks file: {} change(s)",
                    p.changes.iter().filter(|c| c.action != "unchanged").count()
                );
                return Ok(Response::Applied {
                    changes: p.changes,
                    dry_run,
                });
            }
            Err(store::StoreError::Conflict) => continue,
            Err(e) => return Err(ErrorBody::internal(e)),
        }
    }
    Err(ErrorBody::internal(
        "hooks kept changing while the file was applied; try again",
    ))
}

/// Reloads every hook into the registry after a bulk change, and forgets deleted hooks' queues.
async fn reload_registry(shared: &Arc<Shared>) -> Result<(), ErrorBody> {
    let hooks = shared
        .store
        .list_hooks(None)
        .await
        .map_err(ErrorBody::internal)?;
    let live: HashSet<i64> = hooks.iter().map(|h| h.id).collect();
    shared.registry.load(hooks);
    shared.runner.retain(&live);
    Ok(())
}

pub async fn export(
    shared: &Arc<Shared>,
    name: Option<String>,
    include_secrets: bool,
) -> Result<Response, ErrorBody> {
    let hooks = match name {
        Some(n) => {
            let h = shared.store.hook(&n).await.map_err(ErrorBody::internal)?;
            vec![h.ok_or_else(|| {
                ErrorBody::new(ErrorCode::NotFound, format!("no hook named {n:?}"))
            })?]
        }
        None => shared
            .store
            .list_hooks(None)
            .await
            .map_err(ErrorBody::internal)?,
    };
    let specs = hooks
        .into_iter()
        .map(|h| {
            let mut options = h.options;
            options.description = (!h.description.is_empty()).then_some(h.description);
            options.enabled = (!h.enabled).then_some(false);
            if !include_secrets {
                options.secret = None;
                options.secrets = None;
                options.rotated_secret = None;
                options.rotated_until = None;
                options.bearer = None;
                options.basic_auth = None;
                options.headers = None;
            }
            HookSpec {
                name: h.name,
                kind: h.kind,
                options: *options,
            }
        })
        .collect();
    Ok(Response::Exported { hooks: specs })
}
