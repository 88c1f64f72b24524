//! Streamed answers of `--stream` hooks: the run's output as the script writes it, as chunked
//! text or as Server-Sent Events, then the line that says how it ended.
//!
//! Text: the output bytes exactly as written (both streams, in arrival order), then
//! `[hookd: exit N]` (or `[hookd: timeout]`, `[hookd: cancelled]`) on a line of its own. SSE
//! (`Accept: text/event-stream`): one `event: output` per output line, its `data:` the line,
//! then `event: exit` with `{"status","exit_code","duration_ms"}`.
//!
//! Invariants:
//! - Nothing is held back for the end: each piece goes out as soon as it is read (an SSE event
//!   as soon as its line is complete), so the first byte leaves right after the first write.
//! - The stream only reads the run's kept output ([`LiveRun`]), at the client's pace; a slow
//!   or vanished client never slows or stops the run, which is recorded as usual.
//! - Past the output cap the stream ends with the truncation marker; the run goes on.

use crate::daemon::live::{End, LiveRun, Next};
use crate::proto::RunStatus;
use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Every answer the HTTP side gives: whole, or streamed.
pub type ResponseBody = Either<Full<Bytes>, Streamed>;

/// A body fed piece by piece from a task; ends when the task is done.
pub struct Streamed {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|piece| piece.map(|b| Ok(Frame::data(b))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Whether the caller asked for Server-Sent Events.
pub fn wants_sse(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}

/// The 200 answer of a streamed call, sent at once; its body follows the run.
pub fn response(live: Arc<LiveRun>, sse: bool) -> Response<ResponseBody> {
    let (tx, rx) = mpsc::channel(8);
    let id = live.id;
    tokio::spawn(forward(live, sse, tx));
    let mut resp = Response::new(Either::Right(Streamed { rx }));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    let kind = match sse {
        true => "text/event-stream",
        false => "text/plain; charset=utf-8",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Proxies such as nginx would otherwise collect the answer before passing it on.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    h.insert("hookd-run-id", HeaderValue::from(id));
    resp
}

/// Reads the run and sends its framed pieces until it ends, is cut, or the client is gone.
async fn forward(live: Arc<LiveRun>, sse: bool, tx: mpsc::Sender<Bytes>) {
    let cap = live.cap();
    let mut watcher = live.watch();
    drop(live);
    let mut frame = Framer::new(sse);
    loop {
        let (piece, last) = match watcher.next().await {
            Next::Output(bytes) => (frame.output(&bytes), false),
            Next::Cut => (frame.cut(cap), true),
            Next::Exited(end) => (frame.exit(end), true),
            Next::Recorded => (Vec::new(), true),
        };
        if !piece.is_empty() && tx.send(Bytes::from(piece)).await.is_err() {
            return;
        }
        if last {
            return;
        }
    }
}

/// Turns output into the bytes of one framing.
struct Framer {
    sse: bool,
    /// SSE: the start of a line not yet complete.
    partial: Vec<u8>,
    /// Text: whether the last byte sent ended a line (or nothing was sent).
    at_line_start: bool,
}

impl Framer {
    fn new(sse: bool) -> Framer {
        Framer {
            sse,
            partial: Vec::new(),
            at_line_start: true,
        }
    }

    fn output(&mut self, bytes: &[u8]) -> Vec<u8> {
        if !self.sse {
            if let Some(&b) = bytes.last() {
                self.at_line_start = b == b'\n';
            }
            return bytes.to_vec();
        }
        let mut out = Vec::new();
        self.partial.extend_from_slice(bytes);
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            event(&mut out, "output", &line[..line.len() - 1]);
        }
        out
    }

    /// A line of hookd's own after the output.
    fn note(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if self.sse {
            if !self.partial.is_empty() {
                let rest = std::mem::take(&mut self.partial);
                event(&mut out, "output", &rest);
            }
            event(&mut out, "output", text.as_bytes());
        } else {
            if !self.at_line_start {
                out.push(b'\n');
            }
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
        out
    }

    fn cut(&mut self, cap: usize) -> Vec<u8> {
        self.note(&format!(
            "[hookd: output truncated at {cap} bytes; the run goes on]"
        ))
    }

    fn exit(&mut self, end: End) -> Vec<u8> {
        if !self.sse {
            let line = match (end.status, end.exit_code) {
                (RunStatus::Timeout, _) => "[hookd: timeout]".to_string(),
                (RunStatus::Cancelled, _) => "[hookd: cancelled]".to_string(),
                (_, Some(code)) => format!("[hookd: exit {code}]"),
                (s, None) => format!("[hookd: {}]", s.as_str()),
            };
            return self.note(&line);
        }
        let mut out = Vec::new();
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            event(&mut out, "output", &rest);
        }
        let data = serde_json::json!({
            "status": end.status.as_str(),
            "exit_code": end.exit_code,
            "duration_ms": end.duration_ms,
        });
        event(&mut out, "exit", data.to_string().as_bytes());
        out
    }
}

/// One SSE event. A line holding carriage returns (which SSE reads as line ends) is sent as
/// several `data:` fields, which clients join with newlines.
fn event(out: &mut Vec<u8>, name: &str, line: &[u8]) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    for part in line.split(|&b| b == b'\r') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(String::from_utf8_lossy(part).as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_sends_complete_lines_and_the_rest_before_exit() {
        let mut f = Framer::new(true);
        assert_eq!(f.output(b"one\ntw"), b"event: output\ndata: one\n\n");
        assert!(f.output(b"o").is_empty());
        let end = End {
            status: RunStatus::Success,
            exit_code: Some(0),
            duration_ms: 5,
        };
        let tail = String::from_utf8(f.exit(end)).unwrap();
        assert_eq!(
            tail,
            "event: output\ndata: two\n\nevent: exit\ndata: {\"status\":\"success\",\"exit_code\":0,\"duration_ms\":5}\n\n"
        );
    }

    #[test]
    fn text_puts_the_exit_line_on_its_own_line() {
        let mut f = Framer::new(false);
        assert_eq!(f.output(b"no newline"), b"no newline");
        let end = End {
            status: RunStatus::Failed,
            exit_code: Some(3),
            duration_ms: 5,
        };
        assert_eq!(f.exit(end), b"\n[hookd: exit 3]\n");
    }
}
