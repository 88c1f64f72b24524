//! The control-socket protocol between `hookctl` and `hookd`.
//!
//! Newline-delimited JSON over a Unix socket. The client opens with [`Request::Hello`] carrying
//! [`PROTOCOL_VERSION`]; the daemon answers [`Response::Hello`] or a `version_mismatch` error that
//! names both versions. After that every request line gets exactly one response line, except
//! `Logs { follow: true }`, which keeps sending [`Response::Log`] lines until the client hangs up,
//! `RunFollow` (the run, then [`Response::RunOutput`] lines, then [`Response::RunEnded`]) and
//! `RunWait` (one [`Response::RunEnded`] when the run ends, however long that takes).
//! Everything that crosses the socket is defined here and nowhere else, so the daemon and the CLI
//! cannot drift apart. Secrets travel only client → daemon, and the one-time token daemon →
//! client in [`Created`] (and a secret hookd generated, in `Created` or `Rotated`); views never
//! carry a secret or a token hash.

mod options;
mod views;

pub use options::*;
pub use views::*;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped whenever a message changes shape incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;
/// A request or response line longer than this is refused (a script body is the largest thing).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Hello(Hello),
    Create(CreateHook),
    Edit(EditHook),
    List(ListHooks),
    Show(NamedHook),
    SetEnabled(SetEnabled),
    Delete(NamedHook),
    Regenerate(NamedHook),
    Status,
    /// Calls an incoming hook through the same path as HTTP.
    Test(TestCall),
    Runs(ListRuns),
    RunShow(RunId),
    /// The run so far, then its output as it is written, until it ends (streamed).
    RunFollow(RunId),
    /// Answers once the run has ended (streamed: nothing is sent before).
    RunWait(RunId),
    RunCancel(RunId),
    /// Runs the hook again with a run's stored request.
    RunRerun(RunId),
    Logs(LogQuery),
    Deliveries(ListDeliveries),
    Redeliver(DeliveryId),
    /// Sends failed deliveries again: after an outage, everything that failed during it.
    RedeliverFailed(RedeliverFailed),
    /// Makes the hooks match `hooks` (declarative, idempotent).
    Apply(ApplyHooks),
    /// Hooks as `apply` takes them; secrets only when asked for.
    Export(ExportHooks),
    /// Gives a hook a new secret, keeping the old one valid for an overlap.
    RotateSecret(RotateSecret),
    /// Publishes an admin's own event to the outgoing hooks that subscribe to it.
    Emit(EmitEvent),
}

/// Failed deliveries to queue again: of one hook or all, last attempt within a window or ever.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedeliverFailed {
    pub hook: Option<String>,
    /// Only those whose last attempt was at or after this instant (ms since the epoch).
    pub since_ms: Option<i64>,
}

/// `rotate-secret`: the new secret (generated for an outgoing hook when not given) and how long
/// the old one stays valid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotateSecret {
    pub name: String,
    pub secret: Option<Secret>,
    pub overlap_ms: i64,
}

/// A custom event: its type, its data, and the key that makes sending it twice harmless.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmitEvent {
    pub event_type: String,
    pub data: serde_json::Value,
    pub idempotency_key: Option<String>,
}

/// The handshake: the client's protocol version and name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub version: u32,
    pub client: String,
}

/// A new hook with its options.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateHook {
    pub name: String,
    pub kind: HookKind,
    pub options: Box<HookOptions>,
}

/// Options to change (PATCH semantics).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EditHook {
    pub name: String,
    pub options: Box<HookOptions>,
}

/// Hooks, of one kind or all.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListHooks {
    pub kind: Option<HookKind>,
}

/// One hook by name (`show`, `delete`, `regenerate`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedHook {
    pub name: String,
}

/// `enable` and `disable`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetEnabled {
    pub name: String,
    pub enabled: bool,
}

/// Calls an incoming hook through the same path as HTTP, or sends a `test` event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestCall {
    pub name: String,
    pub method: Option<String>,
    pub body: Option<String>,
    pub content_type: Option<String>,
}

/// Runs, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListRuns {
    pub hook: Option<String>,
    pub limit: u32,
    /// Only runs with this status.
    #[serde(default)]
    pub status: Option<RunStatus>,
}

/// One run by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunId {
    pub id: String,
}

/// Deliveries, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListDeliveries {
    pub hook: Option<String>,
    pub status: Option<String>,
    pub limit: u32,
}

/// One delivery by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryId {
    pub id: String,
}

/// Makes the hooks match `hooks` (declarative, idempotent).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyHooks {
    pub hooks: Vec<HookSpec>,
    pub prune: bool,
    pub dry_run: bool,
}

/// Hooks as `apply` takes them; secrets only when asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportHooks {
    pub name: Option<String>,
    pub include_secrets: bool,
}

/// One hook of an `apply` file: its name, kind and every option it sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookSpec {
    pub name: String,
    pub kind: HookKind,
    #[serde(flatten)]
    pub options: HookOptions,
}

/// What `apply` did (or, with `dry_run`, would do) to one hook.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    pub name: String,
    /// `create`, `update`, `unchanged` or `delete`.
    pub action: String,
    /// For newly created incoming hooks: the URL with its token, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For updates: each field that changes, as `name old → new` (secrets never shown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// What an admin should not miss: verification or a secret going away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Change")
            .field("name", &self.name)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LogQuery {
    pub hook: Option<String>,
    pub limit: u32,
    /// `in`, `out` or `admin`.
    pub direction: Option<String>,
    /// Only entries at or after this instant (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only failures: HTTP status >= 400, or an error without any status.
    pub failed: bool,
    /// Keep streaming new entries after the backlog.
    pub follow: bool,
}

impl LogQuery {
    /// Whether an entry passes these filters (for streamed entries; the store filters the rest).
    pub fn matches(&self, l: &LogView) -> bool {
        self.hook
            .as_ref()
            .is_none_or(|h| l.hook.as_ref() == Some(h))
            && self.direction.as_ref().is_none_or(|d| &l.direction == d)
            && (!self.failed
                || l.status.is_some_and(|s| s >= 400)
                || (l.status.is_none() && l.error.is_some()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    Hello {
        version: u32,
        daemon_version: String,
    },
    Created(Created),
    Hook(Box<HookView>),
    Hooks {
        hooks: Vec<HookView>,
    },
    Done {
        message: String,
    },
    Status(StatusView),
    /// What a caller (incoming) or the receiver (outgoing, with the time taken) answered.
    TestResult {
        status: u16,
        body: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
        /// What the test did differently from a real call (checks it skipped).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Deliveries {
        deliveries: Vec<DeliveryView>,
    },
    Applied {
        changes: Vec<Change>,
        dry_run: bool,
    },
    Exported {
        hooks: Vec<HookSpec>,
    },
    Runs {
        runs: Vec<RunView>,
    },
    Run(Box<RunView>),
    /// Output a followed run wrote (both streams, in arrival order), base64 of the bytes.
    RunOutput {
        data: String,
    },
    /// A followed or awaited run has ended; it is as stored.
    RunEnded(Box<RunView>),
    Logs {
        logs: Vec<LogView>,
    },
    /// One streamed entry of `Logs { follow: true }`.
    Log(Box<LogView>),
    /// A rotated secret: the new one when hookd made it (shown this once), and until when the
    /// old one still counts.
    Rotated {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        old_valid_until: String,
    },
    /// How many deliveries were queued again.
    Requeued {
        count: u64,
    },
    /// An emitted event (or, for a repeated idempotency key, the first one) and how many
    /// deliveries it queued.
    Emitted {
        id: String,
        deliveries: u64,
        duplicate: bool,
    },
    Error(ErrorBody),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    AlreadyExists,
    Invalid,
    PermissionDenied,
    VersionMismatch,
    BadRequest,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::Invalid => "invalid",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(name: &str) -> ErrorBody {
        ErrorBody::new(ErrorCode::NotFound, format!("no hook named {name:?}"))
    }
    pub fn invalid(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(ErrorCode::Invalid, message)
    }
    pub fn internal(message: impl fmt::Display) -> ErrorBody {
        ErrorBody::new(ErrorCode::Internal, format!("internal error: {message}"))
    }
}

impl From<ErrorBody> for Response {
    fn from(e: ErrorBody) -> Response {
        Response::Error(e)
    }
}

/// One protocol line: the value as compact JSON plus the newline.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).unwrap_or_else(|e| {
        serde_json::to_vec(&Response::Error(ErrorBody::internal(e))).unwrap_or_default()
    });
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests;
