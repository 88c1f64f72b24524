//! `runs` and `runs show`: the history of script runs.

use super::internal;
use crate::daemon::state::Shared;
use crate::proto::{ErrorBody, ErrorCode, Response};
use crate::store::RunFilter;
use std::sync::Arc;

/// Runs of the hook named `hook` (by its id: runs of an earlier hook of that name are not
/// its runs), or of a deleted hook by that name when no hook has it now.
pub(super) async fn runs(
    shared: &Arc<Shared>,
    hook: Option<String>,
    limit: u32,
) -> Result<Response, ErrorBody> {
    let mut filter = RunFilter {
        limit,
        ..RunFilter::default()
    };
    if let Some(name) = hook {
        match shared.store.hook(&name).await.map_err(internal)? {
            Some(h) => filter.hook_id = Some(h.id),
            None => filter.hook = Some(name),
        }
    }
    let runs = shared.store.runs(filter.clone()).await.map_err(internal)?;
    if let Some(name) = filter.hook
        && runs.is_empty()
    {
        return Err(ErrorBody::not_found(&name));
    }
    Ok(Response::Runs { runs })
}

pub(super) async fn run_show(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("no run with id {id:?}"));
    let n: i64 = id.trim().parse().map_err(|_| not_found())?;
    let run = shared.store.run(n).await.map_err(internal)?;
    run.map(|r| Response::Run(Box::new(r)))
        .ok_or_else(not_found)
}
