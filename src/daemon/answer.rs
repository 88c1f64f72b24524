//! The answer to an incoming call before it is put on the wire: shaped by the gate, the call
//! path and response control alike, so it lives below all three.

use bytes::Bytes;
use serde_json::json;

/// An HTTP answer before it is put on the wire.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
    pub retry_after: Option<u64>,
    /// Why the call failed, for the log (never sent to the caller beyond `body`).
    pub error: Option<String>,
    pub run_id: Option<i64>,
    /// Extra headers (`--response-header`), validated when the hook was saved.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn json(status: u16, value: serde_json::Value) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: Bytes::from(value.to_string()),
            retry_after: None,
            error: None,
            run_id: None,
            headers: Vec::new(),
        }
    }
    pub fn text(status: u16, text: impl Into<Bytes>) -> Answer {
        Answer {
            content_type: "text/plain; charset=utf-8",
            body: text.into(),
            ..Answer::json(status, json!(null))
        }
    }
    pub fn not_found() -> Answer {
        Answer::json(404, json!({"error": "not found"}))
    }
    pub fn with_error(mut self, e: impl Into<String>) -> Answer {
        self.error = Some(e.into());
        self
    }
    /// Something worth logging about a call that did not fail (a duplicate delivery).
    pub fn with_note(mut self, note: impl Into<String>) -> Answer {
        self.error = Some(note.into());
        self
    }
}
