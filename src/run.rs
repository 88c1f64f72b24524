//! A run as the rest of hookd sees it: the request a script receives ([`Invocation`]) and what
//! came of it ([`Outcome`]).
//!
//! These sit below both the runner (which produces them) and the store (which keeps them), so
//! neither reaches into the other. `Invocation` is serialized into queued runs' rows, so its
//! serde form is an on-disk format: add fields with defaults, never rename one.

use crate::proto::RunStatus;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The request as a script sees it. Serializable so queued async runs survive a restart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Invocation {
    pub method: String,
    pub query: String,
    pub remote_addr: String,
    pub content_type: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    #[serde(with = "body_b64")]
    pub body: Bytes,
    /// `HOOKD_PARAM_<NAME>` values, already extracted from the body.
    pub params: Vec<(String, String)>,
    /// For `hookctl test`: the uid of whoever ran it (`HOOKD_TEST_UID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_uid: Option<u32>,
    /// The connection's peer as `IP:port` (what `request:remote-addr` gives a command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
}

mod body_b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s)
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub started_at: i64,
    pub duration_ms: i64,
    /// The uid whose `runs cancel` ended the run.
    pub cancelled_by: Option<u32>,
}
