//! The control-socket protocol between `hookctl` and `hookd`.
//!
//! Newline-delimited JSON over a Unix socket. The client opens with [`Request::Hello`] carrying
//! [`PROTOCOL_VERSION`]; the daemon answers [`Response::Hello`] or a `version_mismatch` error that
//! names both versions. After that every request line gets exactly one response line, except
//! `Logs { follow: true }`, which keeps sending [`Response::Log`] lines until the client hangs up.
//! Everything that crosses the socket is defined here and nowhere else, so the daemon and the CLI
//! cannot drift apart. Secrets travel only client → daemon, and the one-time token daemon →
//! client in [`Created`]; views never carry a secret or a token hash.

use crate::time::Dur;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Bumped whenever a message changes shape incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;
/// A request or response line longer than this is refused (a script body is the largest thing).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookKind {
    Script,
    Message,
    Outgoing,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Script => "script",
            HookKind::Message => "message",
            HookKind::Outgoing => "outgoing",
        }
    }
    pub fn parse(s: &str) -> Option<HookKind> {
        match s {
            "script" => Some(HookKind::Script),
            "message" => Some(HookKind::Message),
            "outgoing" => Some(HookKind::Outgoing),
            _ => None,
        }
    }
    /// Incoming kinds have a token and a URL.
    pub fn is_incoming(self) -> bool {
        self != HookKind::Outgoing
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Sync,
    Async,
}

/// A string that is a credential: serialized as itself, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Every settable property of a hook. `create` sends the wanted values, `edit` only the ones to
/// change (PATCH semantics); the daemon stores the merged result. `None` means "not given";
/// for optional text an empty string means "clear it". Which fields apply depends on the kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HookOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    // Script hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_output: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_ip: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    /// Calls allowed per period, e.g. `60/m`; further calls get 429 (incoming hooks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    // Message hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    // Outgoing hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub hook_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Secret>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer: Option<Secret>,
    /// Asks the daemon to make a `whsec_` secret; never stored as such.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_hook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Hello {
        version: u32,
        client: String,
    },
    Create {
        name: String,
        kind: HookKind,
        options: Box<HookOptions>,
    },
    Edit {
        name: String,
        options: Box<HookOptions>,
    },
    List {
        kind: Option<HookKind>,
    },
    Show {
        name: String,
    },
    SetEnabled {
        name: String,
        enabled: bool,
    },
    Delete {
        name: String,
    },
    Regenerate {
        name: String,
    },
    Status,
    /// Calls an incoming hook through the same path as HTTP.
    Test {
        name: String,
        method: Option<String>,
        body: Option<String>,
        content_type: Option<String>,
    },
    Runs {
        hook: Option<String>,
        limit: u32,
    },
    RunShow {
        id: String,
    },
    Logs(LogQuery),
    Deliveries {
        hook: Option<String>,
        status: Option<String>,
        limit: u32,
    },
    Redeliver {
        id: String,
    },
    /// Makes the hooks match `hooks` (declarative, idempotent).
    Apply {
        hooks: Vec<HookSpec>,
        prune: bool,
        dry_run: bool,
    },
    /// Hooks as `apply` takes them; secrets only when asked for.
    Export {
        name: Option<String>,
        include_secrets: bool,
    },
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
    Logs {
        logs: Vec<LogView>,
    },
    /// One streamed entry of `Logs { follow: true }`.
    Log(Box<LogView>),
    Error(ErrorBody),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Success,
    Failed,
    Timeout,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Timeout => "timeout",
            RunStatus::Interrupted => "interrupted",
        }
    }
    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Success,
            RunStatus::Failed,
            RunStatus::Timeout,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A script run: `runs` lists these; `runs show` adds the captured output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunView {
    pub id: String,
    pub hook: String,
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
}

/// One delivery of one event to one outgoing hook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliveryView {
    pub id: String,
    pub hook: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

/// A log entry as `hookctl logs` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogView {
    pub id: String,
    pub time: String,
    pub direction: String,
    pub hook: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub remote_addr: Option<String>,
    pub run_id: Option<String>,
    pub delivery_id: Option<String>,
    pub attempt: Option<u32>,
    pub uid: Option<u32>,
}

/// What `create` and `regenerate` return: the only time the token is ever sent.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Created {
    pub name: String,
    pub kind: HookKind,
    pub token: Option<String>,
    pub url: Option<String>,
    /// A `whsec_` secret the daemon generated (`--generate-secret`), shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl fmt::Debug for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Created")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A hook as listings show it: the field names of the product contract, no secrets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookView {
    pub name: String,
    pub kind: Option<HookKind>,
    pub enabled: bool,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_output: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// The script text (script hooks): it is configuration, not a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_ip: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub hook_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Names of the extra headers; their values may be credentials and are not shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<String>>,
    /// `basic` or `bearer` when the hook authenticates to its receiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Whether a secret is set (verification or signing); the secret itself is never shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_set: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_hook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_path: Option<String>,
    pub token_prefix: Option<String>,
    pub call_count: u64,
    pub last_call_at: Option<String>,
    pub last_status: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusView {
    pub version: String,
    pub uptime_secs: u64,
    pub listen: String,
    pub socket: String,
    pub database: String,
    pub hooks: u64,
    pub queue_depth: u64,
    pub running_scripts: u64,
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
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_secrets_stay_out_of_debug() {
        let opts = HookOptions {
            secret: Some(Secret("whsec_abc".into())),
            ..Default::default()
        };
        let req = Request::Create {
            name: "x".into(),
            kind: HookKind::Script,
            options: Box::new(opts),
        };
        let line = encode(&req);
        assert!(line.ends_with(b"\n"));
        let back: Request = serde_json::from_slice(&line).unwrap();
        assert!(matches!(back, Request::Create { .. }));
        assert!(!format!("{req:?}").contains("whsec_abc"));
    }
}
