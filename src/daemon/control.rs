//! The control socket: binding it safely, the hello handshake, and one handler per request.
//!
//! The socket's directory is 0750 and the socket 0660, group `socket_group` when that group
//! exists (also when the directory was there already, as systemd's `RuntimeDirectory=` makes
//! it, unless others may write to it): whoever can write to it can manage hooks, and hooks can run as root, so membership is
//! a privilege. A socket file left by a killed daemon is replaced; a live one is never stolen.
//! The caller's uid comes from the kernel (SO_PEERCRED) and is recorded with every change.

use crate::daemon::handlers;
use crate::daemon::state::Shared;
use crate::proto::{self, ErrorBody, ErrorCode, PROTOCOL_VERSION, Request, Response};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("another hookd is already answering on {0}; stop it first or use --socket")]
    InUse(PathBuf),
}

/// Binds the control socket with the permissions described above.
pub fn bind(path: &Path, group: Option<&str>) -> Result<UnixListener, SocketError> {
    let io = |action, e| SocketError::Io {
        path: path.to_path_buf(),
        action,
        source: e,
    };
    let gid = group.and_then(|g| match nix::unistd::Group::from_name(g) {
        Ok(Some(g)) => Some(g.gid),
        _ => {
            tracing::warn!(
                "socket_group {g:?} does not exist; the socket stays with hookd's own group"
            );
            None
        }
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let created = !dir.exists();
        if created {
            std::fs::create_dir_all(dir).map_err(|e| io("create the socket directory", e))?;
        }
        // A directory made for hookd (by hookd, or by systemd's RuntimeDirectory=) gets the
        // group and 0750, so `socket_group` members can reach the socket; a shared one such
        // as /tmp is left alone.
        if created || (gid.is_some() && is_own_private_dir(dir)) {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))
                .map_err(|e| io("set the socket directory's mode", e))?;
            if let Some(gid) = gid {
                nix::unistd::chown(dir, None, Some(gid))
                    .map_err(|e| io("set the socket directory's group", e.into()))?;
            }
        }
    }
    if path.exists() {
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => return Err(SocketError::InUse(path.to_path_buf())),
            Err(_) => std::fs::remove_file(path).map_err(|e| io("remove the stale socket", e))?,
        }
    }
    let listener = UnixListener::bind(path).map_err(|e| io("bind", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| io("set the socket's mode", e))?;
    if let Some(gid) = gid {
        nix::unistd::chown(path, None, Some(gid))
            .map_err(|e| io("set the socket's group", e.into()))?;
    }
    Ok(listener)
}

/// A directory owned by hookd's user that others cannot write to (not /tmp and the like).
fn is_own_private_dir(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).is_ok_and(|m| {
        m.is_dir() && m.uid() == nix::unistd::geteuid().as_raw() && m.mode() & 0o1002 == 0
    })
}

pub async fn serve(
    listener: UnixListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move { connection(stream, shared, shutdown).await });
                }
                Err(e) => {
                    tracing::warn!("control socket accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// Reads one line of at most [`proto::MAX_LINE_BYTES`]; `None` at end of stream.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = (&mut *reader)
        .take(proto::MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if line.len() > proto::MAX_LINE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "request line too long",
        ));
    }
    Ok(Some(line))
}

async fn connection(stream: UnixStream, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let uid = stream.peer_cred().map(|c| c.uid()).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut greeted = false;
    loop {
        let line = match read_line(&mut reader).await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                let _ = write
                    .write_all(&proto::encode(&Response::Error(ErrorBody::new(
                        ErrorCode::BadRequest,
                        e.to_string(),
                    ))))
                    .await;
                return;
            }
        };
        let request: Request = match serde_json::from_slice(&line) {
            Ok(r) => r,
            Err(e) => {
                let err = ErrorBody::new(ErrorCode::BadRequest, format!("malformed request: {e}"));
                if write
                    .write_all(&proto::encode(&Response::Error(err)))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
        };
        let response = match (request, greeted) {
            (Request::Hello(crate::proto::Hello { version, .. }), _)
                if version != PROTOCOL_VERSION =>
            {
                Response::Error(ErrorBody::new(
                    ErrorCode::VersionMismatch,
                    format!(
                        "hookctl speaks protocol version {version}, this hookd speaks version {PROTOCOL_VERSION}; use matching versions"
                    ),
                ))
            }
            (Request::Hello(crate::proto::Hello { .. }), _) => {
                greeted = true;
                Response::Hello {
                    version: PROTOCOL_VERSION,
                    daemon_version: env!("CARGO_PKG_VERSION").to_string(),
                }
            }
            (_, false) => Response::Error(ErrorBody::new(
                ErrorCode::BadRequest,
                "the first request must be hello",
            )),
            (Request::Logs(q), true) if q.follow => {
                crate::daemon::handlers::follow_logs(&shared, q, &mut write, shutdown.clone())
                    .await;
                return;
            }
            (Request::RunFollow(crate::proto::RunId { id }), true) => {
                handlers::follow_run(&shared, id, &mut write).await;
                continue;
            }
            (request, true) => handlers::handle(&shared, request, uid).await,
        };
        if write.write_all(&proto::encode(&response)).await.is_err() {
            return;
        }
    }
}
