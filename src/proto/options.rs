//! Hook kinds and options as they cross the socket: what `create`, `edit` and `apply` send.
//! The store keeps its own form of them.

use crate::time::Dur;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

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
    /// Sync hooks: answer at once and send the output as the script writes it.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Incoming: more secrets, any of which verifies too (`--secret` given several times).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<Secret>>,
    /// The secret `rotate-secret` replaced, still valid (incoming) or still signed with
    /// (outgoing) until `rotated_until` (ms since the epoch). Set by the daemon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_secret: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_until: Option<i64>,
    /// The header `--verify hmac-sha1|sha256|sha512` reads (default `X-Signature`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_header: Option<String>,
    /// `--verify discord`: the application's Ed25519 public key, hex (not a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_ip: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    /// Calls allowed per period, e.g. `60/m`; further calls get 429 (incoming hooks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    /// Headers passed into events unredacted although their names look like credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_headers: Option<Vec<String>>,
    /// Incoming: `--if EXPR`, the condition a call must meet to run (or be accepted).
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Incoming: the status answered when the condition is false (default 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_mismatch_status: Option<u16>,
    /// Script: the status of a successful sync answer or of an accepted async call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_status: Option<u16>,
    /// Script: headers added to every answer of a call that passed the checks and condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<BTreeMap<String, String>>,
    /// Script: the body of an async answer, or of a successful sync one with `output = "none"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// Script: answer with plain text: `stdout`, `combined` (both streams) or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Script with `output`: show the output when the run failed too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output: Option<bool>,
    /// Script: run this program directly (no shell) instead of a script text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<String>,
    /// Script with `exec`: its arguments, each a request value (REF), in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Script: variables set from request values, VAR → REF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_from: Option<BTreeMap<String, String>>,
    /// Script: variables naming 0600 files holding request values, VAR → `REF[,base64]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_from: Option<BTreeMap<String, String>>,
    /// Script: payload fields holding JSON text, decoded before values are read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_json: Option<Vec<String>>,
    /// Incoming: the content type the body is read as, whatever the request says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Incoming: a public, non-secret path `/hooks/NAME` serving the hook besides its token URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Incoming: allows `path` without `verify` or `allow_ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_path: Option<bool>,
    /// Script: the node (`node_name`) its calls and queued runs belong to, on a shared database;
    /// other nodes answer its calls 421.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
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
    /// Outgoing: `USER:PASS` sent to the receiver. Script hooks (`--verify basic`): stored
    /// sealed, `USER:$pbkdf2-sha256$…` (see `signature::password`), never the password.
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
    /// Deliveries per period, evenly spaced, e.g. `10/s` (outgoing hooks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
}
