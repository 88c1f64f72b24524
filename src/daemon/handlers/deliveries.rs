//! `deliveries` and `redeliver`: the outbox as admins see it.

use super::internal;
use crate::daemon::state::Shared;
use crate::proto::{ErrorBody, ErrorCode, Response};
use crate::store::{DeliveryFilter, DeliveryStatus, Redelivery};
use std::sync::Arc;

pub(super) async fn deliveries(
    shared: &Arc<Shared>,
    hook: Option<String>,
    status: Option<String>,
    limit: u32,
) -> Result<Response, ErrorBody> {
    let status = match status.as_deref() {
        None => None,
        Some(s @ ("pending" | "failed" | "succeeded")) => DeliveryStatus::parse(s),
        Some(s) => {
            return Err(ErrorBody::invalid(format!(
                "--status {s:?}: expected pending, failed or succeeded"
            )));
        }
    };
    let filter = DeliveryFilter {
        hook,
        status,
        limit,
    };
    let deliveries = shared.store.deliveries(filter).await.map_err(internal)?;
    Ok(Response::Deliveries { deliveries })
}

pub(super) async fn redeliver_failed(
    shared: &Arc<Shared>,
    hook: Option<String>,
    since_ms: Option<i64>,
) -> Result<Response, ErrorBody> {
    if let Some(name) = &hook {
        super::get(shared, name.clone()).await?;
    }
    let now = crate::time::now_ms();
    let count = shared
        .store
        .redeliver_failed(hook, since_ms, now)
        .await
        .map_err(internal)?;
    Ok(Response::Requeued { count })
}

pub(super) async fn redeliver(shared: &Arc<Shared>, id: String) -> Result<Response, ErrorBody> {
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("no delivery with id {id:?}"));
    let n: i64 = id.trim().parse().map_err(|_| not_found())?;
    let now = crate::time::now_ms();
    match shared.store.redeliver(n, now).await.map_err(internal)? {
        Redelivery::NotFound => Err(not_found()),
        Redelivery::InFlight => Err(ErrorBody::invalid(format!(
            "delivery {n} is being sent right now"
        ))),
        Redelivery::Queued(hook) => Ok(Response::Done {
            message: format!("delivery {n} to {hook} queued again"),
        }),
    }
}
