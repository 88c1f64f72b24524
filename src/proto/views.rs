//! What listings and `show` return: runs, deliveries, log entries, hooks, status. Views carry
//! the field names of the product contract and never a secret or a token hash.

use super::{HookKind, Mode};
use crate::time::Dur;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Success,
    Failed,
    Timeout,
    Interrupted,
    Cancelled,
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
            RunStatus::Cancelled => "cancelled",
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
            RunStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    /// Whether the run is over (nothing more will change but pruning).
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
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
    /// The run whose stored request this run repeated (`runs rerun`).
    #[serde(default)]
    pub rerun_of: Option<String>,
    /// The uid that cancelled the run (`runs cancel`).
    #[serde(default)]
    pub cancelled_by: Option<u32>,
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
    pub stream: Option<bool>,
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
    /// The header `hmac-*` verification reads, when not the default `X-Signature`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_header: Option<String>,
    /// The Ed25519 public key `discord` verification checks with (public, so shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_ip: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Outgoing: `healthy`, `failing` (attempts failing since `failing_since`) or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_headers: Option<Vec<String>>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_from: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_from: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_json: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_path: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_mismatch_status: Option<u16>,
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
    /// `basic` or `bearer` when the hook authenticates to its receiver; `basic` on a script
    /// hook when callers must (`--verify basic`). Never the credentials.
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
    /// Outgoing hooks with deliveries waiting or attempts failing.
    #[serde(default)]
    pub endpoints: Vec<EndpointView>,
    /// The live nodes sharing the database (PostgreSQL only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<NodeView>>,
}

/// One hookd node on a shared database.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeView {
    pub name: String,
    pub listen: String,
    pub started_at: String,
    pub last_seen: String,
}

/// How an outgoing hook's deliveries stand: waiting ones (`--rate`, retries, a failing
/// endpoint's parked deliveries) and whether its attempts are failing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointView {
    pub hook: String,
    /// Deliveries pending or being sent.
    pub backlog: u64,
    /// `healthy` or `failing`.
    pub health: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
}
