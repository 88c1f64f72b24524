//! Control-socket protocol: decoding any bytes as a `Request` or a `Response` never panics,
//! and a decoded message survives the wire: `hookd::proto::encode` produces one line that
//! decodes again to the same message (same `Debug` form, and the same bytes when encoded a
//! second time, which also covers the fields `Debug` redacts), with every hook timeout kept
//! exactly (`Dur` prints through `Debug` and the wire alike, so only the `Duration` shows a
//! lost fraction).
#![no_main]

use hookd::proto::{Request, Response, encode};
use hookd::time::Dur;
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::time::Duration;

/// Messages whose hook timeouts are compared exactly across the wire.
trait Timeouts {
    fn timeouts(&self) -> Vec<Option<Duration>>;
}

fn exact(d: &Option<Dur>) -> Option<Duration> {
    d.map(|d| d.0)
}

impl Timeouts for Request {
    fn timeouts(&self) -> Vec<Option<Duration>> {
        match self {
            Request::Create(hookd::proto::CreateHook { options, .. })
            | Request::Edit(hookd::proto::EditHook { options, .. }) => {
                vec![exact(&options.timeout)]
            }
            Request::Apply(hookd::proto::ApplyHooks { hooks, .. }) => {
                hooks.iter().map(|h| exact(&h.options.timeout)).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl Timeouts for Response {
    fn timeouts(&self) -> Vec<Option<Duration>> {
        match self {
            Response::Hook(h) => vec![exact(&h.timeout)],
            Response::Hooks { hooks } => hooks.iter().map(|h| exact(&h.timeout)).collect(),
            Response::Exported { hooks } => {
                hooks.iter().map(|h| exact(&h.options.timeout)).collect()
            }
            _ => Vec::new(),
        }
    }
}

fn round_trip<T: Serialize + DeserializeOwned + Debug + Timeouts>(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let line = encode(&value);
    assert_eq!(
        line.last(),
        Some(&b'\n'),
        "a protocol line ends with a newline"
    );
    assert!(
        !line[..line.len() - 1].contains(&b'\n'),
        "a protocol line holds exactly one newline"
    );
    let back: T = match serde_json::from_slice(&line) {
        Ok(v) => v,
        Err(e) => panic!(
            "encoded {value:?} does not decode ({e}): {}",
            String::from_utf8_lossy(&line)
        ),
    };
    assert_eq!(
        format!("{back:?}"),
        format!("{value:?}"),
        "decoded differently"
    );
    assert_eq!(
        back.timeouts(),
        value.timeouts(),
        "a timeout changed on the wire"
    );
    assert_eq!(
        String::from_utf8_lossy(&encode(&back)),
        String::from_utf8_lossy(&line),
        "encodes differently after a round trip"
    );
}

fuzz_target!(|data: &[u8]| {
    round_trip::<Request>(data);
    round_trip::<Response>(data);
});
