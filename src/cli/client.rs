//! The blocking control-socket client `hookctl` uses: connect, hello, request, response.
//!
//! Failing to reach the daemon is its own error ([`ClientError::Unreachable`], exit 3) whose
//! message names the socket path and how to start hookd; everything else the daemon says comes
//! back as a typed [`ErrorBody`]. A socket that is there but not open to this user is told apart
//! ([`ClientError::NotAccessible`], also exit 3): it names the group to join instead of blaming
//! the daemon.

use crate::proto::{self, ErrorBody, PROTOCOL_VERSION, Request, Response};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot reach hookd at {path}: {source}\nIs hookd running? Start it with `systemctl start hookd` (or run `hookd`), or point --socket / HOOKD_SOCKET at its socket"
    )]
    Unreachable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the hookd socket {path} exists but this user may not open it ({source}); access goes by its group, {group}: join it (hookd's socket_group setting names it), e.g. `sudo usermod -aG {group} $USER`, then log in again"
    )]
    NotAccessible {
        path: PathBuf,
        group: String,
        source: std::io::Error,
    },
    #[error("lost the connection to hookd: {0}")]
    Io(#[from] std::io::Error),
    #[error("hookd sent something this hookctl does not understand: {0}")]
    Protocol(String),
    #[error("{0}")]
    Daemon(ErrorBody),
}

/// Why connecting failed, in the terms the user can act on. A permission error means the daemon
/// is (or was) there and the caller lacks the group, which "is hookd running?" would hide.
fn unreachable(path: &Path, e: std::io::Error) -> ClientError {
    if e.kind() == std::io::ErrorKind::PermissionDenied
        && let Some(group) = guarding_group(path)
    {
        return ClientError::NotAccessible {
            path: path.to_path_buf(),
            group,
            source: e,
        };
    }
    ClientError::Unreachable {
        path: path.to_path_buf(),
        source: e,
    }
}

/// The group that grants access: the socket's own when this user can see it, else its
/// directory's (hookd gives both `socket_group`).
fn guarding_group(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => std::fs::metadata(path.parent()?).ok()?,
    };
    let gid = nix::unistd::Gid::from_raw(meta.gid());
    Some(match nix::unistd::Group::from_gid(gid) {
        Ok(Some(g)) => g.name,
        _ => gid.to_string(),
    })
}

pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|e| unreachable(path, e))?;
        let writer = stream.try_clone()?;
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
        };
        let hello = Request::Hello(crate::proto::Hello {
            version: PROTOCOL_VERSION,
            client: format!("hookctl {}", env!("CARGO_PKG_VERSION")),
        });
        match client.request(&hello)? {
            Response::Hello { .. } => Ok(client),
            other => Err(ClientError::Protocol(format!(
                "unexpected answer to hello: {other:?}"
            ))),
        }
    }

    /// Sends one request and reads one response; a daemon error becomes `Err`.
    pub fn request(&mut self, req: &Request) -> Result<Response, ClientError> {
        self.writer.write_all(&proto::encode(req))?;
        match self.next_response()? {
            Some(Response::Error(e)) => Err(ClientError::Daemon(e)),
            Some(r) => Ok(r),
            None => Err(ClientError::Protocol(
                "hookd closed the connection without answering".into(),
            )),
        }
    }

    /// The next response line of a stream; `None` when the daemon hung up.
    pub fn next_response(&mut self) -> Result<Option<Response>, ClientError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Bounds how long [`Client::next_response`] waits (`None`: forever); a read that runs out
    /// of time is an `Io` error of kind `WouldBlock` or `TimedOut`.
    pub fn set_read_timeout(&self, t: Option<std::time::Duration>) -> Result<(), ClientError> {
        self.reader.get_ref().set_read_timeout(t)?;
        Ok(())
    }

    /// Sends a request whose answer is a stream (`logs -f`).
    pub fn send(&mut self, req: &Request) -> Result<(), ClientError> {
        self.writer.write_all(&proto::encode(req))?;
        Ok(())
    }
}
