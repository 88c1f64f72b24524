//! The control socket's requests, one handler per request, reached from the one exhaustive
//! match in [`handle`]. Each file holds one family: hooks, runs, logs, deliveries, apply and
//! export, status, test, emit. Handlers reach storage only through its domain operations.

mod apply;
mod deliveries;
mod emit;
mod hooks;
mod logs;
mod rotate;
mod runs;
mod status;
mod test;

pub use logs::follow_logs;
pub use runs::follow_run;

use crate::daemon::state::Shared;
use crate::hook::Hook;
use crate::proto::{
    ApplyHooks, CreateHook, DeliveryId, EditHook, ErrorBody, ErrorCode, ExportHooks, Hello,
    ListDeliveries, ListHooks, ListRuns, NamedHook, RedeliverFailed, Request, Response, RunId,
    SetEnabled, TestCall,
};
use crate::store;
use std::sync::Arc;

pub async fn handle(shared: &Arc<Shared>, request: Request, uid: Option<u32>) -> Response {
    let result = match request {
        Request::Hello(Hello { .. }) => Err(ErrorBody::new(
            ErrorCode::BadRequest,
            "hello was already exchanged",
        )),
        Request::Create(CreateHook {
            name,
            kind,
            options,
        }) => hooks::create(shared, name, kind, *options, uid).await,
        Request::Edit(EditHook { name, options }) => hooks::edit(shared, name, *options, uid).await,
        Request::List(ListHooks { kind }) => {
            let r = hooks::list(shared, kind).await;
            release_memory();
            r
        }
        Request::Show(NamedHook { name }) => hooks::show(shared, name).await,
        Request::SetEnabled(SetEnabled { name, enabled }) => {
            hooks::set_enabled(shared, name, enabled, uid).await
        }
        Request::Delete(NamedHook { name }) => hooks::delete(shared, name, uid).await,
        Request::Regenerate(NamedHook { name }) => hooks::regenerate(shared, name, uid).await,
        Request::Status => status::status(shared).await,
        Request::Test(TestCall {
            name,
            method,
            body,
            content_type,
        }) => test::test(shared, name, method, body, content_type, uid).await,
        Request::Runs(ListRuns {
            hook,
            limit,
            status,
        }) => runs::runs(shared, hook, limit, status).await,
        Request::RunShow(RunId { id }) => runs::run_show(shared, id).await,
        // Streamed by the connection itself (see `control`); answered here only if it gets here.
        Request::RunFollow(RunId { id }) => runs::run_show(shared, id).await,
        Request::RunWait(RunId { id }) => runs::run_wait(shared, id).await,
        Request::RunCancel(RunId { id }) => runs::run_cancel(shared, id, uid).await,
        Request::RunRerun(RunId { id }) => runs::run_rerun(shared, id, uid).await,
        Request::Logs(q) => logs::logs(shared, q).await,
        Request::Deliveries(ListDeliveries {
            hook,
            status,
            limit,
        }) => deliveries::deliveries(shared, hook, status, limit).await,
        Request::Redeliver(DeliveryId { id }) => deliveries::redeliver(shared, id).await,
        Request::RedeliverFailed(RedeliverFailed { hook, since_ms }) => {
            deliveries::redeliver_failed(shared, hook, since_ms).await
        }
        Request::Apply(ApplyHooks {
            hooks,
            prune,
            dry_run,
        }) => {
            let r = apply::apply(shared, hooks, prune, dry_run, uid).await;
            release_memory();
            r
        }
        Request::Export(ExportHooks {
            name,
            include_secrets,
        }) => apply::export(shared, name, include_secrets).await,
        Request::Emit(e) => emit::emit(shared, e, uid).await,
        Request::RotateSecret(r) => rotate::rotate(shared, r, uid).await,
    };
    result.unwrap_or_else(Response::Error)
}

/// Hands memory freed by a bulk operation (a large `apply` or `list`) back to the OS; glibc
/// otherwise keeps it, and the daemon's resident size would stay at the operation's peak.
fn release_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn internal(e: store::StoreError) -> ErrorBody {
    tracing::error!("{e}");
    ErrorBody::internal(e)
}

async fn get(shared: &Arc<Shared>, name: String) -> Result<Hook, ErrorBody> {
    shared
        .store
        .hook(&name)
        .await
        .map_err(internal)?
        .ok_or_else(|| ErrorBody::not_found(&name))
}
