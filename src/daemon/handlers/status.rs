//! `status`: what the daemon is, where it listens, and how much work it holds.

use super::internal;
use crate::daemon::state::Shared;
use crate::proto::{ErrorBody, Response, StatusView};
use std::sync::Arc;

pub(super) async fn status(shared: &Arc<Shared>) -> Result<Response, ErrorBody> {
    let counts = shared.store.counts().await.map_err(internal)?;
    let endpoints = shared.store.endpoints().await.map_err(internal)?;
    let nodes = shared.store.nodes().await.map_err(internal)?;
    let config = shared.config();
    Ok(Response::Status(StatusView {
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_secs: shared.started.elapsed().as_secs(),
        listen: config.listen.to_string(),
        socket: config.socket.display().to_string(),
        database: shared.store.location(),
        hooks: counts.hooks,
        queue_depth: counts.queued_runs.max(shared.runner.queued()),
        running_scripts: shared.runner.running(),
        endpoints,
        nodes,
    }))
}
