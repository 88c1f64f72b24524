//! `logs`, once or followed: the backlog from the store, then every new entry as the store
//! announces it (pushed, never polled).

use super::internal;
use crate::daemon::state::Shared;
use crate::proto::{self, ErrorBody, LogQuery, Response};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

pub(super) async fn logs(shared: &Arc<Shared>, q: LogQuery) -> Result<Response, ErrorBody> {
    let logs = shared.store.logs(q).await.map_err(internal)?;
    Ok(Response::Logs { logs })
}

/// Streams the backlog and then every new matching entry until the client leaves or hookd stops.
pub async fn follow_logs<W: AsyncWriteExt + Unpin>(
    shared: &Arc<Shared>,
    q: LogQuery,
    out: &mut W,
    mut shutdown: watch::Receiver<bool>,
) {
    // Subscribe before reading the backlog so nothing falls between the two.
    let mut feed = shared.store.feeds().log.subscribe();
    let backlog = match shared.store.logs(q.clone()).await {
        Ok(b) => b,
        Err(e) => {
            let _ = out
                .write_all(&proto::encode(&Response::Error(internal(e))))
                .await;
            return;
        }
    };
    let mut last: i64 = 0;
    for entry in backlog {
        last = entry.id.parse().unwrap_or(last);
        if out
            .write_all(&proto::encode(&Response::Log(Box::new(entry))))
            .await
            .is_err()
        {
            return;
        }
    }
    loop {
        tokio::select! {
            got = feed.recv() => match got {
                Ok(entry) => {
                    let id: i64 = entry.id.parse().unwrap_or(0);
                    if id <= last || !q.matches(&entry) {
                        continue;
                    }
                    if out.write_all(&proto::encode(&Response::Log(Box::new(entry)))).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("a log follower fell behind and skipped {n} entries");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}
